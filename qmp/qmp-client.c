#include "qmp-client.h"

#include "json-fields.h"
#include "proc-stat.h"
#include "unix-peer.h"
#include "write-queue.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* QEMU's replies are small; anything longer is not a QMP peer we trust. */
#define QMP_MAX_LINE (1024 * 1024)
#define CONNECT_RETRY_MS 20

typedef struct
{
  QmpClient *client;
  char *id;
  QmpReplyFunc callback;
  gpointer user_data;
  guint timeout_src;
} Pending;

typedef struct
{
  guint64 at;
  int fd;
} FdMark;

typedef struct
{
  guint id;
  char *event; /* NULL: every event */
  QmpEventFunc func;
  gpointer user_data;
  GDestroyNotify destroy; /* of user_data, when unsubscribed or freed */
} Subscriber;

typedef enum
{
  STATE_IDLE,
  STATE_CONNECTING,
  STATE_GREETING,
  STATE_NEGOTIATING,
  STATE_READY,
  STATE_CLOSED,
} State;

struct QmpClient
{
  char *path;
  int fd;
  State state;
  guint io_src;
  guint connect_src;
  gint64 connect_deadline;
  GPid qemu_pid;
  GString *inbuf;
  WriteQueue *outq;
  guint64 sent_total;   /* bytes of the stream written so far */
  guint64 queued_total; /* bytes of the stream queued so far */
  GQueue fd_marks;      /* FdMark: an fd to send with the byte at a position */
  guint64 next_id;
  GHashTable *pending;   /* id -> Pending */
  GHashTable *timed_out; /* ids whose late replies are dropped */
  char *version;

  QmpReplyFunc ready_cb;
  gpointer ready_data;
  GList *subscribers; /* Subscriber */
  guint next_subscription;
  char **capabilities;
  QmpClosedFunc closed_cb;
  gpointer closed_data;
};

GQuark
qmp_error_quark (void)
{
  return g_quark_from_static_string ("qmp-error-quark");
}

static void
subscriber_free (Subscriber *sub)
{
  if (sub->destroy)
    sub->destroy (sub->user_data);
  g_free (sub->event);
  g_free (sub);
}

static void
pending_free (Pending *p)
{
  if (p->timeout_src)
    g_source_remove (p->timeout_src);
  g_free (p->id);
  g_free (p);
}

static void flush_out (gpointer data);

QmpClient *
qmp_client_new (const char *socket_path)
{
  QmpClient *c = g_new0 (QmpClient, 1);
  c->path = g_strdup (socket_path);
  c->fd = -1;
  c->inbuf = g_string_new (NULL);
  c->outq = write_queue_new (flush_out, c);
  c->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) pending_free);
  c->timed_out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return c;
}

static void
clear_sources (QmpClient *c)
{
  g_clear_handle_id (&c->io_src, g_source_remove);
  write_queue_disarm (c->outq);
  g_clear_handle_id (&c->connect_src, g_source_remove);
  if (c->fd >= 0)
    {
      close (c->fd);
      c->fd = -1;
    }
}

void
qmp_client_free (QmpClient *client)
{
  if (client == NULL)
    return;
  clear_sources (client);
  g_hash_table_destroy (client->pending);
  g_hash_table_destroy (client->timed_out);
  g_string_free (client->inbuf, TRUE);
  write_queue_free (client->outq);
  FdMark *m;
  while ((m = g_queue_pop_head (&client->fd_marks)) != NULL)
    {
      close (m->fd);
      g_free (m);
    }
  g_free (client->version);
  g_strfreev (client->capabilities);
  g_list_free_full (client->subscribers, (GDestroyNotify) subscriber_free);
  g_free (client->path);
  g_free (client);
}

guint
qmp_client_subscribe (QmpClient *client, const char *event, QmpEventFunc func, gpointer user_data)
{
  return qmp_client_subscribe_full (client, event, func, user_data, NULL);
}

guint
qmp_client_subscribe_full (QmpClient *client, const char *event, QmpEventFunc func,
                           gpointer user_data, GDestroyNotify destroy)
{
  Subscriber *sub = g_new0 (Subscriber, 1);
  sub->id = ++client->next_subscription;
  sub->event = g_strdup (event);
  sub->func = func;
  sub->user_data = user_data;
  sub->destroy = destroy;
  client->subscribers = g_list_append (client->subscribers, sub);
  return sub->id;
}

void
qmp_client_unsubscribe (QmpClient *client, guint subscription)
{
  for (GList *l = client->subscribers; l; l = l->next)
    if (((Subscriber *) l->data)->id == subscription)
      {
        subscriber_free (l->data);
        client->subscribers = g_list_delete_link (client->subscribers, l);
        return;
      }
}

const char *const *
qmp_client_get_capabilities (QmpClient *client)
{
  return (const char *const *) client->capabilities;
}

static void
dispatch_event (QmpClient *c, const char *name, JsonObject *data)
{
  /* A copy of the list: a subscriber may unsubscribe while called. */
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  for (GList *l = c->subscribers; l; l = l->next)
    {
      Subscriber *sub = l->data;
      if (sub->event == NULL || g_str_equal (sub->event, name))
        g_array_append_val (ids, sub->id);
    }
  for (guint i = 0; i < ids->len; i++)
    for (GList *l = c->subscribers; l; l = l->next)
      {
        Subscriber *sub = l->data;
        if (sub->id == g_array_index (ids, guint, i))
          {
            sub->func (c, name, data, sub->user_data);
            break;
          }
      }
}

void
qmp_client_set_closed_handler (QmpClient *client, QmpClosedFunc func, gpointer user_data)
{
  client->closed_cb = func;
  client->closed_data = user_data;
}

const char *
qmp_client_get_qemu_version (QmpClient *client)
{
  return client->version;
}

gboolean
qmp_client_is_connected (QmpClient *client)
{
  return client->state == STATE_READY;
}

/* Fails everything pending and tells the owner once. */
static void
client_fail (QmpClient *c, GError *reason)
{
  if (c->state == STATE_CLOSED)
    {
      g_error_free (reason);
      return;
    }
  gboolean was_ready = c->state == STATE_READY;
  c->state = STATE_CLOSED;
  clear_sources (c);

  GList *values = g_hash_table_get_values (c->pending);
  g_hash_table_steal_all (c->pending);
  for (GList *l = values; l; l = l->next)
    {
      Pending *p = l->data;
      p->callback (c, NULL, reason, p->user_data);
      pending_free (p);
    }
  g_list_free (values);

  if (!was_ready && c->ready_cb)
    {
      QmpReplyFunc cb = c->ready_cb;
      c->ready_cb = NULL;
      cb (c, NULL, reason, c->ready_data);
    }
  else if (c->closed_cb)
    c->closed_cb (c, reason, c->closed_data);
  g_error_free (reason);
}

/* Sends @len bytes with @fd attached as SCM_RIGHTS. */
static ssize_t
send_with_fd (int sock, const guint8 *data, gsize len, int fd)
{
  struct iovec iov = { (void *) data, len };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  memset (&control, 0, sizeof control);
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof fd);
  return sendmsg (sock, &msg, MSG_NOSIGNAL);
}

/* Sends from the queue; an fd travels with the first byte of its command
 * (SCM_RIGHTS), so the bytes before it go in sends of their own. */
static ssize_t
send_marked (int fd, const guint8 *buf, gsize len, gpointer data)
{
  QmpClient *c = data;
  FdMark *mark = g_queue_peek_head (&c->fd_marks);
  gboolean with_fd = mark != NULL && mark->at == c->sent_total;
  if (mark != NULL && !with_fd)
    len = MIN (len, (gsize) (mark->at - c->sent_total));
  ssize_t n = with_fd ? send_with_fd (fd, buf, len, mark->fd) : send (fd, buf, len, MSG_NOSIGNAL);
  if (n > 0 && with_fd)
    {
      close (mark->fd);
      g_free (g_queue_pop_head (&c->fd_marks));
    }
  if (n > 0)
    c->sent_total += (guint64) n;
  return n;
}

static void
flush_out (gpointer data)
{
  QmpClient *c = data;
  if (write_queue_flush (c->outq, c->fd, 0, send_marked, c) < 0)
    client_fail (c, g_error_new (QMP_ERROR, QMP_ERROR_CLOSED, "QMP write: %s", g_strerror (errno)));
}

static gboolean
on_command_timeout (gpointer data)
{
  Pending *p = data;
  QmpClient *c = p->client;
  p->timeout_src = 0;
  g_hash_table_add (c->timed_out, g_strdup (p->id));
  g_hash_table_steal (c->pending, p->id);
  g_autoptr (GError) error
      = g_error_new (QMP_ERROR, QMP_ERROR_TIMEOUT, "QMP command %s timed out", p->id);
  p->callback (c, NULL, error, p->user_data);
  pending_free (p);
  return G_SOURCE_REMOVE;
}

static void
send_command (QmpClient *c, const char *command, JsonObject *arguments, int fd, guint timeout_ms,
              QmpReplyFunc callback, gpointer user_data)
{
  Pending *p = g_new0 (Pending, 1);
  p->client = c;
  p->id = g_strdup_printf ("sbx-%" G_GUINT64_FORMAT, ++c->next_id);
  p->callback = callback;
  p->user_data = user_data;

  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "execute", command);
  if (arguments)
    json_object_set_object_member (msg, "arguments", arguments);
  json_object_set_string_member (msg, "id", p->id);
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), msg);
  g_autofree char *text = json_to_string (node, FALSE);

  if (fd >= 0)
    {
      FdMark *mark = g_new0 (FdMark, 1);
      mark->at = c->queued_total;
      mark->fd = fd;
      g_queue_push_tail (&c->fd_marks, mark);
    }
  gsize len = strlen (text);
  write_queue_append (c->outq, text, len);
  write_queue_append (c->outq, "\r\n", 2);
  c->queued_total += len + 2;
  if (timeout_ms > 0)
    p->timeout_src = g_timeout_add (timeout_ms, on_command_timeout, p);
  g_hash_table_insert (c->pending, p->id, p);
  flush_out (c);
}

void
qmp_client_execute_with_fd_async (QmpClient *client, const char *command, JsonObject *arguments,
                                  int fd, guint timeout_ms, QmpReplyFunc callback,
                                  gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  int copy = -1;
  if (client->state != STATE_READY)
    error = g_error_new (QMP_ERROR, QMP_ERROR_CLOSED, "QMP is not connected (cannot run %s)",
                         command);
  else if (write_queue_length (client->outq) > QMP_BACKLOG_MAX_BYTES
           || g_hash_table_size (client->pending) >= QMP_BACKLOG_MAX_COMMANDS)
    error = g_error_new (QMP_ERROR, QMP_ERROR_BACKLOG,
                         "QEMU does not read its QMP socket (%u commands, %zu bytes wait; not "
                         "sending %s)",
                         g_hash_table_size (client->pending), write_queue_length (client->outq),
                         command);
  else if (fd >= 0 && (copy = fcntl (fd, F_DUPFD_CLOEXEC, 3)) < 0)
    error = g_error_new (QMP_ERROR, QMP_ERROR_CLOSED, "cannot pass fd %d with %s: %s", fd, command,
                         g_strerror (errno));
  if (error)
    {
      if (arguments)
        json_object_unref (arguments);
      callback (client, NULL, error, user_data);
      return;
    }
  send_command (client, command, arguments, copy, timeout_ms, callback, user_data);
}

void
qmp_client_execute_async (QmpClient *client, const char *command, JsonObject *arguments,
                          guint timeout_ms, QmpReplyFunc callback, gpointer user_data)
{
  qmp_client_execute_with_fd_async (client, command, arguments, -1, timeout_ms, callback,
                                    user_data);
}

static void
on_capabilities (QmpClient *c, JsonNode *result, const GError *error, gpointer data)
{
  if (error)
    return; /* client_fail already told the ready callback */
  c->state = STATE_READY;
  QmpReplyFunc cb = c->ready_cb;
  c->ready_cb = NULL;
  g_autoptr (JsonNode) greeting = json_node_new (JSON_NODE_NULL);
  if (cb)
    cb (c, greeting, NULL, c->ready_data);
}

static gboolean
handle_greeting (QmpClient *c, JsonObject *msg, GError **error)
{
  JsonObject *qmp = json_object_get_object_member (msg, "QMP");
  JsonObject *version = qmp ? json_object_get_object_member (qmp, "version") : NULL;
  JsonObject *qemu = version ? json_object_get_object_member (version, "qemu") : NULL;
  if (qemu == NULL)
    {
      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "QMP greeting without a QEMU version");
      return FALSE;
    }
  c->version = g_strdup_printf ("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT,
                                json_object_get_int_member_with_default (qemu, "major", 0),
                                json_object_get_int_member_with_default (qemu, "minor", 0),
                                json_object_get_int_member_with_default (qemu, "micro", 0));
  JsonArray *caps = json_object_has_member (qmp, "capabilities")
                        ? json_object_get_array_member (qmp, "capabilities")
                        : NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; caps && i < json_array_get_length (caps); i++)
    {
      JsonNode *n = json_array_get_element (caps, i);
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        g_ptr_array_add (names, g_strdup (json_node_get_string (n)));
    }
  g_ptr_array_add (names, NULL);
  c->capabilities = (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  c->state = STATE_NEGOTIATING;
  /* The negotiation is the first command; it runs before the client is ready. */
  send_command (c, "qmp_capabilities", NULL, -1, 0, on_capabilities, NULL);
  return TRUE;
}

static gboolean
handle_reply (QmpClient *c, JsonObject *msg, GError **error)
{
  JsonNode *id_node = json_object_get_member (msg, "id");
  if (id_node == NULL || !JSON_NODE_HOLDS_VALUE (id_node)
      || json_node_get_value_type (id_node) != G_TYPE_STRING)
    {
      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "QMP reply without a string id");
      return FALSE;
    }
  const char *id = json_node_get_string (id_node);
  if (g_hash_table_remove (c->timed_out, id))
    return TRUE; /* the late answer to a command that already timed out */
  Pending *p = g_hash_table_lookup (c->pending, id);
  if (p == NULL)
    {
      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "QMP reply with unknown id \"%s\"", id);
      return FALSE;
    }
  g_hash_table_steal (c->pending, id);

  if (json_object_has_member (msg, "return"))
    p->callback (c, json_object_get_member (msg, "return"), NULL, p->user_data);
  else
    {
      JsonObject *err = json_object_get_object_member (msg, "error");
      const char *cls = err ? json_object_get_string_member_with_default (err, "class", "?") : "?";
      const char *desc
          = err ? json_object_get_string_member_with_default (err, "desc", "") : "malformed error";
      g_autoptr (GError) e = g_error_new (QMP_ERROR, QMP_ERROR_COMMAND, "%s: %s", cls, desc);
      p->callback (c, NULL, e, p->user_data);
    }
  pending_free (p);
  return TRUE;
}

static gboolean
handle_line (QmpClient *c, const char *line, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  if (!json_text_check_depth (line, (gssize) len, JSON_MAX_DEPTH, &local)
      || !json_parser_load_from_data (parser, line, (gssize) len, &local))
    {
      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "QMP sent malformed JSON: %s",
                   local->message);
      return FALSE;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                   "QMP sent a message that is not an object");
      return FALSE;
    }
  JsonObject *msg = json_node_get_object (root);

  if (c->state == STATE_GREETING)
    {
      if (!json_object_has_member (msg, "QMP"))
        {
          g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "QMP peer sent no greeting");
          return FALSE;
        }
      return handle_greeting (c, msg, error);
    }
  if (json_object_has_member (msg, "event"))
    {
      const char *name = json_object_get_string_member_with_default (msg, "event", "");
      JsonObject *data = json_object_has_member (msg, "data")
                             ? json_object_get_object_member (msg, "data")
                             : NULL;
      dispatch_event (c, name, data);
      return TRUE;
    }
  if (json_object_has_member (msg, "return") || json_object_has_member (msg, "error"))
    return handle_reply (c, msg, error);
  g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "QMP sent an object of unknown kind");
  return FALSE;
}

static gboolean
on_readable (int fd, GIOCondition cond, gpointer data)
{
  QmpClient *c = data;
  char buf[16384];
  ssize_t n = recv (fd, buf, sizeof buf, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      c->io_src = 0;
      client_fail (c, g_error_new (QMP_ERROR, QMP_ERROR_CLOSED, "QEMU closed the QMP socket%s",
                                   c->inbuf->len ? " in the middle of a message" : ""));
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (c->inbuf, buf, n);

  gsize start = 0;
  for (;;)
    {
      char *nl = memchr (c->inbuf->str + start, '\n', c->inbuf->len - start);
      if (nl == NULL)
        break;
      gsize len = (gsize) (nl - (c->inbuf->str + start));
      g_autoptr (GError) error = NULL;
      if (len > 0 && !handle_line (c, c->inbuf->str + start, len, &error))
        {
          c->io_src = 0;
          client_fail (c, g_steal_pointer (&error));
          return G_SOURCE_REMOVE;
        }
      if (c->state == STATE_CLOSED)
        return G_SOURCE_REMOVE;
      start += len + 1;
    }
  g_string_erase (c->inbuf, 0, (gssize) start);
  if (c->inbuf->len > QMP_MAX_LINE)
    {
      c->io_src = 0;
      client_fail (c, g_error_new (QMP_ERROR, QMP_ERROR_PROTOCOL, "QMP line longer than %d bytes",
                                   QMP_MAX_LINE));
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* TRUE while @pid runs (a zombie has exited too). */
static gboolean
process_alive (GPid pid)
{
  char state = 0;
  return proc_stat_read (pid, &state, NULL) && state != 'Z' && state != 'X';
}

static void
adopt_fd (QmpClient *c, int fd)
{
  c->fd = fd;
  c->state = STATE_GREETING;
  c->io_src = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, c);
}

static gboolean
try_connect (gpointer data)
{
  QmpClient *c = data;
  g_autoptr (GError) peer_error = NULL;
  int fd = unix_peer_connect (c->path, c->qemu_pid, &peer_error);
  int e = errno;
  if (fd >= 0 || peer_error || e == ENAMETOOLONG)
    {
      c->connect_src = 0;
      if (fd >= 0)
        adopt_fd (c, fd);
      else
        client_fail (c,
                     g_error_new (QMP_ERROR, QMP_ERROR_CONNECT, "%s",
                                  peer_error ? peer_error->message : "QMP socket path too long"));
      return G_SOURCE_REMOVE;
    }
  if (c->qemu_pid > 0 && !process_alive (c->qemu_pid))
    {
      c->connect_src = 0;
      client_fail (c, g_error_new (QMP_ERROR, QMP_ERROR_CONNECT,
                                   "QEMU (pid %d) exited before its QMP socket %s was up",
                                   (int) c->qemu_pid, c->path));
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () < c->connect_deadline)
    return G_SOURCE_CONTINUE;
  c->connect_src = 0;
  client_fail (c, g_error_new (QMP_ERROR, QMP_ERROR_CONNECT, "cannot connect to QMP at %s: %s",
                               c->path, g_strerror (e)));
  return G_SOURCE_REMOVE;
}

void
qmp_client_set_process (QmpClient *client, GPid pid)
{
  client->qemu_pid = pid;
}

void
qmp_client_connect_fd_async (QmpClient *client, int fd, QmpReplyFunc ready, gpointer user_data)
{
  g_return_if_fail (client->state == STATE_IDLE);
  client->ready_cb = ready;
  client->ready_data = user_data;
  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  adopt_fd (client, fd);
}

void
qmp_client_connect_async (QmpClient *client, guint timeout_ms, QmpReplyFunc ready,
                          gpointer user_data)
{
  g_return_if_fail (client->state == STATE_IDLE);
  client->state = STATE_CONNECTING;
  client->ready_cb = ready;
  client->ready_data = user_data;
  client->connect_deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  if (try_connect (client) == G_SOURCE_CONTINUE)
    client->connect_src = g_timeout_add (CONNECT_RETRY_MS, try_connect, client);
}
