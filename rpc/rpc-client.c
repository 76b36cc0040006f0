#include "rpc-client.h"

#include "config.h"
#include "rpc-envelope.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Beyond the server's own deadline, how long the client waits for its
 * DEADLINE_EXCEEDED answer before deciding the server is gone. */
#define CLIENT_GRACE_MS 2000

struct RpcClient
{
  int sock;
  char *address;
  gint64 next_id;
};

const char *
rpc_client_default_address (void)
{
  static char *address;
  const char *env = g_getenv (RPC_DEFAULT_ADDRESS_ENV);
  if (env && *env)
    return env;
  if (address)
    return address;
  const char *dir = g_getenv ("SANDBOXD_RUNTIME_DIR");
  if (dir == NULL || *dir == '\0')
    dir = SANDBOXD_RUNTIME_DIR;
  /* A user other than root is a tenant: its own socket, found by its uid. */
  g_autofree char *uid = g_strdup_printf ("%u", (guint) getuid ());
  g_autofree char *own = g_build_filename (dir, "tenants", "by-uid", uid, "rpc.sock", NULL);
  if (getuid () != 0 && g_file_test (own, G_FILE_TEST_EXISTS))
    address = g_strconcat ("ipc://", own, NULL);
  else
    address = g_strconcat ("ipc://", dir, "/rpc.sock", NULL);
  return address;
}

RpcClient *
rpc_client_new (const char *address, GError **error)
{
  struct stat st;
  /* Connecting to a unix socket takes write permission on it: without it
   * nanomsg would retry in silence until the deadline. */
  if (g_str_has_prefix (address, "ipc://")
      && (stat (address + strlen ("ipc://"), &st) < 0
          || access (address + strlen ("ipc://"), W_OK) < 0))
    {
      if (errno == EACCES)
        g_set_error (error, RPC_ERROR, RPC_STATUS_PERMISSION_DENIED,
                     "cannot reach sandboxd at %s: permission denied (not your socket)", address);
      else
        g_set_error (error, RPC_ERROR, RPC_STATUS_UNAVAILABLE,
                     "cannot reach sandboxd at %s: no such socket (is sandboxd running?)", address);
      return NULL;
    }
  int sock = nn_socket (AF_SP, NN_REQ);
  if (sock < 0)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "nn_socket: %s",
                   nn_strerror (nn_errno ()));
      return NULL;
    }
  /* No automatic resend: a request such as Create must not run twice. */
  int resend = G_MAXINT32;
  nn_setsockopt (sock, NN_REQ, NN_REQ_RESEND_IVL, &resend, sizeof resend);
  int maxsize = -1;
  nn_setsockopt (sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof maxsize);
  if (nn_connect (sock, address) < 0)
    {
      int e = nn_errno ();
      nn_close (sock);
      g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT, "cannot use address %s: %s",
                   address, nn_strerror (e));
      return NULL;
    }
  RpcClient *c = g_new0 (RpcClient, 1);
  c->sock = sock;
  c->address = g_strdup (address);
  c->next_id = 1;
  return c;
}

void
rpc_client_free (RpcClient *client)
{
  if (client == NULL)
    return;
  nn_close (client->sock);
  g_free (client->address);
  g_free (client);
}

const char *
rpc_client_get_address (RpcClient *client)
{
  return client->address;
}

JsonObject *
rpc_client_call (RpcClient *client, const char *method, JsonObject *params, gint64 deadline_ms,
                 GError **error)
{
  gint64 id = client->next_id++;
  gsize len;
  g_autofree char *text = rpc_request_encode (id, method, params, deadline_ms, &len);

  int timeout = deadline_ms > 0 ? (int) MIN (deadline_ms + CLIENT_GRACE_MS, G_MAXINT32) : -1;
  nn_setsockopt (client->sock, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout, sizeof timeout);
  nn_setsockopt (client->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof timeout);

  if (nn_send (client->sock, text, len, 0) < 0)
    {
      int e = nn_errno ();
      g_set_error (error, RPC_ERROR, e == ETIMEDOUT ? RPC_STATUS_UNAVAILABLE : RPC_STATUS_INTERNAL,
                   "cannot send %s to %s: %s", method, client->address, nn_strerror (e));
      return NULL;
    }

  void *buf = NULL;
  int n;
  do
    n = nn_recv (client->sock, &buf, NN_MSG, 0);
  while (n < 0 && nn_errno () == EINTR);
  if (n < 0)
    {
      int e = nn_errno ();
      /* The server answers its own deadlines; silence means it is gone. */
      if (e == ETIMEDOUT)
        g_set_error (error, RPC_ERROR, RPC_STATUS_UNAVAILABLE,
                     "no answer to %s from %s within %" G_GINT64_FORMAT " ms", method,
                     client->address, deadline_ms + CLIENT_GRACE_MS);
      else
        g_set_error (error, RPC_ERROR, RPC_STATUS_UNAVAILABLE, "receive from %s: %s",
                     client->address, nn_strerror (e));
      return NULL;
    }
  JsonObject *result = rpc_response_decode (buf, (gsize) n, id, error);
  nn_freemsg (buf);
  return result;
}

typedef struct
{
  char *address;
  char *method;
  char *params; /* serialized: the caller may change its object meanwhile */
  gint64 deadline_ms;
} AsyncCall;

static void
async_call_free (AsyncCall *a)
{
  g_free (a->address);
  g_free (a->method);
  g_free (a->params);
  g_free (a);
}

static void
run_async_call (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  AsyncCall *a = data;
  GError *error = NULL;
  g_autoptr (JsonNode) params = a->params ? json_from_string (a->params, NULL) : NULL;
  g_autoptr (RpcClient) own = rpc_client_new (a->address, &error);
  JsonObject *result
      = own ? rpc_client_call (own, a->method, params ? json_node_get_object (params) : NULL,
                               a->deadline_ms, &error)
            : NULL;
  if (result)
    g_task_return_pointer (task, result, (GDestroyNotify) json_object_unref);
  else
    g_task_return_error (task, error);
}

void
rpc_client_call_async (RpcClient *client, const char *method, JsonObject *params,
                       gint64 deadline_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  AsyncCall *a = g_new0 (AsyncCall, 1);
  a->address = g_strdup (client->address);
  a->method = g_strdup (method);
  if (params)
    {
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), params);
      a->params = json_to_string (node, FALSE);
    }
  a->deadline_ms = deadline_ms;
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rpc_client_call_async);
  g_task_set_task_data (task, a, (GDestroyNotify) async_call_free);
  g_task_run_in_thread (task, run_async_call);
  g_object_unref (task);
}

JsonObject *
rpc_client_call_finish (RpcClient *client, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
