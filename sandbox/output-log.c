#include "output-log.h"

#include "autofd.h"

#include "long-poll.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <unistd.h>

typedef struct
{
  guint64 offset;
  gsize max_bytes;
} Reader;

/* No fd is held between calls: a sandbox may keep thousands of
 * processes, live or exited, and each has two logs. Each append and each
 * read opens the file for as long as it takes. */
struct OutputLog
{
  char *path;
  guint64 size;
  guint64 read_max;
  gboolean closed;
  void (*read_hook) (gpointer data);
  gpointer read_hook_data;
  LongPoll readers;
};

static void reader_answer (GTask *task, gpointer waiter, gpointer owner);

OutputLog *
output_log_new (const char *path, gboolean reopen, GError **error)
{
  sbx_autofd int fd
      = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (reopen ? 0 : O_TRUNC), 0600);
  off_t size = fd >= 0 ? lseek (fd, 0, SEEK_END) : -1;
  if (size < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "create %s: %s", path,
                   g_strerror (errno));
      return NULL;
    }
  OutputLog *log = g_new0 (OutputLog, 1);
  log->path = g_strdup (path);
  log->size = (guint64) size;
  long_poll_init (&log->readers, reader_answer, log);
  return log;
}

static void
reader_answer (GTask *task, gpointer waiter, gpointer owner)
{
  Reader *r = waiter;
  OutputLog *log = owner;
  guint64 offset = MIN (r->offset, log->size);
  gsize want = (gsize) MIN ((guint64) r->max_bytes, log->size - offset);
  g_autofree guint8 *buf = g_malloc (want + 1);
  gsize got = 0;
  sbx_autofd int fd = open (log->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  while (fd >= 0 && got < want)
    {
      ssize_t n = pread (fd, buf + got, want - got, (off_t) (offset + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (gsize) n;
    }
  if (got < want)
    {
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errno), "read %s: %s",
                               log->path, g_strerror (errno));
      g_object_unref (task);
      return;
    }
  SandboxOutput *chunk = g_new0 (SandboxOutput, 1);
  chunk->data = g_bytes_new_take (g_steal_pointer (&buf), got);
  chunk->offset = offset + got;
  chunk->eof = log->closed && offset + got == log->size;
  g_task_return_pointer (task, chunk, (GDestroyNotify) sandbox_output_free);
  g_object_unref (task);
  if (offset + got > log->read_max)
    {
      log->read_max = offset + got;
      if (log->read_hook)
        log->read_hook (log->read_hook_data);
    }
}

static gboolean
reader_ready (gpointer waiter, gpointer owner)
{
  OutputLog *log = owner;
  return ((Reader *) waiter)->offset < log->size || log->closed;
}

void
sandbox_output_free (SandboxOutput *chunk)
{
  if (chunk == NULL)
    return;
  g_bytes_unref (chunk->data);
  g_free (chunk);
}

void
output_log_read (OutputLog *log, GTask *task, guint64 offset, gsize max_bytes, guint wait_ms)
{
  Reader *r = g_new0 (Reader, 1);
  r->offset = offset;
  r->max_bytes = max_bytes;
  long_poll_add (&log->readers, task, r, reader_ready (r, log), wait_ms);
}

gboolean
output_log_append (OutputLog *log, const guint8 *data, gsize len, GError **error)
{
  if (log->closed && len > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "%s: more output after the stream ended",
                   log->path);
      return FALSE;
    }
  if (len == 0)
    return TRUE;
  sbx_autofd int fd = open (log->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  gsize done = 0;
  while (fd >= 0 && done < len)
    {
      ssize_t n = write (fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      done += (gsize) n;
    }
  if (done < len)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "write %s: %s", log->path,
                   g_strerror (errno));
      return FALSE;
    }
  log->size += len;
  long_poll_wake (&log->readers, reader_ready);
  return TRUE;
}

void
output_log_close (OutputLog *log)
{
  log->closed = TRUE;
  long_poll_wake (&log->readers, reader_ready);
}

guint64
output_log_size (OutputLog *log)
{
  return log->size;
}

guint64
output_log_unread (OutputLog *log)
{
  return log->size - MIN (log->read_max, log->size);
}

void
output_log_set_read_hook (OutputLog *log, void (*hook) (gpointer data), gpointer data)
{
  log->read_hook = hook;
  log->read_hook_data = data;
}

void
output_log_delete (OutputLog *log)
{
  if (log != NULL)
    unlink (log->path);
  output_log_free (log);
}

void
output_log_free (OutputLog *log)
{
  if (log == NULL)
    return;
  log->closed = TRUE;
  long_poll_clear (&log->readers);
  g_free (log->path);
  g_free (log);
}
