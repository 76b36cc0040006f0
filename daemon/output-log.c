#include "output-log.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <unistd.h>

typedef struct
{
  OutputLog *log;
  RpcCall *call;
  guint64 offset;
  gsize max_bytes;
  guint timer;
} Reader;

struct OutputLog
{
  char *path;
  int fd;
  guint64 size;
  gboolean closed;
  GList *readers;
};

OutputLog *
output_log_new (const char *path, GError **error)
{
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0600);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "create %s: %s", path,
                   g_strerror (e));
      return NULL;
    }
  OutputLog *log = g_new0 (OutputLog, 1);
  log->path = g_strdup (path);
  log->fd = fd;
  return log;
}

static void
reader_answer (Reader *r)
{
  OutputLog *log = r->log;
  g_clear_handle_id (&r->timer, g_source_remove);
  log->readers = g_list_remove (log->readers, r);

  guint64 offset = MIN (r->offset, log->size);
  gsize want = (gsize) MIN ((guint64) r->max_bytes, log->size - offset);
  g_autofree guint8 *buf = g_malloc (want + 1);
  gsize got = 0;
  while (got < want)
    {
      ssize_t n = pread (log->fd, buf + got, want - got, (off_t) (offset + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (gsize) n;
    }
  if (got < want)
    rpc_call_return_error (r->call, RPC_STATUS_INTERNAL, "read %s: %s", log->path,
                           g_strerror (errno));
  else
    {
      JsonObject *res = json_object_new ();
      g_autofree char *b64 = g_base64_encode (buf, got);
      json_object_set_string_member (res, "data", b64);
      json_object_set_int_member (res, "offset", (gint64) (offset + got));
      json_object_set_boolean_member (res, "eof", log->closed && offset + got == log->size);
      rpc_call_return (r->call, res);
    }
  rpc_call_unref (r->call);
  g_free (r);
}

static gboolean
on_reader_timeout (gpointer data)
{
  Reader *r = data;
  r->timer = 0;
  reader_answer (r);
  return G_SOURCE_REMOVE;
}

/* Answers the readers that now have something to read. */
static void
wake_readers (OutputLog *log)
{
  GList *l = log->readers;
  while (l)
    {
      GList *next = l->next;
      Reader *r = l->data;
      if (rpc_call_is_done (r->call) || r->offset < log->size || log->closed)
        reader_answer (r);
      l = next;
    }
}

void
output_log_read (OutputLog *log, RpcCall *call, guint64 offset, gsize max_bytes, guint wait_ms)
{
  Reader *r = g_new0 (Reader, 1);
  r->log = log;
  r->call = rpc_call_ref (call);
  r->offset = offset;
  r->max_bytes = max_bytes;
  log->readers = g_list_prepend (log->readers, r);
  if (offset < log->size || log->closed || wait_ms == 0)
    reader_answer (r);
  else
    r->timer = g_timeout_add (wait_ms, on_reader_timeout, r);
}

gboolean
output_log_append (OutputLog *log, const guint8 *data, gsize len, GError **error)
{
  gsize done = 0;
  while (done < len)
    {
      ssize_t n = write (log->fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "write %s: %s", log->path,
                       g_strerror (e));
          return FALSE;
        }
      done += (gsize) n;
    }
  log->size += len;
  wake_readers (log);
  return TRUE;
}

void
output_log_close (OutputLog *log)
{
  log->closed = TRUE;
  wake_readers (log);
}

guint64
output_log_size (OutputLog *log)
{
  return log->size;
}

void
output_log_free (OutputLog *log)
{
  if (log == NULL)
    return;
  log->closed = TRUE;
  while (log->readers)
    reader_answer (log->readers->data);
  close (log->fd);
  g_free (log->path);
  g_free (log);
}
