/* write-queue.h — bytes waiting for a non-blocking fd, on the GLib main
 * loop: the one helper every writer of ours uses (the agent channel and
 * QMP on the host, the agent's port and its processes' stdin in the
 * guest).
 *
 * The owner appends (or encodes straight into write_queue_buffer), then
 * flushes; what the fd does not take stays queued, and the queue watches
 * the fd and calls @ready once it can take more, for the owner to flush
 * again. Written bytes are dropped from the front in bulk, not per write
 * (a memmove per write costs a TCG guest dearly).
 */
#pragma once

#include <glib.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct WriteQueue WriteQueue;

/* The fd can take more: flush. */
typedef void (*WriteQueueReady) (gpointer data);
/* Writes up to @len bytes of @buf to @fd: the count, or -1 with errno.
 * NULL means write(). */
typedef ssize_t (*WriteQueueWrite) (int fd, const guint8 *buf, gsize len, gpointer data);
/* send(MSG_NOSIGNAL): for sockets (a peer gone is EPIPE, not SIGPIPE). */
ssize_t write_queue_send (int fd, const guint8 *buf, gsize len, gpointer data);

WriteQueue *write_queue_new (WriteQueueReady ready, gpointer data);
void write_queue_free (WriteQueue *queue);

/* Where new bytes go: append to it (frames are encoded straight in). */
GByteArray *write_queue_buffer (WriteQueue *queue);
void write_queue_append (WriteQueue *queue, const void *data, gsize len);
/* Bytes waiting. */
gsize write_queue_length (WriteQueue *queue);
/* Drops what waits and stops watching. */
void write_queue_clear (WriteQueue *queue);
/* Stops watching (the fd is about to change or close). */
void write_queue_disarm (WriteQueue *queue);

/* Writes @iov straight to @fd when nothing waits (no copy into the queue),
 * again while the fd takes more, and queues what it did not take; when
 * bytes wait, queues all of it behind them. Errors are left for the next
 * flush to report. */
#define WRITE_QUEUE_IOV_MAX 8 /* more pieces are queued, not written at once */
void write_queue_writev (WriteQueue *queue, int fd, const struct iovec *iov, int iovcnt);

/* Writes what @fd takes now, at most @max bytes (0: all that waits), with
 * @write (NULL: see WriteQueueWrite). Returns the bytes written, or -1
 * with errno set on an error other than EAGAIN. When bytes remain, and no
 * error, it watches @fd and calls ready once it is writable. */
gssize write_queue_flush (WriteQueue *queue, int fd, gsize max, WriteQueueWrite write,
                          gpointer write_data);
