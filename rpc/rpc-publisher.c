#include "rpc-publisher.h"

#include "rpc-status.h"

#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct RpcPublisher
{
  int sock;
  char *ipc_path;
};

RpcPublisher *
rpc_publisher_new (const char *address, GError **error)
{
  g_autofree char *ipc_path = NULL;
  if (g_str_has_prefix (address, "ipc://"))
    {
      ipc_path = g_strdup (address + strlen ("ipc://"));
      unlink (ipc_path); /* the RPC socket, bound first, proved nobody else serves here */
    }
  int sock = nn_socket (AF_SP, NN_PUB);
  if (sock < 0)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "nn_socket: %s",
                   nn_strerror (nn_errno ()));
      return NULL;
    }
  mode_t old = umask (0077);
  int ep = nn_bind (sock, address);
  int bind_errno = nn_errno ();
  umask (old);
  if (ep < 0)
    {
      nn_close (sock);
      g_set_error (error, RPC_ERROR, RPC_STATUS_UNAVAILABLE, "cannot publish on %s: %s", address,
                   nn_strerror (bind_errno));
      return NULL;
    }
  if (ipc_path)
    chmod (ipc_path, 0600);
  RpcPublisher *p = g_new0 (RpcPublisher, 1);
  p->sock = sock;
  p->ipc_path = g_steal_pointer (&ipc_path);
  return p;
}

void
rpc_publisher_free (RpcPublisher *publisher)
{
  if (publisher == NULL)
    return;
  nn_close (publisher->sock);
  if (publisher->ipc_path)
    unlink (publisher->ipc_path);
  g_free (publisher->ipc_path);
  g_free (publisher);
}

void
rpc_publisher_send (RpcPublisher *publisher, JsonObject *message)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), message);
  g_autofree char *text = json_to_string (node, FALSE);
  (void) nn_send (publisher->sock, text, strlen (text), NN_DONTWAIT);
}
