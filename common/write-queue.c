#include "write-queue.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

struct WriteQueue
{
  GByteArray *buf;
  gsize head; /* bytes of buf already written */
  guint src;
  WriteQueueReady ready;
  gpointer data;
};

WriteQueue *
write_queue_new (WriteQueueReady ready, gpointer data)
{
  WriteQueue *q = g_new0 (WriteQueue, 1);
  q->buf = g_byte_array_new ();
  q->ready = ready;
  q->data = data;
  return q;
}

void
write_queue_free (WriteQueue *q)
{
  if (q == NULL)
    return;
  write_queue_disarm (q);
  g_byte_array_unref (q->buf);
  g_free (q);
}

GByteArray *
write_queue_buffer (WriteQueue *q)
{
  return q->buf;
}

void
write_queue_append (WriteQueue *q, const void *data, gsize len)
{
  g_byte_array_append (q->buf, data, (guint) len);
}

gsize
write_queue_length (WriteQueue *q)
{
  return q->buf->len - q->head;
}

void
write_queue_disarm (WriteQueue *q)
{
  g_clear_handle_id (&q->src, g_source_remove);
}

void
write_queue_clear (WriteQueue *q)
{
  write_queue_disarm (q);
  g_byte_array_set_size (q->buf, 0);
  q->head = 0;
}

void
write_queue_writev (WriteQueue *q, int fd, const struct iovec *iov, int iovcnt)
{
  gsize done = 0;
  if (write_queue_length (q) == 0)
    {
      ssize_t n;
      do
        n = writev (fd, iov, iovcnt);
      while (n < 0 && errno == EINTR);
      done = n > 0 ? (gsize) n : 0;
    }
  for (int i = 0; i < iovcnt; i++)
    {
      gsize skip = MIN (done, iov[i].iov_len);
      done -= skip;
      write_queue_append (q, (const guint8 *) iov[i].iov_base + skip, iov[i].iov_len - skip);
    }
}

static gboolean
on_writable (int fd, GIOCondition cond, gpointer data)
{
  WriteQueue *q = data;
  q->src = 0;
  q->ready (q->data);
  return G_SOURCE_REMOVE;
}

ssize_t
write_queue_send (int fd, const guint8 *buf, gsize len, gpointer data)
{
  return send (fd, buf, len, MSG_NOSIGNAL);
}

gssize
write_queue_flush (WriteQueue *q, int fd, gsize max, WriteQueueWrite write_fn, gpointer write_data)
{
  gsize want = max ? MIN (max, write_queue_length (q)) : write_queue_length (q);
  gsize done = 0;
  while (done < want)
    {
      const guint8 *at = q->buf->data + q->head;
      ssize_t n
          = write_fn ? write_fn (fd, at, want - done, write_data) : write (fd, at, want - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n < 0)
        return -1;
      q->head += (gsize) n;
      done += (gsize) n;
    }
  if (write_queue_length (q) == 0)
    {
      g_byte_array_set_size (q->buf, 0);
      q->head = 0;
    }
  else if (q->head >= q->buf->len / 2)
    {
      g_byte_array_remove_range (q->buf, 0, (guint) q->head);
      q->head = 0;
    }
  if (done < want && q->src == 0)
    q->src = g_unix_fd_add (fd, G_IO_OUT, on_writable, q);
  return (gssize) done;
}
