#include "qemu.h"

#include "accel.h"
#include "agent-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

static void
add (GPtrArray *a, ...)
{
  va_list ap;
  va_start (ap, a);
  const char *s;
  while ((s = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (a, g_strdup (s));
  va_end (ap);
}

static void G_GNUC_PRINTF (2, 3) addf (GPtrArray *a, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_ptr_array_add (a, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

GStrv
qemu_build_argv (const Daemon *d, const QemuConfig *cfg)
{
  GPtrArray *a = g_ptr_array_new ();
  g_autofree char *qmp = g_build_filename (cfg->dir, QEMU_QMP_SOCKET, NULL);
  g_autofree char *agent = g_build_filename (cfg->dir, QEMU_AGENT_SOCKET, NULL);
  g_autofree char *console = g_build_filename (cfg->dir, QEMU_CONSOLE_LOG, NULL);
  gboolean kvm = d->accel == ACCEL_KVM;

  /* pit/pic/rtc: without them a TCG guest can wait for a timer forever. */
  add (a, d->qemu, "-M", "microvm,pit=on,pic=on,rtc=on", "-accel", accel_to_string (d->accel),
       "-cpu", kvm ? "host" : "max", NULL);
  add (a, "-m", NULL);
  addf (a, "%u", cfg->memory_mb);
  add (a, "-smp", NULL);
  addf (a, "%u", cfg->cpus);
  add (a, "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-kernel", d->kernel,
       "-initrd", d->initramfs, NULL);

  /* Under TCG the kernel cannot calibrate the TSC against the PIT reliably
   * (about one boot in five hangs); tell it the rate instead. */
  /* sandboxd.hostname is read by the agent (names are [A-Za-z0-9._-]). */
  g_autofree char *tsc
      = !kvm && d->tsc_khz ? g_strdup_printf (" tsc_early_khz=%u", d->tsc_khz) : g_strdup ("");
  add (a, "-append", NULL);
  addf (a, "console=ttyS0 quiet panic=-1%s sandboxd.hostname=%s", tsc, cfg->hostname);

  add (a, "-chardev", NULL);
  addf (a, "file,id=console,path=%s", console);
  add (a, "-serial", "chardev:console", "-qmp", NULL);
  addf (a, "unix:%s,server=on,wait=off", qmp);

  /* Disks come and go on this controller (hot-plugged over QMP). */
  add (a, "-device", "virtio-scsi-device,id=scsi0", NULL);

  /* QEMU serves the agent socket, so the daemon can reconnect to it. */
  add (a, "-device", "virtio-serial-device", "-chardev", NULL);
  addf (a, "socket,id=agent,path=%s,server=on,wait=off", agent);
  add (a, "-device", "virtserialport,chardev=agent,name=" AGENT_PORT_NAME, NULL);
  g_ptr_array_add (a, NULL);
  return (GStrv) g_ptr_array_free (a, FALSE);
}

gboolean
qemu_spawn (const Daemon *daemon, const QemuConfig *config, GPid *pid, GError **error)
{
  g_auto (GStrv) argv = qemu_build_argv (daemon, config);
  g_autofree char *log_path = g_build_filename (config->dir, QEMU_LOG, NULL);
  int log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "create %s: %s", log_path,
                   g_strerror (e));
      return FALSE;
    }
  g_autofree char *cmdline = g_strjoinv (" ", argv);
  g_autofree char *header = g_strdup_printf ("# %s\n", cmdline);
  (void) !write (log_fd, header, strlen (header));

  int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  gboolean ok = g_spawn_async_with_fds (config->dir, argv, NULL,
                                        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CLOEXEC_PIPES, NULL,
                                        NULL, pid, null_fd, log_fd, log_fd, error);
  close (log_fd);
  if (null_fd >= 0)
    close (null_fd);
  return ok;
}

char *
qemu_file_tail (const char *path, gsize max_bytes)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &contents, &len, NULL))
    return g_strdup ("");
  const char *start = contents + (len > max_bytes ? len - max_bytes : 0);
  g_autofree char *valid = g_utf8_make_valid (start, -1);
  return g_strdup (g_strstrip (valid));
}
