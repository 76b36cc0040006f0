/* cgroup-guard.c — a cgroup whose processes cannot reach the host's own
 * loopback: BPF programs on its connect and sendmsg hooks (IPv4 and IPv6)
 * refuse 127.0.0.0/8, 0.0.0.0/8, ::1, :: and their v4-mapped forms with
 * EPERM. A sandbox's network helper (sandbox-slirp) runs in one: it opens host
 * sockets for whatever a guest sends, and a guest that crafts a frame for
 * 127.0.0.1 would otherwise reach services bound to loopback.
 *
 * The programs are a dozen instructions each, written here as bytecode (no
 * compiler, no libbpf). They stay attached as long as the cgroup exists,
 * across a sandboxd restart. Hooks exist on cgroup v2 only: on a v1 host the
 * guarded process also joins a cgroup of the same name in a cgroup2
 * hierarchy (one that is mounted, else one mounted at ROOT/unified, where
 * systemd's hybrid mode puts it).
 */
#include "cgroup-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNIFIED "unified"

/* struct bpf_insn initialisers (the kernel's filter.h macros are not UAPI). */
#define LDXW(D, S, O)                                                                              \
  {                                                                                                \
    .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = D, .src_reg = S, .off = O                        \
  }
#define JEQ(D, K, O)                                                                               \
  {                                                                                                \
    .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = D, .off = O, .imm = K                            \
  }
#define JNE(D, K, O)                                                                               \
  {                                                                                                \
    .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = D, .off = O, .imm = K                            \
  }
#define JNE_REG(D, S, O)                                                                           \
  {                                                                                                \
    .code = BPF_JMP | BPF_JNE | BPF_X, .dst_reg = D, .src_reg = S, .off = O                        \
  }
#define JA(O)                                                                                      \
  {                                                                                                \
    .code = BPF_JMP | BPF_JA, .off = O                                                             \
  }
#define AND(D, K)                                                                                  \
  {                                                                                                \
    .code = BPF_ALU64 | BPF_AND | BPF_K, .dst_reg = D, .imm = K                                    \
  }
#define MOV32(D, K)                                                                                \
  {                                                                                                \
    .code = BPF_ALU | BPF_MOV | BPF_K, .dst_reg = D, .imm = K                                      \
  }
#define MOV(D, K)                                                                                  \
  {                                                                                                \
    .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = D, .imm = K                                    \
  }
#define EXIT()                                                                                     \
  {                                                                                                \
    .code = BPF_JMP | BPF_EXIT                                                                     \
  }

#define IP4 offsetof (struct bpf_sock_addr, user_ip4)
#define IP6(i) (offsetof (struct bpf_sock_addr, user_ip6) + 4 * (i))

/* Addresses are in network byte order; loaded as little-endian words
 * (x86_64, aarch64), the first octet is the low byte. */
static const struct bpf_insn guard4[] = {
  LDXW (2, 1, IP4), /* 0: r2 = address */
  AND (2, 0xff),    /* 1: its first octet */
  JEQ (2, 127, 3),  /* 2: 127/8 -> deny */
  JEQ (2, 0, 2),    /* 3: 0/8 -> deny */
  MOV (0, 1),       /* 4: allow */
  EXIT (),          /* 5 */
  MOV (0, 0),       /* 6: deny (EPERM) */
  EXIT (),          /* 7 */
};

static const struct bpf_insn guard6[] = {
  LDXW (2, 1, IP6 (0)),        /* 0 */
  JNE (2, 0, 13),              /* 1: -> allow */
  LDXW (2, 1, IP6 (1)),        /* 2 */
  JNE (2, 0, 11),              /* 3: -> allow */
  LDXW (2, 1, IP6 (2)),        /* 4 */
  LDXW (3, 1, IP6 (3)),        /* 5 */
  JNE (2, 0, 3),               /* 6: -> 10, maybe v4-mapped */
  JEQ (3, 0, 9),               /* 7: :: -> deny */
  JEQ (3, 0x01000000, 8),      /* 8: ::1 -> deny */
  JA (5),                      /* 9: -> allow */
  MOV32 (4, (int) 0xffff0000), /* 10: ::ffff:0:0/96, as loaded */
  JNE_REG (2, 4, 3),           /* 11: -> allow */
  AND (3, 0xff),               /* 12: the IPv4 address's first octet */
  JEQ (3, 127, 3),             /* 13: -> deny */
  JEQ (3, 0, 2),               /* 14: -> deny */
  MOV (0, 1),                  /* 15: allow */
  EXIT (),                     /* 16 */
  MOV (0, 0),                  /* 17: deny */
  EXIT (),                     /* 18 */
};

static const struct
{
  enum bpf_attach_type type;
  const char *name;
  gboolean v6;
} hooks[] = {
  { BPF_CGROUP_INET4_CONNECT, "connect4", FALSE },
  { BPF_CGROUP_INET6_CONNECT, "connect6", TRUE },
  { BPF_CGROUP_UDP4_SENDMSG, "sendmsg4", FALSE },
  { BPF_CGROUP_UDP6_SENDMSG, "sendmsg6", TRUE },
};

static long
bpf (int cmd, union bpf_attr *attr)
{
  return syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

static gboolean
attach_guard (const char *dir, GError **error)
{
  int cg = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "open cgroup %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (hooks); i++)
    {
      char log[4096] = "";
      union bpf_attr load = { 0 };
      load.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
      load.expected_attach_type = hooks[i].type;
      load.insns = (guint64) (guintptr) (hooks[i].v6 ? guard6 : guard4);
      load.insn_cnt = hooks[i].v6 ? G_N_ELEMENTS (guard6) : G_N_ELEMENTS (guard4);
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
      int e = errno;
      if (prog >= 0)
        {
          /* Without BPF_F_ALLOW_MULTI: attaching again replaces it. */
          union bpf_attr attach = { 0 };
          attach.target_fd = cg;
          attach.attach_bpf_fd = prog;
          attach.attach_type = hooks[i].type;
          if (bpf (BPF_PROG_ATTACH, &attach) < 0)
            e = errno;
          else
            e = 0;
          close (prog);
        }
      if (prog < 0 || e != 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s %s program on %s: %s%s%s",
                       prog < 0 ? "load" : "attach", hooks[i].name, dir, g_strerror (e),
                       *log ? ": " : "", log);
          close (cg);
          return FALSE;
        }
    }
  close (cg);
  return TRUE;
}

/* A cgroup2 mount point, from /proc/self/mountinfo; NULL if none. */
static char *
find_cgroup2 (void)
{
  g_autofree char *info = NULL;
  if (!g_file_get_contents ("/proc/self/mountinfo", &info, NULL, NULL))
    return NULL;
  g_auto (GStrv) lines = g_strsplit (info, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER */
      const char *sep = strstr (*l, " - ");
      g_auto (GStrv) f = g_strsplit (*l, " ", 6);
      if (sep && g_str_has_prefix (sep + 3, "cgroup2 ") && g_strv_length (f) >= 5
          && g_str_equal (f[3], "/"))
        return g_strcompress (f[4]);
    }
  return NULL;
}

/* Where the guard of @name is: on v2 its own cgroup; on v1 the same name
 * in a cgroup2 hierarchy, mounted if @mount and there is none. */
static char *
guard_dir (CgroupManager *m, const char *name, gboolean mount_one, GError **error)
{
  if (g_str_equal (m->ops->version, "v2"))
    {
      g_autofree char *rel = cgroup_relative (m, name);
      return g_build_filename (m->root, rel, NULL);
    }
  g_autofree char *hierarchy = find_cgroup2 ();
  if (hierarchy == NULL && mount_one)
    {
      hierarchy = g_build_filename (m->root, UNIFIED, NULL);
      if ((g_mkdir_with_parents (hierarchy, 0755) < 0
           || mount ("cgroup2", hierarchy, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
          && errno != EBUSY)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                       "mount a cgroup2 hierarchy on %s (for the network guard): %s", hierarchy,
                       g_strerror (e));
          return NULL;
        }
    }
  if (hierarchy == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no cgroup2 hierarchy is mounted");
      return NULL;
    }
  g_autofree char *rel = cgroup_relative (m, name);
  return g_build_filename (hierarchy, rel, NULL);
}

gboolean
cgroup_add_guarded (CgroupManager *m, const char *name, GPid pid, GError **error)
{
  g_autofree char *dir = guard_dir (m, name, TRUE, error);
  if (dir == NULL)
    return FALSE;
  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "create cgroup %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  if (!attach_guard (dir, error))
    return FALSE;
  /* Its own cgroup's directories (on v2, the guard's too), and on v1 the
   * guard's beside them. */
  g_autofree char *value = g_strdup_printf ("%d", (int) pid);
  g_auto (GStrv) dirs = m->ops->paths (m, name);
  for (char **d = dirs; *d; d++)
    if (!cgroup_write (*d, "cgroup.procs", value, error))
      return FALSE;
  return g_str_equal (m->ops->version, "v2") || cgroup_write (dir, "cgroup.procs", value, error);
}

void
cgroup_remove_guard (CgroupManager *m, const char *name)
{
  if (g_str_equal (m->ops->version, "v2"))
    return; /* the guard is the sandbox's own cgroup */
  g_autofree char *dir = guard_dir (m, name, FALSE, NULL);
  if (dir && rmdir (dir) < 0 && errno != ENOENT)
    g_warning ("remove cgroup %s: %s", dir, g_strerror (errno));
}
