/* Run under sandboxd's seccomp filter by test-jail: makes one system call
 * and reports what became of it, as bubblewrap's try-syscall does. Exit
 * status: 0 when the call reached the kernel and succeeded, else its
 * errno (so EPERM from an "errno" filter is told from success); a "kill"
 * filter kills it with SIGSYS instead. The call:
 *   allowed   only calls on QEMU's allow-list (getpid)
 *   unshare   unshare(0), not on the list (succeeds unfiltered)
 *   io_uring  io_uring_setup, which the filter answers with ENOSYS
 *   clone3    clone3, likewise ENOSYS
 *   inet      socket(AF_INET), which fails with EAFNOSUPPORT (unix only)
 *   thread    a thread (clone with CLONE_THREAD: allowed)
 *   fork      a process (clone without CLONE_THREAD: not allowed)
 *   ioctl-ok  FIONBIO on a pipe (on the filter's list)
 *   ioctl-off FIONREAD on a pipe (not on it, though a pipe has it)
 *   ioctl-kvm KVM_GET_API_VERSION on /dev/kvm (any of KVM's type)
 * libc only, so its start-up needs nothing QEMU's does not. */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *
nothing (void *data)
{
  return data;
}

int
main (int argc, char **argv)
{
  printf ("pid %d\n", (int) getpid ());
  fflush (stdout);
  const char *mode = argc > 1 ? argv[1] : "allowed";
  long rc = 0;
  if (strcmp (mode, "unshare") == 0)
    rc = syscall (SYS_unshare, 0);
  else if (strcmp (mode, "io_uring") == 0)
    {
      struct io_uring_params params;
      memset (&params, 0, sizeof params);
      rc = syscall (SYS_io_uring_setup, 4, &params);
    }
  else if (strcmp (mode, "clone3") == 0)
    {
      struct clone_args args;
      memset (&args, 0, sizeof args);
      args.exit_signal = SIGCHLD;
      rc = syscall (SYS_clone3, &args, sizeof args);
      if (rc == 0)
        _exit (0);
    }
  else if (strcmp (mode, "inet") == 0)
    rc = socket (AF_INET, SOCK_STREAM, 0);
  else if (strcmp (mode, "thread") == 0)
    {
      pthread_t t;
      errno = pthread_create (&t, NULL, nothing, NULL);
      rc = errno ? -1 : pthread_join (t, NULL);
    }
  else if (strcmp (mode, "fork") == 0)
    {
      rc = fork ();
      if (rc == 0)
        _exit (0);
    }
  else if (strncmp (mode, "ioctl-", 6) == 0)
    {
      int p[2], n = 1;
      if (pipe (p) < 0)
        return 124;
      if (strcmp (mode, "ioctl-ok") == 0)
        rc = ioctl (p[0], FIONBIO, &n);
      else if (strcmp (mode, "ioctl-off") == 0)
        rc = ioctl (p[0], FIONREAD, &n);
      else
        {
          int kvm = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
          rc = kvm < 0 ? 0 : ioctl (kvm, _IO (0xAE, 0x00)); /* KVM_GET_API_VERSION */
        }
    }
  else if (strcmp (mode, "allowed") != 0)
    return 125;
  if (rc >= 0)
    return 0;
  printf ("%s: errno %d (%s)\n", mode, errno, strerror (errno));
  return errno;
}
