/* sandboxctl: the command-line client of sandboxd. */
#include "cli.h"

#include "large-buffers.h"
#include "rpc-envelope.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const struct
{
  const char *name;
  CliVerbFunc func;
  const char *summary;
} verbs[] = {
  { "run", cli_run, "Run a command in a new sandbox" },
  { "create", cli_create, "Create a sandbox and boot it" },
  { "exec", cli_exec, "Run a command in a running sandbox" },
  { "ls", cli_ls, "List sandboxes" },
  { "inspect", cli_inspect, "Show sandboxes as JSON" },
  { "logs", cli_logs, "Show a process's output" },
  { "stop", cli_stop, "Stop sandboxes gracefully" },
  { "kill", cli_kill, "Kill sandboxes' QEMU at once" },
  { "rm", cli_rm, "Delete sandboxes" },
  { "ps", cli_ps, "List a sandbox's processes" },
  { "container", cli_container, "Add, list and remove containers in a sandbox" },
  { "images", cli_images, "List the cached root images; images prune removes unused ones" },
  { "volume", cli_volume, "Named volumes: volume create|ls|inspect|rm|prune" },
  { "kernels", cli_kernels, "List the guest kernels a sandbox may boot (--kernel NAME)" },
  { "stats", cli_stats, "Show sandboxes' resource use" },
  { "events", cli_events, "Show the daemon's events" },
  { "info", cli_info, "Show the host, and a tenant's quotas and use" },
  { "version", cli_version, "Show the client and daemon versions" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: sandboxctl [--address ADDR] [--json] COMMAND [OPTIONS] [ARGS...]\n\n"
                "Drive sandboxd: every sandbox is a QEMU microVM with its own kernel.\n\n"
                "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    fprintf (out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
  fprintf (out,
           "\nGlobal options:\n"
           "  -a, --address ADDR  sandboxd's address (default $SANDBOXD_ADDRESS or %s)\n"
           "  --json              machine-readable output\n"
           "  -h, --help          this help; 'sandboxctl COMMAND --help' for a command\n\n"
           "Exit status: run and exec exit with the command's status (128+N when it\n"
           "was killed by signal N); 1 when sandboxctl or sandboxd failed, printed as\n"
           "'sandboxctl: CODE: message'; 2 for a usage error.\n",
           rpc_client_default_address ());
}

int
main (int argc, char **argv)
{
  CliGlobals globals = { .address = rpc_client_default_address () };
  int i = 1;

  large_buffers_keep ();
  setlocale (LC_ALL, "");
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i];
      if (g_str_equal (a, "--json"))
        globals.json = TRUE;
      else if ((g_str_equal (a, "--address") || g_str_equal (a, "-a")) && i + 1 < argc)
        globals.address = argv[++i];
      else if (g_str_has_prefix (a, "--address="))
        globals.address = a + strlen ("--address=");
      else if (g_str_equal (a, "--help") || g_str_equal (a, "-h"))
        {
          print_usage (stdout);
          return 0;
        }
      else if (g_str_equal (a, "--version"))
        return cli_version (&globals, 1, (char *[]){ "version", NULL });
      else
        {
          fprintf (stderr, "sandboxctl: unknown option %s (see sandboxctl --help)\n", a);
          return CLI_EXIT_USAGE;
        }
    }
  if (i >= argc)
    {
      print_usage (stderr);
      return CLI_EXIT_USAGE;
    }
  for (gsize v = 0; v < G_N_ELEMENTS (verbs); v++)
    if (g_str_equal (argv[i], verbs[v].name))
      return verbs[v].func (&globals, argc - i, argv + i);
  fprintf (stderr, "sandboxctl: unknown command \"%s\" (see sandboxctl --help)\n", argv[i]);
  return CLI_EXIT_USAGE;
}
