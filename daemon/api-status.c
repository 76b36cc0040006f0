/* api-status.c — errors become API statuses here, once, at the edge. */
#include "daemon.h"
#include "sandbox.h"

/* The one mapping from a failure to the status an API caller sees: the
 * domain's errors by kind, everything else as the RPC library maps it. */
RpcStatus
daemon_status_from_error (const GError *error)
{
  static const RpcStatus by_code[] = {
    [SANDBOX_ERROR_INVALID] = RPC_STATUS_INVALID_ARGUMENT,
    [SANDBOX_ERROR_NOT_FOUND] = RPC_STATUS_NOT_FOUND,
    [SANDBOX_ERROR_EXISTS] = RPC_STATUS_ALREADY_EXISTS,
    [SANDBOX_ERROR_STATE] = RPC_STATUS_FAILED_PRECONDITION,
    [SANDBOX_ERROR_GONE] = RPC_STATUS_UNAVAILABLE,
    [SANDBOX_ERROR_LIMIT] = RPC_STATUS_RESOURCE_EXHAUSTED,
    [SANDBOX_ERROR_DENIED] = RPC_STATUS_PERMISSION_DENIED,
    [SANDBOX_ERROR_INTERNAL] = RPC_STATUS_INTERNAL,
  };
  if (error->domain == SANDBOX_ERROR && error->code >= 0
      && error->code < (int) G_N_ELEMENTS (by_code))
    return by_code[error->code];
  return rpc_status_from_error (error);
}

void
daemon_return_error (RpcCall *call, const GError *error)
{
  rpc_call_return_error (call, daemon_status_from_error (error), "%s", error->message);
}
