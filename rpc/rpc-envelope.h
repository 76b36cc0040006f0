/* rpc-envelope.h — the request and response envelopes of sandbox.v1.
 *
 * request:  {"id": int, "method": "sandbox.v1.<Service>.<Method>",
 *            "params": {...}, "deadline_ms": int (optional)}
 * response: {"id": int or null, "status": {"code": "OK", "message": ""},
 *            "result": {...}}
 * rpc/API.md is the prose version of this contract.
 */
#pragma once

#include "rpc-status.h"

#include <json-glib/json-glib.h>

typedef struct
{
  gint64 id;
  gboolean has_id; /* FALSE when the request was too broken to carry one */
  char *method;
  JsonObject *params;
  gint64 deadline_ms; /* 0: none */
} RpcRequest;

void rpc_request_clear (RpcRequest *req);

/* Decodes a request. On failure @error is in RPC_ERROR (INVALID_ARGUMENT)
 * and req->id/has_id are set if the id could be read. */
gboolean rpc_request_decode (const char *data, gsize len, RpcRequest *req, GError **error);
char *rpc_request_encode (gint64 id, const char *method, JsonObject *params, gint64 deadline_ms,
                          gsize *len);

/* @result may be NULL (encoded as {}); @message may be NULL. */
char *rpc_response_encode (gboolean has_id, gint64 id, RpcStatus status, const char *message,
                           JsonObject *result, gsize *len);
/* Returns the result object on OK; an RPC_ERROR with the status otherwise. */
JsonObject *rpc_response_decode (const char *data, gsize len, gint64 expected_id, GError **error);
