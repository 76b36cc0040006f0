/* cgroup v2: one unified hierarchy; the controllers must be enabled in
 * cgroup.subtree_control of every level above the sandbox's cgroup. */
#include "cgroup-private.h"

#include <gio/gio.h>
#include <string.h>

#define CPU_PERIOD_US 100000

static GStrv
v2_paths (CgroupManager *m, const char *name)
{
  GStrv v = g_new0 (char *, 2);
  g_autofree char *rel = cgroup_relative (m, name);
  v[0] = g_build_filename (m->root, rel, NULL);
  return v;
}

/* Enables the controllers from the root down to @rel (made if missing). */
static gboolean
v2_enable_down (CgroupManager *m, const char *rel, GError **error)
{
  g_autofree char *dir = g_strdup (m->root);
  g_auto (GStrv) parts = g_strsplit (rel, "/", -1);
  for (guint i = 0;; i++)
    {
      if (!cgroup_write (dir, "cgroup.subtree_control", "+memory +pids +cpu", error))
        return FALSE;
      if (parts[i] == NULL)
        break;
      if (*parts[i] == '\0')
        continue;
      char *next = g_build_filename (dir, parts[i], NULL);
      g_free (dir);
      dir = next;
      g_mkdir_with_parents (dir, 0755);
    }
  return TRUE;
}

static gboolean
v2_prepare (CgroupManager *m, const char *rel, GError **error)
{
  g_autofree char *above = g_path_get_dirname (rel);
  return v2_enable_down (m, g_str_equal (above, ".") ? "" : above, error);
}

static gboolean
v2_setup (CgroupManager *m, GError **error)
{
  g_autofree char *available = NULL;
  g_autofree char *path = g_build_filename (m->root, "cgroup.controllers", NULL);
  if (!g_file_get_contents (path, &available, NULL, error))
    return FALSE;
  g_auto (GStrv) have = g_strsplit_set (g_strstrip (available), " ", -1);
  const char *need[] = { "memory", "pids", "cpu" };
  for (gsize i = 0; i < G_N_ELEMENTS (need); i++)
    if (!g_strv_contains ((const char *const *) have, need[i]))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                     "the %s controller is not available (%s lists: %s)", need[i], path, available);
        return FALSE;
      }
  /* Enable them from the root down to the parent of the sandboxes. */
  return v2_enable_down (m, m->parent, error);
}

static gboolean
v2_set_limits (CgroupManager *m, const char *name, const CgroupLimits *l, GError **error)
{
  g_auto (GStrv) dirs = v2_paths (m, name);
  g_autofree char *mem = g_strdup_printf ("%" G_GUINT64_FORMAT, l->memory_bytes);
  g_autofree char *pids = g_strdup_printf ("%u", l->pids);
  g_autofree char *cpu = g_strdup_printf ("%u %u", l->cpus * CPU_PERIOD_US, CPU_PERIOD_US);
  return cgroup_write (dirs[0], "memory.max", mem, error)
         && cgroup_write (dirs[0], "memory.swap.max", "0", NULL)
         && cgroup_write (dirs[0], "pids.max", pids, error)
         && cgroup_write (dirs[0], "cpu.max", cpu, error);
}

const CgroupOps cgroup_v2_ops = {
  .version = "v2",
  .setup = v2_setup,
  .prepare = v2_prepare,
  .paths = v2_paths,
  .set_limits = v2_set_limits,
  .memory_current = "memory.current",
  .memory_max = "memory.max",
  .pids_current = "pids.current",
  .pids_max = "pids.max",
};
