#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *
accel_to_string (Accel accel)
{
  return accel == ACCEL_KVM ? "kvm" : "tcg";
}

/* How long a guest under KVM may take to reach its init and power off;
 * a usable KVM needs well under a second. */
#define PROBE_TIMEOUT_MS 5000

/* The probe's QEMU dies with sandboxd: one left behind by a sandboxd killed
 * mid-probe would spin in its KVM for good. */
static void
die_with_parent (gpointer unused)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Kills and reaps the probe's QEMU. */
static void
probe_end (GPid pid)
{
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
}

/* Boots the real guest kernel and initramfs under KVM with busybox's
 * `poweroff -f` as init: KVM is usable only if that guest gets to its
 * init and powers off. Starting QEMU, even a paused vCPU, proves nothing:
 * on a PVM host (kvm_pvm, nested clouds) /dev/kvm opens and QEMU starts,
 * then a stock guest stops on an emulation failure ("KVM internal error")
 * a few instructions into the kernel, QEMU waits forever, and so would
 * every sandbox. */
static gboolean
probe_kvm (const char *qemu, const char *kernel, const char *initramfs, char **why)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      *why = g_strdup_printf ("/dev/kvm: %s", g_strerror (errno));
      return FALSE;
    }
  close (fd);

  const char *argv[] = { qemu,
                         "-M",
                         "microvm",
                         "-accel",
                         "kvm",
                         "-cpu",
                         "host",
                         "-m",
                         "128",
                         "-nodefaults",
                         "-no-user-config",
                         "-display",
                         "none",
                         "-no-reboot",
                         "-kernel",
                         kernel,
                         "-initrd",
                         initramfs,
                         "-append",
                         "quiet panic=-1 rdinit=/bin/busybox -- poweroff -f",
                         NULL };
  g_autoptr (GError) error = NULL;
  GPid pid = 0;
  int err_fd = -1;
  if (!g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                 die_with_parent, NULL, &pid, NULL, NULL, &err_fd, &error))
    {
      *why = g_strdup_printf ("cannot run %s: %s", qemu, error->message);
      return FALSE;
    }
  /* QEMU's stderr ends when it exits; what it says on the way decides
   * early (an internal error leaves it running, paused). */
  g_autoptr (GString) said = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + PROBE_TIMEOUT_MS * G_GINT64_CONSTANT (1000);
  gboolean eof = FALSE;
  while (!eof && !strstr (said->str, "internal error") && said->len < 65536)
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      struct pollfd pfd = { .fd = err_fd, .events = POLLIN };
      int ready = left > 0 ? poll (&pfd, 1, (int) left) : 0;
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready <= 0)
        break;
      char buf[4096];
      ssize_t n = read (err_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        eof = TRUE;
      else
        g_string_append_len (said, buf, n);
    }
  close (err_fd);
  int status = 0;
  gboolean exited = FALSE;
  while (eof && g_get_monotonic_time () < deadline)
    {
      pid_t r = waitpid (pid, &status, WNOHANG);
      if (r == pid || (r < 0 && errno != EINTR))
        {
          exited = r == pid;
          break;
        }
      g_usleep (10000);
    }
  if (!exited)
    probe_end (pid);
  g_spawn_close_pid (pid);
  if (exited && WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;
  g_autofree char *first = g_strdup (g_strstrip (said->str));
  char *nl = strchr (first, '\n');
  if (nl)
    *nl = '\0';
  if (*first)
    *why = g_strdup_printf ("a guest cannot run under this host's KVM (QEMU: %s)", first);
  else if (!exited)
    *why = g_strdup_printf ("a guest under this host's KVM did not power off within %d s",
                            PROBE_TIMEOUT_MS / 1000);
  else
    *why = g_strdup ("a guest under this host's KVM failed");
  return FALSE;
}

/* What the probe's verdict depends on: this boot of the host, the QEMU
 * binary, the guest files and /dev/kvm (a module loaded or replaced). */
static char *
probe_key (const char *qemu, const char *kernel, const char *initramfs)
{
  g_autofree char *boot_id = NULL;
  g_file_get_contents ("/proc/sys/kernel/random/boot_id", &boot_id, NULL, NULL);
  GString *key = g_string_new (boot_id ? g_strstrip (boot_id) : "?");
  const char *paths[] = { qemu, kernel, initramfs, "/dev/kvm" };
  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      struct stat st = { 0 };
      stat (paths[i], &st);
      g_string_append_printf (key, " %s:%ju:%ju:%ju:%jd.%09ld:%ju", paths[i], (uintmax_t) st.st_dev,
                              (uintmax_t) st.st_ino, (uintmax_t) st.st_size,
                              (intmax_t) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                              (uintmax_t) st.st_rdev);
    }
  return g_string_free (key, FALSE);
}

/* The verdict of an earlier probe with the same key: a restart of sandboxd
 * (and every private daemon of the test suites) skips a probe that may
 * take PROBE_TIMEOUT_MS on a host whose KVM hangs guests. */
static gboolean
probe_cached (const char *cache, const char *key, gboolean *usable, char **why)
{
  g_autofree char *text = NULL;
  if (cache == NULL || !g_file_get_contents (cache, &text, NULL, NULL))
    return FALSE;
  g_auto (GStrv) lines = g_strsplit (text, "\n", 3);
  if (g_strv_length (lines) < 3 || !g_str_equal (lines[0], key)
      || (!g_str_equal (lines[1], "kvm") && !g_str_equal (lines[1], "tcg")))
    return FALSE;
  *usable = g_str_equal (lines[1], "kvm");
  *why = g_strdup (g_strstrip (lines[2]));
  return TRUE;
}

gboolean
accel_choose (const AccelProbe *probe, const char *requested, Accel *accel, char **reason,
              GError **error)
{
  if (g_str_equal (requested, "tcg"))
    {
      *accel = ACCEL_TCG;
      *reason = g_strdup ("TCG requested with --accel tcg");
      return TRUE;
    }
  if (!g_str_equal (requested, "kvm") && !g_str_equal (requested, "auto"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--accel must be auto, kvm or tcg, not \"%s\"", requested);
      return FALSE;
    }
  g_autofree char *why = NULL;
  g_autofree char *key = probe_key (probe->qemu, probe->kernel, probe->initramfs);
  gboolean usable = FALSE;
  gboolean cached = probe_cached (probe->cache, key, &usable, &why);
  if (!cached)
    {
      usable = probe_kvm (probe->qemu, probe->kernel, probe->initramfs, &why);
      g_autofree char *text
          = g_strdup_printf ("%s\n%s\n%s\n", key, usable ? "kvm" : "tcg", usable ? "" : why);
      if (probe->cache)
        g_file_set_contents_full (probe->cache, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                  NULL);
    }
  if (cached && !usable)
    {
      char *remembered
          = g_strdup_printf ("%s (remembered from an earlier start on this boot)", why);
      g_free (why);
      why = remembered;
    }
  if (usable)
    {
      *accel = ACCEL_KVM;
      *reason = g_strdup_printf ("KVM is usable (a guest booted with it%s)",
                                 cached ? "; remembered from an earlier start" : "");
      return TRUE;
    }
  if (g_str_equal (requested, "kvm"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "--accel kvm: %s", why);
      return FALSE;
    }
  *accel = ACCEL_TCG;
  *reason = g_strdup_printf ("TCG (software emulation): %s", why);
  return TRUE;
}

guint
accel_host_tsc_khz (void)
{
  g_autofree char *cpuinfo = NULL;
  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return 0;
  const char *p = strstr (cpuinfo, "cpu MHz");
  if (p == NULL || (p = strchr (p, ':')) == NULL)
    return 0;
  double mhz = g_ascii_strtod (p + 1, NULL);
  return mhz > 0 ? (guint) (mhz * 1000.0) : 0;
}
