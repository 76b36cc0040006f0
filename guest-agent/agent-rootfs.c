/* agent-rootfs.c — a container's root, built by its init process.
 *
 * The steps are planned in the agent (allocations, strings, checks) and
 * carried out by the container's first process, right after clone() put it
 * in new mount, pid, uts and ipc namespaces: only system calls there. A
 * failed step is reported back over a pipe by its index and errno, and the
 * agent names it.
 *
 * The guest's own root is the initramfs (rootfs), which pivot_root(2)
 * cannot leave; like switch_root, the container's root is moved onto "/"
 * (MS_MOVE) and entered with chroot. The agent's own mounts (/proc, /sys,
 * /dev, /tmp, /run) are detached in the container's namespace first.
 */
#include "agent.h"
#include "json-fields.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

typedef enum
{
  OP_MOUNT,   /* mount (source, target, fstype, flags, data), after mkdir -p target */
  OP_REMOUNT, /* bind remount of target with flags */
  OP_UMOUNT,  /* detach target; a missing one is fine */
  OP_MKDIR,
  OP_MKNOD, /* a node of type and permissions mode, dev in flags, owned by uid:gid */
  OP_SYMLINK,
  OP_ENTER, /* move target onto "/" and chroot into it */
  OP_HOSTNAME,
  OP_DOMAINNAME,
  OP_CGROUP,   /* write "0" to target (a cgroup.procs) */
  OP_WRITE,    /* target's contents become data; not on a read-only root */
  OP_MASK,     /* target hidden: /dev/null over a file, an empty read-only tmpfs over a directory */
  OP_READONLY, /* target bound onto itself, read-only; a missing one is fine */
  OP_SYSCTL,   /* /proc/sys/<target> := data */
  OP_IMAGE_OPEN,  /* a detached read-only mount of source (a device; erofs), attributes in flags */
  OP_IMAGE_PLACE, /* that mount (the op at index flags) moved onto target, after mkdir -p */
} OpKind;

typedef struct
{
  OpKind kind;
  char *source;
  char *target;
  char *fstype;
  unsigned long flags;
  char *data;
  int fd;      /* OP_IMAGE_OPEN's mount, in the container's init */
  mode_t mode; /* OP_MKNOD's */
  uid_t uid;
  gid_t gid;
  gboolean copyup; /* a tmpfs that starts with what its mount point held (tmpcopyup) */
} RootfsOp;

struct AgentRootfsPlan
{
  GArray *ops; /* RootfsOp */
  /* The OP_IMAGE_OPEN of each "image" mount, in their order: they run
   * before the guest's /dev goes, their places come with the mounts. */
  GArray *image_opens; /* guint */
  guint next_image;
};

static void
op_clear (gpointer p)
{
  RootfsOp *op = p;
  g_free (op->source);
  g_free (op->target);
  g_free (op->fstype);
  g_free (op->data);
}

static void
add_op (AgentRootfsPlan *plan, OpKind kind, const char *source, const char *target,
        const char *fstype, unsigned long flags, const char *data)
{
  RootfsOp op = {
    kind, g_strdup (source), g_strdup (target), g_strdup (fstype), flags, g_strdup (data), -1
  };
  g_array_append_val (plan->ops, op);
}

static void
add_node (AgentRootfsPlan *plan, const char *path, mode_t mode, dev_t dev, uid_t uid, gid_t gid)
{
  add_op (plan, OP_MKNOD, NULL, path, NULL, (unsigned long) dev, NULL);
  RootfsOp *op = &g_array_index (plan->ops, RootfsOp, plan->ops->len - 1);
  op->mode = mode;
  op->uid = uid;
  op->gid = gid;
}

void
agent_rootfs_plan_free (AgentRootfsPlan *plan)
{
  if (plan == NULL)
    return;
  g_array_unref (plan->ops);
  if (plan->image_opens)
    g_array_unref (plan->image_opens);
  g_free (plan);
}

static const struct
{
  const char *name;
  unsigned long set, clear;
} mount_flags[] = {
  { "ro", MS_RDONLY, 0 },
  { "rw", 0, MS_RDONLY },
  { "nosuid", MS_NOSUID, 0 },
  { "suid", 0, MS_NOSUID },
  { "nodev", MS_NODEV, 0 },
  { "dev", 0, MS_NODEV },
  { "noexec", MS_NOEXEC, 0 },
  { "exec", 0, MS_NOEXEC },
  { "noatime", MS_NOATIME, 0 },
  { "relatime", MS_RELATIME, 0 },
  { "strictatime", MS_STRICTATIME, 0 },
  { "bind", MS_BIND, 0 },
  { "rbind", MS_BIND | MS_REC, 0 },
  { "private", 0, 0 },
  { "rprivate", 0, 0 },
};

/* Data options passed to the filesystem as they are. */
static const char *data_options[]
    = { "size=", "mode=", "nr_inodes=", "uid=", "gid=", "ptmxmode=", "newinstance", NULL };

static gboolean
parse_options (char **options, unsigned long *flags, char **data, GError **error)
{
  g_autoptr (GString) d = g_string_new (NULL);
  for (char **o = options; o && *o; o++)
    {
      gboolean known = FALSE;
      for (gsize i = 0; i < G_N_ELEMENTS (mount_flags) && !known; i++)
        if (g_str_equal (*o, mount_flags[i].name))
          {
            *flags = (*flags | mount_flags[i].set) & ~mount_flags[i].clear;
            known = TRUE;
          }
      for (const char **p = data_options; *p && !known; p++)
        if (g_str_has_prefix (*o, *p) && strchr (*o, ',') == NULL)
          {
            g_string_append_printf (d, "%s%s", d->len ? "," : "", *o);
            known = TRUE;
          }
      if (!known)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "mount option \"%s\" is not supported", *o);
          return FALSE;
        }
    }
  *data = d->len ? g_strdup (d->str) : NULL;
  return TRUE;
}

/* One of the container's own mounts ("mounts" of its spec). */
static gboolean
plan_user_mount (AgentRootfsPlan *plan, JsonObject *m, GError **error)
{
  const char *dest = "", *type = "", *source = NULL;
  g_auto (GStrv) options = NULL;
  if (!json_field_string (m, "destination", TRUE, &dest, error)
      || !json_field_string (m, "type", TRUE, &type, error)
      || !json_field_string (m, "source", FALSE, &source, error)
      || !json_field_strv (m, "options", FALSE, &options, error))
    return FALSE;
  if (source == NULL)
    source = type;
  if (!g_path_is_absolute (dest) || strstr (dest, ".."))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "mount destination \"%s\" is not an absolute path", dest);
      return FALSE;
    }
  /* A host file the daemon copied in (its content in the spec). */
  if (g_str_equal (type, "file"))
    {
      const char *content = "";
      if (!json_field_string (m, "content", TRUE, &content, error))
        return FALSE;
      add_op (plan, OP_WRITE, NULL, dest, NULL, 0, content);
      return TRUE;
    }
  /* tmpcopyup (runc's and crun's): the new tmpfs starts as a copy of
   * what it covers (podman writes it for its tmpfs mounts). */
  gboolean copyup = FALSE;
  for (char **o = options; o && *o; o++)
    if (g_str_equal (*o, "tmpcopyup"))
      {
        copyup = TRUE;
        g_free (*o);
        memmove (o, o + 1, (g_strv_length (o + 1) + 1) * sizeof *o);
        o--;
      }
  if (copyup && !g_str_equal (type, "tmpfs"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "mount option \"tmpcopyup\" is for tmpfs, not %s (%s)", type, dest);
      return FALSE;
    }
  unsigned long flags = 0;
  g_autofree char *data = NULL;
  if (!parse_options (options, &flags, &data, error))
    return FALSE;
  /* A host directory shared live (virtio-fs): its device's tag. */
  if (g_str_equal (type, "volume"))
    {
      const char *tag = NULL;
      if (!json_field_string (m, "tag", TRUE, &tag, error))
        return FALSE;
      add_op (plan, OP_MOUNT, tag, dest, "virtiofs", flags & ~(MS_BIND | MS_REC), NULL);
      return TRUE;
    }
  /* A read-only host directory, its image on a disk (opened before). */
  if (g_str_equal (type, "image"))
    {
      guint open = g_array_index (plan->image_opens, guint, plan->next_image++);
      add_op (plan, OP_IMAGE_PLACE, NULL, dest, NULL, open, NULL);
      return TRUE;
    }
  if (g_str_equal (type, "bind") || (flags & MS_BIND))
    {
      if (!g_path_is_absolute (source))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "bind mount source \"%s\" is not an absolute path in the container", source);
          return FALSE;
        }
      add_op (plan, OP_MOUNT, source, dest, NULL, MS_BIND | (flags & MS_REC), NULL);
      unsigned long rest = flags & ~(MS_BIND | MS_REC);
      if (rest)
        add_op (plan, OP_REMOUNT, NULL, dest, NULL, rest, NULL);
      return TRUE;
    }
  static const char *types[] = { "tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", NULL };
  if (!g_strv_contains (types, type))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "mount type \"%s\" is not supported", type);
      return FALSE;
    }
  /* The guest has cgroup v2 only: a "cgroup" mount is its hierarchy. */
  if (g_str_equal (type, "cgroup"))
    type = "cgroup2";
  add_op (plan, OP_MOUNT, type, dest, type, flags, data);
  g_array_index (plan->ops, RootfsOp, plan->ops->len - 1).copyup = copyup;
  return TRUE;
}

/* The "image" mounts' file systems, opened read-only as detached mounts
 * while the guest's /dev (their devices, "device", which the agent found
 * by SCSI target) is still there. */
static gboolean
plan_image_opens (AgentRootfsPlan *plan, JsonArray *mounts, GError **error)
{
  plan->image_opens = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonNode *n = json_array_get_element (mounts, i);
      JsonObject *m = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      if (m == NULL
          || g_strcmp0 (json_object_get_string_member_with_default (m, "type", ""), "image"))
        continue;
      const char *device = NULL;
      g_auto (GStrv) options = NULL;
      unsigned long flags = 0;
      g_autofree char *data = NULL;
      if (!json_field_string (m, "device", TRUE, &device, error)
          || !json_field_strv (m, "options", FALSE, &options, error)
          || !parse_options (options, &flags, &data, error))
        {
          g_prefix_error (error, "mounts[%u]: ", i);
          return FALSE;
        }
      unsigned long attrs = MOUNT_ATTR_RDONLY | (flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0)
                            | (flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0)
                            | (flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
      guint index = plan->ops->len;
      g_array_append_val (plan->image_opens, index);
      add_op (plan, OP_IMAGE_OPEN, device, NULL, "erofs", attrs, NULL);
    }
  return TRUE;
}

/* The nodes and links every /dev has, on whichever tmpfs is /dev. */
static void
plan_dev_nodes (AgentRootfsPlan *plan)
{
  static const struct
  {
    const char *name;
    int major, minor;
  } nodes[] = { { "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
                { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 } };
  for (gsize i = 0; i < G_N_ELEMENTS (nodes); i++)
    {
      g_autofree char *path = g_strdup_printf ("/dev/%s", nodes[i].name);
      add_node (plan, path, S_IFCHR | 0666, makedev (nodes[i].major, nodes[i].minor), 0, 0);
    }
  static const char *links[][2] = { { "/proc/self/fd", "/dev/fd" },
                                    { "/proc/self/fd/0", "/dev/stdin" },
                                    { "/proc/self/fd/1", "/dev/stdout" },
                                    { "/proc/self/fd/2", "/dev/stderr" },
                                    { "pts/ptmx", "/dev/ptmx" } };
  for (gsize i = 0; i < G_N_ELEMENTS (links); i++)
    add_op (plan, OP_SYMLINK, links[i][0], links[i][1], NULL, 0, NULL);
}

/* The file systems every container has, as runc's default config.json
 * writes them: each one the config's mounts do not name is mounted so. */
static const struct
{
  const char *dest, *type, *source;
  unsigned long flags;
  const char *data;
} default_mounts[] = {
  { "/proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
  { "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k" },
  { "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
    "newinstance,ptmxmode=0666,mode=0620,gid=5" },
  { "/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k" },
  { "/sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
};

static gboolean
mounts_name (JsonArray *mounts, const char *dest)
{
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonNode *n = json_array_get_element (mounts, i);
      if (JSON_NODE_HOLDS_OBJECT (n)
          && !g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (n),
                                                                     "destination", ""),
                         dest))
        return TRUE;
    }
  return FALSE;
}

/* The default mounts under @parent ("" for the top ones: /proc, /dev,
 * /sys) that @mounts does not name; /dev's nodes after /dev. */
static void
plan_default_mounts (AgentRootfsPlan *plan, JsonArray *mounts, const char *parent)
{
  for (gsize i = 0; i < G_N_ELEMENTS (default_mounts); i++)
    {
      const char *dest = default_mounts[i].dest;
      g_autofree char *dir = g_path_get_dirname (dest);
      gboolean under = *parent ? g_str_equal (dir, parent) : g_str_equal (dir, "/");
      if (!under || mounts_name (mounts, dest))
        continue;
      add_op (plan, OP_MOUNT, default_mounts[i].source, dest, default_mounts[i].type,
              default_mounts[i].flags, default_mounts[i].data);
      if (g_str_equal (dest, "/dev"))
        {
          plan_dev_nodes (plan);
          plan_default_mounts (plan, mounts, "/dev");
        }
    }
}

/* linux.maskedPaths, .readonlyPaths and .sysctl, in the container. */
static void
plan_hardening (AgentRootfsPlan *plan, JsonObject *spec)
{
  g_auto (GStrv) masked = NULL;
  g_auto (GStrv) readonly = NULL;
  json_field_strv (spec, "maskedPaths", FALSE, &masked, NULL);
  json_field_strv (spec, "readonlyPaths", FALSE, &readonly, NULL);
  /* Sysctls first: /proc/sys is usually among the read-only paths. */
  JsonNode *sn = json_object_get_member (spec, "sysctl");
  JsonObject *sysctl = sn && JSON_NODE_HOLDS_OBJECT (sn) ? json_node_get_object (sn) : NULL;
  g_autoptr (GList) keys = sysctl ? json_object_get_members (sysctl) : NULL;
  for (GList *k = keys; k; k = k->next)
    {
      JsonNode *v = json_object_get_member (sysctl, k->data);
      if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
        continue;
      g_autofree char *path = g_strdup (k->data);
      g_strdelimit (path, ".", '/');
      g_autofree char *target = g_build_filename ("/proc/sys", path, NULL);
      add_op (plan, OP_SYSCTL, NULL, target, NULL, 0, json_node_get_string (v));
    }
  for (char **p = masked; p && *p; p++)
    if (g_path_is_absolute (*p) && !strstr (*p, ".."))
      add_op (plan, OP_MASK, NULL, *p, NULL, 0, NULL);
  for (char **p = readonly; p && *p; p++)
    if (g_path_is_absolute (*p) && !strstr (*p, ".."))
      add_op (plan, OP_READONLY, NULL, *p, NULL, 0, NULL);
}

AgentRootfsPlan *
agent_rootfs_plan (const char *device, const char *dir, const char *cgroup_procs, JsonObject *spec,
                   GError **error)
{
  AgentRootfsPlan *plan = g_new0 (AgentRootfsPlan, 1);
  plan->ops = g_array_new (FALSE, TRUE, sizeof (RootfsOp));
  g_array_set_clear_func (plan->ops, op_clear);

  const char *fstype = "erofs", *hostname = NULL, *domainname = NULL;
  gboolean readonly = FALSE;
  gint64 writable_mb = 0;
  JsonArray *mounts = NULL;
  if (!json_field_string (spec, "fstype", FALSE, &fstype, error)
      || !json_field_bool (spec, "readonly", FALSE, &readonly, error)
      || !json_field_int (spec, "writable_mb", FALSE, 1, 1 << 20, &writable_mb, error)
      || !json_field_string (spec, "hostname", FALSE, &hostname, error)
      || !json_field_string (spec, "domainname", FALSE, &domainname, error))
    {
      agent_rootfs_plan_free (plan);
      return NULL;
    }
  if (json_object_has_member (spec, "mounts"))
    {
      JsonNode *n = json_object_get_member (spec, "mounts");
      if (!JSON_NODE_HOLDS_ARRAY (n))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "mounts is not an array");
          agent_rootfs_plan_free (plan);
          return NULL;
        }
      mounts = json_node_get_array (n);
    }
  if (!g_str_equal (fstype, "erofs") && !g_str_equal (fstype, "ext4"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "file system \"%s\" is not supported", fstype);
      agent_rootfs_plan_free (plan);
      return NULL;
    }
  g_autofree char *lower = g_build_filename (dir, "lower", NULL);
  g_autofree char *rw = g_build_filename (dir, "rw", NULL);
  g_autofree char *upper = g_build_filename (rw, "upper", NULL);
  g_autofree char *work = g_build_filename (rw, "work", NULL);
  g_autofree char *root = g_build_filename (dir, "root", NULL);

  if (cgroup_procs)
    add_op (plan, OP_CGROUP, NULL, cgroup_procs, NULL, 0, NULL);
  add_op (plan, OP_REMOUNT, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  add_op (plan, OP_MOUNT, device, lower, fstype, MS_RDONLY, NULL);
  /* The writable layer: a tmpfs of its own size, gone with the container.
   * A read-only root has one too, small, until the root is made
   * read-only last (as runc does): its mount points missing from the
   * image, and /etc/hosts, are made there first. */
  g_autofree char *size = readonly ? g_strdup ("size=4m")
                          : writable_mb
                              ? g_strdup_printf ("size=%" G_GINT64_FORMAT "m", writable_mb)
                              : g_strdup ("size=50%");
  g_autofree char *tmpfs_data = g_strdup_printf ("%s,mode=0755", size);
  g_autofree char *overlay
      = g_strdup_printf ("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
  add_op (plan, OP_MOUNT, "tmpfs", rw, "tmpfs", MS_NOSUID | MS_NODEV, tmpfs_data);
  add_op (plan, OP_MKDIR, NULL, upper, NULL, 0, NULL);
  add_op (plan, OP_MKDIR, NULL, work, NULL, 0, NULL);
  add_op (plan, OP_MOUNT, "overlay", root, "overlay", 0, overlay);
  if (!plan_image_opens (plan, mounts, error))
    {
      agent_rootfs_plan_free (plan);
      return NULL;
    }
  static const char *agent_mounts[]
      = { "/dev/pts", "/dev", "/proc", "/sys/fs/cgroup", "/sys", "/tmp", "/run", NULL };
  for (const char **m = agent_mounts; *m; m++)
    add_op (plan, OP_UMOUNT, NULL, *m, NULL, 0, NULL);
  add_op (plan, OP_ENTER, NULL, root, NULL, 0, NULL);

  /* From here on, paths are the container's. What every container has
   * and its config does not name comes first; the config's mounts follow
   * in its order (its /proc, /dev or /sys among them, with its options). */
  plan_default_mounts (plan, mounts, "");
  /* The guest's network is the pod's: every container gets its names and
   * resolvers (written inside, where the container's own links resolve). */
  static const char *etc_files[] = { "/etc/hosts", "/etc/resolv.conf" };
  for (gsize i = 0; i < G_N_ELEMENTS (etc_files); i++)
    {
      g_autofree char *contents = NULL;
      if (g_file_get_contents (etc_files[i], &contents, NULL, NULL))
        add_op (plan, OP_WRITE, NULL, etc_files[i], NULL, 0, contents);
    }
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonNode *n = json_array_get_element (mounts, i);
      if (JSON_NODE_HOLDS_OBJECT (n) && plan_user_mount (plan, json_node_get_object (n), error))
        {
          /* The config's own /dev: the nodes, then what it does not mount
           * under /dev itself. */
          if (!g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (n),
                                                                      "destination", ""),
                          "/dev"))
            {
              plan_dev_nodes (plan);
              plan_default_mounts (plan, mounts, "/dev");
            }
        }
      else
        {
          if (error && *error)
            g_prefix_error (error, "mounts[%u]: ", i);
          else
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "mounts[%u] is not an object", i);
          agent_rootfs_plan_free (plan);
          return NULL;
        }
    }
  /* linux.devices: nodes of the guest's own devices (sandboxd checked
   * them), after the mounts, as runc makes them. */
  JsonNode *dn = json_object_get_member (spec, "devices");
  JsonArray *devices = dn && JSON_NODE_HOLDS_ARRAY (dn) ? json_node_get_array (dn) : NULL;
  for (guint i = 0; devices && i < json_array_get_length (devices); i++)
    {
      JsonObject *d = json_array_get_object_element (devices, i);
      const char *path = NULL;
      gint64 mode = 0, major = 0, minor = 0, uid = 0, gid = 0;
      if (d == NULL || !json_field_string (d, "path", TRUE, &path, error)
          || !json_field_int (d, "mode", TRUE, 0, G_MAXUINT32, &mode, error)
          || !json_field_int (d, "major", FALSE, 0, G_MAXUINT32, &major, error)
          || !json_field_int (d, "minor", FALSE, 0, G_MAXUINT32, &minor, error)
          || !json_field_int (d, "uid", FALSE, 0, G_MAXUINT32 - 1, &uid, error)
          || !json_field_int (d, "gid", FALSE, 0, G_MAXUINT32 - 1, &gid, error))
        {
          if (error && *error)
            g_prefix_error (error, "devices[%u]: ", i);
          agent_rootfs_plan_free (plan);
          return NULL;
        }
      add_node (plan, path, (mode_t) mode, makedev ((unsigned) major, (unsigned) minor),
                (uid_t) uid, (gid_t) gid);
    }
  if (hostname && *hostname)
    add_op (plan, OP_HOSTNAME, hostname, NULL, NULL, 0, NULL);
  if (domainname && *domainname)
    add_op (plan, OP_DOMAINNAME, domainname, NULL, NULL, 0, NULL);
  plan_hardening (plan, spec);
  if (readonly)
    add_op (plan, OP_REMOUNT, NULL, "/", NULL, MS_RDONLY, NULL);
  return plan;
}

char *
agent_rootfs_describe_step (AgentRootfsPlan *plan, int step, int err)
{
  if (step < 0 || (guint) step >= plan->ops->len)
    return g_strdup_printf ("container setup: %s", g_strerror (err));
  RootfsOp *op = &g_array_index (plan->ops, RootfsOp, step);
  static const char *verbs[]
      = { "mount",          "remount",     "unmount",       "mkdir",       "mknod", "symlink",
          "enter",          "sethostname", "setdomainname", "join cgroup", "write", "mask",
          "make read-only", "set sysctl",  "open image",    "mount image" };
  const char *what = op->kind == OP_MOUNT && op->fstype ? op->fstype
                     : op->kind == OP_MOUNT             ? "bind"
                                                        : NULL;
  return g_strdup_printf ("%s%s%s %s: %s", verbs[op->kind], what ? " " : "", what ? what : "",
                          op->target ? op->target : op->source, g_strerror (err));
}

/* mkdir -p, without allocating (after clone). */
static int
make_dirs (const char *path)
{
  char buf[PATH_MAX];
  size_t n = strlen (path);
  if (n >= sizeof buf)
    return ENAMETOOLONG;
  memcpy (buf, path, n + 1);
  for (char *p = buf + 1;; p++)
    if (*p == '/' || *p == '\0')
      {
        char c = *p;
        *p = '\0';
        if (mkdir (buf, 0755) < 0 && errno != EEXIST)
          return errno;
        if (c == '\0')
          return 0;
        *p = c;
      }
}

/* mkdir -p of @path's directory. */
static int
make_parent_dirs (const char *path)
{
  char buf[PATH_MAX];
  const char *slash = strrchr (path, '/');
  size_t n = slash ? (size_t) (slash - path) : 0;
  if (n == 0)
    return 0;
  if (n >= sizeof buf)
    return ENAMETOOLONG;
  memcpy (buf, path, n);
  buf[n] = '\0';
  return make_dirs (buf);
}

/* Copies what directory @from holds into directory @to: files with their
 * bytes, directories (to a depth of 32), symbolic links and device nodes,
 * each with its mode and owner. System calls and the stack only. */
static int
copy_tree (int from, int to, int depth)
{
  char dents[4096];
  for (;;)
    {
      long n = syscall (SYS_getdents64, from, dents, sizeof dents);
      if (n < 0)
        return errno;
      if (n == 0)
        return 0;
      for (long at = 0; at < n;)
        {
          struct dirent64 *d = (struct dirent64 *) (dents + at);
          at += d->d_reclen;
          const char *name = d->d_name;
          struct stat st;
          if (!strcmp (name, ".") || !strcmp (name, "..")
              || fstatat (from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
          mode_t perm = st.st_mode & 07777;
          int e = 0;
          if (S_ISDIR (st.st_mode) && depth < 32)
            {
              int f = openat (from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
              int t = mkdirat (to, name, 0700) == 0
                          ? openat (to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                          : -1;
              e = f < 0 || t < 0 ? errno : copy_tree (f, t, depth + 1);
              if (t >= 0 && (fchown (t, st.st_uid, st.st_gid) < 0 || fchmod (t, perm) < 0))
                e = e ? e : errno;
              if (f >= 0)
                close (f);
              if (t >= 0)
                close (t);
            }
          else if (S_ISREG (st.st_mode))
            {
              int f = openat (from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
              int t = openat (to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
              char buf[8192];
              ssize_t r = 0;
              while (f >= 0 && t >= 0 && (r = read (f, buf, sizeof buf)) > 0)
                if (write (t, buf, (size_t) r) != r)
                  {
                    r = -1;
                    break;
                  }
              if (f < 0 || t < 0 || r < 0 || fchown (t, st.st_uid, st.st_gid) < 0
                  || fchmod (t, perm) < 0)
                e = errno ? errno : EIO;
              if (f >= 0)
                close (f);
              if (t >= 0)
                close (t);
            }
          else if (S_ISLNK (st.st_mode))
            {
              char target[4096];
              ssize_t len = readlinkat (from, name, target, sizeof target - 1);
              if (len >= 0)
                target[len] = '\0';
              if (len < 0 || symlinkat (target, to, name) < 0
                  || fchownat (to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                e = errno;
            }
          else if (!S_ISSOCK (st.st_mode))
            {
              if (mknodat (to, name, st.st_mode, st.st_rdev) < 0
                  || fchownat (to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                e = errno;
            }
          if (e)
            return e;
        }
    }
}

/* A mount of the plan. /proc and /sys must not be symlinks (a root could
 * point them anywhere); a tmpfs without mode= takes its mount point's.
 * Only system calls and the stack: this runs in the container's init. */
static int
run_mount (const RootfsOp *op)
{
  struct stat st;
  int e;
  if (op->fstype && (!strcmp (op->fstype, "proc") || !strcmp (op->fstype, "sysfs"))
      && lstat (op->target, &st) == 0 && S_ISLNK (st.st_mode))
    return ELOOP;
  if ((e = make_dirs (op->target)) != 0)
    return e;
  const char *data = op->data;
  char with_mode[512];
  if (op->fstype && !strcmp (op->fstype, "tmpfs") && !(data && strstr (data, "mode="))
      && stat (op->target, &st) == 0)
    {
      size_t rest = data ? strlen (data) : 0;
      if (rest + 16 > sizeof with_mode)
        return E2BIG;
      memcpy (with_mode, "mode=0000", 9);
      for (int i = 0; i < 4; i++)
        with_mode[8 - i] = (char) ('0' + ((st.st_mode >> (3 * i)) & 7));
      size_t n = 9;
      if (data)
        {
          with_mode[n++] = ',';
          memcpy (with_mode + n, data, rest);
          n += rest;
        }
      with_mode[n] = '\0';
      data = with_mode;
    }
  int below = op->copyup ? open (op->target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
  if (op->copyup && below < 0)
    return errno;
  e = mount (op->source, op->target, op->fstype, op->flags, data) < 0 ? errno : 0;
  if (below >= 0)
    {
      int above = e ? -1 : open (op->target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (!e)
        e = above < 0 ? errno : copy_tree (below, above, 0);
      if (above >= 0)
        close (above);
      close (below);
    }
  return e;
}

static int
run_op (AgentRootfsPlan *plan, RootfsOp *op)
{
  int e;
  switch (op->kind)
    {
    case OP_MOUNT:
      return run_mount (op);
    case OP_REMOUNT:
      if (op->flags & MS_PRIVATE)
        return mount (NULL, op->target, NULL, op->flags, NULL) < 0 ? errno : 0;
      return mount (NULL, op->target, NULL, MS_REMOUNT | MS_BIND | op->flags, NULL) < 0 ? errno : 0;
    case OP_UMOUNT:
      return umount2 (op->target, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT ? errno : 0;
    case OP_MKDIR:
      return make_dirs (op->target);
    case OP_MKNOD:
      if ((e = make_parent_dirs (op->target)) != 0)
        return e;
      /* A node the config names may be there already (its /dev's): it is
       * made anew, as runc does. */
      unlink (op->target);
      return mknod (op->target, op->mode, (dev_t) op->flags) < 0
                     || chown (op->target, op->uid, op->gid) < 0
                     || chmod (op->target, op->mode & 07777) < 0
                 ? errno
                 : 0;
    case OP_SYMLINK:
      return symlink (op->source, op->target) < 0 && errno != EEXIST ? errno : 0;
    case OP_ENTER:
      if (chdir (op->target) < 0 || mount (op->target, "/", NULL, MS_MOVE, NULL) < 0
          || chroot (".") < 0 || chdir ("/") < 0)
        return errno;
      return 0;
    case OP_DOMAINNAME:
      return setdomainname (op->source, strlen (op->source)) < 0 ? errno : 0;
    case OP_HOSTNAME:
      return sethostname (op->source, strlen (op->source)) < 0 ? errno : 0;
    case OP_CGROUP:
      {
        int fd = open (op->target, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
          return errno;
        e = write (fd, "0", 1) < 0 ? errno : 0;
        close (fd);
        return e;
      }
    case OP_MASK:
      {
        struct stat st;
        if (stat (op->target, &st) < 0)
          return errno == ENOENT ? 0 : errno;
        if (S_ISDIR (st.st_mode))
          return mount ("tmpfs", op->target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "size=0")
                         < 0
                     ? errno
                     : 0;
        return mount ("/dev/null", op->target, NULL, MS_BIND, NULL) < 0 ? errno : 0;
      }
    case OP_READONLY:
      if (mount (op->target, op->target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return errno == ENOENT ? 0 : errno;
      return mount (NULL, op->target, NULL,
                    MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)
                     < 0
                 ? errno
                 : 0;
    case OP_IMAGE_OPEN:
      {
        int fs = fsopen (op->fstype, FSOPEN_CLOEXEC);
        if (fs < 0)
          return errno;
        if (fsconfig (fs, FSCONFIG_SET_STRING, "source", op->source, 0) < 0
            || fsconfig (fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0
            || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0
            || (op->fd = fsmount (fs, FSMOUNT_CLOEXEC, (unsigned int) op->flags)) < 0)
          e = errno;
        else
          e = 0;
        close (fs);
        return e;
      }
    case OP_IMAGE_PLACE:
      {
        const RootfsOp *open_op = &g_array_index (plan->ops, RootfsOp, op->flags);
        if ((e = make_dirs (op->target)) != 0)
          return e;
        return move_mount (open_op->fd, "", AT_FDCWD, op->target, MOVE_MOUNT_F_EMPTY_PATH) < 0
                   ? errno
                   : 0;
      }
    case OP_SYSCTL:
      {
        int fd = open (op->target, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
          return errno;
        size_t len = strlen (op->data);
        e = write (fd, op->data, len) != (ssize_t) len ? (errno ? errno : EIO) : 0;
        close (fd);
        return e;
      }
    case OP_WRITE:
      {
        char dir[PATH_MAX];
        const char *slash = strrchr (op->target, '/');
        size_t n = slash ? (size_t) (slash - op->target) : 0;
        if (n > 0 && n < sizeof dir)
          {
            memcpy (dir, op->target, n);
            dir[n] = '\0';
            if ((e = make_dirs (dir)) != 0)
              return e == EROFS ? 0 : e;
          }
        int fd = open (op->target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
          return errno == EROFS ? 0 : errno;
        size_t len = strlen (op->data);
        e = write (fd, op->data, len) != (ssize_t) len ? (errno ? errno : EIO) : 0;
        close (fd);
        return e;
      }
    }
  return EINVAL;
}

void
agent_rootfs_build (AgentRootfsPlan *plan, int status_fd)
{
  for (guint i = 0; i < plan->ops->len; i++)
    {
      int e = run_op (plan, &g_array_index (plan->ops, RootfsOp, i));
      if (e != 0)
        {
          int report[2] = { (int) i, e };
          (void) !write (status_fd, report, sizeof report);
          _exit (1);
        }
    }
}
