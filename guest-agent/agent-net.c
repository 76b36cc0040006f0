/* agent-net.c — the guest's network, set up before the agent says hello.
 *
 * The daemon describes it on the kernel command line, so the boot needs no
 * DHCP round trip:
 *   sandboxd.net=ADDRESS/PREFIX,GATEWAY,MTU   eth0 (its MAC is QEMU's -device mac=)
 *   sandboxd.dns=IP[,IP...]                   /etc/resolv.conf
 * Without sandboxd.net the guest has no NIC: the virtio_net module is not
 * even loaded. Loopback is always up; /etc/hosts always names the guest.
 * A template's build with a NIC (sandboxd.nic=1) loads the module and
 * leaves eth0 down: each clone's thaw configures it (agent_net_thaw),
 * with the clone's own MAC.
 * Plain ioctls (SIOCSIF*, SIOCADDRT): no netlink code for one interface.
 */
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/if_ether.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_IFNAME "eth0"
#define NET_WAIT_MS 3000

typedef struct
{
  struct in_addr address, netmask, gateway;
  int mtu;
} NetConfig;

static gboolean
fail_errno (GError **error, const char *what, const char *name)
{
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "network: %s %s: %s", what, name,
               g_strerror (e));
  return FALSE;
}

/* "ADDRESS/PREFIX,GATEWAY,MTU" */
static gboolean
parse_config (const char *text, NetConfig *cfg, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  char *slash = parts[0] ? strchr (parts[0], '/') : NULL;
  guint64 prefix = 0, mtu = 0;
  if (g_strv_length (parts) != 3 || slash == NULL)
    goto bad;
  *slash = '\0';
  if (inet_pton (AF_INET, parts[0], &cfg->address) != 1
      || inet_pton (AF_INET, parts[1], &cfg->gateway) != 1
      || !g_ascii_string_to_unsigned (slash + 1, 10, 1, 32, &prefix, NULL)
      || !g_ascii_string_to_unsigned (parts[2], 10, 68, 65535, &mtu, NULL))
    goto bad;
  cfg->netmask.s_addr = htonl (prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
  cfg->mtu = (int) mtu;
  return TRUE;
bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "network: sandboxd.net=%s is not ADDRESS/PREFIX,GATEWAY,MTU", text);
  return FALSE;
}

static gboolean
set_up (int sock, const char *name, int mtu, GError **error)
{
  struct ifreq ifr = { 0 };
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  if (mtu)
    {
      ifr.ifr_mtu = mtu;
      if (ioctl (sock, SIOCSIFMTU, &ifr) < 0)
        return fail_errno (error, "set the MTU of", name);
    }
  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    return fail_errno (error, "read the flags of", name);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (sock, SIOCSIFFLAGS, &ifr) < 0)
    return fail_errno (error, "bring up", name);
  return TRUE;
}

static gboolean
set_ipv4 (int sock, unsigned long request, const char *name, struct in_addr addr)
{
  struct ifreq ifr = { 0 };
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  struct sockaddr_in *sin = (struct sockaddr_in *) &ifr.ifr_addr;
  sin->sin_family = AF_INET;
  sin->sin_addr = addr;
  return ioctl (sock, request, &ifr) == 0;
}

/* A gratuitous ARP: the user network's helper learns the guest's MAC
 * from its frames, and until then a connection to a published port goes
 * unanswered (a first request timed out without it). */
static void
announce (int sock, const NetConfig *cfg)
{
  struct ifreq ifr = { 0 };
  g_strlcpy (ifr.ifr_name, NET_IFNAME, IFNAMSIZ);
  if (ioctl (sock, SIOCGIFHWADDR, &ifr) < 0)
    return;
  struct ether_arp arp = { 0 };
  arp.arp_hrd = htons (ARPHRD_ETHER);
  arp.arp_pro = htons (ETHERTYPE_IP);
  arp.arp_hln = ETH_ALEN;
  arp.arp_pln = 4;
  arp.arp_op = htons (ARPOP_REQUEST);
  memcpy (arp.arp_sha, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
  memcpy (arp.arp_spa, &cfg->address, 4);
  memcpy (arp.arp_tpa, &cfg->address, 4);
  struct sockaddr_ll to = { .sll_family = AF_PACKET,
                            .sll_protocol = htons (ETH_P_ARP),
                            .sll_ifindex = (int) if_nametoindex (NET_IFNAME),
                            .sll_halen = ETH_ALEN };
  memset (to.sll_addr, 0xff, ETH_ALEN);
  int fd = socket (AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons (ETH_P_ARP));
  if (fd < 0)
    return;
  if (sendto (fd, &arp, sizeof arp, 0, (struct sockaddr *) &to, sizeof to) < 0)
    fprintf (stderr, "sandbox-agent: gratuitous ARP: %s\n", g_strerror (errno));
  close (fd);
}

static gboolean
configure_eth0 (int sock, const NetConfig *cfg, GError **error)
{
  /* virtio_net probes the device as it loads; the interface may still
   * take a moment to be registered. */
  for (int waited = 0; if_nametoindex (NET_IFNAME) == 0; waited += 5)
    {
      if (waited >= NET_WAIT_MS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "network: no " NET_IFNAME " after %d ms", NET_WAIT_MS);
          return FALSE;
        }
      g_usleep (5000);
    }
  if (!set_ipv4 (sock, SIOCSIFADDR, NET_IFNAME, cfg->address))
    return fail_errno (error, "set the address of", NET_IFNAME);
  if (!set_ipv4 (sock, SIOCSIFNETMASK, NET_IFNAME, cfg->netmask))
    return fail_errno (error, "set the netmask of", NET_IFNAME);
  if (!set_up (sock, NET_IFNAME, cfg->mtu, error))
    return FALSE;
  announce (sock, cfg);
  if (cfg->gateway.s_addr == INADDR_ANY)
    return TRUE; /* a namespace without a default route */
  struct rtentry rt = { 0 };
  struct sockaddr_in *gw = (struct sockaddr_in *) &rt.rt_gateway;
  ((struct sockaddr_in *) &rt.rt_dst)->sin_family = AF_INET;
  ((struct sockaddr_in *) &rt.rt_genmask)->sin_family = AF_INET;
  gw->sin_family = AF_INET;
  gw->sin_addr = cfg->gateway;
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = (char *) NET_IFNAME;
  if (ioctl (sock, SIOCADDRT, &rt) < 0)
    return fail_errno (error, "add the default route via", inet_ntoa (cfg->gateway));
  return TRUE;
}

static void
write_etc (const char *address, const char *dns)
{
  char host[HOST_NAME_MAX + 1] = "";
  gethostname (host, sizeof host - 1);
  g_autofree char *hosts = g_strdup_printf ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n"
                                            "%s\t%s\n",
                                            address ? address : "127.0.1.1", host);
  if (!g_file_set_contents ("/etc/hosts", hosts, -1, NULL))
    fprintf (stderr, "sandbox-agent: cannot write /etc/hosts\n");
  if (dns == NULL)
    return;
  g_autoptr (GString) resolv = g_string_new (NULL);
  g_auto (GStrv) servers = g_strsplit (dns, ",", -1);
  for (char **s = servers; *s; s++)
    {
      struct in_addr a;
      if (inet_pton (AF_INET, *s, &a) == 1)
        g_string_append_printf (resolv, "nameserver %s\n", *s);
    }
  if (!g_file_set_contents ("/etc/resolv.conf", resolv->str, -1, NULL))
    fprintf (stderr, "sandbox-agent: cannot write /etc/resolv.conf\n");
}

/* "52:54:00:12:34:56" as eth0's address (the interface is down). */
static gboolean
set_mac (int sock, const char *mac, GError **error)
{
  struct ifreq ifr = { 0 };
  g_strlcpy (ifr.ifr_name, NET_IFNAME, IFNAMSIZ);
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  unsigned int b[ETH_ALEN];
  if (sscanf (mac, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != ETH_ALEN)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "network: bad MAC %s", mac);
      return FALSE;
    }
  for (int i = 0; i < ETH_ALEN; i++)
    ifr.ifr_hwaddr.sa_data[i] = (char) b[i];
  if (ioctl (sock, SIOCSIFHWADDR, &ifr) < 0)
    return fail_errno (error, "set the MAC of", NET_IFNAME);
  return TRUE;
}

/* eth0 from @net ("ADDRESS/PREFIX,GATEWAY,MTU"; NULL: none) with @mac
 * (NULL: the device's), /etc/hosts and resolv.conf. */
static gboolean
apply (const char *net, const char *dns, const char *mac, GError **error)
{
  NetConfig cfg = { 0 };
  if (net && !parse_config (net, &cfg, error))
    return FALSE;
  int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return fail_errno (error, "socket", "AF_INET");
  gboolean ok = set_up (sock, "lo", 0, error);
  if (ok && net && mac)
    ok = set_mac (sock, mac, error);
  if (ok && net)
    ok = configure_eth0 (sock, &cfg, error);
  close (sock);
  char address[INET_ADDRSTRLEN] = "";
  if (net)
    inet_ntop (AF_INET, &cfg.address, address, sizeof address);
  write_etc (net ? address : NULL, net ? dns : NULL);
  return ok;
}

gboolean
agent_net_configure (const char *modules_list, GError **error)
{
  g_autofree char *net = agent_system_cmdline_value ("sandboxd.net");
  g_autofree char *dns = agent_system_cmdline_value ("sandboxd.dns");
  g_autofree char *nic = agent_system_cmdline_value ("sandboxd.nic");
  if ((net || nic) && !agent_system_load_modules (modules_list, error))
    return FALSE;
  return apply (net, dns, NULL, error);
}

gboolean
agent_net_thaw (const char *net, const char *dns, const char *mac, GError **error)
{
  return apply (net, dns, mac, error);
}
