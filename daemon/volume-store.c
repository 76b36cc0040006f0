/* volume-store.c — named volumes on disk (volume-store.h). */
#include "volume-store.h"

#include "json-fields.h"
#include "remove-tree.h"
#include "rpc-status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <sys/stat.h>
#include <unistd.h>

#define META "volume.json"
#define DATA "data"
/* The deepest a size walk goes: deeper is not counted. */
#define WALK_MAX_DEPTH 64

void
volume_info_free (VolumeInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->path);
  g_free (info->created);
  g_free (info);
}

VolumeInfo *
volume_store_get (const char *dir, const char *name, GError **error)
{
  g_autofree char *meta = g_build_filename (dir, name, META, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root
      = json_parser_load_from_file (parser, meta, NULL) ? json_parser_get_root (parser) : NULL;
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *created = NULL;
  gint64 uid = 0, gid = 0;
  if (o == NULL || !json_field_string (o, "created", TRUE, &created, NULL)
      || !json_field_int (o, "uid", TRUE, 1, G_MAXUINT32 - 1, &uid, NULL)
      || !json_field_int (o, "gid", TRUE, 0, G_MAXUINT32 - 1, &gid, NULL))
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_NOT_FOUND, "no volume named \"%s\"", name);
      return NULL;
    }
  VolumeInfo *info = g_new0 (VolumeInfo, 1);
  info->name = g_strdup (name);
  info->path = g_build_filename (dir, name, DATA, NULL);
  info->created = g_strdup (created);
  info->uid = (guint) uid;
  info->gid = (guint) gid;
  return info;
}

static gboolean
sys_error (GError **error, const char *what, const char *path)
{
  int e = errno;
  g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "volume: %s %s: %s", what, path,
               g_strerror (e));
  return FALSE;
}

VolumeInfo *
volume_store_create (const char *dir, const char *name, guint uid, guint gid, GError **error)
{
  g_autofree char *top = g_build_filename (dir, name, NULL);
  g_autofree char *data = g_build_filename (top, DATA, NULL);
  g_autofree char *meta = g_build_filename (top, META, NULL);
  if (g_mkdir_with_parents (dir, 0711) < 0)
    return sys_error (error, "create", dir), NULL;
  if (mkdir (top, 0711) < 0)
    {
      if (errno == EEXIST)
        g_set_error (error, RPC_ERROR, RPC_STATUS_ALREADY_EXISTS, "volume \"%s\" exists", name);
      else
        sys_error (error, "create", top);
      return NULL;
    }
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *text
      = g_strdup_printf ("{\"name\": \"%s\", \"created\": \"%s\", \"uid\": %u, \"gid\": %u}\n",
                         name, created, uid, gid);
  /* The data directory is its user's from the start; the record last, so
   * a half-made volume is none (and its directory goes with a prune). */
  if (mkdir (data, 0755) < 0 || lchown (data, uid, gid) < 0)
    {
      sys_error (error, "create", data);
      remove_tree (top, NULL);
      return NULL;
    }
  if (!g_file_set_contents (meta, text, -1, NULL))
    {
      sys_error (error, "write", meta);
      remove_tree (top, NULL);
      return NULL;
    }
  return volume_store_get (dir, name, error);
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 ((*(VolumeInfo **) a)->name, (*(VolumeInfo **) b)->name);
}

GPtrArray *
volume_store_list (const char *dir)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) volume_info_free);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      VolumeInfo *info = volume_store_get (dir, name, NULL);
      if (info)
        g_ptr_array_add (all, info);
    }
  g_ptr_array_sort (all, by_name);
  return all;
}

/* Blocks under @fd (a directory), never following a link. */
static guint64
walk (int fd, int depth)
{
  guint64 bytes = 0;
  DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return 0;
    }
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      struct stat st;
      if (g_str_equal (e->d_name, ".") || g_str_equal (e->d_name, "..")
          || fstatat (dirfd (d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      bytes += (guint64) st.st_blocks * 512;
      if (S_ISDIR (st.st_mode) && depth < WALK_MAX_DEPTH)
        {
          int sub = openat (dirfd (d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            bytes += walk (sub, depth + 1);
        }
    }
  closedir (d);
  return bytes;
}

guint64
volume_store_tree_bytes (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd < 0 ? 0 : walk (fd, 0);
}

gboolean
volume_store_remove (const char *dir, const char *name, GError **error)
{
  g_autofree char *top = g_build_filename (dir, name, NULL);
  g_autoptr (GError) local = NULL;
  if (remove_tree (top, &local))
    return TRUE;
  g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "volume \"%s\": %s", name, local->message);
  return FALSE;
}
