/* unix-peer.h — who is on the other end of a unix socket.
 *
 * The daemon connects to sockets in directories QEMU can write (QMP, the
 * agent port, the console). A QEMU that swapped one for a link to another
 * socket (the daemon's own API, another sandbox's agent) must not be
 * believed: the listening end has to be the QEMU process itself.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#define UNIX_PEER_ERROR (unix_peer_error_quark ())
GQuark unix_peer_error_quark (void);

/* TRUE when the peer of the connected socket @fd is process @pid (as seen
 * from this pid namespace); FALSE with @error naming @what, the peer's
 * pid and @pid otherwise. */
gboolean unix_peer_check (int fd, pid_t pid, const char *what, GError **error);

/* Connects a non-blocking, close-on-exec stream socket to @path; when @pid
 * > 0, only if process @pid serves it. Returns the fd; or -1 with errno set
 * when that failed (nothing listens there yet: worth a retry); or -1 with
 * @error set when another process serves it (final). */
int unix_peer_connect (const char *path, pid_t pid, GError **error);
