/* options.c — sandboxd's command line: the options, their help, and the
 * checks of their values (usage errors exit 2). */
#include "options.h"

#include "config.h"
#include "dbus-service.h"
#include "sandbox.h"

#include <stdio.h>

void
options_clear (Options *o)
{
  g_free (o->runtime_dir);
  g_free (o->state_dir);
  g_free (o->kernel);
  g_free (o->initramfs);
  g_free (o->kernels_dir);
  g_free (o->default_kernel);
  g_free (o->qemu);
  g_free (o->net_helper);
  g_free (o->virtiofsd);
  g_free (o->volume_user);
  g_free (o->accel);
  g_free (o->dbus);
  g_free (o->policy_dir);
  g_free (o->default_policy);
  g_free (o->tenants);
  g_strfreev (o->net_deny);
}

/* A usage error: said on stderr, exit status 2. */
static int
usage (const char *message)
{
  fprintf (stderr, "sandboxd: %s\n", message);
  return 2;
}

int
options_parse (Options *o, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  o->boot_timeout = 60;
  o->auto_remove_grace = 60;
  o->max_sandboxes = 1024;
  o->max_memory_mb = -1;
  o->max_image_builds = 2;
  o->max_boots = -1; /* the host's cores */
  o->tcg_cache_mb = 16;
  o->image_gc_age_days = 7;
  o->image_cache_max_mb = 10240;
  o->idle_exit = 0;
  o->output_buffer_mb = 8;
  o->output_quota_mb = 1024;
  o->max_templates = SANDBOX_TEMPLATES_MAX;
  o->tenant_connections = 256;
  GOptionEntry entries[] = {
    { "runtime-dir", 'r', 0, G_OPTION_ARG_FILENAME, &o->runtime_dir,
      "Directory for the RPC socket and per-sandbox directories (default " SANDBOXD_RUNTIME_DIR ")",
      "DIR" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->state_dir,
      "Directory for what outlives a reboot: containers' root images, by digest, in images/ "
      "(default " SANDBOXD_STATE_DIR ")",
      "DIR" },
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &o->kernel,
      "Guest kernel \"custom\", the default (default: the one built beside the initramfs, else "
      "/boot/vmlinuz-<release the initramfs was built for>)",
      "FILE" },
    { "initramfs", 0, 0, G_OPTION_ARG_FILENAME, &o->initramfs,
      "Its initramfs (default: the one of sandboxd's own kernel when that was built, else "
      "the one for Debian's kernel; next to this binary, or installed)",
      "FILE" },
    { "kernels-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->kernels_dir,
      "More guest kernels a sandbox may ask for by name: DIR/NAME/ holds kernel, initramfs.img "
      "and release (uname -r); see sandboxctl kernels",
      "DIR" },
    { "default-kernel", 0, 0, G_OPTION_ARG_STRING, &o->default_kernel,
      "The guest kernel a sandbox boots unless it names one (default: custom when --kernel or "
      "--initramfs is given, else sandboxd's own when built, else debian)",
      "NAME" },
    { "qemu", 0, 0, G_OPTION_ARG_FILENAME, &o->qemu,
      "QEMU binary (default: qemu-system-x86_64 from PATH)", "PATH" },
    { "net-helper", 0, 0, G_OPTION_ARG_FILENAME, &o->net_helper,
      "The user network's helper (default: sandbox-slirp, built beside sandboxd or installed "
      "with it; without it, --network user is refused)",
      "PATH" },
    { "virtiofsd", 0, 0, G_OPTION_ARG_FILENAME, &o->virtiofsd,
      "The volumes' file server (default: QEMU's, /usr/lib/qemu/virtiofsd; without it, volumes "
      "are refused)",
      "PATH" },
    { "volume-user", 0, 0, G_OPTION_ARG_STRING, &o->volume_user,
      "Who serves the admin's named volumes and owns their files (default: sandboxd-volume, "
      "which scripts/setup.sh makes; never root)",
      "USER" },
    { "accel", 0, 0, G_OPTION_ARG_STRING, &o->accel,
      "auto (KVM when QEMU can use it, else TCG), kvm or tcg (default auto)", "ACCEL" },
    { "boot-timeout", 0, 0, G_OPTION_ARG_INT, &o->boot_timeout,
      "Fail a sandbox whose agent has not said hello after SECONDS (default 60)", "SECONDS" },
    { "auto-remove-grace", 0, 0, G_OPTION_ARG_INT, &o->auto_remove_grace,
      "Remove a sandbox created with auto_remove (run --rm) SECONDS after its first process "
      "exited when nobody read all its output, or after running that long with no process "
      "(default 60)",
      "SECONDS" },
    { "max-sandboxes", 0, 0, G_OPTION_ARG_INT, &o->max_sandboxes,
      "Keep at most N sandboxes (default 1024; 0: no limit)", "N" },
    { "max-memory", 0, 0, G_OPTION_ARG_INT, &o->max_memory_mb,
      "Admit a sandbox only while the guest RAM of all live ones stays within MiB (default: the "
      "host's memory; 0: no limit)",
      "MiB" },
    { "max-boots", 0, 0, G_OPTION_ARG_INT, &o->max_boots,
      "Boot at most N sandboxes cold at once; more wait their turn (state creating, "
      "\"boot_queued\" in inspect), their boot watchdog not yet started (default: the host's "
      "cores; 0: no limit)",
      "N" },
    { "tcg-cache", 0, 0, G_OPTION_ARG_INT, &o->tcg_cache_mb,
      "Under TCG, give each QEMU a translated-code cache of MiB: memory it keeps while idle; "
      "code beyond it is translated again (default 16; 0: QEMU's own, 1 GiB)",
      "MiB" },
    { "max-image-builds", 0, 0, G_OPTION_ARG_INT, &o->max_image_builds,
      "Build at most N root images at once; more wait their turn (default 2)", "N" },
    { "image-gc-age", 0, 0, G_OPTION_ARG_INT, &o->image_gc_age_days,
      "Remove root images no sandbox has used for DAYS (checked hourly; default 7)", "DAYS" },
    { "image-cache-max", 0, 0, G_OPTION_ARG_INT, &o->image_cache_max_mb,
      "Also remove unused images, least recently used first, while the cache is larger "
      "(default 10240; 0: no limit)",
      "MiB" },
    { "dbus", 0, 0, G_OPTION_ARG_STRING, &o->dbus,
      "Own " SANDBOXD_BUS_NAME " on the session or system bus, or none (default none; the "
      "systemd unit uses system)",
      "BUS" },
    { "idle-exit", 0, 0, G_OPTION_ARG_INT, &o->idle_exit,
      "Exit after SECONDS with no sandbox and no call (for D-Bus activation; default never)",
      "SECONDS" },
    { "no-templates", 0, 0, G_OPTION_ARG_NONE, &o->no_templates,
      "Boot every sandbox cold (default: a sandbox is a clone of its shape's "
      "VM template, built at start for the default shape and for others when they recur; "
      "docs/templates.md)",
      NULL },
    { "warm", 0, 0, G_OPTION_ARG_INT, &o->warm,
      "Keep N clones of each shape's template restored and idle, for creates without a network "
      "to take at once (default 0; they count toward --max-memory)",
      "N" },
    { "max-templates", 0, 0, G_OPTION_ARG_INT, &o->max_templates,
      "Keep at most N VM templates (a shape gets one when its second sandbox is created; the "
      "least recently used is dropped for a new one; each holds its guest's RAM in use, counted "
      "toward --max-memory, and two files in the state dir; default 8)",
      "N" },
    { "stop-on-exit", 0, 0, G_OPTION_ARG_NONE, &o->stop_on_exit,
      "On SIGTERM or SIGINT, stop every sandbox before exiting (default: leave them running for "
      "the next sandboxd to take back)",
      NULL },
    { "output-buffer", 0, 0, G_OPTION_ARG_INT, &o->output_buffer_mb,
      "Unread output kept per process stream before the process is slowed down to its "
      "readers' pace (default 8; 0: no limit)",
      "MiB" },
    { "output-quota", 0, 0, G_OPTION_ARG_INT, &o->output_quota_mb,
      "Output one sandbox may store, all its processes together; past it they block until the "
      "sandbox is removed (default 1024; 0: no limit)",
      "MiB" },
    { "policy-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->policy_dir,
      "Where the policies (NAME.json) are (default: the installed ones)", "DIR" },
    { "default-policy", 0, 0, G_OPTION_ARG_STRING, &o->default_policy,
      "The policy of sandboxes that ask for none (default \"default\"; a sandboxd that is not "
      "root can apply only \"unprivileged\")",
      "NAME" },
    { "tenants", 0, 0, G_OPTION_ARG_FILENAME, &o->tenants,
      "Serve the tenants in FILE (JSON), each on its own sockets under RUNTIME_DIR/tenants/NAME/, "
      "seeing only its sandboxes, within its quotas; SIGHUP reads FILE again (docs/tenants.md)",
      "FILE" },
    { "net-deny", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->net_deny,
      "Keep user networks' guests from ADDRESS[/PREFIX] (IPv4 or IPv6) too, besides the host's "
      "own addresses, loopback, link-local and multicast, which they never reach; repeat it for "
      "more (docs/networking.md)",
      "CIDR" },
    { "tenant-connections", 0, 0, G_OPTION_ARG_INT, &o->tenant_connections,
      "A tenant may hold at most N connections on each of its sockets; past it, checked each "
      "second, all of them are closed (default 256)",
      "N" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- run sandboxes in QEMU microVMs");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (
      ctx, "sandboxd serves the sandbox.v1 API on ipc://DIR/rpc.sock (see sandboxctl).\n"
           "On SIGTERM or SIGINT it exits and leaves the sandboxes running; a sandboxd\n"
           "started later on the same runtime dir takes them back (with --stop-on-exit\n"
           "it stops them first).\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "sandboxd: %s (see --help)\n", error->message);
      return 2;
    }
  if (o->version)
    {
      printf ("sandboxd %s\n", SANDBOXD_VERSION);
      return 0;
    }
  if (argc > 1)
    {
      fprintf (stderr, "sandboxd: unexpected argument \"%s\" (see --help)\n", argv[1]);
      return 2;
    }
  o->bus = G_BUS_TYPE_NONE;
  if (o->dbus && g_str_equal (o->dbus, "session"))
    o->bus = G_BUS_TYPE_SESSION;
  else if (o->dbus && g_str_equal (o->dbus, "system"))
    o->bus = G_BUS_TYPE_SYSTEM;
  else if (o->dbus && !g_str_equal (o->dbus, "none"))
    {
      fprintf (stderr, "sandboxd: --dbus must be session, system or none, not \"%s\"\n", o->dbus);
      return 2;
    }
  if (o->idle_exit < 0)
    return usage ("--idle-exit must not be negative");
  if (o->output_buffer_mb < 0 || o->output_quota_mb < 0)
    return usage ("--output-buffer and --output-quota must not be negative");
  if (o->max_sandboxes < 0 || o->max_memory_mb < -1 || o->max_image_builds < 1
      || o->image_gc_age_days < 0 || o->image_cache_max_mb < 0)
    return usage ("--max-sandboxes, --max-memory, --image-gc-age and --image-cache-max must "
                  "not be negative, --max-image-builds must be at least 1");
  if (o->auto_remove_grace <= 0)
    return usage ("--auto-remove-grace must be a positive number of seconds");
  if (o->boot_timeout <= 0)
    return usage ("--boot-timeout must be a positive number of seconds");
  if (o->max_boots < -1)
    return usage ("--max-boots must not be negative");
  if (o->max_templates < 0 || o->warm < 0)
    return usage ("--max-templates and --warm must not be negative");
  if (o->tenant_connections < 1)
    return usage ("--tenant-connections must be at least 1");
  if (o->tcg_cache_mb < 0 || (o->tcg_cache_mb > 0 && o->tcg_cache_mb < 8))
    return usage ("--tcg-cache must be 0 (QEMU's default) or at least 8 MiB");
  return -1;
}
