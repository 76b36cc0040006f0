/* sandboxctl stop: stop sandboxes gracefully. */
#include "cli.h"

#include <stdio.h>

#define STOP_GRACE_MARGIN_MS 15000

int
cli_stop (const CliGlobals *globals, int argc, char **argv)
{
  gint timeout = 10;
  int code = 0;
  GOptionEntry entries[] = {
    { "time", 't', 0, G_OPTION_ARG_INT, &timeout,
      "Seconds the guest gets to power off before QEMU is told to quit (default 10)", "SECONDS" },
    { NULL },
  };
  if (!cli_parse ("stop", "NAME...",
                  "Stop sandboxes: their processes get SIGTERM (then SIGKILL) as the guest powers\n"
                  "off; QEMU is told to quit after --time seconds and killed if it does not.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return cli_usage_error_text ("stop", "name at least one sandbox");
  if (timeout < 0)
    return cli_usage_error_text ("stop", "--time must not be negative");

  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_string_member (params, "id", argv[i]);
      json_object_set_int_member (params, "timeout_s", timeout);
      g_autoptr (JsonObject) res
          = rpc_client_call (client, "sandbox.v1.Sandboxes.Stop", params,
                             (gint64) timeout * 1000 + STOP_GRACE_MARGIN_MS, &error);
      if (res == NULL)
        {
          code = cli_fail (error);
          g_clear_error (&error);
          continue;
        }
      if (globals->json)
        cli_print_json (res);
      else
        printf ("%s\n", argv[i]);
    }
  return code;
}
