/* network.h — a sandbox's network: its mode, published ports, the guest's
 * addresses, and the helper that carries its traffic.
 *
 *   none      no NIC (the default)
 *   user      sandbox-slirp (libslirp), a user-mode stack outside QEMU's jail,
 *             on a socketpair
 *             (QEMU: -netdev stream on an inherited fd); outbound NAT and
 *             published ports; the helper is confined (its own uid, no new
 *             privileges, the sandbox's cgroup under the network guard)
 *   ns:PATH   a tap device in an existing network namespace, its traffic
 *             redirected to and from the namespace's interface with tc
 *             (the way Kata attaches to CNI); the guest takes that
 *             interface's MAC, address, route and MTU
 * network.c parses and persists; network-user.c and network-ns.c attach. */
#pragma once

#include "policy.h"

#include <glib.h>
#include <json-glib/json-glib.h>

typedef enum
{
  NETWORK_NONE,
  NETWORK_USER,
  NETWORK_NS,
} NetworkMode;

typedef struct
{
  char *host_ip; /* NULL: every address */
  guint host_port;
  guint guest_port;
  gboolean udp;
} NetworkPort;

typedef struct
{
  NetworkMode mode;
  char *ns_path; /* ns: */
  GArray *ports; /* NetworkPort: -p, user mode */
  /* The guest's eth0. */
  char *address; /* IPv4 */
  guint prefix;
  char *gateway;
  guint mtu;
  char *mac;
  char *dns; /* comma-separated IPv4 resolvers, or NULL */
  /* The user-mode helper while it runs (our child, or found again). */
  GPid helper_pid;
  guint64 helper_start_time;
  guint helper_uid;
  guint helper_watch;
  char *tap;    /* ns: the tap's name in the namespace */
  char *ifname; /* ns: the namespace's interface it is redirected to */
} Network;

/* Sets @error in SANDBOX_ERROR with @code (a SandboxError); FALSE. */
gboolean network_error (GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* @mode: "none" (NULL: none, or user when there are ports), "user" or
 * "ns:PATH"; @ports: docker's -p, [HOST_IP:]HOST_PORT:GUEST_PORT[/tcp|/udp].
 * NULL for no network. An error names the bad part. */
Network *network_new (const char *mode, const char *const *ports, GError **error);
void network_free (Network *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Network, network_free)

/* For inspect and state.json; network_from_json reads it back. */
JsonObject *network_to_json (const Network *net);
Network *network_from_json (JsonObject *o, GError **error);

/* The guest's kernel arguments: sandboxd.net=... and sandboxd.dns=... */
char *network_kernel_args (const Network *net);

/* The helper's log, in the sandbox's directory. */
#define NETWORK_LOG "network.log"

/* What starting the helper needs of the sandbox. */
typedef struct
{
  const char *helper;     /* the binary (sandbox-slirp) */
  const char *root;       /* an empty directory to be its private root */
  const char *log_path;   /* its stdout and stderr */
  CgroupManager *cgroups; /* required: sandbox_new refuses a user network without */
  const char *cgroup;     /* the sandbox's cgroup name (its id) */
  guint uid;              /* the helper's own uid (a policy range's) and gid */
  guint gid;
} NetworkHelperSpec;

/* network-user.c. Every published host port is free: else the error
 * names the first that is not. */
gboolean network_check_ports (const Network *net, GError **error);
/* Checks that every published host port is free (the
 * error names the first that is not), then makes the socketpair: returns
 * QEMU's end (the helper's in *helper_fd), or -1. */
int network_user_prepare (Network *net, int *helper_fd, GError **error);
/* Starts the helper (sandbox-slirp) on @helper_fd, confined; net->helper_pid. */
gboolean network_user_start (Network *net, const NetworkHelperSpec *spec, int helper_fd,
                             GError **error);
/* Ends the helper (if it is still the process we started). */
void network_stop (Network *net);

/* network-ns.c. The path exists and is a network namespace. */
gboolean network_ns_check (const Network *net, GError **error);
/* Creates the tap in the namespace, redirects its traffic,
 * reads the interface's settings into @net: returns the tap's fd. */
int network_ns_prepare (Network *net, const char *sandbox_id, GError **error);
/* Removes the redirect and the tap. */
void network_ns_release (Network *net);
