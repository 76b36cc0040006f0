/* sandboxctl run: create a sandbox, run one command in it, stream its
 * output, exit with its status. */
#include "cli.h"

#include <stdio.h>

#define CREATE_DEADLINE_MS (5 * 60 * 1000)

/* "256", "256M", "1G" -> MiB. */
static gboolean
parse_memory (const char *text, gint64 *mb)
{
  char *end = NULL;
  guint64 v = g_ascii_strtoull (text, &end, 10);
  if (end == text)
    return FALSE;
  if (*end == '\0' || g_ascii_strcasecmp (end, "m") == 0 || g_ascii_strcasecmp (end, "mb") == 0
      || g_ascii_strcasecmp (end, "mib") == 0)
    *mb = (gint64) v;
  else if (g_ascii_strcasecmp (end, "g") == 0 || g_ascii_strcasecmp (end, "gb") == 0
           || g_ascii_strcasecmp (end, "gib") == 0)
    *mb = (gint64) v * 1024;
  else
    return FALSE;
  return TRUE;
}

gboolean
cli_memory_mb (const char *verb, const char *memory, gint64 *mb, int *exit_code)
{
  *mb = 0;
  if (memory == NULL || parse_memory (memory, mb))
    return TRUE;
  g_autofree char *msg
      = g_strdup_printf ("--memory: \"%s\" is not a size such as 256M or 1G", memory);
  *exit_code = cli_usage_error_text (verb, msg);
  return FALSE;
}

JsonObject *
cli_create_sandbox (RpcClient *client, const char *name, gint64 memory_mb, gint cpus,
                    gboolean delete_on_failure, int *exit_code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) params = json_object_new ();
  if (name)
    json_object_set_string_member (params, "name", name);
  if (memory_mb)
    json_object_set_int_member (params, "memory_mb", memory_mb);
  if (cpus)
    json_object_set_int_member (params, "cpus", cpus);
  if (delete_on_failure)
    json_object_set_boolean_member (params, "delete_on_failure", TRUE);
  JsonObject *sb
      = rpc_client_call (client, "sandbox.v1.Sandboxes.Create", params, CREATE_DEADLINE_MS, &error);
  if (sb == NULL)
    *exit_code = cli_fail (error);
  return sb;
}

int
cli_run (const CliGlobals *globals, int argc, char **argv)
{
  gboolean rm = FALSE;
  gboolean interactive = FALSE;
  g_autofree char *name = NULL;
  g_autofree char *memory = NULL;
  gint cpus = 0;
  g_auto (GStrv) env = NULL;
  g_autofree char *workdir = NULL;
  g_autofree char *user = NULL;
  int code = 0;
  g_autoptr (GError) error = NULL;

  GOptionEntry entries[] = {
    { "rm", 0, 0, G_OPTION_ARG_NONE, &rm, "Delete the sandbox when the command exits", NULL },
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &interactive, "Forward stdin to the command",
      NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Name the sandbox", "NAME" },
    { "memory", 'm', 0, G_OPTION_ARG_STRING, &memory, "Guest memory, e.g. 256M or 1G", "SIZE" },
    { "cpus", 0, 0, G_OPTION_ARG_INT, &cpus, "Guest vCPUs", "N" },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, "Set an environment variable", "K=V" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &workdir, "Working directory of the command", "DIR" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, "Run as UID[:GID] (default 0)", "UID[:GID]" },
    { NULL },
  };
  if (!cli_parse ("run", "[OPTIONS] [--] COMMAND [ARG...]",
                  "Create a sandbox (a microVM with its own kernel), run COMMAND in it and exit\n"
                  "with its status. stdout and stderr stay separate.",
                  entries, &argc, &argv, &code))
    return code;
  int first = 1;
  if (first < argc && g_str_equal (argv[first], "--"))
    first++;
  if (first >= argc)
    return cli_usage_error_text ("run", "no command given");
  gint64 memory_mb;
  if (!cli_memory_mb ("run", memory, &memory_mb, &code))
    return code;

  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_autoptr (JsonObject) sandbox = cli_create_sandbox (client, name, memory_mb, cpus, rm, &code);
  if (sandbox == NULL)
    return code;
  g_autofree char *id = g_strdup (json_object_get_string_member_with_default (sandbox, "id", ""));

  g_auto (GStrv) command = cli_strv_from (argc - first, argv + first);
  CliExec x = { command, env, workdir, user, interactive };
  code = cli_exec_and_wait (globals, client, id, &x);
  if (rm)
    cli_delete_sandbox (client, id);
  return code;
}
