#include "guest-files.h"

#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <unistd.h>

#define INITRAMFS_NAME "sandbox-initramfs.img"
#define DEFAULT_ROOT_NAME "sandbox-rootfs.tar"
#define NET_HELPER_NAME "sandbox-slirp"

#define OWN_KERNEL_DIR "kernel"
#define GUEST_AGENT_DIR "guest-agent" /* Debian's kernel's initramfs, the built-in root */

/* build/@subdir/@name beside this binary's build/daemon/ when it is there,
 * else LIBEXECDIR/@installed_subdir/@name (NULL: LIBEXECDIR/@name). */
static char *
built_or_installed (const char *subdir, const char *installed_subdir, const char *name)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe)
    {
      g_autofree char *bindir = g_path_get_dirname (exe);
      g_autofree char *in_build = g_build_filename (bindir, "..", subdir, name, NULL);
      if (g_file_test (in_build, G_FILE_TEST_EXISTS))
        return g_canonicalize_filename (in_build, NULL);
    }
  return g_build_filename (SANDBOXD_LIBEXECDIR, installed_subdir ? installed_subdir : name,
                           installed_subdir ? name : NULL, NULL);
}

/* sandboxd's own kernel (kernel/, built without modules) with its
 * initramfs when it was built, else Debian's kernel with guest-agent's. */
static char *
default_initramfs (void)
{
  g_autofree char *own = built_or_installed (OWN_KERNEL_DIR, OWN_KERNEL_DIR, INITRAMFS_NAME);
  g_autofree char *own_kernel = g_strdup_printf ("%.*s.kernel", (int) strlen (own) - 4, own);
  if (g_file_test (own, G_FILE_TEST_EXISTS) && g_file_test (own_kernel, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&own);
  return built_or_installed (GUEST_AGENT_DIR, NULL, INITRAMFS_NAME);
}

char *
net_helper_path (const char *given)
{
  if (given)
    return g_find_program_in_path (given);
  g_autofree char *path = built_or_installed ("network", NULL, NET_HELPER_NAME);
  return g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) ? g_steal_pointer (&path) : NULL;
}

static gboolean
check_readable (const char *what, const char *path, const char *hint, GError **error)
{
  if (access (path, R_OK) == 0 && g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return TRUE;
  int e = errno;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s %s: %s (%s)", what, path,
               g_file_test (path, G_FILE_TEST_IS_DIR) ? "is a directory" : g_strerror (e), hint);
  return FALSE;
}

/* X.img's companion X.@suffix, written by the builder beside it; NULL for
 * an initramfs not named .img. */
static char *
beside_initramfs (const char *initramfs, const char *suffix)
{
  if (!g_str_has_suffix (initramfs, ".img"))
    return NULL;
  return g_strdup_printf ("%.*s.%s", (int) strlen (initramfs) - 4, initramfs, suffix);
}

gboolean
guest_files_resolve (Daemon *d, const char *kernel_opt, const char *initramfs_opt, GError **error)
{
  d->ctx.initramfs
      = initramfs_opt ? g_canonicalize_filename (initramfs_opt, NULL) : default_initramfs ();
  if (!check_readable ("guest initramfs", d->ctx.initramfs,
                       initramfs_opt ? "given with --initramfs"
                                     : "build it with meson, or pass --initramfs FILE",
                       error))
    return FALSE;

  /* The built-in container root meson built (checked when a container
   * asks for it). */
  d->default_root = built_or_installed (GUEST_AGENT_DIR, NULL, DEFAULT_ROOT_NAME);

  /* The builder records which kernel's modules it packed. */
  g_autofree char *release_file = beside_initramfs (d->ctx.initramfs, "release");
  g_autofree char *release = NULL;
  if (release_file && g_file_get_contents (release_file, &release, NULL, NULL))
    d->guest_release = g_strdup (g_strstrip (release));

  if (kernel_opt)
    {
      d->ctx.kernel = g_canonicalize_filename (kernel_opt, NULL);
      return check_readable ("guest kernel", d->ctx.kernel, "given with --kernel", error);
    }
  /* Beside it, the builder's copy of that kernel as QEMU boots it directly
   * (guest-agent/mkkernel.py). */
  g_autofree char *beside = beside_initramfs (d->ctx.initramfs, "kernel");
  if (beside && d->guest_release && g_file_test (beside, G_FILE_TEST_IS_REGULAR))
    {
      d->ctx.kernel = g_steal_pointer (&beside);
      return check_readable ("guest kernel", d->ctx.kernel, "built by meson with the initramfs",
                             error);
    }
  if (d->guest_release == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "cannot tell which kernel matches %s (no %s); pass --kernel FILE",
                   d->ctx.initramfs, release_file ? release_file : "release file");
      return FALSE;
    }
  d->ctx.kernel = g_strdup_printf ("/boot/vmlinuz-%s", d->guest_release);
  return check_readable ("guest kernel", d->ctx.kernel,
                         "install linux-image-cloud-amd64, or pass --kernel FILE", error);
}
