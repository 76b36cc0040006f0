/* cgroup.h — one cgroup per QEMU, on cgroup v1 or v2 behind one interface.
 *
 * Each sandbox's QEMU lives in PARENT/<sandbox id> (v2: one directory; v1:
 * one in each of the memory, pids and cpu hierarchies) with a memory, a
 * pids and a cpu-quota limit. The directory is removed with the sandbox.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct CgroupManager CgroupManager;

typedef struct
{
  guint64 memory_bytes;
  guint cpus; /* quota: this many CPUs' worth of time */
  guint pids;
} CgroupLimits;

/* Finds which cgroup version @root (normally /sys/fs/cgroup) holds.
 * @parent is the relative path the sandboxes' cgroups go under. */
CgroupManager *cgroup_manager_new (const char *root, const char *parent, GError **error);
void cgroup_manager_free (CgroupManager *manager);
/* "v1" or "v2". */
const char *cgroup_manager_version (CgroupManager *manager);

/* Creates the cgroup @name with @limits (an existing one is reused: a
 * sandbox taken back after a restart). */
gboolean cgroup_create (CgroupManager *manager, const char *name, const CgroupLimits *limits,
                        GError **error);
gboolean cgroup_add_process (CgroupManager *manager, const char *name, GPid pid, GError **error);
/* {"memory_bytes", "memory_limit_bytes", "pids", "pids_limit"}: use and limits; NULL if gone. */
JsonObject *cgroup_stats (CgroupManager *manager, const char *name);
/* Removes it (it must be empty); no error if it is gone already. */
gboolean cgroup_remove (CgroupManager *manager, const char *name, GError **error);
/* The directories of @name, for inspect and tests. */
GStrv cgroup_paths (CgroupManager *manager, const char *name);
