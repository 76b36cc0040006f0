#include "container-request.h"

#include "images.h"
#include "json-fields.h"

#include <sys/stat.h>

static const char *sources[] = { "rootfs", "bundle", "image", NULL };

gboolean
container_request_wanted (JsonObject *params)
{
  for (const char **s = sources; *s; s++)
    if (json_object_has_member (params, *s))
      return TRUE;
  return FALSE;
}

typedef struct
{
  Daemon *daemon;
  RpcCall *call;
  char *name;
  const char *given; /* "rootfs", "bundle" or "image" */
  char *source;      /* as the request gave it (a bundle's directory, say) */
  gint64 writable_mb;
  char *root;
  JsonObject *spec;
  ImageInfo *root_image;
  guint next_mount; /* the spec's mounts[] looked at so far for images */
  char *building;   /* the directory whose image is being found or built */
  ContainerReady ready;
  gpointer data;
  GDestroyNotify free_data;
  char *tenant;    /* whose request (NULL: the admin's): its events go to it */
  FsCreds *creds;  /* paths are read as them (NULL: as sandboxd) */
  char *cache_dir; /* where its images are kept */
  guint64 held;    /* of the tenant's image quota, for the build in progress */
} Request;

static void
release_hold (Request *r)
{
  daemon_quota_image_release (r->daemon, r->tenant, r->held);
  r->held = 0;
}

static void
request_free (Request *r)
{
  release_hold (r);
  rpc_call_unref (r->call);
  g_free (r->name);
  g_free (r->source);
  g_free (r->root);
  g_free (r->building);
  g_free (r->tenant);
  g_free (r->creds);
  g_free (r->cache_dir);
  if (r->root_image)
    image_info_free (r->root_image);
  if (r->spec)
    json_object_unref (r->spec);
  if (r->free_data)
    r->free_data (r->data);
  g_free (r);
}

/* Events "image.progress" and "image.ready", by source: sandboxctl shows
 * them during a long build. */
static JsonObject *
image_event (Request *r)
{
  JsonObject *ev = json_object_new ();
  json_object_set_string_member (ev, "source", r->source);
  json_object_set_string_member (ev, "root", r->building);
  return ev;
}

static void
on_progress (const char *stage, guint64 files, guint64 bytes, gpointer data)
{
  Request *r = data;
  JsonObject *ev = image_event (r);
  json_object_set_string_member (ev, "stage", stage);
  json_object_set_int_member (ev, "files", (gint64) files);
  json_object_set_int_member (ev, "bytes", (gint64) bytes);
  daemon_emit (r->daemon, r->tenant, "image.progress", ev);
}

static void build_next (Request *r);

static void
on_image (GObject *source, GAsyncResult *result, gpointer data)
{
  Request *r = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ImageInfo) image = image_cache_get_finish (result, &error);
  release_hold (r); /* the image, if kept, is counted as the tenant's now */
  JsonObject *ev = image_event (r);
  if (image)
    {
      json_object_set_string_member (ev, "digest", image->digest);
      json_object_set_boolean_member (ev, "built", image->built);
      json_object_set_int_member (ev, "build_ms", image->build_ms);
      json_object_set_int_member (ev, "bytes", (gint64) image->bytes);
    }
  else
    json_object_set_string_member (ev, "error", error->message);
  daemon_emit (r->daemon, r->tenant, "image.ready", ev);
  if (image == NULL)
    {
      rpc_call_return_error (r->call,
                             g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)
                                 ? RPC_STATUS_RESOURCE_EXHAUSTED
                                 : RPC_STATUS_FAILED_PRECONDITION,
                             "container %s: %s%s%s", r->name, r->root_image ? r->building : "",
                             r->root_image ? ": " : "", error->message);
      request_free (r);
      return;
    }
  if (r->root_image == NULL)
    r->root_image = g_steal_pointer (&image);
  else
    {
      /* The read-only host directory's image, for the agent to mount. */
      JsonArray *mounts = json_object_get_array_member (r->spec, "mounts");
      JsonObject *m = json_array_get_object_element (mounts, r->next_mount - 1);
      json_object_set_string_member (m, "image", image->path);
      json_object_set_string_member (m, "digest", image->digest);
    }
  build_next (r);
}

/* The root's image first, then one for each read-only host directory the
 * container mounts; then the container is ready. */
static void
build_next (Request *r)
{
  g_autofree char *cache = g_build_filename (r->daemon->state_dir, "images", NULL);
  g_clear_pointer (&r->building, g_free);
  if (r->root_image == NULL)
    r->building = g_strdup (r->root);
  JsonArray *mounts = json_object_has_member (r->spec, "mounts")
                          ? json_object_get_array_member (r->spec, "mounts")
                          : NULL;
  while (r->building == NULL && mounts && r->next_mount < json_array_get_length (mounts))
    {
      JsonObject *m = json_array_get_object_element (mounts, r->next_mount++);
      if (g_str_equal (json_object_get_string_member (m, "type"), "image"))
        r->building = g_strdup (json_object_get_string_member (m, "source"));
    }
  if (r->building)
    {
      /* A build may write what is left of the tenant's image quota, and
       * holds it meanwhile: two builds at once cannot both pass one check. */
      r->held = daemon_quota_image_hold (r->daemon, r->tenant);
      if (r->held == 0)
        {
          rpc_call_return_error (r->call, RPC_STATUS_RESOURCE_EXHAUSTED,
                                 "container %s: image of %s: tenant %s's quota image_mb is full "
                                 "(with the builds in progress)",
                                 r->name, r->building, r->tenant);
          request_free (r);
          return;
        }
      image_cache_get_async (r->cache_dir, r->building, r->creds,
                             r->held == G_MAXUINT64 ? 0 : r->held, on_progress, on_image, r);
      return;
    }
  if (!rpc_call_is_done (r->call))
    {
      ImageInfo *image = r->root_image;
      SandboxContainerConfig cfg = { .name = r->name,
                                     .root = r->root,
                                     .image = image->path,
                                     .digest = image->digest,
                                     .image_built = image->built,
                                     .spec = r->spec };
      r->ready (r->daemon, r->call, &cfg, r->data);
    }
  request_free (r);
}

static RpcStatus
spec_status (const GError *error)
{
  if (error->domain == CONTAINER_SPEC_ERROR)
    return error->code == CONTAINER_SPEC_ERROR_NOT_FOUND ? RPC_STATUS_NOT_FOUND
                                                         : RPC_STATUS_INVALID_ARGUMENT;
  return rpc_status_from_error (error);
}

/* Everything that touches the paths the client named runs here, in a
 * worker thread: a bundle's config.json or a root on a slow or hostile file
 * system must not stall the main loop. A tenant's paths are read with the
 * tenant's identity, taken by this thread for as long. */
static void
prepare_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Request *r = data;
  g_autoptr (GError) local = NULL;
  g_autofree char *root = NULL;
  g_autoptr (JsonObject) spec = NULL;
  FsCredsSaved saved = { 0 };
  if (r->creds && !fs_creds_enter (r->creds, &saved, &local))
    {
      g_task_return_new_error (task, RPC_ERROR, RPC_STATUS_INTERNAL, "%s", local->message);
      return;
    }
  if (g_str_equal (r->given, "bundle"))
    spec = container_spec_from_bundle (r->source, &root, &local);
  else
    {
      spec = container_spec_new_default ();
      root = g_strdup (r->source);
    }
  /* stat, not g_file_test: that asks access(), which answers for the real
   * uid (root), not for the tenant this thread reads as. */
  struct stat st;
  gboolean exists = spec && stat (root, &st) == 0;
  if (exists && g_str_equal (r->given, "image") && !S_ISREG (st.st_mode))
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "image %s is not a tarball (a regular file)", root);
  else if (exists && g_str_equal (r->given, "rootfs") && !S_ISDIR (st.st_mode))
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "rootfs %s is not a directory",
                 root);
  if (local == NULL && spec && !image_cache_check_root (root, &local)
      && g_str_equal (r->given, "bundle"))
    g_prefix_error (&local, "config.json: root.path: ");
  fs_creds_leave (&saved);
  if (local)
    {
      g_task_return_new_error (task, RPC_ERROR, spec_status (local), "%s", local->message);
      return;
    }
  if (r->writable_mb)
    json_object_set_int_member (spec, "writable_mb", r->writable_mb);
  r->root = g_steal_pointer (&root);
  r->spec = g_steal_pointer (&spec);
  g_task_return_boolean (task, TRUE);
}

static void
on_prepared (GObject *source, GAsyncResult *result, gpointer data)
{
  Request *r = data;
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      daemon_return_error (r->call, error);
      request_free (r);
      return;
    }
  build_next (r);
}

gboolean
container_request_start (Daemon *d, RpcCall *call, JsonObject *params, const char *name,
                         ContainerReady ready, gpointer data, GDestroyNotify free_data,
                         GError **error)
{
  const char *given = NULL, *path = NULL;
  gint64 writable_mb = 0;
  for (const char **s = sources; *s; s++)
    {
      const char *value = NULL;
      if (!json_field_string (params, *s, FALSE, &value, error))
        return FALSE;
      if (value && given)
        {
          g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
                       "fields \"%s\" and \"%s\": give one root, not both", given, *s);
          return FALSE;
        }
      if (value)
        {
          given = *s;
          path = value;
        }
    }
  if (!json_field_int (params, "writable_mb", FALSE, 1, 1 << 20, &writable_mb, error))
    return FALSE;
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
                   "field \"%s\": \"%s\" is not an absolute path", given, path);
      return FALSE;
    }

  Request *r = g_new0 (Request, 1);
  r->daemon = d;
  r->call = rpc_call_ref (call);
  r->name = g_strdup (name);
  r->given = given; /* one of sources[] */
  r->source = g_strdup (path);
  r->writable_mb = writable_mb;
  r->ready = ready;
  r->data = data;
  r->free_data = free_data;
  /* The built-in root is sandboxd's own file, read as sandboxd. */
  const Tenant *t = d->caller;
  r->tenant = g_strdup (t ? t->name : NULL);
  if (t && !g_str_equal (path, d->default_root))
    r->creds = g_memdup2 (&t->creds, sizeof t->creds);
  r->cache_dir = daemon_image_dir (d, r->tenant);
  GTask *task = g_task_new (NULL, NULL, on_prepared, r);
  g_task_set_task_data (task, r, NULL);
  g_task_run_in_thread (task, prepare_in_thread);
  g_object_unref (task);
  return TRUE;
}
