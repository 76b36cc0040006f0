/* sandboxctl kill: end sandboxes' QEMU at once. */
#include "cli.h"

int
cli_kill (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse ("kill", "NAME...",
                  "Kill the QEMU of each sandbox at once (SIGKILL): nothing in the guest gets to\n"
                  "clean up. The sandboxes are then stopped. See also 'stop'.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return cli_usage_error_text ("kill", "name at least one sandbox");
  return cli_for_each_sandbox (globals, "sandbox.v1.Sandboxes.Kill", argc, argv, NULL,
                               CLI_CALL_DEADLINE_MS, NULL);
}
