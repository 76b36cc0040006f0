#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static gboolean
mount_one (const char *source, const char *target, const char *type, unsigned long flags,
           const char *data, GError **error)
{
  if (g_mkdir_with_parents (target, 0755) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "mkdir %s: %s", target,
                   g_strerror (e));
      return FALSE;
    }
  if (mount (source, target, type, flags, data) < 0 && errno != EBUSY)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "mount %s on %s: %s", type, target,
                   g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
agent_system_mount (GError **error)
{
  const unsigned long nodev = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (!mount_one ("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", error)
      || !mount_one ("proc", "/proc", "proc", nodev, NULL, error)
      || !mount_one ("sysfs", "/sys", "sysfs", nodev, NULL, error)
      || !mount_one ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", error)
      || !mount_one ("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", error)
      || !mount_one ("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620", error))
    return FALSE;
  /* Containers' limits; a kernel without cgroup2 just has none. */
  if (!mount_one ("cgroup2", "/sys/fs/cgroup", "cgroup2", nodev, NULL, error))
    g_clear_error (error);

  /* The initramfs has no /dev/console, so the kernel gave us no stdio. */
  int fd = open ("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0)
    {
      dup2 (fd, 0);
      dup2 (fd, 1);
      dup2 (fd, 2);
      if (fd > 2)
        close (fd);
    }
  return TRUE;
}

/* Loads the modules @list_path names, in order. A kernel whose drivers are
 * built in (sandboxd's own, kernel/) has an initramfs without the list, and
 * answers ENOSYS when it has no module support at all: both mean there is
 * nothing to load; a driver truly missing shows when its device does not. */
gboolean
agent_system_load_modules (const char *list_path, GError **error)
{
  g_autofree char *contents = NULL;
  GError *read_error = NULL;
  if (!g_file_get_contents (list_path, &contents, NULL, &read_error))
    {
      if (g_error_matches (read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_error_free (read_error);
          return TRUE;
        }
      g_propagate_error (error, read_error);
      return FALSE;
    }

  /* The builder wrote the list in dependency order (virtio_ring before
   * virtio, and so on), so a plain walk loads each after what it needs. */
  g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      const char *path = g_strstrip (*l);
      if (*path == '\0' || *path == '#')
        continue;
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "open module %s: %s", path,
                       g_strerror (e));
          return FALSE;
        }
      long r = syscall (SYS_finit_module, fd, "", 0);
      int e = errno;
      close (fd);
      if (r < 0 && e == ENOSYS)
        return TRUE;
      if (r < 0 && e != EEXIST)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "load module %s: %s", path,
                       g_strerror (e));
          return FALSE;
        }
    }
  return TRUE;
}

/* Finds the port device whose sysfs name is @name, e.g. "vport0p1". */
static char *
find_port_device (const char *name)
{
  g_autoptr (GDir) dir = g_dir_open ("/sys/class/virtio-ports", 0, NULL);
  if (dir == NULL)
    return NULL;
  const char *ent;
  while ((ent = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/sys/class/virtio-ports/%s/name", ent);
      g_autofree char *content = NULL;
      if (g_file_get_contents (path, &content, NULL, NULL)
          && g_strcmp0 (g_strstrip (content), name) == 0)
        return g_strdup (ent);
    }
  return NULL;
}

int
agent_system_open_port (const char *name, int timeout_ms, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  int last_errno = ENOENT;

  /* The port shows up asynchronously after virtio_console loads, and its
   * node may answer ENXIO for a moment after that: retry both. */
  for (;;)
    {
      g_autofree char *dev = find_port_device (name);
      if (dev != NULL)
        {
          g_autofree char *node = g_strdup_printf ("/dev/%s", dev);
          int fd = open (node, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
          if (fd >= 0)
            {
              g_mkdir_with_parents ("/dev/virtio-ports", 0755);
              g_autofree char *link = g_strdup_printf ("/dev/virtio-ports/%s", name);
              (void) symlink (node, link);
              return fd;
            }
          last_errno = errno;
        }
      if (g_get_monotonic_time () > deadline)
        break;
      g_usleep (10 * 1000);
    }
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (last_errno),
               "virtio-serial port %s did not appear within %d ms: %s", name, timeout_ms,
               g_strerror (last_errno));
  return -1;
}

void
agent_system_power_off (void)
{
  /* Outside a guest (--port-fd, --port: tests on the host) "power off"
   * means the agent ends, never the machine it runs on. */
  if (getpid () != 1)
    _exit (0);
  sync ();
  reboot (RB_POWER_OFF);
  /* If power-off is not possible, a reboot ends QEMU too (-no-reboot). */
  reboot (RB_AUTOBOOT);
  _exit (1);
}

char *
agent_system_kernel_release (void)
{
  struct utsname u;
  if (uname (&u) < 0)
    return g_strdup ("unknown");
  return g_strdup (u.release);
}

gint64
agent_system_uptime_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_BOOTTIME, &ts);
  return (gint64) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

GArray *
agent_system_open_input_devices (void)
{
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GDir) dir = g_dir_open ("/dev/input", 0, NULL);
  const char *ent;
  while (dir && (ent = g_dir_read_name (dir)) != NULL)
    {
      if (!g_str_has_prefix (ent, "event"))
        continue;
      g_autofree char *path = g_build_filename ("/dev/input", ent, NULL);
      int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0)
        g_array_append_val (fds, fd);
    }
  return fds;
}

char *
agent_system_cmdline_value (const char *key)
{
  g_autofree char *cmdline = NULL;
  if (!g_file_get_contents ("/proc/cmdline", &cmdline, NULL, NULL))
    return NULL;
  g_auto (GStrv) words = g_strsplit_set (g_strstrip (cmdline), " ", 0);
  gsize len = strlen (key);
  for (char **w = words; *w; w++)
    if (strncmp (*w, key, len) == 0 && (*w)[len] == '=')
      return g_strdup (*w + len + 1);
  return NULL;
}

void
agent_system_set_hostname (void)
{
  g_autofree char *name = agent_system_cmdline_value ("sandboxd.hostname");
  if (name && *name && sethostname (name, strlen (name)) < 0)
    fprintf (stderr, "sandbox-agent: sethostname %s: %s\n", name, g_strerror (errno));
}
