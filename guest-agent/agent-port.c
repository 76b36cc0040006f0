/* agent-port.c — the guest end of the agent channel.
 *
 * A virtio-serial port stays open across hosts: when the host closes its
 * end, reads report HUP until one connects again, which the guest can only
 * see by polling. Each connection is a session that starts with hello; what
 * was queued for the previous host is dropped (a partly written frame would
 * desynchronise the next session) and agent-output.c resends what was not
 * acknowledged. The guest cannot always see a host leave: when a new one
 * connects before we read the port again, nothing tells us. Such a host
 * (a restarted sandboxd) asks for a resync, and we start the session then.
 */
#include "agent.h"
#include "config.h"
#include "json-fields.h"
#include "write-queue.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#define READ_CHUNK 32768
/* Output is read from processes only while the queue to the host is short. */
#define OUTQ_HIGH (1024 * 1024)
#define OUTQ_LOW (256 * 1024)
#define RECONNECT_POLL_MS 10

static struct
{
  int fd;
  gboolean connected;
  gboolean busy;
  guint in_src;
  guint reconnect_src;
  AgentDecoder *decoder;
  WriteQueue *outq;
  AgentPortCallbacks cb;
} port;

static gsize
queued (void)
{
  return write_queue_length (port.outq);
}

static void
set_busy (gboolean busy)
{
  if (port.busy == busy)
    return;
  port.busy = busy;
  port.cb.queue_changed ();
}

static void
flush (void)
{
  if (port.connected && queued () > 0 && write_queue_flush (port.outq, port.fd, 0, NULL, NULL) < 0)
    fprintf (stderr, "sandbox-agent: write to port: %s\n", g_strerror (errno));
  if (queued () >= OUTQ_HIGH)
    set_busy (TRUE);
  else if (queued () <= OUTQ_LOW)
    set_busy (FALSE);
}

static void
on_port_writable (gpointer data)
{
  flush ();
}

gboolean
agent_port_busy (void)
{
  return port.busy;
}

void
agent_port_send_control (JsonObject *message)
{
  g_autoptr (GError) error = NULL;
  if (!agent_frame_append_control (write_queue_buffer (port.outq), message, &error))
    fprintf (stderr, "sandbox-agent: dropping control message: %s\n", error->message);
  flush ();
}

void
agent_port_send_data (AgentFrameType type, guint8 flags, guint32 stream, const guint8 *bytes,
                      gsize len)
{
  /* Connected, a frame goes straight to the port when nothing waits
   * (write_queue_writev): each byte copied once less than through the
   * queue. */
  if (port.connected && len <= AGENT_FRAME_MAX_PAYLOAD)
    {
      guint8 h[AGENT_FRAME_HEADER_SIZE];
      agent_frame_header (h, type, flags, stream, len);
      struct iovec iov[2] = { { h, sizeof h }, { (void *) bytes, len } };
      write_queue_writev (port.outq, port.fd, iov, 2);
    }
  else
    agent_frames_append_data (write_queue_buffer (port.outq), type, flags, stream, bytes, len);
  flush ();
}

void
agent_port_flush_for (int budget_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) budget_ms * 1000;
  while (port.connected && queued () > 0 && g_get_monotonic_time () < deadline)
    {
      struct pollfd p = { .fd = port.fd, .events = POLLOUT };
      if (poll (&p, 1, 50) > 0)
        flush ();
    }
}

static void disconnected (void);

static gboolean
on_readable (int fd, GIOCondition cond, gpointer data)
{
  guint8 buf[READ_CHUNK];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      port.in_src = 0;
      disconnected ();
      return G_SOURCE_REMOVE;
    }

  agent_decoder_push (port.decoder, buf, (gsize) n);
  AgentFrame frame;
  g_autoptr (GError) error = NULL;
  while (agent_decoder_next (port.decoder, &frame, &error))
    port.cb.frame (&frame);
  if (error != NULL)
    {
      /* A host that speaks garbage gets a fresh decoder, not a dead agent. */
      fprintf (stderr, "sandbox-agent: %s; resetting the decoder\n", error->message);
      agent_decoder_free (port.decoder);
      port.decoder = agent_decoder_new ();
    }
  return G_SOURCE_CONTINUE;
}

static void
send_hello (gboolean thawed)
{
  g_autofree char *release = agent_system_kernel_release ();
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "hello");
  json_object_set_int_member (msg, "protocol", AGENT_PROTOCOL_VERSION);
  json_object_set_string_member (msg, "agent_version", SANDBOXD_VERSION);
  json_object_set_string_member (msg, "kernel_release", release);
  json_object_set_int_member (msg, "uptime_ms", agent_system_uptime_ms ());
  if (thawed)
    json_object_set_boolean_member (msg, "thawed", TRUE);
  agent_port_send_control (msg);
}

/* A session starts on what was queued for the last one dropped (a frame
 * partly written is cut off: a new host reads from a frame's start, or,
 * after a resync, scans past it to the pad and "resynced"), then hello. */
static void
begin_session (gboolean thawed, const char *resync_token)
{
  write_queue_clear (port.outq);
  if (resync_token)
    {
      agent_frames_append_pad (write_queue_buffer (port.outq));
      g_autoptr (JsonObject) answer = json_object_new ();
      json_object_set_string_member (answer, "type", "resynced");
      json_object_set_string_member (answer, "token", resync_token);
      agent_port_send_control (answer);
    }
  send_hello (thawed);
  port.cb.session ();
}

void
agent_port_new_session (gboolean thawed)
{
  begin_session (thawed, NULL);
}

void
agent_port_handle_resync (JsonObject *message)
{
  g_autoptr (GError) error = NULL;
  const char *token = NULL;
  if (!json_field_string (message, "token", TRUE, &token, &error))
    {
      fprintf (stderr, "sandbox-agent: bad resync: %s\n", error->message);
      return;
    }
  begin_session (FALSE, token);
}

static gboolean
poll_host_connected (gpointer data)
{
  struct pollfd p = { .fd = port.fd, .events = POLLIN | POLLOUT };
  if (poll (&p, 1, 0) < 0 || (p.revents & POLLHUP))
    return G_SOURCE_CONTINUE;

  port.reconnect_src = 0;
  port.connected = TRUE;
  agent_decoder_free (port.decoder);
  port.decoder = agent_decoder_new ();
  port.in_src = g_unix_fd_add (port.fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, NULL);
  /* Frames queued while no host was there are resent by the session. */
  begin_session (FALSE, NULL);
  return G_SOURCE_REMOVE;
}

static void
disconnected (void)
{
  port.connected = FALSE;
  write_queue_clear (port.outq);
  set_busy (FALSE);
  if (port.reconnect_src == 0)
    port.reconnect_src = g_timeout_add (RECONNECT_POLL_MS, poll_host_connected, NULL);
}

void
agent_port_start (int fd, const AgentPortCallbacks *callbacks)
{
  port.fd = fd;
  port.cb = *callbacks;
  port.outq = write_queue_new (on_port_writable, NULL);
  port.decoder = agent_decoder_new ();
  disconnected ();
}
