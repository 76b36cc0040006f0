/* volumes.c — host directories shared with a guest: virtiofsd, one per
 * volume, started, confined and ended here (volumes.h). */
#include "volumes.h"

#include "json-fields.h"
#include "proc-stat.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

Volume *
volume_new (const char *tag, const char *source, int source_fd, const char *destination,
            gboolean in_container, gboolean readonly, guint uid, guint gid)
{
  Volume *v = g_new0 (Volume, 1);
  v->source_fd = source_fd >= 0 ? fcntl (source_fd, F_DUPFD_CLOEXEC, 3) : -1;
  v->tag = g_strdup (tag);
  v->source = g_strdup (source);
  v->destination = g_strdup (destination);
  v->in_container = in_container;
  v->readonly = readonly;
  v->uid = uid;
  v->gid = gid;
  v->qemu_fd = -1;
  v->pidfd = -1;
  return v;
}

void
volume_free (Volume *v)
{
  if (v == NULL)
    return;
  g_clear_handle_id (&v->watch, g_source_remove);
  if (v->qemu_fd >= 0)
    close (v->qemu_fd);
  if (v->source_fd >= 0)
    close (v->source_fd);
  if (v->pidfd >= 0)
    close (v->pidfd);
  g_free (v->tag);
  g_free (v->source);
  g_free (v->destination);
  g_free (v);
}

JsonObject *
volume_to_json (const Volume *v)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "tag", v->tag);
  json_object_set_string_member (o, "source", v->source);
  json_object_set_string_member (o, "destination", v->destination);
  json_object_set_boolean_member (o, "in_container", v->in_container);
  json_object_set_boolean_member (o, "readonly", v->readonly);
  json_object_set_int_member (o, "uid", v->uid);
  json_object_set_int_member (o, "gid", v->gid);
  if (v->pid > 0)
    {
      json_object_set_int_member (o, "server_pid", v->pid);
      json_object_set_int_member (o, "server_start_time", (gint64) v->start_time);
    }
  return o;
}

Volume *
volume_from_json (JsonObject *o, GError **error)
{
  const char *tag = NULL, *source = NULL, *dest = NULL;
  gboolean in_container = FALSE, readonly = FALSE;
  gint64 uid = 0, gid = 0, pid = 0, start = 0;
  if (!json_field_string (o, "tag", TRUE, &tag, error)
      || !json_field_string (o, "source", TRUE, &source, error)
      || !json_field_string (o, "destination", TRUE, &dest, error)
      || !json_field_bool (o, "in_container", FALSE, &in_container, error)
      || !json_field_bool (o, "readonly", FALSE, &readonly, error)
      || !json_field_int (o, "uid", TRUE, 1, G_MAXUINT32 - 1, &uid, error)
      || !json_field_int (o, "gid", TRUE, 0, G_MAXUINT32 - 1, &gid, error)
      || !json_field_int (o, "server_pid", FALSE, 0, G_MAXINT32, &pid, error)
      || !json_field_int (o, "server_start_time", FALSE, 0, G_MAXINT64, &start, error))
    return NULL;
  Volume *v = volume_new (tag, source, -1, dest, in_container, readonly, (guint) uid, (guint) gid);
  v->pid = (GPid) pid;
  v->start_time = (guint64) start;
  return v;
}

JsonArray *
volumes_to_json (GPtrArray *volumes)
{
  JsonArray *a = json_array_new ();
  for (guint i = 0; i < volumes->len; i++)
    json_array_add_object_element (a, volume_to_json (volumes->pdata[i]));
  return a;
}

char *
volumes_kernel_args (GPtrArray *volumes)
{
  if (volumes == NULL || volumes->len == 0)
    return g_strdup ("");
  GString *s = g_string_new (" sandboxd.volumes=");
  for (guint i = 0; i < volumes->len; i++)
    {
      const Volume *v = volumes->pdata[i];
      g_string_append_printf (s, "%s%s:%s", i ? "," : "", v->tag, v->readonly ? "ro" : "rw");
      if (!v->in_container)
        g_string_append_printf (s, ":%s", v->destination);
    }
  return g_string_free (s, FALSE);
}

int
volume_prepare (Volume *v, const char *dir, GError **error)
{
  g_autofree char *path = g_strdup_printf ("%s/%s.sock", dir, v->tag);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INTERNAL,
                   "volume %s: the socket path %s is too long", v->destination, path);
      return -1;
    }
  strcpy (addr.sun_path, path);
  unlink (path);
  int listener = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int client = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  /* Bound, listened on and connected to before anyone else could: the
   * directory is sandboxd's, and the name goes right after. */
  gboolean ok = listener >= 0 && client >= 0
                && bind (listener, (struct sockaddr *) &addr, sizeof addr) == 0
                && listen (listener, 1) == 0
                && connect (client, (struct sockaddr *) &addr, sizeof addr) == 0;
  int e = errno;
  unlink (path);
  if (!ok)
    {
      if (listener >= 0)
        close (listener);
      if (client >= 0)
        close (client);
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INTERNAL, "volume %s: socket %s: %s",
                   v->destination, path, g_strerror (e));
      return -1;
    }
  if (v->qemu_fd >= 0)
    close (v->qemu_fd);
  v->qemu_fd = client;
  return listener;
}

typedef struct
{
  const VolumeServerSpec *spec;
  Volume *v;
} Placement;

static gboolean
place_server (GPid pid, gpointer data, GError **error)
{
  Placement *p = data;
  p->v->pid = pid;
  p->v->start_time = proc_stat_start_time (pid);
  return p->spec->cgroup == NULL
         || cgroup_add_process (p->spec->cgroups, p->spec->cgroup, pid, error);
}

static void
on_server_exit (GPid pid, int status, gpointer data)
{
  Volume *v = data;
  v->watch = 0;
  g_spawn_close_pid (pid);
  if (v->pid != pid)
    return;
  v->pid = 0;
  if (v->exited)
    v->exited (v, status, v->exited_data);
}

/* What virtiofsd needs of its namespace's root: its own sandbox (mount,
 * pid and net namespaces, pivot_root: SYS_ADMIN, SETPCAP for its
 * capability set) and acting for the guest's users on their files. No
 * device node can be made or opened (a user namespace's CAP_MKNOD makes
 * none, and the directory is bound nodev). */
#define SERVER_CAPS                                                                                \
  ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID)  \
   | (1ULL << CAP_SETGID) | (1ULL << CAP_SETUID) | (1ULL << CAP_MKNOD) | (1ULL << CAP_SETFCAP)     \
   | (1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_SETPCAP))

/* Where the server sees the volume: on a fresh tmpfs over /tmp in its own
 * mount namespace (the jail's scratch), so its user need not be able to
 * reach the directory's host path, or sandboxd's directories. */
#define SERVER_SCRATCH "/tmp"
#define SERVER_MOUNT_POINT SERVER_SCRATCH "/volume"

gboolean
volume_start (Volume *v, const VolumeServerSpec *spec, int listen_fd, GError **error)
{
  g_autofree char *fd_arg = g_strdup_printf ("--fd=%d", listen_fd);
  if (v->source_fd < 0)
    {
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INTERNAL,
                   "volume %s: its directory is not open (it is served once)", v->destination);
      return FALSE;
    }
  int log_fd = open (spec->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int e = errno;
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_INTERNAL, "create %s: %s", spec->log_path,
                   g_strerror (e));
      return FALSE;
    }
  g_autofree char *source_arg = g_strdup_printf ("source=%s", SERVER_MOUNT_POINT);
  /* cache=auto: what one side writes, the other sees at its next open
   * (close-to-open), and names and attributes within a second. */
  char *argv[] = { (char *) spec->virtiofsd,
                   fd_arg,
                   "-o",
                   source_arg,
                   "-o",
                   "cache=auto",
                   "-o",
                   "sandbox=namespace",
                   "--rlimit-nofile=0",
                   NULL };
  g_autofree char *cmdline = g_strjoinv (" ", argv);
  g_autofree char *header
      = g_strdup_printf ("# volume %s (%s), %s at %s, uid %u gid %u: %s\n", v->destination, v->tag,
                         v->source, SERVER_MOUNT_POINT, v->uid, v->gid, cmdline);
  (void) !write (log_fd, header, strlen (header));
  Placement placement = { spec, v };
  g_auto (JailSpec) jail;
  jail_spec_init (&jail, argv, log_fd);
  jail.clone_flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
  jail.hostname = "volume";
  jail.user_ns = TRUE;
  jail.scratch = SERVER_SCRATCH;
  jail.uid = v->uid;
  jail.gid = v->gid;
  jail.keep_caps = SERVER_CAPS;
  /* One open file per inode the guest holds: a file server needs many
   * (as many as sandboxd may have; in its user namespace it could not
   * raise the limit). */
  struct rlimit files = { 0 };
  getrlimit (RLIMIT_NOFILE, &files);
  jail.open_files = (guint) MIN (files.rlim_max, 65536);
  jail.place = place_server;
  jail.place_data = &placement;
  /* The directory on its mount point: nothing set-uid or a device there
   * counts for the server. */
  jail_spec_pass_fd (&jail, listen_fd);
  GPid pid = 0;
  gboolean ok
      = jail_spec_bind_fd (&jail, v->source_fd, SERVER_MOUNT_POINT, !v->readonly, MS_NODEV, error)
        && jail_spawn (&jail, &pid, error);
  close (log_fd);
  if (!ok)
    {
      v->pid = 0;
      g_prefix_error (error, "volume %s: its file server (virtiofsd): ", v->destination);
      return FALSE;
    }
  v->watch = g_child_watch_add (pid, on_server_exit, v);
  close (v->source_fd);
  v->source_fd = -1;
  return TRUE;
}

static gboolean
on_server_pidfd (int fd, GIOCondition cond, gpointer data)
{
  Volume *v = data;
  v->watch = 0;
  close (v->pidfd);
  v->pidfd = -1;
  v->pid = 0;
  if (v->exited)
    v->exited (v, -1, v->exited_data);
  return G_SOURCE_REMOVE;
}

gboolean
volume_reattach (Volume *v)
{
  int fd = proc_stat_pidfd (v->pid, v->start_time);
  if (fd < 0)
    return FALSE;
  v->pidfd = fd;
  v->watch = g_unix_fd_add (fd, G_IO_IN, on_server_pidfd, v);
  return TRUE;
}

void
volume_stop (Volume *v)
{
  if (v == NULL || v->pid <= 0)
    return;
  if (v->pidfd >= 0)
    syscall (SYS_pidfd_send_signal, v->pidfd, SIGKILL, NULL, 0);
  else if (proc_stat_start_time (v->pid) == v->start_time)
    kill (v->pid, SIGKILL);
  if (v->watch == 0 || v->pidfd >= 0)
    {
      /* not our child (found again): nothing to reap */
      g_clear_handle_id (&v->watch, g_source_remove);
      if (v->pidfd >= 0)
        close (v->pidfd);
      v->pidfd = -1;
      v->pid = 0;
    }
}
