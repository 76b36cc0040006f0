/* rpc-status.h — canonical status codes of the sandbox.v1 API.
 *
 * The numbers are gRPC's, so clients that know gRPC read them without a
 * table; on the wire a status is its name ("NOT_FOUND").
 */
#pragma once

#include <glib.h>

typedef enum
{
  RPC_STATUS_OK = 0,
  RPC_STATUS_CANCELLED = 1,
  RPC_STATUS_UNKNOWN = 2,
  RPC_STATUS_INVALID_ARGUMENT = 3,
  RPC_STATUS_DEADLINE_EXCEEDED = 4,
  RPC_STATUS_NOT_FOUND = 5,
  RPC_STATUS_ALREADY_EXISTS = 6,
  RPC_STATUS_PERMISSION_DENIED = 7,
  RPC_STATUS_RESOURCE_EXHAUSTED = 8,
  RPC_STATUS_FAILED_PRECONDITION = 9,
  RPC_STATUS_UNIMPLEMENTED = 12,
  RPC_STATUS_INTERNAL = 13,
  RPC_STATUS_UNAVAILABLE = 14,
} RpcStatus;

/* Errors in this domain carry an RpcStatus as their code. */
#define RPC_ERROR (rpc_error_quark ())
GQuark rpc_error_quark (void);

const char *rpc_status_to_string (RpcStatus status);
/* FALSE if @name is not a known status name. */
gboolean rpc_status_from_string (const char *name, RpcStatus *status);

/* The one mapping from an error to the status a caller sees: RPC_ERROR's
 * own code; a file or I/O error by its kind (missing: NOT_FOUND, not
 * allowed: PERMISSION_DENIED, not what was asked for: INVALID_ARGUMENT, no
 * room: RESOURCE_EXHAUSTED); a field error INVALID_ARGUMENT; anything else
 * FAILED_PRECONDITION. */
RpcStatus rpc_status_from_error (const GError *error);
