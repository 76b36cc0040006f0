/* cgroup-private.h — what each cgroup version implements (cgroup-v1.c,
 * cgroup-v2.c), in the manner of crun's cgroup manager. */
#pragma once

#include "policy.h"

typedef struct
{
  const char *version;
  gboolean (*setup) (CgroupManager *m, GError **error);
  /* Makes the levels above @rel (a path under the root) ready for a
   * sandbox's cgroup (v2: controllers enabled); NULL: nothing to do. */
  gboolean (*prepare) (CgroupManager *m, const char *rel, GError **error);
  GStrv (*paths) (CgroupManager *m, const char *name);
  gboolean (*set_limits) (CgroupManager *m, const char *name, const CgroupLimits *limits,
                          GError **error);
  /* The files holding memory use, memory limit, pids and pids limit. */
  const char *memory_current;
  const char *memory_max;
  const char *pids_current;
  const char *pids_max;
} CgroupOps;

/* guard-bpf.c: the network guard's maps and programs (one set per
 * manager, made at its first use). */
#define GUARD_HOOKS 4
typedef struct Guard Guard;
Guard *guard_new (GError **error);
void guard_free (Guard *guard);
/* Denies @cidr ("A" or "A/N", IPv4 or IPv6) from now on. */
gboolean guard_deny (Guard *guard, const char *cidr, GError **error);
gboolean guard_cidr_valid (const char *cidr);
/* The host's addresses now (getifaddrs) replace those of the last call. */
gboolean guard_sync_host (Guard *guard, guint *count, GError **error);
/* Attaches the programs to the cgroup @cgroup_fd (@dir, for errors). */
gboolean guard_attach (Guard *guard, int cgroup_fd, const char *dir, GError **error);

struct CgroupManager
{
  const CgroupOps *ops;
  char *root;
  char *parent;
  Guard *guard; /* NULL until a guard or a denial is first asked for */
};

extern const CgroupOps cgroup_v1_ops;
extern const CgroupOps cgroup_v2_ops;

/* Where @name's cgroup is under a hierarchy's root: PARENT/@name, or
 * @name itself when it is absolute (a cgroups path a bundle chose). */
char *cgroup_relative (CgroupManager *m, const char *name);

/* Writes @value to @dir/@file, naming both on failure. */
gboolean cgroup_write (const char *dir, const char *file, const char *value, GError **error);

/* cgroup-guard.c: removes @name's guard cgroup (v1 hosts), if any. */
void cgroup_remove_guard (CgroupManager *m, const char *name);
