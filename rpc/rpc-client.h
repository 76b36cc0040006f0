/* rpc-client.h — the C client of the sandbox.v1 API (used by sandboxctl).
 *
 * Link with `pkg-config --libs sandboxd-client`. One client is one
 * nanomsg REQ socket: one synchronous call at a time; use one client per
 * thread, or the asynchronous calls, which each use a socket of their own.
 * Errors are in RPC_ERROR with the RpcStatus as code and the server's
 * message intact.
 */
#pragma once

#include "rpc-status.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#define RPC_DEFAULT_ADDRESS_ENV "SANDBOXD_ADDRESS"

typedef struct RpcClient RpcClient;

/* $SANDBOXD_ADDRESS; else, in the runtime dir ($SANDBOXD_RUNTIME_DIR or
 * the default), a tenant's own socket for a user other than root
 * (tenants/by-uid/UID/rpc.sock, when there is one), else rpc.sock. */
const char *rpc_client_default_address (void);

RpcClient *rpc_client_new (const char *address, GError **error);
void rpc_client_free (RpcClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RpcClient, rpc_client_free)

const char *rpc_client_get_address (RpcClient *client);

/* Calls @method with @params (borrowed; NULL for {}). With @deadline_ms > 0
 * the server gives up after that long and the client a little later; 0
 * waits for as long as the server takes. Returns the result object. */
JsonObject *rpc_client_call (RpcClient *client, const char *method, JsonObject *params,
                             gint64 deadline_ms, GError **error);

/* The same call without blocking: it runs on a worker thread with a socket
 * of its own, and @callback runs in the thread-default main context of the
 * caller. Any number may be in flight. */
void rpc_client_call_async (RpcClient *client, const char *method, JsonObject *params,
                            gint64 deadline_ms, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
JsonObject *rpc_client_call_finish (RpcClient *client, GAsyncResult *result, GError **error);
