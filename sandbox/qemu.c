#include "qemu.h"

#include "agent-protocol.h"
#include "autofd.h"
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the jail sees the host's files. */
#define JAIL_SANDBOX_DIR "/sb"
#define JAIL_KERNEL "/boot/vmlinuz"
#define JAIL_INITRAMFS "/boot/initrd.img"

typedef struct
{
  CgroupManager *cgroups; /* NULL: no cgroup */
  const QemuConfig *cfg;
} Placement;

/* Runs while the child waits, before it execs QEMU: its cgroup, and the
 * caller's word that this pid is its QEMU (saved before QEMU runs). */
static gboolean
place (GPid pid, gpointer data, GError **error)
{
  Placement *p = data;
  if (p->cgroups && !cgroup_add_process (p->cgroups, p->cfg->cgroup, pid, error))
    return FALSE;
  if (p->cfg->started)
    p->cfg->started (pid, p->cfg->started_data);
  return TRUE;
}

/* @text as QEMU_CONFIG, root's: made anew (QEMU's directory is QEMU's,
 * so whatever name it left there is removed, never followed). */
static gboolean
write_config (const char *dir, const char *text, GError **error)
{
  g_autofree char *qemu_dir = g_build_filename (dir, QEMU_DIR, NULL);
  const char *name = QEMU_CONFIG + strlen (QEMU_DIR "/");
  sbx_autofd int dfd = open (qemu_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  sbx_autofd int fd = -1;
  gboolean ok
      = dfd >= 0 && (unlinkat (dfd, name, 0) == 0 || errno == ENOENT)
        && (fd = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644))
               >= 0
        && write (fd, text, strlen (text)) == (ssize_t) strlen (text);
  if (!ok)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "write %s/%s: %s", dir,
                 QEMU_CONFIG, g_strerror (errno));
  return ok;
}

/* QEMU's writable directory, owned by the user it runs as. */
static gboolean
make_qemu_dir (const char *dir, const struct passwd *pw, uid_t uid, GError **error)
{
  g_autofree char *path = g_build_filename (dir, QEMU_DIR, NULL);
  if (g_mkdir_with_parents (path, 0700) == 0 && (pw == NULL || chown (path, uid, pw->pw_gid) == 0))
    return TRUE;
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "prepare %s: %s", path,
               g_strerror (e));
  return FALSE;
}

static gboolean
spawn_jailed (const SandboxContext *d, const QemuConfig *cfg, int log_fd, GPid *pid, GError **error)
{
  const Policy *policy = cfg->policy;
  struct passwd *pw = policy->user ? getpwnam (policy->user) : NULL;
  if (policy->user && pw == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "policy %s: no user %s", policy->name,
                   policy->user);
      return FALSE;
    }
  uid_t uid = pw == NULL ? 0 : cfg->uid ? cfg->uid : pw->pw_uid;
  if (!make_qemu_dir (cfg->dir, pw, uid, error))
    return FALSE;

  gboolean kvm = d->accel == ACCEL_KVM;
  QemuConfig inside = *cfg;
  g_autofree char *root = g_build_filename (cfg->dir, QEMU_JAIL_ROOT, NULL);
  g_autofree char *qemu_dir = g_build_filename (cfg->dir, QEMU_DIR, NULL);
  if (policy->private_root)
    {
      inside.dir = JAIL_SANDBOX_DIR;
      inside.kernel = JAIL_KERNEL;
      inside.initramfs = JAIL_INITRAMFS;
    }
  /* A template's RAM (a memfd QEMU inherits) by a path it can open: its
   * own /proc/self/fd, bound read-only into its root. */
  g_autofree char *ram_path
      = cfg->ram_fd > 2 ? g_strdup_printf (
            "%s/%d", policy->private_root ? JAIL_SANDBOX_DIR "/fd" : "/proc/self/fd", cfg->ram_fd)
                        : NULL;
  inside.ram_path = ram_path;
  g_auto (GStrv) full = qemu_build_argv (&inside);
  g_autofree char *config_path = g_build_filename (inside.dir, QEMU_CONFIG, NULL);
  g_autofree char *config = NULL;
  g_auto (GStrv) argv = qemu_argv_private (full, config_path, &config, error);
  if (argv == NULL || !write_config (cfg->dir, config, error))
    return FALSE;
  /* The log (root's) keeps the whole command line. */
  g_autofree char *cmdline = g_strjoinv (" ", full);
  g_autofree char *header = g_strdup_printf ("# policy %s%s: %s\n", policy->name,
                                             policy->private_root ? ", in its jail" : "", cmdline);
  (void) !write (log_fd, header, strlen (header));
  struct stat kvm_st = { 0 };
  if (kvm)
    stat ("/dev/kvm", &kvm_st);
  Placement placement = { policy->memory_overhead_mb ? d->cgroups : NULL, cfg };
  g_auto (JailSpec) spec;
  jail_spec_init (&spec, argv, log_fd);
  spec.clone_flags = policy->namespaces;
  spec.root = policy->private_root ? root : NULL;
  spec.hostname = cfg->hostname;
  spec.set_user = pw != NULL;
  spec.uid = uid;
  spec.gid = pw ? pw->pw_gid : 0;
  spec.extra_gid = kvm ? kvm_st.st_gid : (gid_t) -1;
  spec.open_files = policy->open_files;
  /* A uid of its own: its processes and threads are QEMU's alone. */
  spec.max_procs = cfg->uid ? (policy->pids ? policy->pids : 1024) : 0;
  spec.filter = policy->filter;
  spec.place = place;
  spec.place_data = &placement;
  /* Device nodes only where they are bound; programs only from /usr. */
  jail_spec_bind (&spec, "/usr", "/usr", FALSE, MS_NODEV);
  jail_spec_bind (&spec, "/dev/null", "/dev/null", TRUE, MS_NOEXEC);
  jail_spec_bind (&spec, "/dev/zero", "/dev/zero", TRUE, MS_NOEXEC);
  jail_spec_bind (&spec, "/dev/urandom", "/dev/urandom", TRUE, MS_NOEXEC);
  jail_spec_bind (&spec, cfg->kernel, JAIL_KERNEL, FALSE, MS_NODEV | MS_NOEXEC);
  jail_spec_bind (&spec, cfg->initramfs, JAIL_INITRAMFS, FALSE, MS_NODEV | MS_NOEXEC);
  jail_spec_bind (&spec, qemu_dir, JAIL_SANDBOX_DIR "/" QEMU_DIR, TRUE, MS_NODEV | MS_NOEXEC);
  if (kvm)
    jail_spec_bind (&spec, "/dev/kvm", "/dev/kvm", TRUE, MS_NOEXEC);
  if (ram_path)
    jail_spec_bind (&spec, "/proc/self/fd", JAIL_SANDBOX_DIR "/fd", FALSE, MS_NODEV | MS_NOEXEC);
  if (cfg->disk_node)
    jail_spec_pass_fd (&spec, cfg->disk_fd);
  jail_spec_pass_fd (&spec, cfg->net_fd);
  jail_spec_pass_fd (&spec, cfg->ram_fd);
  for (guint i = 0; i < cfg->n_volumes; i++)
    jail_spec_pass_fd (&spec, cfg->volume_fds[i]);
  gboolean ok = TRUE;
  if (policy->memory_overhead_mb)
    {
      CgroupLimits limits = {
        .memory_bytes = ((guint64) cfg->memory_mb + policy->memory_overhead_mb) << 20,
        .cpus = cfg->cpus,
        .pids = cfg->pids ? cfg->pids : policy->pids,
      };
      ok = cgroup_create (d->cgroups, cfg->cgroup, &limits, error);
    }
  ok = ok && (spec.root == NULL || jail_prepare_root (&spec, error))
       && jail_spawn (&spec, pid, error);
  if (!ok && policy->memory_overhead_mb)
    cgroup_remove (d->cgroups, cfg->cgroup, NULL);
  return ok;
}

gboolean
qemu_spawn (const SandboxContext *ctx, const QemuConfig *config, GPid *pid, GError **error)
{
  g_autofree char *log_path = g_build_filename (config->dir, QEMU_LOG, NULL);
  int log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "create %s: %s", log_path,
                   g_strerror (e));
      return FALSE;
    }
  gboolean ok = spawn_jailed (ctx, config, log_fd, pid, error);
  close (log_fd);
  return ok;
}
