/* policy.h — the profiles applied around every QEMU (policies/NAME.json),
 * loaded and validated when sandboxd starts. policies/README.md is the
 * format. */
#pragma once

#include "jail.h"

#include <glib.h>

typedef struct
{
  char *name; /* the file's name without .json */
  char *path;
  char *description;
  gboolean requires_root;
  char *user;      /* QEMU runs as this system user; NULL: as sandboxd */
  guint uid_first; /* with uid_count: each QEMU gets a uid of its own from */
  guint uid_count; /* this range (and the user's group); 0: the user's uid */
  int namespaces;  /* CLONE_NEW* flags */
  gboolean private_root;
  GArray *syscalls;      /* int: the allow-list, resolved for this architecture */
  gboolean seccomp_kill; /* a call outside it kills QEMU; else fails with EPERM */
  JailFilter *filter;    /* the BPF program of the two above, built once at load */
  gboolean qemu_sandbox; /* QEMU's own -sandbox on,... as well */
  guint max_memory_mb;   /* ceilings a sandbox may ask for */
  guint max_cpus;
  guint memory_overhead_mb; /* cgroup memory limit = guest RAM + this; 0: no cgroup */
  guint pids;               /* cgroup pids limit (also the most one may ask for) */
  guint open_files;         /* RLIMIT_NOFILE */
} Policy;

/* Every NAME.json in @dir, by name; an error names the file and field. */
GHashTable *policy_load_dir (const char *dir, GError **error);
void policy_free (Policy *policy);
/* What @policy cannot do when sandboxd is not root, for the start-up log;
 * NULL when it can all be applied. */
char *policy_unmet (const Policy *policy);
/* NULL when @policy confines QEMU at least as much as @base in every
 * setting (user, namespaces, private root, seccomp, QEMU's -sandbox,
 * cgroup, limits); else the first way it is weaker. A sandbox may choose
 * only such a policy: tighten its daemon's default, never loosen it. */
char *policy_weaker_than (const Policy *policy, const Policy *base);
