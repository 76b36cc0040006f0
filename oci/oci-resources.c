/* oci-resources.c — what `update` asks for: runc's LinuxResources (the
 * --resources file, as podman writes it) into Containers.Update's limits.
 *
 * The limits are the container's cgroup in the guest: memory.limit (-1:
 * none), memory.reservation (memory.low), cpu.quota and .period, cpu.shares
 * (cpu.weight, by runc's conversion), pids.limit (0 or -1: none). The
 * guest has no swap, so memory.swap and .swappiness change nothing and are
 * accepted, as are devices (fixed when the container was made; runc's
 * update leaves them too). Anything else is refused by name. */
#include "oci.h"

#include <gio/gio.h>

static gboolean refuse (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
refuse (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s", message);
  return FALSE;
}

/* @o's members, each either one of @known or JSON null. */
static gboolean
only (JsonObject *o, const char *path, const char *const *known, GError **error)
{
  g_autoptr (GList) names = json_object_get_members (o);
  for (GList *l = names; l; l = l->next)
    if (!g_strv_contains (known, l->data)
        && !JSON_NODE_HOLDS_NULL (json_object_get_member (o, l->data)))
      return refuse (error, "resources: %s%s%s cannot be updated in sandboxd's containers", path,
                     *path ? "." : "", (const char *) l->data);
  return TRUE;
}

/* A number member (absent or null: *out untouched). */
static gboolean
number (JsonObject *o, const char *path, const char *name, gint64 *out, GError **error)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return refuse (error, "resources: %s.%s is not a number", path, name);
  *out = json_node_get_int (n);
  return TRUE;
}

static JsonObject *
member (JsonObject *o, const char *name, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      refuse (error, "resources: %s is not an object", name);
      return NULL;
    }
  return json_node_get_object (n);
}

JsonObject *
oci_resources_to_limits (JsonObject *res, GError **error)
{
  static const char *const top[] = { "memory", "cpu", "pids", "devices", NULL };
  static const char *const mem_known[] = { "limit", "reservation", "swap", "swappiness", NULL };
  static const char *const cpu_known[] = { "quota", "period", "shares", NULL };
  static const char *const pids_known[] = { "limit", NULL };
  if (!only (res, "", top, error))
    return NULL;
  g_autoptr (GError) local = NULL;
  JsonObject *mem = member (res, "memory", &local);
  JsonObject *cpu = local ? NULL : member (res, "cpu", &local);
  JsonObject *pids = local ? NULL : member (res, "pids", &local);
  if (local)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  gint64 limit = 0, reservation = 0, quota = 0, period = 0, shares = 0, npids = 0;
  if ((mem && !only (mem, "memory", mem_known, error))
      || (cpu && !only (cpu, "cpu", cpu_known, error))
      || (pids && !only (pids, "pids", pids_known, error))
      || !number (mem, "memory", "limit", &limit, error)
      || !number (mem, "memory", "reservation", &reservation, error)
      || !number (cpu, "cpu", "quota", &quota, error)
      || !number (cpu, "cpu", "period", &period, error)
      || !number (cpu, "cpu", "shares", &shares, error)
      || !number (pids, "pids", "limit", &npids, error))
    return NULL;
  g_autoptr (JsonObject) limits = json_object_new ();
  if (limit)
    json_object_set_int_member (limits, "memory_bytes", limit < 0 ? -1 : limit);
  if (reservation)
    json_object_set_int_member (limits, "memory_low", reservation < 0 ? -1 : reservation);
  if (quota)
    json_object_set_int_member (limits, "cpu_quota", quota < 0 ? -1 : quota);
  if (period)
    json_object_set_int_member (limits, "cpu_period", period);
  /* cgroup v1's shares (2..262144) as v2's weight (1..10000), as runc. */
  if (shares)
    json_object_set_int_member (limits, "cpu_weight",
                                1 + ((CLAMP (shares, 2, 262144) - 2) * 9999) / 262142);
  if (npids)
    json_object_set_int_member (limits, "pids", npids < 0 ? -1 : npids);
  return g_steal_pointer (&limits);
}
