/* sandboxctl stats: resource use of sandboxes. */
#include "cli.h"

#include <stdio.h>

static void
print_stats (JsonObject *s)
{
  JsonObject *g
      = json_object_has_member (s, "guest") ? json_object_get_object_member (s, "guest") : NULL;
  printf ("%-20s %-9s rss %6" G_GINT64_FORMAT " MiB  cpu %8.1f s  processes %" G_GINT64_FORMAT
          "  up %.1f s\n",
          json_object_get_string_member_with_default (s, "name", "?"),
          json_object_get_string_member_with_default (s, "state", "?"),
          json_object_get_int_member_with_default (s, "qemu_rss_bytes", 0) / (1024 * 1024),
          json_object_get_int_member_with_default (s, "qemu_cpu_ms", 0) / 1000.0,
          json_object_get_int_member_with_default (s, "processes", 0),
          json_object_get_int_member_with_default (s, "uptime_ms", 0) / 1000.0);
  if (g)
    printf ("%-20s guest: memory %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
            " MiB available, load %.2f\n",
            "", json_object_get_int_member_with_default (g, "memory_available_kb", 0) / 1024,
            json_object_get_int_member_with_default (g, "memory_total_kb", 0) / 1024,
            json_object_get_double_member_with_default (g, "load1", 0));
}

int
cli_stats (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse ("stats", "NAME...",
                  "Show what each sandbox's QEMU uses on the host: resident memory, CPU time.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return cli_usage_error_text ("stats", "name at least one sandbox");
  return cli_for_each_sandbox (globals, "sandbox.v1.Sandboxes.Stats", argc, argv, NULL,
                               CLI_CALL_DEADLINE_MS, print_stats);
}
