/* Run under sandboxd's seccomp filter by test-jail: "allowed" makes only
 * calls on the allow-list and exits 0; "forbidden" then calls unshare,
 * which is not on it (exit 3 if that merely failed). libc only, so its
 * start-up needs nothing QEMU's does not. */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  printf ("pid %d\n", (int) getpid ());
  fflush (stdout);
  if (argc > 1 && strcmp (argv[1], "forbidden") == 0)
    {
      syscall (SYS_unshare, 0);
      return 3;
    }
  return 0;
}
