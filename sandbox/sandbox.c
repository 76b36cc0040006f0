#include "remove-tree.h"
#include "sandbox-private.h"

#include "json-fields.h"
#include "proc-stat.h"
#include "qemu.h"

#include <errno.h>
#include <gio/gio.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000
#define QMP_TIMEOUT_MS 5000
#define STOP_GRACE_MS 5000
#define CONSOLE_TAIL_BYTES 2000
#define STATS_TIMEOUT_MS 3000
/* A channel that closes is usually QEMU exiting; wait this long for its
 * exit status, which says more than "socket closed". */
#define EXIT_GRACE_MS 1000

/* Every state change goes through here, so each one is an event. */
static void boot_qemu (Sandbox *sb);
static void begin_boot (Sandbox *sb);
static void answer_start_calls (Sandbox *sb);

static gboolean start_queued (gpointer data);

/* Its boot is over (hello, failure, stop, delete, or it is freed): the
 * next in the queue may start, from the main loop (not from inside
 * whatever ended this one). */
static void
release_boot_slot (Sandbox *sb)
{
  SandboxContext *ctx = sb->ctx;
  if (sb->boot_queued)
    {
      g_queue_remove (ctx->boot_queue, sb);
      sb->boot_queued = FALSE;
    }
  if (!sb->boot_slot)
    return;
  sb->boot_slot = FALSE;
  ctx->boots--;
  if (ctx->boot_queue && !g_queue_is_empty (ctx->boot_queue) && ctx->boot_kick == 0)
    ctx->boot_kick = g_idle_add (start_queued, ctx);
}

static void
set_state (Sandbox *sb, SandboxState state)
{
  if (sb->state == state)
    return;
  sb->state = state;
  if (state != SANDBOX_BOOTING && state != SANDBOX_CREATING)
    release_boot_slot (sb);
  sandbox_save (sb);
  if (sb->hidden)
    return;
  JsonObject *ev = json_object_new ();
  json_object_set_string_member (ev, "sandbox_id", sb->id);
  json_object_set_string_member (ev, "name", sb->name);
  json_object_set_string_member (ev, "state", sandbox_state_to_string (state));
  if (state == SANDBOX_FAILED && sb->error)
    json_object_set_string_member (ev, "error", sb->error);
  sb->ctx->emit (sb->ctx, sb->tenant, "sandbox.state", ev);
}

static char *
new_id (void)
{
  GString *s = g_string_new (NULL);
  for (int i = 0; i < 6; i++)
    g_string_append_printf (s, "%02x", g_random_int_range (0, 256));
  return g_string_free (s, FALSE);
}

static void
fail_with (Sandbox *sb, const char *reason)
{
  sandbox_fail (sb, "%s", reason);
}

static const SandboxOps core_ops = {
  .fail = fail_with,
  .save = sandbox_save,
  .boot_finished = sandbox_boot_finished,
  .auto_remove_check = sandbox_auto_remove_check,
  .signal_qemu = sandbox_signal_qemu,
};

Sandbox *
sandbox_alloc (SandboxContext *ctx, const char *id, const char *dir)
{
  Sandbox *sb = g_new0 (Sandbox, 1);
  sb->ctx = ctx;
  sb->ops = &core_ops;
  sb->id = g_strdup (id);
  sb->name = g_strdup (id);
  sb->cgroup = g_strdup (id);
  sb->dir = g_strdup (dir);
  sb->state = SANDBOX_CREATING;
  sb->pidfd = -1;
  sb->ram_fd = -1;
  sb->nic_peer = -1;
  sb->created = g_date_time_new_now_utc ();
  sb->procs = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) sandbox_process_free);
  sb->disks
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) sandbox_disk_free);
  sb->containers = g_ptr_array_new_with_free_func ((GDestroyNotify) sandbox_container_free);
  sb->volumes = g_ptr_array_new_with_free_func ((GDestroyNotify) volume_free);
  sb->next_proc = 1;
  return sb;
}

void
sandbox_trim_logs (Sandbox *sb)
{
  const char *logs[] = { QEMU_LOG, NETWORK_LOG, VOLUMES_LOG };
  for (gsize i = 0; i < G_N_ELEMENTS (logs); i++)
    {
      g_autofree char *path = g_build_filename (sb->dir, logs[i], NULL);
      if (log_file_trim (path, SANDBOX_LOG_MAX_BYTES, SANDBOX_LOG_KEEP_BYTES))
        g_message ("sandbox %s: %s passed %d bytes and was cut back", sb->name, logs[i],
                   SANDBOX_LOG_MAX_BYTES);
    }
}

Sandbox *
sandbox_load (SandboxContext *ctx, const char *id, GError **error)
{
  g_autofree char *dir = g_build_filename (ctx->runtime_dir, "sb", id, NULL);
  Sandbox *sb = sandbox_alloc (ctx, id, dir);
  if (sandbox_state_load (sb, error))
    return sb;
  sandbox_free (sb);
  return NULL;
}

/* What a network needs of the host, checked before anything exists. */
static gboolean
network_check (SandboxContext *ctx, Network *net, GError **error)
{
  if (net->mode == NETWORK_NS)
    return network_ns_check (net, error);
  if (ctx->net_helper == NULL)
    g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INVALID,
                 "the user network needs its helper sandbox-slirp, which is not installed (build "
                 "it with libslirp-dev, or pass --net-helper)");
  else if (ctx->cgroups == NULL)
    g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_DENIED,
                 "the user network needs sandboxd to manage cgroups (as root): its helper runs "
                 "under a cgroup guard that keeps guests off the host's own addresses");
  else
    return network_check_ports (net, error);
  return FALSE;
}

/* A cgroup path a bundle chose: one nobody has. */
static gboolean
cgroup_path_check (SandboxContext *ctx, const SandboxConfig *config, GError **error)
{
  const char *path = config->cgroup_path;
  if (ctx->cgroups == NULL || config->policy == NULL || config->policy->memory_overhead_mb == 0)
    g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INVALID,
                 "cgroup path %s: this sandbox gets no cgroup (sandboxd does not manage cgroups, "
                 "or its policy sets none)",
                 path);
  else if (cgroup_exists (ctx->cgroups, path))
    g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_EXISTS,
                 "cgroup path %s exists: a sandbox's cgroup is a new one", path);
  else
    {
      GHashTableIter it;
      gpointer value;
      g_hash_table_iter_init (&it, ctx->sandboxes);
      while (g_hash_table_iter_next (&it, NULL, &value))
        if (g_str_equal (((Sandbox *) value)->cgroup, path))
          {
            g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_EXISTS,
                         "cgroup path %s is sandbox %s's", path, ((Sandbox *) value)->name);
            return FALSE;
          }
      return TRUE;
    }
  return FALSE;
}

Sandbox *
sandbox_new (SandboxContext *ctx, const SandboxConfig *config, GError **error)
{
  if (config->cgroup_path && !cgroup_path_check (ctx, config, error))
    return NULL;
  g_autofree char *id = new_id ();
  g_autofree char *dir = g_build_filename (ctx->runtime_dir, "sb", id, NULL);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int e = errno;
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INTERNAL, "create %s: %s", dir,
                   g_strerror (e));
      return NULL;
    }
  g_autoptr (Network) net = network_new (config->network, config->ports, error);
  if ((net == NULL && error && *error) || (net && !network_check (ctx, net, error)))
    return NULL;
  if (config->n_volumes && ctx->virtiofsd == NULL)
    {
      g_set_error (
          error, SANDBOX_ERROR, SANDBOX_ERROR_INVALID,
          "volumes need QEMU's virtiofsd (/usr/lib/qemu/virtiofsd, in qemu-system-common), "
          "which is not installed");
      return NULL;
    }
  Sandbox *sb = sandbox_alloc (ctx, id, dir);
  sb->network = g_steal_pointer (&net);
  for (guint i = 0; i < config->n_volumes; i++)
    {
      const SandboxVolumeConfig *vc = &config->volumes[i];
      g_autofree char *tag = vc->tag ? g_strdup (vc->tag) : g_strdup_printf ("vfs%u", i);
      g_ptr_array_add (sb->volumes, volume_new (tag, vc->source, vc->source_fd, vc->destination,
                                                vc->in_container, vc->readonly, vc->uid, vc->gid));
    }
  if (config->cgroup_path)
    {
      g_free (sb->cgroup);
      sb->cgroup = g_strdup (config->cgroup_path);
    }
  if (config->name)
    {
      g_free (sb->name);
      sb->name = g_strdup (config->name);
    }
  sb->tenant = g_strdup (config->tenant);
  sb->kernel_name = g_strdup (config->kernel_name);
  sb->kernel_path = g_strdup (config->kernel);
  sb->initramfs_path = g_strdup (config->initramfs);
  sb->memory_mb = config->memory_mb;
  sb->cpus = config->cpus;
  sb->pids = config->pids;
  sb->policy = config->policy;
  sb->delete_on_failure = config->delete_on_failure || config->auto_remove;
  sb->auto_remove = config->auto_remove;
  /* A directory without state.json is one sandboxd may remove at start. */
  if (!sandbox_save_now (sb, error))
    {
      remove_tree (dir, NULL);
      sandbox_free (sb);
      return NULL;
    }
  return sb;
}

static void
release_channels (Sandbox *sb)
{
  g_clear_pointer (&sb->qmp, qmp_client_free);
  g_clear_pointer (&sb->agent, agent_channel_free);
  g_clear_pointer (&sb->console, console_log_free);
}

static gboolean
on_release_idle (gpointer data)
{
  Sandbox *sb = data;
  sb->release_idle = 0;
  release_channels (sb);
  return G_SOURCE_REMOVE;
}

/* Channels may be what is calling us: free them from the main loop. */
static void
release_channels_later (Sandbox *sb)
{
  if (sb->release_idle == 0)
    sb->release_idle = g_idle_add (on_release_idle, sb);
}

static void answer_stats_calls (Sandbox *sb, JsonObject *guest);

void
sandbox_free (Sandbox *sb)
{
  if (sb == NULL)
    return;
  release_boot_slot (sb);
  g_clear_handle_id (&sb->child_watch, g_source_remove);
  g_clear_handle_id (&sb->boot_timer, g_source_remove);
  g_clear_handle_id (&sb->stop_timer, g_source_remove);
  g_clear_handle_id (&sb->release_idle, g_source_remove);
  g_clear_handle_id (&sb->grace_timer, g_source_remove);
  g_clear_handle_id (&sb->auto_remove_timer, g_source_remove);
  g_clear_handle_id (&sb->pidfd_watch, g_source_remove);
  if (sb->pidfd >= 0)
    close (sb->pidfd);
  if (sb->save_idle)
    sandbox_save_now (sb, NULL);
  answer_stats_calls (sb, NULL);
  g_free (sb->grace_reason);
  release_channels (sb);
  sandbox_processes_abort (sb, SANDBOX_ERROR_NOT_FOUND, "the sandbox was deleted");
  g_hash_table_destroy (sb->procs);
  /* Containers first (their calls are answered): a disk's pending callback
   * then finds none to update. */
  g_ptr_array_set_size (sb->containers, 0);
  g_hash_table_destroy (sb->disks);
  g_ptr_array_unref (sb->containers);
  sandbox_reply_all_error (&sb->start_calls, SANDBOX_ERROR_GONE, "the sandbox went away");
  sandbox_reply_all_error (&sb->delete_calls, SANDBOX_ERROR_GONE, "the sandbox went away");
  sandbox_reply_all_error (&sb->stop_calls, SANDBOX_ERROR_GONE, "the sandbox went away");
  network_free (sb->network);
  g_ptr_array_unref (sb->volumes);
  g_date_time_unref (sb->created);
  g_free (sb->kernel_release);
  g_free (sb->error);
  sandbox_template_clear (sb);
  g_free (sb->snapshot_to);
  g_free (sb->restore_from);
  if (sb->ram_fd >= 0)
    close (sb->ram_fd);
  if (sb->nic_peer >= 0)
    close (sb->nic_peer);
  g_free (sb->cold_reason);
  g_free (sb->dir);
  g_free (sb->cgroup);
  g_free (sb->name);
  g_free (sb->tenant);
  g_free (sb->kernel_name);
  g_free (sb->kernel_path);
  g_free (sb->initramfs_path);
  g_free (sb->id);
  g_free (sb);
}

const char *
sandbox_get_id (Sandbox *sb)
{
  return sb->id;
}

const char *
sandbox_get_name (Sandbox *sb)
{
  return sb->name;
}

guint
sandbox_get_memory_mb (Sandbox *sb)
{
  return sb->memory_mb;
}

guint
sandbox_get_cpus (Sandbox *sb)
{
  return sb->cpus;
}

gboolean
sandbox_is_boot_queued (Sandbox *sb)
{
  return sb->boot_queued;
}

const char *
sandbox_get_tenant (Sandbox *sb)
{
  return sb->tenant;
}

guint64
sandbox_get_output_bytes (Sandbox *sb)
{
  return sb->output_bytes;
}

SandboxState
sandbox_get_state (Sandbox *sb)
{
  return sb->state;
}

JsonObject *
sandbox_to_json (Sandbox *sb)
{
  JsonObject *o = sandbox_settings_json (sb);
  if (sb->pid > 0 && sb->policy && sb->policy->memory_overhead_mb && sb->ctx->cgroups)
    {
      g_auto (GStrv) paths = cgroup_paths (sb->ctx->cgroups, sb->cgroup);
      json_field_set_strv (o, "cgroups", paths);
    }
  json_object_set_string_member (o, "accel", accel_to_string (sb->ctx->accel));
  if (sb->kernel_release)
    json_object_set_string_member (o, "kernel_release", sb->kernel_release);
  if (sb->boot_ms)
    json_object_set_int_member (o, "boot_ms", sb->boot_ms);
  if (sb->boot_queued)
    json_object_set_boolean_member (o, "boot_queued", TRUE);
  /* How it started: as a clone of a template, or cold (and why, when a
   * template's restore failed). Not kept across restarts of sandboxd. */
  if (sb->thawed || sb->cold_reason || sb->boot_ms)
    json_object_set_string_member (o, "boot", sb->warm ? "warm" : sb->thawed ? "template" : "cold");
  if (sb->thawed)
    json_object_set_int_member (o, "restore_ms", sb->restore_ms);
  if (sb->cold_reason)
    json_object_set_string_member (o, "cold_reason", sb->cold_reason);
  if (sb->pid > 0)
    json_object_set_int_member (o, "qemu_pid", sb->pid);
  json_object_set_string_member (o, "dir", sb->dir);
  if (sb->network)
    json_object_set_object_member (o, "network", network_to_json (sb->network));
  if (sb->volumes->len)
    json_object_set_array_member (o, "volumes", volumes_to_json (sb->volumes));
  if (sb->paused && sb->pid > 0)
    json_object_set_boolean_member (o, "paused", TRUE);
  json_object_set_int_member (o, "output_bytes", (gint64) sb->output_bytes);
  if (sb->output_full)
    json_object_set_boolean_member (o, "output_quota_reached", TRUE);
  json_object_set_array_member (o, "disks", sandbox_disks_to_json (sb, FALSE));
  json_object_set_array_member (o, "containers", sandbox_containers_to_json (sb, FALSE));
  return o;
}

static void
answer_start_calls (Sandbox *sb)
{
  GList *calls = g_steal_pointer (&sb->start_calls);
  for (GList *l = calls; l; l = l->next)
    {
      if (sb->state == SANDBOX_RUNNING)
        sandbox_reply_json (l->data, sandbox_to_json (sb));
      else
        sandbox_reply_error (l->data, SANDBOX_ERROR_GONE, "sandbox %s failed to start: %s",
                             sb->name, sb->error ? sb->error : "it was stopped");
    }
  g_list_free (calls);
}

static void
answer_stop_calls (Sandbox *sb)
{
  GList *calls = g_steal_pointer (&sb->stop_calls);
  for (GList *l = calls; l; l = l->next)
    sandbox_reply_json (l->data, sandbox_to_json (sb));
  g_list_free (calls);
}

static void stop_escalate (Sandbox *sb);

static char *
console_tail (Sandbox *sb)
{
  g_autofree char *path = g_build_filename (sb->dir, SANDBOX_CONSOLE_LOG, NULL);
  g_autofree char *tail = log_file_tail (path, CONSOLE_TAIL_BYTES);
  return *tail ? g_strdup_printf ("\n--- guest console (last lines) ---\n%s", tail)
               : g_strdup ("\n(the guest console is empty)");
}

void
sandbox_fail (Sandbox *sb, const char *fmt, ...)
{
  if (sb->state == SANDBOX_FAILED || sb->state == SANDBOX_STOPPED)
    return;
  /* A clone that did not restore: its QEMU is being killed, and what
   * breaks with it is no failure; it boots cold next. */
  if (sb->fall_back && sb->state == SANDBOX_BOOTING)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_free (sb->error);
  sb->error = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_message ("sandbox %s failed: %s", sb->name, sb->error);

  set_state (sb, SANDBOX_FAILED);
  g_clear_handle_id (&sb->boot_timer, g_source_remove);
  g_clear_handle_id (&sb->grace_timer, g_source_remove);
  answer_start_calls (sb);
  g_autofree char *why = g_strdup_printf ("sandbox %s failed: %s", sb->name, sb->error);
  sandbox_processes_abort (sb, SANDBOX_ERROR_GONE, why);
  if (sb->pid > 0)
    sandbox_signal_qemu (sb, SIGKILL);
  release_channels_later (sb);
  if (sb->delete_on_failure)
    sandbox_delete_async (sb, NULL, NULL);
}

static gboolean
on_grace_timeout (gpointer data)
{
  Sandbox *sb = data;
  sb->grace_timer = 0;
  sandbox_fail (sb, "%s", sb->grace_reason);
  return G_SOURCE_REMOVE;
}

/* Fails the sandbox with @reason unless QEMU exits meanwhile, in which case
 * its exit (with status and log) is the reason given. */
static void
fail_unless_qemu_exits (Sandbox *sb, const char *reason)
{
  if (sb->pid <= 0)
    {
      sandbox_fail (sb, "%s", reason);
      return;
    }
  if (sb->grace_timer)
    return;
  g_free (sb->grace_reason);
  sb->grace_reason = g_strdup (reason);
  sb->grace_timer = g_timeout_add (EXIT_GRACE_MS, on_grace_timeout, sb);
}

static void
finish_delete (Sandbox *sb)
{
  g_autoptr (GError) error = NULL;
  g_clear_handle_id (&sb->stop_timer, g_source_remove);
  release_channels (sb);
  answer_stop_calls (sb);
  sandbox_processes_abort (sb, SANDBOX_ERROR_NOT_FOUND, "the sandbox was deleted");
  gboolean removed = remove_tree (sb->dir, &error);

  GList *calls = g_steal_pointer (&sb->delete_calls);
  for (GList *l = calls; l; l = l->next)
    {
      if (removed)
        {
          JsonObject *res = json_object_new ();
          json_object_set_string_member (res, "id", sb->id);
          sandbox_reply_json (l->data, res);
        }
      else
        sandbox_reply_gerror (l->data, error);
    }
  g_list_free (calls);
  if (sb->hidden)
    return; /* a template's build: its owner frees it */
  JsonObject *ev = json_object_new ();
  json_object_set_string_member (ev, "sandbox_id", sb->id);
  json_object_set_string_member (ev, "name", sb->name);
  sb->ctx->emit (sb->ctx, sb->tenant, "sandbox.deleted", ev);
  sb->ctx->gone (sb->ctx, sb->id);
}

/* QEMU's sockets go with it; its logs stay for `inspect` until rm. */
static void
remove_sockets (Sandbox *sb)
{
  const char *names[] = { QEMU_QMP_SOCKET, QEMU_AGENT_SOCKET, QEMU_CONSOLE_SOCKET };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (sb->dir, names[i], NULL);
      unlink (path);
    }
}

void
sandbox_remove_cgroup (Sandbox *sb)
{
  g_autoptr (GError) error = NULL;
  if (sb->policy && sb->policy->memory_overhead_mb && sb->ctx->cgroups
      && !cgroup_remove (sb->ctx->cgroups, sb->cgroup, &error))
    g_warning ("sandbox %s: %s", sb->name, error->message);
}

void
sandbox_signal_qemu (Sandbox *sb, int sig)
{
  if (sb->pidfd >= 0)
    syscall (SYS_pidfd_send_signal, sb->pidfd, sig, NULL, 0);
  else if (sb->pid > 0)
    kill (sb->pid, sig);
}

/* The helpers leave the cgroup before it is removed. */
static void
release_network (Sandbox *sb)
{
  sandbox_volumes_release (sb);
  if (sb->network == NULL)
    return;
  network_stop (sb->network);
  if (sb->network->mode == NETWORK_NS)
    network_ns_release (sb->network);
}

void
sandbox_qemu_exited (Sandbox *sb, int status)
{
  sb->pid = 0;
  sb->qemu_start_time = 0;
  sb->qemu_uid = 0;
  if (sb->agent)
    agent_channel_drain (sb->agent);
  if (sb->console)
    console_log_drain (sb->console);
  g_hash_table_remove_all (sb->disks); /* they went with QEMU */
  remove_sockets (sb);
  release_network (sb);
  sandbox_remove_cgroup (sb);
  sandbox_save (sb);

  /* A clone that did not restore (or whose QEMU died restoring): cold. */
  if (sb->restore_from && !sb->thawed && sb->state == SANDBOX_BOOTING && !sb->deleting)
    {
      if (!sb->fall_back)
        {
          g_autofree char *log_path = g_build_filename (sb->dir, QEMU_LOG, NULL);
          g_autofree char *log_tail = log_file_tail (log_path, 300);
          sandbox_restore_fail (sb, "QEMU exited: %s", log_tail);
        }
      sb->fall_back = FALSE;
      g_clear_pointer (&sb->restore_from, g_free);
      if (sb->ram_fd >= 0)
        close (sb->ram_fd);
      sb->ram_fd = -1;
      g_clear_handle_id (&sb->grace_timer, g_source_remove);
      boot_qemu (sb);
      return;
    }

  if (sb->deleting)
    {
      set_state (sb, SANDBOX_STOPPED);
      finish_delete (sb);
      return;
    }
  if (sb->state == SANDBOX_STOPPING || (sb->stop_phase != STOP_NONE && sb->state == SANDBOX_FAILED))
    {
      if (sb->state == SANDBOX_STOPPING)
        set_state (sb, SANDBOX_STOPPED);
      g_autofree char *why = g_strdup_printf ("sandbox %s was stopped", sb->name);
      sandbox_processes_abort (sb, SANDBOX_ERROR_GONE, why);
      release_channels_later (sb);
      answer_stop_calls (sb);
      return;
    }
  g_autofree char *log_path = g_build_filename (sb->dir, QEMU_LOG, NULL);
  g_autofree char *log_tail = log_file_tail (log_path, 600);
  g_autofree char *tail = console_tail (sb);
  g_autofree char *how = status < 0 ? g_strdup ("status unknown: an earlier sandboxd started it")
                         : WIFSIGNALED (status)
                             ? g_strdup_printf ("killed by signal %d", WTERMSIG (status))
                             : g_strdup_printf ("exit status %d", WEXITSTATUS (status));
  sandbox_fail (sb, "QEMU exited unexpectedly (%s)%s%s%s", how, *log_tail ? ": " : "", log_tail,
                sb->state == SANDBOX_BOOTING ? tail : "");
}

static void
on_child_exit (GPid pid, int status, gpointer data)
{
  Sandbox *sb = data;
  sb->child_watch = 0;
  g_spawn_close_pid (pid);
  sandbox_qemu_exited (sb, status);
}

static gboolean
on_boot_timeout (gpointer data)
{
  Sandbox *sb = data;
  sb->boot_timer = 0;
  if (sb->restore_from && !sb->thawed)
    {
      sandbox_restore_fail (sb, "no hello within %u s", sb->ctx->boot_timeout_s);
      return G_SOURCE_REMOVE;
    }
  g_autofree char *tail = console_tail (sb);
  sandbox_fail (sb, "the guest agent did not say hello within %u s%s", sb->ctx->boot_timeout_s,
                tail);
  return G_SOURCE_REMOVE;
}

static void
on_hello (Sandbox *sb, JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  gint64 protocol = 0;
  const char *release = "";
  if (!json_field_int (msg, "protocol", TRUE, 0, G_MAXINT32, &protocol, &error)
      || !json_field_string (msg, "kernel_release", FALSE, &release, &error))
    {
      sandbox_fail (sb, "the guest agent sent a bad hello: %s", error->message);
      return;
    }
  if (protocol != AGENT_PROTOCOL_VERSION)
    {
      sandbox_fail (sb, "the guest agent speaks protocol %" G_GINT64_FORMAT ", not %d", protocol,
                    AGENT_PROTOCOL_VERSION);
      return;
    }
  if (sb->state != SANDBOX_BOOTING)
    return; /* a new session of a running guest */
  /* A clone's first session is the template's, stale: its own starts with
   * the hello that answers thaw. */
  if (sb->restore_from && !json_object_get_boolean_member_with_default (msg, "thawed", FALSE))
    return;
  g_free (sb->kernel_release);
  sb->kernel_release = guest_text (release);
  if (sb->snapshot_to)
    {
      sandbox_snapshot_start (sb);
      return;
    }
  if (sb->restore_from)
    {
      sb->thawed = TRUE;
      sandbox_template_clear (sb);
      sb->restore_ms = (g_get_monotonic_time () - sb->start_us) / 1000;
    }
  if (!sandbox_containers_start_boot (sb))
    sandbox_boot_finished (sb);
}

void
sandbox_boot_finished (Sandbox *sb)
{
  /* Running means controllable: a stop right after must be able to press
   * the power button, which needs QMP (its greeting can come after the
   * guest's hello). on_qmp_ready finishes the boot then. */
  if (sb->qmp != NULL && !qmp_client_is_connected (sb->qmp))
    {
      sb->boot_waits_for_qmp = TRUE;
      return;
    }
  sb->boot_waits_for_qmp = FALSE;
  sb->boot_ms = (g_get_monotonic_time () - sb->start_us) / 1000;
  set_state (sb, SANDBOX_RUNNING);
  g_clear_handle_id (&sb->boot_timer, g_source_remove);
  g_message ("sandbox %s running (%s, kernel %s%s) after %" G_GINT64_FORMAT " ms", sb->name,
             accel_to_string (sb->ctx->accel), sb->kernel_release,
             sb->thawed ? ", a template's clone" : "", sb->boot_ms);
  answer_start_calls (sb);
  sandbox_auto_remove_check (sb);
}

/* After the first process's output was read, the client that ran it
 * usually deletes the sandbox itself at once: give it this long first. */
#define AUTO_REMOVE_READ_DELAY_S 2

static gboolean
on_auto_remove (gpointer data)
{
  Sandbox *sb = data;
  sb->auto_remove_timer = 0;
  g_message ("sandbox %s: removing it (auto_remove)", sb->name);
  sandbox_delete_async (sb, NULL, NULL);
  return G_SOURCE_REMOVE;
}

void
sandbox_auto_remove_check (Sandbox *sb)
{
  if (!sb->auto_remove || sb->deleting || sb->state != SANDBOX_RUNNING || sb->resuming)
    return;
  gboolean done = FALSE;
  SandboxProcess *first = sandbox_first_process (sb, &done);
  if (first && !first->exited)
    {
      g_clear_handle_id (&sb->auto_remove_timer, g_source_remove);
      return;
    }
  guint delay_s = done ? AUTO_REMOVE_READ_DELAY_S : sb->ctx->auto_remove_grace_s;
  gint64 at = g_get_monotonic_time () + (gint64) delay_s * G_USEC_PER_SEC;
  if (sb->auto_remove_timer && sb->auto_remove_at <= at)
    return; /* due sooner already */
  g_clear_handle_id (&sb->auto_remove_timer, g_source_remove);
  sb->auto_remove_at = at;
  sb->auto_remove_timer = g_timeout_add_seconds (delay_s, on_auto_remove, sb);
}

static void
on_agent_control (JsonObject *msg, gpointer data)
{
  Sandbox *sb = data;
  const char *type = json_object_get_string_member (msg, "type");
  if (g_str_equal (type, "hello"))
    on_hello (sb, msg);
  else if (g_str_equal (type, "stats"))
    answer_stats_calls (sb, msg);
  else if (g_str_has_prefix (type, "container-"))
    sandbox_container_control (sb, type, msg);
  else if (g_str_equal (type, "frozen"))
    sandbox_snapshot_frozen (sb);
  else
    sandbox_process_control (sb, type, msg);
}

static void
on_agent_data (guint32 stream, AgentFrameType type, const guint8 *bytes, gsize len, gboolean eof,
               gpointer data)
{
  sandbox_process_data (data, stream, type == AGENT_FRAME_STDERR, bytes, len, eof);
}

static void
on_agent_closed (const GError *reason, gpointer data)
{
  Sandbox *sb = data;
  /* pid 0: QEMU is gone and its exit, being handled, is the reason. */
  if (sb->deleting || sb->state == SANDBOX_STOPPING || sb->pid <= 0)
    return;
  if (g_error_matches (reason, AGENT_PROTOCOL_ERROR, 0))
    sandbox_fail (sb, "%s", reason->message);
  else
    fail_unless_qemu_exits (sb, reason->message);
}

static const AgentChannelCallbacks agent_callbacks = {
  .control = on_agent_control,
  .data = on_agent_data,
  .closed = on_agent_closed,
};

static void
on_qmp_status (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  if (error)
    g_message ("sandbox %s: query-status: %s", sb->name, error->message);
}

static void
on_qmp_ready (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  if (error)
    {
      g_autofree char *why = g_strdup_printf ("QMP: %s", error->message);
      if (!sb->deleting && error->code == QMP_ERROR_PROTOCOL)
        sandbox_fail (sb, "%s", why);
      else if (!sb->deleting)
        fail_unless_qemu_exits (sb, why);
      return;
    }
  qemu_monitor_query_status (qmp, &(QemuReply){ QMP_TIMEOUT_MS, on_qmp_status, sb });
  if (sb->restore_from && !sb->thawed && sb->state == SANDBOX_BOOTING)
    sandbox_restore_start (sb);
  if (sb->boot_waits_for_qmp && sb->state == SANDBOX_BOOTING)
    sandbox_boot_finished (sb);
}

static void
on_device_deleted (const char *device, gpointer data)
{
  sandbox_disk_device_deleted (data, device);
}

static void
on_shutdown_event (const char *reason, gpointer data)
{
  Sandbox *sb = data;
  g_message ("sandbox %s: QEMU is shutting down (%s)", sb->name, reason);
}

static void
on_guest_panicked (gpointer data)
{
  sandbox_fail (data, "the guest kernel panicked");
}

static const QemuEvents qemu_events = {
  .device_deleted = on_device_deleted,
  .shutdown = on_shutdown_event,
  .panicked = on_guest_panicked,
};

static void
on_qmp_closed (QmpClient *qmp, const GError *reason, gpointer data)
{
  /* QEMU going away is reported by its child watch, with its exit status. */
}

/* The lowest uid of the policy's range that no account and no process of
 * ours (a QEMU, a network helper) has; 0 when the policy has no range. */
static gboolean
allocate_uid (Sandbox *sb, guint not_this, guint *out, GError **error)
{
  const Policy *p = sb->policy;
  *out = 0;
  for (guint i = 0; i < p->uid_count; i++)
    {
      guint uid = p->uid_first + i;
      gboolean taken = uid == not_this || getpwuid (uid) != NULL;
      GHashTableIter it;
      gpointer value;
      g_hash_table_iter_init (&it, sb->ctx->sandboxes);
      while (!taken && g_hash_table_iter_next (&it, NULL, &value))
        {
          Sandbox *other = value;
          taken = other != sb
                  && (other->qemu_uid == uid
                      || (other->network && other->network->helper_uid == uid));
        }
      for (guint j = 0; !taken && sb->ctx->hidden && j < sb->ctx->hidden->len; j++)
        {
          Sandbox *other = sb->ctx->hidden->pdata[j];
          taken = other != sb && other->qemu_uid == uid;
        }
      if (!taken)
        {
          *out = uid;
          return TRUE;
        }
    }
  if (p->uid_count == 0)
    return TRUE;
  g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_LIMIT,
               "policy %s: all %u uids of its range are in use", p->name, p->uid_count);
  return FALSE;
}

/* The user network's helper, on its end of the socketpair: its own uid
 * (or nobody's, without a range), the policy user's group. */
static gboolean
start_network_helper (Sandbox *sb, int helper_fd, GError **error)
{
  guint uid = 0;
  if (!allocate_uid (sb, sb->qemu_uid, &uid, error))
    return FALSE;
  const struct passwd *pw = sb->policy->user ? getpwnam (sb->policy->user) : NULL;
  g_autofree char *log_path = g_build_filename (sb->dir, NETWORK_LOG, NULL);
  g_autofree char *root = g_build_filename (sb->dir, "net-root", NULL);
  NetworkHelperSpec spec = {
    .helper = sb->ctx->net_helper,
    .root = root,
    .log_path = log_path,
    .cgroups = sb->ctx->cgroups,
    .cgroup = sb->cgroup,
    .uid = uid ? uid : 65534,
    .gid = pw ? pw->pw_gid : 65534,
  };
  return network_user_start (sb->network, &spec, helper_fd, error);
}

/* QEMU's process exists and waits to exec: saved before it runs, so a
 * sandboxd killed at any instant from here on leaves a state.json that
 * names it (its pid and start time, which execve does not change). */
static void
on_qemu_started (GPid pid, gpointer data)
{
  Sandbox *sb = data;
  g_autoptr (GError) error = NULL;
  sb->pid = pid;
  sb->qemu_start_time = proc_stat_start_time (pid);
  sb->start_real_us = g_get_real_time ();
  if (!sandbox_save_now (sb, &error))
    g_warning ("sandbox %s: cannot save its state: %s", sb->name, error->message);
}

void
sandbox_start_async (Sandbox *sb, const SandboxContainerConfig *container,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  SandboxContext *ctx = sb->ctx;
  sb->start_calls = g_list_append (sb->start_calls, g_task_new (NULL, NULL, callback, user_data));
  if (container)
    sandbox_containers_register (sb, container);
  /* A clone of its shape's template when there is one (with a network,
   * of a template with a NIC); none with volumes: their file servers map
   * guest RAM, and a clone's is a private copy of the template's. */
  if (sb->snapshot_to == NULL && sb->restore_from == NULL && ctx->template_find
      && sb->volumes->len == 0)
    sb->restore_from = ctx->template_find (ctx, sb, &sb->ram_fd);
  /* A cold boot takes a slot, or waits for one. */
  if (sb->restore_from == NULL && ctx->boot_slots && ctx->boots >= ctx->boot_slots)
    {
      if (ctx->boot_queue == NULL)
        ctx->boot_queue = g_queue_new ();
      g_queue_push_tail (ctx->boot_queue, sb);
      sb->boot_queued = TRUE;
      g_message ("sandbox %s waits for a boot slot (%u booting, %u waiting)", sb->name, ctx->boots,
                 g_queue_get_length (ctx->boot_queue));
      return;
    }
  begin_boot (sb);
}

static void
begin_boot (Sandbox *sb)
{
  if (sb->restore_from == NULL)
    {
      sb->boot_slot = TRUE;
      sb->ctx->boots++;
    }
  set_state (sb, SANDBOX_BOOTING);
  sb->start_us = g_get_monotonic_time ();
  boot_qemu (sb);
}

static gboolean
start_queued (gpointer data)
{
  SandboxContext *ctx = data;
  ctx->boot_kick = 0;
  while (!g_queue_is_empty (ctx->boot_queue)
         && (ctx->boot_slots == 0 || ctx->boots < ctx->boot_slots))
    {
      Sandbox *sb = g_queue_pop_head (ctx->boot_queue);
      sb->boot_queued = FALSE;
      if (ctx->boot_begun)
        ctx->boot_begun (ctx, sb);
      begin_boot (sb);
    }
  return G_SOURCE_REMOVE;
}

/* A stop, kill or delete of a sandbox still waiting for its boot: it
 * never ran. */
static void
cancel_queued_boot (Sandbox *sb, const char *why)
{
  if (!sb->boot_queued)
    return;
  release_boot_slot (sb);
  g_free (sb->error);
  sb->error = g_strdup (why);
  set_state (sb, SANDBOX_STOPPED);
  answer_start_calls (sb);
}

void
sandbox_adopt_async (Sandbox *sb, const SandboxConfig *config,
                     const SandboxContainerConfig *container, GAsyncReadyCallback callback,
                     gpointer user_data)
{
  /* Its directory where a sandbox's is (QEMU's sockets move with it). */
  g_autofree char *dir = g_build_filename (sb->ctx->runtime_dir, "sb", sb->id, NULL);
  if (rename (sb->dir, dir) == 0)
    {
      g_free (sb->dir);
      sb->dir = g_steal_pointer (&dir);
    }
  sb->hidden = FALSE;
  sb->warm = TRUE;
  g_date_time_unref (sb->created);
  sb->created = g_date_time_new_now_utc ();
  if (config->name)
    {
      g_free (sb->name);
      sb->name = g_strdup (config->name);
    }
  g_free (sb->tenant);
  sb->tenant = g_strdup (config->tenant);
  g_free (sb->kernel_name);
  sb->kernel_name = g_strdup (config->kernel_name);
  sb->delete_on_failure = config->delete_on_failure || config->auto_remove;
  sb->auto_remove = config->auto_remove;
  sb->start_calls = g_list_append (sb->start_calls, g_task_new (NULL, NULL, callback, user_data));
  sb->thawed = FALSE;
  sb->start_us = g_get_monotonic_time ();
  set_state (sb, SANDBOX_BOOTING);
  if (container)
    sandbox_containers_register (sb, container);
  sandbox_save (sb);
  /* Its own hostname, entropy and clock; its hello goes on as a clone's. */
  sandbox_restore_thaw (sb);
}

/* QEMU, cold or as a clone (restore_from); again, cold, after a clone
 * failed to restore. */
static void
boot_qemu (Sandbox *sb)
{
  g_autoptr (GError) error = NULL;
  SandboxContext *d = sb->ctx;
  g_clear_handle_id (&sb->boot_timer, g_source_remove);
  if (!allocate_uid (sb, 0, &sb->qemu_uid, &error))
    {
      sandbox_fail (sb, "%s", error->message);
      return;
    }
  QemuConfig cfg = { .qemu = d->qemu,
                     .cgroup = sb->cgroup,
                     .kvm = d->accel == ACCEL_KVM,
                     .tsc_khz = d->tsc_khz,
                     .tcg_cache_mb = d->tcg_cache_mb,
                     .id = sb->id,
                     .dir = sb->dir,
                     .memory_mb = sb->memory_mb,
                     .cpus = sb->cpus,
                     .pids = sb->pids,
                     .policy = sb->policy,
                     .uid = sb->qemu_uid,
                     .hostname = sb->name,
                     .label = sb->dir,
                     .kernel = sb->kernel_path ? sb->kernel_path : d->kernel,
                     .initramfs = sb->kernel_path ? sb->initramfs_path : d->initramfs,
                     .incoming = sb->restore_from != NULL,
                     .template_build = sb->snapshot_to != NULL,
                     .ram_fd = sb->ram_fd > 2 ? sb->ram_fd : 0,
                     .ram_shared = sb->snapshot_to != NULL };
  SandboxBootDisk boot = { 0 };
  /* A clone's first container is hot-plugged after the restore. */
  if (sb->containers->len && !sb->restore_from)
    {
      cfg.disk_fd = sandbox_containers_boot_disk (sb, &boot, &error);
      if (cfg.disk_fd < 0)
        {
          sandbox_fail (sb, "%s", error->message);
          return;
        }
      cfg.disk_node = boot.node;
      cfg.disk_fdset = boot.fdset;
      cfg.disk_scsi_id = boot.scsi_id;
    }
  cfg.started = on_qemu_started;
  cfg.started_data = sb;
  int helper_fd = -1;
  g_autofree char *net_args = NULL;
  if (sb->network)
    {
      cfg.net_tap = sb->network->mode == NETWORK_NS;
      cfg.net_fd = cfg.net_tap ? network_ns_prepare (sb->network, sb->id, &error)
                               : network_user_prepare (sb->network, &helper_fd, &error);
      net_args = network_kernel_args (sb->network);
      cfg.net_mac = sb->network->mac;
      cfg.net_args = net_args;
      if (cfg.net_fd < 0)
        {
          if (cfg.disk_node)
            close (cfg.disk_fd);
          sandbox_fail (sb, "network: %s", error->message);
          return;
        }
    }
  else if (sb->template_nic)
    {
      /* A template's NIC: the same device a clone's network has, on a
       * socket that leads nowhere; its driver loaded, eth0 left down. */
      int sv[2];
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        {
          sandbox_fail (sb, "socketpair: %s", g_strerror (errno));
          return;
        }
      if (sb->nic_peer >= 0)
        close (sb->nic_peer);
      sb->nic_peer = sv[1];
      cfg.net_fd = sv[0];
      cfg.net_args = " sandboxd.nic=1";
    }
  /* Volumes: QEMU's ends of their sockets on its command line. */
  g_autoptr (GArray) listeners = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GPtrArray) tags = g_ptr_array_new ();
  g_autoptr (GArray) qemu_fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *volume_args = volumes_kernel_args (sb->volumes);
  gboolean prepared = sandbox_volumes_prepare (sb, listeners, &error);
  for (guint i = 0; prepared && i < sb->volumes->len; i++)
    {
      Volume *v = sb->volumes->pdata[i];
      g_ptr_array_add (tags, v->tag);
      g_array_append_val (qemu_fds, v->qemu_fd);
    }
  cfg.n_volumes = sb->volumes->len;
  cfg.volume_tags = (const char *const *) tags->pdata;
  cfg.volume_fds = (const int *) qemu_fds->data;
  cfg.volume_args = volume_args;
  GPid pid = 0;
  gboolean spawned = prepared && qemu_spawn (d, &cfg, &pid, &error);
  if (cfg.disk_node)
    close (cfg.disk_fd);
  if (cfg.net_fd > 0)
    close (cfg.net_fd);
  if (!spawned)
    {
      if (helper_fd >= 0)
        close (helper_fd);
      sandbox_volumes_close (sb, listeners);
      sb->pid = 0; /* reaped already */
      sandbox_fail (sb, "cannot start QEMU: %s", error->message);
      return;
    }
  if (sb->volumes->len)
    {
      gboolean ok = sandbox_volumes_start (sb, listeners, &error);
      sandbox_save (sb);
      if (!ok)
        {
          sb->child_watch = g_child_watch_add (sb->pid, on_child_exit, sb);
          sandbox_fail (sb, "%s", error->message);
          if (helper_fd >= 0)
            close (helper_fd);
          return;
        }
    }
  if (helper_fd >= 0)
    {
      gboolean ok = start_network_helper (sb, helper_fd, &error);
      close (helper_fd);
      sandbox_save (sb);
      if (!ok)
        {
          sb->child_watch = g_child_watch_add (sb->pid, on_child_exit, sb);
          sandbox_fail (sb, "%s", error->message);
          return;
        }
    }
  sb->child_watch = g_child_watch_add (sb->pid, on_child_exit, sb);
  sb->boot_timer = g_timeout_add_seconds (d->boot_timeout_s, on_boot_timeout, sb);
  sandbox_connect (sb);
}

void
sandbox_connect (Sandbox *sb)
{

  g_autofree char *qmp_path = g_build_filename (sb->dir, QEMU_QMP_SOCKET, NULL);
  release_channels (sb);
  sb->qmp = qmp_client_new (qmp_path);
  qmp_client_set_closed_handler (sb->qmp, on_qmp_closed, sb);
  qemu_monitor_watch_events (sb->qmp, &qemu_events, sb);
  qmp_client_set_process (sb->qmp, sb->pid);
  qmp_client_connect_async (sb->qmp, CONNECT_TIMEOUT_MS, on_qmp_ready, sb);

  g_autofree char *agent_path = g_build_filename (sb->dir, QEMU_AGENT_SOCKET, NULL);
  sb->agent = agent_channel_new (agent_path, CONNECT_TIMEOUT_MS, &agent_callbacks, sb);
  agent_channel_set_peer (sb->agent, sb->pid);
  if (sb->resuming)
    agent_channel_resync (sb->agent);

  g_autofree char *console_socket = g_build_filename (sb->dir, QEMU_CONSOLE_SOCKET, NULL);
  g_autofree char *console_log = g_build_filename (sb->dir, SANDBOX_CONSOLE_LOG, NULL);
  sb->console = console_log_new (console_socket, sb->pid, console_log, SANDBOX_CONSOLE_MAX_BYTES);
}

static void on_quit_reply (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data);

static gboolean
on_stop_timer (gpointer data)
{
  Sandbox *sb = data;
  sb->stop_timer = 0;
  if (sb->pid <= 0)
    return G_SOURCE_REMOVE;
  if (sb->stop_phase == STOP_POWERDOWN)
    {
      g_message ("sandbox %s: the guest did not power off in time; quitting QEMU", sb->name);
      stop_escalate (sb);
    }
  else
    {
      g_message ("sandbox %s: QEMU did not quit within %d ms; killing it", sb->name, STOP_GRACE_MS);
      sandbox_signal_qemu (sb, SIGKILL);
    }
  return G_SOURCE_REMOVE;
}

/* The next step of a stop: quit over QMP, then SIGKILL after a grace. */
static void
stop_escalate (Sandbox *sb)
{
  g_clear_handle_id (&sb->stop_timer, g_source_remove);
  sb->stop_phase = STOP_QUIT;
  if (sb->qmp == NULL || !qmp_client_is_connected (sb->qmp))
    {
      sandbox_signal_qemu (sb, SIGKILL);
      return;
    }
  sb->stop_timer = g_timeout_add (STOP_GRACE_MS, on_stop_timer, sb);
  qemu_monitor_quit (sb->qmp, &(QemuReply){ QMP_TIMEOUT_MS, on_quit_reply, sb });
}

static void
on_quit_reply (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  /* QEMU closes the socket while answering quit; either way its exit is
   * what ends the stop. If QMP is unusable, do not wait for the grace. */
  if (error && error->code != QMP_ERROR_CLOSED && sb->pid > 0)
    sandbox_signal_qemu (sb, SIGKILL);
}

static void
on_powerdown_reply (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  if (error && sb->pid > 0 && sb->stop_phase == STOP_POWERDOWN)
    stop_escalate (sb);
}

/* Ends QEMU: with @grace_ms > 0 and a running guest, first asks the guest
 * to power off (ACPI power button: the agent stops its processes). */
static void
stop_qemu (Sandbox *sb, guint grace_ms)
{
  if (sb->stop_phase != STOP_NONE)
    {
      if (grace_ms == 0 && sb->stop_phase == STOP_POWERDOWN)
        stop_escalate (sb); /* a forced stop overtakes a graceful one */
      return;
    }
  if (grace_ms == 0 || sb->qmp == NULL || !qmp_client_is_connected (sb->qmp))
    {
      stop_escalate (sb);
      return;
    }
  sb->stop_phase = STOP_POWERDOWN;
  sb->stop_timer = g_timeout_add (grace_ms, on_stop_timer, sb);
  qemu_monitor_system_powerdown (sb->qmp, &(QemuReply){ QMP_TIMEOUT_MS, on_powerdown_reply, sb });
}

void
sandbox_stop_async (Sandbox *sb, guint timeout_s, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  cancel_queued_boot (sb, "it was stopped before its boot began");
  if (sb->pid <= 0 || sb->deleting)
    {
      sandbox_reply_json (task, sandbox_to_json (sb));
      return;
    }
  sb->stop_calls = g_list_append (sb->stop_calls, task);
  /* Only a guest whose agent runs can power off by itself. */
  stop_qemu (sb, sb->state == SANDBOX_RUNNING ? timeout_s * 1000 : 0);
  if (sb->state != SANDBOX_FAILED)
    set_state (sb, SANDBOX_STOPPING);
  g_clear_handle_id (&sb->boot_timer, g_source_remove);
  answer_start_calls (sb);
}

void
sandbox_kill_async (Sandbox *sb, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  cancel_queued_boot (sb, "it was killed before its boot began");
  if (sb->pid <= 0 || sb->deleting)
    {
      sandbox_reply_json (task, sandbox_to_json (sb));
      return;
    }
  sb->stop_calls = g_list_append (sb->stop_calls, task);
  g_clear_handle_id (&sb->stop_timer, g_source_remove);
  g_clear_handle_id (&sb->boot_timer, g_source_remove);
  sb->stop_phase = STOP_QUIT;
  if (sb->state != SANDBOX_FAILED)
    set_state (sb, SANDBOX_STOPPING);
  answer_start_calls (sb);
  sandbox_signal_qemu (sb, SIGKILL);
}

/* Reads a /proc/PID file; NULL when the process is gone. */
static char *
read_proc (GPid pid, const char *file)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, file);
  char *contents = NULL;
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

static gint64
proc_rss_bytes (GPid pid)
{
  g_autofree char *status = read_proc (pid, "status");
  const char *rss = status ? strstr (status, "\nVmRSS:") : NULL;
  return rss ? g_ascii_strtoll (rss + strlen ("\nVmRSS:"), NULL, 10) * 1024 : -1;
}

static JsonObject *
host_stats (Sandbox *sb)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "id", sb->id);
  json_object_set_string_member (o, "name", sb->name);
  json_object_set_string_member (o, "state", sandbox_state_to_string (sb->state));
  json_object_set_int_member (o, "memory_mb", sb->memory_mb);
  guint running = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, sb->procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    running += !((SandboxProcess *) value)->exited;
  json_object_set_int_member (o, "processes", running);
  if (sb->pid <= 0)
    return o;
  JsonObject *cg = sb->ctx->cgroups ? cgroup_stats (sb->ctx->cgroups, sb->cgroup) : NULL;
  if (cg)
    json_object_set_object_member (o, "cgroup", cg);

  json_object_set_int_member (o, "uptime_ms", (g_get_monotonic_time () - sb->start_us) / 1000);
  gint64 rss = proc_rss_bytes (sb->pid);
  if (rss >= 0)
    json_object_set_int_member (o, "qemu_rss_bytes", rss);
  /* The network helper is in the same cgroup, so in its numbers too. */
  if (sb->network && sb->network->helper_pid > 0
      && (rss = proc_rss_bytes (sb->network->helper_pid)) >= 0)
    json_object_set_int_member (o, "network_helper_rss_bytes", rss);
  /* Fields 14 and 15 of stat (utime, stime), counted after the command's ")". */
  g_autofree char *stat = read_proc (sb->pid, "stat");
  const char *p = stat ? strrchr (stat, ')') : NULL;
  if (p)
    {
      g_auto (GStrv) f = g_strsplit (p + 2, " ", 0);
      if (g_strv_length (f) > 12)
        {
          gint64 ticks = g_ascii_strtoll (f[11], NULL, 10) + g_ascii_strtoll (f[12], NULL, 10);
          json_object_set_int_member (o, "qemu_cpu_ms", ticks * 1000 / sysconf (_SC_CLK_TCK));
        }
    }
  return o;
}

/* The guest's answer (or NULL: none came) completes the waiting calls. */
static void
answer_stats_calls (Sandbox *sb, JsonObject *guest)
{
  g_clear_handle_id (&sb->stats_timer, g_source_remove);
  GList *calls = g_steal_pointer (&sb->stats_calls);
  for (GList *l = calls; l; l = l->next)
    {
      JsonObject *res = host_stats (sb);
      if (guest)
        {
          JsonObject *g = json_object_new ();
          const char *keys[] = { "memory_total_kb", "memory_available_kb", "load1",    "load5",
                                 "load15",          "uptime_ms",           "processes" };
          for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
            {
              JsonNode *v = json_object_get_member (guest, keys[i]);
              if (v && JSON_NODE_HOLDS_VALUE (v))
                json_object_set_member (g, keys[i], json_node_copy (v));
            }
          json_object_set_object_member (res, "guest", g);
        }
      sandbox_reply_json (l->data, res);
    }
  g_list_free (calls);
}

static gboolean
on_stats_timeout (gpointer data)
{
  Sandbox *sb = data;
  sb->stats_timer = 0;
  answer_stats_calls (sb, NULL); /* the guest is busy: host numbers only */
  return G_SOURCE_REMOVE;
}

void
sandbox_stats_async (Sandbox *sb, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  if (sb->state != SANDBOX_RUNNING || sb->agent == NULL)
    {
      sandbox_reply_json (task, host_stats (sb));
      return;
    }
  sb->stats_calls = g_list_append (sb->stats_calls, task);
  if (sb->stats_timer)
    return; /* a request is already out */
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "stats");
  if (!agent_channel_send_control (sb->agent, msg, NULL))
    {
      answer_stats_calls (sb, NULL);
      return;
    }
  sb->stats_timer = g_timeout_add (STATS_TIMEOUT_MS, on_stats_timeout, sb);
}

void
sandbox_delete_async (Sandbox *sb, GAsyncReadyCallback callback, gpointer user_data)
{
  sb->delete_calls = g_list_append (sb->delete_calls, g_task_new (NULL, NULL, callback, user_data));
  if (sb->deleting)
    return;
  sb->deleting = TRUE;
  cancel_queued_boot (sb, "it was deleted before its boot began");
  g_clear_handle_id (&sb->boot_timer, g_source_remove);
  g_clear_handle_id (&sb->auto_remove_timer, g_source_remove);

  if (sb->pid <= 0)
    {
      finish_delete (sb);
      return;
    }
  if (sb->state != SANDBOX_FAILED)
    set_state (sb, SANDBOX_STOPPING);
  answer_start_calls (sb);
  stop_qemu (sb, 0);
}

/* A disk a container's root is on goes with the container, not alone. */
void
sandbox_detach_disk_async (Sandbox *sb, const char *disk_id, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  const char *container = sandbox_container_of_disk (sb, disk_id);
  if (container)
    sandbox_reply_error (
        task, SANDBOX_ERROR_STATE,
        "%s of sandbox %s holds container %s's root or a mount: remove the container", disk_id,
        sb->name, container);
  else if (sb->state != SANDBOX_RUNNING)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "sandbox %s is %s, not running", sb->name,
                         sandbox_state_to_string (sb->state));
  else if (!sandbox_disk_detach (sb, disk_id, sandbox_disk_answer_task, task, &error))
    sandbox_reply_gerror (task, error);
}
