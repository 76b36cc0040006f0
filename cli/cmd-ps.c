/* sandboxctl ps: the processes of a sandbox. */
#include "cli.h"

#include <stdio.h>

int
cli_ps (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse ("ps", "NAME",
                  "List the processes started in sandbox NAME: id, pid in the guest, state,\n"
                  "exit status, bytes of output, command.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return cli_usage_error_text ("ps", "name one sandbox");

  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "sandbox_id", argv[1]);
  g_autoptr (JsonObject) res
      = rpc_client_call (client, "sandbox.v1.Processes.List", params, CLI_CALL_DEADLINE_MS, &error);
  if (res == NULL)
    return cli_fail (error);
  JsonArray *all = json_object_get_array_member (res, "processes");
  if (globals->json)
    {
      cli_print_json_array (all);
      return 0;
    }
  printf ("%-5s %-6s %-12s %-8s %-6s %-10s %s\n", "ID", "PID", "CONTAINER", "STATE", "STATUS",
          "OUTPUT", "COMMAND");
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonObject *p = json_array_get_object_element (all, i);
      JsonArray *args = json_object_get_array_member (p, "args");
      g_autoptr (GString) cmd = g_string_new (NULL);
      for (guint j = 0; args && j < json_array_get_length (args); j++)
        g_string_append_printf (cmd, "%s%s", j ? " " : "", json_array_get_string_element (args, j));
      g_autofree char *status
          = json_object_has_member (p, "status")
                ? g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (p, "status"))
                : g_strdup ("-");
      printf ("%-5" G_GINT64_FORMAT " %-6" G_GINT64_FORMAT " %-12s %-8s %-6s %-10" G_GINT64_FORMAT
              " %s\n",
              json_object_get_int_member (p, "process_id"), json_object_get_int_member (p, "pid"),
              json_object_get_string_member_with_default (p, "container", "-"),
              json_object_get_string_member (p, "state"), status,
              json_object_get_int_member (p, "stdout_bytes")
                  + json_object_get_int_member (p, "stderr_bytes"),
              cmd->str);
    }
  return 0;
}
