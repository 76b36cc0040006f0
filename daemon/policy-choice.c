/* policy-choice.c — which policy a sandbox gets, as the shell decides it
 * (for Create, and at start for the log). */
#include "daemon.h"

const Policy *
daemon_policy (Daemon *d, const char *name, GError **error)
{
  const Policy *p = g_hash_table_lookup (d->ctx.policies, name);
  if (p == NULL)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_NOT_FOUND, "no policy \"%s\"", name);
      return NULL;
    }
  g_autofree char *unmet = policy_unmet (p);
  if (unmet == NULL && p->memory_overhead_mb && d->ctx.cgroups == NULL)
    unmet = g_strdup_printf ("policy %s needs cgroups, which sandboxd cannot manage here", name);
  if (unmet)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_FAILED_PRECONDITION, "%s", unmet);
      return NULL;
    }
  const Policy *base = g_hash_table_lookup (d->ctx.policies, d->default_policy);
  g_autofree char *weaker = base ? policy_weaker_than (p, base) : NULL;
  if (weaker)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_PERMISSION_DENIED,
                   "policy %s is less strict than sandboxd's default policy %s: %s", name,
                   base->name, weaker);
      return NULL;
    }
  return p;
}
