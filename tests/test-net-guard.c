/* The network guard (cgroup_add_guarded, guard-bpf.c): a process in a
 * guarded cgroup cannot reach the host itself by any address form, over
 * TCP or UDP (loopback, the host's own addresses as they change, link-local,
 * multicast, the admin's list), and can still use every other address.
 * Needs root; no VM. It runs in a network namespace of its own, whose
 * "host" has a veth interface with test addresses (192.0.2.1, fd00::1). */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PARENT "sandboxd-test-guard"

static int listen_port;

/* connect() (TCP or UDP) to @addr:listen_port; 0 or errno. */
static int
try_connect (const char *addr, int type)
{
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  int family = strchr (addr, ':') ? AF_INET6 : AF_INET;
  if (family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
      sin->sin_family = AF_INET;
      sin->sin_port = htons (listen_port);
      inet_pton (AF_INET, addr, &sin->sin_addr);
      len = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons (listen_port);
      inet_pton (AF_INET6, addr, &sin6->sin6_addr);
      len = sizeof *sin6;
    }
  int fd = socket (family, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  int r = connect (fd, (struct sockaddr *) &ss, len) < 0 ? errno : 0;
  close (fd);
  return r;
}

static int
try_sendto (const char *addr)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (listen_port) };
  inet_pton (AF_INET, addr, &sin.sin_addr);
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int r = sendto (fd, "x", 1, 0, (struct sockaddr *) &sin, sizeof sin) < 0 ? errno : 0;
  close (fd);
  return r;
}

/* "tcp/ADDR", "udp/ADDR" (connect: sends nothing) or "sendto/ADDR" (IPv4). */
static int
probe (const char *what)
{
  const char *addr = strchr (what, '/') + 1;
  if (g_str_has_prefix (what, "sendto/"))
    return try_sendto (addr);
  return try_connect (addr, g_str_has_prefix (what, "tcp/") ? SOCK_STREAM : SOCK_DGRAM);
}

/* Runs each of @probes in a child, guarded if @manager; returns its
 * lines, "PROBE=ERRNO". */
static char *
probe_child (CgroupManager *manager, const char *const *probes)
{
  int go[2], out[2];
  g_assert_cmpint (pipe (go), ==, 0);
  g_assert_cmpint (pipe (out), ==, 0);
  pid_t pid = fork ();
  if (pid == 0)
    {
      char c;
      close (go[1]);
      close (out[0]);
      if (read (go[0], &c, 1) != 1)
        _exit (1);
      GString *r = g_string_new (NULL);
      for (const char *const *p = probes; *p; p++)
        g_string_append_printf (r, "%s=%d\n", *p, probe (*p));
      (void) !write (out[1], r->str, r->len);
      _exit (0);
    }
  close (go[0]);
  close (out[1]);
  if (manager)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = cgroup_add_guarded (manager, "guarded", pid, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  (void) !write (go[1], "g", 1);
  close (go[1]);
  char buf[4096];
  gsize n = 0;
  ssize_t r;
  while ((r = read (out[0], buf + n, sizeof buf - 1 - n)) > 0)
    n += r;
  buf[n] = '\0';
  close (out[0]);
  int status;
  waitpid (pid, &status, 0);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  return g_strdup (buf);
}

/* The error @lines give for @what, or -1. */
static int
result (const char *lines, const char *what)
{
  g_autofree char *key = g_strdup_printf ("%s=", what);
  g_auto (GStrv) l = g_strsplit (lines, "\n", -1);
  for (char **line = l; *line; line++)
    if (g_str_has_prefix (*line, key))
      return atoi (*line + strlen (key));
  return -1;
}

static void
run (const char *cmd)
{
  int status = -1;
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL));
  g_assert_cmpint (status, ==, 0);
}

static CgroupManager *manager;

/* Loopback and unspecified, in every form; the host's own addresses;
 * link-local and multicast: none from inside, each from outside. */
static void
test_host (void)
{
  static const char *const denied[] = {
    "tcp/127.0.0.1",
    "tcp/127.1.2.3",
    "tcp/0.0.0.0",
    "tcp/::1",
    "tcp/::",
    "tcp/::ffff:127.0.0.1",
    "udp/127.0.0.1",
    "udp/::1",
    "sendto/127.0.0.1",
    /* the host's addresses: a listener on each */
    "tcp/192.0.2.1",
    "tcp/fd00::1",
    "tcp/::ffff:192.0.2.1",
    /* cloud metadata, link-local, multicast, broadcast */
    "udp/169.254.169.254",
    "tcp/::ffff:169.254.169.254",
    "udp/fe80::1",
    "udp/224.0.0.251",
    "udp/ff02::fb",
    "sendto/255.255.255.255",
    NULL,
  };
  static const char *const allowed[] = { "udp/198.51.100.7", "udp/2001:db8::7", NULL };
  g_autofree char *free_denied = probe_child (NULL, denied);
  g_autofree char *guarded = probe_child (manager, denied);
  g_autofree char *guarded_allowed = probe_child (manager, allowed);
  g_test_message ("unguarded:\n%s\nguarded:\n%s%s", free_denied, guarded, guarded_allowed);
  /* Outside the guard, the listener answers on every host address ... */
  for (const char *const *p = denied; *p; p++)
    if (g_str_has_prefix (*p, "tcp/") && !strstr (*p, "169.254") && !g_str_equal (*p, "tcp/0.0.0.0")
        && !g_str_equal (*p, "tcp/::"))
      g_assert_cmpint (result (free_denied, *p), ==, 0);
  /* ... inside, nothing of the host does: EPERM, from the guard itself. */
  for (const char *const *p = denied; *p; p++)
    g_assert_cmpint (result (guarded, *p), ==, EPERM);
  for (const char *const *p = allowed; *p; p++)
    g_assert_cmpint (result (guarded_allowed, *p), ==, 0);
}

/* An address the host gains is denied once the guard is told (the daemon
 * tells it on each netlink change), and allowed again once it is gone. */
static void
test_host_changes (void)
{
  static const char *const probes[] = { "udp/192.0.2.77", "tcp/192.0.2.77", NULL };
  g_autoptr (GError) error = NULL;
  run ("ip addr add 192.0.2.77/32 dev sbxdummy0");
  guint count = 0;
  g_assert_true (cgroup_guard_sync_host (manager, &count, &error));
  g_assert_no_error (error);
  g_autofree char *free_lines = probe_child (NULL, probes);
  g_autofree char *added = probe_child (manager, probes);
  g_assert_cmpint (result (free_lines, "tcp/192.0.2.77"), ==, 0);
  g_assert_cmpint (result (added, "udp/192.0.2.77"), ==, EPERM);
  g_assert_cmpint (result (added, "tcp/192.0.2.77"), ==, EPERM);
  run ("ip addr del 192.0.2.77/32 dev sbxdummy0");
  guint after = 0;
  gboolean synced = cgroup_guard_sync_host (manager, &after, &error);
  g_assert_no_error (error);
  g_assert_true (synced);
  g_assert_cmpuint (after, ==, count - 1);
  g_autofree char *removed = probe_child (manager, probes);
  g_assert_cmpint (result (removed, "udp/192.0.2.77"), ==, 0);
}

/* The admin's list: a prefix of each family, v4-mapped too; a bad one is
 * refused by name. */
static void
test_admin_list (void)
{
  static const char *const probes[]
      = { "udp/198.51.100.7", "udp/::ffff:198.51.100.7", "udp/2001:db8::7",
          "udp/203.0.113.9",  "udp/2001:db9::1",         NULL };
  g_autoptr (GError) error = NULL;
  g_assert_true (cgroup_guard_deny (manager, "198.51.100.0/24", &error));
  g_assert_true (cgroup_guard_deny (manager, "2001:db8::/32", &error));
  g_assert_no_error (error);
  g_autofree char *lines = probe_child (manager, probes);
  g_test_message ("%s", lines);
  g_assert_cmpint (result (lines, "udp/198.51.100.7"), ==, EPERM);
  g_assert_cmpint (result (lines, "udp/::ffff:198.51.100.7"), ==, EPERM);
  g_assert_cmpint (result (lines, "udp/2001:db8::7"), ==, EPERM);
  g_assert_cmpint (result (lines, "udp/203.0.113.9"), ==, 0);
  g_assert_cmpint (result (lines, "udp/2001:db9::1"), ==, 0);
  g_assert_false (cgroup_guard_deny (manager, "198.51.100.0/33", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "198.51.100.0/33"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (getuid () != 0)
    {
      g_test_skip ("needs root (cgroups, BPF, a network namespace)");
      return g_test_run ();
    }
  /* A host of its own: loopback up, a veth interface with addresses and
   * the default routes (so UDP connects elsewhere succeed, sending nothing). */
  g_assert_cmpint (unshare (CLONE_NEWNET), ==, 0);
  run ("ip link set lo up");
  run ("ip link add sbxdummy0 type veth peer name sbxpeer0");
  run ("ip link set sbxpeer0 up");
  run ("ip link set sbxdummy0 up");
  run ("ip addr add 192.0.2.1/24 dev sbxdummy0");
  run ("ip addr add fd00::1/64 dev sbxdummy0 nodad");
  run ("ip route add default dev sbxdummy0");
  run ("ip -6 route add default dev sbxdummy0");
  /* A listener on every address and form, so "refused" cannot explain a failure. */
  int l = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int off = 0;
  setsockopt (l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  struct sockaddr_in6 any = { .sin6_family = AF_INET6 };
  g_assert_cmpint (bind (l, (struct sockaddr *) &any, sizeof any), ==, 0);
  socklen_t len = sizeof any;
  getsockname (l, (struct sockaddr *) &any, &len);
  listen_port = ntohs (any.sin6_port);
  g_assert_cmpint (listen (l, 64), ==, 0);

  g_autoptr (GError) error = NULL;
  manager = cgroup_manager_new ("/sys/fs/cgroup", PARENT, &error);
  g_assert_no_error (error);
  CgroupLimits limits = { .memory_bytes = 64 << 20, .cpus = 1, .pids = 16 };
  g_assert_true (cgroup_create (manager, "guarded", &limits, &error));

  g_test_add_func ("/net-guard/host", test_host);
  g_test_add_func ("/net-guard/host-changes", test_host_changes);
  g_test_add_func ("/net-guard/admin-list", test_admin_list);
  int r = g_test_run ();
  g_assert_true (cgroup_remove (manager, "guarded", &error));
  cgroup_manager_free (manager);
  close (l);
  return r;
}
