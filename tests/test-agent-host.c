/* The real sandbox-agent, run on the host over a socketpair (--port-fd):
 * the agent protocol tested without a VM. */
#include "agent-protocol.h"

#include <gio/gio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *agent_path;

typedef struct
{
  int fd;
  GSubprocess *proc;
  AgentDecoder *dec;
} Host;

static void
host_start (Host *h)
{
  int sv[2];
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_take_fd (l, sv[1], 3);
  g_autoptr (GError) error = NULL;
  h->proc = g_subprocess_launcher_spawn (l, &error, agent_path, "--port-fd", "3", NULL);
  g_assert_no_error (error);
  h->fd = sv[0];
  h->dec = agent_decoder_new ();
}

static void
host_stop (Host *h)
{
  close (h->fd);
  g_subprocess_wait (h->proc, NULL, NULL);
  g_object_unref (h->proc);
  agent_decoder_free (h->dec);
}

static void
send_bytes (Host *h, GByteArray *b)
{
  g_assert_cmpint (write (h->fd, b->data, b->len), ==, (gssize) b->len);
}

static void
send_control (Host *h, const char *json)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_assert_true (agent_frame_append_control (b, json_node_get_object (node), NULL));
  send_bytes (h, b);
}

/* The next frame, if one comes within @timeout_ms (-1: wait for it); its
 * payload copied into *payload. */
static gboolean
next_frame_within (Host *h, int timeout_ms, AgentFrame *f, GBytes **payload)
{
  g_autoptr (GError) error = NULL;
  while (!agent_decoder_next (h->dec, f, &error))
    {
      g_assert_no_error (error);
      struct pollfd p = { .fd = h->fd, .events = POLLIN };
      if (poll (&p, 1, timeout_ms) == 0)
        return FALSE;
      guint8 buf[65536];
      ssize_t n = read (h->fd, buf, sizeof buf);
      g_assert_cmpint (n, >, 0);
      agent_decoder_push (h->dec, buf, (gsize) n);
    }
  *payload = g_bytes_new (f->payload, f->length);
  return TRUE;
}

static AgentFrame
next_frame (Host *h, GBytes **payload)
{
  AgentFrame f;
  g_assert_true (next_frame_within (h, -1, &f, payload));
  return f;
}

static JsonObject *
next_control (Host *h)
{
  g_autoptr (GBytes) p = NULL;
  AgentFrame f = next_frame (h, &p);
  g_assert_cmpint (f.type, ==, AGENT_FRAME_CONTROL);
  JsonObject *o = agent_control_parse (&f, NULL);
  g_assert_nonnull (o);
  return o;
}

/* A started agent past the start of its session (hello, and nothing to
 * resend). */
static void
host_start_session (Host *h)
{
  host_start (h);
  g_autoptr (JsonObject) hello = next_control (h);
  g_assert_cmpstr (json_object_get_string_member (hello, "type"), ==, "hello");
  g_autoptr (JsonObject) replayed = next_control (h);
  g_assert_cmpstr (json_object_get_string_member (replayed, "type"), ==, "replayed");
}

/* Collects a process's output until its exit report, checking that the
 * report comes only after both streams ended. */
static JsonObject *
collect (Host *h, guint32 id, GString *out, GString *err)
{
  gboolean out_eof = FALSE, err_eof = FALSE;
  for (;;)
    {
      g_autoptr (GBytes) p = NULL;
      AgentFrame f = next_frame (h, &p);
      gsize len;
      const char *data = g_bytes_get_data (p, &len);
      if (f.type == AGENT_FRAME_CONTROL)
        {
          AgentFrame copy = f;
          copy.payload = (const guint8 *) data;
          JsonObject *o = agent_control_parse (&copy, NULL);
          if (g_str_equal (json_object_get_string_member (o, "type"), "exit"))
            {
              g_assert_true (out_eof && err_eof);
              return o;
            }
          json_object_unref (o);
          continue;
        }
      g_assert_cmpuint (f.stream, ==, id);
      GString *s = f.type == AGENT_FRAME_STDOUT ? out : err;
      g_string_append_len (s, data, (gssize) len);
      if (f.flags & AGENT_FRAME_FLAG_EOF)
        *(f.type == AGENT_FRAME_STDOUT ? &out_eof : &err_eof) = TRUE;
    }
}

static void
test_session (void)
{
  Host h = { 0 };
  host_start (&h);

  g_autoptr (JsonObject) hello = next_control (&h);
  struct utsname u;
  uname (&u);
  g_assert_cmpstr (json_object_get_string_member (hello, "type"), ==, "hello");
  g_assert_cmpint (json_object_get_int_member (hello, "protocol"), ==, AGENT_PROTOCOL_VERSION);
  g_assert_cmpstr (json_object_get_string_member (hello, "kernel_release"), ==, u.release);
  /* A new session resends what the last host did not acknowledge: nothing. */
  g_autoptr (JsonObject) replayed = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (replayed, "type"), ==, "replayed");
  g_assert_cmpint (json_object_get_int_member (replayed, "processes"), ==, 0);

  /* A process: its streams apart, its exit after both ended. */
  send_control (&h, "{\"type\":\"exec\",\"id\":1,\"args\":[\"sh\",\"-c\",\"echo hi; echo err >&2; "
                    "exit 5\"]}");
  g_autoptr (JsonObject) started = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (started, "type"), ==, "started");
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) err = g_string_new (NULL);
  g_autoptr (JsonObject) exit1 = collect (&h, 1, out, err);
  g_assert_cmpstr (out->str, ==, "hi\n");
  g_assert_cmpstr (err->str, ==, "err\n");
  g_assert_cmpint (json_object_get_int_member (exit1, "exit_code"), ==, 5);

  /* stdin, acknowledged, then closed. */
  send_control (&h, "{\"type\":\"exec\",\"id\":2,\"args\":[\"cat\"],\"stdin\":true}");
  g_autoptr (JsonObject) started2 = next_control (&h);
  g_autoptr (GByteArray) in = g_byte_array_new ();
  agent_frame_append (in, AGENT_FRAME_STDIN, AGENT_FRAME_FLAG_EOF, 2, "abc", 3);
  send_bytes (&h, in);
  g_string_truncate (out, 0);
  g_string_truncate (err, 0);
  g_autoptr (JsonObject) exit2 = collect (&h, 2, out, err);
  g_assert_cmpstr (out->str, ==, "abc");
  g_assert_cmpint (json_object_get_int_member (exit2, "exit_code"), ==, 0);

  /* A command that does not exist. */
  send_control (&h, "{\"type\":\"exec\",\"id\":3,\"args\":[\"/no/such/command\"]}");
  g_autoptr (JsonObject) failed = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (failed, "type"), ==, "exec-failed");
  g_assert_cmpint (json_object_get_int_member (failed, "errno"), ==, 2);

  /* Garbage resets the session's decoder but leaves the agent serving. */
  guint8 junk[12] = { 0x77, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4 };
  g_assert_cmpint (write (h.fd, junk, sizeof junk), ==, sizeof junk);
  g_usleep (200 * 1000);

  /* Signals reach the process. */
  send_control (&h, "{\"type\":\"exec\",\"id\":4,\"args\":[\"sleep\",\"30\"]}");
  g_autoptr (JsonObject) started4 = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (started4, "type"), ==, "started");
  send_control (&h, "{\"type\":\"signal\",\"id\":4,\"signal\":15}");
  g_string_truncate (out, 0);
  g_autoptr (JsonObject) exit4 = collect (&h, 4, out, err);
  g_assert_cmpint (json_object_get_int_member (exit4, "signal"), ==, 15);

  /* Shutdown outside a guest ends the agent, and only the agent. */
  send_control (&h, "{\"type\":\"shutdown\"}");
  g_autoptr (GError) error = NULL;
  g_assert_true (g_subprocess_wait_check (h.proc, NULL, &error));
  g_assert_no_error (error);
  host_stop (&h);
}

/* Output beyond AGENT_STREAM_WINDOW waits for the host's acknowledgement;
 * the process is held, not its bytes dropped. */
static void
test_window (void)
{
  Host h = { 0 };
  host_start_session (&h);
  send_control (&h, "{\"type\":\"exec\",\"id\":7,\"args\":[\"head\",\"-c\",\"3000000\","
                    "\"/dev/zero\"]}");
  g_autoptr (JsonObject) started = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (started, "type"), ==, "started");

  gsize got = 0;
  AgentFrame f;
  for (;;)
    {
      g_autoptr (GBytes) p = NULL;
      if (!next_frame_within (&h, 500, &f, &p))
        break;
      g_assert_cmpint (f.type, ==, AGENT_FRAME_STDOUT);
      got += g_bytes_get_size (p);
    }
  g_assert_cmpuint (got, ==, AGENT_STREAM_WINDOW);

  /* Acknowledging opens the window again, until the end. */
  gboolean exited = FALSE;
  while (!exited)
    {
      g_autofree char *ack
          = g_strdup_printf ("{\"type\":\"ack\",\"id\":7,\"stdout\":%zu,\"stderr\":0}", got);
      send_control (&h, ack);
      for (;;)
        {
          g_autoptr (GBytes) p = NULL;
          if (!next_frame_within (&h, 500, &f, &p))
            break;
          if (f.type == AGENT_FRAME_STDOUT)
            got += g_bytes_get_size (p);
          else if (f.type == AGENT_FRAME_CONTROL)
            {
              AgentFrame copy = f;
              copy.payload = g_bytes_get_data (p, NULL);
              g_autoptr (JsonObject) o = agent_control_parse (&copy, NULL);
              exited = g_str_equal (json_object_get_string_member (o, "type"), "exit");
            }
        }
    }
  g_assert_cmpuint (got, ==, 3000000);

  /* Until its exit is acknowledged the agent keeps the process (its id is
   * taken); afterwards it forgets it. */
  send_control (&h, "{\"type\":\"exec\",\"id\":7,\"args\":[\"true\"]}");
  g_autoptr (JsonObject) taken = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (taken, "type"), ==, "exec-failed");
  send_control (&h, "{\"type\":\"ack\",\"id\":7,\"stdout\":3000000,\"stderr\":0,"
                    "\"exit\":true}");
  send_control (&h, "{\"type\":\"exec\",\"id\":7,\"args\":[\"true\"]}");
  g_autoptr (JsonObject) again = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (again, "type"), ==, "started");

  send_control (&h, "{\"type\":\"shutdown\"}");
  g_assert_true (g_subprocess_wait_check (h.proc, NULL, NULL));
  host_stop (&h);
}

/* Acknowledged a step at a time (64 KiB at a time; sandboxd steps by 256 KiB), the
 * window reopens by exactly each step, and the bytes arrive whole and in
 * order (the agent drops acknowledged bytes in batches, not at each ack). */
static void
test_partial_acks (void)
{
  Host h = { 0 };
  host_start_session (&h);
  send_control (&h, "{\"type\":\"exec\",\"id\":8,\"args\":[\"seq\",\"1\",\"300000\"]}");
  g_autoptr (JsonObject) started = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (started, "type"), ==, "started");
  g_autoptr (GString) want = g_string_new (NULL);
  for (int i = 1; i <= 300000; i++)
    g_string_append_printf (want, "%d\n", i);

  g_autoptr (GString) got = g_string_new (NULL);
  gsize acked = 0;
  gboolean exited = FALSE;
  while (!exited)
    {
      /* Everything the window allows arrives, and nothing more. */
      gsize allowed = MIN (acked + AGENT_STREAM_WINDOW, want->len);
      for (;;)
        {
          g_autoptr (GBytes) p = NULL;
          AgentFrame f;
          if (!next_frame_within (&h, got->len < allowed ? 10000 : 100, &f, &p))
            break;
          gsize len;
          const char *data = g_bytes_get_data (p, &len);
          if (f.type == AGENT_FRAME_STDOUT)
            g_string_append_len (got, data, (gssize) len);
          else if (f.type == AGENT_FRAME_CONTROL)
            {
              AgentFrame copy = f;
              copy.payload = (const guint8 *) data;
              g_autoptr (JsonObject) o = agent_control_parse (&copy, NULL);
              exited = g_str_equal (json_object_get_string_member (o, "type"), "exit");
            }
        }
      g_assert_cmpuint (got->len, ==, allowed);
      acked = MIN (acked + 65536, got->len);
      g_autofree char *ack
          = g_strdup_printf ("{\"type\":\"ack\",\"id\":8,\"stdout\":%zu,\"stderr\":0}", acked);
      send_control (&h, ack);
    }
  g_assert_cmpuint (got->len, ==, want->len);
  g_assert_true (memcmp (got->str, want->str, want->len) == 0);

  send_control (&h, "{\"type\":\"shutdown\"}");
  g_assert_true (g_subprocess_wait_check (h.proc, NULL, NULL));
  host_stop (&h);
}

/* A restarted sandboxd on a port whose agent did not see the old one leave
 * (it connected before the agent read the port again): the same byte
 * stream goes on, from the middle of a frame. The new host asks for a
 * resync; the agent's answer starts a session whose replay completes the
 * output exactly as the old host stored it. */
static void
test_resync (void)
{
  Host h = { 0 };
  host_start_session (&h);
  send_control (&h, "{\"type\":\"exec\",\"id\":9,\"args\":[\"seq\",\"1\",\"300000\"]}");
  g_autoptr (JsonObject) started = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (started, "type"), ==, "started");
  g_autoptr (GString) want = g_string_new (NULL);
  for (int i = 1; i <= 300000; i++)
    g_string_append_printf (want, "%d\n", i);

  /* The old host stores 600000 bytes and acknowledges 300000 of them. */
  g_autoptr (GString) stored = g_string_new (NULL);
  gboolean acked_once = FALSE;
  while (stored->len < 600000)
    {
      g_autoptr (GBytes) p = NULL;
      AgentFrame f = next_frame (&h, &p);
      if (f.type == AGENT_FRAME_STDOUT)
        g_string_append_len (stored, g_bytes_get_data (p, NULL), (gssize) g_bytes_get_size (p));
      if (stored->len >= 300000 && !acked_once)
        {
          send_control (&h, "{\"type\":\"ack\",\"id\":9,\"stdout\":300000,\"stderr\":0}");
          acked_once = TRUE;
        }
    }
  /* It dies: what it had read but not decoded is lost, and so are 7777
   * bytes on the way, which leaves the stream in the middle of a frame. */
  agent_decoder_free (h.dec);
  guint8 lost[7777];
  gsize n_lost = 0;
  while (n_lost < sizeof lost)
    {
      ssize_t n = read (h.fd, lost, sizeof lost - n_lost);
      g_assert_cmpint (n, >, 0);
      n_lost += (gsize) n;
    }

  /* The new host. */
  h.dec = agent_decoder_new ();
  agent_decoder_resync (h.dec, "token-2");
  g_autoptr (GByteArray) pad = g_byte_array_new ();
  agent_frames_append_pad (pad);
  send_bytes (&h, pad);
  send_control (&h, "{\"type\":\"resync\",\"token\":\"token-2\"}");
  g_autoptr (JsonObject) hello = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (hello, "type"), ==, "hello");
  g_autoptr (JsonObject) replay = next_control (&h);
  g_assert_cmpstr (json_object_get_string_member (replay, "type"), ==, "replay");
  g_assert_cmpint (json_object_get_int_member (replay, "id"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (replay, "stdout"), ==, 300000);

  /* As sandboxd does: skip what is stored, store the rest, acknowledge. */
  gsize skip = stored->len - 300000;
  gboolean exited = FALSE;
  while (!exited)
    {
      g_autoptr (GBytes) p = NULL;
      AgentFrame f;
      if (!next_frame_within (&h, 200, &f, &p))
        {
          g_autofree char *ack = g_strdup_printf (
              "{\"type\":\"ack\",\"id\":9,\"stdout\":%zu,\"stderr\":0}", stored->len);
          send_control (&h, ack);
          continue;
        }
      gsize len;
      const char *data = g_bytes_get_data (p, &len);
      if (f.type == AGENT_FRAME_STDOUT)
        {
          gsize drop = MIN (skip, len);
          skip -= drop;
          g_string_append_len (stored, data + drop, (gssize) (len - drop));
        }
      else if (f.type == AGENT_FRAME_CONTROL)
        {
          AgentFrame copy = f;
          copy.payload = (const guint8 *) data;
          g_autoptr (JsonObject) o = agent_control_parse (&copy, NULL);
          exited = g_str_equal (json_object_get_string_member (o, "type"), "exit");
        }
    }
  g_assert_cmpuint (stored->len, ==, want->len);
  g_assert_true (memcmp (stored->str, want->str, want->len) == 0);

  send_control (&h, "{\"type\":\"shutdown\"}");
  g_assert_true (g_subprocess_wait_check (h.proc, NULL, NULL));
  host_stop (&h);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  agent_path = g_getenv ("SANDBOX_AGENT");
  g_assert_nonnull (agent_path);
  g_test_add_func ("/agent-host/session", test_session);
  g_test_add_func ("/agent-host/window", test_window);
  g_test_add_func ("/agent-host/partial-acks", test_partial_acks);
  g_test_add_func ("/agent-host/resync", test_resync);
  return g_test_run ();
}
