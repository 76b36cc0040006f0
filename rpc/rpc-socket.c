#include "rpc-socket.h"

#include "rpc-status.h"

#include <errno.h>

#include <nanomsg/nn.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The endpoint of the last bind (nanomsg numbers them per socket). */
static int
bind_private (int sock, const char *address)
{
  /* The socket file is the access control: nobody but the owner may
   * connect, from the moment it exists. */
  mode_t old = umask (0077);
  int ep = nn_bind (sock, address);
  int bind_errno = nn_errno ();
  umask (old);
  if (ep >= 0 && g_str_has_prefix (address, "ipc://"))
    chmod (address + strlen ("ipc://"), 0600);
  errno = bind_errno;
  return ep;
}

int
rpc_socket_bind_private (int domain, int protocol, const char *address, const char *what,
                         char **ipc_path, int *endpoint, GError **error)
{
  *ipc_path = NULL;
  int sock = nn_socket (domain, protocol);
  if (sock < 0)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "nn_socket: %s",
                   nn_strerror (nn_errno ()));
      return -1;
    }
  int ep = bind_private (sock, address);
  if (endpoint)
    *endpoint = ep;
  if (ep < 0)
    {
      int e = errno;
      nn_close (sock);
      g_set_error (error, RPC_ERROR, RPC_STATUS_UNAVAILABLE, "cannot %s on %s: %s", what, address,
                   nn_strerror (e));
      return -1;
    }
  if (g_str_has_prefix (address, "ipc://"))
    *ipc_path = g_strdup (address + strlen ("ipc://"));
  return sock;
}

struct RpcConnectionCap
{
  int sock;
  int endpoint;
  char *address;
  guint max;
  void (*around) (gpointer data, gboolean done);
  gpointer data;
  guint timer;
  guint retry; /* binding again */
  guint tries;
};

/* nanomsg shuts an endpoint down in its own thread: the address is free
 * again a moment later. */
static gboolean
rebind (gpointer data)
{
  RpcConnectionCap *cap = data;
  cap->endpoint = bind_private (cap->sock, cap->address);
  if (cap->endpoint < 0 && errno == EADDRINUSE && ++cap->tries < 50)
    return G_SOURCE_CONTINUE;
  cap->retry = 0;
  if (cap->endpoint < 0)
    g_warning ("rpc: %s: cannot listen again after closing its connections: %s", cap->address,
               nn_strerror (errno));
  if (cap->around)
    cap->around (cap->data, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
check_connections (gpointer data)
{
  RpcConnectionCap *cap = data;
  guint64 n = nn_get_statistic (cap->sock, NN_STAT_CURRENT_CONNECTIONS);
  if (cap->retry || n == (guint64) -1 || n <= cap->max)
    return G_SOURCE_CONTINUE;
  g_warning ("rpc: %s: %" G_GUINT64_FORMAT " connections, past its cap of %u: closing them all",
             cap->address, n, cap->max);
  if (cap->around)
    cap->around (cap->data, FALSE);
  if (cap->endpoint >= 0)
    nn_shutdown (cap->sock, cap->endpoint);
  cap->endpoint = -1;
  cap->tries = 0;
  cap->retry = g_timeout_add (100, rebind, cap);
  return G_SOURCE_CONTINUE;
}

RpcConnectionCap *
rpc_connection_cap_new (int sock, int endpoint, const char *address, guint max,
                        void (*around) (gpointer data, gboolean done), gpointer data)
{
  RpcConnectionCap *cap = g_new0 (RpcConnectionCap, 1);
  cap->sock = sock;
  cap->endpoint = endpoint;
  cap->address = g_strdup (address);
  cap->max = max;
  cap->around = around;
  cap->data = data;
  cap->timer = g_timeout_add_seconds (1, check_connections, cap);
  return cap;
}

void
rpc_connection_cap_free (RpcConnectionCap *cap)
{
  if (cap == NULL)
    return;
  g_source_remove (cap->timer);
  g_clear_handle_id (&cap->retry, g_source_remove);
  g_free (cap->address);
  g_free (cap);
}
