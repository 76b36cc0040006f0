#include "console-log.h"

#include "unix-peer.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONNECT_RETRY_MS 20
#define CONNECT_TIMEOUT_US (30 * G_USEC_PER_SEC)

struct ConsoleLog
{
  char *socket_path;
  char *log_path;
  GPid qemu;
  guint64 max_bytes;
  guint64 size; /* of the current log file */
  int sock;
  int log_fd;
  gint64 deadline;
  guint connect_src;
  guint in_src;
};

static int
open_log (const char *path, gboolean truncate)
{
  return open (path,
               O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | (truncate ? O_TRUNC : 0),
               0600);
}

static void
stop_reading (ConsoleLog *c)
{
  g_clear_handle_id (&c->connect_src, g_source_remove);
  g_clear_handle_id (&c->in_src, g_source_remove);
  if (c->sock >= 0)
    close (c->sock);
  c->sock = -1;
}

/* The file is full: it becomes LOG.1 (the one before is dropped). */
static void
rotate (ConsoleLog *c)
{
  g_autofree char *old = g_strconcat (c->log_path, ".1", NULL);
  close (c->log_fd);
  if (g_rename (c->log_path, old) < 0)
    g_warning ("console log %s: rename: %s", c->log_path, g_strerror (errno));
  c->log_fd = open_log (c->log_path, TRUE);
  c->size = 0;
}

/* FALSE once nothing more will come (EOF, error), or for now (EAGAIN). */
static gboolean
read_once (ConsoleLog *c)
{
  char buf[16384];
  ssize_t n = recv (c->sock, buf, sizeof buf, 0);
  if (n < 0 && errno == EINTR)
    return TRUE;
  if (n < 0 && errno == EAGAIN)
    return FALSE;
  if (n <= 0)
    {
      stop_reading (c);
      return FALSE;
    }
  if (c->log_fd >= 0 && write (c->log_fd, buf, (size_t) n) == n)
    c->size += (guint64) n;
  if (c->size >= c->max_bytes)
    rotate (c);
  return TRUE;
}

static gboolean
on_readable (int fd, GIOCondition cond, gpointer data)
{
  ConsoleLog *c = data;
  read_once (c);
  return c->sock >= 0 ? G_SOURCE_CONTINUE : (c->in_src = 0, G_SOURCE_REMOVE);
}

static gboolean
try_connect (gpointer data)
{
  ConsoleLog *c = data;
  g_autoptr (GError) peer_error = NULL;
  int fd = unix_peer_connect (c->socket_path, c->qemu, &peer_error);
  if (fd >= 0 || peer_error)
    {
      c->connect_src = 0;
      if (peer_error)
        {
          g_warning ("console: %s", peer_error->message);
          return G_SOURCE_REMOVE;
        }
      c->sock = fd;
      c->in_src = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, c);
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () < c->deadline)
    return G_SOURCE_CONTINUE;
  g_message ("console %s: not reachable; the guest's console is not kept", c->socket_path);
  c->connect_src = 0;
  return G_SOURCE_REMOVE;
}

ConsoleLog *
console_log_new (const char *socket_path, GPid qemu, const char *log_path, guint64 max_bytes)
{
  ConsoleLog *c = g_new0 (ConsoleLog, 1);
  c->socket_path = g_strdup (socket_path);
  c->qemu = qemu;
  c->log_path = g_strdup (log_path);
  c->max_bytes = max_bytes;
  c->sock = -1;
  c->log_fd = open_log (log_path, FALSE);
  struct stat st;
  if (c->log_fd < 0 || fstat (c->log_fd, &st) < 0 || !S_ISREG (st.st_mode))
    g_warning ("console log %s: %s", log_path, g_strerror (errno));
  else
    c->size = (guint64) st.st_size;
  c->deadline = g_get_monotonic_time () + CONNECT_TIMEOUT_US;
  c->connect_src = g_timeout_add (CONNECT_RETRY_MS, try_connect, c);
  return c;
}

void
console_log_drain (ConsoleLog *console)
{
  while (console->sock >= 0 && read_once (console))
    ;
}

void
console_log_free (ConsoleLog *console)
{
  if (console == NULL)
    return;
  stop_reading (console);
  if (console->log_fd >= 0)
    close (console->log_fd);
  g_free (console->socket_path);
  g_free (console->log_path);
  g_free (console);
}

/* The last @max bytes of a regular file at @path, opened through no link
 * and without blocking. */
static GString *
file_tail (const char *path, gsize max)
{
  GString *s = g_string_new (NULL);
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0)
    return s;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && max > 0)
    {
      gsize len = MIN ((gsize) st.st_size, max);
      g_string_set_size (s, len);
      ssize_t n = pread (fd, s->str, len, st.st_size - (off_t) len);
      g_string_set_size (s, n > 0 ? (gsize) n : 0);
    }
  close (fd);
  return s;
}

char *
log_file_tail (const char *log_path, gsize max_bytes)
{
  g_autoptr (GString) tail = file_tail (log_path, max_bytes);
  if (tail->len < max_bytes)
    {
      g_autofree char *old = g_strconcat (log_path, ".1", NULL);
      g_autoptr (GString) before = file_tail (old, max_bytes - tail->len);
      g_string_prepend_len (tail, before->str, (gssize) before->len);
    }
  g_autofree char *valid = g_utf8_make_valid (tail->str, (gssize) tail->len);
  return g_strdup (g_strstrip (valid));
}

gboolean
log_file_trim (const char *log_path, guint64 max_bytes, gsize keep_bytes)
{
  int fd = open (log_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || (guint64) st.st_size <= max_bytes)
    {
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  /* Its first line (the command line) and its last @keep_bytes stay. */
  char head[4096];
  ssize_t n = pread (fd, head, sizeof head, 0);
  gsize head_len = 0;
  while (n > 0 && head_len < (gsize) n && head[head_len] != '\n')
    head_len++;
  head_len = n > 0 && head_len < (gsize) n ? head_len + 1 : 0;
  gsize tail_len = MIN (keep_bytes, (gsize) st.st_size);
  g_autofree char *tail = g_malloc (tail_len);
  ssize_t got = pread (fd, tail, tail_len, st.st_size - (off_t) tail_len);
  g_autofree char *mark = g_strdup_printf (
      "# sandboxd: this log passed %" G_GUINT64_FORMAT " bytes: %" G_GINT64_FORMAT
      " bytes before its last %zu were dropped\n",
      max_bytes, (gint64) st.st_size - (gint64) head_len - (gint64) tail_len, tail_len);
  gboolean ok
      = ftruncate (fd, 0) == 0 && pwrite (fd, head, head_len, 0) == (ssize_t) head_len
        && pwrite (fd, mark, strlen (mark), (off_t) head_len) == (ssize_t) strlen (mark)
        && (got <= 0 || pwrite (fd, tail, (gsize) got, (off_t) (head_len + strlen (mark))) == got);
  close (fd);
  return ok;
}
