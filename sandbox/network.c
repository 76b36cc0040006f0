/* network.c — a sandbox's network settings: parsed from a request, kept in
 * state.json, shown by inspect, and told to the guest (network.h). */
#include "network.h"

#include "json-fields.h"
#include "sandbox.h"

#include <arpa/inet.h>
#include <string.h>

/* The user-mode network, as every guest sees it (each in a network of its
 * own). The helper (sandbox-slirp) never maps the gateway to the host's
 * loopback (libslirp's disable_host_loopback), and its cgroup guard refuses
 * loopback anyway: the gateway leads nowhere. */
#define USER_ADDRESS "10.0.2.15"
#define USER_PREFIX 24
#define USER_GATEWAY "10.0.2.2"
/* libslirp's largest (65521): big frames, few trips through QEMU. */
#define USER_MTU 65520

gboolean
network_error (GError **error, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, SANDBOX_ERROR, code, msg);
  return FALSE;
}

#define invalid(error, ...) network_error (error, SANDBOX_ERROR_INVALID, __VA_ARGS__)

static gboolean
parse_port_number (const char *text, guint *port)
{
  guint64 v;
  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &v, NULL))
    return FALSE;
  *port = (guint) v;
  return TRUE;
}

/* [HOST_IP:]HOST_PORT:GUEST_PORT[/tcp|/udp] */
static gboolean
parse_port (const char *spec, NetworkPort *p, GError **error)
{
  g_autofree char *copy = g_strdup (spec);
  char *proto = strchr (copy, '/');
  if (proto)
    {
      *proto++ = '\0';
      if (!g_str_equal (proto, "tcp") && !g_str_equal (proto, "udp"))
        return invalid (error, "port \"%s\": the protocol must be tcp or udp, not \"%s\"", spec,
                        proto);
      p->udp = g_str_equal (proto, "udp");
    }
  g_auto (GStrv) parts = g_strsplit (copy, ":", -1);
  guint n = g_strv_length (parts);
  if (n != 2 && n != 3)
    return invalid (error, "port \"%s\" is not [HOST_IP:]HOST_PORT:GUEST_PORT[/tcp|/udp]", spec);
  if (n == 3)
    {
      struct in_addr a;
      if (inet_pton (AF_INET, parts[0], &a) != 1)
        return invalid (error, "port \"%s\": \"%s\" is not an IPv4 address", spec, parts[0]);
      p->host_ip = g_strdup (parts[0]);
    }
  if (!parse_port_number (parts[n - 2], &p->host_port))
    return invalid (error, "port \"%s\": host port \"%s\" is not a number from 1 to 65535", spec,
                    parts[n - 2]);
  if (!parse_port_number (parts[n - 1], &p->guest_port))
    return invalid (error, "port \"%s\": guest port \"%s\" is not a number from 1 to 65535", spec,
                    parts[n - 1]);
  /* The helper runs unprivileged (its own uid): it cannot bind these. */
  if (p->host_port < 1024)
    return invalid (error,
                    "port \"%s\": host port %u is privileged (below 1024); the network helper "
                    "runs as an unprivileged user: publish on 1024 or above",
                    spec, p->host_port);
  return TRUE;
}

static void
port_clear (gpointer data)
{
  NetworkPort *p = data;
  g_free (p->host_ip);
}

static Network *
network_alloc (NetworkMode mode)
{
  Network *net = g_new0 (Network, 1);
  net->mode = mode;
  net->ports = g_array_new (FALSE, TRUE, sizeof (NetworkPort));
  g_array_set_clear_func (net->ports, port_clear);
  return net;
}

void
network_free (Network *net)
{
  if (net == NULL)
    return;
  g_clear_handle_id (&net->helper_watch, g_source_remove);
  g_free (net->ns_path);
  g_array_unref (net->ports);
  g_free (net->address);
  g_free (net->gateway);
  g_free (net->mac);
  g_free (net->dns);
  g_free (net->tap);
  g_free (net->ifname);
  g_free (net);
}

/* The host's resolvers the guest can use: not loopback ones (a local caching
 * resolver is out of its reach). */
static char *
host_resolvers (void)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents ("/etc/resolv.conf", &text, NULL, NULL))
    return NULL;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l && found->len < 3; l++)
    {
      g_auto (GStrv) w = g_strsplit_set (g_strstrip (*l), " \t", -1);
      struct in_addr a;
      if (g_strv_length (w) >= 2 && g_str_equal (w[0], "nameserver")
          && inet_pton (AF_INET, w[1], &a) == 1 && (ntohl (a.s_addr) >> 24) != 127)
        g_ptr_array_add (found, g_strdup (w[1]));
    }
  if (found->len == 0)
    return NULL;
  g_ptr_array_add (found, NULL);
  return g_strjoinv (",", (char **) found->pdata);
}

Network *
network_new (const char *mode, const char *const *ports, GError **error)
{
  gboolean has_ports = ports && ports[0];
  NetworkMode m;
  if (mode == NULL || *mode == '\0')
    m = has_ports ? NETWORK_USER : NETWORK_NONE;
  else if (g_str_equal (mode, "none"))
    m = NETWORK_NONE;
  else if (g_str_equal (mode, "user"))
    m = NETWORK_USER;
  else if (g_str_has_prefix (mode, "ns:") && mode[3] == '/')
    m = NETWORK_NS;
  else
    {
      invalid (error, "network \"%s\" is not none, user or ns:PATH (an absolute path)", mode);
      return NULL;
    }
  if (has_ports && m != NETWORK_USER)
    {
      invalid (error, "ports are published by the user network only, not by network %s", mode);
      return NULL;
    }
  if (m == NETWORK_NONE)
    return NULL;
  g_autoptr (Network) net = network_alloc (m);
  for (guint i = 0; ports && ports[i]; i++)
    {
      NetworkPort p = { 0 };
      if (!parse_port (ports[i], &p, error))
        {
          port_clear (&p);
          return NULL;
        }
      for (guint j = 0; j < net->ports->len; j++)
        {
          NetworkPort *q = &g_array_index (net->ports, NetworkPort, j);
          if (q->host_port == p.host_port && q->udp == p.udp)
            {
              port_clear (&p);
              invalid (error, "host port %u/%s is published twice", q->host_port,
                       q->udp ? "udp" : "tcp");
              return NULL;
            }
        }
      g_array_append_val (net->ports, p);
    }
  if (m == NETWORK_NS)
    net->ns_path = g_strdup (mode + 3);
  else
    {
      net->address = g_strdup (USER_ADDRESS);
      net->prefix = USER_PREFIX;
      net->gateway = g_strdup (USER_GATEWAY);
      net->mtu = USER_MTU;
      net->mac = g_strdup ("52:54:00:12:34:56");
      net->dns = host_resolvers ();
    }
  return g_steal_pointer (&net);
}

static const char *
mode_name (NetworkMode m)
{
  return m == NETWORK_USER ? "user" : m == NETWORK_NS ? "ns" : "none";
}

JsonObject *
network_to_json (const Network *net)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "mode", mode_name (net->mode));
  if (net->ns_path)
    json_object_set_string_member (o, "netns", net->ns_path);
  if (net->address)
    {
      g_autofree char *cidr = g_strdup_printf ("%s/%u", net->address, net->prefix);
      json_object_set_string_member (o, "address", cidr);
    }
  if (net->gateway)
    json_object_set_string_member (o, "gateway", net->gateway);
  if (net->mtu)
    json_object_set_int_member (o, "mtu", net->mtu);
  if (net->mac)
    json_object_set_string_member (o, "mac", net->mac);
  if (net->dns)
    json_object_set_string_member (o, "dns", net->dns);
  JsonArray *ports = json_array_new ();
  for (guint i = 0; i < net->ports->len; i++)
    {
      NetworkPort *p = &g_array_index (net->ports, NetworkPort, i);
      JsonObject *po = json_object_new ();
      json_object_set_string_member (po, "host_ip", p->host_ip ? p->host_ip : "0.0.0.0");
      json_object_set_int_member (po, "host_port", p->host_port);
      json_object_set_int_member (po, "guest_port", p->guest_port);
      json_object_set_string_member (po, "protocol", p->udp ? "udp" : "tcp");
      json_array_add_object_element (ports, po);
    }
  json_object_set_array_member (o, "ports", ports);
  if (net->helper_pid > 0)
    {
      json_object_set_int_member (o, "helper_pid", net->helper_pid);
      json_object_set_int_member (o, "helper_start_time", (gint64) net->helper_start_time);
    }
  if (net->helper_uid)
    json_object_set_int_member (o, "helper_uid", net->helper_uid);
  if (net->tap)
    json_object_set_string_member (o, "tap", net->tap);
  if (net->ifname)
    json_object_set_string_member (o, "interface", net->ifname);
  return o;
}

Network *
network_from_json (JsonObject *o, GError **error)
{
  const char *mode = NULL, *ns = NULL, *address = NULL, *gateway = NULL, *mac = NULL, *dns = NULL,
             *tap = NULL, *ifname = NULL;
  gint64 mtu = 0, pid = 0, start = 0, uid = 0;
  JsonArray *ports = NULL;
  if (!json_field_string (o, "mode", TRUE, &mode, error)
      || !json_field_string (o, "netns", FALSE, &ns, error)
      || !json_field_string (o, "address", FALSE, &address, error)
      || !json_field_string (o, "gateway", FALSE, &gateway, error)
      || !json_field_string (o, "mac", FALSE, &mac, error)
      || !json_field_string (o, "dns", FALSE, &dns, error)
      || !json_field_string (o, "tap", FALSE, &tap, error)
      || !json_field_string (o, "interface", FALSE, &ifname, error)
      || !json_field_int (o, "mtu", FALSE, 0, 65535, &mtu, error)
      || !json_field_int (o, "helper_pid", FALSE, 0, G_MAXINT32, &pid, error)
      || !json_field_int (o, "helper_start_time", FALSE, 0, G_MAXINT64, &start, error)
      || !json_field_int (o, "helper_uid", FALSE, 0, G_MAXINT32, &uid, error))
    return NULL;
  NetworkMode m = g_str_equal (mode, "user") ? NETWORK_USER
                  : g_str_equal (mode, "ns") ? NETWORK_NS
                                             : NETWORK_NONE;
  JsonNode *pn = json_object_get_member (o, "ports");
  if (m == NETWORK_NONE || (pn && !JSON_NODE_HOLDS_ARRAY (pn)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "network: bad mode or ports");
      return NULL;
    }
  ports = pn ? json_node_get_array (pn) : NULL;
  g_autoptr (Network) net = network_alloc (m);
  for (guint i = 0; ports && i < json_array_get_length (ports); i++)
    {
      JsonObject *po = json_array_get_object_element (ports, i);
      const char *ip = NULL, *proto = NULL;
      gint64 hp = 0, gp = 0;
      if (po == NULL || !json_field_string (po, "host_ip", TRUE, &ip, error)
          || !json_field_string (po, "protocol", TRUE, &proto, error)
          || !json_field_int (po, "host_port", TRUE, 1, 65535, &hp, error)
          || !json_field_int (po, "guest_port", TRUE, 1, 65535, &gp, error))
        {
          if (error && *error == NULL)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "network: bad port");
          return NULL;
        }
      NetworkPort p = { g_str_equal (ip, "0.0.0.0") ? NULL : g_strdup (ip), (guint) hp, (guint) gp,
                        g_str_equal (proto, "udp") };
      g_array_append_val (net->ports, p);
    }
  net->ns_path = g_strdup (ns);
  if (address)
    {
      const char *slash = strchr (address, '/');
      net->address = slash ? g_strndup (address, slash - address) : g_strdup (address);
      net->prefix = slash ? (guint) g_ascii_strtoull (slash + 1, NULL, 10) : 32;
    }
  net->gateway = g_strdup (gateway);
  net->mac = g_strdup (mac);
  net->dns = g_strdup (dns);
  net->tap = g_strdup (tap);
  net->ifname = g_strdup (ifname);
  net->mtu = (guint) mtu;
  net->helper_pid = (GPid) pid;
  net->helper_start_time = (guint64) start;
  net->helper_uid = (guint) uid;
  return g_steal_pointer (&net);
}

char *
network_kernel_args (const Network *net)
{
  GString *s = g_string_new (NULL);
  if (net->address)
    g_string_append_printf (s, " sandboxd.net=%s/%u,%s,%u", net->address, net->prefix,
                            net->gateway ? net->gateway : "0.0.0.0", net->mtu ? net->mtu : 1500);
  if (net->dns)
    g_string_append_printf (s, " sandboxd.dns=%s", net->dns);
  return g_string_free (s, FALSE);
}
