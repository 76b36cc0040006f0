#include "unix-peer.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

GQuark
unix_peer_error_quark (void)
{
  return g_quark_from_static_string ("unix-peer-error-quark");
}

int
unix_peer_connect (const char *path, pid_t pid, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof addr.sun_path)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      int e = errno;
      close (fd);
      errno = e;
      return -1;
    }
  if (pid > 0 && !unix_peer_check (fd, pid, path, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

gboolean
unix_peer_check (int fd, pid_t pid, const char *what, GError **error)
{
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    {
      int e = errno;
      g_set_error (error, UNIX_PEER_ERROR, 0, "%s: cannot tell its peer: %s", what, g_strerror (e));
      return FALSE;
    }
  if (cred.pid == pid)
    return TRUE;
  g_set_error (error, UNIX_PEER_ERROR, 0,
               "%s is served by pid %d, not by QEMU (pid %d): refused (a socket swapped for "
               "another?)",
               what, (int) cred.pid, (int) pid);
  return FALSE;
}
