/* cgroup-files.c — writing a cgroup's control files and finding its place, for the manager
 * (cgroup.c) and each version (cgroup-v1.c, cgroup-v2.c). */
#include "cgroup-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

gboolean
cgroup_write (const char *dir, const char *file, const char *value, GError **error)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok = fd >= 0 && write (fd, value, strlen (value)) == (ssize_t) strlen (value);
  int e = errno;
  if (fd >= 0)
    close (fd);
  if (!ok)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "write \"%s\" to %s: %s", value,
                 path, g_strerror (e));
  return ok;
}

char *
cgroup_relative (CgroupManager *m, const char *name)
{
  return name[0] == '/' ? g_strdup (name + 1) : g_build_filename (m->parent, name, NULL);
}
