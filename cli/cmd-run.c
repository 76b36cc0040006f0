/* sandboxctl run: create a sandbox, run one command in it, stream its
 * output, exit with its status. */
#include "cli.h"

#include <stdio.h>

int
cli_run (const CliGlobals *globals, int argc, char **argv)
{
  gboolean rm = FALSE;
  gboolean interactive = FALSE, tty = FALSE;
  g_auto (CliSandboxOptions) opts = { 0 };
  g_auto (GStrv) env = NULL;
  g_autofree char *workdir = NULL;
  g_autofree char *user = NULL;
  int code = 0;
  g_autoptr (GError) error = NULL;

  const GOptionEntry own[] = {
    { "rm", 0, 0, G_OPTION_ARG_NONE, &rm,
      "Delete the sandbox when the command exits (the daemon does it, even if this client dies)",
      NULL },
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &interactive, "Forward stdin to the command",
      NULL },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &tty,
      "Give the command a terminal in the guest (with -i: an interactive shell; Ctrl-P Ctrl-Q "
      "detaches)",
      NULL },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, "Set an environment variable", "K=V" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &workdir, "Working directory of the command", "DIR" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user,
      "Run as UID[:GID] (default: the container's user, or 0)", "UID[:GID]" },
    { NULL },
  };
  g_autofree GOptionEntry *entries = cli_sandbox_option_entries (&opts, own);
  if (!cli_parse ("run", "[OPTIONS] [--] [COMMAND [ARG...]]",
                  "Create a sandbox (a microVM with its own kernel), run COMMAND in it and exit\n"
                  "with its status. stdout and stderr stay separate. With --rootfs, --bundle or\n"
                  "--image, COMMAND runs in a container of that root inside the sandbox (a\n"
                  "bundle's own command when none is given); without, in the guest's own\n"
                  "busybox userland.",
                  entries, &argc, &argv, &code))
    return code;
  int first = 1;
  if (first < argc && g_str_equal (argv[first], "--"))
    first++;
  if (first >= argc && opts.root.bundle == NULL)
    return cli_usage_error_text ("run", "no command given");
  if (tty && !cli_terminal_available ())
    return cli_usage_error_text ("run", CLI_NOT_A_TTY);
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_autoptr (JsonObject) sandbox = cli_create_sandbox (globals, client, "run", &opts, rm, &code);
  if (sandbox == NULL)
    return code;
  g_autofree char *id = g_strdup (json_object_get_string_member_with_default (sandbox, "id", ""));

  g_auto (GStrv) command = cli_strv_from (argc - first, argv + first);
  CliExec x = { .args = command,
                .env = env,
                .workdir = workdir,
                .user = user,
                .with_stdin = interactive,
                .tty = tty };
  code = cli_exec_and_wait (globals, client, id, &x);
  if (rm)
    cli_delete_sandbox (client, id);
  return code;
}
