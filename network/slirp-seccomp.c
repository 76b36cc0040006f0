/* slirp-seccomp.c — what sandbox-slirp may call once it is set up: its
 * loop (poll, the guest's frames, host sockets of IPv4 and IPv6 only),
 * memory, and exit. Anything else kills it (the sandbox loses its network;
 * nothing else is touched).
 *
 * Derived as QEMU's list was: the helper ran under `strace -f -qq` (a
 * wrapper given as --net-helper) while a guest downloaded and uploaded
 * MiBs, published ports were fetched, and connections the guard refuses
 * (the host's address, the gateway, loopback) and UDP were tried; the
 * calls after its set-up are here, with what glibc's allocator and exit
 * may need. */
#include "slirp-seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *const allowed[] = {
  /* the loop: QEMU's socket, host sockets, timers */
  "poll",
  "ppoll",
  "read",
  "readv",
  "write",
  "writev",
  "recvfrom",
  "recvmsg",
  "sendto",
  "sendmsg",
  "accept",
  "accept4",
  "connect",
  "bind",
  "listen",
  "shutdown",
  "close",
  "setsockopt",
  "getsockopt",
  "getsockname",
  "getpeername",
  "fcntl",
  "clock_gettime",
  "gettimeofday",
  "getrandom",
  /* memory */
  "brk",
  "mmap",
  "munmap",
  "mremap",
  "madvise",
  "futex",
  /* the end */
  "exit",
  "exit_group",
  "rt_sigreturn",
  "restart_syscall",
};

int
slirp_seccomp_install (void)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_KILL_PROCESS);
  int r = ctx ? 0 : -ENOMEM;
  for (size_t i = 0; r == 0 && i < sizeof allowed / sizeof allowed[0]; i++)
    r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name (allowed[i]), 0);
  /* Sockets of the two families it relays, nothing else (no netlink, no
   * packet or unix sockets in the host's network namespace). */
  if (r == 0)
    r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (socket), 1,
                          SCMP_A0 (SCMP_CMP_EQ, AF_INET));
  if (r == 0)
    r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (socket), 1,
                          SCMP_A0 (SCMP_CMP_EQ, AF_INET6));
  if (r == 0)
    r = seccomp_load (ctx);
  if (ctx)
    seccomp_release (ctx);
  if (r < 0)
    fprintf (stderr, "sandbox-slirp: cannot install its seccomp filter: %s\n", strerror (-r));
  return r;
}
