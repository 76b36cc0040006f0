/* sandboxctl rm: delete sandboxes. */
#include "cli.h"

int
cli_rm (const CliGlobals *globals, int argc, char **argv)
{
  gboolean force = FALSE;
  int code = 0;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Delete running sandboxes too (QEMU is ended)",
      NULL },
    { NULL },
  };
  if (!cli_parse ("rm", "[OPTIONS] NAME...",
                  "Delete sandboxes and everything of theirs on the host (directory, sockets,\n"
                  "output). A running sandbox needs --force.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return cli_usage_error_text ("rm", "name at least one sandbox");
  g_autoptr (JsonObject) extra = json_object_new ();
  json_object_set_boolean_member (extra, "force", force);
  return cli_for_each_sandbox (globals, "sandbox.v1.Sandboxes.Delete", argc, argv, extra,
                               CLI_CALL_DEADLINE_MS, NULL);
}
