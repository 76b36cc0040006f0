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

static guint8 *
frame_bytes (guint8 header[8], guint8 **payload)
{
  *payload = g_malloc (PAYLOAD);
  for (gsize i = 0; i < PAYLOAD; i++)
    (*payload)[i] = (guint8) (i * 7 + i / 251);
  memcpy (header, "HEADER01", 8);
  guint8 *all = g_malloc (8 + PAYLOAD);
  memcpy (all, header, 8);
  memcpy (all + 8, *payload, PAYLOAD);
  return all;
}

static void
pipe_of (int fds[2], int size)
{
  g_assert_cmpint (pipe2 (fds, O_NONBLOCK | O_CLOEXEC), ==, 0);
  g_assert_cmpint (fcntl (fds[1], F_SETPIPE_SZ, size), >=, size);
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
  guint8 header[8], *payload;
  g_autofree guint8 *want = frame_bytes (header, &payload);
  int fds[2];
  pipe_of (fds, 1024 * 1024);
  WriteQueue *q = write_queue_new (ready, NULL);
  struct iovec iov[2] = { { header, 8 }, { payload, PAYLOAD } };
  capped_calls = 0;
  write_queue_writev (q, fds[1], iov, 2);
  g_assert_cmpuint (write_queue_length (q), ==, 0);
  g_assert_cmpint (capped_calls, ==, (8 + PAYLOAD + PORT_WRITE_MAX - 1) / PORT_WRITE_MAX);
  g_autofree guint8 *got = g_malloc (8 + PAYLOAD + 1);
  g_assert_cmpuint (drain (fds[0], got, 8 + PAYLOAD + 1), ==, 8 + PAYLOAD);
  g_assert_cmpmem (got, 8 + PAYLOAD, want, 8 + PAYLOAD);
  write_queue_free (q);
  g_free (payload);
  close (fds[0]);
  close (fds[1]);
}

/* The fd fills up part way: exactly the rest is queued, and the fd's
 * bytes followed by the queue's are the frame. */
static void
test_partly_taken (void)
{
  guint8 header[8], *payload;
  g_autofree guint8 *want = frame_bytes (header, &payload);
  int fds[2];
  pipe_of (fds, 64 * 1024);
  WriteQueue *q = write_queue_new (ready, NULL);
  struct iovec iov[2] = { { header, 8 }, { payload, PAYLOAD } };
  write_queue_writev (q, fds[1], iov, 2);
  g_autofree guint8 *got = g_malloc (8 + PAYLOAD);
  gsize taken = drain (fds[0], got, 8 + PAYLOAD);
  g_assert_cmpuint (taken, ==, 64 * 1024);
  g_assert_cmpuint (write_queue_length (q), ==, 8 + PAYLOAD - taken);
  memcpy (got + taken, write_queue_buffer (q)->data, write_queue_length (q));
  g_assert_cmpmem (got, 8 + PAYLOAD, want, 8 + PAYLOAD);

  /* With bytes waiting, a frame is queued whole behind them. */
  write_queue_writev (q, fds[1], iov, 2);
  g_assert_cmpuint (write_queue_length (q), ==, 2 * (8 + PAYLOAD) - taken);
  write_queue_free (q);
  g_free (payload);
  close (fds[0]);
  close (fds[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/write-queue/writev/whole-frame", test_whole_frame);
  g_test_add_func ("/write-queue/writev/partly-taken", test_partly_taken);
  return g_test_run ();
}
