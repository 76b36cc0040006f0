#include "agent-channel.h"

#include "unix-peer.h"
#include "write-queue.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CONNECT_RETRY_MS 10
/* What may wait for a guest that does not read its port: a hostile one
 * that sends exit reports and never reads the acknowledgements grew
 * sandboxd by 5 MB a second; the largest single message (an Exec's
 * arguments, 4 MiB) fits several times. */
#define BACKLOG_MAX AGENT_CHANNEL_BACKLOG_MAX

struct AgentChannel
{
  char *path;
  int fd;
  gint64 deadline;
  guint connect_src;
  guint in_src;
  guint backlog_src; /* closing the channel: the guest does not read */
  gboolean closed;
  AgentDecoder *decoder;
  WriteQueue *outq;
  AgentChannelCallbacks cb;
  gpointer user_data;
  GPid peer; /* the process that must serve the socket, or 0 */
};

static void
channel_close (AgentChannel *ch, GError *reason)
{
  if (ch->closed)
    {
      g_error_free (reason);
      return;
    }
  ch->closed = TRUE;
  g_clear_handle_id (&ch->connect_src, g_source_remove);
  g_clear_handle_id (&ch->in_src, g_source_remove);
  g_clear_handle_id (&ch->backlog_src, g_source_remove);
  write_queue_disarm (ch->outq);
  if (ch->fd >= 0)
    {
      close (ch->fd);
      ch->fd = -1;
    }
  ch->cb.closed (reason, ch->user_data);
  g_error_free (reason);
}

static gboolean
dispatch_frame (AgentChannel *ch, const AgentFrame *f, GError **error)
{
  gboolean eof = (f->flags & AGENT_FRAME_FLAG_EOF) != 0;
  switch (f->type)
    {
    case AGENT_FRAME_CONTROL:
      {
        g_autoptr (JsonObject) msg = agent_control_parse (f, error);
        if (msg == NULL)
          return FALSE;
        ch->cb.control (msg, ch->user_data);
        return TRUE;
      }
    case AGENT_FRAME_STDOUT:
    case AGENT_FRAME_STDERR:
      ch->cb.data (f->stream, f->type, f->payload, f->length, eof, ch->user_data);
      return TRUE;
    case AGENT_FRAME_STDIN:
      break;
    }
  g_set_error (error, AGENT_PROTOCOL_ERROR, 0, "bad frame: the guest sent a %s frame",
               agent_frame_type_to_string (f->type));
  return FALSE;
}

/* Reads what the socket has once; FALSE when nothing more will come now
 * (EAGAIN) or ever (the channel closed). */
static gboolean
read_once (AgentChannel *ch)
{
  guint8 buf[65536];
  ssize_t n = recv (ch->fd, buf, sizeof buf, 0);
  if (n < 0 && errno == EINTR)
    return TRUE;
  if (n < 0 && errno == EAGAIN)
    return FALSE;
  if (n <= 0)
    {
      g_clear_handle_id (&ch->in_src, g_source_remove);
      channel_close (ch, n == 0 ? g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                               "agent channel closed")
                                : g_error_new (G_IO_ERROR, g_io_error_from_errno (errno),
                                               "agent channel: %s", g_strerror (errno)));
      return FALSE;
    }

  agent_decoder_push (ch->decoder, buf, (gsize) n);
  AgentFrame frame;
  GError *error = NULL;
  while (!ch->closed && agent_decoder_next (ch->decoder, &frame, &error))
    if (!dispatch_frame (ch, &frame, &error))
      break;
  if (error != NULL)
    {
      g_clear_handle_id (&ch->in_src, g_source_remove);
      channel_close (ch, error);
    }
  return !ch->closed;
}

static gboolean
on_readable (int fd, GIOCondition cond, gpointer data)
{
  AgentChannel *ch = data;
  guint id = ch->in_src;
  read_once (ch);
  /* read_once clears in_src when it closes the channel. */
  return ch->in_src == id && id != 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

void
agent_channel_drain (AgentChannel *channel)
{
  while (!channel->closed && channel->fd >= 0 && read_once (channel))
    ;
}

static void
flush_out (gpointer data)
{
  AgentChannel *ch = data;
  if (ch->fd < 0)
    return; /* still connecting: sent once connected */
  if (write_queue_flush (ch->outq, ch->fd, 0, write_queue_send, NULL) < 0)
    channel_close (ch, g_error_new (G_IO_ERROR, g_io_error_from_errno (errno), "agent channel: %s",
                                    g_strerror (errno)));
}

static gboolean
try_connect (gpointer data)
{
  AgentChannel *ch = data;
  GError *peer_error = NULL;
  int fd = unix_peer_connect (ch->path, ch->peer, &peer_error);
  int e = errno;
  if (fd >= 0 || peer_error)
    {
      ch->connect_src = 0;
      if (peer_error)
        {
          channel_close (ch, peer_error);
          return G_SOURCE_REMOVE;
        }
      ch->fd = fd;
      ch->in_src = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, ch);
      flush_out (ch);
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () < ch->deadline)
    return G_SOURCE_CONTINUE;
  ch->connect_src = 0;
  channel_close (ch, g_error_new (G_IO_ERROR, g_io_error_from_errno (e),
                                  "cannot connect to the agent port at %s: %s", ch->path,
                                  g_strerror (e)));
  return G_SOURCE_REMOVE;
}

AgentChannel *
agent_channel_new (const char *socket_path, guint timeout_ms,
                   const AgentChannelCallbacks *callbacks, gpointer user_data)
{
  AgentChannel *ch = g_new0 (AgentChannel, 1);
  ch->path = g_strdup (socket_path);
  ch->fd = -1;
  ch->decoder = agent_decoder_new ();
  ch->outq = write_queue_new (flush_out, ch);
  ch->cb = *callbacks;
  ch->user_data = user_data;
  ch->deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  ch->connect_src = g_timeout_add (CONNECT_RETRY_MS, try_connect, ch);
  return ch;
}

void
agent_channel_set_peer (AgentChannel *channel, GPid pid)
{
  channel->peer = pid;
}

void
agent_channel_free (AgentChannel *channel)
{
  if (channel == NULL)
    return;
  g_clear_handle_id (&channel->connect_src, g_source_remove);
  g_clear_handle_id (&channel->in_src, g_source_remove);
  g_clear_handle_id (&channel->backlog_src, g_source_remove);
  write_queue_free (channel->outq);
  if (channel->fd >= 0)
    close (channel->fd);
  agent_decoder_free (channel->decoder);
  g_free (channel->path);
  g_free (channel);
}

static gboolean
on_backlog (gpointer data)
{
  AgentChannel *ch = data;
  ch->backlog_src = 0;
  channel_close (ch, g_error_new (AGENT_PROTOCOL_ERROR, 0,
                                  "the guest does not read its agent port: more than %d MiB "
                                  "sent to it are waiting",
                                  BACKLOG_MAX >> 20));
  return G_SOURCE_REMOVE;
}

/* FALSE if nothing more may be sent. Past BACKLOG_MAX the queue is dropped
 * and the channel closes from the main loop (the caller may be in the
 * middle of handling a frame of this guest's). */
static gboolean
may_send (AgentChannel *ch, GError **error)
{
  if (ch->closed)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the agent channel is closed");
      return FALSE;
    }
  if (ch->backlog_src == 0 && write_queue_length (ch->outq) <= BACKLOG_MAX)
    return TRUE;
  if (ch->backlog_src == 0)
    {
      write_queue_clear (ch->outq);
      ch->backlog_src = g_idle_add (on_backlog, ch);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
               "the guest does not read its agent port (more than %d MiB wait)", BACKLOG_MAX >> 20);
  return FALSE;
}

void
agent_channel_resync (AgentChannel *channel)
{
  g_autofree char *token = g_uuid_string_random ();
  agent_decoder_resync (channel->decoder, token);
  /* A frame the old host left half-sent ends within the pad. */
  agent_frames_append_pad (write_queue_buffer (channel->outq));
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "resync");
  json_object_set_string_member (msg, "token", token);
  agent_channel_send_control (channel, msg, NULL);
}

gboolean
agent_channel_send_control (AgentChannel *channel, JsonObject *message, GError **error)
{
  if (!may_send (channel, error))
    return FALSE;
  if (!agent_frame_append_control (write_queue_buffer (channel->outq), message, error))
    return FALSE;
  flush_out (channel);
  return TRUE;
}

gboolean
agent_channel_send_data (AgentChannel *channel, AgentFrameType type, guint32 stream,
                         const guint8 *bytes, gsize len, gboolean eof, GError **error)
{
  if (!may_send (channel, error))
    return FALSE;
  agent_frames_append_data (write_queue_buffer (channel->outq), type,
                            eof ? AGENT_FRAME_FLAG_EOF : 0, stream, bytes, len);
  flush_out (channel);
  return TRUE;
}
