/* agent-output.c — process output toward the host, loss-free.
 *
 * Every byte read from a process's stdout or stderr is kept until the host
 * acknowledges its offset (it acknowledges after storing it). A stream with
 * AGENT_STREAM_WINDOW bytes unacknowledged is not read until the host
 * catches up, so a slow host slows the process, and the agent's memory stays
 * bounded. A new session (a restarted sandboxd) gets, for each process, a
 * "replay" message with the acknowledged offsets, then the unacknowledged
 * bytes again, the stream ends and the exit report if they were sent.
 */
#include "agent.h"

#include "json-fields.h"

#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <unistd.h>

#define READ_CHUNK AGENT_FRAME_MAX_PAYLOAD

static GHashTable *procs; /* id -> AgentProcess, owned by agent-main.c */
static void (*stream_ended) (AgentProcess *proc);

void
agent_output_init (GHashTable *table, void (*ended) (AgentProcess *proc))
{
  procs = table;
  stream_ended = ended;
}

static AgentFrameType
stream_type (AgentProcess *proc, AgentStream *s)
{
  return s == &proc->out ? AGENT_FRAME_STDOUT : AGENT_FRAME_STDERR;
}

static gboolean on_readable (int fd, GIOCondition cond, gpointer data);

/* Bytes sent and not acknowledged. */
static gsize
pending (const AgentStream *s)
{
  return s->unacked->len - s->head;
}

static void
update_stream (AgentProcess *proc, AgentStream *s)
{
  gboolean want = s->fd >= 0 && pending (s) < AGENT_STREAM_WINDOW && !agent_port_busy ();
  if (want && s->src == 0)
    s->src = g_unix_fd_add (s->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, proc);
  else if (!want && s->src != 0)
    g_clear_handle_id (&s->src, g_source_remove);
}

void
agent_output_update (AgentProcess *proc)
{
  update_stream (proc, &proc->out);
  update_stream (proc, &proc->err);
}

void
agent_output_update_all (void)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    agent_output_update (value);
}

static gboolean
on_readable (int fd, GIOCondition cond, gpointer data)
{
  AgentProcess *proc = data;
  AgentStream *s = fd == proc->out.fd ? &proc->out : &proc->err;
  gsize room = AGENT_STREAM_WINDOW - pending (s);

  /* Read straight into the unacknowledged bytes: no copy through a
   * buffer of our own. */
  guint at = s->unacked->len;
  gsize want = MIN ((gsize) READ_CHUNK, room);
  g_byte_array_set_size (s->unacked, at + (guint) want);
  ssize_t n;
  do
    n = read (fd, s->unacked->data + at, want);
  while (n < 0 && errno == EINTR);
  int read_errno = errno;
  g_byte_array_set_size (s->unacked, at + (guint) MAX (n, 0));
  if (n < 0 && read_errno == EAGAIN)
    return G_SOURCE_CONTINUE;

  if (n > 0)
    {
      agent_port_send_data (stream_type (proc, s), 0, proc->id, s->unacked->data + at, (gsize) n);
      /* The send may have made the port busy, which removed this source. */
      if (s->src == 0)
        return G_SOURCE_REMOVE;
      if (pending (s) >= AGENT_STREAM_WINDOW)
        {
          s->src = 0;
          return G_SOURCE_REMOVE;
        }
      return G_SOURCE_CONTINUE;
    }

  /* EOF (or a read error, which ends the stream the same way). */
  s->src = 0;
  close (s->fd);
  s->fd = -1;
  agent_port_send_data (stream_type (proc, s), AGENT_FRAME_FLAG_EOF, proc->id, NULL, 0);
  stream_ended (proc);
  return G_SOURCE_REMOVE;
}

void
agent_output_stream_free (AgentStream *s)
{
  g_clear_handle_id (&s->src, g_source_remove);
  if (s->fd >= 0)
    close (s->fd);
  s->fd = -1;
  g_clear_pointer (&s->unacked, g_byte_array_unref);
}

/* Drops what the host acknowledged up to @offset. FALSE if @offset is not
 * within what was sent. */
static gboolean
ack_stream (AgentStream *s, gint64 offset)
{
  if (offset < 0)
    return TRUE; /* not in this ack */
  if ((guint64) offset < s->acked || (guint64) offset > s->acked + pending (s))
    return FALSE;
  s->head += (gsize) ((guint64) offset - s->acked);
  s->acked = (guint64) offset;
  if (s->head == s->unacked->len)
    {
      g_byte_array_set_size (s->unacked, 0);
      s->head = 0;
    }
  else if (s->head >= s->unacked->len / 2)
    {
      g_byte_array_remove_range (s->unacked, 0, (guint) s->head);
      s->head = 0;
    }
  return TRUE;
}

void
agent_output_handle_ack (JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0, out = -1, err = -1;
  gboolean exit_acked = FALSE;
  if (!json_field_int (msg, "id", TRUE, 1, G_MAXUINT32, &id, &error)
      || !json_field_int (msg, "stdout", FALSE, 0, G_MAXINT64, &out, &error)
      || !json_field_int (msg, "stderr", FALSE, 0, G_MAXINT64, &err, &error)
      || !json_field_bool (msg, "exit", FALSE, &exit_acked, &error))
    {
      fprintf (stderr, "sandbox-agent: bad ack: %s\n", error->message);
      return;
    }
  AgentProcess *proc = g_hash_table_lookup (procs, GUINT_TO_POINTER ((guint32) id));
  if (proc == NULL)
    return; /* a late duplicate */
  if (!ack_stream (&proc->out, out) || !ack_stream (&proc->err, err))
    {
      fprintf (stderr, "sandbox-agent: ack of process %u beyond what was sent\n", proc->id);
      return;
    }
  if (exit_acked && proc->exit_sent)
    {
      g_hash_table_remove (procs, GUINT_TO_POINTER (proc->id));
      return;
    }
  agent_output_update (proc);
}

static void
replay_stream (AgentProcess *proc, AgentStream *s)
{
  if (pending (s) > 0)
    agent_port_send_data (stream_type (proc, s), 0, proc->id, s->unacked->data + s->head,
                          pending (s));
  if (s->fd < 0)
    agent_port_send_data (stream_type (proc, s), AGENT_FRAME_FLAG_EOF, proc->id, NULL, 0);
}

void
agent_output_replay (void)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      AgentProcess *proc = value;
      g_autoptr (JsonObject) msg = json_object_new ();
      json_object_set_string_member (msg, "type", "replay");
      json_object_set_int_member (msg, "id", proc->id);
      json_object_set_int_member (msg, "pid", proc->pid);
      json_object_set_int_member (msg, "stdout", (gint64) proc->out.acked);
      json_object_set_int_member (msg, "stderr", (gint64) proc->err.acked);
      /* stdin bytes received (written, or queued to be): the host's count. */
      json_object_set_int_member (
          msg, "stdin_received",
          (gint64) (proc->in_written + (proc->in_queue ? write_queue_length (proc->in_queue) : 0)));
      json_object_set_int_member (msg, "stdin_written", (gint64) proc->in_written);
      agent_port_send_control (msg);
      replay_stream (proc, &proc->out);
      replay_stream (proc, &proc->err);
      if (proc->exit_sent)
        {
          proc->exit_sent = FALSE;
          stream_ended (proc); /* sends the exit report again */
        }
    }
  g_autoptr (JsonObject) done = json_object_new ();
  json_object_set_string_member (done, "type", "replayed");
  json_object_set_int_member (done, "processes", g_hash_table_size (procs));
  agent_port_send_control (done);
}
