#include "sandbox-private.h"

#include "json-fields.h"

#include <errno.h>
#include <signal.h>

/* Output readers may ask for at most this much per call. */
#define READ_MAX_BYTES (1024 * 1024)
/* The guest hears how far its output is stored every this many bytes
 * (a quarter of its window, AGENT_STREAM_WINDOW), and at each exit. Each
 * ack is a JSON message the agent parses: at every 64 KiB they took two
 * thirds of its user time in a stream, and the stream was ~14 % slower. */
#define ACK_STEP (256 * 1024)
/* A guest that keeps to its windows stops within them of the output quota;
 * one that stores this much past it is failed all the same. */
#define OUTPUT_QUOTA_SLACK (32 * 1024 * 1024)
/* WriteStdin bytes of one process the guest has not written yet: past this,
 * a further WriteStdin is refused (the host's queue to a guest that does not
 * read must not grow without bound). */
#define STDIN_MAX_PENDING (4 * 1024 * 1024)

/* Exited processes kept, with their output, for ps, logs and wait; the
 * older ones are forgotten and their output removed, so that a sandbox
 * that runs one process after another never reaches MAX_PROCESSES, and its
 * state (saved at every start and exit) stays small. */
#define KEEP_EXITED 100

static void on_output_read (gpointer data);

SandboxProcess *
sandbox_process_new (Sandbox *sb, guint32 id, gboolean reopen, GError **error)
{
  SandboxProcess *proc = g_new0 (SandboxProcess, 1);
  proc->sb = sb;
  proc->id = id;
  g_autofree char *proc_dir = g_build_filename (sb->dir, "proc", NULL);
  g_autofree char *out_path = g_strdup_printf ("%s/%u.stdout", proc_dir, proc->id);
  g_autofree char *err_path = g_strdup_printf ("%s/%u.stderr", proc_dir, proc->id);
  g_mkdir_with_parents (proc_dir, 0700);
  if ((proc->out = output_log_new (out_path, reopen, error)) == NULL
      || (proc->err = output_log_new (err_path, reopen, error)) == NULL)
    {
      sandbox_process_free (proc);
      return NULL;
    }
  sb->output_bytes += output_log_size (proc->out) + output_log_size (proc->err);
  output_log_set_read_hook (proc->out, on_output_read, proc);
  output_log_set_read_hook (proc->err, on_output_read, proc);
  return proc;
}

/* How far the guest may be told its output is stored: all of it, unless
 * readers lag more than the daemon's output buffer behind, or the sandbox
 * has stored its output quota (then the guest holds the rest, and its
 * process blocks once its window is full). */
static guint64
ack_point (Sandbox *sb, OutputLog *log, guint64 acked, gboolean all)
{
  guint64 size = output_log_size (log);
  guint64 limit = sb->ctx->output_buffer_bytes;
  if (!all && limit > 0 && output_log_unread (log) > limit)
    return acked;
  if (!all && sb->output_full)
    return acked;
  if (!all && size - acked < ACK_STEP)
    return acked;
  return size;
}

/* Tells the guest what is stored (see ack_point); with @exit, everything,
 * and that the exit report arrived, so it may forget the process. */
static void
send_ack (SandboxProcess *proc, gboolean exit)
{
  Sandbox *sb = proc->sb;
  guint64 out = ack_point (sb, proc->out, proc->out_acked, exit);
  guint64 err = ack_point (sb, proc->err, proc->err_acked, exit);
  if (!exit && out == proc->out_acked && err == proc->err_acked)
    return;
  if (sb->agent == NULL || sb->state != SANDBOX_RUNNING)
    return;
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "ack");
  json_object_set_int_member (msg, "id", proc->id);
  json_object_set_int_member (msg, "stdout", (gint64) out);
  json_object_set_int_member (msg, "stderr", (gint64) err);
  if (exit)
    json_object_set_boolean_member (msg, "exit", TRUE);
  if (agent_channel_send_control (sb->agent, msg, NULL))
    {
      proc->out_acked = out;
      proc->err_acked = err;
    }
}

static void
on_output_read (gpointer data)
{
  SandboxProcess *proc = data;
  if (!proc->exited)
    send_ack (proc, FALSE);
  else
    proc->sb->ops->auto_remove_check (proc->sb);
}

SandboxProcess *
sandbox_first_process (Sandbox *sb, gboolean *done)
{
  SandboxProcess *first = NULL;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, sb->procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (first == NULL || ((SandboxProcess *) value)->id < first->id)
      first = value;
  *done = first && first->exited && output_log_unread (first->out) == 0
          && output_log_unread (first->err) == 0;
  return first;
}

static JsonObject *
exit_json (SandboxProcess *proc)
{
  JsonObject *o = json_object_new ();
  json_object_set_int_member (o, "process_id", proc->id);
  if (proc->signal)
    {
      json_object_set_int_member (o, "signal", proc->signal);
      json_object_set_int_member (o, "status", 128 + proc->signal);
    }
  else
    {
      json_object_set_int_member (o, "exit_code", proc->exit_code);
      json_object_set_int_member (o, "status", proc->exit_code);
    }
  return o;
}

typedef struct
{
  GTask *task;
  guint64 until; /* answered once the guest acknowledged this offset */
} StdinWrite;

static void
stdin_writers_answer (SandboxProcess *proc, gboolean failed, const char *why)
{
  GList *l = proc->stdin_writers;
  while (l)
    {
      GList *next = l->next;
      StdinWrite *w = l->data;
      if (failed || proc->stdin_acked >= w->until)
        {
          if (failed)
            sandbox_reply_error (w->task, SANDBOX_ERROR_STATE, "%s", why);
          else
            {
              JsonObject *res = json_object_new ();
              json_object_set_int_member (res, "offset", (gint64) proc->stdin_acked);
              sandbox_reply_json (w->task, res);
            }
          g_free (w);
          proc->stdin_writers = g_list_delete_link (proc->stdin_writers, l);
        }
      l = next;
    }
}

void
sandbox_process_free (SandboxProcess *proc)
{
  g_assert (proc->exec_task == NULL && proc->waiters == NULL && proc->stdin_writers == NULL);
  g_clear_pointer (&proc->out, output_log_free);
  g_clear_pointer (&proc->err, output_log_free);
  g_strfreev (proc->args);
  g_free (proc->container);
  g_free (proc);
}

static void
emit (Sandbox *sb, const char *type, SandboxProcess *proc, JsonObject *extra)
{
  JsonObject *ev = extra ? extra : json_object_new ();
  json_object_set_string_member (ev, "sandbox_id", sb->id);
  json_object_set_string_member (ev, "name", sb->name);
  json_object_set_int_member (ev, "process_id", proc->id);
  sb->ctx->emit (sb->ctx, sb->tenant, type, ev);
}

static SandboxProcess *
lookup (Sandbox *sb, guint32 id)
{
  return g_hash_table_lookup (sb->procs, GUINT_TO_POINTER (id));
}

void
sandbox_processes_abort (Sandbox *sb, SandboxError code, const char *reason)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, sb->procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      SandboxProcess *proc = value;
      if (proc->exec_task)
        sandbox_reply_error (g_steal_pointer (&proc->exec_task), code, "%s", reason);
      sandbox_reply_all_error (&proc->waiters, code, reason);
      stdin_writers_answer (proc, TRUE, reason);
      output_log_close (proc->out);
      output_log_close (proc->err);
    }
}

/* TRUE when running; else answers @task (taken) with why not. */
static gboolean
require_running (Sandbox *sb, GTask *task)
{
  if (sb->state == SANDBOX_RUNNING)
    return TRUE;
  if (sb->state == SANDBOX_FAILED)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "sandbox %s failed: %s", sb->name, sb->error);
  else
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "sandbox %s is %s, not running", sb->name,
                         sandbox_state_to_string (sb->state));
  return FALSE;
}

/* A guest cannot make the host track more than this many processes. */
#define MAX_PROCESSES 4096

void
sandbox_exec_async (Sandbox *sb, const SandboxExec *exec, GAsyncReadyCallback callback,
                    gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  gboolean with_stdin = exec->with_stdin;
  if (!require_running (sb, task))
    return;
  JsonObject *spec = NULL;
  const char *container = sandbox_container_for_exec (sb, exec->container, &spec, &error);
  if (error)
    {
      sandbox_reply_gerror (task, error);
      return;
    }
  /* The container's process, with what the caller gave in its place. */
  g_auto (GStrv) spec_args = NULL;
  g_auto (GStrv) env = NULL;
  const char *cwd = exec->cwd;
  gint64 uid = exec->uid, gid = exec->gid;
  if (spec)
    {
      json_field_strv (spec, "args", FALSE, &spec_args, NULL);
      if (!exec->env_only)
        json_field_strv (spec, "env", FALSE, &env, NULL);
      if (cwd == NULL)
        json_field_string (spec, "cwd", FALSE, &cwd, NULL);
      if (uid < 0)
        json_field_int (spec, "uid", FALSE, 0, G_MAXUINT32 - 1, &uid, NULL);
      if (exec->uid < 0 && gid < 0)
        json_field_int (spec, "gid", FALSE, 0, G_MAXUINT32 - 1, &gid, NULL);
    }
  if ((exec->groups || exec->add_caps) && container == NULL)
    {
      sandbox_reply_error (task, SANDBOX_ERROR_INVALID,
                           "field \"%s\": sandbox %s has no container to run in",
                           exec->groups ? "additional_gids" : "add_capabilities", sb->name);
      return;
    }
  char **args = exec->args && exec->args[0] ? exec->args : spec_args;
  if (args == NULL || args[0] == NULL)
    {
      if (container)
        sandbox_reply_error (task, SANDBOX_ERROR_INVALID,
                             "field \"args\" is empty and container %s has no command of its own",
                             container);
      else
        sandbox_reply_error (task, SANDBOX_ERROR_INVALID, "field \"args\" is empty");
      return;
    }
  for (char **e = exec->env; e && *e; e++)
    {
      g_autofree char *key = g_strndup (*e, strcspn (*e, "="));
      env = g_environ_setenv (env, key, *e + strlen (key) + 1, TRUE);
    }
  if (uid < 0)
    uid = 0;
  if (g_hash_table_size (sb->procs) >= MAX_PROCESSES)
    {
      sandbox_reply_error (task, SANDBOX_ERROR_LIMIT, "sandbox %s already has %d processes",
                           sb->name, MAX_PROCESSES);
      return;
    }

  SandboxProcess *proc = sandbox_process_new (sb, sb->next_proc++, FALSE, &error);
  if (proc == NULL)
    {
      sandbox_reply_gerror (task, error);
      return;
    }

  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "exec");
  json_object_set_int_member (msg, "id", proc->id);
  json_field_set_strv (msg, "args", args);
  json_field_set_strv (msg, "env", env);
  if (cwd)
    json_object_set_string_member (msg, "cwd", cwd);
  if (with_stdin)
    json_object_set_boolean_member (msg, "stdin", TRUE);
  if (exec->tty)
    {
      json_object_set_boolean_member (msg, "tty", TRUE);
      json_object_set_int_member (msg, "rows", exec->rows ? exec->rows : 24);
      json_object_set_int_member (msg, "cols", exec->cols ? exec->cols : 80);
      if (exec->tty_raw_output)
        json_object_set_boolean_member (msg, "onlcr", FALSE);
    }
  json_object_set_int_member (msg, "uid", uid);
  if (gid >= 0)
    json_object_set_int_member (msg, "gid", gid);
  if (exec->groups)
    json_object_set_array_member (msg, "additional_gids", json_array_ref (exec->groups));
  if (exec->add_caps)
    {
      JsonArray *caps = json_array_new ();
      for (int c = 0; c < 64; c++)
        if (exec->add_caps & (G_GUINT64_CONSTANT (1) << c))
          json_array_add_int_element (caps, c);
      json_object_set_array_member (msg, "add_caps", caps);
    }
  if (container)
    json_object_set_string_member (msg, "container", container);
  proc->args = g_strdupv (args);
  proc->container = g_strdup (container);
  proc->has_stdin = with_stdin;
  proc->tty = exec->tty;
  proc->stdin_closed = !with_stdin;
  if (!agent_channel_send_control (sb->agent, msg, &error))
    {
      sandbox_process_free (proc);
      sandbox_reply_error (task, SANDBOX_ERROR_GONE, "sandbox %s: %s", sb->name, error->message);
      return;
    }
  proc->exec_task = task;
  g_hash_table_insert (sb->procs, GUINT_TO_POINTER (proc->id), proc);
}

/* The process @process_id, or NULL and @task answered NOT_FOUND. */
static SandboxProcess *
lookup_or_reply (Sandbox *sb, GTask *task, guint32 process_id)
{
  SandboxProcess *proc = lookup (sb, process_id);
  if (proc == NULL)
    sandbox_reply_error (task, SANDBOX_ERROR_NOT_FOUND, "sandbox %s has no process %u", sb->name,
                         process_id);
  return proc;
}

void
sandbox_wait_async (Sandbox *sb, guint32 process_id, GAsyncReadyCallback callback,
                    gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  SandboxProcess *proc = lookup_or_reply (sb, task, process_id);
  if (proc == NULL)
    return;
  if (proc->exited)
    sandbox_reply_json (task, exit_json (proc));
  else if (require_running (sb, task))
    proc->waiters = g_list_append (proc->waiters, task);
}

void
sandbox_read_output_async (Sandbox *sb, guint32 process_id, gboolean is_stderr, guint64 offset,
                           gsize max_bytes, guint wait_ms, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  SandboxProcess *proc = lookup_or_reply (sb, task, process_id);
  if (proc == NULL)
    return;
  output_log_read (is_stderr ? proc->err : proc->out, task, offset, MIN (max_bytes, READ_MAX_BYTES),
                   wait_ms);
}

SandboxOutput *
sandbox_read_output_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* A running process with an open stdin, or NULL and @task answered. */
static SandboxProcess *
running_process (Sandbox *sb, GTask *task, guint32 process_id, gboolean need_stdin)
{
  SandboxProcess *proc = lookup_or_reply (sb, task, process_id);
  if (proc == NULL)
    return NULL;
  if (!require_running (sb, task))
    return NULL;
  else if (proc->exited || proc->exec_task)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "process %u of %s is %s", process_id, sb->name,
                         proc->exited ? "no longer running" : "starting");
  else if (need_stdin && !proc->has_stdin)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "process %u of %s was started without stdin",
                         process_id, sb->name);
  else if (need_stdin && proc->stdin_closed)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "the stdin of process %u of %s is closed",
                         process_id, sb->name);
  else
    return proc;
  return NULL;
}

/* Sends @msg to the guest and answers @task: {} once sent, GONE when the
 * channel is down. */
static void
send_and_reply (Sandbox *sb, GTask *task, JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  if (!agent_channel_send_control (sb->agent, msg, &error))
    sandbox_reply_error (task, SANDBOX_ERROR_GONE, "sandbox %s: %s", sb->name, error->message);
  else
    sandbox_reply_json (task, json_object_new ());
}

void
sandbox_signal_async (Sandbox *sb, guint32 process_id, int sig, gboolean group,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  if (running_process (sb, task, process_id, FALSE) == NULL)
    return;
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "signal");
  json_object_set_int_member (msg, "id", process_id);
  json_object_set_int_member (msg, "signal", sig);
  json_object_set_boolean_member (msg, "group", group);
  send_and_reply (sb, task, msg);
}

void
sandbox_write_stdin_async (Sandbox *sb, guint32 process_id, const guint8 *data, gsize len,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  SandboxProcess *proc = running_process (sb, task, process_id, TRUE);
  if (proc == NULL)
    return;
  if (proc->stdin_sent - proc->stdin_acked + len > STDIN_MAX_PENDING)
    {
      sandbox_reply_error (
          task, SANDBOX_ERROR_LIMIT,
          "process %u of %s has %" G_GUINT64_FORMAT
          " bytes of stdin the guest has not written yet; at most %d may wait (wait for "
          "earlier WriteStdin calls to return)",
          proc->id, sb->name, proc->stdin_sent - proc->stdin_acked, STDIN_MAX_PENDING);
      return;
    }
  if (!agent_channel_send_data (sb->agent, AGENT_FRAME_STDIN, proc->id, data, len, FALSE, &error))
    {
      sandbox_reply_error (task, SANDBOX_ERROR_GONE, "sandbox %s: %s", sb->name, error->message);
      return;
    }
  proc->stdin_sent += len;
  StdinWrite *w = g_new0 (StdinWrite, 1);
  w->task = task;
  w->until = proc->stdin_sent;
  proc->stdin_writers = g_list_append (proc->stdin_writers, w);
  stdin_writers_answer (proc, FALSE, NULL); /* an empty write is acknowledged at once */
}

void
sandbox_close_stdin_async (Sandbox *sb, guint32 process_id, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  SandboxProcess *proc = running_process (sb, task, process_id, TRUE);
  if (proc == NULL)
    return;
  if (!agent_channel_send_data (sb->agent, AGENT_FRAME_STDIN, proc->id, NULL, 0, TRUE, &error))
    {
      sandbox_reply_error (task, SANDBOX_ERROR_GONE, "sandbox %s: %s", sb->name, error->message);
      return;
    }
  proc->stdin_closed = TRUE;
  sandbox_reply_json (task, json_object_new ());
}

void
sandbox_resize_async (Sandbox *sb, guint32 process_id, guint rows, guint cols,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  SandboxProcess *proc = running_process (sb, task, process_id, FALSE);
  if (proc == NULL)
    return;
  if (!proc->tty)
    {
      sandbox_reply_error (task, SANDBOX_ERROR_STATE,
                           "process %u of %s has no terminal (exec without tty)", process_id,
                           sb->name);
      return;
    }
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "resize");
  json_object_set_int_member (msg, "id", process_id);
  json_object_set_int_member (msg, "rows", rows);
  json_object_set_int_member (msg, "cols", cols);
  send_and_reply (sb, task, msg);
}

static void
guest_protocol_error (Sandbox *sb, const char *type, const char *what)
{
  g_autofree char *shown_type = guest_text (type);
  g_autofree char *shown_what = guest_text (what);
  sandbox_part_fail (sb, "the guest agent sent a bad \"%s\" message: %s", shown_type, shown_what);
}

/* Forgets the processes that exited longest ago beyond KEEP_EXITED. */
static void
forget_old_exited (Sandbox *sb)
{
  for (;;)
    {
      guint exited = 0;
      SandboxProcess *oldest = NULL;
      GHashTableIter it;
      gpointer value;
      g_hash_table_iter_init (&it, sb->procs);
      while (g_hash_table_iter_next (&it, NULL, &value))
        {
          SandboxProcess *p = value;
          if (!p->exited || p->exec_task || p->waiters || p->stdin_writers)
            continue;
          exited++;
          if (oldest == NULL || p->exit_seq < oldest->exit_seq
              || (p->exit_seq == oldest->exit_seq && p->id < oldest->id))
            oldest = p;
        }
      if (exited <= KEEP_EXITED)
        return;
      g_clear_pointer (&oldest->out, output_log_delete);
      g_clear_pointer (&oldest->err, output_log_delete);
      g_hash_table_remove (sb->procs, GUINT_TO_POINTER (oldest->id));
    }
}

static void
process_exited (Sandbox *sb, SandboxProcess *proc, gint64 exit_code, gint64 sig)
{
  proc->exited = TRUE;
  proc->exit_seq = ++sb->exits;
  proc->stdin_closed = TRUE;
  stdin_writers_answer (proc, TRUE, "the process has exited");
  proc->signal = sig;
  proc->exit_code = sig ? -1 : exit_code;
  output_log_close (proc->out);
  output_log_close (proc->err);
  emit (sb, "process.exited", proc, exit_json (proc));
  GList *waiters = g_steal_pointer (&proc->waiters);
  for (GList *l = waiters; l; l = l->next)
    sandbox_reply_json (l->data, exit_json (proc));
  g_list_free (waiters);
  forget_old_exited (sb);
  sb->ops->save (sb);
  sb->ops->auto_remove_check (sb);
}

/* The guest resends a process's unacknowledged output (a new session):
 * @out_from and @err_from are where its resent bytes start. */
static void
process_replay (Sandbox *sb, SandboxProcess *proc, JsonObject *msg, gint64 pid, gint64 out_from,
                gint64 err_from)
{
  g_autoptr (GError) error = NULL;
  gint64 received = 0, written = 0;
  if (!json_field_int (msg, "stdin_received", TRUE, 0, G_MAXINT64, &received, &error)
      || !json_field_int (msg, "stdin_written", TRUE, 0, received, &written, &error))
    {
      guest_protocol_error (sb, "replay", error->message);
      return;
    }
  /* WriteStdin calls of the old session are gone; count on from the guest's. */
  proc->stdin_sent = (guint64) received;
  proc->stdin_acked = (guint64) written;
  guint64 out_size = output_log_size (proc->out), err_size = output_log_size (proc->err);
  if ((guint64) out_from > out_size || (guint64) err_from > err_size)
    {
      guest_protocol_error (sb, "replay", "it resends from beyond what it sent");
      return;
    }
  proc->out_skip = out_size - (guint64) out_from;
  proc->err_skip = err_size - (guint64) err_from;
  proc->out_acked = (guint64) out_from;
  proc->err_acked = (guint64) err_from;
  proc->replayed = TRUE;
  if (!proc->exited)
    proc->guest_pid = pid;
}

/* The end of a replay: a process the guest no longer has ended while
 * nobody listened (its exit report was lost with the old session). */
static void
replay_done (Sandbox *sb)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, sb->procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      SandboxProcess *proc = value;
      if (!proc->exited && !proc->replayed && proc->exec_task == NULL)
        {
          g_message ("sandbox %s: process %u is gone from the guest; reporting it killed", sb->name,
                     proc->id);
          process_exited (sb, proc, -1, SIGKILL);
        }
      proc->replayed = FALSE;
    }
  sb->resuming = FALSE;
  sb->ops->auto_remove_check (sb);
}

static void
stdin_acked (Sandbox *sb, SandboxProcess *proc, gint64 offset, gboolean closed)
{
  if ((guint64) offset > proc->stdin_sent || (guint64) offset < proc->stdin_acked)
    {
      guest_protocol_error (sb, "stdin-ack", "offset outside what was sent");
      return;
    }
  proc->stdin_acked = (guint64) offset;
  if (closed)
    proc->stdin_closed = TRUE;
  g_autofree char *why
      = g_strdup_printf ("the stdin of process %u of %s is closed", proc->id, sb->name);
  stdin_writers_answer (proc, FALSE, NULL);
  stdin_writers_answer (proc, closed, why);
}

void
sandbox_process_control (Sandbox *sb, const char *type, JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0, pid = 0, err = 0, exit_code = 0, sig = 0, out_from = 0, err_from = 0;
  const char *message = "exec failed";

  if (g_str_equal (type, "replayed"))
    {
      if (sb->resuming)
        replay_done (sb);
      return;
    }
  if (!g_str_equal (type, "started") && !g_str_equal (type, "exec-failed")
      && !g_str_equal (type, "exit") && !g_str_equal (type, "stdin-ack")
      && !g_str_equal (type, "replay"))
    {
      g_autofree char *shown = guest_text (type);
      if (guest_log_allowed (&sb->guest_log, sb->name))
        g_message ("sandbox %s: ignoring agent message \"%s\"", sb->name, shown);
      return;
    }
  gint64 offset = 0;
  gboolean closed = FALSE;
  if (!json_field_int (msg, "id", TRUE, 1, G_MAXUINT32, &id, &error)
      || !json_field_int (msg, "offset", FALSE, 0, G_MAXINT64, &offset, &error)
      || !json_field_bool (msg, "closed", FALSE, &closed, &error)
      || !json_field_int (msg, "pid", FALSE, 0, G_MAXINT32, &pid, &error)
      || !json_field_int (msg, "errno", FALSE, 0, 4095, &err, &error)
      || !json_field_int (msg, "exit_code", FALSE, 0, 255, &exit_code, &error)
      || !json_field_int (msg, "signal", FALSE, 0, 64, &sig, &error)
      || !json_field_int (msg, "stdout", FALSE, 0, G_MAXINT64, &out_from, &error)
      || !json_field_int (msg, "stderr", FALSE, 0, G_MAXINT64, &err_from, &error)
      || !json_field_string (msg, "message", FALSE, &message, &error))
    {
      guest_protocol_error (sb, type, error->message);
      return;
    }
  SandboxProcess *proc = lookup (sb, (guint32) id);
  if (proc == NULL && g_str_equal (type, "replay") && sb->resuming && id < sb->next_proc
      && g_hash_table_size (sb->procs) < MAX_PROCESSES)
    {
      /* Started just before sandboxd went down, before it was saved. */
      proc = sandbox_process_new (sb, (guint32) id, FALSE, &error);
      if (proc == NULL)
        {
          sandbox_part_fail (sb, "%s", error->message);
          return;
        }
      proc->args = g_new0 (char *, 1);
      g_hash_table_insert (sb->procs, GUINT_TO_POINTER (proc->id), proc);
    }
  if (proc == NULL)
    {
      guest_protocol_error (sb, type, "unknown process id");
      return;
    }

  if (g_str_equal (type, "replay") && !sb->resuming)
    guest_protocol_error (sb, type, "a replay outside the start of a new session");
  else if (g_str_equal (type, "replay"))
    process_replay (sb, proc, msg, pid, out_from, err_from);
  else if (g_str_equal (type, "stdin-ack"))
    stdin_acked (sb, proc, offset, closed);
  else if (g_str_equal (type, "exit"))
    {
      if (proc->exec_task != NULL)
        {
          guest_protocol_error (sb, type, "exit of a process that never started");
          return;
        }
      if (!proc->exited)
        process_exited (sb, proc, exit_code, sig);
      send_ack (proc, TRUE); /* again, if a new session resends it */
    }
  else if (proc->exec_task == NULL)
    guest_protocol_error (sb, type, "process already started");
  else if (g_str_equal (type, "started"))
    {
      proc->guest_pid = pid;
      JsonObject *res = json_object_new ();
      json_object_set_int_member (res, "process_id", proc->id);
      json_object_set_int_member (res, "pid", proc->guest_pid);
      sandbox_reply_json (g_steal_pointer (&proc->exec_task), res);
      emit (sb, "process.started", proc, NULL);
      sb->ops->save (sb);
      sb->ops->auto_remove_check (sb);
    }
  else
    {
      sandbox_reply_error (g_steal_pointer (&proc->exec_task), sandbox_error_from_errno ((int) err),
                           "%s", message);
      g_hash_table_remove (sb->procs, GUINT_TO_POINTER (proc->id));
    }
}

/* Drops the first bytes of a replayed stream that are stored already. */
static void
skip_stored (guint64 *skip, const guint8 **bytes, gsize *len)
{
  gsize n = (gsize) MIN (*skip, (guint64) *len);
  *skip -= n;
  *bytes += n;
  *len -= n;
}

void
sandbox_process_data (Sandbox *sb, guint32 stream, gboolean is_stderr, const guint8 *bytes,
                      gsize len, gboolean eof)
{
  g_autoptr (GError) error = NULL;
  SandboxProcess *proc = lookup (sb, stream);
  if (proc != NULL)
    skip_stored (is_stderr ? &proc->err_skip : &proc->out_skip, &bytes, &len);
  if (proc == NULL || (proc->exited && len > 0))
    {
      sandbox_part_fail (sb, "the guest agent sent output for %s process %u",
                         proc ? "finished" : "unknown", stream);
      return;
    }
  OutputLog *log = is_stderr ? proc->err : proc->out;
  /* The agent may send at most its window past what it was told is
   * stored; a guest that sends more ignores flow control (and would fill
   * the host's disk). */
  guint64 acked = is_stderr ? proc->err_acked : proc->out_acked;
  if (output_log_size (log) + len > acked + AGENT_STREAM_WINDOW)
    {
      sandbox_part_fail (
          sb,
          "the guest agent ignored flow control: process %u's %s went %" G_GUINT64_FORMAT
          " bytes past what was acknowledged (its window is %d)",
          proc->id, is_stderr ? "stderr" : "stdout", output_log_size (log) + len - acked,
          AGENT_STREAM_WINDOW);
      return;
    }
  guint64 quota = sb->ctx->output_quota_bytes;
  if (quota > 0 && sb->output_bytes + len > quota + OUTPUT_QUOTA_SLACK)
    {
      sandbox_part_fail (
          sb, "the sandbox's output went past its quota of %" G_GUINT64_FORMAT " bytes", quota);
      return;
    }
  if (len > 0 && !output_log_append (log, bytes, len, &error))
    {
      sandbox_part_fail (sb, "%s", error->message);
      return;
    }
  sb->output_bytes += len;
  if (quota > 0 && sb->output_bytes >= quota && !sb->output_full)
    {
      sb->output_full = TRUE;
      g_message ("sandbox %s stored its output quota (%" G_GUINT64_FORMAT
                 " bytes): its processes now block when their windows fill",
                 sb->name, quota);
    }
  if (eof)
    output_log_close (log);
  else if (!proc->exited)
    send_ack (proc, FALSE);
}

static gint
by_id (gconstpointer a, gconstpointer b)
{
  guint32 x = (*(SandboxProcess **) a)->id, y = (*(SandboxProcess **) b)->id;
  return x < y ? -1 : x > y;
}

JsonObject *
sandbox_list_processes (Sandbox *sb)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, sb->procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_ptr_array_add (all, value);
  g_ptr_array_sort (all, by_id);
  JsonArray *arr = json_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      SandboxProcess *proc = all->pdata[i];
      JsonObject *o = proc->exited ? exit_json (proc) : json_object_new ();
      json_object_set_int_member (o, "process_id", proc->id);
      json_object_set_int_member (o, "pid", proc->guest_pid);
      json_field_set_strv (o, "args", proc->args);
      if (proc->container)
        json_object_set_string_member (o, "container", proc->container);
      if (proc->tty)
        json_object_set_boolean_member (o, "tty", TRUE);
      json_object_set_string_member (o, "state",
                                     proc->exited      ? "exited"
                                     : proc->exec_task ? "starting"
                                                       : "running");
      json_object_set_int_member (o, "stdout_bytes", (gint64) output_log_size (proc->out));
      json_object_set_int_member (o, "stderr_bytes", (gint64) output_log_size (proc->err));
      json_array_add_object_element (arr, o);
    }
  JsonObject *res = json_object_new ();
  json_object_set_array_member (res, "processes", arr);
  return res;
}
