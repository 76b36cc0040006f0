#include "rpc-server.h"

#include "json-fields.h"
#include "rpc-envelope.h"
#include "rpc-socket.h"

#include <errno.h>
#include <glib-unix.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Requests above this get RESOURCE_EXHAUSTED; nanomsg itself drops
 * anything above the transport cap, which is larger so that most oversized
 * requests still get an answer. */
#define RPC_MAX_MESSAGE (4 * 1024 * 1024)
#define RPC_TRANSPORT_CAP (64 * 1024 * 1024)

struct RpcServer
{
  int sock;
  int endpoint;
  char *address;
  RpcConnectionCap *cap; /* NULL: no cap */
  guint src;
  char *ipc_path;
  RpcSchema *schema;
  RpcHandler handler;
  gpointer handler_data;
  GHashTable *calls; /* live calls, so shutdown can detach them */
  guint max_calls;   /* in flight at once (0: no limit) */
  gsize max_bytes;   /* their requests' bytes (0: no limit) */
  gsize bytes;       /* the live calls' requests' bytes */
};

struct RpcCall
{
  gint ref;
  RpcServer *server; /* NULL once the server is gone */
  void *header;      /* nanomsg control data: the route back */
  RpcRequest req;
  gboolean done;
  guint deadline_src;
  gsize bytes; /* its request's, counted in server->bytes until it is answered */
};

const char *
rpc_call_get_method (RpcCall *call)
{
  return call->req.method;
}

JsonObject *
rpc_call_get_params (RpcCall *call)
{
  return call->req.params;
}

RpcCall *
rpc_call_ref (RpcCall *call)
{
  call->ref++;
  return call;
}

static void call_send (RpcCall *call, RpcStatus status, const char *message, JsonObject *result);

static void
call_finish (RpcCall *call)
{
  call->done = TRUE;
  g_clear_handle_id (&call->deadline_src, g_source_remove);
  if (call->header)
    {
      nn_freemsg (call->header);
      call->header = NULL;
    }
  if (call->server)
    {
      g_hash_table_remove (call->server->calls, call);
      call->server->bytes -= call->bytes;
      call->server = NULL;
    }
}

void
rpc_call_unref (RpcCall *call)
{
  if (--call->ref > 0)
    return;
  /* Nobody can answer it any more: say so rather than leave the client
   * waiting for an answer that will never come. */
  if (!call->done)
    call_send (call, RPC_STATUS_INTERNAL, "the server dropped the call without answering", NULL);
  call_finish (call);
  rpc_request_clear (&call->req);
  g_free (call);
}

gboolean
rpc_call_is_done (RpcCall *call)
{
  return call->done;
}

static void
call_send (RpcCall *call, RpcStatus status, const char *message, JsonObject *result)
{
  if (call->done)
    return;
  if (call->server)
    {
      gsize len;
      g_autofree char *text
          = rpc_response_encode (call->req.has_id, call->req.id, status, message, result, &len);
      struct nn_iovec iov = { text, len };
      struct nn_msghdr hdr = { 0 };
      hdr.msg_iov = &iov;
      hdr.msg_iovlen = 1;
      hdr.msg_control = &call->header;
      hdr.msg_controllen = NN_MSG;
      if (nn_sendmsg (call->server->sock, &hdr, NN_DONTWAIT) >= 0)
        call->header = NULL; /* nanomsg took it */
      else
        g_warning ("rpc: cannot send the answer to %s: %s",
                   call->req.method ? call->req.method : "a request", nn_strerror (nn_errno ()));
    }
  call_finish (call);
}

void
rpc_call_return (RpcCall *call, JsonObject *result)
{
  call_send (call, RPC_STATUS_OK, NULL, result);
  if (result)
    json_object_unref (result);
}

void
rpc_call_return_error (RpcCall *call, RpcStatus status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  call_send (call, status, msg, NULL);
}

void
rpc_call_return_gerror (RpcCall *call, const GError *error)
{
  call_send (call, rpc_status_from_error (error), error->message, NULL);
}

static gboolean
on_deadline (gpointer data)
{
  RpcCall *call = data;
  call->deadline_src = 0;
  rpc_call_return_error (call, RPC_STATUS_DEADLINE_EXCEEDED,
                         "%s did not finish within its deadline of %" G_GINT64_FORMAT " ms",
                         call->req.method, call->req.deadline_ms);
  return G_SOURCE_REMOVE;
}

void
rpc_call_hold_deadline (RpcCall *call)
{
  g_clear_handle_id (&call->deadline_src, g_source_remove);
}

void
rpc_call_restart_deadline (RpcCall *call)
{
  if (call->done || call->req.deadline_ms <= 0)
    return;
  g_clear_handle_id (&call->deadline_src, g_source_remove);
  call->deadline_src = g_timeout_add ((guint) call->req.deadline_ms, on_deadline, call);
}

static void
handle_message (RpcServer *server, const char *body, gsize len, void *header)
{
  g_autoptr (GError) error = NULL;
  RpcCall *call = g_new0 (RpcCall, 1);
  call->ref = 1;
  call->server = server;
  call->header = header;
  guint live = g_hash_table_size (server->calls);
  g_hash_table_add (server->calls, call);
  call->bytes = len;
  server->bytes += len;

  if (len > RPC_MAX_MESSAGE)
    g_set_error (&error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED,
                 "request of %zu bytes exceeds the maximum of %d", len, RPC_MAX_MESSAGE);
  else if (server->max_calls && live >= server->max_calls)
    g_set_error (&error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED,
                 "%u calls on this socket are waiting for their answers (at most %u): wait for "
                 "some",
                 live, server->max_calls);
  else if (server->max_bytes && server->bytes > server->max_bytes)
    g_set_error (&error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED,
                 "the calls on this socket waiting for their answers hold %zu bytes of requests "
                 "(at most %zu): wait for some",
                 server->bytes - len, server->max_bytes);
  if (error || !rpc_request_decode (body, len, &call->req, &error)
      || (server->schema
          && !rpc_schema_validate (server->schema, call->req.method, call->req.params, &error)))
    rpc_call_return_gerror (call, error);
  else
    {
      if (server->schema)
        {
          JsonObject *complete
              = rpc_schema_complete (server->schema, call->req.method, call->req.params);
          json_object_unref (call->req.params);
          call->req.params = complete;
        }
      if (call->req.deadline_ms > 0)
        call->deadline_src = g_timeout_add ((guint) call->req.deadline_ms, on_deadline, call);
      server->handler (call, server->handler_data);
    }
  rpc_call_unref (call);
}

static gboolean
on_readable (int fd, GIOCondition cond, gpointer data)
{
  RpcServer *server = data;
  /* Bounded per wake-up so one flooding client cannot starve the loop. */
  for (int i = 0; i < 64; i++)
    {
      void *body = NULL;
      void *header = NULL;
      struct nn_iovec iov = { &body, NN_MSG };
      struct nn_msghdr hdr = { 0 };
      hdr.msg_iov = &iov;
      hdr.msg_iovlen = 1;
      hdr.msg_control = &header;
      hdr.msg_controllen = NN_MSG;
      int n = nn_recvmsg (server->sock, &hdr, NN_DONTWAIT);
      if (n < 0)
        {
          if (nn_errno () != EAGAIN && nn_errno () != EINTR)
            g_warning ("rpc: receive: %s", nn_strerror (nn_errno ()));
          break;
        }
      handle_message (server, body, (gsize) n, header);
      nn_freemsg (body);
    }
  return G_SOURCE_CONTINUE;
}

/* Refuses to take over the socket of a live server; removes a dead one's. */
static gboolean
claim_ipc_path (const char *path, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
                   "socket path %s is longer than %zu bytes", path, sizeof addr.sun_path - 1);
      return FALSE;
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  strcpy (addr.sun_path, path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int r = connect (fd, (struct sockaddr *) &addr, sizeof addr);
  close (fd);
  if (r == 0)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_ALREADY_EXISTS,
                   "another server is already listening on %s", path);
      return FALSE;
    }
  unlink (path);
  return TRUE;
}

void
rpc_server_limit_calls (RpcServer *server, guint max_calls, gsize max_bytes)
{
  server->max_calls = max_calls;
  server->max_bytes = max_bytes;
}

RpcServer *
rpc_server_new (const char *address, RpcSchema *schema, RpcHandler handler, gpointer user_data,
                GError **error)
{
  if (g_str_has_prefix (address, "ipc://") && !claim_ipc_path (address + strlen ("ipc://"), error))
    return NULL;

  g_autofree char *ipc_path = NULL;
  int endpoint = -1;
  int sock
      = rpc_socket_bind_private (AF_SP_RAW, NN_REP, address, "listen", &ipc_path, &endpoint, error);
  if (sock < 0)
    return NULL;
  int maxsize = RPC_TRANSPORT_CAP;
  nn_setsockopt (sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof maxsize);

  int fd = -1;
  size_t fdsz = sizeof fd;
  if (nn_getsockopt (sock, NN_SOL_SOCKET, NN_RCVFD, &fd, &fdsz) < 0)
    {
      nn_close (sock);
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "NN_RCVFD: %s",
                   nn_strerror (nn_errno ()));
      return NULL;
    }

  RpcServer *server = g_new0 (RpcServer, 1);
  server->sock = sock;
  server->endpoint = endpoint;
  server->address = g_strdup (address);
  server->ipc_path = g_steal_pointer (&ipc_path);
  server->schema = schema;
  server->handler = handler;
  server->handler_data = user_data;
  server->calls = g_hash_table_new (NULL, NULL);
  server->src = g_unix_fd_add (fd, G_IO_IN, on_readable, server);
  return server;
}

void
rpc_server_free (RpcServer *server)
{
  if (server == NULL)
    return;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, server->calls);
  while (g_hash_table_iter_next (&it, &key, NULL))
    ((RpcCall *) key)->server = NULL;
  g_hash_table_destroy (server->calls);
  rpc_connection_cap_free (server->cap);
  g_free (server->address);
  g_source_remove (server->src);
  nn_close (server->sock);
  if (server->ipc_path)
    unlink (server->ipc_path);
  g_free (server->ipc_path);
  g_free (server);
}

void
rpc_server_cap_connections (RpcServer *server, guint max,
                            void (*around) (gpointer data, gboolean done), gpointer data)
{
  rpc_connection_cap_free (server->cap);
  server->cap
      = rpc_connection_cap_new (server->sock, server->endpoint, server->address, max, around, data);
}
