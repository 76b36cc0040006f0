#include "unix-peer.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

GQuark
unix_peer_error_quark (void)
{
  return g_quark_from_static_string ("unix-peer-error-quark");
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
