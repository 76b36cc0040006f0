/* policy.h — the policies library (policies/): what confines each QEMU.
 * This header is its whole contract; policies/README.md is the profiles'
 * format.
 *
 * Profiles (policies/NAME.json) are loaded and validated when sandboxd
 * starts; the jail starts QEMU confined by one; the cgroup manager gives
 * each QEMU its cgroup, on v1 or v2. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

/* ---- the jail ---- */
/* Starting QEMU confined, in the order libvirt and Firecracker's
 * jailer use: the child waits until the parent has put it in its cgroup;
 * then new namespaces (clone flags), a new session, a private root of bind
 * mounts (pivot_root; nodev and noexec where nothing needs them), rlimits,
 * stdio, every other fd closed on exec, an empty capability bounding set,
 * an unprivileged uid/gid, no_new_privs, the seccomp filter, and execve
 * with a clean environment. A failing step is reported by name. */
typedef struct JailFilter JailFilter;

/* A BPF program allowing @syscalls (int numbers, this architecture only);
 * anything else kills the process (@kill) or fails with EPERM. */
JailFilter *jail_filter_new (GArray *syscalls, gboolean kill, GError **error);
void jail_filter_free (JailFilter *filter);

typedef struct
{
  char *source; /* host path */
  char *target; /* path inside the root */
  gboolean writable;
  unsigned long flags; /* more mount flags: MS_NODEV, MS_NOEXEC (MS_NOSUID always) */
  int tree;            /* jail_spec_bind_fd's: a detached copy of the mount, or -1 */
} JailBind;

/* Built as a list, as bubblewrap's setup operations are: jail_spec_init,
 * then the scalars set and binds and fds appended (jail_spec_bind,
 * jail_spec_pass_fd), so a caller with one more helper socket or one more
 * path appends it; jail_spec_clear frees what was appended. */
typedef struct
{
  char **argv;          /* as seen inside the jail */
  int stdout_fd;        /* stdout and stderr; stdin is /dev/null */
  int clone_flags;      /* CLONE_NEW* */
  const char *root;     /* host directory that becomes "/" (needs CLONE_NEWNS), or NULL */
  GArray *binds;        /* JailBind: mounted in the root, in order */
  const char *hostname; /* with CLONE_NEWUTS */
  gboolean set_user;
  uid_t uid;
  gid_t gid;
  gid_t extra_gid; /* a supplementary group (e.g. kvm's), or (gid_t) -1 */
  /* A user namespace of its own (CLONE_NEWUSER is added) where root is
   * the host's uid:gid above and no other id exists: the process is that
   * root, first thing (before any bind), with the namespace's
   * capabilities that keep_caps names, which reach only what uid owns.
   * Without a root, its binds are made in place (target: a host path);
   * otherwise binds without a root are not made. */
  gboolean user_ns;
  guint64 keep_caps; /* 1 << CAP_*: what the bounding set keeps (user_ns only) */
  /* user_ns without a root: a fresh tmpfs here (an existing directory
   * every user may pass, as /tmp) before the binds, the directories of
   * whose targets under it are made: mount points the process reaches
   * wherever the sources are. NULL: none. */
  const char *scratch;
  guint open_files;
  guint max_procs;          /* RLIMIT_NPROC (processes and threads of its uid); 0: unlimited */
  const JailFilter *filter; /* or NULL */
  GArray *pass_fds;         /* int: fds (> 2) the process keeps, same numbers */
  /* Runs in the parent before the child may go on (cgroup placement). */
  gboolean (*place) (GPid pid, gpointer data, GError **error);
  gpointer place_data;
} JailSpec;

/* Empty lists, no user switch (extra_gid -1), the rest 0. */
void jail_spec_init (JailSpec *spec, char **argv, int stdout_fd);
void jail_spec_clear (JailSpec *spec);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (JailSpec, jail_spec_clear)
/* @source (a host path; NULL: nothing is added) at @target in the root. */
void jail_spec_bind (JailSpec *spec, const char *source, const char *target, gboolean writable,
                     unsigned long flags);
/* The directory or file open as @fd (O_PATH will do) at @target: what
 * the caller opened, with its own rights, is what is bound, whatever its
 * path has become since (a detached copy of it is made now, in our mount
 * namespace, and moved into the jail's). @fd stays the caller's. FALSE
 * with @error if the copy cannot be made. */
gboolean jail_spec_bind_fd (JailSpec *spec, int fd, const char *target, gboolean writable,
                            unsigned long flags, GError **error);
/* @fd (> 2; else nothing is added) stays open across exec. */
void jail_spec_pass_fd (JailSpec *spec, int fd);

/* Prepares @spec->root: the mount points of @spec->binds, and the links
 * /bin /lib /lib64 /sbin as the host has them. */
gboolean jail_prepare_root (const JailSpec *spec, GError **error);
/* Starts the jailed process; *pid is its pid (our child). */
gboolean jail_spawn (const JailSpec *spec, GPid *pid, GError **error);

/* ---- cgroups ---- */
/* One cgroup per QEMU, on cgroup v1 or v2 behind one interface.
 *
 * Each sandbox's QEMU lives in PARENT/<sandbox id> (v2: one directory; v1:
 * one in each of the memory, pids and cpu hierarchies) with a memory, a
 * pids and a cpu-quota limit. The directory is removed with the sandbox.
 */
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
 * sandbox taken back after a restart). @name is under the manager's
 * parent, or, when it starts with "/", a path from the hierarchies' root
 * (an OCI bundle's linux.cgroupsPath); the levels above are made. */
gboolean cgroup_create (CgroupManager *manager, const char *name, const CgroupLimits *limits,
                        GError **error);
/* TRUE if @name's cgroup exists in any of its hierarchies. */
gboolean cgroup_exists (CgroupManager *manager, const char *name);
gboolean cgroup_add_process (CgroupManager *manager, const char *name, GPid pid, GError **error);
/* {"memory_bytes", "memory_limit_bytes", "pids", "pids_limit"}: use and limits; NULL if gone. */
JsonObject *cgroup_stats (CgroupManager *manager, const char *name);
/* Adds @pid to @name's cgroup under a guard: neither it nor anything it
 * starts can connect() or sendmsg() to the host itself: EPERM for
 * loopback, unspecified, link-local (169.254/16, fe80::/10), multicast and
 * broadcast addresses, every address the host has (at the last
 * cgroup_guard_sync_host), and cgroup_guard_deny's; IPv4 also in its
 * v4-mapped form. BPF programs on cgroup v2 (on a v1 host, in a cgroup2
 * hierarchy besides); needs CAP_SYS_ADMIN. For a sandbox's network helper
 * (cgroup-guard.c, guard-bpf.c). */
gboolean cgroup_add_guarded (CgroupManager *manager, const char *name, GPid pid, GError **error);
/* Every guard denies @cidr ("A" or "A/N", IPv4 or IPv6) too, from now on. */
gboolean cgroup_guard_deny (CgroupManager *manager, const char *cidr, GError **error);
/* The guards deny the host's addresses as they are now (getifaddrs), not
 * those of the last call: call it when addresses change. *@count (or
 * NULL): how many. */
gboolean cgroup_guard_sync_host (CgroupManager *manager, guint *count, GError **error);
/* Attaches this manager's programs to @name's guard again: a restarted
 * sandboxd's, kept current, instead of its predecessor's. */
gboolean cgroup_guard_reattach (CgroupManager *manager, const char *name, GError **error);
/* Removes it (it must be empty); no error if it is gone already. */
gboolean cgroup_remove (CgroupManager *manager, const char *name, GError **error);
/* The directories of @name, for inspect and tests. */
GStrv cgroup_paths (CgroupManager *manager, const char *name);

/* ---- profiles ---- */
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
  char *digest; /* SHA-256 of what it says (its JSON, its allow-list): VM templates' shapes */
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
