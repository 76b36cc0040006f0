/* sandbox-runtime — an OCI runtime with runc's command line, as conmon and
 * podman call it: each container is one sandbox of sandboxd's (one
 * microVM), its root the bundle's.
 *
 *   create  boots the sandbox with the bundle as its first container, and
 *           starts the container's host process (its pid goes to
 *           --pid-file): `sandboxctl exec` of the bundle's process, which
 *           waits on ROOT/ID/start until `start`, carries the container's
 *           stdio (conmon's fds, or a terminal whose master goes to
 *           --console-socket), lives exactly as long as the process in the
 *           guest and exits with its status.
 *   start   opens ROOT/ID/start: the process starts.
 *   run     create and start; waits for the process unless --detach.
 *   state   the OCI state (created, running, paused, stopped).
 *   kill    a signal to the process in the guest (--all: its group).
 *   exec    another process in the container, its host process likewise.
 *   pause, resume  the VM's vCPUs.
 *   ps      ps(1) in the container (--format json: the host process).
 *   update  new cgroup limits for the container in the guest.
 *   events  its resource use, as runc's stats events.
 *   delete  the sandbox and the record (of a stopped one, unless --force).
 * Hooks run on the host (docs/oci.md). */
#include "commit.h"
#include "config.h"
#include "json-fields.h"
#include "runtime.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} commands[] = {
  { "create", cmd_create, "boot the container's sandbox; its process waits for start" },
  { "run", cmd_run, "create and start; wait for the process and exit with its status" },
  { "start", cmd_start, "start the container's process" },
  { "state", cmd_state, "the OCI state of a container (JSON)" },
  { "kill", cmd_kill, "send a signal to the container's process" },
  { "exec", cmd_exec, "run another process in the container" },
  { "pause", cmd_pause, "stop the container's VM (its vCPUs)" },
  { "ps", cmd_ps, "the container's processes (ps in it; --format json: the host process)" },
  { "update", cmd_update, "new limits for the container (its cgroup in the guest)" },
  { "resume", cmd_resume, "let a paused container's VM go on" },
  { "delete", cmd_delete, "remove the container and its sandbox" },
  { "features", cmd_features, "what this runtime supports (JSON)" },
  { "events", cmd_events, "the container's resource use as stats events (--stats: once)" },
  { "list", cmd_list, "the containers under --root (a table, or --format json)" },
  { "spec", cmd_spec, "write a config.json to start from (runc's defaults)" },
};

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: sandbox-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] "
           "COMMAND [OPTIONS] ID\n\nAn OCI runtime: every container in its own microVM "
           "(sandboxd, at $SANDBOXD_ADDRESS or %s).\n\nCommands:\n",
           rpc_client_default_address ());
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

int
main (int argc, char **argv)
{
  /* A hook that exits without reading its stdin must not kill us. */
  signal (SIGPIPE, SIG_IGN);
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i];
      const char *value = i + 1 < argc ? argv[i + 1] : NULL;
      /* podman passes --runtime-flag address=ADDR as --address=ADDR. */
      if (g_str_has_prefix (a, "--address="))
        {
          runtime_address = a + strlen ("--address=");
          continue;
        }
      gboolean takes = g_str_equal (a, "--root") || g_str_equal (a, "--log")
                       || g_str_equal (a, "--log-format") || g_str_equal (a, "--criu")
                       || g_str_equal (a, "--address");
      if (takes && value == NULL)
        return fail ("%s needs a value", a);
      if (g_str_equal (a, "--root"))
        runtime_root = value;
      else if (g_str_equal (a, "--address"))
        runtime_address = value;
      else if (g_str_equal (a, "--log"))
        runtime_log_path = value;
      else if (g_str_equal (a, "--log-format"))
        runtime_log_json = g_str_equal (value, "json");
      else if (g_str_equal (a, "--version") || g_str_equal (a, "-v"))
        {
          /* runc's lines, as Docker's info parses them. */
          printf ("sandbox-runtime version %s\ncommit: %s\nspec: %s\n", SANDBOXD_VERSION,
                  SANDBOXD_COMMIT, OCI_SPEC_VERSION);
          return 0;
        }
      else if (g_str_equal (a, "--help") || g_str_equal (a, "-h"))
        {
          usage (stdout);
          return 0;
        }
      else if (g_str_equal (a, "--debug"))
        runtime_debug = TRUE;
      else if (!g_str_equal (a, "--systemd-cgroup") && !takes)
        {
          usage (stderr);
          return 2;
        }
      i += takes;
    }
  if (i >= argc)
    {
      usage (stderr);
      return 2;
    }
  if (runtime_debug)
    {
      g_autofree char *line = g_strjoinv (" ", argv + i);
      say_debug ("sandbox-runtime %s: %s", SANDBOXD_VERSION, line);
    }
  for (gsize c = 0; c < G_N_ELEMENTS (commands); c++)
    if (g_str_equal (argv[i], commands[c].name))
      return commands[c].run (argc - i, argv + i);
  g_autoptr (GString) names = g_string_new (NULL);
  for (gsize c = 0; c < G_N_ELEMENTS (commands); c++)
    g_string_append_printf (names, "%s%s", c ? ", " : "", commands[c].name);
  fail ("unknown command \"%s\" (this runtime has: %s)", argv[i], names->str);
  return 2;
}
