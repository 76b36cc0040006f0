#include "rpc-status.h"

#include "json-fields.h"

#include <gio/gio.h>

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

RpcStatus
rpc_status_from_error (const GError *error)
{
  if (error->domain == RPC_ERROR)
    return (RpcStatus) error->code;
  if (error->domain == JSON_FIELD_ERROR)
    return RPC_STATUS_INVALID_ARGUMENT;
  if (error->domain == G_FILE_ERROR)
    switch (error->code)
      {
      case G_FILE_ERROR_NOENT:
      case G_FILE_ERROR_NOTDIR:
        return RPC_STATUS_NOT_FOUND;
      case G_FILE_ERROR_ACCES:
      case G_FILE_ERROR_PERM:
        return RPC_STATUS_PERMISSION_DENIED;
      case G_FILE_ERROR_ISDIR:
      case G_FILE_ERROR_INVAL:
      case G_FILE_ERROR_LOOP:
      case G_FILE_ERROR_NAMETOOLONG:
        return RPC_STATUS_INVALID_ARGUMENT;
      case G_FILE_ERROR_NOSPC:
      case G_FILE_ERROR_NOMEM:
        return RPC_STATUS_RESOURCE_EXHAUSTED;
      default:
        return RPC_STATUS_FAILED_PRECONDITION;
      }
  if (error->domain == G_IO_ERROR)
    switch (error->code)
      {
      case G_IO_ERROR_NOT_FOUND:
      case G_IO_ERROR_NOT_DIRECTORY:
        return RPC_STATUS_NOT_FOUND;
      case G_IO_ERROR_PERMISSION_DENIED:
        return RPC_STATUS_PERMISSION_DENIED;
      case G_IO_ERROR_INVALID_ARGUMENT:
      case G_IO_ERROR_INVALID_DATA:
      case G_IO_ERROR_IS_DIRECTORY:
      case G_IO_ERROR_NOT_REGULAR_FILE:
      case G_IO_ERROR_TOO_MANY_LINKS:
      case G_IO_ERROR_FILENAME_TOO_LONG:
        return RPC_STATUS_INVALID_ARGUMENT;
      case G_IO_ERROR_EXISTS:
        return RPC_STATUS_ALREADY_EXISTS;
      case G_IO_ERROR_NO_SPACE:
      case G_IO_ERROR_TOO_MANY_OPEN_FILES:
        return RPC_STATUS_RESOURCE_EXHAUSTED;
      case G_IO_ERROR_TIMED_OUT:
        return RPC_STATUS_DEADLINE_EXCEEDED;
      default:
        return RPC_STATUS_FAILED_PRECONDITION;
      }
  return RPC_STATUS_FAILED_PRECONDITION;
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
