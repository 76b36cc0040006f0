/* sandboxctl logs: a process's output, from the host's copy. */
#include "cli.h"

int
cli_logs (const CliGlobals *globals, int argc, char **argv)
{
  gboolean follow = FALSE;
  gint process = 1;
  int code = 0;
  GOptionEntry entries[] = {
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow, "Keep printing until the process ends", NULL },
    { "process", 'p', 0, G_OPTION_ARG_INT, &process,
      "Which process (default 1, the first one started)", "N" },
    { NULL },
  };
  if (!cli_parse ("logs", "[OPTIONS] NAME",
                  "Print the stdout and stderr of a process of sandbox NAME, from the start.\n"
                  "The daemon keeps every byte, so this works after the process has ended.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return cli_usage_error_text ("logs", "name one sandbox");
  if (process < 1)
    return cli_usage_error_text ("logs", "--process must be 1 or more");
  return cli_stream_output (globals, argv[1], process, follow);
}
