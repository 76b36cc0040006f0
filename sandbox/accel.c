#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *
accel_to_string (Accel accel)
{
  return accel == ACCEL_KVM ? "kvm" : "tcg";
}

/* Starts QEMU paused with KVM and quits it over QMP on stdio. A QEMU that
 * cannot drive this host's KVM aborts here instead of in a guest. */
static gboolean
probe_kvm (const char *qemu, char **why)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      *why = g_strdup_printf ("/dev/kvm: %s", g_strerror (errno));
      return FALSE;
    }
  close (fd);

  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_new (
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
          | G_SUBPROCESS_FLAGS_STDERR_PIPE,
      &error, qemu, "-M", "microvm", "-accel", "kvm", "-cpu", "host", "-m", "16", "-nodefaults",
      "-no-user-config", "-display", "none", "-S", "-qmp", "stdio", NULL);
  if (proc == NULL)
    {
      *why = g_strdup_printf ("cannot run %s: %s", qemu, error->message);
      return FALSE;
    }
  const char *input = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";
  g_autofree char *err_text = NULL;
  if (!g_subprocess_communicate_utf8 (proc, input, NULL, NULL, &err_text, &error))
    {
      *why = g_strdup_printf ("KVM probe: %s", error->message);
      return FALSE;
    }
  if (!g_subprocess_get_successful (proc))
    {
      g_autofree char *first = g_strdup (err_text ? g_strstrip (err_text) : "");
      char *nl = strchr (first, '\n');
      if (nl)
        *nl = '\0';
      *why = g_strdup_printf ("QEMU cannot use KVM here (%s)", *first ? first : "it failed");
      return FALSE;
    }
  return TRUE;
}

gboolean
accel_choose (const char *qemu, const char *requested, Accel *accel, char **reason, GError **error)
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
  if (probe_kvm (qemu, &why))
    {
      *accel = ACCEL_KVM;
      *reason = g_strdup ("KVM is usable");
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
