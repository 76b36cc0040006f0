/* tenant-quota.c — what a tenant uses against its quotas, checked before
 * any work for it starts, and shown to it by System.Info. */
#include "daemon.h"
#include "images.h"

#include <string.h>

char *
daemon_image_dir (Daemon *d, const char *tenant)
{
  if (tenant == NULL)
    return g_build_filename (d->state_dir, "images", NULL);
  return g_build_filename (d->state_dir, "tenants", tenant, "images", NULL);
}

char *
daemon_volume_dir (Daemon *d, const char *tenant)
{
  if (tenant == NULL)
    return g_build_filename (d->state_dir, "volumes", NULL);
  return g_build_filename (d->state_dir, "tenants", tenant, "volumes", NULL);
}

/* In each quota's unit; those counted in MiB are in bytes here. Volumes
 * only when @volumes (each is walked). */
static void
usage (Daemon *d, const Tenant *t, gint64 use[TENANT_QUOTA_N], gboolean volumes)
{
  memset (use, 0, sizeof (gint64) * TENANT_QUOTA_N);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.sandboxes);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      if (g_strcmp0 (sandbox_get_tenant (value), t->name) != 0)
        continue;
      SandboxState state = sandbox_get_state (value);
      use[TENANT_QUOTA_SANDBOXES]++;
      if (state != SANDBOX_STOPPED && state != SANDBOX_FAILED)
        {
          use[TENANT_QUOTA_MEMORY_MB] += sandbox_get_memory_mb (value);
          use[TENANT_QUOTA_CPUS] += sandbox_get_cpus (value);
        }
      use[TENANT_QUOTA_OUTPUT_MB] += (gint64) sandbox_get_output_bytes (value);
    }
  g_autofree char *dir = daemon_image_dir (d, t->name);
  g_autoptr (GPtrArray) images = image_cache_list (dir, NULL);
  for (guint i = 0; images && i < images->len; i++)
    use[TENANT_QUOTA_IMAGE_MB] += (gint64) ((ImageInfo *) images->pdata[i])->bytes;
  g_autofree char *vdir = daemon_volume_dir (d, t->name);
  g_autoptr (GPtrArray) vols = volumes ? volume_store_list (vdir) : NULL;
  for (guint i = 0; vols && i < vols->len; i++)
    use[TENANT_QUOTA_VOLUME_MB]
        += (gint64) volume_sizes_get (d->volume_sizes, ((VolumeInfo *) vols->pdata[i])->path);
}

guint64
daemon_quota_image_hold (Daemon *d, const char *tenant)
{
  const Tenant *t = tenant ? daemon_tenant (d, tenant) : NULL;
  if (t == NULL || t->quota[TENANT_QUOTA_IMAGE_MB] < 0)
    return G_MAXUINT64;
  gint64 use[TENANT_QUOTA_N];
  usage (d, t, use, FALSE);
  gint64 held = GPOINTER_TO_SIZE (g_hash_table_lookup (d->image_holds, tenant));
  gint64 room = (t->quota[TENANT_QUOTA_IMAGE_MB] << 20) - use[TENANT_QUOTA_IMAGE_MB] - held;
  if (room <= 0)
    return 0;
  g_hash_table_insert (d->image_holds, g_strdup (tenant), GSIZE_TO_POINTER (held + room));
  return (guint64) room;
}

void
daemon_quota_image_release (Daemon *d, const char *tenant, guint64 bytes)
{
  if (tenant == NULL || bytes == 0 || bytes == G_MAXUINT64)
    return;
  gsize held = GPOINTER_TO_SIZE (g_hash_table_lookup (d->image_holds, tenant));
  if (held > bytes)
    g_hash_table_insert (d->image_holds, g_strdup (tenant), GSIZE_TO_POINTER (held - bytes));
  else
    g_hash_table_remove (d->image_holds, tenant);
}

static gboolean
in_bytes (TenantQuota q)
{
  return q == TENANT_QUOTA_IMAGE_MB || q == TENANT_QUOTA_OUTPUT_MB || q == TENANT_QUOTA_VOLUME_MB;
}

/* As the quota counts it: MiB rounded up for the two kept in bytes. */
static gint64
in_unit (TenantQuota q, gint64 use)
{
  return in_bytes (q) ? (use + (1 << 20) - 1) >> 20 : use;
}

gboolean
daemon_quota_admit (Daemon *d, const Tenant *t, const TenantAsk *ask, GError **error)
{
  if (t == NULL)
    return TRUE;
  gint64 use[TENANT_QUOTA_N];
  usage (d, t, use, ask->volume);
  const gint64 more[TENANT_QUOTA_N] = { ask->sandbox ? 1 : 0, ask->memory_mb, ask->cpus, 0, 0, 0 };
  const gboolean wanted[TENANT_QUOTA_N]
      = { ask->sandbox, ask->memory_mb > 0, ask->cpus > 0, ask->image, ask->output, ask->volume };
  for (TenantQuota q = 0; q < TENANT_QUOTA_N; q++)
    {
      gint64 limit = t->quota[q];
      if (limit < 0 || !wanted[q])
        continue;
      /* A quota in bytes is full at its limit; a count may reach it. */
      gboolean over = in_bytes (q) ? use[q] >= (limit << 20) : use[q] + more[q] > limit;
      if (!over)
        continue;
      g_autofree char *asked
          = more[q] ? g_strdup_printf (", asked for %" G_GINT64_FORMAT " more", more[q]) : NULL;
      g_set_error (error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED,
                   "tenant %s's quota %s is %" G_GINT64_FORMAT "; in use: %" G_GINT64_FORMAT "%s",
                   t->name, tenant_quota_names[q], limit, in_unit (q, use[q]), asked ? asked : "");
      return FALSE;
    }
  return TRUE;
}

JsonObject *
daemon_quota_to_json (Daemon *d, const Tenant *t)
{
  gint64 use[TENANT_QUOTA_N];
  usage (d, t, use, TRUE);
  JsonObject *o = json_object_new ();
  JsonObject *limits = json_object_new ();
  JsonObject *used = json_object_new ();
  for (TenantQuota q = 0; q < TENANT_QUOTA_N; q++)
    {
      if (t->quota[q] >= 0)
        json_object_set_int_member (limits, tenant_quota_names[q], t->quota[q]);
      else
        json_object_set_null_member (limits, tenant_quota_names[q]);
      json_object_set_int_member (used, tenant_quota_names[q], in_unit (q, use[q]));
    }
  json_object_set_string_member (o, "name", t->name);
  json_object_set_object_member (o, "quota", limits);
  json_object_set_object_member (o, "use", used);
  return o;
}
