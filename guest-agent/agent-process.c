#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static const char *
env_lookup (char **envp, const char *name)
{
  gsize n = strlen (name);
  for (char **e = envp; e && *e; e++)
    if (strncmp (*e, name, n) == 0 && (*e)[n] == '=')
      return *e + n + 1;
  return NULL;
}

/* Runs in the child between fork and exec: only async-signal-safe calls
 * and no allocation. Failures go back over @err_fd as an errno. */
/* What a process started in a container joins, opened by the parent. */
typedef struct
{
  int cgroup_fd;     /* its cgroup.procs, or -1 */
  const int *ns_fds; /* mnt, uts, ipc (pid is joined by the parent); NULL outside containers */
  gboolean tty;      /* stdin is a terminal to make ours */
  const AgentSecurity *security; /* the container's, or NULL */
} Joins;

/* execvpe without touching the environment or the heap (the child shares
 * the agent's memory): each directory of @path in turn, as execvp does. */
static void
exec_search (char **argv, char **envp, const char *path)
{
  const char *file = argv[0];
  if (strchr (file, '/') || path == NULL)
    {
      execve (file, argv, envp);
      return;
    }
  size_t flen = strlen (file);
  int saved = ENOENT;
  for (const char *p = path;; p++)
    {
      const char *end = strchr (p, ':');
      size_t dlen = end ? (size_t) (end - p) : strlen (p);
      char full[PATH_MAX];
      if (dlen + 1 + flen + 1 <= sizeof full)
        {
          memcpy (full, p, dlen);
          full[dlen] = '/';
          memcpy (full + (dlen ? dlen + 1 : 0), file, flen + 1);
          execve (full, argv, envp);
          if (errno == EACCES)
            saved = EACCES;
          else if (errno != ENOENT && errno != ENOTDIR)
            return;
        }
      if (end == NULL)
        break;
      p = end;
    }
  errno = saved;
}

/* Runs in the child, which shares the agent's memory until it execs
 * (clone with CLONE_VM | CLONE_VFORK: no page tables to copy, which under
 * TCG is most of a fork): only async-signal-safe calls, nothing written
 * but its own stack and fds. */
static void G_GNUC_NORETURN
child_exec (char **argv, char **envp, const char *cwd, uid_t uid, gid_t gid, int in_r, int out_w,
            int err_w, int err_fd, const Joins *joins)
{
  /* The agent's handlers are not the process's (this signal table is the
   * child's own: no CLONE_SIGHAND). */
  for (int sig = 1; sig < NSIG; sig++)
    {
      struct sigaction sa;
      if (sigaction (sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
        {
          sa.sa_handler = SIG_DFL;
          sigaction (sig, &sa, NULL);
        }
    }
  signal (SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  setsid ();

  if (in_r < 0)
    in_r = open ("/dev/null", O_RDONLY);
  if (in_r < 0 || dup2 (in_r, 0) < 0 || dup2 (out_w, 1) < 0 || dup2 (err_w, 2) < 0)
    goto fail;
  /* A terminal (all three are its slave): our controlling tty, as the
   * session leader we just became. */
  if (joins->tty && ioctl (0, TIOCSCTTY, 0) < 0)
    goto fail;
  if (joins->cgroup_fd >= 0 && write (joins->cgroup_fd, "0", 1) < 0)
    goto fail;
  /* Joining the mount namespace also puts us at the container's root. */
  if (joins->ns_fds
      && (setns (joins->ns_fds[AGENT_NS_NET], CLONE_NEWNET) < 0
          || setns (joins->ns_fds[AGENT_NS_CGROUP], CLONE_NEWCGROUP) < 0
          || setns (joins->ns_fds[AGENT_NS_MNT], CLONE_NEWNS) < 0
          || setns (joins->ns_fds[AGENT_NS_UTS], CLONE_NEWUTS) < 0
          || setns (joins->ns_fds[AGENT_NS_IPC], CLONE_NEWIPC) < 0))
    goto fail;
  if (cwd != NULL && chdir (cwd) < 0)
    goto fail;
  const AgentSecurity *sec = joins->security;
  if (sec && !agent_security_apply_early (sec))
    goto fail;
  /* Groups first: after setuid there is no right left to change them. */
  if (setgroups (sec ? sec->n_groups : 0, sec ? sec->groups : NULL) < 0 || setgid (gid) < 0
      || setuid (uid) < 0)
    goto fail;
  if (sec && !agent_security_apply_late (sec))
    goto fail;

  /* The process's PATH, not the agent's. */
  exec_search (argv, envp, env_lookup (envp, "PATH"));

fail:;
  int e = errno;
  (void) !write (err_fd, &e, sizeof e);
  _exit (127);
}

enum
{
  P_IN,
  P_OUT,
  P_ERR,
  P_STATUS,
  N_PIPES
};

static void
close_pipes (int p[N_PIPES][2])
{
  for (int i = 0; i < N_PIPES; i++)
    for (int j = 0; j < 2; j++)
      if (p[i][j] >= 0)
        {
          close (p[i][j]);
          p[i][j] = -1;
        }
}

/* Our own pid namespace, to come back to after forking into another. */
static int
own_pid_ns (void)
{
  static int fd = -1;
  if (fd < 0)
    fd = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  return fd;
}

/* What the child needs: its arguments to child_exec. */
typedef struct
{
  char **argv, **envp;
  const char *cwd;
  uid_t uid;
  gid_t gid;
  int in_r, out_w, err_w, err_fd;
  const Joins *joins;
} ChildArgs;

static int
child_main (void *data)
{
  const ChildArgs *c = data;
  child_exec (c->argv, c->envp, c->cwd, c->uid, c->gid, c->in_r, c->out_w, c->err_w, c->err_fd,
              c->joins);
}

#ifndef __SANITIZE_ADDRESS__
/* The child's own stack while it shares our memory (the agent spawns from
 * its one main thread, and waits for each child's exec). */
static char child_stack[256 * 1024] __attribute__ ((aligned (16)));
#endif

/* Starts the child (in the container's pid namespace, if any) and returns
 * once it has exec'd or failed: we are suspended meanwhile (CLONE_VFORK). */
static pid_t
spawn_in (const AgentContainer *container, const ChildArgs *args, int *fork_errno)
{
  /* The child is born in the container's pid namespace; we stay in ours. */
  if (container && (own_pid_ns () < 0 || setns (container->ns_fds[AGENT_NS_PID], CLONE_NEWPID) < 0))
    {
      *fork_errno = errno;
      return -1;
    }
#ifdef __SANITIZE_ADDRESS__
  /* AddressSanitizer cannot follow a child running on a stack of ours in
   * shared memory (it reports the stack as a global overflowed): fork. */
  pid_t pid = fork ();
  if (pid == 0)
    child_main ((void *) args);
#else
  pid_t pid = clone (child_main, child_stack + sizeof child_stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
                     (void *) args);
#endif
  *fork_errno = errno;
  if (container && setns (own_pid_ns (), CLONE_NEWPID) < 0)
    g_warning ("cannot return to the agent's pid namespace: %s", g_strerror (errno));
  return pid;
}

/* A pseudo-terminal of @size: its master, and its slave in *slave, owned
 * by @uid (its group is devpts's gid=, tty's in a container, as runc's). In
 * a container, from the container's own devpts (through its init's root),
 * so that the process sees a /dev/pts/N of its own. */
/* The terminal's output turns \n into \r\n only when its caller's does:
 * its output flags are the receiver's (an OCI console socket's owner sets
 * raw mode), as runc leaves them to it. */
static gboolean
set_onlcr (int slave, gboolean onlcr)
{
  struct termios t;
  if (onlcr)
    return TRUE;
  if (tcgetattr (slave, &t) < 0)
    return FALSE;
  t.c_oflag &= ~(tcflag_t) ONLCR;
  return tcsetattr (slave, TCSANOW, &t) == 0;
}

static int
open_terminal (const AgentContainer *container, const AgentTerminal *tty, uid_t uid, int *slave,
               GError **error)
{
  g_autofree char *ptmx = container
                              ? g_strdup_printf ("/proc/%d/root/dev/pts/ptmx", container->init_pid)
                              : g_strdup ("/dev/ptmx");
  int unlock = 0;
  int master = open (ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ioctl (master, TIOCSPTLCK, &unlock) < 0
      || ioctl (master, TIOCSWINSZ, &tty->size) < 0
      || (*slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0
      || fchown (*slave, uid, (gid_t) -1) < 0 || !set_onlcr (*slave, tty->onlcr))
    {
      int e = errno;
      if (*slave >= 0)
        close (*slave);
      *slave = -1;
      if (master >= 0)
        close (master);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "terminal (%s): %s", ptmx,
                   g_strerror (e));
      return -1;
    }
  return master;
}

AgentProcess *
agent_process_spawn (guint32 id, char **argv, char **envp, const char *cwd, gboolean with_stdin,
                     const AgentTerminal *tty, uid_t uid, gid_t gid, JsonArray *groups,
                     guint64 add_caps, const AgentContainer *container, int *exec_errno,
                     GError **error)
{
  int p[N_PIPES][2];
  memset (p, -1, sizeof p);

  *exec_errno = 0;
  if (argv == NULL || argv[0] == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no command given");
      return NULL;
    }
  for (int i = 0; i < N_PIPES; i++)
    {
      /* A terminal replaces the stdin and stdout pipes. */
      gboolean want = tty ? (i == P_ERR || i == P_STATUS) : (i != P_IN || with_stdin);
      if (want && pipe2 (p[i], O_CLOEXEC) < 0)
        {
          int e = errno;
          close_pipes (p);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "pipe: %s", g_strerror (e));
          return NULL;
        }
    }
  /* With a terminal, its master carries stdin and the one output stream;
   * the stderr pipe stays, and ends at once (nothing writes to it). */
  int master = -1, slave = -1;
  if (tty && (master = open_terminal (container, tty, uid, &slave, error)) < 0)
    {
      close_pipes (p);
      return NULL;
    }
  if (tty)
    {
      p[P_IN][0] = slave;
      p[P_IN][1] = with_stdin ? fcntl (master, F_DUPFD_CLOEXEC, 3) : -1;
      p[P_OUT][1] = fcntl (slave, F_DUPFD_CLOEXEC, 3);
      p[P_OUT][0] = master;
    }

  AgentSecurity security;
  gboolean secured = container && agent_security_prepare (container->spec, &security, error);
  if (container && !secured)
    {
      close_pipes (p); /* the terminal's ends too */
      return NULL;
    }
  if (secured && groups)
    {
      security.n_groups = 0;
      for (guint i = 0; i < json_array_get_length (groups) && i < AGENT_MAX_GROUPS; i++)
        security.groups[security.n_groups++] = (gid_t) json_array_get_int_element (groups, i);
    }
  if (secured && add_caps)
    agent_security_add_caps (&security, add_caps);
  Joins joins
      = { -1, container ? container->ns_fds : NULL, tty != NULL, secured ? &security : NULL };
  if (container && container->cgroup)
    {
      g_autofree char *procs = g_build_filename (container->cgroup, "cgroup.procs", NULL);
      joins.cgroup_fd = open (procs, O_WRONLY | O_CLOEXEC);
    }
  int fork_errno = 0;
  ChildArgs args = {
    argv,           envp,  cwd, uid, gid, p[P_IN][0], p[P_OUT][1], tty ? p[P_OUT][1] : p[P_ERR][1],
    p[P_STATUS][1], &joins
  };
  pid_t pid = spawn_in (container, &args, &fork_errno);
  if (joins.cgroup_fd >= 0)
    close (joins.cgroup_fd);
  if (secured)
    agent_security_clear (&security);
  /* The parent keeps the write end of stdin and the read ends of the rest. */
  int in_w = p[P_IN][1], out_r = p[P_OUT][0], err_r = p[P_ERR][0], status_r = p[P_STATUS][0];
  p[P_IN][1] = p[P_OUT][0] = p[P_ERR][0] = p[P_STATUS][0] = -1;
  close_pipes (p);
  if (pid < 0)
    {
      int keep[N_PIPES][2] = { { in_w, -1 }, { out_r, -1 }, { err_r, -1 }, { status_r, -1 } };
      close_pipes (keep);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (fork_errno), "fork: %s",
                   g_strerror (fork_errno));
      return NULL;
    }

  /* The status pipe closes on a successful exec (CLOEXEC) or carries the
   * errno of the step that failed. */
  int child_errno = 0;
  ssize_t n;
  do
    n = read (status_r, &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  close (status_r);
  if (n == sizeof child_errno)
    {
      int keep[N_PIPES][2] = { { in_w, -1 }, { out_r, -1 }, { err_r, -1 }, { -1, -1 } };
      close_pipes (keep);
      /* The child is reaped by the SIGCHLD handler like any orphan. */
      *exec_errno = child_errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (child_errno), "exec %s: %s", argv[0],
                   g_strerror (child_errno));
      return NULL;
    }

  AgentProcess *proc = g_new0 (AgentProcess, 1);
  proc->id = id;
  proc->pid = pid;
  proc->in_fd = in_w;
  proc->out = (AgentStream){ .fd = out_r, .unacked = g_byte_array_new () };
  proc->tty = tty != NULL;
  proc->err = (AgentStream){ .fd = err_r, .unacked = g_byte_array_new () };
  if (in_w >= 0)
    g_unix_set_fd_nonblocking (in_w, TRUE, NULL);
  g_unix_set_fd_nonblocking (out_r, TRUE, NULL);
  g_unix_set_fd_nonblocking (err_r, TRUE, NULL);
  return proc;
}

void
agent_process_free (AgentProcess *proc)
{
  if (proc == NULL)
    return;
  write_queue_free (proc->in_queue);
  if (proc->in_fd >= 0)
    close (proc->in_fd);
  agent_output_stream_free (&proc->out);
  agent_output_stream_free (&proc->err);
  g_free (proc);
}

gboolean
agent_process_resize (AgentProcess *proc, const struct winsize *size, GError **error)
{
  if (!proc->tty || proc->out.fd < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "process %u has no terminal (any more)", proc->id);
      return FALSE;
    }
  /* The kernel tells the foreground process group (SIGWINCH). */
  if (ioctl (proc->out.fd, TIOCSWINSZ, size) == 0)
    return TRUE;
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "resize: %s", g_strerror (e));
  return FALSE;
}
