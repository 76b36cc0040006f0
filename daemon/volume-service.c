/* volume-service.c — named volumes as the API sees them: each caller its
 * own (the admin's served as --volume-user, a tenant's as the tenant),
 * counted in a tenant's volume_mb; one in use by a sandbox is kept. */
#include "daemon.h"
#include "json-fields.h"
#include "names.h"
#include "rpc-status.h"

static char *
store_dir (Daemon *d)
{
  return daemon_volume_dir (d, d->caller ? d->caller->name : NULL);
}

/* The caller's sandboxes that have @info's data as a volume. */
static JsonArray *
used_by (Daemon *d, const VolumeInfo *info)
{
  JsonArray *names = json_array_new ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.sandboxes);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (g_strcmp0 (sandbox_get_tenant (value), d->caller ? d->caller->name : NULL) == 0
        && sandbox_uses_directory (value, info->path))
      json_array_add_string_element (names, sandbox_get_name (value));
  return names;
}

static JsonObject *
volume_json (Daemon *d, const VolumeInfo *info)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "name", info->name);
  json_object_set_string_member (o, "path", info->path);
  json_object_set_string_member (o, "created", info->created);
  json_object_set_int_member (o, "uid", info->uid);
  json_object_set_int_member (o, "gid", info->gid);
  json_object_set_int_member (o, "bytes", (gint64) volume_sizes_get (d->volume_sizes, info->path));
  json_object_set_array_member (o, "used_by", used_by (d, info));
  return o;
}

/* Who serves the caller's volumes: the tenant, or --volume-user. */
static gboolean
owner (Daemon *d, guint *uid, guint *gid, GError **error)
{
  if (d->caller)
    {
      *uid = d->caller->creds.uid;
      *gid = d->caller->creds.gid;
      return TRUE;
    }
  if (d->volume_uid == 0)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_FAILED_PRECONDITION,
                   "the admin's named volumes are served as user %s, which does not exist "
                   "(scripts/setup.sh makes it; or start sandboxd with --volume-user)",
                   d->volume_user);
      return FALSE;
    }
  *uid = d->volume_uid;
  *gid = d->volume_gid;
  return TRUE;
}

static VolumeInfo *
create (Daemon *d, const char *name, GError **error)
{
  guint uid = 0, gid = 0;
  TenantAsk ask = { .volume = TRUE };
  if (!daemon_check_name (name, "name", error) || !owner (d, &uid, &gid, error)
      || !daemon_quota_admit (d, d->caller, &ask, error))
    return NULL;
  g_autofree char *dir = store_dir (d);
  return volume_store_create (dir, name, uid, gid, error);
}

void
daemon_volumes_create (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  const char *name = NULL;
  if (!json_field_string (params, "name", TRUE, &name, error))
    return;
  g_autoptr (VolumeInfo) info = create (d, name, error);
  if (info)
    rpc_call_return (call, volume_json (d, info));
}

VolumeInfo *
daemon_volume_for_sandbox (Daemon *d, const char *name, GError **error)
{
  g_autofree char *dir = store_dir (d);
  if (!daemon_check_name (name, "name", error))
    return NULL;
  VolumeInfo *info = volume_store_get (dir, name, NULL);
  if (info == NULL)
    return create (d, name, error);
  TenantAsk ask = { .volume = TRUE };
  if (!daemon_quota_admit (d, d->caller, &ask, error))
    {
      volume_info_free (info);
      return NULL;
    }
  return info;
}

void
daemon_volumes_list (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  g_autofree char *dir = store_dir (d);
  g_autoptr (GPtrArray) all = volume_store_list (dir);
  JsonArray *volumes = json_array_new ();
  for (guint i = 0; i < all->len; i++)
    json_array_add_object_element (volumes, volume_json (d, all->pdata[i]));
  JsonObject *res = json_object_new ();
  json_object_set_array_member (res, "volumes", volumes);
  rpc_call_return (call, res);
}

static VolumeInfo *
param_volume (Daemon *d, JsonObject *params, GError **error)
{
  const char *name = NULL;
  g_autofree char *dir = store_dir (d);
  if (!json_field_string (params, "name", TRUE, &name, error)
      || !daemon_check_name (name, "name", error))
    return NULL;
  return volume_store_get (dir, name, error);
}

void
daemon_volumes_get (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  g_autoptr (VolumeInfo) info = param_volume (d, params, error);
  if (info)
    rpc_call_return (call, volume_json (d, info));
}

void
daemon_volumes_delete (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  g_autoptr (VolumeInfo) info = param_volume (d, params, error);
  if (info == NULL)
    return;
  g_autoptr (JsonArray) users = used_by (d, info);
  if (json_array_get_length (users))
    {
      g_autofree char *first = g_strdup (json_array_get_string_element (users, 0));
      g_set_error (error, RPC_ERROR, RPC_STATUS_FAILED_PRECONDITION,
                   "volume \"%s\" is in use by sandbox %s%s (remove the sandbox first)", info->name,
                   first, json_array_get_length (users) > 1 ? " and others" : "");
      return;
    }
  g_autofree char *dir = store_dir (d);
  if (!volume_store_remove (dir, info->name, error))
    return;
  volume_sizes_forget (d->volume_sizes, info->path);
  JsonObject *res = json_object_new ();
  json_object_set_string_member (res, "name", info->name);
  rpc_call_return (call, res);
}

void
daemon_volumes_prune (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  g_autofree char *dir = store_dir (d);
  g_autoptr (GPtrArray) all = volume_store_list (dir);
  JsonArray *removed = json_array_new ();
  guint64 bytes = 0;
  for (guint i = 0; i < all->len; i++)
    {
      VolumeInfo *info = all->pdata[i];
      g_autoptr (JsonArray) users = used_by (d, info);
      if (json_array_get_length (users))
        continue;
      guint64 size = volume_sizes_get (d->volume_sizes, info->path);
      g_autoptr (GError) local = NULL;
      if (!volume_store_remove (dir, info->name, &local))
        {
          g_warning ("%s", local->message);
          continue;
        }
      volume_sizes_forget (d->volume_sizes, info->path);
      bytes += size;
      json_array_add_string_element (removed, info->name);
    }
  JsonObject *res = json_object_new ();
  json_object_set_array_member (res, "removed", removed);
  json_object_set_int_member (res, "bytes", (gint64) bytes);
  rpc_call_return (call, res);
}
