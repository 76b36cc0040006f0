#include "rpc-publisher.h"

#include "rpc-socket.h"

#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <string.h>
#include <unistd.h>

struct RpcPublisher
{
  int sock;
  int endpoint;
  char *address;
  char *ipc_path;
  RpcConnectionCap *cap;
};

RpcPublisher *
rpc_publisher_new (const char *address, GError **error)
{
  /* The RPC socket, bound first, proved nobody else serves here, so a
   * socket file left at this path is stale. */
  if (g_str_has_prefix (address, "ipc://"))
    unlink (address + strlen ("ipc://"));
  g_autofree char *ipc_path = NULL;
  int endpoint = -1;
  int sock
      = rpc_socket_bind_private (AF_SP, NN_PUB, address, "publish", &ipc_path, &endpoint, error);
  if (sock < 0)
    return NULL;
  RpcPublisher *p = g_new0 (RpcPublisher, 1);
  p->sock = sock;
  p->endpoint = endpoint;
  p->address = g_strdup (address);
  p->ipc_path = g_steal_pointer (&ipc_path);
  return p;
}

void
rpc_publisher_free (RpcPublisher *publisher)
{
  if (publisher == NULL)
    return;
  rpc_connection_cap_free (publisher->cap);
  g_free (publisher->address);
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

void
rpc_publisher_cap_connections (RpcPublisher *publisher, guint max,
                               void (*around) (gpointer data, gboolean done), gpointer data)
{
  rpc_connection_cap_free (publisher->cap);
  publisher->cap = rpc_connection_cap_new (publisher->sock, publisher->endpoint, publisher->address,
                                           max, around, data);
}
