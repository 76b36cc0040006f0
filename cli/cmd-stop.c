/* sandboxctl stop: stop sandboxes gracefully. */
#include "cli.h"

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

  g_autoptr (JsonObject) extra = json_object_new ();
  json_object_set_int_member (extra, "timeout_s", timeout);
  return cli_for_each_sandbox (globals, "sandbox.v1.Sandboxes.Stop", argc, argv, extra,
                               (gint64) timeout * 1000 + STOP_GRACE_MARGIN_MS, NULL);
}
