#include "rpc-socket.h"

#include "rpc-status.h"

#include <nanomsg/nn.h>
#include <string.h>
#include <sys/stat.h>

int
rpc_socket_bind_private (int domain, int protocol, const char *address, const char *what,
                         char **ipc_path, GError **error)
{
  *ipc_path = NULL;
  int sock = nn_socket (domain, protocol);
  if (sock < 0)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "nn_socket: %s",
                   nn_strerror (nn_errno ()));
      return -1;
    }
  /* The socket file is the access control: nobody but the owner may
   * connect, from the moment it exists. */
  mode_t old = umask (0077);
  int ep = nn_bind (sock, address);
  int bind_errno = nn_errno ();
  umask (old);
  if (ep < 0)
    {
      nn_close (sock);
      g_set_error (error, RPC_ERROR, RPC_STATUS_UNAVAILABLE, "cannot %s on %s: %s", what, address,
                   nn_strerror (bind_errno));
      return -1;
    }
  if (g_str_has_prefix (address, "ipc://"))
    {
      *ipc_path = g_strdup (address + strlen ("ipc://"));
      chmod (*ipc_path, 0600);
    }
  return sock;
}
