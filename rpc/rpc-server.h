/* rpc-server.h — serves sandbox.v1 requests on a nanomsg raw REP socket.
 *
 * The socket is polled from the GLib main loop and never blocks it. A call
 * may be answered at once or much later (a boot, a long-poll read): the raw
 * socket keeps each request's routing header, so any number of calls can be
 * outstanding. A call whose deadline passes is answered DEADLINE_EXCEEDED
 * by the server; a later answer to it is dropped.
 */
#pragma once

#include "rpc-schema.h"
#include "rpc-status.h"

#include <json-glib/json-glib.h>

typedef struct RpcServer RpcServer;
typedef struct RpcCall RpcCall;

/* Called once per well-formed request; the call is borrowed: take a ref to
 * answer it after returning. */
typedef void (*RpcHandler) (RpcCall *call, gpointer user_data);

/* @address is a nanomsg address; for ipc:// the socket file is made 0600
 * and a stale one left by a dead server is replaced. Requests are validated
 * against @schema (borrowed; NULL: no validation) before @handler sees them. */
RpcServer *rpc_server_new (const char *address, RpcSchema *schema, RpcHandler handler,
                           gpointer user_data, GError **error);
void rpc_server_free (RpcServer *server);
/* At most @max connections (a socket that serves one tenant): past it,
 * checked each second, all of them are closed and the socket file made
 * anew (0600, root's), between @around (data, FALSE) and (data, TRUE). */
void rpc_server_cap_connections (RpcServer *server, guint max,
                                 void (*around) (gpointer data, gboolean done), gpointer data);

/* At most @max_calls calls in flight at once on this socket, holding at
 * most @max_bytes of requests between them (0: no limit): past either, a
 * new request is answered RESOURCE_EXHAUSTED at once, unread by the
 * handler, so one caller's unanswered calls (long polls, Execs waiting
 * for a guest) cannot grow the server without bound. */
void rpc_server_limit_calls (RpcServer *server, guint max_calls, gsize max_bytes);

const char *rpc_call_get_method (RpcCall *call);
JsonObject *rpc_call_get_params (RpcCall *call);
RpcCall *rpc_call_ref (RpcCall *call);
void rpc_call_unref (RpcCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RpcCall, rpc_call_unref)
/* Its deadline stops counting (a Create whose boot waits its turn), and
 * counts again, in full, from the restart (its boot begins). */
void rpc_call_hold_deadline (RpcCall *call);
void rpc_call_restart_deadline (RpcCall *call);
/* TRUE once answered (by the handler, the deadline or server shutdown). */
gboolean rpc_call_is_done (RpcCall *call);

/* Each answers the call once; later answers are ignored. @result: transfer full. */
void rpc_call_return (RpcCall *call, JsonObject *result);
void rpc_call_return_error (RpcCall *call, RpcStatus status, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);
/* RPC_ERROR keeps its status; JSON field errors are INVALID_ARGUMENT;
 * anything else is INTERNAL. The message is kept intact. */
void rpc_call_return_gerror (RpcCall *call, const GError *error);
