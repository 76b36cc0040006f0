/* rpc-client.h — the C client of the sandbox.v1 API (used by sandboxctl).
 *
 * One client is one nanomsg REQ socket: one call at a time. Use one client
 * per thread for concurrent calls. Errors are in RPC_ERROR with the
 * RpcStatus as code, and the server's message intact.
 */
#pragma once

#include "rpc-status.h"

#include <json-glib/json-glib.h>

#define RPC_DEFAULT_ADDRESS_ENV "SANDBOXD_ADDRESS"

typedef struct RpcClient RpcClient;

/* $SANDBOXD_ADDRESS, else ipc://<default runtime dir>/rpc.sock. */
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
