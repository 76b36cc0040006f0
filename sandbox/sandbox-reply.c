/* sandbox-reply.c — how the sandbox domain answers its asynchronous calls:
 * a GTask whose result is a JSON object, or an error in SANDBOX_ERROR. The
 * shell (RPC, D-Bus) turns these into its own replies and statuses. */
#include "sandbox-private.h"

#include <errno.h>

GQuark
sandbox_error_quark (void)
{
  return g_quark_from_static_string ("sandbox-error-quark");
}

JsonObject *
sandbox_call_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
sandbox_reply_json (GTask *task, JsonObject *result)
{
  g_task_return_pointer (task, result, (GDestroyNotify) json_object_unref);
  g_object_unref (task);
}

void
sandbox_reply_error (GTask *task, SandboxError code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_task_return_new_error (task, SANDBOX_ERROR, code, "%s", message);
  g_object_unref (task);
}

void
sandbox_reply_gerror (GTask *task, const GError *error)
{
  g_task_return_error (task, g_error_copy (error));
  g_object_unref (task);
}

void
sandbox_reply_all_error (GList **tasks, SandboxError code, const char *message)
{
  GList *all = g_steal_pointer (tasks);
  for (GList *l = all; l; l = l->next)
    sandbox_reply_error (l->data, code, "%s", message);
  g_list_free (all);
}

SandboxError
sandbox_error_from_errno (int e)
{
  switch (e)
    {
    case ENOENT:
    case ENOTDIR:
    case ESRCH:
      return SANDBOX_ERROR_NOT_FOUND;
    case EACCES:
    case EPERM:
      return SANDBOX_ERROR_DENIED;
    case EINVAL:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG:
      return SANDBOX_ERROR_INVALID;
    case EEXIST:
      return SANDBOX_ERROR_EXISTS;
    case ENOSPC:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return SANDBOX_ERROR_LIMIT;
    default:
      return SANDBOX_ERROR_STATE;
    }
}
