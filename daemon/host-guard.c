/* host-guard.c — the network guard's lists, kept by the daemon: the
 * admin's addresses (--net-deny) and the host's own, read again whenever
 * netlink says an address came or went (RTMGRP_IPV4_IFADDR, _IPV6_IFADDR),
 * so a guest's helper cannot reach an address the host gained after its
 * sandbox started (policies: cgroup_guard_*). */
#include "daemon.h"

#include <errno.h>
#include <glib-unix.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

static void
sync_host (Daemon *d)
{
  g_autoptr (GError) error = NULL;
  guint n = 0;
  if (!cgroup_guard_sync_host (d->ctx.cgroups, &n, &error))
    g_warning ("%s", error->message);
  else
    g_debug ("network guard: the host has %u addresses", n);
}

static gboolean
on_netlink (int fd, GIOCondition cond, gpointer data)
{
  Daemon *d = data;
  char buf[8192];
  /* What changed does not matter: the whole list is read again. */
  while (recv (fd, buf, sizeof buf, MSG_DONTWAIT) > 0 || errno == ENOBUFS)
    ;
  sync_host (d);
  return G_SOURCE_CONTINUE;
}

gboolean
daemon_host_guard_start (Daemon *d, char **deny, GError **error)
{
  if (d->ctx.cgroups == NULL)
    {
      if (deny && *deny)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "--net-deny needs cgroups (sandboxd as root): the guard is a cgroup's");
          return FALSE;
        }
      return TRUE; /* no user network without cgroups: nothing to guard */
    }
  for (char **c = deny; c && *c; c++)
    if (!cgroup_guard_deny (d->ctx.cgroups, *c, error))
      {
        g_prefix_error (error, "--net-deny: ");
        return FALSE;
      }
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  struct sockaddr_nl sa
      = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
  if (fd < 0 || bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "watch the host's addresses (netlink): %s", g_strerror (e));
      return FALSE;
    }
  d->netlink_fd = fd;
  d->netlink_watch = g_unix_fd_add (fd, G_IO_IN, on_netlink, d);
  /* What changed between the guard's making and the watch. */
  sync_host (d);
  return TRUE;
}

void
daemon_host_guard_stop (Daemon *d)
{
  g_clear_handle_id (&d->netlink_watch, g_source_remove);
  if (d->netlink_fd > 0)
    close (d->netlink_fd);
  d->netlink_fd = 0;
}
