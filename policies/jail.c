#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_STACK_SIZE (256 * 1024)

struct JailFilter
{
  GBytes *bpf;
  struct sock_fprog prog;
};

/* ioctl reaches a driver's own code with a request of the caller's
 * choosing. Under TCG, QEMU made none over the VM suites (strace of its
 * start and of a running sandbox: exec, streams, a tty, a NIC, stop);
 * KVM's are all of type 0xAE, on /dev/kvm and its VM and vCPU fds; a tap
 * (ns: networks) is set up with TUN's; the rest is what QEMU and glibc ask
 * of files and terminals. Any other request is the filter's: it kills
 * QEMU (or fails with EPERM). libseccomp takes the strictest action of
 * the rules that match, so "ENOTTY for the rest" cannot be written beside
 * these. */
#define JAIL_KVMIO 0xAE
/* <linux/fs.h> cannot be included beside <sys/mount.h>. */
#define JAIL_BLKSSZGET _IO (0x12, 104)
#define JAIL_BLKGETSIZE64 _IOR (0x12, 114, size_t)
#define JAIL_BLKPBSZGET _IO (0x12, 123)
#define JAIL_BLKDISCARDZEROES _IO (0x12, 124)

static int
add_ioctl_rules (scmp_filter_ctx ctx)
{
  static const unsigned long requests[] = {
    FIONBIO,           FIOCLEX,        FIONCLEX,        TCGETS,
    TIOCGWINSZ,                                                                /* fds, isatty() */
    JAIL_BLKGETSIZE64, JAIL_BLKSSZGET, JAIL_BLKPBSZGET, JAIL_BLKDISCARDZEROES, /* block devices */
    TUNGETIFF,         TUNGETFEATURES, TUNSETOFFLOAD,   TUNSETVNETHDRSZ,
    TUNGETVNETHDRSZ,   TUNSETSNDBUF,   TUNSETVNETLE,    TUNGETVNETLE,
    TUNSETVNETBE,      TUNGETVNETBE,   TUNSETQUEUE, /* a tap */
  };
  int rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (ioctl), 1,
                             SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xff00, JAIL_KVMIO << 8));
  for (gsize i = 0; i < G_N_ELEMENTS (requests) && rc == 0; i++)
    rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (ioctl), 1,
                           SCMP_A1 (SCMP_CMP_EQ, requests[i]));
  return rc;
}

JailFilter *
jail_filter_new (GArray *syscalls, gboolean kill, GError **error)
{
  scmp_filter_ctx ctx = seccomp_init (kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO (EPERM));
  if (ctx == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "seccomp_init failed");
      return NULL;
    }
  /* Only this architecture's calls: another ABI's (x32, i386) are killed. */
  seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  int rc = 0;
  for (guint i = 0; i < syscalls->len && rc == 0; i++)
    {
      int nr = g_array_index (syscalls, int, i);
      if (nr == SCMP_SYS (clone))
        /* Threads only: a new process (fork, or new namespaces) is not. */
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, nr, 1,
                               SCMP_A0 (SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
      else if (nr == SCMP_SYS (socket) || nr == SCMP_SYS (socketpair))
        {
          /* Unix sockets only (QMP, the agent, the console, vhost-user's
           * back channel to a volume's server); any other family fails as
           * if the kernel had none. */
          rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0 (SCMP_CMP_EQ, AF_UNIX));
          if (rc == 0)
            rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EAFNOSUPPORT), nr, 1,
                                   SCMP_A0 (SCMP_CMP_NE, AF_UNIX));
        }
      else if (nr == SCMP_SYS (ioctl))
        rc = add_ioctl_rules (ctx);
      else
        rc = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, nr, 0);
    }
  /* Calls whose effect the filter cannot see fail as if the kernel had
   * none (policy.c refuses them in an allow-list): io_uring's operations
   * (open, symlink, connect...) run without passing this filter, and
   * clone3's flags are in memory it cannot read. QEMU falls back to its
   * thread pool, and glibc to clone. */
  const int unseen[] = { SCMP_SYS (io_uring_setup), SCMP_SYS (io_uring_enter),
                         SCMP_SYS (io_uring_register), SCMP_SYS (clone3) };
  for (gsize i = 0; i < G_N_ELEMENTS (unseen) && rc == 0; i++)
    rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), unseen[i], 0);
  int fd = rc == 0 ? memfd_create ("seccomp-bpf", MFD_CLOEXEC) : -1;
  if (fd >= 0)
    rc = seccomp_export_bpf (ctx, fd);
  seccomp_release (ctx);
  if (fd < 0 || rc != 0)
    {
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "building the seccomp filter: %s",
                   g_strerror (rc < 0 ? -rc : errno));
      return NULL;
    }
  off_t size = lseek (fd, 0, SEEK_END);
  g_autofree guint8 *buf = g_malloc (size);
  gboolean ok = pread (fd, buf, size, 0) == size && size % sizeof (struct sock_filter) == 0;
  close (fd);
  if (!ok)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "reading back the seccomp filter");
      return NULL;
    }
  JailFilter *f = g_new0 (JailFilter, 1);
  f->bpf = g_bytes_new_take (g_steal_pointer (&buf), size);
  f->prog.len = (unsigned short) (size / sizeof (struct sock_filter));
  f->prog.filter = (struct sock_filter *) g_bytes_get_data (f->bpf, NULL);
  return f;
}

void
jail_filter_free (JailFilter *f)
{
  if (f == NULL)
    return;
  g_bytes_unref (f->bpf);
  g_free (f);
}

/* Everything the child needs, computed before clone: after it, the child
 * only makes system calls (no allocation: other threads may hold locks). */
typedef struct
{
  const JailSpec *spec;
  int go_fd;      /* the parent writes one byte once the child is placed */
  int error_fd;   /* the child writes (step, errno) here if a step fails */
  char **targets; /* each bind's target as the host sees it */
} Child;

enum
{
  STEP_WAIT,
  STEP_SETSID,
  STEP_MOUNT_PRIVATE,
  STEP_MOUNT_ROOT,
  STEP_BIND,
  STEP_PIVOT,
  STEP_HOSTNAME,
  STEP_RLIMIT,
  STEP_STDIO,
  STEP_CLOSE_FDS,
  STEP_CAPS,
  STEP_USER,
  STEP_NO_NEW_PRIVS,
  STEP_SECCOMP,
  STEP_EXEC,
};

static const char *const step_names[] = {
  "waiting for the parent",
  "setsid",
  "making mounts private",
  "binding the root",
  "bind mount",
  "pivot_root",
  "sethostname",
  "setrlimit",
  "stdio",
  "closing fds",
  "dropping the capability bounding set",
  "switching user",
  "no_new_privs",
  "seccomp",
  "execve",
};

static void G_GNUC_NORETURN
child_fail (Child *c, int step)
{
  int report[2] = { step, errno };
  (void) !write (c->error_fd, report, sizeof report);
  _exit (127);
}

static int
bind_one (const JailBind *b, const char *target)
{
  unsigned long ro = b->writable ? 0 : MS_RDONLY;
  if (b->tree >= 0 ? move_mount (b->tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0
                   : mount (b->source, target, NULL, MS_BIND | MS_REC, NULL) < 0
                         || mount (NULL, target, NULL,
                                   MS_BIND | MS_REMOUNT | MS_NOSUID | ro | b->flags, NULL)
                                < 0)
    return -1;
  return 0;
}

static int
child_main (void *data)
{
  Child *c = data;
  const JailSpec *s = c->spec;
  char go;
  if (read (c->go_fd, &go, 1) != 1)
    child_fail (c, STEP_WAIT);
  /* No controlling terminal, and no signals from the daemon's session. */
  if (setsid () < 0)
    child_fail (c, STEP_SETSID);
  /* In its own user namespace it becomes that namespace's root (the
   * host's s->uid) before it looks up any path: until then it is the
   * host's root to every permission check but a capability's. */
  if (s->user_ns && (setgroups (0, NULL) < 0 || setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    child_fail (c, STEP_USER);

  if (s->root == NULL && s->user_ns && s->binds->len)
    {
      if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        child_fail (c, STEP_MOUNT_PRIVATE);
      if (s->scratch
          && mount ("tmpfs", s->scratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "mode=0755,size=64k")
                 < 0)
        child_fail (c, STEP_MOUNT_ROOT);
      for (guint i = 0; i < s->binds->len; i++)
        if ((s->scratch && mkdir (c->targets[i], 0755) < 0 && errno != EEXIST)
            || bind_one (&g_array_index (s->binds, JailBind, i), c->targets[i]) < 0)
          child_fail (c, STEP_BIND);
    }
  if (s->root)
    {
      if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        child_fail (c, STEP_MOUNT_PRIVATE);
      if (mount (s->root, s->root, NULL, MS_BIND, NULL) < 0)
        child_fail (c, STEP_MOUNT_ROOT);
      for (guint i = 0; i < s->binds->len; i++)
        if (bind_one (&g_array_index (s->binds, JailBind, i), c->targets[i]) < 0)
          child_fail (c, STEP_BIND);
      if (chdir (s->root) < 0 || syscall (SYS_pivot_root, ".", ".") < 0
          || umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0
          || mount (NULL, "/", NULL,
                    MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)
                 < 0)
        child_fail (c, STEP_PIVOT);
    }
  if ((s->clone_flags & CLONE_NEWUTS) && s->hostname
      && sethostname (s->hostname, strlen (s->hostname)) < 0)
    child_fail (c, STEP_HOSTNAME);

  struct rlimit files = { s->open_files, s->open_files }, core = { 0, 0 };
  struct rlimit procs = { s->max_procs, s->max_procs };
  if ((s->open_files && setrlimit (RLIMIT_NOFILE, &files) < 0) || setrlimit (RLIMIT_CORE, &core) < 0
      || (s->max_procs && setrlimit (RLIMIT_NPROC, &procs) < 0))
    child_fail (c, STEP_RLIMIT);

  int null_fd = open ("/dev/null", O_RDONLY); /* in a private root, a bind of the host's */
  if (null_fd < 0 || dup2 (null_fd, 0) < 0 || dup2 (s->stdout_fd, 1) < 0
      || dup2 (s->stdout_fd, 2) < 0)
    child_fail (c, STEP_STDIO);
  /* Every inherited fd but stdio closes at exec (the error pipe too, which
   * is how the parent learns the exec worked). */
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    child_fail (c, STEP_CLOSE_FDS);
  for (guint i = 0; i < s->pass_fds->len; i++)
    if (fcntl (g_array_index (s->pass_fds, int, i), F_SETFD, 0) < 0)
      child_fail (c, STEP_CLOSE_FDS);

  /* No capability can come back (a setuid binary, a file capability):
   * the bounding set is emptied while we still may (CAP_SETPCAP). */
  if (s->set_user || s->user_ns)
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
      if (!(s->user_ns && (s->keep_caps & (G_GUINT64_CONSTANT (1) << cap)))
          && prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        child_fail (c, STEP_CAPS);
  if (s->set_user && !s->user_ns)
    {
      gid_t groups[1] = { s->extra_gid };
      if (setgroups (s->extra_gid == (gid_t) -1 ? 0 : 1, groups) < 0 || setgid (s->gid) < 0
          || setuid (s->uid) < 0)
        child_fail (c, STEP_USER);
    }
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    child_fail (c, STEP_NO_NEW_PRIVS);
  if (s->filter && prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &s->filter->prog) < 0)
    child_fail (c, STEP_SECCOMP);

  char *envp[] = { "PATH=/usr/bin:/bin", NULL };
  execve (s->argv[0], s->argv, envp);
  child_fail (c, STEP_EXEC);
}

static void
bind_clear (JailBind *b)
{
  g_free (b->source);
  g_free (b->target);
  if (b->tree >= 0)
    close (b->tree);
}

void
jail_spec_init (JailSpec *spec, char **argv, int stdout_fd)
{
  *spec = (JailSpec){ .argv = argv, .stdout_fd = stdout_fd, .extra_gid = (gid_t) -1 };
  spec->binds = g_array_new (FALSE, FALSE, sizeof (JailBind));
  g_array_set_clear_func (spec->binds, (GDestroyNotify) bind_clear);
  spec->pass_fds = g_array_new (FALSE, FALSE, sizeof (int));
}

void
jail_spec_clear (JailSpec *spec)
{
  g_clear_pointer (&spec->binds, g_array_unref);
  g_clear_pointer (&spec->pass_fds, g_array_unref);
}

void
jail_spec_bind (JailSpec *spec, const char *source, const char *target, gboolean writable,
                unsigned long flags)
{
  if (source == NULL)
    return;
  JailBind b = { g_strdup (source), g_strdup (target), writable, flags, -1 };
  g_array_append_val (spec->binds, b);
}

gboolean
jail_spec_bind_fd (JailSpec *spec, int fd, const char *target, gboolean writable,
                   unsigned long flags, GError **error)
{
  /* A mount of another namespace cannot be bound in the jail's: its copy,
   * detached, can be moved there. The child has our fds (a copy). */
  int tree = open_tree (fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (tree < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "jail: copying the mount for %s: %s", target, g_strerror (e));
      return FALSE;
    }
  JailBind b = { NULL, g_strdup (target), writable, flags, tree };
  g_array_append_val (spec->binds, b);
  return TRUE;
}

void
jail_spec_pass_fd (JailSpec *spec, int fd)
{
  if (fd > 2)
    g_array_append_val (spec->pass_fds, fd);
}

static char *
in_root (const JailSpec *spec, const char *target)
{
  return g_build_filename (spec->root, target, NULL);
}

gboolean
jail_prepare_root (const JailSpec *spec, GError **error)
{
  if (g_mkdir_with_parents (spec->root, 0755) < 0)
    goto fail;
  /* The host's merged-/usr links, so the loader finds the libraries. */
  const char *links[] = { "/bin", "/lib", "/lib64", "/sbin" };
  for (gsize i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_autofree char *target = g_file_read_link (links[i], NULL);
      g_autofree char *path = in_root (spec, links[i]);
      if (target && !g_file_test (path, G_FILE_TEST_IS_SYMLINK) && symlink (target, path) < 0)
        goto fail;
    }
  for (guint i = 0; i < spec->binds->len; i++)
    {
      const JailBind *b = &g_array_index (spec->binds, JailBind, i);
      g_autofree char *path = in_root (spec, b->target);
      g_autofree char *parent = g_path_get_dirname (path);
      if (g_mkdir_with_parents (parent, 0755) < 0)
        goto fail;
      if (b->source == NULL || g_file_test (b->source, G_FILE_TEST_IS_DIR))
        {
          if (g_mkdir_with_parents (path, 0755) < 0)
            goto fail;
        }
      else if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_set_contents (path, "", 0, NULL))
        goto fail;
    }
  return TRUE;
fail:;
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "preparing the jail root %s: %s",
               spec->root, g_strerror (e));
  return FALSE;
}

/* Root in @pid's user namespace is the host's spec->uid:gid, and no
 * other id is there. Written by us, who may map any id. */
static gboolean
write_id_maps (GPid pid, const JailSpec *spec, GError **error)
{
  const char *files[] = { "uid_map", "gid_map" };
  guint ids[] = { spec->uid, spec->gid };
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/%s", pid, files[i]);
      g_autofree char *map = g_strdup_printf ("0 %u 1\n", ids[i]);
      int fd = open (path, O_WRONLY | O_CLOEXEC);
      gboolean ok = fd >= 0 && write (fd, map, strlen (map)) == (ssize_t) strlen (map);
      int e = errno;
      if (fd >= 0)
        close (fd);
      if (!ok)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "jail: writing %s: %s", path,
                       g_strerror (e));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
jail_spawn (const JailSpec *spec, GPid *pid, GError **error)
{
  int go[2], err[2];
  if (pipe2 (go, O_CLOEXEC) < 0)
    goto sys_fail;
  if (pipe2 (err, O_CLOEXEC) < 0)
    {
      close (go[0]);
      close (go[1]);
      goto sys_fail;
    }
  Child c = { .spec = spec, .go_fd = go[0], .error_fd = err[1] };
  guint n = spec->binds->len;
  c.targets = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      const char *target = g_array_index (spec->binds, JailBind, i).target;
      c.targets[i] = spec->root ? in_root (spec, target) : g_strdup (target);
    }

  void *stack = mmap (NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  int child = stack == MAP_FAILED
                  ? -1
                  : clone (child_main, (char *) stack + CHILD_STACK_SIZE,
                           spec->clone_flags | (spec->user_ns ? CLONE_NEWUSER : 0) | SIGCHLD, &c);
  int clone_errno = errno;
  if (stack != MAP_FAILED)
    munmap (stack, CHILD_STACK_SIZE);
  close (go[0]);
  close (err[1]);
  g_strfreev (c.targets);
  if (child < 0)
    {
      close (go[1]);
      close (err[0]);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (clone_errno), "clone: %s",
                   g_strerror (clone_errno));
      return FALSE;
    }

  GError *place_error = NULL;
  if ((spec->user_ns && !write_id_maps (child, spec, &place_error))
      || (spec->place && !spec->place (child, spec->place_data, &place_error)))
    {
      kill (child, SIGKILL);
      close (go[1]);
      close (err[0]);
      waitpid (child, NULL, 0);
      g_propagate_error (error, place_error);
      return FALSE;
    }
  (void) !write (go[1], "g", 1);
  close (go[1]);

  int report[2];
  ssize_t got;
  do
    got = read (err[0], report, sizeof report);
  while (got < 0 && errno == EINTR);
  close (err[0]);
  if (got == sizeof report)
    {
      waitpid (child, NULL, 0);
      int step = report[0] >= 0 && report[0] < (int) G_N_ELEMENTS (step_names) ? report[0] : 0;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (report[1]), "jail: %s: %s",
                   step_names[step], g_strerror (report[1]));
      return FALSE;
    }
  *pid = child;
  return TRUE;

sys_fail:;
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "pipe: %s", g_strerror (e));
  return FALSE;
}
