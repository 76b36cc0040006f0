/* cgroup v1: one hierarchy per controller; the sandbox's cgroup is made in
 * the memory, pids and cpu ones. */
#include "cgroup-private.h"

#include <gio/gio.h>

#define CFS_PERIOD_US 100000

static const char *const controllers[] = { "memory", "pids", "cpu", NULL };

static GStrv
v1_paths (CgroupManager *m, const char *name)
{
  GPtrArray *a = g_ptr_array_new ();
  for (const char *const *c = controllers; *c; c++)
    {
      g_autofree char *rel = cgroup_relative (m, name);
      g_ptr_array_add (a, g_build_filename (m->root, *c, rel, NULL));
    }
  g_ptr_array_add (a, NULL);
  return (GStrv) g_ptr_array_free (a, FALSE);
}

static gboolean
v1_setup (CgroupManager *m, GError **error)
{
  for (const char *const *c = controllers; *c; c++)
    {
      g_autofree char *dir = g_build_filename (m->root, *c, NULL);
      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "the %s controller is not mounted at %s", *c, dir);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
v1_set_limits (CgroupManager *m, const char *name, const CgroupLimits *l, GError **error)
{
  g_auto (GStrv) dirs = v1_paths (m, name);
  g_autofree char *mem = g_strdup_printf ("%" G_GUINT64_FORMAT, l->memory_bytes);
  g_autofree char *pids = g_strdup_printf ("%u", l->pids);
  g_autofree char *quota = g_strdup_printf ("%u", l->cpus * CFS_PERIOD_US);
  g_autofree char *period = g_strdup_printf ("%u", CFS_PERIOD_US);
  /* No swap beyond the limit either, where the kernel accounts it. */
  cgroup_write (dirs[0], "memory.memsw.limit_in_bytes", mem, NULL);
  return cgroup_write (dirs[0], "memory.limit_in_bytes", mem, error)
         && cgroup_write (dirs[1], "pids.max", pids, error)
         && cgroup_write (dirs[2], "cpu.cfs_period_us", period, error)
         && cgroup_write (dirs[2], "cpu.cfs_quota_us", quota, error);
}

const CgroupOps cgroup_v1_ops = {
  .version = "v1",
  .setup = v1_setup,
  .paths = v1_paths,
  .set_limits = v1_set_limits,
  .memory_current = "memory.usage_in_bytes",
  .memory_max = "memory.limit_in_bytes",
  .pids_current = "pids.current",
  .pids_max = "pids.max",
};
