/* Disks hot-plugged into a running sandbox: a raw image becomes a SCSI
 * disk on the virtio-scsi controller every sandbox has from boot (nothing on
 * microvm's virtio-mmio bus can be hot-plugged, SCSI disks can). */
#include "sandbox-private.h"

#include "json-fields.h"
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define DISK_QMP_TIMEOUT_MS 10000
#define MAX_DISKS 64

struct SandboxDisk
{
  Sandbox *sb;
  char *id; /* "disk-N": also the block node name */
  char *path;
  gboolean read_only;
  guint scsi_id;
  gboolean attached;
  /* Told when the attach or detach under way ends. */
  SandboxDiskDone done;
  gpointer done_data;
};

static char *
device_id (SandboxDisk *disk)
{
  return g_strdup_printf ("dev-%s", disk->id);
}

static gint64
fdset_id (SandboxDisk *disk)
{
  return g_ascii_strtoll (disk->id + strlen ("disk-"), NULL, 10) + 1;
}

static void
on_fd_removed (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  /* Best effort: QEMU drops an fd set nobody uses when its fds go. */
}

static void
remove_fdset (SandboxDisk *disk)
{
  QemuReply reply = { DISK_QMP_TIMEOUT_MS, on_fd_removed, NULL };
  qemu_monitor_remove_fd (disk->sb->qmp, fdset_id (disk), &reply);
}

void
sandbox_disk_free (SandboxDisk *disk)
{
  SandboxDiskDone done = g_steal_pointer (&disk->done);
  if (done)
    {
      g_autoptr (GError) error
          = g_error_new (SANDBOX_ERROR, SANDBOX_ERROR_GONE, "sandbox %s went away", disk->sb->name);
      done (disk->sb, NULL, error, disk->done_data);
    }
  g_free (disk->id);
  g_free (disk->path);
  g_free (disk);
}

static JsonObject *
disk_to_json (SandboxDisk *disk)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "disk_id", disk->id);
  json_object_set_string_member (o, "path", disk->path);
  json_object_set_boolean_member (o, "read_only", disk->read_only);
  json_object_set_int_member (o, "scsi_id", disk->scsi_id);
  json_object_set_string_member (o, "state", disk->attached ? "attached" : "changing");
  return o;
}

JsonArray *
sandbox_disks_to_json (Sandbox *sb, gboolean attached_only)
{
  JsonArray *disks = json_array_new ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, sb->disks);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (!attached_only || ((SandboxDisk *) value)->attached)
      json_array_add_object_element (disks, disk_to_json (value));
  return disks;
}

static void
finish_call (SandboxDisk *disk, JsonObject *result, const GError *error, const char *what)
{
  SandboxDiskDone done = g_steal_pointer (&disk->done);
  if (done == NULL)
    {
      if (result)
        json_object_unref (result);
      return;
    }
  if (error)
    {
      g_autoptr (GError) e
          = g_error_new (SANDBOX_ERROR, SANDBOX_ERROR_STATE, "%s %s of sandbox %s: %s", what,
                         disk->id, disk->sb->name, error->message);
      if (result)
        json_object_unref (result);
      done (disk->sb, NULL, e, disk->done_data);
    }
  else
    done (disk->sb, result, NULL, disk->done_data);
}

/* After its block node is gone (or never came): its fd set goes too. */
static void
remove_disk (SandboxDisk *disk)
{
  Sandbox *sb = disk->sb;
  if (sb->qmp && qmp_client_is_connected (sb->qmp))
    remove_fdset (disk);
  g_hash_table_remove (sb->disks, disk->id);
  sb->ops->save (sb);
}

gboolean
sandbox_disk_restore (Sandbox *sb, JsonObject *o, GError **error)
{
  const char *id = NULL, *path = NULL;
  gboolean read_only = TRUE;
  gint64 scsi_id = 0;
  if (!json_field_string (o, "disk_id", TRUE, &id, error)
      || !json_field_string (o, "path", TRUE, &path, error)
      || !json_field_bool (o, "read_only", TRUE, &read_only, error)
      || !json_field_int (o, "scsi_id", TRUE, 0, MAX_DISKS - 1, &scsi_id, error))
    return FALSE;
  guint n = 0;
  if (sscanf (id, "disk-%u", &n) != 1 || g_hash_table_contains (sb->disks, id))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad disk_id \"%s\"", id);
      return FALSE;
    }
  SandboxDisk *disk = g_new0 (SandboxDisk, 1);
  disk->sb = sb;
  disk->id = g_strdup (id);
  disk->path = g_strdup (path);
  disk->read_only = read_only;
  disk->scsi_id = (guint) scsi_id;
  disk->attached = TRUE;
  g_hash_table_insert (sb->disks, disk->id, disk);
  sb->next_disk = MAX (sb->next_disk, n + 1);
  return TRUE;
}

static void
on_attach_rollback (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  /* Best effort: the node is unused either way. */
}

static void
on_device_added (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  SandboxDisk *disk = data;
  if (error)
    {
      QemuReply reply = { DISK_QMP_TIMEOUT_MS, on_attach_rollback, NULL };
      qemu_monitor_blockdev_del (qmp, disk->id, &reply);
      finish_call (disk, NULL, error, "attach");
      remove_disk (disk);
      return;
    }
  disk->attached = TRUE;
  finish_call (disk, disk_to_json (disk), NULL, "attach");
  disk->sb->ops->save (disk->sb);
}

static void
on_blockdev_added (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  SandboxDisk *disk = data;
  if (error)
    {
      finish_call (disk, NULL, error, "attach");
      remove_disk (disk);
      return;
    }
  g_autofree char *dev = device_id (disk);
  QemuReply reply = { DISK_QMP_TIMEOUT_MS, on_device_added, disk };
  qemu_monitor_device_add_scsi_hd (qmp, dev, QEMU_SCSI_BUS, disk->id, disk->scsi_id, &reply);
}

static void on_blockdev_added (QmpClient *qmp, JsonNode *result, const GError *error,
                               gpointer data);

static void
on_fd_added (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  SandboxDisk *disk = data;
  if (error)
    {
      finish_call (disk, NULL, error, "attach");
      remove_disk (disk);
      return;
    }
  g_autofree char *filename = g_strdup_printf ("/dev/fdset/%" G_GINT64_FORMAT, fdset_id (disk));
  QemuReply reply = { DISK_QMP_TIMEOUT_MS, on_blockdev_added, disk };
  qemu_monitor_blockdev_add_raw (qmp, disk->id, filename, disk->read_only, &reply);
}

static guint
free_scsi_id (Sandbox *sb)
{
  for (guint id = 0; id < MAX_DISKS; id++)
    {
      gboolean used = FALSE;
      GHashTableIter it;
      gpointer value;
      g_hash_table_iter_init (&it, sb->disks);
      while (!used && g_hash_table_iter_next (&it, NULL, &value))
        used = ((SandboxDisk *) value)->scsi_id == id;
      if (!used)
        return id;
    }
  return G_MAXUINT;
}

/* Booting too: a container's mount disks are attached before the agent
 * is asked for it, the first during the boot. */
static gboolean
require_qmp (Sandbox *sb, GError **error)
{
  if ((sb->state == SANDBOX_RUNNING || sb->state == SANDBOX_BOOTING) && sb->qmp
      && qmp_client_is_connected (sb->qmp))
    return TRUE;
  g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_STATE, "sandbox %s is %s, not running", sb->name,
               sandbox_state_to_string (sb->state));
  return FALSE;
}

/* The disk record for @path with an open fd of it (for QEMU, which, jailed,
 * cannot open host paths). The path is opened once, without blocking (a
 * FIFO must not stall the main loop) and through no link at its end, and
 * what was opened is what is checked. */
static SandboxDisk *
new_disk (Sandbox *sb, const char *path, int given_fd, gboolean read_only, int *fd, GError **error)
{
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  guint scsi_id = free_scsi_id (sb);
  if (scsi_id == G_MAXUINT)
    {
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_LIMIT, "sandbox %s already has %d disks",
                   sb->name, MAX_DISKS);
      return NULL;
    }
  *fd = given_fd >= 0
            ? fcntl (given_fd, F_DUPFD_CLOEXEC, 3)
            : open (abs, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  if (*fd < 0 && errno == EISDIR)
    {
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INVALID,
                   "disk image %s is not a regular file or block device", abs);
      return NULL;
    }
  if (*fd < 0 || fstat (*fd, &st) < 0)
    {
      int e = errno;
      g_set_error (error, SANDBOX_ERROR, sandbox_error_from_errno (e), "disk image %s: %s", abs,
                   e == ELOOP ? "a symbolic link (refused: name the file itself)" : g_strerror (e));
      if (*fd >= 0)
        close (*fd);
      *fd = -1;
      return NULL;
    }
  if ((!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
      || fcntl (*fd, F_SETFL, fcntl (*fd, F_GETFL) & ~O_NONBLOCK) < 0)
    {
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INVALID,
                   "disk image %s is not a regular file or block device", abs);
      close (*fd);
      *fd = -1;
      return NULL;
    }
  SandboxDisk *disk = g_new0 (SandboxDisk, 1);
  disk->sb = sb;
  disk->id = g_strdup_printf ("disk-%u", sb->next_disk++);
  disk->path = g_steal_pointer (&abs);
  disk->read_only = read_only;
  disk->scsi_id = scsi_id;
  g_hash_table_insert (sb->disks, disk->id, disk);
  return disk;
}

int
sandbox_disk_add_boot (Sandbox *sb, const char *path, SandboxBootDisk *boot, GError **error)
{
  int fd = -1;
  SandboxDisk *disk = new_disk (sb, path, -1, TRUE, &fd, error);
  if (disk == NULL)
    return -1;
  disk->attached = TRUE;
  boot->node = disk->id;
  boot->fdset = fdset_id (disk);
  boot->scsi_id = disk->scsi_id;
  return fd;
}

const char *
sandbox_disk_attach (Sandbox *sb, const char *path, gboolean read_only, SandboxDiskDone done,
                     gpointer data, GError **error)
{
  return sandbox_disk_attach_fd (sb, path, -1, read_only, done, data, error);
}

const char *
sandbox_disk_attach_fd (Sandbox *sb, const char *path, int given_fd, gboolean read_only,
                        SandboxDiskDone done, gpointer data, GError **error)
{
  int fd = -1;
  SandboxDisk *disk
      = require_qmp (sb, error) ? new_disk (sb, path, given_fd, read_only, &fd, error) : NULL;
  if (disk == NULL)
    return NULL;
  disk->done = done;
  disk->done_data = data;
  QemuReply reply = { DISK_QMP_TIMEOUT_MS, on_fd_added, disk };
  qemu_monitor_add_fd (sb->qmp, fdset_id (disk), fd, &reply);
  close (fd);
  return disk->id;
}

guint
sandbox_disk_scsi_id (Sandbox *sb, const char *disk_id)
{
  SandboxDisk *disk = g_hash_table_lookup (sb->disks, disk_id);
  return disk ? disk->scsi_id : G_MAXUINT;
}

void
sandbox_disk_answer_task (Sandbox *sb, JsonObject *result, const GError *error, gpointer data)
{
  if (error)
    sandbox_reply_gerror (data, error);
  else
    sandbox_reply_json (data, result);
}

void
sandbox_attach_disk_async (Sandbox *sb, const char *path, int fd, gboolean read_only,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  if (sb->state != SANDBOX_RUNNING)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "sandbox %s is %s, not running", sb->name,
                         sandbox_state_to_string (sb->state));
  else if (!sandbox_disk_attach_fd (sb, path, fd, read_only, sandbox_disk_answer_task, task,
                                    &error))
    sandbox_reply_gerror (task, error);
}

static void
on_blockdev_deleted (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  SandboxDisk *disk = data;
  JsonObject *res = json_object_new ();
  json_object_set_string_member (res, "disk_id", disk->id);
  finish_call (disk, res, error, "detach");
  remove_disk (disk);
}

void
sandbox_disk_device_deleted (Sandbox *sb, const char *device)
{
  if (device == NULL || !g_str_has_prefix (device, "dev-"))
    return;
  SandboxDisk *disk = g_hash_table_lookup (sb->disks, device + strlen ("dev-"));
  if (disk == NULL || disk->attached)
    return;
  /* The guest let go of the device; now the block node can go. */
  QemuReply reply = { DISK_QMP_TIMEOUT_MS, on_blockdev_deleted, disk };
  qemu_monitor_blockdev_del (sb->qmp, disk->id, &reply);
}

static void
on_device_del (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  SandboxDisk *disk = data;
  if (error)
    {
      disk->attached = TRUE;
      finish_call (disk, NULL, error, "detach");
    }
  /* Otherwise DEVICE_DELETED continues the detach. */
}

gboolean
sandbox_disk_detach (Sandbox *sb, const char *disk_id, SandboxDiskDone done, gpointer data,
                     GError **error)
{
  SandboxDisk *disk = g_hash_table_lookup (sb->disks, disk_id);
  if (disk == NULL)
    {
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_NOT_FOUND, "sandbox %s has no disk \"%s\"",
                   sb->name, disk_id);
      return FALSE;
    }
  if (!require_qmp (sb, error))
    return FALSE;
  if (!disk->attached || disk->done)
    {
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_STATE,
                   "disk %s of sandbox %s is being attached or detached", disk_id, sb->name);
      return FALSE;
    }
  disk->attached = FALSE;
  disk->done = done;
  disk->done_data = data;
  g_autofree char *dev = device_id (disk);
  QemuReply reply = { DISK_QMP_TIMEOUT_MS, on_device_del, disk };
  qemu_monitor_device_del (sb->qmp, dev, &reply);
  return TRUE;
}
