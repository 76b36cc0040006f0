/* The network guard (cgroup_add_guarded): a process in a guarded cgroup
 * cannot reach the host's loopback by any address form, over TCP or UDP,
 * and can still use every other address. Needs root; no VM. */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

/* What a process sees, from inside the guard (or not): one line of
 * "name=errno" per probe. */
static char *
probe_all (void)
{
  static const struct
  {
    const char *addr;
    int type;
  } probes[] = {
    { "127.0.0.1", SOCK_STREAM },
    { "127.1.2.3", SOCK_STREAM },
    { "0.0.0.0", SOCK_STREAM },
    { "::1", SOCK_STREAM },
    { "::", SOCK_STREAM },
    { "::ffff:127.0.0.1", SOCK_STREAM },
    { "127.0.0.1", SOCK_DGRAM },
    { "::1", SOCK_DGRAM },
    /* UDP connect sends nothing: any other address must simply work. */
    { "198.51.100.7", SOCK_DGRAM },
    { "2001:db8::7", SOCK_DGRAM },
  };
  GString *s = g_string_new (NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (probes); i++)
    g_string_append_printf (s, "%s/%s=%d\n", probes[i].type == SOCK_STREAM ? "tcp" : "udp",
                            probes[i].addr, try_connect (probes[i].addr, probes[i].type));
  g_string_append_printf (s, "sendto/127.0.0.1=%d\n", try_sendto ("127.0.0.1"));
  return g_string_free (s, FALSE);
}

/* Runs probe_all in a child, guarded if @manager; returns its lines. */
static char *
probe_child (CgroupManager *manager)
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
      g_autofree char *r = probe_all ();
      (void) !write (out[1], r, strlen (r));
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

static void
test_guard (void)
{
  if (getuid () != 0)
    {
      g_test_skip ("needs root (cgroups, BPF)");
      return;
    }
  /* A listener on every loopback form, so "refused" cannot explain a failure. */
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
  CgroupManager *m = cgroup_manager_new ("/sys/fs/cgroup", PARENT, &error);
  g_assert_no_error (error);
  CgroupLimits limits = { .memory_bytes = 64 << 20, .cpus = 1, .pids = 16 };
  g_assert_true (cgroup_create (m, "guarded", &limits, &error));

  g_autofree char *free_lines = probe_child (NULL);
  g_autofree char *guarded = probe_child (m);
  g_test_message ("unguarded:\n%s\nguarded:\n%s", free_lines, guarded);
  /* Outside the guard every loopback form reaches the listener ... */
  g_assert_nonnull (strstr (free_lines, "tcp/127.0.0.1=0\n"));
  g_assert_nonnull (strstr (free_lines, "tcp/::1=0\n"));
  g_assert_nonnull (strstr (free_lines, "tcp/::ffff:127.0.0.1=0\n"));
  /* ... inside, none does: EPERM (1), from the guard itself. */
  g_autofree char *eperm = g_strdup_printf ("=%d", EPERM);
  g_auto (GStrv) lines = g_strsplit (guarded, "\n", -1);
  guint n = 0;
  for (char **line = lines; *line && **line; line++, n++)
    {
      gboolean other = strstr (*line, "198.51.100.7") || strstr (*line, "2001:db8::7");
      g_assert_true (g_str_has_suffix (*line, other ? "=0" : eperm));
    }
  g_assert_cmpuint (n, ==, 11);

  g_assert_true (cgroup_remove (m, "guarded", &error));
  g_assert_no_error (error);
  cgroup_manager_free (m);
  close (l);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net-guard/loopback", test_guard);
  return g_test_run ();
}
