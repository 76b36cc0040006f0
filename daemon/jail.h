/* jail.h — starting QEMU confined, in the order libvirt and Firecracker's
 * jailer use: the child waits until the parent has put it in its cgroup;
 * then new namespaces (clone flags), a new session, a private root of bind
 * mounts (pivot_root; nodev and noexec where nothing needs them), rlimits,
 * stdio, every other fd closed on exec, an empty capability bounding set,
 * an unprivileged uid/gid, no_new_privs, the seccomp filter, and execve
 * with a clean environment. A failing step is reported by name. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct JailFilter JailFilter;

/* A BPF program allowing @syscalls (int numbers, this architecture only);
 * anything else kills the process (@kill) or fails with EPERM. */
JailFilter *jail_filter_new (GArray *syscalls, gboolean kill, GError **error);
void jail_filter_free (JailFilter *filter);

typedef struct
{
  const char *source; /* host path */
  const char *target; /* path inside the root */
  gboolean writable;
  unsigned long flags; /* more mount flags: MS_NODEV, MS_NOEXEC (MS_NOSUID always) */
} JailBind;

typedef struct
{
  char **argv;           /* as seen inside the jail */
  int stdout_fd;         /* stdout and stderr; stdin is /dev/null */
  int clone_flags;       /* CLONE_NEW* */
  const char *root;      /* host directory that becomes "/" (needs CLONE_NEWNS), or NULL */
  const JailBind *binds; /* mounted in the root, ending with a NULL source */
  const char *hostname;  /* with CLONE_NEWUTS */
  gboolean set_user;
  uid_t uid;
  gid_t gid;
  gid_t extra_gid; /* a supplementary group (e.g. kvm's), or (gid_t) -1 */
  guint open_files;
  guint max_procs;          /* RLIMIT_NPROC (processes and threads of its uid); 0: unlimited */
  const JailFilter *filter; /* or NULL */
  int pass_fd;              /* an fd (> 2) the process keeps, same number; 0: none */
  /* Runs in the parent before the child may go on (cgroup placement). */
  gboolean (*place) (GPid pid, gpointer data, GError **error);
  gpointer place_data;
} JailSpec;

/* Prepares @spec->root: the mount points of @spec->binds, and the links
 * /bin /lib /lib64 /sbin as the host has them. */
gboolean jail_prepare_root (const JailSpec *spec, GError **error);
/* Starts the jailed process; *pid is its pid (our child). */
gboolean jail_spawn (const JailSpec *spec, GPid *pid, GError **error);
