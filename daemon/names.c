/* names.c — the API's names (names.h). */
#include "names.h"

#include "rpc-status.h"

#include <string.h>

gboolean
daemon_check_name (const char *name, const char *field, GError **error)
{
  gboolean valid = name && g_ascii_isalnum (name[0]) && strlen (name) <= 63;
  for (const char *p = name; valid && *p; p++)
    valid = g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.';
  if (valid)
    return TRUE;
  g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
               "field \"%s\": \"%s\" is not a valid name (letters, digits, '-', '_', '.'; "
               "starting with a letter or digit; at most 63)",
               field, name ? name : "");
  return FALSE;
}
