/* image-service.c — the image cache as the API and the daemon's housekeeping see
 * it: Images.List, Images.Prune, and a collection every hour of images no
 * sandbox uses (--image-gc-age, --image-cache-max). */
#include "daemon.h"
#include "images.h"
#include "sandbox.h"

#define GC_INTERVAL_S 3600

/* image path -> the names of the sandboxes using it (a GPtrArray). */
static GHashTable *
images_in_use (Daemon *d)
{
  GHashTable *users
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.sandboxes);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      if (d->caller && g_strcmp0 (sandbox_get_tenant (value), d->caller->name) != 0)
        continue; /* a tenant's images are its own; the names of others' sandboxes too */
      g_autoptr (GHashTable) paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      sandbox_add_images_in_use (value, paths);
      GHashTableIter p;
      gpointer path;
      g_hash_table_iter_init (&p, paths);
      while (g_hash_table_iter_next (&p, &path, NULL))
        {
          GPtrArray *names = g_hash_table_lookup (users, path);
          if (names == NULL)
            {
              names = g_ptr_array_new ();
              g_hash_table_insert (users, g_strdup (path), names);
            }
          g_ptr_array_add (names, (gpointer) sandbox_get_name (value));
        }
    }
  return users;
}

void
daemon_images_list (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  g_autofree char *dir = daemon_image_dir (d, d->caller ? d->caller->name : NULL);
  g_autoptr (GPtrArray) all = image_cache_list (dir, error);
  if (all == NULL)
    return;
  g_autoptr (GHashTable) users = images_in_use (d);
  JsonArray *images = json_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      ImageInfo *info = all->pdata[i];
      JsonObject *o = json_object_new ();
      g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc (info->last_used);
      g_autofree char *last = g_date_time_format_iso8601 (when);
      json_object_set_string_member (o, "digest", info->digest);
      json_object_set_string_member (o, "path", info->path);
      json_object_set_int_member (o, "bytes", (gint64) info->bytes);
      json_object_set_string_member (o, "last_used", last);
      JsonArray *used_by = json_array_new ();
      GPtrArray *names = g_hash_table_lookup (users, info->path);
      for (guint j = 0; names && j < names->len; j++)
        json_array_add_string_element (used_by, names->pdata[j]);
      json_object_set_array_member (o, "used_by", used_by);
      json_array_add_object_element (images, o);
    }
  JsonObject *res = json_object_new ();
  json_object_set_array_member (res, "images", images);
  rpc_call_return (call, res);
}

/* The images of @tenant's cache (NULL: the admin's). */
static GPtrArray *
prune (Daemon *d, const char *tenant, gint64 unused_for_s, guint64 keep_bytes, GError **error)
{
  g_autofree char *dir = daemon_image_dir (d, tenant);
  g_autoptr (GHashTable) users = images_in_use (d);
  GPtrArray *removed = image_cache_prune (dir, users, unused_for_s, keep_bytes, error);
  for (guint i = 0; removed && i < removed->len; i++)
    g_message ("image cache: removed %s (%" G_GUINT64_FORMAT " KiB, unused)",
               ((ImageInfo *) removed->pdata[i])->digest,
               ((ImageInfo *) removed->pdata[i])->bytes >> 10);
  return removed;
}

void
daemon_images_prune (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  g_autoptr (GPtrArray) removed = prune (d, d->caller ? d->caller->name : NULL, 0, 0, error);
  if (removed == NULL)
    return;
  JsonArray *digests = json_array_new ();
  guint64 bytes = 0;
  for (guint i = 0; i < removed->len; i++)
    {
      ImageInfo *info = removed->pdata[i];
      json_array_add_string_element (digests, info->digest);
      bytes += info->bytes;
    }
  JsonObject *res = json_object_new ();
  json_object_set_array_member (res, "removed", digests);
  json_object_set_int_member (res, "bytes", (gint64) bytes);
  rpc_call_return (call, res);
}

static gboolean
on_gc (gpointer data)
{
  Daemon *d = data;
  /* The admin's cache, and every tenant's (those of tenants since removed
   * from the file too: their sandboxes may still run). */
  g_autoptr (GPtrArray) owners = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (owners, NULL);
  g_autofree char *tenants = g_build_filename (d->state_dir, "tenants", NULL);
  g_autoptr (GDir) dir = g_dir_open (tenants, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (owners, g_strdup (name));
  for (guint i = 0; i < owners->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) removed = prune (d, owners->pdata[i], (gint64) d->image_gc_age_s,
                                             d->image_cache_max_bytes, &error);
      if (removed == NULL)
        g_warning ("image cache: %s", error->message);
    }
  return G_SOURCE_CONTINUE;
}

void
daemon_images_gc_start (Daemon *d)
{
  on_gc (d);
  g_timeout_add_seconds (GC_INTERVAL_S, on_gc, d);
}
