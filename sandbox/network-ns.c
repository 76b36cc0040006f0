/* network-ns.c — a guest attached to an existing network namespace, the
 * way Kata attaches to CNI: a tap device made in that namespace, traffic
 * redirected between it and the namespace's interface with tc (ingress
 * qdisc, u32 match-all, mirred egress redirect, both ways), the tap's fd
 * handed to QEMU, and the guest's eth0 given the interface's MAC, IPv4
 * address, default route and MTU. The namespace's own stack sees none of
 * that traffic; whatever network the namespace has (a CNI bridge, a veth)
 * is the guest's.
 *
 * The work is done in a thread that joins the namespace (setns affects
 * the calling thread only): its sockets, ioctls and the tc it starts are
 * the namespace's. The tap is not persistent: it goes when QEMU (its last
 * holder) does; release removes the redirect on the interface. */
#include "network.h"

#include "sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define fail network_error

static int
open_netns (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      fail (error, e == ENOENT ? SANDBOX_ERROR_NOT_FOUND : SANDBOX_ERROR_INVALID, "netns %s: %s",
            path, g_strerror (e));
      return -1;
    }
  int type = ioctl (fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET)
    {
      close (fd);
      fail (error, SANDBOX_ERROR_INVALID,
            "netns %s is not a network namespace (give /run/netns/NAME or /proc/PID/ns/net)", path);
      return -1;
    }
  /* Redirecting the host's own interface into a guest would take the
   * host off its network. */
  struct stat mine, theirs;
  if (stat ("/proc/self/ns/net", &mine) == 0 && fstat (fd, &theirs) == 0
      && mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino)
    {
      close (fd);
      fail (error, SANDBOX_ERROR_DENIED, "netns %s is sandboxd's own network namespace", path);
      return -1;
    }
  return fd;
}

gboolean
network_ns_check (const Network *net, GError **error)
{
  int fd = open_netns (net->ns_path, error);
  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

typedef struct
{
  Network *net;
  const char *tap_name;
  gboolean release;
  int tap_fd;
  GError *error;
} NsJob;

static gboolean
run_tc (const char *const *args, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) "tc");
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add (argv, (gpointer) *a);
  g_ptr_array_add (argv, NULL);
  g_autofree char *err = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                     &status, error))
    return FALSE;
  if (g_spawn_check_wait_status (status, NULL))
    return TRUE;
  g_autofree char *cmd = g_strjoinv (" ", (char **) argv->pdata);
  return fail (error, SANDBOX_ERROR_INTERNAL, "%s: %s", cmd, err ? g_strstrip (err) : "failed");
}

/* The namespace's interface: the first with an IPv4 address that is not
 * loopback; its address and prefix into @net. */
static gboolean
find_interface (Network *net, GError **error)
{
  struct ifaddrs *all = NULL;
  if (getifaddrs (&all) < 0)
    return fail (error, SANDBOX_ERROR_INTERNAL, "netns %s: getifaddrs: %s", net->ns_path,
                 g_strerror (errno));
  for (struct ifaddrs *i = all; i; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !(i->ifa_flags & IFF_LOOPBACK))
      {
        char addr[INET_ADDRSTRLEN];
        struct in_addr a = ((struct sockaddr_in *) i->ifa_addr)->sin_addr;
        guint32 mask = ntohl (((struct sockaddr_in *) i->ifa_netmask)->sin_addr.s_addr);
        inet_ntop (AF_INET, &a, addr, sizeof addr);
        net->address = g_strdup (addr);
        net->prefix = (guint) __builtin_popcount (mask);
        net->ifname = g_strdup (i->ifa_name);
        break;
      }
  freeifaddrs (all);
  if (net->ifname)
    return TRUE;
  return fail (error, SANDBOX_ERROR_INVALID, "netns %s has no interface with an IPv4 address",
               net->ns_path);
}

/* The default route's gateway, from the namespace's routing table. */
static char *
default_gateway (const char *ifname)
{
  g_autofree char *table = NULL;
  if (!g_file_get_contents ("/proc/thread-self/net/route", &table, NULL, NULL))
    return NULL;
  g_auto (GStrv) lines = g_strsplit (table, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      char dev[IFNAMSIZ + 1];
      unsigned dest, gw, flags;
      if (sscanf (*l, "%16s %x %x %x", dev, &dest, &gw, &flags) == 4 && dest == 0 && gw != 0
          && g_str_equal (dev, ifname))
        {
          char text[INET_ADDRSTRLEN];
          struct in_addr a = { gw };
          return g_strdup (inet_ntop (AF_INET, &a, text, sizeof text));
        }
    }
  return NULL;
}

static gboolean
read_link (Network *net, int sock, GError **error)
{
  struct ifreq ifr = { 0 };
  g_strlcpy (ifr.ifr_name, net->ifname, IFNAMSIZ);
  if (ioctl (sock, SIOCGIFHWADDR, &ifr) < 0)
    return fail (error, SANDBOX_ERROR_INTERNAL, "netns %s: MAC of %s: %s", net->ns_path,
                 net->ifname, g_strerror (errno));
  const unsigned char *m = (const unsigned char *) ifr.ifr_hwaddr.sa_data;
  net->mac = g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  if (ioctl (sock, SIOCGIFMTU, &ifr) < 0)
    return fail (error, SANDBOX_ERROR_INTERNAL, "netns %s: MTU of %s: %s", net->ns_path,
                 net->ifname, g_strerror (errno));
  net->mtu = (guint) ifr.ifr_mtu;
  return TRUE;
}

static int
make_tap (const char *name, guint mtu, int sock, GError **error)
{
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      fail (error, SANDBOX_ERROR_INTERNAL, "open /dev/net/tun: %s", g_strerror (errno));
      return -1;
    }
  struct ifreq ifr = { 0 };
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    goto fail;
  ifr.ifr_mtu = (int) mtu;
  if (ioctl (sock, SIOCSIFMTU, &ifr) < 0 || ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    goto fail;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (sock, SIOCSIFFLAGS, &ifr) < 0)
    goto fail;
  return fd;
fail:
  fail (error, SANDBOX_ERROR_INTERNAL, "tap %s: %s", name, g_strerror (errno));
  close (fd);
  return -1;
}

/* In the namespace: the interface, the tap, the redirects both ways. */
static gboolean
attach (NsJob *job, GError **error)
{
  Network *net = job->net;
  if (!find_interface (net, error))
    return FALSE;
  net->gateway = default_gateway (net->ifname);
  int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return fail (error, SANDBOX_ERROR_INTERNAL, "socket: %s", g_strerror (errno));
  gboolean ok = read_link (net, sock, error);
  if (ok)
    job->tap_fd = make_tap (job->tap_name, net->mtu, sock, error);
  close (sock);
  if (!ok || job->tap_fd < 0)
    return FALSE;
  net->tap = g_strdup (job->tap_name);
  const char *redirect[]
      = { "filter", "add", "dev", NULL,     "parent", "ffff:",  "protocol", "all", "u32", "match",
          "u8",     "0",   "0",   "action", "mirred", "egress", "redirect", "dev", NULL,  NULL };
  const char *qdisc[] = { "qdisc", "add", "dev", NULL, "ingress", NULL };
  const char *pairs[][2] = { { net->ifname, net->tap }, { net->tap, net->ifname } };
  for (int i = 0; i < 2; i++)
    {
      qdisc[3] = redirect[3] = pairs[i][0];
      redirect[18] = pairs[i][1];
      if (!run_tc (qdisc, error) || !run_tc (redirect, error))
        return FALSE;
    }
  return TRUE;
}

static gpointer
ns_thread (gpointer data)
{
  NsJob *job = data;
  g_autoptr (GError) error = NULL;
  int fd = open_netns (job->net->ns_path, &error);
  if (fd >= 0 && setns (fd, CLONE_NEWNET) < 0)
    fail (&error, SANDBOX_ERROR_INTERNAL, "join netns %s: %s", job->net->ns_path,
          g_strerror (errno));
  if (fd >= 0)
    close (fd);
  if (error == NULL && job->release)
    {
      const char *del[] = { "qdisc", "del", "dev", job->net->ifname, "ingress", NULL };
      run_tc (del, &error);
    }
  else if (error == NULL)
    attach (job, &error);
  job->error = g_steal_pointer (&error);
  return NULL;
}

static void
run_in_netns (NsJob *job)
{
  GThread *t = g_thread_new ("netns", ns_thread, job);
  g_thread_join (t);
}

int
network_ns_prepare (Network *net, const char *sandbox_id, GError **error)
{
  g_autofree char *tap = g_strdup_printf ("sbx%.12s", sandbox_id);
  NsJob job = { net, tap, FALSE, -1, NULL };
  run_in_netns (&job);
  if (job.error == NULL)
    return job.tap_fd;
  g_propagate_error (error, job.error);
  if (job.tap_fd >= 0)
    close (job.tap_fd); /* the tap goes with it */
  if (net->tap)
    network_ns_release (net);
  return -1;
}

void
network_ns_release (Network *net)
{
  if (net->ifname == NULL)
    return;
  NsJob job = { net, NULL, TRUE, -1, NULL };
  run_in_netns (&job);
  if (job.error)
    g_message ("network: %s", job.error->message);
  g_clear_error (&job.error);
  g_clear_pointer (&net->tap, g_free);
}
