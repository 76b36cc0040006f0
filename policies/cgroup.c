#include "cgroup-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

CgroupManager *
cgroup_manager_new (const char *root, const char *parent, GError **error)
{
  struct statfs fs;
  if (statfs (root, &fs) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cgroups at %s: %s", root,
                   g_strerror (e));
      return NULL;
    }
  CgroupManager *m = g_new0 (CgroupManager, 1);
  m->ops = fs.f_type == CGROUP2_SUPER_MAGIC ? &cgroup_v2_ops : &cgroup_v1_ops;
  m->root = g_strdup (root);
  m->parent = g_strdup (parent);
  if (!m->ops->setup (m, error))
    {
      g_prefix_error (error, "cgroup %s under %s: ", m->ops->version, root);
      cgroup_manager_free (m);
      return NULL;
    }
  return m;
}

void
cgroup_manager_free (CgroupManager *m)
{
  if (m == NULL)
    return;
  guard_free (m->guard);
  g_free (m->root);
  g_free (m->parent);
  g_free (m);
}

const char *
cgroup_manager_version (CgroupManager *m)
{
  return m->ops->version;
}

GStrv
cgroup_paths (CgroupManager *m, const char *name)
{
  return m->ops->paths (m, name);
}

gboolean
cgroup_exists (CgroupManager *m, const char *name)
{
  g_auto (GStrv) dirs = m->ops->paths (m, name);
  for (char **d = dirs; *d; d++)
    if (g_file_test (*d, G_FILE_TEST_EXISTS))
      return TRUE;
  return FALSE;
}

gboolean
cgroup_create (CgroupManager *m, const char *name, const CgroupLimits *limits, GError **error)
{
  g_autofree char *rel = cgroup_relative (m, name);
  if (m->ops->prepare && name[0] == '/' && !m->ops->prepare (m, rel, error))
    return FALSE;
  g_auto (GStrv) dirs = m->ops->paths (m, name);
  for (char **d = dirs; *d; d++)
    if (g_mkdir_with_parents (*d, 0755) < 0)
      {
        int e = errno;
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "create cgroup %s: %s", *d,
                     g_strerror (e));
        return FALSE;
      }
  return m->ops->set_limits (m, name, limits, error);
}

gboolean
cgroup_add_process (CgroupManager *m, const char *name, GPid pid, GError **error)
{
  g_auto (GStrv) dirs = m->ops->paths (m, name);
  g_autofree char *value = g_strdup_printf ("%d", (int) pid);
  for (char **d = dirs; *d; d++)
    if (!cgroup_write (*d, "cgroup.procs", value, error))
      return FALSE;
  return TRUE;
}

/* The first file of that name among @dirs, as a number (-1: none). */
static gint64
read_number (GStrv dirs, const char *file)
{
  for (char **d = dirs; *d; d++)
    {
      g_autofree char *path = g_build_filename (*d, file, NULL);
      g_autofree char *text = NULL;
      if (g_file_get_contents (path, &text, NULL, NULL))
        return g_str_has_prefix (text, "max") ? G_MAXINT64 : g_ascii_strtoll (text, NULL, 10);
    }
  return -1;
}

JsonObject *
cgroup_stats (CgroupManager *m, const char *name)
{
  g_auto (GStrv) dirs = m->ops->paths (m, name);
  if (!g_file_test (dirs[0], G_FILE_TEST_IS_DIR))
    return NULL;
  const struct
  {
    const char *key, *file;
  } fields[] = { { "memory_bytes", m->ops->memory_current },
                 { "memory_limit_bytes", m->ops->memory_max },
                 { "pids", m->ops->pids_current },
                 { "pids_limit", m->ops->pids_max } };
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "version", m->ops->version);
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      gint64 v = read_number (dirs, fields[i].file);
      if (v >= 0)
        json_object_set_int_member (o, fields[i].key, v);
    }
  return o;
}

gboolean
cgroup_remove (CgroupManager *m, const char *name, GError **error)
{
  cgroup_remove_guard (m, name);
  g_auto (GStrv) dirs = m->ops->paths (m, name);
  for (char **d = dirs; *d; d++)
    if (rmdir (*d) < 0 && errno != ENOENT)
      {
        int e = errno;
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "remove cgroup %s: %s", *d,
                     g_strerror (e));
        return FALSE;
      }
  return TRUE;
}
