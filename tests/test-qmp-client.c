/* The QMP client against a real QEMU, and against a fake QMP server that
 * misbehaves in the ways a real one cannot be made to. */
#include "qemu-monitor.h"
#include "qmp-client.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct
{
  gboolean ready;
  gboolean replied;
  GError *error;
  JsonNode *result;
  GPtrArray *events;
  GError *closed;
  gboolean was_closed;
} Seen;

static void
seen_clear (Seen *s)
{
  g_clear_error (&s->error);
  g_clear_error (&s->closed);
  g_clear_pointer (&s->result, json_node_unref);
  g_clear_pointer (&s->events, g_ptr_array_unref);
}

static void
on_ready (QmpClient *c, JsonNode *result, const GError *error, gpointer data)
{
  Seen *s = data;
  s->ready = TRUE;
  if (error)
    s->error = g_error_copy (error);
}

static void
on_reply (QmpClient *c, JsonNode *result, const GError *error, gpointer data)
{
  Seen *s = data;
  s->replied = TRUE;
  g_clear_error (&s->error);
  g_clear_pointer (&s->result, json_node_unref);
  if (error)
    s->error = g_error_copy (error);
  else
    s->result = json_node_copy (result);
}

static void
on_event (QmpClient *c, const char *event, JsonObject *data, gpointer user_data)
{
  Seen *s = user_data;
  g_ptr_array_add (s->events, g_strdup (event));
}

static void
on_closed (QmpClient *c, const GError *reason, gpointer data)
{
  Seen *s = data;
  s->was_closed = TRUE;
  s->closed = g_error_copy (reason);
}

static void
iterate_until (gboolean *flag)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (!*flag && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (*flag);
}

static gboolean
has_event (Seen *s, const char *name)
{
  for (guint i = 0; i < s->events->len; i++)
    if (g_str_equal (s->events->pdata[i], name))
      return TRUE;
  return FALSE;
}

static void
wait_event (Seen *s, const char *name)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (!has_event (s, name) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (has_event (s, name));
}

static void
execute_full (QmpClient *c, Seen *s, const char *cmd, JsonObject *args, int fd, guint timeout_ms)
{
  s->replied = FALSE;
  qmp_client_execute_with_fd_async (c, cmd, args, fd, timeout_ms, on_reply, s);
  iterate_until (&s->replied);
}

static void
execute (QmpClient *c, Seen *s, const char *cmd, guint timeout_ms)
{
  execute_full (c, s, cmd, NULL, -1, timeout_ms);
}

static QmpClient *
connect_client (const char *path, Seen *s)
{
  QmpClient *c = qmp_client_new (path);
  s->events = g_ptr_array_new_with_free_func (g_free);
  qmp_client_subscribe (c, NULL, on_event, s);
  qmp_client_set_closed_handler (c, on_closed, s);
  qmp_client_connect_async (c, 10000, on_ready, s);
  iterate_until (&s->ready);
  return c;
}

/* ---- against a real QEMU ---- */

static void
test_real_qemu (void)
{
  g_autofree char *dir = g_dir_make_tmp ("qmptest-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "qmp.sock", NULL);
  g_autofree char *qmp_arg = g_strdup_printf ("unix:%s,server=on,wait=off", path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) qemu
      = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, "qemu-system-x86_64", "-M",
                          "microvm", "-accel", "tcg", "-m", "16", "-nodefaults", "-no-user-config",
                          "-display", "none", "-S", "-qmp", qmp_arg, NULL);
  g_assert_no_error (error);

  Seen s = { 0 };
  g_autoptr (QmpClient) c = connect_client (path, &s);
  g_assert_no_error (s.error);
  g_assert_true (qmp_client_is_connected (c));
  /* The greeting's version is the one the binary itself prints. */
  g_autofree char *banner = NULL;
  g_assert_true (
      g_spawn_command_line_sync ("qemu-system-x86_64 --version", &banner, NULL, NULL, NULL));
  g_autofree char *want = g_strdup_printf ("version %s", qmp_client_get_qemu_version (c));
  if (strstr (banner, want) == NULL)
    g_error ("\"%s\" not in \"%s\"", want, banner);

  execute (c, &s, "query-status", 5000);
  g_assert_no_error (s.error);
  JsonObject *st = json_node_get_object (s.result);
  g_assert_cmpstr (json_object_get_string_member (st, "status"), ==, "prelaunch");
  g_assert_false (json_object_get_boolean_member (st, "running"));

  g_assert_true (g_strv_contains (qmp_client_get_capabilities (c), "oob"));

  /* Subscribers by name get only their event; unsubscribed ones none. */
  Seen stops = { .events = g_ptr_array_new_with_free_func (g_free) };
  Seen gone = { .events = g_ptr_array_new_with_free_func (g_free) };
  qmp_client_subscribe (c, "STOP", on_event, &stops);
  guint sub = qmp_client_subscribe (c, NULL, on_event, &gone);
  qmp_client_unsubscribe (c, sub);

  execute (c, &s, "cont", 5000);
  g_assert_no_error (s.error);
  wait_event (&s, "RESUME");
  execute (c, &s, "stop", 5000);
  g_assert_no_error (s.error);
  wait_event (&s, "STOP");
  g_assert_cmpuint (stops.events->len, ==, 1);
  g_assert_cmpstr (stops.events->pdata[0], ==, "STOP");
  g_assert_cmpuint (gone.events->len, ==, 0);
  seen_clear (&stops);
  seen_clear (&gone);

  /* QEMU's own errors keep their class and description. */
  execute (c, &s, "no-such-command", 5000);
  g_assert_error (s.error, QMP_ERROR, QMP_ERROR_COMMAND);
  g_assert_true (g_str_has_prefix (s.error->message, "CommandNotFound: "));

  /* File descriptors travel with their command. */
  int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  JsonObject *args = json_object_new ();
  json_object_set_int_member (args, "fdset-id", 7);
  execute_full (c, &s, "add-fd", args, fd, 5000);
  g_assert_no_error (s.error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (s.result), "fdset-id"), ==, 7);
  execute (c, &s, "query-fdsets", 5000);
  g_assert_no_error (s.error);
  JsonArray *sets = json_node_get_array (s.result);
  g_assert_cmpuint (json_array_get_length (sets), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (sets, 0), "fdset-id"),
                   ==, 7);
  args = json_object_new ();
  json_object_set_string_member (args, "fdname", "passed");
  execute_full (c, &s, "getfd", args, fd, 5000);
  g_assert_no_error (s.error);
  args = json_object_new ();
  json_object_set_string_member (args, "fdname", "passed");
  execute_full (c, &s, "closefd", args, -1, 5000);
  g_assert_no_error (s.error); /* closefd of a name QEMU never got is an error */
  args = json_object_new ();
  json_object_set_string_member (args, "fdname", "never-passed");
  execute_full (c, &s, "closefd", args, -1, 5000);
  g_assert_error (s.error, QMP_ERROR, QMP_ERROR_COMMAND);
  close (fd);

  execute (c, &s, "quit", 5000);
  wait_event (&s, "SHUTDOWN");
  iterate_until (&s.was_closed);
  g_assert_error (s.closed, QMP_ERROR, QMP_ERROR_CLOSED);
  g_subprocess_wait (qemu, NULL, NULL);

  /* Closed means closed: later commands fail at once. */
  execute (c, &s, "query-status", 5000);
  g_assert_error (s.error, QMP_ERROR, QMP_ERROR_CLOSED);
  seen_clear (&s);
  rmdir (dir);
}

static void
test_connect_stops_when_qemu_is_gone (void)
{
  Seen s = { 0 };
  g_autoptr (GError) error = NULL;
  /* Alive long enough to read its pid (GLib forgets the pid of a process
   * it has reaped: "true" could be gone before we asked, seen under ASan),
   * then waited for: gone. */
  g_autoptr (GSubprocess) gone
      = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "sleep", "0.2", NULL);
  g_assert_no_error (error);
  const char *ident = g_subprocess_get_identifier (gone);
  g_assert_nonnull (ident);
  GPid pid = atoi (ident);
  g_subprocess_wait (gone, NULL, NULL);
  QmpClient *c = qmp_client_new ("/nonexistent/qmp.sock");
  qmp_client_set_process (c, pid);
  gint64 start = g_get_monotonic_time ();
  qmp_client_connect_async (c, 30000, on_ready, &s);
  iterate_until (&s.ready);
  g_assert_error (s.error, QMP_ERROR, QMP_ERROR_CONNECT);
  g_assert_nonnull (strstr (s.error->message, "exited before its QMP socket"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  qmp_client_free (c);
  g_subprocess_wait (gone, NULL, NULL);
  seen_clear (&s);
}

/* A QMP socket served by another process than the QEMU it should be (a
 * socket swapped for a link to another) is refused before a byte is read.
 * The VM suites cover the other half: every sandbox's QMP passes it. */
static void
test_peer_must_be_qemu (void)
{
  g_autofree char *dir = g_dir_make_tmp ("qmppeer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "qmp.sock", NULL);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  int listener = socket (AF_UNIX, SOCK_STREAM, 0);
  g_assert_cmpint (bind (listener, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (listener, 1), ==, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) qemu
      = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "sleep", "30", NULL);
  g_assert_no_error (error);

  Seen s = { 0 };
  QmpClient *c = qmp_client_new (path);
  qmp_client_set_process (c, atoi (g_subprocess_get_identifier (qemu)));
  qmp_client_connect_async (c, 5000, on_ready, &s);
  iterate_until (&s.ready);
  g_assert_error (s.error, QMP_ERROR, QMP_ERROR_CONNECT);
  g_autofree char *want = g_strdup_printf ("is served by pid %d, not by QEMU", (int) getpid ());
  if (strstr (s.error->message, want) == NULL)
    g_error ("\"%s\" not in \"%s\"", want, s.error->message);
  qmp_client_free (c);
  g_subprocess_force_exit (qemu);
  g_subprocess_wait (qemu, NULL, NULL);
  close (listener);
  unlink (path);
  rmdir (dir);
  seen_clear (&s);
}

static void
test_connect_gives_up (void)
{
  Seen s = { 0 };
  QmpClient *c = qmp_client_new ("/nonexistent/qmp.sock");
  qmp_client_connect_async (c, 200, on_ready, &s);
  iterate_until (&s.ready);
  g_assert_error (s.error, QMP_ERROR, QMP_ERROR_CONNECT);
  g_assert_nonnull (strstr (s.error->message, "/nonexistent/qmp.sock"));
  qmp_client_free (c);
  seen_clear (&s);
}

/* ---- against a fake QMP server ---- */

typedef enum
{
  FAKE_LATE_REPLY, /* answers the first command late, the second on time */
  FAKE_SEND_RAW,   /* answers the first command with raw bytes, then closes */
  FAKE_DEAF,       /* reads nothing after the capabilities, until told to stop */
  FAKE_RECORD,     /* answers each command {} and keeps its line, until the client closes */
  FAKE_EVENTS,     /* at the first command: raw (events), then its reply; then waits */
} FakeMode;

typedef struct
{
  int listen_fd;
  FakeMode mode;
  const char *raw;
  gsize raw_len;
  gint stop;       /* FAKE_DEAF: hang up */
  GPtrArray *seen; /* FAKE_RECORD: each command as sent, without its id */
} Fake;

static char *
read_line (int fd)
{
  GString *s = g_string_new (NULL);
  char ch;
  while (read (fd, &ch, 1) == 1 && ch != '\n')
    g_string_append_c (s, ch);
  return g_string_free (s, s->len == 0);
}

static char *
line_id (const char *line)
{
  g_autoptr (JsonNode) node = json_from_string (line, NULL);
  return g_strdup (json_object_get_string_member (json_node_get_object (node), "id"));
}

static void
send_str (int fd, const char *s)
{
  g_assert_cmpint (write (fd, s, strlen (s)), ==, (gssize) strlen (s));
}

static gpointer
fake_thread (gpointer data)
{
  Fake *f = data;
  int fd = accept (f->listen_fd, NULL, NULL);
  send_str (fd, "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 9, \"minor\": 9, \"micro\": 9}}, "
                "\"capabilities\": []}}\r\n");
  g_autofree char *caps = read_line (fd);
  g_autofree char *caps_id = line_id (caps);
  g_autofree char *caps_reply = g_strdup_printf ("{\"return\": {}, \"id\": \"%s\"}\r\n", caps_id);
  send_str (fd, caps_reply);
  if (f->mode == FAKE_RECORD)
    {
      char *line;
      while ((line = read_line (fd)) != NULL)
        {
          g_autoptr (JsonNode) node = json_from_string (line, NULL);
          JsonObject *o = json_node_get_object (node);
          g_autofree char *id = g_strdup (json_object_get_string_member (o, "id"));
          json_object_remove_member (o, "id");
          g_ptr_array_add (f->seen, json_to_string (node, FALSE));
          g_free (line);
          g_autofree char *reply = g_strdup_printf ("{\"return\": {}, \"id\": \"%s\"}\r\n", id);
          send_str (fd, reply);
        }
      close (fd);
      return NULL;
    }
  if (f->mode == FAKE_EVENTS)
    {
      g_autofree char *cmd = read_line (fd);
      g_autofree char *cmd_id = line_id (cmd);
      g_autofree char *reply = g_strdup_printf ("{\"return\": {}, \"id\": \"%s\"}\r\n", cmd_id);
      send_str (fd, f->raw);
      send_str (fd, reply);
      read_line (fd); /* until the client closes */
      close (fd);
      return NULL;
    }
  if (f->mode == FAKE_DEAF)
    {
      while (!g_atomic_int_get (&f->stop))
        g_usleep (10000);
      close (fd);
      return NULL;
    }

  g_autofree char *first = read_line (fd);
  g_autofree char *first_id = line_id (first);
  if (f->mode == FAKE_SEND_RAW)
    {
      /* The client may hang up before all of it is sent (the long line). */
      (void) !write (fd, f->raw, f->raw_len);
      close (fd);
      return NULL;
    }
  /* FAKE_LATE_REPLY: the client times out on the first command, sends a
   * second; the late answer to the first comes before the second's. */
  g_autofree char *second = read_line (fd);
  g_autofree char *second_id = line_id (second);
  g_autofree char *late = g_strdup_printf ("{\"return\": {\"late\": true}, \"id\": \"%s\"}\r\n"
                                           "{\"return\": {\"second\": true}, \"id\": \"%s\"}\r\n",
                                           first_id, second_id);
  send_str (fd, late);
  read_line (fd); /* until the client closes */
  close (fd);
  return NULL;
}

static QmpClient *
start_fake (Fake *f, char **path_out, GThread **thread, Seen *s)
{
  g_autofree char *dir = g_dir_make_tmp ("qmpfake-XXXXXX", NULL);
  char *path = g_build_filename (dir, "qmp.sock", NULL);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  f->listen_fd = socket (AF_UNIX, SOCK_STREAM, 0);
  g_assert_cmpint (bind (f->listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (f->listen_fd, 1), ==, 0);
  *thread = g_thread_new ("fake-qmp", fake_thread, f);
  *path_out = path;
  QmpClient *c = connect_client (path, s);
  g_assert_no_error (s->error);
  g_assert_cmpstr (qmp_client_get_qemu_version (c), ==, "9.9.9");
  return c;
}

static void
stop_fake (Fake *f, char *path, GThread *thread, QmpClient *c)
{
  qmp_client_free (c);
  g_thread_join (thread);
  close (f->listen_fd);
  unlink (path);
  g_autofree char *dir = g_path_get_dirname (path);
  rmdir (dir);
  g_free (path);
}

static void
test_timeout_keeps_stream_in_sync (void)
{
  Fake f = { .mode = FAKE_LATE_REPLY };
  Seen s = { 0 };
  char *path;
  GThread *thread;
  QmpClient *c = start_fake (&f, &path, &thread, &s);

  execute (c, &s, "first", 100);
  g_assert_error (s.error, QMP_ERROR, QMP_ERROR_TIMEOUT);
  execute (c, &s, "second", 5000);
  g_assert_no_error (s.error);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (s.result), "second"));
  g_assert_false (s.was_closed);
  stop_fake (&f, path, thread, c);
  seen_clear (&s);
}

static void
on_typed (QmpClient *c, JsonNode *result, const GError *error, gpointer data)
{
  Seen *s = data;
  g_assert_no_error (error);
  s->replied = TRUE;
}

/* Each of QEMU's commands as qemu-monitor.c writes it: the wire format
 * the domain relies on, one line each. */
static void
test_typed_commands (void)
{
  Fake f = { .mode = FAKE_RECORD, .seen = g_ptr_array_new_with_free_func (g_free) };
  Seen s = { 0 };
  char *path;
  GThread *thread;
  QmpClient *c = start_fake (&f, &path, &thread, &s);
  QemuReply r = { 5000, on_typed, &s };
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
#define RUN(call)                                                                                  \
  do                                                                                               \
    {                                                                                              \
      s.replied = FALSE;                                                                           \
      call;                                                                                        \
      iterate_until (&s.replied);                                                                  \
    }                                                                                              \
  while (0)
  RUN (qemu_monitor_stop (c, &r));
  RUN (qemu_monitor_cont (c, &r));
  RUN (qemu_monitor_system_powerdown (c, &r));
  RUN (qemu_monitor_quit (c, &r));
  RUN (qemu_monitor_query_status (c, &r));
  RUN (qemu_monitor_query_migrate (c, &r));
  RUN (qemu_monitor_add_fd (c, 3, fd, &r));
  RUN (qemu_monitor_remove_fd (c, 3, &r));
  RUN (qemu_monitor_getfd (c, "state", fd, &r));
  RUN (qemu_monitor_blockdev_add_raw (c, "disk-2", "/dev/fdset/3", TRUE, &r));
  RUN (qemu_monitor_blockdev_del (c, "disk-2", &r));
  RUN (qemu_monitor_device_add_scsi_hd (c, "dev-disk-2", "scsi0.0", "disk-2", 2, &r));
  RUN (qemu_monitor_device_del (c, "dev-disk-2", &r));
  RUN (qemu_monitor_migrate_set_capability (c, "x-ignore-shared", TRUE, &r));
  RUN (qemu_monitor_migrate (c, "fd:state", &r));
  RUN (qemu_monitor_migrate_incoming (c, "fd:state", &r));
#undef RUN
  close (fd);
  stop_fake (&f, path, thread, c);
  static const char *const want[] = {
    "{\"execute\":\"stop\"}",
    "{\"execute\":\"cont\"}",
    "{\"execute\":\"system_powerdown\"}",
    "{\"execute\":\"quit\"}",
    "{\"execute\":\"query-status\"}",
    "{\"execute\":\"query-migrate\"}",
    "{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":3}}",
    "{\"execute\":\"remove-fd\",\"arguments\":{\"fdset-id\":3}}",
    "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"state\"}}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"node-name\":\"disk-2\",\"driver\":\"raw\","
    "\"read-only\":true,\"file\":{\"driver\":\"file\",\"filename\":\"/dev/fdset/3\"}}}",
    "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"disk-2\"}}",
    "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"scsi-hd\",\"id\":\"dev-disk-2\","
    "\"bus\":\"scsi0.0\",\"drive\":\"disk-2\",\"scsi-id\":2,\"lun\":0}}",
    "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"dev-disk-2\"}}",
    "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[{\"capability\":"
    "\"x-ignore-shared\",\"state\":true}]}}",
    "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:state\"}}",
    "{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"fd:state\"}}",
  };
  g_assert_cmpuint (f.seen->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < f.seen->len; i++)
    g_assert_cmpstr (f.seen->pdata[i], ==, want[i]);
  g_ptr_array_unref (f.seen);
  seen_clear (&s);
}

typedef struct
{
  guint replies, backlog;
  GError *last;
} Counts;

static void
on_count (QmpClient *c, JsonNode *result, const GError *error, gpointer data)
{
  Counts *n = data;
  n->replies++;
  if (g_error_matches (error, QMP_ERROR, QMP_ERROR_BACKLOG))
    {
      n->backlog++;
      g_clear_error (&n->last);
      n->last = g_error_copy (error);
    }
}

/* A QEMU that stops reading its QMP socket: commands past the backlog's
 * bound fail at once, so the client holds at most that much. */
static void
test_backlog_bounded (void)
{
  Fake f = { .mode = FAKE_DEAF };
  Seen s = { 0 };
  char *path;
  GThread *thread;
  QmpClient *c = start_fake (&f, &path, &thread, &s);
  Counts n = { 0 };
  g_autofree char *big = g_malloc (16385);
  memset (big, 'x', 16384);
  big[16384] = '\0';
  for (int i = 0; i < 1000; i++)
    {
      JsonObject *args = json_object_new ();
      json_object_set_string_member (args, "pad", big);
      qmp_client_execute_with_fd_async (c, "human-monitor-command", args, -1, 0, on_count, &n);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  /* 1 MiB of 16 KiB commands (and what the socket's buffer took) wait;
   * the rest failed at once, saying why. */
  g_test_message ("%u of 1000 refused", n.backlog);
  g_assert_cmpuint (n.replies, ==, n.backlog);
  g_assert_cmpuint (n.backlog, >=, 1000 - (QMP_BACKLOG_MAX_BYTES + 512 * 1024) / 16384);
  g_assert_nonnull (n.last);
  g_assert_nonnull (strstr (n.last->message, "QEMU does not read its QMP socket"));
  g_assert_true (qmp_client_is_connected (c));
  g_atomic_int_set (&f.stop, 1);
  iterate_until (&s.was_closed);
  g_assert_cmpuint (n.replies, ==, 1000);
  g_clear_error (&n.last);
  stop_fake (&f, path, thread, c);
  seen_clear (&s);
}

static void
check_bad_input (const char *raw, gsize len, int code, const char *fragment)
{
  Fake f = { .mode = FAKE_SEND_RAW, .raw = raw, .raw_len = len };
  Seen s = { 0 };
  char *path;
  GThread *thread;
  QmpClient *c = start_fake (&f, &path, &thread, &s);

  execute (c, &s, "query-status", 5000);
  g_assert_error (s.error, QMP_ERROR, code);
  if (strstr (s.error->message, fragment) == NULL)
    g_error ("\"%s\" not in \"%s\"", fragment, s.error->message);
  g_assert_true (s.was_closed);
  g_assert_error (s.closed, QMP_ERROR, code);
  g_assert_false (qmp_client_is_connected (c));
  stop_fake (&f, path, thread, c);
  seen_clear (&s);
}

static void
test_bad_input (void)
{
  check_bad_input ("{this is not json\r\n", 19, QMP_ERROR_PROTOCOL, "malformed JSON");
  check_bad_input ("[1, 2, 3]\r\n", 11, QMP_ERROR_PROTOCOL, "not an object");
  check_bad_input ("{\"return\": {}, \"id\": \"who?\"}\r\n", 30, QMP_ERROR_PROTOCOL,
                   "unknown id \"who?\"");
  check_bad_input ("{\"surprise\": 1}\r\n", 17, QMP_ERROR_PROTOCOL, "unknown kind");
  check_bad_input ("{\"return\": {}, \"id\"", 19, QMP_ERROR_CLOSED, "in the middle of a message");

  /* QMP lines are capped in length, but 200 KB of "[" would still
   * overflow json-glib's stack without a depth check. */
  gsize deep_len = 200000;
  g_autofree char *deep = g_malloc (deep_len + 2);
  memset (deep, '[', deep_len);
  memcpy (deep + deep_len, "\r\n", 2);
  check_bad_input (deep, deep_len + 2, QMP_ERROR_PROTOCOL, "nest deeper than 64 levels");

  gsize big = 2 * 1024 * 1024;
  g_autofree char *huge = g_malloc (big);
  memset (huge, 'x', big);
  check_bad_input (huge, big, QMP_ERROR_PROTOCOL, "QMP line longer than");
}

/* QEMU's events as the domain gets them: typed, each to its handler,
 * others ignored, a missing field as documented. */
typedef struct
{
  GPtrArray *got;
  gboolean panicked;
} Events;

static void
got_device (const char *device, gpointer data)
{
  Events *e = data;
  g_ptr_array_add (e->got, g_strdup_printf ("deleted %s", device ? device : "(none)"));
}

static void
got_shutdown (const char *reason, gpointer data)
{
  Events *e = data;
  g_ptr_array_add (e->got, g_strdup_printf ("shutdown %s", reason));
}

static void
got_panic (gpointer data)
{
  Events *e = data;
  g_ptr_array_add (e->got, g_strdup ("panicked"));
  e->panicked = TRUE;
}

static void
test_typed_events (void)
{
  static const char events[]
      = "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"dev-disk-1\", \"path\": "
        "\"/machine/peripheral/dev-disk-1\"}}\r\n"
        "{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/unattached\"}}\r\n"
        "{\"event\": \"RESUME\"}\r\n"
        "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": "
        "\"guest-shutdown\"}}\r\n"
        "{\"event\": \"SHUTDOWN\"}\r\n"
        "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"pause\"}}\r\n";
  Fake f = { .mode = FAKE_EVENTS, .raw = events };
  Seen s = { 0 };
  char *path;
  GThread *thread;
  Events e = { .got = g_ptr_array_new_with_free_func (g_free) };
  static const QemuEvents handlers
      = { .device_deleted = got_device, .shutdown = got_shutdown, .panicked = got_panic };
  QmpClient *c = start_fake (&f, &path, &thread, &s);
  qemu_monitor_watch_events (c, &handlers, &e);
  execute (c, &s, "query-status", 5000); /* the fake's cue */
  g_assert_no_error (s.error);
  g_assert_true (e.panicked); /* the events came before the reply */
  static const char *const want[] = { "deleted dev-disk-1", "deleted (none)",
                                      "shutdown guest-shutdown", "shutdown ?", "panicked" };
  g_assert_cmpuint (e.got->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    g_assert_cmpstr (e.got->pdata[i], ==, want[i]);
  stop_fake (&f, path, thread, c);
  g_ptr_array_unref (e.got);
  seen_clear (&s);
}

int
main (int argc, char **argv)
{
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/qmp/real-qemu", test_real_qemu);
  g_test_add_func ("/qmp/connect-gives-up", test_connect_gives_up);
  g_test_add_func ("/qmp/peer-must-be-qemu", test_peer_must_be_qemu);
  g_test_add_func ("/qmp/connect-stops-when-qemu-is-gone", test_connect_stops_when_qemu_is_gone);
  g_test_add_func ("/qmp/timeout-keeps-stream-in-sync", test_timeout_keeps_stream_in_sync);
  g_test_add_func ("/qmp/bad-input", test_bad_input);
  g_test_add_func ("/qmp/backlog-bounded", test_backlog_bounded);
  g_test_add_func ("/qmp/typed-commands", test_typed_commands);
  g_test_add_func ("/qmp/typed-events", test_typed_events);
  return g_test_run ();
}
