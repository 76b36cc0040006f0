#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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
static void G_GNUC_NORETURN
child_exec (char **argv, char **envp, const char *cwd, int out_w, int err_w, int err_fd)
{
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  setsid ();

  int null_fd = open ("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2 (null_fd, 0) < 0 || dup2 (out_w, 1) < 0 || dup2 (err_w, 2) < 0)
    goto fail;
  if (cwd != NULL && chdir (cwd) < 0)
    goto fail;

  /* execvpe searches the agent's own PATH; give it the process's. */
  const char *path = env_lookup (envp, "PATH");
  if (path != NULL)
    setenv ("PATH", path, 1);
  execvpe (argv[0], argv, envp);

fail:;
  int e = errno;
  (void) !write (err_fd, &e, sizeof e);
  _exit (127);
}

AgentProcess *
agent_process_spawn (guint32 id, char **argv, char **envp, const char *cwd, int *exec_errno,
                     GError **error)
{
  int out_pipe[2], err_pipe[2], status_pipe[2];

  *exec_errno = 0;
  if (argv == NULL || argv[0] == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no command given");
      return NULL;
    }
  if (pipe2 (out_pipe, O_CLOEXEC) < 0)
    goto pipe_fail;
  if (pipe2 (err_pipe, O_CLOEXEC) < 0)
    {
      close (out_pipe[0]);
      close (out_pipe[1]);
      goto pipe_fail;
    }
  if (pipe2 (status_pipe, O_CLOEXEC) < 0)
    {
      close (out_pipe[0]);
      close (out_pipe[1]);
      close (err_pipe[0]);
      close (err_pipe[1]);
      goto pipe_fail;
    }

  pid_t pid = fork ();
  if (pid == 0)
    child_exec (argv, envp, cwd, out_pipe[1], err_pipe[1], status_pipe[1]);

  int fork_errno = errno;
  close (out_pipe[1]);
  close (err_pipe[1]);
  close (status_pipe[1]);
  if (pid < 0)
    {
      close (out_pipe[0]);
      close (err_pipe[0]);
      close (status_pipe[0]);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (fork_errno), "fork: %s",
                   g_strerror (fork_errno));
      return NULL;
    }

  /* The status pipe closes on a successful exec (CLOEXEC) or carries the
   * errno of the step that failed. */
  int child_errno = 0;
  ssize_t n;
  do
    n = read (status_pipe[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  close (status_pipe[0]);
  if (n == sizeof child_errno)
    {
      close (out_pipe[0]);
      close (err_pipe[0]);
      /* The child is reaped by the SIGCHLD handler like any orphan. */
      *exec_errno = child_errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (child_errno), "exec %s: %s", argv[0],
                   g_strerror (child_errno));
      return NULL;
    }

  AgentProcess *proc = g_new0 (AgentProcess, 1);
  proc->id = id;
  proc->pid = pid;
  proc->out_fd = out_pipe[0];
  proc->err_fd = err_pipe[0];
  g_unix_set_fd_nonblocking (proc->out_fd, TRUE, NULL);
  g_unix_set_fd_nonblocking (proc->err_fd, TRUE, NULL);
  return proc;

pipe_fail:;
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "pipe: %s", g_strerror (e));
  return NULL;
}

void
agent_process_free (AgentProcess *proc)
{
  if (proc == NULL)
    return;
  if (proc->out_src)
    g_source_remove (proc->out_src);
  if (proc->err_src)
    g_source_remove (proc->err_src);
  if (proc->out_fd >= 0)
    close (proc->out_fd);
  if (proc->err_fd >= 0)
    close (proc->err_fd);
  g_free (proc);
}
