/* sandbox-slirp — a sandbox's user-mode network: libslirp on the socket
 * QEMU's `-netdev stream` speaks (each Ethernet frame behind its length,
 * 4 bytes big-endian), in a process of its own.
 *
 * Why not QEMU's own `-netdev user` (the same libslirp): QEMU is jailed in
 * an empty network namespace, and every frame a hostile guest crafts would
 * be parsed inside the process it attacks first. Why not passt (Debian 12's
 * 0.0~git20230309, used before): it sends data toward the guest only on an
 * event of its host socket, never when the guest's ACK opens the window
 * again, so a download stalled for good once the server had sent all it
 * had (64-128 KiB into it; docs/networking.md).
 *
 * sandboxd starts this in the helper jail (own uid, no capabilities,
 * no_new_privs, the sandbox's cgroup under the network guard) with the
 * socket as fd 3; it ends when QEMU's end closes. The guest's address,
 * gateway and MTU come from its kernel command line, so DHCP is off; DNS
 * is off too (the guest gets the host's resolvers directly). Once set up
 * it installs its own seccomp allow-list (slirp-seccomp.c).
 *
 * usage: sandbox-slirp --fd N --address A --prefix P --gateway G --mtu M
 *                      [--ports-fd N]
 * Published ports are read from --ports-fd (to its end), one a line:
 * "tcp|udp HOST_IP:HOST_PORT:GUEST_PORT"; not on the command line, which
 * any user of the host can read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "slirp-seccomp.h"

#define MAX_FRAME 65536 /* an MTU of 65520 and its Ethernet header */
#define MAX_POLL 1024
#define MAX_TIMERS 16
#define MAX_PORTS 64

typedef struct Timer
{
  SlirpTimerCb cb;
  void *cb_opaque;
  int64_t expire_ms; /* -1: not armed */
  int used;
} Timer;

static struct
{
  Slirp *slirp;
  int fd; /* QEMU's frames */
  struct pollfd pfds[MAX_POLL];
  int n_pfds;
  Timer timers[MAX_TIMERS];
  /* What QEMU sent: partial frames wait here. */
  unsigned char in[4 + MAX_FRAME];
  size_t in_len;
} net;

static void
die (const char *what)
{
  fprintf (stderr, "sandbox-slirp: %s\n", what);
  exit (1);
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A frame for the guest: written whole (the socket is blocking), so the
 * stream's framing never breaks; QEMU reads as the guest takes them. */
static ssize_t
send_packet (const void *buf, size_t len, void *opaque)
{
  if (len > MAX_FRAME)
    return (ssize_t) len; /* larger than any MTU we give: dropped */
  uint32_t be = htonl ((uint32_t) len);
  struct iovec iov[2] = { { &be, 4 }, { (void *) buf, len } };
  size_t left = 4 + len;
  while (left > 0)
    {
      ssize_t n = writev (net.fd, iov, 2);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        exit (0); /* QEMU is gone */
      left -= (size_t) n;
      for (int i = 0; i < 2 && n > 0; i++)
        {
          size_t take = (size_t) n < iov[i].iov_len ? (size_t) n : iov[i].iov_len;
          iov[i].iov_base = (char *) iov[i].iov_base + take;
          iov[i].iov_len -= take;
          n -= (ssize_t) take;
        }
    }
  return (ssize_t) len;
}

static void
guest_error (const char *msg, void *opaque)
{
  fprintf (stderr, "sandbox-slirp: guest error: %.200s\n", msg);
}

static int64_t
clock_get_ns (void *opaque)
{
  return now_ns ();
}

static void *
timer_new (SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  for (int i = 0; i < MAX_TIMERS; i++)
    if (!net.timers[i].used)
      {
        net.timers[i] = (Timer){ cb, cb_opaque, -1, 1 };
        return &net.timers[i];
      }
  die ("out of timers");
  return NULL;
}

static void
timer_free (void *timer, void *opaque)
{
  ((Timer *) timer)->used = 0;
}

static void
timer_mod (void *timer, int64_t expire_ms, void *opaque)
{
  ((Timer *) timer)->expire_ms = expire_ms;
}

static void
register_poll_fd (int fd, void *opaque)
{
}

static void
unregister_poll_fd (int fd, void *opaque)
{
}

static void
notify (void *opaque)
{
}

/* libslirp's poll events and poll(2)'s, one to one. */
static const struct
{
  int slirp;
  short poll;
} poll_events[] = {
  { SLIRP_POLL_IN, POLLIN },   { SLIRP_POLL_OUT, POLLOUT }, { SLIRP_POLL_PRI, POLLPRI },
  { SLIRP_POLL_ERR, POLLERR }, { SLIRP_POLL_HUP, POLLHUP },
};

static int
add_poll (int fd, int events, void *opaque)
{
  if (net.n_pfds == MAX_POLL)
    return -1; /* that socket waits for a later turn */
  short ev = 0;
  for (size_t i = 0; i < sizeof poll_events / sizeof poll_events[0]; i++)
    if (events & poll_events[i].slirp)
      ev |= poll_events[i].poll;
  net.pfds[net.n_pfds] = (struct pollfd){ .fd = fd, .events = ev };
  return net.n_pfds++;
}

static int
get_revents (int idx, void *opaque)
{
  if (idx < 0 || idx >= net.n_pfds)
    return 0;
  int ev = 0;
  for (size_t i = 0; i < sizeof poll_events / sizeof poll_events[0]; i++)
    if (net.pfds[idx].revents & poll_events[i].poll)
      ev |= poll_events[i].slirp;
  return ev;
}

/* Hands every whole frame QEMU sent to slirp; a length past MAX_FRAME
 * means the stream is not what QEMU writes: end. */
static void
read_frames (void)
{
  ssize_t n = read (net.fd, net.in + net.in_len, sizeof net.in - net.in_len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    exit (0); /* QEMU closed its end: the sandbox is gone */
  net.in_len += (size_t) n;
  size_t at = 0;
  while (net.in_len - at >= 4)
    {
      uint32_t be;
      memcpy (&be, net.in + at, 4);
      uint32_t len = ntohl (be);
      if (len > MAX_FRAME)
        die ("a frame longer than 64 KiB on QEMU's socket");
      if (net.in_len - at < 4 + len)
        break;
      slirp_input (net.slirp, net.in + at + 4, (int) len);
      at += 4 + len;
    }
  memmove (net.in, net.in + at, net.in_len - at);
  net.in_len -= at;
}

static void
run_timers (void)
{
  int64_t ms = now_ns () / 1000000;
  for (int i = 0; i < MAX_TIMERS; i++)
    if (net.timers[i].used && net.timers[i].expire_ms >= 0 && net.timers[i].expire_ms <= ms)
      {
        net.timers[i].expire_ms = -1;
        net.timers[i].cb (net.timers[i].cb_opaque);
      }
}

static uint32_t
next_timer_ms (uint32_t timeout)
{
  int64_t ms = now_ns () / 1000000;
  for (int i = 0; i < MAX_TIMERS; i++)
    if (net.timers[i].used && net.timers[i].expire_ms >= 0)
      {
        int64_t left = net.timers[i].expire_ms - ms;
        if (left < 0)
          left = 0;
        if ((uint64_t) left < timeout)
          timeout = (uint32_t) left;
      }
  return timeout;
}

static struct in_addr
addr_arg (const char *s, const char *what)
{
  struct in_addr a;
  if (inet_pton (AF_INET, s, &a) != 1)
    {
      fprintf (stderr, "sandbox-slirp: %s: not an IPv4 address: %s\n", what, s);
      exit (2);
    }
  return a;
}

/* HOST_IP:HOST_PORT:GUEST_PORT */
static void
add_port (int udp, const char *spec, struct in_addr guest)
{
  char ip[64];
  unsigned host_port, guest_port;
  if (sscanf (spec, "%63[^:]:%u:%u", ip, &host_port, &guest_port) != 3 || host_port > 65535
      || guest_port > 65535)
    {
      fprintf (stderr, "sandbox-slirp: bad port: %s\n", spec);
      exit (2);
    }
  if (slirp_add_hostfwd (net.slirp, udp, addr_arg (ip, "host address"), (int) host_port, guest,
                         (int) guest_port)
      < 0)
    {
      fprintf (stderr, "sandbox-slirp: cannot publish %s/%s: %s\n", spec, udp ? "udp" : "tcp",
               strerror (errno));
      exit (1);
    }
}

/* Every line of @fd, to its end: "tcp|udp SPEC". */
static void
add_ports (int fd, struct in_addr guest)
{
  FILE *f = fdopen (fd, "r");
  char line[128], proto[8], spec[100];
  int n = 0;
  if (f == NULL)
    die ("--ports-fd is not open");
  while (fgets (line, sizeof line, f))
    {
      if (sscanf (line, "%7s %99s", proto, spec) != 2
          || (strcmp (proto, "tcp") != 0 && strcmp (proto, "udp") != 0) || ++n > MAX_PORTS)
        {
          fprintf (stderr, "sandbox-slirp: bad port line (or over %d): %s", MAX_PORTS, line);
          exit (2);
        }
      add_port (proto[0] == 'u', spec, guest);
    }
  fclose (f);
}

int
main (int argc, char **argv)
{
  const char *address = NULL, *gateway = NULL;
  int fd = -1, prefix = 24, mtu = 1500;
  int ports_fd = -1;
  for (int i = 1; i < argc; i++)
    {
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
      if (v == NULL)
        die ("usage: --fd N --address A --prefix P --gateway G --mtu M [--ports-fd N]");
      if (strcmp (argv[i], "--fd") == 0)
        fd = atoi (v);
      else if (strcmp (argv[i], "--address") == 0)
        address = v;
      else if (strcmp (argv[i], "--prefix") == 0)
        prefix = atoi (v);
      else if (strcmp (argv[i], "--gateway") == 0)
        gateway = v;
      else if (strcmp (argv[i], "--mtu") == 0)
        mtu = atoi (v);
      else if (strcmp (argv[i], "--ports-fd") == 0)
        ports_fd = atoi (v);
      else
        die ("unknown option (see the usage at the top of sandbox-slirp.c)");
      i++;
    }
  if (fd < 0 || address == NULL || gateway == NULL || prefix < 8 || prefix > 30 || mtu < 576
      || mtu > 65520)
    die ("--fd, --address and --gateway are needed; --prefix 8-30, --mtu 576-65520");
  signal (SIGPIPE, SIG_IGN);
  net.fd = fd;
  struct in_addr guest = addr_arg (address, "--address");
  struct in_addr gw = addr_arg (gateway, "--gateway");
  struct in_addr mask = { htonl (prefix ? 0xffffffffu << (32 - prefix) : 0) };
  SlirpConfig cfg = {
    .version = 4,
    .in_enabled = true,
    .vnetwork = { guest.s_addr & mask.s_addr },
    .vnetmask = mask,
    .vhost = gw,
    .vdhcp_start = guest,
    .vnameserver = gw,
    .if_mtu = (size_t) mtu,
    .if_mru = (size_t) mtu,
    .disable_host_loopback = true,
    .disable_dns = true,
    .disable_dhcp = true,
  };
  static const SlirpCb callbacks = {
    .send_packet = send_packet,
    .guest_error = guest_error,
    .clock_get_ns = clock_get_ns,
    .timer_new = timer_new,
    .timer_free = timer_free,
    .timer_mod = timer_mod,
    .register_poll_fd = register_poll_fd,
    .unregister_poll_fd = unregister_poll_fd,
    .notify = notify,
  };
  net.slirp = slirp_new (&cfg, &callbacks, NULL);
  if (net.slirp == NULL)
    die ("slirp_new failed");
  if (ports_fd >= 0)
    add_ports (ports_fd, guest);
  /* Set up: from here on only what its loop needs (slirp-seccomp.c). */
  if (slirp_seccomp_install () < 0)
    exit (1);
  for (;;)
    {
      uint32_t timeout = 1000;
      net.n_pfds = 0;
      add_poll (net.fd, SLIRP_POLL_IN, NULL); /* index 0: QEMU */
      slirp_pollfds_fill (net.slirp, &timeout, add_poll, NULL);
      timeout = next_timer_ms (timeout);
      int r = poll (net.pfds, (nfds_t) net.n_pfds, (int) timeout);
      if (r < 0 && errno != EINTR)
        die ("poll failed");
      if (r > 0 && (net.pfds[0].revents & (POLLIN | POLLHUP | POLLERR)))
        read_frames ();
      slirp_pollfds_poll (net.slirp, r < 0, get_revents, NULL);
      run_timers ();
    }
}
