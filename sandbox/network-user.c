/* network-user.c — the user-mode network: sandbox-slirp (network/, libslirp)
 * on a socketpair with QEMU.
 *
 * The helper turns the guest's frames into host sockets: outbound
 * connections look like the helper's own, published ports are its
 * listening sockets. It runs outside QEMU's jail, as its own uid, with no
 * new privileges, no capabilities, in new mount, pid, IPC and UTS
 * namespaces with a private root of /usr only, in the sandbox's cgroup
 * under the loopback guard (cgroup_add_guarded). It ends when QEMU's end
 * of the socketpair closes, so it dies with the sandbox, and survives a
 * restart of sandboxd (it is not sandboxd's to keep alive).
 *
 * Measured against QEMU's own -netdev user (libslirp, the engine of
 * slirp4netns too) in docs/networking.md.
 */
#include "network.h"

#include "proc-stat.h"
#include "sandbox.h"

#include <sched.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

/* Binds @p's host address for a moment: free, or the error names it. */
static gboolean
port_free (const NetworkPort *p, GError **error)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (p->host_port) };
  if (p->host_ip)
    inet_pton (AF_INET, p->host_ip, &sin.sin_addr);
  int fd = socket (AF_INET, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  int one = 1;
  int e = 0;
  if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
      || bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0)
    e = errno;
  if (fd >= 0)
    close (fd);
  if (e == 0)
    return TRUE;
  g_set_error (error, SANDBOX_ERROR, e == EADDRINUSE ? SANDBOX_ERROR_EXISTS : SANDBOX_ERROR_INVALID,
               "host port %s:%u/%s: %s", p->host_ip ? p->host_ip : "0.0.0.0", p->host_port,
               p->udp ? "udp" : "tcp",
               e == EADDRINUSE ? "already in use (by another program or sandbox)" : g_strerror (e));
  return FALSE;
}

gboolean
network_check_ports (const Network *net, GError **error)
{
  for (guint i = 0; i < net->ports->len; i++)
    if (!port_free (&g_array_index (net->ports, NetworkPort, i), error))
      return FALSE;
  return TRUE;
}

int
network_user_prepare (Network *net, int *helper_fd, GError **error)
{
  if (!network_check_ports (net, error))
    return -1;
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    {
      int e = errno;
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INTERNAL, "socketpair: %s", g_strerror (e));
      return -1;
    }
  *helper_fd = sv[1];
  return sv[0];
}

typedef struct
{
  const NetworkHelperSpec *spec;
  Network *net;
} Placement;

/* While the helper waits to exec: under the guard, in the sandbox's cgroup. */
static gboolean
place_helper (GPid pid, gpointer data, GError **error)
{
  Placement *p = data;
  p->net->helper_pid = pid;
  p->net->helper_start_time = proc_stat_start_time (pid);
  return cgroup_add_guarded (p->spec->cgroups, p->spec->cgroup, pid, error);
}

static void
on_helper_exit (GPid pid, int status, gpointer data)
{
  Network *net = data;
  net->helper_watch = 0;
  if (net->helper_pid == pid)
    net->helper_pid = 0;
  g_spawn_close_pid (pid);
}

static GStrv
helper_argv (const Network *net, const char *helper, int fd, int ports_fd)
{
  GPtrArray *a = g_ptr_array_new ();
  g_ptr_array_add (a, g_strdup (helper));
  g_ptr_array_add (a, g_strdup ("--fd"));
  g_ptr_array_add (a, g_strdup_printf ("%d", fd));
  g_ptr_array_add (a, g_strdup ("--address"));
  g_ptr_array_add (a, g_strdup (net->address));
  g_ptr_array_add (a, g_strdup ("--prefix"));
  g_ptr_array_add (a, g_strdup_printf ("%u", net->prefix));
  g_ptr_array_add (a, g_strdup ("--gateway"));
  g_ptr_array_add (a, g_strdup (net->gateway));
  g_ptr_array_add (a, g_strdup ("--mtu"));
  g_ptr_array_add (a, g_strdup_printf ("%u", net->mtu));
  g_ptr_array_add (a, g_strdup ("--ports-fd"));
  g_ptr_array_add (a, g_strdup_printf ("%d", ports_fd));
  g_ptr_array_add (a, NULL);
  return (GStrv) g_ptr_array_free (a, FALSE);
}

/* The published ports, one a line, in a pipe the helper reads to its
 * end: which sandbox publishes what is not for every user's ps. */
static int
ports_pipe (const Network *net, GError **error)
{
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; i < net->ports->len; i++)
    {
      NetworkPort *p = &g_array_index (net->ports, NetworkPort, i);
      g_string_append_printf (text, "%s %s:%u:%u\n", p->udp ? "udp" : "tcp",
                              p->host_ip ? p->host_ip : "0.0.0.0", p->host_port, p->guest_port);
    }
  int fds[2];
  /* A pipe holds 64 KiB; the API allows 32 ports, a line each. */
  if (pipe2 (fds, O_CLOEXEC) < 0 || write (fds[1], text->str, text->len) != (ssize_t) text->len)
    {
      int e = errno;
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INTERNAL, "the ports' pipe: %s",
                   g_strerror (e));
      return -1;
    }
  close (fds[1]);
  return fds[0];
}

/* Inside the helper's private root: /usr (its libraries), and the binary
 * itself where it is not under /usr (a build tree). */
#define JAIL_HELPER "/sandbox-slirp"

gboolean
network_user_start (Network *net, const NetworkHelperSpec *spec, int helper_fd, GError **error)
{
  int log_fd = open (spec->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int e = errno;
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INTERNAL, "create %s: %s", spec->log_path,
                   g_strerror (e));
      return FALSE;
    }
  int ports_fd = ports_pipe (net, error);
  if (ports_fd < 0)
    {
      close (log_fd);
      return FALSE;
    }
  gboolean in_usr = g_str_has_prefix (spec->helper, "/usr/");
  g_auto (GStrv) argv = helper_argv (net, in_usr ? spec->helper : JAIL_HELPER, helper_fd, ports_fd);
  g_autofree char *cmdline = g_strjoinv (" ", argv);
  g_autofree char *header = g_strdup_printf ("# network helper, uid %u: %s\n", spec->uid, cmdline);
  (void) !write (log_fd, header, strlen (header));
  Placement placement = { spec, net };
  g_auto (JailSpec) jail;
  jail_spec_init (&jail, argv, log_fd);
  jail.clone_flags = CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID;
  jail.root = spec->root;
  jail.hostname = "net";
  jail.set_user = TRUE;
  jail.uid = spec->uid;
  jail.gid = spec->gid;
  jail.open_files = 4096;
  jail.max_procs = 16;
  jail.place = place_helper;
  jail.place_data = &placement;
  /* Nothing of the host's files but its programs and libraries: the
   * helper only needs the host's network and its socket to QEMU. */
  jail_spec_bind (&jail, "/usr", "/usr", FALSE, MS_NODEV);
  jail_spec_bind (&jail, "/dev/null", "/dev/null", TRUE, MS_NOEXEC);
  jail_spec_bind (&jail, in_usr ? NULL : spec->helper, JAIL_HELPER, FALSE, MS_NODEV);
  jail_spec_pass_fd (&jail, helper_fd);
  jail_spec_pass_fd (&jail, ports_fd);
  GPid pid = 0;
  gboolean ok = TRUE;
  if (g_mkdir (spec->root, 0755) < 0 && errno != EEXIST)
    {
      int e = errno;
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INTERNAL, "create %s: %s", spec->root,
                   g_strerror (e));
      ok = FALSE;
    }
  ok = ok && jail_prepare_root (&jail, error) && jail_spawn (&jail, &pid, error);
  close (log_fd);
  close (ports_fd);
  if (!ok)
    {
      net->helper_pid = 0;
      g_prefix_error (error, "network helper: ");
      return FALSE;
    }
  net->helper_uid = spec->uid;
  net->helper_watch = g_child_watch_add (pid, on_helper_exit, net);
  return TRUE;
}

void
network_stop (Network *net)
{
  if (net == NULL || net->helper_pid <= 0)
    return;
  /* Only the process we started: same pid and start time. */
  if (proc_stat_start_time (net->helper_pid) == net->helper_start_time)
    kill (net->helper_pid, SIGKILL);
  if (net->helper_watch == 0)
    net->helper_pid = 0; /* not our child (found again): nothing to reap */
  net->helper_uid = 0;
}
