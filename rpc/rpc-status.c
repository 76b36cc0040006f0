#include "rpc-status.h"

GQuark
rpc_error_quark (void)
{
  return g_quark_from_static_string ("rpc-error-quark");
}

static const struct
{
  RpcStatus status;
  const char *name;
} names[] = {
  { RPC_STATUS_OK, "OK" },
  { RPC_STATUS_CANCELLED, "CANCELLED" },
  { RPC_STATUS_UNKNOWN, "UNKNOWN" },
  { RPC_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT" },
  { RPC_STATUS_DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED" },
  { RPC_STATUS_NOT_FOUND, "NOT_FOUND" },
  { RPC_STATUS_ALREADY_EXISTS, "ALREADY_EXISTS" },
  { RPC_STATUS_PERMISSION_DENIED, "PERMISSION_DENIED" },
  { RPC_STATUS_RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED" },
  { RPC_STATUS_FAILED_PRECONDITION, "FAILED_PRECONDITION" },
  { RPC_STATUS_UNIMPLEMENTED, "UNIMPLEMENTED" },
  { RPC_STATUS_INTERNAL, "INTERNAL" },
  { RPC_STATUS_UNAVAILABLE, "UNAVAILABLE" },
};

const char *
rpc_status_to_string (RpcStatus status)
{
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (names[i].status == status)
      return names[i].name;
  return "UNKNOWN";
}

gboolean
rpc_status_from_string (const char *name, RpcStatus *status)
{
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (names[i].name, name) == 0)
      {
        *status = names[i].status;
        return TRUE;
      }
  return FALSE;
}
