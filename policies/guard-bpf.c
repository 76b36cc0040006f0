/* guard-bpf.c — the network guard's BPF side: two longest-prefix-match
 * maps (IPv4, IPv6) of denied addresses, and the programs on the connect
 * and sendmsg hooks that look each destination up and refuse a match with
 * EPERM. cgroup-guard.c attaches them.
 *
 * What the maps hold:
 *   always   0/8, 127/8, 169.254/16 (link-local: cloud metadata),
 *            224/4 (multicast), 255.255.255.255; ::, ::1, fe80::/10, ff00::/8
 *   the admin's list (sandboxd --net-deny CIDR)
 *   every address the host has now (getifaddrs), kept current by whoever
 *            calls guard_sync_host when addresses change (the daemon's
 *            netlink watch): a guest must not reach a service of the
 *            host's through any address the host owns (bound to 0.0.0.0,
 *            delivered over lo, past firewall rules for external
 *            interfaces)
 * Each IPv4 entry is also in the IPv6 map as its v4-mapped form
 * (::ffff:0:0/96).
 *
 * Programs and maps are made once per manager; programs already attached
 * keep theirs (the kernel holds them) until attached again (a restarted
 * sandboxd re-attaches the guards it finds: cgroup_guard_reattach). The
 * programs are bytecode written here: no compiler, no libbpf. */
#include "cgroup-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <ifaddrs.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GUARD_MAX_ENTRIES 16384

/* struct bpf_insn initialisers (the kernel's filter.h macros are not UAPI). */
#define INSN(C, D, S, O, I)                                                                        \
  {                                                                                                \
    .code = (C), .dst_reg = (D), .src_reg = (S), .off = (O), .imm = (I)                            \
  }
#define LDXW(D, S, O) INSN (BPF_LDX | BPF_MEM | BPF_W, D, S, O, 0)
#define STXW(D, S, O) INSN (BPF_STX | BPF_MEM | BPF_W, D, S, O, 0)
#define STW(D, O, K) INSN (BPF_ST | BPF_MEM | BPF_W, D, 0, O, K)
#define MOV(D, K) INSN (BPF_ALU64 | BPF_MOV | BPF_K, D, 0, 0, K)
#define MOVX(D, S) INSN (BPF_ALU64 | BPF_MOV | BPF_X, D, S, 0, 0)
#define ADD(D, K) INSN (BPF_ALU64 | BPF_ADD | BPF_K, D, 0, 0, K)
#define JNE(D, K, O) INSN (BPF_JMP | BPF_JNE | BPF_K, D, 0, O, K)
#define CALL(F) INSN (BPF_JMP | BPF_CALL, 0, 0, 0, F)
#define EXIT() INSN (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* r1 = the map (two instructions; the fd is filled in at load). */
#define LD_MAP(D) INSN (BPF_LD | BPF_DW | BPF_IMM, D, BPF_PSEUDO_MAP_FD, 0, 0), INSN (0, 0, 0, 0, 0)

#define IP4 offsetof (struct bpf_sock_addr, user_ip4)
#define IP6(i) (offsetof (struct bpf_sock_addr, user_ip6) + 4 * (i))

/* The key {prefixlen, address} on the stack at fp-8 (fp-20 for IPv6),
 * then: found -> deny (0, EPERM), else allow (1). */
static const struct bpf_insn guard4[] = {
  LDXW (2, 1, IP4),
  STXW (10, 2, -4),
  STW (10, -8, 32),
  LD_MAP (1),
  MOVX (2, 10),
  ADD (2, -8),
  CALL (BPF_FUNC_map_lookup_elem),
  JNE (0, 0, 2),
  MOV (0, 1),
  EXIT (),
  MOV (0, 0),
  EXIT (),
};
#define GUARD4_MAP 3

static const struct bpf_insn guard6[] = {
  LDXW (2, 1, IP6 (0)),
  STXW (10, 2, -16),
  LDXW (2, 1, IP6 (1)),
  STXW (10, 2, -12),
  LDXW (2, 1, IP6 (2)),
  STXW (10, 2, -8),
  LDXW (2, 1, IP6 (3)),
  STXW (10, 2, -4),
  STW (10, -20, 128),
  LD_MAP (1),
  MOVX (2, 10),
  ADD (2, -20),
  CALL (BPF_FUNC_map_lookup_elem),
  JNE (0, 0, 2),
  MOV (0, 1),
  EXIT (),
  MOV (0, 0),
  EXIT (),
};
#define GUARD6_MAP 9

static const struct
{
  enum bpf_attach_type type;
  const char *name;
  gboolean v6;
} hooks[GUARD_HOOKS] = {
  { BPF_CGROUP_INET4_CONNECT, "connect4", FALSE },
  { BPF_CGROUP_INET6_CONNECT, "connect6", TRUE },
  { BPF_CGROUP_UDP4_SENDMSG, "sendmsg4", FALSE },
  { BPF_CGROUP_UDP6_SENDMSG, "sendmsg6", TRUE },
};

static const char *const always_denied[] = {
  "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32",
  "::/128",    "::1/128",     "fe80::/10",      "ff00::/8",
};

struct Guard
{
  int map4, map6;
  int progs[GUARD_HOOKS];
  GHashTable *fixed; /* CIDR text: always denied, and the admin's */
  GHashTable *host;  /* CIDR text: the host's addresses at the last sync */
};

static long
bpf (int cmd, union bpf_attr *attr)
{
  return syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

static gboolean
fail (GError **error, int e, const char *what, const char *detail)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "network guard: %s: %s%s%s", what,
               g_strerror (e), detail && *detail ? ": " : "", detail ? detail : "");
  return FALSE;
}

/* "A/N" (or "A": one address) as the maps' key: prefix length and 16
 * address bytes; *v6 tells which map. */
typedef struct
{
  guint32 prefixlen;
  guint8 addr[16];
} Key;

static gboolean
parse_cidr (const char *text, Key *key, gboolean *v6)
{
  g_autofree char *addr = g_strdup (text);
  char *slash = strchr (addr, '/');
  guint64 bits = 0;
  if (slash)
    *slash++ = '\0';
  *v6 = strchr (addr, ':') != NULL;
  guint max = *v6 ? 128 : 32;
  memset (key, 0, sizeof *key);
  if (inet_pton (*v6 ? AF_INET6 : AF_INET, addr, key->addr) != 1)
    return FALSE;
  if (slash && (!g_ascii_string_to_unsigned (slash, 10, 0, max, &bits, NULL)))
    return FALSE;
  key->prefixlen = slash ? (guint32) bits : max;
  return TRUE;
}

/* "A/N" as inet_ntop writes A, N always there: one text per key. */
static char *
canonical (const char *text)
{
  Key key;
  gboolean v6;
  char addr[INET6_ADDRSTRLEN];
  if (!parse_cidr (text, &key, &v6)
      || !inet_ntop (v6 ? AF_INET6 : AF_INET, key.addr, addr, sizeof addr))
    return NULL;
  return g_strdup_printf ("%s/%u", addr, key.prefixlen);
}

/* Adds (@add) or removes @text in its map, and its v4-mapped form. */
static gboolean
update (Guard *g, const char *text, gboolean add, GError **error)
{
  Key key;
  gboolean v6;
  if (!parse_cidr (text, &key, &v6))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "network guard: \"%s\" is not an address or ADDRESS/PREFIX", text);
      return FALSE;
    }
  guint8 value = 1;
  for (int pass = 0; pass < (v6 ? 1 : 2); pass++)
    {
      Key k = key;
      if (pass == 1) /* ::ffff:A.B.C.D/96+N */
        {
          memset (k.addr, 0, sizeof k.addr);
          k.addr[10] = k.addr[11] = 0xff;
          memcpy (k.addr + 12, key.addr, 4);
          k.prefixlen = key.prefixlen + 96;
        }
      gboolean six = v6 || pass == 1;
      union bpf_attr a = { 0 };
      a.map_fd = (guint32) (six ? g->map6 : g->map4);
      a.key = (guint64) (guintptr) &k;
      if (add) /* a deletion takes nothing past the key */
        {
          a.value = (guint64) (guintptr) &value;
          a.flags = BPF_ANY;
        }
      if (bpf (add ? BPF_MAP_UPDATE_ELEM : BPF_MAP_DELETE_ELEM, &a) < 0 && (add || errno != ENOENT))
        return fail (error, errno, add ? "add an address" : "remove an address", text);
    }
  return TRUE;
}

static int
make_map (guint32 key_size, GError **error)
{
  union bpf_attr a = { 0 };
  a.map_type = BPF_MAP_TYPE_LPM_TRIE;
  a.key_size = key_size;
  a.value_size = 1;
  a.max_entries = GUARD_MAX_ENTRIES;
  a.map_flags = BPF_F_NO_PREALLOC;
  int fd = (int) bpf (BPF_MAP_CREATE, &a);
  if (fd < 0)
    fail (error, errno, "create a map", NULL);
  return fd;
}

static int
load_prog (const Guard *g, gsize hook, GError **error)
{
  gboolean v6 = hooks[hook].v6;
  struct bpf_insn insns[G_N_ELEMENTS (guard6)];
  gsize n = v6 ? G_N_ELEMENTS (guard6) : G_N_ELEMENTS (guard4);
  memcpy (insns, v6 ? guard6 : guard4, n * sizeof insns[0]);
  insns[v6 ? GUARD6_MAP : GUARD4_MAP].imm = v6 ? g->map6 : g->map4;
  char log[4096] = "";
  union bpf_attr load = { 0 };
  load.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
  load.expected_attach_type = hooks[hook].type;
  load.insns = (guint64) (guintptr) insns;
  load.insn_cnt = (guint32) n;
  load.license = (guint64) (guintptr) "GPL";
  int prog = (int) bpf (BPF_PROG_LOAD, &load);
  if (prog < 0)
    {
      /* Again with the verifier's log, to say why. */
      load.log_buf = (guint64) (guintptr) log;
      load.log_size = sizeof log;
      load.log_level = 1;
      prog = (int) bpf (BPF_PROG_LOAD, &load);
    }
  if (prog < 0)
    {
      g_autofree char *what = g_strdup_printf ("load the %s program", hooks[hook].name);
      fail (error, errno, what, log);
    }
  return prog;
}

void
guard_free (Guard *g)
{
  if (g == NULL)
    return;
  for (int i = 0; i < GUARD_HOOKS; i++)
    if (g->progs[i] >= 0)
      close (g->progs[i]);
  if (g->map4 >= 0)
    close (g->map4);
  if (g->map6 >= 0)
    close (g->map6);
  g_hash_table_unref (g->fixed);
  g_hash_table_unref (g->host);
  g_free (g);
}

Guard *
guard_new (GError **error)
{
  Guard *g = g_new0 (Guard, 1);
  g->fixed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g->host = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < GUARD_HOOKS; i++)
    g->progs[i] = -1;
  g->map6 = -1;
  gboolean ok = (g->map4 = make_map (sizeof (guint32) + 4, error)) >= 0
                && (g->map6 = make_map (sizeof (Key), error)) >= 0;
  for (int i = 0; ok && i < GUARD_HOOKS; i++)
    ok = (g->progs[i] = load_prog (g, (gsize) i, error)) >= 0;
  for (gsize i = 0; ok && i < G_N_ELEMENTS (always_denied); i++)
    ok = guard_deny (g, always_denied[i], error);
  if (ok)
    ok = guard_sync_host (g, NULL, error);
  if (!ok)
    g_clear_pointer (&g, guard_free);
  return g;
}

gboolean
guard_deny (Guard *g, const char *cidr, GError **error)
{
  char *text = canonical (cidr);
  if (text == NULL || !update (g, text, TRUE, error))
    {
      if (text == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "network guard: \"%s\" is not an address or ADDRESS/PREFIX", cidr);
      g_free (text);
      return FALSE;
    }
  g_hash_table_add (g->fixed, text);
  return TRUE;
}

gboolean
guard_cidr_valid (const char *cidr)
{
  g_autofree char *text = canonical (cidr);
  return text != NULL;
}

gboolean
guard_sync_host (Guard *g, guint *count, GError **error)
{
  struct ifaddrs *list = NULL;
  if (getifaddrs (&list) < 0)
    return fail (error, errno, "list the host's addresses", NULL);
  g_autoptr (GHashTable) now = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (struct ifaddrs *i = list; i; i = i->ifa_next)
    {
      char text[INET6_ADDRSTRLEN] = "";
      if (i->ifa_addr == NULL)
        continue;
      gboolean v6 = i->ifa_addr->sa_family == AF_INET6;
      if (i->ifa_addr->sa_family == AF_INET)
        inet_ntop (AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, text, sizeof text);
      else if (v6)
        inet_ntop (AF_INET6, &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, text, sizeof text);
      if (*text)
        g_hash_table_add (now, g_strdup_printf ("%s/%u", text, v6 ? 128 : 32));
    }
  freeifaddrs (list);
  /* Gone ones first (unless also the admin's), then the new ones. */
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, g->host);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (now, key))
      {
        if (!g_hash_table_contains (g->fixed, key) && !update (g, key, FALSE, error))
          return FALSE;
        g_hash_table_iter_remove (&it);
      }
  g_hash_table_iter_init (&it, now);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (g->host, key))
      {
        if (!update (g, key, TRUE, error))
          return FALSE;
        g_hash_table_add (g->host, g_strdup (key));
      }
  if (count)
    *count = g_hash_table_size (g->host);
  return TRUE;
}

gboolean
guard_attach (Guard *g, int cgroup_fd, const char *dir, GError **error)
{
  for (int i = 0; i < GUARD_HOOKS; i++)
    {
      /* Without BPF_F_ALLOW_MULTI: attaching again replaces it. */
      union bpf_attr attach = { 0 };
      attach.target_fd = (guint32) cgroup_fd;
      attach.attach_bpf_fd = (guint32) g->progs[i];
      attach.attach_type = hooks[i].type;
      if (bpf (BPF_PROG_ATTACH, &attach) < 0)
        {
          g_autofree char *what
              = g_strdup_printf ("attach the %s program to %s", hooks[i].name, dir);
          return fail (error, errno, what, NULL);
        }
    }
  return TRUE;
}
