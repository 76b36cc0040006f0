/* runtime-host.c — a container process's host process: `sandboxctl exec`
 * in its own session, with a terminal whose master goes to a console
 * socket, waiting for start; what create, run, exec and ps start. */
#include "config.h"
#include "json-fields.h"
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* A terminal whose master goes to @socket_path (SCM_RIGHTS, as runc sends
 * it); returns the slave, or -1. */
int
send_console (const char *socket_path, GError **error)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  int unlock = 0, slave = -1, sock = -1;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (master < 0 || ioctl (master, TIOCSPTLCK, &unlock) < 0
      || (slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0)
    goto fail;
  if (strlen (socket_path) >= sizeof addr.sun_path)
    {
      errno = ENAMETOOLONG;
      goto fail;
    }
  strcpy (addr.sun_path, socket_path);
  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || connect (sock, (struct sockaddr *) &addr, sizeof addr) < 0)
    goto fail;
  char name[] = "/dev/ptmx";
  struct iovec iov = { name, sizeof name - 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control = { 0 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &master, sizeof master);
  if (sendmsg (sock, &msg, 0) < 0)
    goto fail;
  close (sock);
  close (master);
  return slave;
fail:;
  int e = errno;
  if (sock >= 0)
    close (sock);
  if (slave >= 0)
    close (slave);
  if (master >= 0)
    close (master);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "console socket %s: %s", socket_path,
               g_strerror (e));
  return -1;
}

/* `sandboxctl exec` of a process in the container: what its host process
 * becomes. */
char **
exec_argv (const char *sandboxctl, const char *name, const HostExec *x)
{
  GPtrArray *argv = g_ptr_array_new ();
  const char *head[]
      = { sandboxctl, "--address",
          runtime_address ? runtime_address : rpc_client_default_address (), "exec", "-i" };
  for (gsize i = 0; i < G_N_ELEMENTS (head); i++)
    g_ptr_array_add (argv, g_strdup (head[i]));
  if (x->terminal)
    g_ptr_array_add (argv, g_strdup ("-t"));
  if (x->env_only)
    g_ptr_array_add (argv, g_strdup ("--env-only"));
  for (char **e = x->env; e && *e; e++)
    {
      g_ptr_array_add (argv, g_strdup ("-e"));
      g_ptr_array_add (argv, g_strdup (*e));
    }
  if (x->cwd)
    {
      g_ptr_array_add (argv, g_strdup ("-w"));
      g_ptr_array_add (argv, g_strdup (x->cwd));
    }
  if (x->user)
    {
      g_ptr_array_add (argv, g_strdup ("-u"));
      g_ptr_array_add (argv, g_strdup (x->user));
    }
  for (char **g = x->groups; g && *g; g++)
    {
      g_ptr_array_add (argv, g_strdup ("--group-add"));
      g_ptr_array_add (argv, g_strdup (*g));
    }
  for (char **c = x->caps; c && *c; c++)
    {
      g_ptr_array_add (argv, g_strdup ("--cap-add"));
      g_ptr_array_add (argv, g_strdup (*c));
    }
  g_ptr_array_add (argv, g_strdup (name));
  g_ptr_array_add (argv, g_strdup ("--"));
  for (char **a = x->args; a && *a; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);
  return (char **) g_ptr_array_free (argv, FALSE);
}

/* A container process's host process: its own session (with @console,
 * if any, as its terminal), waits for `start` on @fifo (when given), then
 * becomes @argv (sandboxctl exec). Never returns. */
void G_GNUC_NORETURN
host_process (const char *fifo, int console, char **argv)
{
  setsid ();
  signal (SIGPIPE, SIG_DFL); /* an ignored signal would stay ignored across exec */
  if (console >= 0)
    {
      if (dup2 (console, 0) < 0 || dup2 (console, 1) < 0 || dup2 (console, 2) < 0
          || ioctl (0, TIOCSCTTY, 0) < 0)
        _exit (125);
      if (console > 2)
        close (console);
    }
  /* Nothing of our caller's but stdio lives on with the container: runc
   * passes no other fd (--preserve-fds is refused). */
  if (syscall (SYS_close_range, 3, ~0U, 0) < 0)
    for (int fd = 3; fd < 1024; fd++)
      close (fd);
  if (fifo)
    {
      int fd = open (fifo, O_RDONLY | O_CLOEXEC);
      char go = 0;
      if (fd < 0 || read (fd, &go, 1) != 1)
        _exit (125); /* deleted before it was started */
      close (fd);
    }
  execv (argv[0], argv);
  _exit (127);
}

gboolean
write_pid_file (const char *path, GPid pid, GError **error)
{
  g_autofree char *text = g_strdup_printf ("%d", (int) pid);
  return g_file_set_contents (path, text, -1, error);
}
