#include "write-queue.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
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
  struct iovec rest[WRITE_QUEUE_IOV_MAX];
  int first = 0;
  if (iovcnt > WRITE_QUEUE_IOV_MAX)
    {
      for (int i = 0; i < iovcnt; i++) /* more than we write at once: queue it all */
        write_queue_append (q, iov[i].iov_base, iov[i].iov_len);
      return;
    }
  memcpy (rest, iov, sizeof *iov * (gsize) iovcnt);
  /* A fd may take less than it could at once (a virtio-serial port takes
   * 32 KiB per write), so write again while it takes more. */
  while (write_queue_length (q) == 0 && first < iovcnt)
    {
      ssize_t n = writev (fd, rest + first, iovcnt - first);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      for (gsize left = (gsize) n; left > 0;)
        {
          gsize take = MIN (left, rest[first].iov_len);
          rest[first].iov_base = (guint8 *) rest[first].iov_base + take;
          rest[first].iov_len -= take;
          left -= take;
          if (rest[first].iov_len == 0)
            first++;
        }
      while (first < iovcnt && rest[first].iov_len == 0)
        first++;
    }
  for (int i = first; i < iovcnt; i++)
    write_queue_append (q, rest[i].iov_base, rest[i].iov_len);
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
