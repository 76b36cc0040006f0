#include "remove-tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

static gboolean
fail (GError **error, int e, const char *name)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "remove %s: %s", name, g_strerror (e));
  return FALSE;
}

/* Removes @name in the directory @dir_fd; @shown names it in errors. */
static gboolean
remove_at (int dir_fd, const char *name, const char *shown, guint depth, GError **error)
{
  if (unlinkat (dir_fd, name, 0) == 0 || errno == ENOENT)
    return TRUE;
  if (errno != EISDIR && errno != EPERM)
    return fail (error, errno, shown);
  if (depth >= REMOVE_TREE_MAX_DEPTH)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "remove %s: deeper than %d directories",
                   shown, REMOVE_TREE_MAX_DEPTH);
      return FALSE;
    }
  /* A directory: opened without following a link that may have replaced it
   * since the unlink; everything below is removed relative to this fd. */
  int fd = openat (dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      if (errno == ENOTDIR || errno == ELOOP)
        {
          /* Swapped for a file or a link since: remove that instead. */
          if (unlinkat (dir_fd, name, 0) == 0 || errno == ENOENT)
            return TRUE;
        }
      return fail (error, errno, shown);
    }
  DIR *dir = fdopendir (fd);
  if (dir == NULL)
    {
      int e = errno;
      close (fd);
      return fail (error, e, shown);
    }
  gboolean ok = TRUE;
  struct dirent *entry;
  while (ok && (errno = 0, entry = readdir (dir)) != NULL)
    {
      if (g_str_equal (entry->d_name, ".") || g_str_equal (entry->d_name, ".."))
        continue;
      g_autofree char *child = g_build_filename (shown, entry->d_name, NULL);
      ok = remove_at (dirfd (dir), entry->d_name, child, depth + 1, error);
    }
  if (ok && errno != 0)
    ok = fail (error, errno, shown);
  closedir (dir);
  if (ok && unlinkat (dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    ok = fail (error, errno, shown);
  return ok;
}

gboolean
remove_tree (const char *path, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  if (g_str_equal (base, "/") || g_str_equal (base, ".") || g_str_equal (base, ".."))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "remove %s: not a removable name", path);
      return FALSE;
    }
  int parent_fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent_fd < 0)
    return errno == ENOENT ? TRUE : fail (error, errno, parent);
  gboolean ok = remove_at (parent_fd, base, path, 0, error);
  close (parent_fd);
  return ok;
}
