/* sandboxctl exec: run a command in a running sandbox. */
#include "cli.h"

int
cli_exec (const CliGlobals *globals, int argc, char **argv)
{
  gboolean interactive = FALSE, tty = FALSE, env_only = FALSE;
  g_auto (GStrv) env = NULL;
  g_autofree char *workdir = NULL;
  g_autofree char *user = NULL;
  g_autofree char *container = NULL;
  g_auto (GStrv) groups = NULL;
  g_auto (GStrv) caps = NULL;
  int code = 0;
  GOptionEntry entries[] = {
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &interactive, "Forward stdin to the command",
      NULL },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &tty,
      "Give the command a terminal in the guest (with -i: an interactive shell; Ctrl-P Ctrl-Q "
      "detaches)",
      NULL },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, "Set an environment variable", "K=V" },
    { "env-only", 0, 0, G_OPTION_ARG_NONE, &env_only,
      "The -e variables are the whole environment, not added to the container's", NULL },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &workdir, "Working directory of the command", "DIR" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user,
      "Run as UID[:GID] (default: the container's user, or 0)", "UID[:GID]" },
    { "group-add", 0, 0, G_OPTION_ARG_STRING_ARRAY, &groups,
      "A supplementary group of the command, instead of the container's (repeatable)", "GID" },
    { "cap-add", 0, 0, G_OPTION_ARG_STRING_ARRAY, &caps,
      "A capability the command has beyond the container's, as CAP_NET_ADMIN (repeatable)", "CAP" },
    { "container", 'c', 0, G_OPTION_ARG_STRING, &container,
      "Run in this container of the sandbox (default: its first one, if it has any)", "NAME" },
    { NULL },
  };
  if (!cli_parse_with_name (
          "exec", "[OPTIONS] NAME [--] COMMAND [ARG...]",
          "Run COMMAND in the running sandbox NAME and exit with its status (128+N when\n"
          "killed by signal N). stdout and stderr stay separate.",
          entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return cli_usage_error_text ("exec", "name a sandbox");
  const char *sandbox = argv[1];
  int first = 2;
  if (first < argc && g_str_equal (argv[first], "--"))
    first++;
  if (first >= argc)
    return cli_usage_error_text ("exec", "no command given");
  if (tty && !cli_terminal_available ())
    return cli_usage_error_text ("exec", CLI_NOT_A_TTY);

  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_auto (GStrv) command = cli_strv_from (argc - first, argv + first);
  CliExec x = { .args = command,
                .env = env,
                .env_only = env_only,
                .workdir = workdir,
                .user = user,
                .groups = groups,
                .caps = caps,
                .with_stdin = interactive,
                .container = container,
                .tty = tty };
  return cli_exec_and_wait (globals, client, sandbox, &x);
}
