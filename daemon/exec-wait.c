/* exec-wait.c — Processes.Exec with wait_ms: one call that starts a
 * process, waits (that long at most) for it to exit, and answers with its
 * exit and, inline, the start of its output. A short command then costs one
 * round trip instead of four (Exec, Wait, two ReadOutput). */
#include "daemon.h"

/* What one answer carries of each stream inline; the rest is read by
 * offset as usual. */
#define INLINE_OUTPUT_BYTES (64 * 1024)

typedef struct
{
  Daemon *daemon;
  RpcCall *call;
  char *sandbox_id;
  JsonObject *result; /* Exec's answer, grown by the exit and the output */
  guint32 process;
  guint wait_ms;
  guint timer; /* wait_ms, from the process's start */
} ExecWait;

/* At the end of the chain (exec, wait, reads), which always comes: the
 * sandbox answers each step, with an error if it went away. */
static void
exec_wait_free (ExecWait *w)
{
  g_clear_handle_id (&w->timer, g_source_remove);
  rpc_call_unref (w->call);
  g_free (w->sandbox_id);
  if (w->result)
    json_object_unref (w->result);
  g_free (w);
}

JsonObject *
daemon_output_to_json (const SandboxOutput *out)
{
  gsize len = 0;
  const guint8 *bytes = g_bytes_get_data (out->data, &len);
  g_autofree char *b64 = g_base64_encode (bytes, len);
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "data", b64);
  json_object_set_int_member (o, "offset", (gint64) out->offset);
  json_object_set_boolean_member (o, "eof", out->eof);
  return o;
}

/* The process is still running at wait_ms: answer as a plain Exec. */
static gboolean
on_timeout (gpointer data)
{
  ExecWait *w = data;
  w->timer = 0;
  json_object_set_boolean_member (w->result, "exited", FALSE);
  rpc_call_return (w->call, json_object_ref (w->result));
  return G_SOURCE_REMOVE;
}

static void read_stream (ExecWait *w, gboolean is_stderr);

static void
on_read (GObject *source, GAsyncResult *result, gpointer data)
{
  ExecWait *w = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SandboxOutput) out = sandbox_read_output_finish (result, &error);
  gboolean is_stderr = json_object_has_member (w->result, "stdout");
  if (out)
    json_object_set_object_member (w->result, is_stderr ? "stderr" : "stdout",
                                   daemon_output_to_json (out));
  if (out == NULL)
    daemon_return_error (w->call, error);
  else if (!is_stderr)
    {
      read_stream (w, TRUE);
      return;
    }
  else
    rpc_call_return (w->call, json_object_ref (w->result));
  exec_wait_free (w);
}

static void
read_stream (ExecWait *w, gboolean is_stderr)
{
  /* Looked up again: the sandbox may have gone meanwhile. */
  Sandbox *sb = g_hash_table_lookup (w->daemon->ctx.sandboxes, w->sandbox_id);
  if (sb == NULL)
    {
      rpc_call_return_error (w->call, RPC_STATUS_NOT_FOUND, "the sandbox was deleted meanwhile");
      exec_wait_free (w);
      return;
    }
  sandbox_read_output_async (sb, w->process, is_stderr, 0, INLINE_OUTPUT_BYTES, 0, on_read, w);
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  ExecWait *w = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) exit = sandbox_call_finish (result, &error);
  if (rpc_call_is_done (w->call))
    {
      exec_wait_free (w); /* answered at wait_ms already: nothing more to say */
      return;
    }
  g_clear_handle_id (&w->timer, g_source_remove);
  if (exit == NULL)
    {
      daemon_return_error (w->call, error);
      exec_wait_free (w);
      return;
    }
  g_autoptr (GList) members = json_object_get_members (exit);
  for (GList *l = members; l; l = l->next)
    json_object_set_member (w->result, l->data,
                            json_node_copy (json_object_get_member (exit, l->data)));
  json_object_set_boolean_member (w->result, "exited", TRUE);
  read_stream (w, FALSE);
}

static void
on_started (GObject *source, GAsyncResult *result, gpointer data)
{
  ExecWait *w = data;
  g_autoptr (GError) error = NULL;
  w->result = sandbox_call_finish (result, &error);
  Sandbox *sb = g_hash_table_lookup (w->daemon->ctx.sandboxes, w->sandbox_id);
  if (w->result == NULL || sb == NULL)
    {
      if (w->result == NULL)
        daemon_return_error (w->call, error);
      else
        rpc_call_return_error (w->call, RPC_STATUS_NOT_FOUND, "the sandbox was deleted meanwhile");
      exec_wait_free (w);
      return;
    }
  w->process = (guint32) json_object_get_int_member_with_default (w->result, "process_id", 0);
  w->timer = g_timeout_add (w->wait_ms, on_timeout, w);
  sandbox_wait_async (sb, w->process, on_exited, w);
}

void
daemon_exec_wait (Daemon *d, RpcCall *call, Sandbox *sb, const SandboxExec *exec, guint wait_ms)
{
  ExecWait *w = g_new0 (ExecWait, 1);
  w->daemon = d;
  w->call = rpc_call_ref (call);
  w->sandbox_id = g_strdup (sandbox_get_id (sb));
  w->wait_ms = wait_ms;
  sandbox_exec_async (sb, exec, on_started, w);
}
