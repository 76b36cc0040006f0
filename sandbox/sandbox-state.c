/* sandbox-state.c — a sandbox's record on disk, so that a restarted
 * sandboxd finds the sandboxes it owned (see sandbox_load and
 * sandbox_reattach). DIR/sb/<id>/state.json holds what cannot be asked of
 * QEMU or the guest again: name, settings, QEMU's pid, processes and their
 * exit statuses, attached disks. Output stays in proc/<n>.stdout|stderr.
 */
#include "sandbox-private.h"

#include "json-fields.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STATE_FILE "state.json"
#define STATE_VERSION 1

static JsonObject *
process_state (SandboxProcess *proc)
{
  JsonObject *o = json_object_new ();
  json_object_set_int_member (o, "id", proc->id);
  json_field_set_strv (o, "args", proc->args);
  if (proc->container)
    json_object_set_string_member (o, "container", proc->container);
  json_object_set_int_member (o, "pid", proc->guest_pid);
  json_object_set_boolean_member (o, "exited", proc->exited);
  if (proc->exited)
    {
      json_object_set_int_member (o, "exit_code", proc->exit_code);
      json_object_set_int_member (o, "signal", proc->signal);
    }
  json_object_set_boolean_member (o, "stdin", proc->has_stdin);
  json_object_set_boolean_member (o, "stdin_closed", proc->stdin_closed);
  if (proc->tty)
    json_object_set_boolean_member (o, "tty", TRUE);
  return o;
}

JsonObject *
sandbox_settings_json (Sandbox *sb)
{
  JsonObject *o = json_object_new ();
  g_autofree char *created = g_date_time_format_iso8601 (sb->created);
  json_object_set_string_member (o, "id", sb->id);
  json_object_set_string_member (o, "name", sb->name);
  if (sb->tenant)
    json_object_set_string_member (o, "tenant", sb->tenant);
  json_object_set_string_member (o, "state", sandbox_state_to_string (sb->state));
  if (sb->error)
    json_object_set_string_member (o, "error", sb->error);
  json_object_set_string_member (o, "created", created);
  json_object_set_int_member (o, "memory_mb", sb->memory_mb);
  json_object_set_int_member (o, "cpus", sb->cpus);
  if (sb->policy)
    json_object_set_string_member (o, "policy", sb->policy->name);
  if (sb->kernel_name)
    json_object_set_string_member (o, "kernel", sb->kernel_name);
  if (sb->auto_remove)
    json_object_set_boolean_member (o, "auto_remove", TRUE);
  if (sb->cgroup[0] == '/')
    json_object_set_string_member (o, "cgroup_path", sb->cgroup);
  return o;
}

static JsonObject *
sandbox_state (Sandbox *sb)
{
  JsonObject *o = sandbox_settings_json (sb);
  json_object_set_int_member (o, "version", STATE_VERSION);
  json_object_set_int_member (o, "pids", sb->pids);
  if (sb->kernel_release)
    json_object_set_string_member (o, "kernel_release", sb->kernel_release);
  if (sb->kernel_path)
    {
      json_object_set_string_member (o, "kernel_path", sb->kernel_path);
      json_object_set_string_member (o, "initramfs_path", sb->initramfs_path);
    }
  json_object_set_int_member (o, "boot_ms", sb->boot_ms);
  json_object_set_int_member (o, "qemu_pid", sb->pid);
  json_object_set_int_member (o, "qemu_start_time", (gint64) sb->qemu_start_time);
  json_object_set_int_member (o, "qemu_uid", sb->qemu_uid);
  if (sb->network)
    json_object_set_object_member (o, "network", network_to_json (sb->network));
  if (sb->volumes->len)
    json_object_set_array_member (o, "volumes", volumes_to_json (sb->volumes));
  if (sb->paused)
    json_object_set_boolean_member (o, "paused", TRUE);
  json_object_set_int_member (o, "start_real_us", sb->start_real_us);
  json_object_set_int_member (o, "next_process", sb->next_proc);

  JsonArray *procs = json_array_new ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, sb->procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    json_array_add_object_element (procs, process_state (value));
  json_object_set_array_member (o, "processes", procs);

  json_object_set_array_member (o, "disks", sandbox_disks_to_json (sb, TRUE));
  json_object_set_array_member (o, "containers", sandbox_containers_to_json (sb, TRUE));
  return o;
}

gboolean
sandbox_save_now (Sandbox *sb, GError **error)
{
  g_clear_handle_id (&sb->save_idle, g_source_remove);
  if (sb->hidden || (sb->deleting && sb->pid <= 0))
    return TRUE; /* a template's build, or its directory is going */
  g_autoptr (JsonObject) state = sandbox_state (sb);
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), state);
  g_autofree char *text = json_to_string (node, FALSE);
  g_autofree char *path = g_build_filename (sb->dir, STATE_FILE, NULL);
  g_autofree char *tmp = g_strconcat (path, ".new", NULL);
  /* A new file renamed over the old: whoever reads it (the next sandboxd)
   * sees one or the other whole, however this one ends. Not synced: the
   * state describes QEMU processes, which a crash of the host ends too, so
   * it must outlive sandboxd, not the machine; and an fsync (two, with the
   * directory's) cost milliseconds of the main loop at every process start
   * on a disk-backed runtime dir. */
  if (!g_file_set_contents_full (tmp, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, error))
    return FALSE;
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "rename %s: %s", tmp,
                   g_strerror (e));
      unlink (tmp);
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_save_idle (gpointer data)
{
  Sandbox *sb = data;
  g_autoptr (GError) error = NULL;
  sb->save_idle = 0;
  if (!sandbox_save_now (sb, &error))
    g_warning ("sandbox %s: cannot save its state: %s", sb->name, error->message);
  return G_SOURCE_REMOVE;
}

void
sandbox_save (Sandbox *sb)
{
  if (sb->hidden)
    return;
  if (sb->save_idle == 0)
    sb->save_idle = g_idle_add (on_save_idle, sb);
}

static gboolean
state_from_string (const char *s, SandboxState *state)
{
  for (SandboxState st = SANDBOX_CREATING; st <= SANDBOX_FAILED; st++)
    if (g_str_equal (s, sandbox_state_to_string (st)))
      {
        *state = st;
        return TRUE;
      }
  return FALSE;
}

static gboolean
restore_process (Sandbox *sb, JsonObject *o, GError **error)
{
  gint64 id = 0, pid = 0, exit_code = 0, sig = 0;
  gboolean exited = FALSE, has_stdin = FALSE, stdin_closed = TRUE, tty = FALSE;
  g_auto (GStrv) args = NULL;
  const char *container = NULL;
  if (!json_field_int (o, "id", TRUE, 1, G_MAXUINT32, &id, error)
      || !json_field_string (o, "container", FALSE, &container, error)
      || !json_field_strv (o, "args", TRUE, &args, error)
      || !json_field_int (o, "pid", TRUE, 0, G_MAXINT32, &pid, error)
      || !json_field_bool (o, "exited", TRUE, &exited, error)
      || !json_field_int (o, "exit_code", FALSE, -1, 255, &exit_code, error)
      || !json_field_int (o, "signal", FALSE, 0, 64, &sig, error)
      || !json_field_bool (o, "stdin", TRUE, &has_stdin, error)
      || !json_field_bool (o, "stdin_closed", TRUE, &stdin_closed, error)
      || !json_field_bool (o, "tty", FALSE, &tty, error))
    return FALSE;
  if (g_hash_table_contains (sb->procs, GUINT_TO_POINTER ((guint32) id)) || id >= sb->next_proc)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad process id %" G_GINT64_FORMAT,
                   id);
      return FALSE;
    }
  SandboxProcess *proc = sandbox_process_new (sb, (guint32) id, TRUE, error);
  if (proc == NULL)
    return FALSE;
  proc->args = g_steal_pointer (&args);
  proc->container = g_strdup (container);
  proc->guest_pid = pid;
  proc->has_stdin = has_stdin;
  proc->tty = tty;
  proc->stdin_closed = stdin_closed;
  proc->exited = exited;
  proc->exit_code = exit_code;
  proc->signal = sig;
  if (exited)
    {
      output_log_close (proc->out);
      output_log_close (proc->err);
    }
  g_hash_table_insert (sb->procs, GUINT_TO_POINTER (proc->id), proc);
  return TRUE;
}

static gboolean
restore (Sandbox *sb, JsonObject *o, GError **error)
{
  gint64 version = 0, memory_mb = 0, cpus = 0, boot_ms = 0, pid = 0, start_time = 0;
  gint64 start_real_us = 0, next_proc = 1;
  const char *id = NULL, *name = NULL, *tenant = NULL, *state = NULL, *err = NULL, *created = NULL;
  const char *release = NULL, *policy = NULL, *cgroup_path = NULL;
  const char *kernel = NULL, *kernel_path = NULL, *initramfs_path = NULL;
  gint64 pids = 0;
  gboolean auto_remove = FALSE, paused = FALSE;
  gint64 qemu_uid = 0;
  if (!json_field_int (o, "version", TRUE, STATE_VERSION, STATE_VERSION, &version, error)
      || !json_field_bool (o, "auto_remove", FALSE, &auto_remove, error)
      || !json_field_bool (o, "paused", FALSE, &paused, error)
      || !json_field_string (o, "id", TRUE, &id, error)
      || !json_field_string (o, "name", TRUE, &name, error)
      || !json_field_string (o, "tenant", FALSE, &tenant, error)
      || !json_field_string (o, "state", TRUE, &state, error)
      || !json_field_string (o, "error", FALSE, &err, error)
      || !json_field_string (o, "created", TRUE, &created, error)
      || !json_field_int (o, "memory_mb", TRUE, 1, G_MAXINT32, &memory_mb, error)
      || !json_field_int (o, "cpus", TRUE, 1, 1024, &cpus, error)
      || !json_field_int (o, "pids", TRUE, 0, 1 << 22, &pids, error)
      || !json_field_string (o, "policy", TRUE, &policy, error)
      || !json_field_string (o, "cgroup_path", FALSE, &cgroup_path, error)
      || !json_field_string (o, "kernel_release", FALSE, &release, error)
      || !json_field_string (o, "kernel", FALSE, &kernel, error)
      || !json_field_string (o, "kernel_path", FALSE, &kernel_path, error)
      || !json_field_string (o, "initramfs_path", kernel_path != NULL, &initramfs_path, error)
      || !json_field_int (o, "boot_ms", TRUE, 0, G_MAXINT64, &boot_ms, error)
      || !json_field_int (o, "qemu_pid", TRUE, 0, G_MAXINT32, &pid, error)
      || !json_field_int (o, "qemu_start_time", TRUE, 0, G_MAXINT64, &start_time, error)
      || !json_field_int (o, "qemu_uid", FALSE, 0, G_MAXINT32, &qemu_uid, error)
      || !json_field_int (o, "start_real_us", TRUE, 0, G_MAXINT64, &start_real_us, error)
      || !json_field_int (o, "next_process", TRUE, 1, G_MAXUINT32, &next_proc, error))
    return FALSE;
  GDateTime *when = g_date_time_new_from_iso8601 (created, NULL);
  if (!g_str_equal (id, sb->id) || !state_from_string (state, &sb->state) || when == NULL
      || (cgroup_path && (cgroup_path[0] != '/' || strstr (cgroup_path, ".."))))
    {
      if (when)
        g_date_time_unref (when);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "bad id, state, created or cgroup_path");
      return FALSE;
    }
  g_date_time_unref (sb->created);
  sb->created = when;
  sb->policy = g_hash_table_lookup (sb->ctx->policies, policy);
  if (sb->policy == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "its policy \"%s\" is gone", policy);
      return FALSE;
    }
  sb->pids = (guint) pids;
  sb->paused = paused;
  if (cgroup_path)
    {
      g_free (sb->cgroup);
      sb->cgroup = g_strdup (cgroup_path);
    }
  sb->auto_remove = sb->delete_on_failure = auto_remove;
  sb->tenant = g_strdup (tenant);
  g_free (sb->name);
  sb->name = g_strdup (name);
  sb->error = g_strdup (err);
  sb->memory_mb = (guint) memory_mb;
  sb->cpus = (guint) cpus;
  sb->kernel_release = g_strdup (release);
  sb->kernel_name = g_strdup (kernel);
  sb->kernel_path = g_strdup (kernel_path);
  sb->initramfs_path = g_strdup (initramfs_path);
  sb->boot_ms = boot_ms;
  sb->pid = (GPid) pid;
  sb->qemu_start_time = (guint64) start_time;
  sb->qemu_uid = (guint) qemu_uid;
  sb->start_real_us = start_real_us;
  sb->start_us = g_get_monotonic_time () - (g_get_real_time () - start_real_us);
  sb->next_proc = (guint32) next_proc;

  JsonNode *net = json_object_get_member (o, "network");
  if (net
      && (!JSON_NODE_HOLDS_OBJECT (net)
          || (sb->network = network_from_json (json_node_get_object (net), error)) == NULL))
    {
      if (error && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "network is not an object");
      return FALSE;
    }
  JsonNode *vn = json_object_get_member (o, "volumes");
  JsonArray *va = vn && JSON_NODE_HOLDS_ARRAY (vn) ? json_node_get_array (vn) : NULL;
  if (vn && va == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "volumes is not an array");
      return FALSE;
    }
  for (guint i = 0; va && i < json_array_get_length (va); i++)
    {
      JsonObject *vo = json_array_get_object_element (va, i);
      Volume *v = vo ? volume_from_json (vo, error) : NULL;
      if (v == NULL)
        {
          if (error && *error == NULL)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "volumes[%u] is not an object",
                         i);
          return FALSE;
        }
      g_ptr_array_add (sb->volumes, v);
    }
  JsonNode *procs = json_object_get_member (o, "processes");
  JsonNode *disks = json_object_get_member (o, "disks");
  if (procs == NULL || !JSON_NODE_HOLDS_ARRAY (procs) || disks == NULL
      || !JSON_NODE_HOLDS_ARRAY (disks))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "processes or disks missing");
      return FALSE;
    }
  JsonArray *a = json_node_get_array (procs);
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (!json_array_get_object_element (a, i)
        || !restore_process (sb, json_array_get_object_element (a, i), error))
      return FALSE;
  a = json_node_get_array (disks);
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (!json_array_get_object_element (a, i)
        || !sandbox_disk_restore (sb, json_array_get_object_element (a, i), error))
      return FALSE;
  /* Written since containers came; older files have none. */
  JsonNode *containers = json_object_get_member (o, "containers");
  a = containers && JSON_NODE_HOLDS_ARRAY (containers) ? json_node_get_array (containers) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    if (!json_array_get_object_element (a, i)
        || !sandbox_container_restore (sb, json_array_get_object_element (a, i), error))
      return FALSE;
  return TRUE;
}

gboolean
sandbox_state_load (Sandbox *sb, GError **error)
{
  g_autofree char *path = g_build_filename (sb->dir, STATE_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (g_file_get_contents (path, &text, NULL, error)
      && json_text_check_depth (text, -1, JSON_MAX_DEPTH, error)
      && json_parser_load_from_data (parser, text, -1, error))
    {
      JsonNode *root = json_parser_get_root (parser);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a JSON object");
      else if (restore (sb, json_node_get_object (root), error))
        return TRUE;
    }
  g_prefix_error (error, "%s: ", path);
  return FALSE;
}
