/* cgroup-guard.c — a cgroup whose processes cannot reach the host itself:
 * BPF programs on its connect and sendmsg hooks (IPv4 and IPv6) refuse,
 * with EPERM, loopback, unspecified, link-local and multicast addresses,
 * every address the host owns, and the admin's list (guard-bpf.c). A
 * sandbox's network helper (sandbox-slirp) runs in one: it opens host
 * sockets for whatever a guest sends, and a guest that crafts a frame for
 * 127.0.0.1, the host's own address or 169.254.169.254 would otherwise
 * reach the host's services or a cloud's metadata.
 *
 * The programs stay attached as long as the cgroup exists, across a
 * sandboxd restart (which attaches its own again: cgroup_guard_reattach).
 * Hooks exist on cgroup v2 only: on a v1 host the
 * guarded process also joins a cgroup of the same name in a cgroup2
 * hierarchy (one that is mounted, else one mounted at ROOT/unified, where
 * systemd's hybrid mode puts it).
 */
#include "cgroup-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNIFIED "unified"

static Guard *
get_guard (CgroupManager *m, GError **error)
{
  if (m->guard == NULL)
    m->guard = guard_new (error);
  return m->guard;
}

static gboolean
attach_guard (CgroupManager *m, const char *dir, GError **error)
{
  Guard *guard = get_guard (m, error);
  if (guard == NULL)
    return FALSE;
  int cg = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "open cgroup %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  gboolean ok = guard_attach (guard, cg, dir, error);
  close (cg);
  return ok;
}

gboolean
cgroup_guard_deny (CgroupManager *m, const char *cidr, GError **error)
{
  if (!guard_cidr_valid (cidr))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "\"%s\" is not an address or ADDRESS/PREFIX", cidr);
      return FALSE;
    }
  Guard *guard = get_guard (m, error);
  return guard && guard_deny (guard, cidr, error);
}

gboolean
cgroup_guard_sync_host (CgroupManager *m, guint *count, GError **error)
{
  /* A guard made later reads them then. */
  return m->guard == NULL || guard_sync_host (m->guard, count, error);
}

/* A cgroup2 mount point, from /proc/self/mountinfo; NULL if none. */
static char *
find_cgroup2 (void)
{
  g_autofree char *info = NULL;
  if (!g_file_get_contents ("/proc/self/mountinfo", &info, NULL, NULL))
    return NULL;
  g_auto (GStrv) lines = g_strsplit (info, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER */
      const char *sep = strstr (*l, " - ");
      g_auto (GStrv) f = g_strsplit (*l, " ", 6);
      if (sep && g_str_has_prefix (sep + 3, "cgroup2 ") && g_strv_length (f) >= 5
          && g_str_equal (f[3], "/"))
        return g_strcompress (f[4]);
    }
  return NULL;
}

/* Where the guard of @name is: on v2 its own cgroup; on v1 the same name
 * in a cgroup2 hierarchy, mounted if @mount and there is none. */
static char *
guard_dir (CgroupManager *m, const char *name, gboolean mount_one, GError **error)
{
  if (g_str_equal (m->ops->version, "v2"))
    {
      g_autofree char *rel = cgroup_relative (m, name);
      return g_build_filename (m->root, rel, NULL);
    }
  g_autofree char *hierarchy = find_cgroup2 ();
  if (hierarchy == NULL && mount_one)
    {
      hierarchy = g_build_filename (m->root, UNIFIED, NULL);
      if ((g_mkdir_with_parents (hierarchy, 0755) < 0
           || mount ("cgroup2", hierarchy, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
          && errno != EBUSY)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                       "mount a cgroup2 hierarchy on %s (for the network guard): %s", hierarchy,
                       g_strerror (e));
          return NULL;
        }
    }
  if (hierarchy == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no cgroup2 hierarchy is mounted");
      return NULL;
    }
  g_autofree char *rel = cgroup_relative (m, name);
  return g_build_filename (hierarchy, rel, NULL);
}

gboolean
cgroup_add_guarded (CgroupManager *m, const char *name, GPid pid, GError **error)
{
  g_autofree char *dir = guard_dir (m, name, TRUE, error);
  if (dir == NULL)
    return FALSE;
  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "create cgroup %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  if (!attach_guard (m, dir, error))
    return FALSE;
  /* Its own cgroup's directories (on v2, the guard's too), and on v1 the
   * guard's beside them. */
  g_autofree char *value = g_strdup_printf ("%d", (int) pid);
  g_auto (GStrv) dirs = m->ops->paths (m, name);
  for (char **d = dirs; *d; d++)
    if (!cgroup_write (*d, "cgroup.procs", value, error))
      return FALSE;
  return g_str_equal (m->ops->version, "v2") || cgroup_write (dir, "cgroup.procs", value, error);
}

gboolean
cgroup_guard_reattach (CgroupManager *m, const char *name, GError **error)
{
  g_autofree char *dir = guard_dir (m, name, FALSE, error);
  return dir && attach_guard (m, dir, error);
}

void
cgroup_remove_guard (CgroupManager *m, const char *name)
{
  if (g_str_equal (m->ops->version, "v2"))
    return; /* the guard is the sandbox's own cgroup */
  g_autofree char *dir = guard_dir (m, name, FALSE, NULL);
  if (dir && rmdir (dir) < 0 && errno != ENOENT)
    g_warning ("remove cgroup %s: %s", dir, g_strerror (errno));
}
