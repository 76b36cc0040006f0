/* sandboxctl inspect: sandboxes as JSON. */
#include "cli.h"

int
cli_inspect (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse ("inspect", "NAME...",
                  "Print sandboxes as a JSON array: id, name, state (creating, booting, running,\n"
                  "stopping, stopped or failed), error, resources, guest kernel, QEMU pid.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return cli_usage_error_text ("inspect", "name at least one sandbox");

  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_autoptr (JsonArray) all = json_array_new ();
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_string_member (params, "id", argv[i]);
      JsonObject *res = rpc_client_call (client, "sandbox.v1.Sandboxes.Get", params,
                                         CLI_CALL_DEADLINE_MS, &error);
      if (res == NULL)
        {
          code = cli_fail (error);
          g_clear_error (&error);
          continue;
        }
      json_array_add_object_element (all, res);
    }
  cli_print_json_array (all);
  return code;
}
