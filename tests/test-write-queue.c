/* write_queue_writev against an fd that takes 32 KiB per write, as a
 * virtio-serial port does (the agent's port): a frame goes out whole, in
 * order, without being queued, while the fd takes more; what it does not
 * take is queued, and nothing else. */
#include "write-queue.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PORT_WRITE_MAX (32 * 1024)
#define PAYLOAD (100 * 1024 + 17)

static int capped_calls;

/* The port's cap (drivers/char/virtio_console.c: 32 KiB per write), which
 * no fd on the host has: ours stands in for libc's writev. */
ssize_t
writev (int fd, const struct iovec *iov, int iovcnt)
{
  struct iovec capped[8];
  gsize left = PORT_WRITE_MAX;
  int n = 0;
  for (int i = 0; i < iovcnt && left > 0 && n < 8; i++, n++)
    {
      capped[n] = iov[i];
      capped[n].iov_len = MIN (iov[i].iov_len, left);
      left -= capped[n].iov_len;
    }
  capped_calls++;
  return syscall (SYS_writev, fd, capped, n);
}

static void
ready (gpointer data)
{
}

/* A frame (an 8-byte header and PAYLOAD bytes) to write into a pipe of a
 * given size, and a queue for it. */
typedef struct
{
  guint8 header[8];
  guint8 *payload;
  guint8 *want; /* the frame's bytes, in order */
  int fds[2];
  WriteQueue *q;
  struct iovec iov[2];
} Case;

static void
case_open (Case *c, int pipe_size)
{
  c->payload = g_malloc (PAYLOAD);
  for (gsize i = 0; i < PAYLOAD; i++)
    c->payload[i] = (guint8) (i * 7 + i / 251);
  memcpy (c->header, "HEADER01", 8);
  c->want = g_malloc (8 + PAYLOAD);
  memcpy (c->want, c->header, 8);
  memcpy (c->want + 8, c->payload, PAYLOAD);
  g_assert_cmpint (pipe2 (c->fds, O_NONBLOCK | O_CLOEXEC), ==, 0);
  g_assert_cmpint (fcntl (c->fds[1], F_SETPIPE_SZ, pipe_size), >=, pipe_size);
  c->q = write_queue_new (ready, NULL);
  c->iov[0] = (struct iovec){ c->header, 8 };
  c->iov[1] = (struct iovec){ c->payload, PAYLOAD };
}

static void
case_close (Case *c)
{
  write_queue_free (c->q);
  g_free (c->payload);
  g_free (c->want);
  close (c->fds[0]);
  close (c->fds[1]);
}

static gsize
drain (int fd, guint8 *into, gsize max)
{
  gsize got = 0;
  ssize_t n;
  while (got < max && (n = read (fd, into + got, max - got)) > 0)
    got += (gsize) n;
  return got;
}

/* The fd takes all of it, 32 KiB at a time: none of it is queued. */
static void
test_whole_frame (void)
{
  Case c;
  case_open (&c, 1024 * 1024);
  capped_calls = 0;
  write_queue_writev (c.q, c.fds[1], c.iov, 2);
  g_assert_cmpuint (write_queue_length (c.q), ==, 0);
  g_assert_cmpint (capped_calls, ==, (8 + PAYLOAD + PORT_WRITE_MAX - 1) / PORT_WRITE_MAX);
  g_autofree guint8 *got = g_malloc (8 + PAYLOAD + 1);
  g_assert_cmpuint (drain (c.fds[0], got, 8 + PAYLOAD + 1), ==, 8 + PAYLOAD);
  g_assert_cmpmem (got, 8 + PAYLOAD, c.want, 8 + PAYLOAD);
  case_close (&c);
}

/* The fd fills up part way: exactly the rest is queued, and the fd's
 * bytes followed by the queue's are the frame. */
static void
test_partly_taken (void)
{
  Case c;
  case_open (&c, 64 * 1024);
  write_queue_writev (c.q, c.fds[1], c.iov, 2);
  g_autofree guint8 *got = g_malloc (8 + PAYLOAD);
  gsize taken = drain (c.fds[0], got, 8 + PAYLOAD);
  g_assert_cmpuint (taken, ==, 64 * 1024);
  g_assert_cmpuint (write_queue_length (c.q), ==, 8 + PAYLOAD - taken);
  memcpy (got + taken, write_queue_buffer (c.q)->data, write_queue_length (c.q));
  g_assert_cmpmem (got, 8 + PAYLOAD, c.want, 8 + PAYLOAD);

  /* With bytes waiting, a frame is queued whole behind them. */
  write_queue_writev (c.q, c.fds[1], c.iov, 2);
  g_assert_cmpuint (write_queue_length (c.q), ==, 2 * (8 + PAYLOAD) - taken);
  case_close (&c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/write-queue/writev/whole-frame", test_whole_frame);
  g_test_add_func ("/write-queue/writev/partly-taken", test_partly_taken);
  return g_test_run ();
}
