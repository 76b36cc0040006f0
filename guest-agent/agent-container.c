/* agent-container.c — containers inside the guest.
 *
 * The host hot-plugs (or boots with) a read-only disk holding the
 * container's root and says "container-add" with its SCSI target. The agent
 * waits for that disk, then starts the container's init: a process in new
 * mount, pid, uts and ipc namespaces that builds the root (agent-rootfs.c)
 * and then only reaps orphans. Processes run "in" the container join its
 * namespaces and cgroup (agent-process.c); removing the container kills its
 * init, and with it every process of its pid namespace.
 */
#include "agent.h"
#include "json-fields.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEVICE_TIMEOUT_MS 15000
#define CONTAINERS_DIR "/containers"
#define CGROUP_ROOT "/sys/fs/cgroup"

static const char *ns_names[AGENT_NS_COUNT] = { "pid", "mnt", "uts", "ipc", "net", "cgroup" };

static GHashTable *containers; /* name -> AgentContainer */

static void
container_free (AgentContainer *c)
{
  g_clear_handle_id (&c->wait_src, g_source_remove);
  for (int i = 0; i < AGENT_NS_COUNT; i++)
    if (c->ns_fds[i] >= 0)
      close (c->ns_fds[i]);
  if (c->spec)
    json_object_unref (c->spec);
  g_free (c->cgroup);
  g_free (c->name);
  g_free (c);
}

void
agent_containers_init (void)
{
  containers
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) container_free);
}

static void
send_result (const char *type, const char *name, const char *message, pid_t pid)
{
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", type);
  json_object_set_string_member (msg, "name", name);
  if (message)
    json_object_set_string_member (msg, "message", message);
  if (pid > 0)
    json_object_set_int_member (msg, "pid", pid);
  agent_port_send_control (msg);
}

static void fail (AgentContainer *c, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
fail (AgentContainer *c, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  send_result ("container-failed", c->name, message, 0);
  if (c->cgroup)
    rmdir (c->cgroup);
  g_hash_table_remove (containers, c->name);
}

/* The block device of SCSI target @target (lun 0), e.g. "sdb", or NULL. */
static char *
find_disk (gint64 target)
{
  g_autoptr (GDir) dir = g_dir_open ("/sys/bus/scsi/devices", 0, NULL);
  const char *ent;
  while (dir && (ent = g_dir_read_name (dir)) != NULL)
    {
      unsigned host, channel, id, lun;
      if (sscanf (ent, "%u:%u:%u:%u", &host, &channel, &id, &lun) != 4 || id != target || lun != 0)
        continue;
      g_autofree char *block = g_strdup_printf ("/sys/bus/scsi/devices/%s/block", ent);
      g_autoptr (GDir) b = g_dir_open (block, 0, NULL);
      const char *name = b ? g_dir_read_name (b) : NULL;
      if (name)
        return g_strdup (name);
    }
  return NULL;
}

static gboolean
write_file (const char *dir, const char *file, const char *value, GError **error)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, value, strlen (value)) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "write \"%s\" to %s: %s", value,
                   path, g_strerror (e));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* A limit's value: -1 is "max" (none). */
static char *
limit_text (gint64 v)
{
  return v < 0 ? g_strdup ("max") : g_strdup_printf ("%" G_GINT64_FORMAT, v);
}

/* @limits' memory_bytes, memory_low, pids, cpu_quota (with cpu_period,
 * else @period), cpu_weight (0 or absent: unchanged; -1: no limit) into
 * @cgroup's files; the error names the file. */
static gboolean
write_limits (const char *cgroup, JsonObject *limits, gint64 period, GError **error)
{
  gint64 memory = 0, low = 0, pids = 0, quota = 0, weight = 0;
  if (!json_field_int (limits, "memory_bytes", FALSE, -1, G_MAXINT64, &memory, error)
      || !json_field_int (limits, "memory_low", FALSE, -1, G_MAXINT64, &low, error)
      || !json_field_int (limits, "pids", FALSE, -1, G_MAXINT32, &pids, error)
      || !json_field_int (limits, "cpu_quota", FALSE, -1, G_MAXINT64, &quota, error)
      || !json_field_int (limits, "cpu_period", FALSE, 1000, 1000000, &period, error)
      || !json_field_int (limits, "cpu_weight", FALSE, 0, 10000, &weight, error))
    return FALSE;
  g_autofree char *m = limit_text (memory), *l = limit_text (low), *p = limit_text (pids);
  g_autofree char *q = limit_text (quota);
  g_autofree char *cpu = g_strdup_printf ("%s %" G_GINT64_FORMAT, q, period);
  g_autofree char *w = g_strdup_printf ("%" G_GINT64_FORMAT, weight);
  if (memory && !write_file (cgroup, "memory.max", m, error))
    return FALSE;
  if (memory) /* the guest has no swap; where it has, none for the container */
    write_file (cgroup, "memory.swap.max", "0", NULL);
  return (low == 0 || write_file (cgroup, "memory.low", l, error))
         && (pids == 0 || write_file (cgroup, "pids.max", p, error))
         && (quota == 0 || write_file (cgroup, "cpu.max", cpu, error))
         && (weight == 0 || write_file (cgroup, "cpu.weight", w, error));
}

static gboolean
wants_limits (JsonObject *spec)
{
  static const char *const names[]
      = { "memory_bytes", "memory_low", "pids", "cpu_quota", "cpu_weight" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (json_object_get_int_member_with_default (spec, names[i], 0) != 0)
      return TRUE;
  return FALSE;
}

/* Its cgroup (v2) with the spec's limits. Without cgroup2 in this guest
 * there is none (c->cgroup NULL), and asking for limits is an error. */
static gboolean
make_cgroup (AgentContainer *c, GError **error)
{
  if (access (CGROUP_ROOT "/cgroup.subtree_control", W_OK) < 0)
    {
      if (!wants_limits (c->spec))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "this guest has no cgroup2 to apply the container's limits");
      return FALSE;
    }
  /* One by one: a controller the kernel lacks must not keep the others off.
   * A limit it cannot set fails the container below, by its file name. */
  static const char *controllers[] = { "+memory", "+pids", "+cpu" };
  for (gsize i = 0; i < G_N_ELEMENTS (controllers); i++)
    write_file (CGROUP_ROOT, "cgroup.subtree_control", controllers[i], NULL);
  c->cgroup = g_strdup_printf (CGROUP_ROOT "/container-%s", c->name);
  if (mkdir (c->cgroup, 0755) < 0 && errno != EEXIST)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "mkdir %s: %s", c->cgroup,
                   g_strerror (e));
      g_clear_pointer (&c->cgroup, g_free);
      return FALSE;
    }
  return write_limits (c->cgroup, c->spec, 100000, error);
}

void
agent_container_handle_update (JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  const char *name = "";
  JsonObject *limits = NULL;
  if (!json_field_string (msg, "name", TRUE, &name, NULL))
    return;
  AgentContainer *c = g_hash_table_lookup (containers, name);
  if (!json_field_object (msg, "limits", TRUE, &limits, &error))
    ;
  else if (c == NULL || !c->running)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no running container \"%s\"", name);
  else if (c->cgroup == NULL)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                 "this guest has no cgroup2 to apply the container's limits");
  else if (write_limits (c->cgroup, limits,
                         json_object_get_int_member_with_default (c->spec, "cpu_period", 100000),
                         &error))
    {
      /* Later updates start from these (a cpu_quota keeps its period). */
      g_autoptr (GList) names = json_object_get_members (limits);
      for (GList *l = names; l; l = l->next)
        json_object_set_member (c->spec, l->data,
                                json_node_copy (json_object_get_member (limits, l->data)));
    }
  send_result (error ? "container-update-failed" : "container-updated", name,
               error ? error->message : NULL, 0);
}

/* Starts the container's init on @device. */
static void
start_init (AgentContainer *c, const char *device)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (CONTAINERS_DIR, c->name, NULL);
  g_autofree char *procs = NULL;
  if (!make_cgroup (c, &error))
    {
      fail (c, "%s", error->message);
      return;
    }
  if (c->cgroup)
    procs = g_build_filename (c->cgroup, "cgroup.procs", NULL);
  AgentRootfsPlan *plan = agent_rootfs_plan (device, dir, procs, c->spec, &error);
  if (plan == NULL)
    {
      fail (c, "%s", error->message);
      return;
    }
  int status[2];
  if (pipe2 (status, O_CLOEXEC) < 0)
    {
      fail (c, "pipe: %s", g_strerror (errno));
      agent_rootfs_plan_free (plan);
      return;
    }
  /* A fork into new namespaces: no stack given, the child runs on a copy
   * of ours as after fork(). */
  gboolean netns = FALSE, cgroupns = FALSE;
  json_field_bool (c->spec, "netns", FALSE, &netns, NULL);
  json_field_bool (c->spec, "cgroupns", FALSE, &cgroupns, NULL);
  unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC
                        | (netns ? CLONE_NEWNET : 0) | (cgroupns ? CLONE_NEWCGROUP : 0);
  pid_t pid = (pid_t) syscall (SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
  if (pid == 0)
    {
      close (status[0]);
      agent_rootfs_build (plan, status[1]);
      int ready[2] = { -1, 0 };
      (void) !write (status[1], ready, sizeof ready);
      /* Only reaps orphans from now on: with SIGCHLD ignored the kernel
       * does that itself. */
      syscall (SYS_close_range, 0, ~0U, 0);
      signal (SIGCHLD, SIG_IGN);
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      for (;;)
        pause ();
    }
  int clone_errno = errno;
  close (status[1]);
  if (pid < 0)
    {
      close (status[0]);
      agent_rootfs_plan_free (plan);
      fail (c, "clone: %s", g_strerror (clone_errno));
      return;
    }
  c->init_pid = pid;
  int report[2] = { 0, EIO };
  ssize_t n;
  do
    n = read (status[0], report, sizeof report);
  while (n < 0 && errno == EINTR);
  close (status[0]);
  if (n != sizeof report || report[0] >= 0)
    {
      g_autofree char *why = agent_rootfs_describe_step (plan, report[0], report[1]);
      agent_rootfs_plan_free (plan);
      kill (pid, SIGKILL);
      c->init_pid = 0; /* reaped as an orphan */
      fail (c, "%s", why);
      return;
    }
  agent_rootfs_plan_free (plan);
  for (int i = 0; i < AGENT_NS_COUNT; i++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/ns/%s", pid, ns_names[i]);
      c->ns_fds[i] = open (path, O_RDONLY | O_CLOEXEC);
      if (c->ns_fds[i] < 0)
        {
          int e = errno;
          kill (pid, SIGKILL);
          fail (c, "open %s: %s", path, g_strerror (e));
          return;
        }
    }
  c->running = TRUE;
  send_result ("container-added", c->name, NULL, pid);
}

/* The SCSI target of a disk the container needs that has not appeared
 * yet, or -1: its root's, then its "image" mounts' (whose "device" is
 * set as they appear). */
static gint64
missing_disk (AgentContainer *c)
{
  g_autofree char *root = find_disk (c->scsi_id);
  if (root == NULL)
    return c->scsi_id;
  JsonNode *n = json_object_get_member (c->spec, "mounts");
  JsonArray *mounts = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonNode *e = json_array_get_element (mounts, i);
      JsonObject *m = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      if (m == NULL
          || g_strcmp0 (json_object_get_string_member_with_default (m, "type", ""), "image")
          || json_object_has_member (m, "device"))
        continue;
      gint64 target = json_object_get_int_member_with_default (m, "scsi_id", -1);
      g_autofree char *name = target >= 0 ? find_disk (target) : NULL;
      if (name == NULL)
        return target < 0 ? G_MAXINT64 : target;
      g_autofree char *device = g_strdup_printf ("/dev/%s", name);
      json_object_set_string_member (m, "device", device);
    }
  return -1;
}

static gboolean
on_wait_disk (gpointer data)
{
  AgentContainer *c = data;
  gint64 missing = missing_disk (c);
  if (missing == G_MAXINT64)
    {
      c->wait_src = 0;
      fail (c, "an image mount has no SCSI target");
      return G_SOURCE_REMOVE;
    }
  if (missing >= 0)
    {
      if (g_get_monotonic_time () < c->deadline)
        return G_SOURCE_CONTINUE;
      c->wait_src = 0;
      fail (c, "no disk appeared at SCSI target %" G_GINT64_FORMAT " within %d ms", missing,
            DEVICE_TIMEOUT_MS);
      return G_SOURCE_REMOVE;
    }
  g_autofree char *name = find_disk (c->scsi_id);
  c->wait_src = 0;
  g_autofree char *device = g_strdup_printf ("/dev/%s", name);
  start_init (c, device);
  return G_SOURCE_REMOVE;
}

void
agent_container_handle_add (JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  const char *name = NULL;
  gint64 scsi_id = 0;
  JsonObject *spec = NULL;
  if (!json_field_string (msg, "name", TRUE, &name, &error) || *name == '\0' || strchr (name, '/')
      || name[0] == '.')
    {
      fprintf (stderr, "sandbox-agent: container-add without a valid name\n");
      return;
    }
  if (g_hash_table_contains (containers, name))
    {
      send_result ("container-failed", name, "a container of that name exists", 0);
      return;
    }
  if (!json_field_object (msg, "spec", TRUE, &spec, &error)
      || !json_field_int (msg, "scsi_id", TRUE, 0, 65535, &scsi_id, &error))
    {
      send_result ("container-failed", name, error->message, 0);
      return;
    }
  AgentContainer *c = g_new0 (AgentContainer, 1);
  c->name = g_strdup (name);
  c->spec = json_object_ref (spec);
  c->scsi_id = scsi_id;
  for (int i = 0; i < AGENT_NS_COUNT; i++)
    c->ns_fds[i] = -1;
  g_hash_table_insert (containers, c->name, c);
  c->deadline = g_get_monotonic_time () + (gint64) DEVICE_TIMEOUT_MS * 1000;
  if (on_wait_disk (c) == G_SOURCE_CONTINUE)
    c->wait_src = g_timeout_add (20, on_wait_disk, c);
}

void
agent_container_handle_remove (JsonObject *msg)
{
  const char *name = "";
  if (!json_field_string (msg, "name", TRUE, &name, NULL))
    return;
  AgentContainer *c = g_hash_table_lookup (containers, name);
  if (c == NULL)
    {
      send_result ("container-removed", name, NULL, 0);
      return;
    }
  c->removing = TRUE;
  if (c->init_pid > 0)
    kill (c->init_pid, SIGKILL); /* and with it its pid namespace */
  else
    {
      send_result ("container-removed", name, NULL, 0);
      g_hash_table_remove (containers, name);
    }
}

gboolean
agent_container_reaped (pid_t pid)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, containers);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      AgentContainer *c = value;
      if (c->init_pid != pid)
        continue;
      c->init_pid = 0;
      if (c->running)
        send_result (c->removing ? "container-removed" : "container-exited", c->name, NULL, 0);
      g_autofree char *dir = g_build_filename (CONTAINERS_DIR, c->name, NULL);
      g_autofree char *root = g_build_filename (dir, "root", NULL);
      g_autofree char *lower = g_build_filename (dir, "lower", NULL);
      g_autofree char *rw = g_build_filename (dir, "rw", NULL);
      rmdir (root);
      rmdir (lower);
      rmdir (rw);
      rmdir (dir);
      /* Its processes are gone once the pid namespace's init is. */
      if (c->cgroup && rmdir (c->cgroup) < 0 && errno != ENOENT)
        fprintf (stderr, "sandbox-agent: rmdir %s: %s\n", c->cgroup, g_strerror (errno));
      if (c->running)
        g_hash_table_remove (containers, c->name);
      return TRUE;
    }
  return FALSE;
}

const AgentContainer *
agent_container_lookup (const char *name)
{
  AgentContainer *c = g_hash_table_lookup (containers, name);
  return c && c->running && c->init_pid > 0 ? c : NULL;
}
