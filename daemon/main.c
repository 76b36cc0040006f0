/* sandboxd: runs each sandbox in its own QEMU microvm and serves the
 * sandbox.v1 API over nanomsg. */
#include "config.h"
#include "daemon.h"
#include "dbus-service.h"
#include "guest-files.h"
#include "images.h"
#include "kernels.h"
#include "large-buffers.h"
#include "options.h"
#include "remove-tree.h"
#include "sandbox.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_S 10
/* "sb/<12 hex>/qemu/agent.sock" must fit in a unix socket path. */
#define LONGEST_SOCKET_SUFFIX (sizeof "/sb/0123456789ab/qemu/agent.sock" - 1)
#define CGROUP_ROOT "/sys/fs/cgroup"

/* The policies shipped in the source tree when this sandboxd runs from its
 * build directory, else the installed ones. */
static char *
default_policy_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *bindir = exe ? g_path_get_dirname (exe) : NULL;
  if (bindir && g_str_equal (bindir, SANDBOXD_BUILD_DAEMON_DIR))
    return g_strdup (SANDBOXD_SOURCE_POLICY_DIR);
  return g_strdup (SANDBOXD_POLICY_DIR);
}

/* Loads the policies and says which protections cannot be applied here;
 * FALSE if the default policy is one of them (never weaken silently). */
static gboolean
setup_policies (Daemon *d, const char *dir, GError **error)
{
  d->ctx.policies = policy_load_dir (dir, error);
  if (d->ctx.policies == NULL)
    return FALSE;
  if (geteuid () == 0)
    {
      g_autoptr (GError) cg_error = NULL;
      d->ctx.cgroups = cgroup_manager_new (CGROUP_ROOT, "sandboxd", &cg_error);
      if (d->ctx.cgroups == NULL)
        g_warning ("no cgroups: %s", cg_error->message);
    }
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.policies);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Policy *p = value;
      g_autoptr (GError) e = NULL;
      if (daemon_policy (d, p->name, &e) == NULL)
        g_warning ("%s: sandboxes asking for it are refused", e->message);
      else if (p->user && geteuid () == 0 && getpwnam (p->user) == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "policy %s runs QEMU as user %s, which does not exist (scripts/setup.sh "
                       "creates it: useradd --system --no-create-home %s)",
                       p->name, p->user, p->user);
          return FALSE;
        }
    }
  if (daemon_policy (d, d->default_policy, error) == NULL)
    {
      g_prefix_error (error, "default policy: ");
      if (geteuid () != 0 && g_str_equal (d->default_policy, "default"))
        g_prefix_error (error, "%s",
                        "run sandboxd as root, or say --default-policy unprivileged: ");
      return FALSE;
    }
  g_message ("policies from %s; default %s; cgroups %s", dir, d->default_policy,
             d->ctx.cgroups ? cgroup_manager_version (d->ctx.cgroups) : "none");
  return TRUE;
}

/* What the daemon writes as root (sandbox dirs, state.json, whose qemu_pid
 * it signals at restart) must be under directories only it can change: its
 * own, writable by nobody else, reached through no symlink. A user who
 * could swap "sb" for a link would have the daemon write elsewhere. */
static gboolean
check_private_dir (const char *dir, GError **error)
{
  struct stat st;
  g_autofree char *real = realpath (dir, NULL);
  const char *why = NULL;
  if (lstat (dir, &st) < 0 || real == NULL)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "runtime dir %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  if (!g_str_equal (real, dir))
    why = "its path goes through a symbolic link";
  else if (!S_ISDIR (st.st_mode))
    why = "it is not a directory";
  else if (st.st_uid != geteuid ())
    why = "it is owned by another user";
  else if (st.st_mode & (S_IWGRP | S_IWOTH))
    why = "it is writable by group or others";
  if (why == NULL)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
               "runtime dir %s is not safe: %s (owner uid %u, mode %04o; it must be sandboxd's "
               "own, writable by nobody else, with no symlink on the way)",
               dir, why, (guint) st.st_uid, (guint) (st.st_mode & 07777));
  return FALSE;
}

/* One sandboxd per runtime dir: a second would take the first's sandboxes
 * while it still runs them. The lock lives as long as the process (the fd
 * is never closed), and goes with it however it ends. */
static gboolean
lock_runtime_dir (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) == 0)
    return TRUE;
  int e = errno;
  if (fd >= 0)
    close (fd);
  g_set_error (error, G_IO_ERROR, e == EWOULDBLOCK ? G_IO_ERROR_EXISTS : g_io_error_from_errno (e),
               "runtime dir %s: %s", dir,
               e == EWOULDBLOCK ? "another sandboxd serves it" : g_strerror (e));
  return FALSE;
}

static gboolean
prepare_runtime_dir (const char *dir, GError **error)
{
  struct sockaddr_un addr;
  if (strlen (dir) + LONGEST_SOCKET_SUFFIX >= sizeof addr.sun_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "runtime dir %s is too long: its sockets would exceed %zu bytes", dir,
                   sizeof addr.sun_path - 1);
      return FALSE;
    }
  g_autofree char *sb_dir = g_build_filename (dir, "sb", NULL);
  g_autofree char *probe = g_build_filename (dir, ".write-test", NULL);
  if (g_mkdir_with_parents (sb_dir, 0700) < 0 || !g_file_set_contents (probe, "", 0, NULL))
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "runtime dir %s is not writable: %s", dir, g_strerror (e));
      return FALSE;
    }
  unlink (probe);
  return check_private_dir (dir, error) && check_private_dir (sb_dir, error)
         && lock_runtime_dir (dir, error);
}

/* MemTotal in MiB, or 0 (no limit) if unreadable. */
static guint
host_memory_mb (void)
{
  g_autofree char *meminfo = NULL;
  guint64 kb = 0;
  if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    sscanf (meminfo, "MemTotal: %" G_GUINT64_FORMAT " kB", &kb);
  return (guint) (kb / 1024);
}

static gboolean
on_shutdown_timeout (gpointer data)
{
  Daemon *d = data;
  g_warning ("sandboxes did not stop within %d s; exiting anyway", SHUTDOWN_GRACE_S);
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  Daemon *d = data;
  if (d->shutting_down)
    return G_SOURCE_CONTINUE;
  d->shutting_down = TRUE;
  guint n = g_hash_table_size (d->ctx.sandboxes);
  if (!d->stop_on_exit)
    {
      g_message ("shutting down; leaving %u sandbox%s running for the next sandboxd", n,
                 n == 1 ? "" : "es");
      g_main_loop_quit (d->loop);
      return G_SOURCE_CONTINUE;
    }
  g_message ("shutting down; stopping %u sandbox%s (--stop-on-exit)", n, n == 1 ? "" : "es");
  if (n == 0)
    {
      g_main_loop_quit (d->loop);
      return G_SOURCE_CONTINUE;
    }
  g_timeout_add_seconds (SHUTDOWN_GRACE_S, on_shutdown_timeout, d);
  GList *all = g_hash_table_get_values (d->ctx.sandboxes);
  for (GList *l = all; l; l = l->next)
    sandbox_delete_async (l->data, NULL, NULL);
  g_list_free (all);
  return G_SOURCE_CONTINUE;
}

/* --idle-exit: leave when nothing has run and nobody has called for a while
 * (an activated daemon comes back on the next D-Bus call). */
static gboolean
on_idle_check (gpointer data)
{
  Daemon *d = data;
  if (g_hash_table_size (d->ctx.sandboxes) == 0
      && (d->ctx.hidden == NULL || d->ctx.hidden->len == 0)
      && g_get_monotonic_time () - d->last_activity_us >= (gint64) d->idle_exit_s * G_USEC_PER_SEC)
    {
      g_message ("idle for %u s with no sandboxes; exiting (--idle-exit)", d->idle_exit_s);
      g_main_loop_quit (d->loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
sandbox_emit (SandboxContext *ctx, const char *tenant, const char *type, JsonObject *fields)
{
  daemon_emit (ctx->host, tenant, type, fields);
}

/* SIGHUP: the tenants file again; a bad one changes nothing. */
static gboolean
on_reload (gpointer data)
{
  Daemon *d = data;
  g_autoptr (GError) error = NULL;
  if (d->tenants_file == NULL)
    g_message ("SIGHUP: no --tenants file to read again");
  else if (!daemon_tenants_load (d, &error))
    g_warning ("SIGHUP: %s; the tenants stay as they were", error->message);
  return G_SOURCE_CONTINUE;
}

/* Tenants reach their sockets through the runtime dir: it must let them
 * pass (0711: search, not read), and nothing else in it is theirs. */
static gboolean
start_tenants (Daemon *d, GError **error)
{
  if (d->tenants_file == NULL)
    return TRUE;
  struct stat st;
  if (stat (d->ctx.runtime_dir, &st) == 0 && (st.st_mode & 0111) != 0111
      && chmod (d->ctx.runtime_dir, (st.st_mode & 07777) | 0111) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "runtime dir %s: cannot let tenants pass (chmod 0711): %s", d->ctx.runtime_dir,
                   g_strerror (e));
      return FALSE;
    }
  daemon_tenants_remove_stale (d);
  return daemon_tenants_load (d, error);
}

static gboolean
free_sandbox_idle (gpointer data)
{
  sandbox_free (data);
  return G_SOURCE_REMOVE;
}

static void
sandbox_gone (SandboxContext *ctx, const char *id)
{
  Daemon *d = ctx->host;
  gpointer key, value;
  if (!g_hash_table_steal_extended (d->ctx.sandboxes, id, &key, &value))
    return;
  g_free (key);
  /* The sandbox may be what is calling us. */
  g_idle_add (free_sandbox_idle, value);
  if (d->shutting_down && g_hash_table_size (d->ctx.sandboxes) == 0)
    g_main_loop_quit (d->loop);
}

/* Takes back what an earlier sandboxd left in the runtime dir. */
static void
restore_sandboxes (Daemon *d)
{
  g_autofree char *sb_dir = g_build_filename (d->ctx.runtime_dir, "sb", NULL);
  g_autoptr (GDir) dir = g_dir_open (sb_dir, 0, NULL);
  const char *id;
  while (dir && (id = g_dir_read_name (dir)) != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *state = g_build_filename (sb_dir, id, "state.json", NULL);
      if (!g_file_test (state, G_FILE_TEST_EXISTS))
        {
          /* Never got as far as a state file: nothing runs for it. */
          g_autofree char *path = g_build_filename (sb_dir, id, NULL);
          g_message ("removing %s, left unfinished by an earlier sandboxd", path);
          remove_tree (path, NULL);
          continue;
        }
      Sandbox *sb = sandbox_load (&d->ctx, id, &error);
      if (sb == NULL)
        {
          g_warning ("cannot take back sandbox %s (left as it is): %s", id, error->message);
          continue;
        }
      g_message ("found sandbox %s (%s), %s", sandbox_get_name (sb), id,
                 sandbox_state_to_string (sandbox_get_state (sb)));
      g_hash_table_insert (d->ctx.sandboxes, g_strdup (id), sb);
      sandbox_reattach (sb);
    }
}

void
daemon_clear (Daemon *d)
{
  g_clear_pointer (&d->templates, sandbox_templates_free);
  daemon_host_guard_stop (d);
  g_clear_pointer (&d->ctx.hidden, g_ptr_array_unref);
  g_clear_pointer (&d->rpc, rpc_server_free);
  daemon_tenants_clear (d);
  g_clear_pointer (&d->tenants_file, g_free);
  g_clear_pointer (&d->net_deny, g_strfreev);
  g_clear_pointer (&d->events, event_log_free);
  g_clear_pointer (&d->publisher, rpc_publisher_free);
  if (d->ctx.sandboxes)
    {
      GHashTableIter it;
      gpointer value;
      g_hash_table_iter_init (&it, d->ctx.sandboxes);
      while (g_hash_table_iter_next (&it, NULL, &value))
        sandbox_free (value);
      g_clear_pointer (&d->ctx.sandboxes, g_hash_table_destroy);
    }
  g_clear_handle_id (&d->ctx.boot_kick, g_source_remove);
  g_clear_pointer (&d->creating, g_hash_table_destroy);
  g_clear_pointer (&d->image_holds, g_hash_table_destroy);
  g_clear_pointer (&d->ctx.boot_queue, g_queue_free);
  g_clear_pointer (&d->loop, g_main_loop_unref);
  g_clear_pointer (&d->ctx.policies, g_hash_table_destroy);
  g_clear_pointer (&d->ctx.cgroups, cgroup_manager_free);
  g_clear_pointer (&d->default_policy, g_free);
  g_clear_pointer (&d->events_address, g_free);
  g_clear_pointer (&d->accel_reason, g_free);
  g_clear_pointer (&d->guest_release, g_free);
  g_clear_pointer (&d->kernels, g_ptr_array_unref);
  g_clear_pointer (&d->ctx.kernel, g_free);
  g_clear_pointer (&d->ctx.initramfs, g_free);
  g_clear_pointer (&d->ctx.qemu, g_free);
  g_clear_pointer (&d->ctx.net_helper, g_free);
  g_clear_pointer (&d->ctx.virtiofsd, g_free);
  g_clear_pointer (&d->volume_user, g_free);
  g_clear_pointer (&d->volume_sizes, volume_sizes_free);
  g_clear_pointer (&d->ctx.runtime_dir, g_free);
  g_clear_pointer (&d->rpc_address, g_free);
  g_clear_pointer (&d->state_dir, g_free);
  g_clear_pointer (&d->default_root, g_free);
}

static void
log_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  const char *prefix = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
                           ? "warning: "
                           : "";
  if ((level & G_LOG_LEVEL_DEBUG) && !g_getenv ("SANDBOXD_DEBUG"))
    return;
  fprintf (stderr, "sandboxd: %s%s\n", prefix, message);
}

/* The daemon as the command line sets it up: policies, guest files, the
 * runtime dir and the accelerator checked. */
static gboolean
daemon_configure (Daemon *d, Options *o, GError **error)
{
  d->ctx.runtime_dir
      = g_canonicalize_filename (o->runtime_dir ? o->runtime_dir : SANDBOXD_RUNTIME_DIR, NULL);
  d->state_dir = g_canonicalize_filename (o->state_dir ? o->state_dir : SANDBOXD_STATE_DIR, NULL);
  d->ctx.qemu = g_find_program_in_path (o->qemu ? o->qemu : "qemu-system-x86_64");
  d->ctx.net_helper = net_helper_path (o->net_helper); /* --network user */
  d->ctx.virtiofsd = virtiofsd_path (o->virtiofsd);    /* volumes */
  d->volume_user = g_strdup (o->volume_user ? o->volume_user : "sandboxd-volume");
  d->volume_sizes = volume_sizes_new ();
  const struct passwd *vu = getpwnam (d->volume_user);
  if (vu && vu->pw_uid != 0)
    {
      d->volume_uid = vu->pw_uid;
      d->volume_gid = vu->pw_gid;
    }
  if (d->ctx.qemu == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "QEMU %s not found (install qemu-system-x86, or pass --qemu)",
                   o->qemu ? o->qemu : "qemu-system-x86_64");
      return FALSE;
    }
  d->ctx.boot_timeout_s = (guint) o->boot_timeout;
  d->ctx.boot_slots = o->max_boots >= 0 ? (guint) o->max_boots : g_get_num_processors ();
  d->ctx.auto_remove_grace_s = (guint) o->auto_remove_grace;
  d->max_sandboxes = (guint) o->max_sandboxes;
  d->max_memory_mb = o->max_memory_mb >= 0 ? (guint) o->max_memory_mb : host_memory_mb ();
  image_cache_set_max_builds ((guint) o->max_image_builds);
  d->image_gc_age_s = (guint) o->image_gc_age_days * 24 * 3600;
  d->image_cache_max_bytes = (guint64) o->image_cache_max_mb << 20;
  d->idle_exit_s = (guint) o->idle_exit;
  d->stop_on_exit = o->stop_on_exit;
  d->ctx.output_buffer_bytes = (guint64) o->output_buffer_mb * 1024 * 1024;
  d->ctx.output_quota_bytes = (guint64) o->output_quota_mb * 1024 * 1024;
  d->default_policy = g_strdup (o->default_policy ? o->default_policy : "default");
  d->tenants_file = o->tenants ? g_canonicalize_filename (o->tenants, NULL) : NULL;
  d->net_deny = g_strdupv (o->net_deny);
  d->tenant_connections = (guint) o->tenant_connections;
  if (o->policy_dir == NULL)
    o->policy_dir = default_policy_dir ();
  d->ctx.tsc_khz = accel_host_tsc_khz ();
  d->ctx.tcg_cache_mb = (guint) o->tcg_cache_mb;

  if (!setup_policies (d, o->policy_dir, error) || !daemon_host_guard_start (d, d->net_deny, error)
      || !guest_files_resolve (
          d, &(GuestFileOptions){ o->kernel, o->initramfs, o->kernels_dir, o->default_kernel },
          error)
      || !prepare_runtime_dir (d->ctx.runtime_dir, error))
    return FALSE;
  g_autofree char *probe_cache = g_build_filename (d->state_dir, "accel-probe", NULL);
  if (g_mkdir_with_parents (d->state_dir, 0700) < 0)
    g_clear_pointer (&probe_cache, g_free);
  AccelProbe probe = { d->ctx.qemu, d->ctx.kernel, d->ctx.initramfs, probe_cache };
  return accel_choose (&probe, o->accel ? o->accel : "auto", &d->ctx.accel, &d->accel_reason,
                       error);
}

/* The API and events sockets, the sandboxes an earlier sandboxd left, and
 * the housekeeping timers. */
/* Templates, and the default shape's built now (256 MiB, 1 vCPU, the
 * default policy: the schema's defaults). Without them, cold boots. */
static void
start_templates (Daemon *d, Options *o)
{
  d->ctx.hidden = g_ptr_array_new ();
  if (o->no_templates)
    return;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (d->state_dir, "templates", NULL);
  /* Every kernel of the catalog has templates of its own. */
  g_autoptr (GPtrArray) others = g_ptr_array_new ();
  for (guint i = 0; i < d->kernels->len; i++)
    {
      const GuestKernel *k = d->kernels->pdata[i];
      if (!k->is_default)
        {
          g_ptr_array_add (others, k->kernel);
          g_ptr_array_add (others, k->initramfs);
        }
    }
  g_ptr_array_add (others, NULL);
  d->templates = sandbox_templates_new (&d->ctx, dir, (const char *const *) others->pdata, &error);
  if (d->templates == NULL)
    {
      g_warning ("no VM templates (every sandbox boots cold): %s", error->message);
      return;
    }
  sandbox_templates_set_warm (d->templates, (guint) MAX (o->warm, 0));
  sandbox_templates_set_max (d->templates, (guint) o->max_templates);
  d->ctx.admit_hidden = daemon_admit_hidden;
  const Policy *policy = g_hash_table_lookup (d->ctx.policies, d->default_policy);
  if (policy)
    sandbox_templates_prepare (d->templates, 256, 1, policy);
}

static gboolean
on_trim_logs (gpointer data)
{
  Daemon *d = data;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.sandboxes);
  while (g_hash_table_iter_next (&it, NULL, &value))
    sandbox_trim_logs (value);
  for (guint i = 0; d->ctx.hidden && i < d->ctx.hidden->len; i++)
    sandbox_trim_logs (d->ctx.hidden->pdata[i]);
  return G_SOURCE_CONTINUE;
}

static gboolean
daemon_serve (Daemon *d, GError **error)
{
  d->ctx.sandboxes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  d->ctx.gone = sandbox_gone;
  d->ctx.emit = sandbox_emit;
  d->ctx.host = d;
  d->tenant_handler = daemon_handle_tenant_call;
  d->ctx.boot_begun = daemon_boot_begun;
  d->creating = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  d->image_holds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  d->loop = g_main_loop_new (NULL, FALSE);
  d->rpc_address = g_strdup_printf ("ipc://%s/rpc.sock", d->ctx.runtime_dir);
  d->rpc = rpc_server_new (d->rpc_address, rpc_schema_get_default (), daemon_handle_call, d, error);
  if (d->rpc == NULL)
    return FALSE;
  d->events_address = g_strdup_printf ("ipc://%s/events.sock", d->ctx.runtime_dir);
  d->publisher = rpc_publisher_new (d->events_address, error);
  if (d->publisher == NULL)
    return FALSE;
  d->events = event_log_new (d->publisher);
  if (!start_tenants (d, error))
    return FALSE;
  restore_sandboxes (d);
  daemon_images_gc_start (d);
  g_timeout_add_seconds (SANDBOX_LOG_TRIM_INTERVAL_S, on_trim_logs, d);
  g_unix_signal_add (SIGTERM, on_signal, d);
  g_unix_signal_add (SIGINT, on_signal, d);
  g_unix_signal_add (SIGHUP, on_reload, d);
  return TRUE;
}

/* Every client connection is an fd of ours (nanomsg keeps no count we
 * could cap by): with the usual soft limit of 1024, one tenant's 999 idle
 * connections left sandboxd unable to accept anyone else's. The hard limit
 * is what the admin allows (data/sandboxd.service: LimitNOFILE). */
static void
raise_open_files_limit (void)
{
  struct rlimit r;
  if (getrlimit (RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max)
    {
      r.rlim_cur = r.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &r) < 0)
        g_warning ("cannot raise the open files limit: %s", g_strerror (errno));
    }
}

int
main (int argc, char **argv)
{
  large_buffers_keep ();
  raise_open_files_limit ();
  g_autoptr (GError) error = NULL;
  setlocale (LC_ALL, "");
  g_auto (Options) o = { 0 };
  int code = options_parse (&o, argc, argv);
  if (code >= 0)
    return code;
  g_log_set_default_handler (log_handler, NULL);

  g_auto (Daemon) d = { 0 };
  if (!daemon_configure (&d, &o, &error) || !daemon_serve (&d, &error))
    {
      fprintf (stderr, "sandboxd: %s\n", error->message);
      return 1;
    }
  start_templates (&d, &o);
  DbusService *dbus_service = o.bus != G_BUS_TYPE_NONE ? dbus_service_new (&d, o.bus) : NULL;
  d.last_activity_us = g_get_monotonic_time ();
  if (d.idle_exit_s)
    g_timeout_add_seconds (1, on_idle_check, &d);

  g_message ("version %s serving %s", SANDBOXD_VERSION, d.rpc_address);
  g_message ("accelerator: %s", d.accel_reason);
  for (guint i = 0; i < d.kernels->len; i++)
    {
      const GuestKernel *k = d.kernels->pdata[i];
      g_message ("guest kernel %s%s: %s (%s), initramfs %s", k->name,
                 k->is_default ? " (default)" : "", k->kernel, k->release, k->initramfs);
    }
  g_main_loop_run (d.loop);

  dbus_service_free (dbus_service);
  /* Let idle frees of deleted sandboxes run. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_message ("stopped");
  return d.exit_code;
}
