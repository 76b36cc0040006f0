/* volume-store.h — named volumes on disk: a directory each, kept under
 * STATE_DIR (the admin's in volumes/, a tenant's in tenants/T/volumes/),
 * outliving the sandboxes that use them and sandboxd itself.
 *
 *   DIR/NAME/             root's, 0711 (passed, never listed)
 *   DIR/NAME/volume.json  {"name", "created", "uid", "gid"}: root's
 *   DIR/NAME/data/        what the guest sees: uid:gid's, 0755
 */
#pragma once

#include <glib.h>

typedef struct
{
  char *name;
  char *path; /* its data directory */
  char *created;
  guint uid;
  guint gid;
} VolumeInfo;

void volume_info_free (VolumeInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VolumeInfo, volume_info_free)

/* @name in @dir: NOT_FOUND (an RPC status) if there is none. */
VolumeInfo *volume_store_get (const char *dir, const char *name, GError **error);
/* A new one, its data owned by @uid:@gid: ALREADY_EXISTS if it is there. */
VolumeInfo *volume_store_create (const char *dir, const char *name, guint uid, guint gid,
                                 GError **error);
/* Every one in @dir (VolumeInfo), by name; none when @dir is missing. */
GPtrArray *volume_store_list (const char *dir);
/* The bytes the tree at @path takes on disk (blocks, links not followed,
 * to a depth of 64): a walk of it, for a thread of its own
 * (volume-sizes.h). */
guint64 volume_store_tree_bytes (const char *path);
gboolean volume_store_remove (const char *dir, const char *name, GError **error);
