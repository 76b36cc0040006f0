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
/* The catalog's names for them (kernels.h). */
#define CUSTOM_KERNEL "custom"
#define OWN_KERNEL "sandboxd"
#define DEBIAN_KERNEL "debian"

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

char *
virtiofsd_path (const char *given)
{
  const char *path = given ? given : "/usr/lib/qemu/virtiofsd";
  return g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) ? g_canonicalize_filename (path, NULL)
                                                       : NULL;
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

/* The kernel for @initramfs: @kernel_opt, else the builder's copy beside
 * it (guest-agent/mkkernel.py), else /boot/vmlinuz-<its release>; and
 * that release. */
static gboolean
kernel_for (const char *initramfs, const char *kernel_opt, char **kernel, char **release,
            GError **error)
{
  /* The builder records which kernel's modules it packed. */
  g_autofree char *release_file = beside_initramfs (initramfs, "release");
  if (release_file && g_file_get_contents (release_file, release, NULL, NULL))
    g_strstrip (*release);
  if (kernel_opt)
    {
      *kernel = g_canonicalize_filename (kernel_opt, NULL);
      if (!check_readable ("guest kernel", *kernel, "given with --kernel", error))
        return FALSE;
    }
  else
    {
      g_autofree char *beside = beside_initramfs (initramfs, "kernel");
      if (beside && *release && g_file_test (beside, G_FILE_TEST_IS_REGULAR))
        *kernel = g_steal_pointer (&beside);
      else if (*release)
        {
          *kernel = g_strdup_printf ("/boot/vmlinuz-%s", *release);
          if (!check_readable ("guest kernel", *kernel,
                               "install linux-image-cloud-amd64, or pass --kernel FILE", error))
            return FALSE;
        }
    }
  /* A kernel given without a release file beside its initramfs says its
   * own. */
  if (*release == NULL && *kernel != NULL)
    *release = guest_kernel_release_of (*kernel);
  if (*release == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "cannot tell which kernel release %s is for (no %s)%s", initramfs,
                   release_file ? release_file : "release file",
                   kernel_opt ? "" : "; pass --kernel FILE");
      return FALSE;
    }
  return TRUE;
}

/* Adds @name: @initramfs and its kernel. */
static gboolean
add_kernel (Daemon *d, const char *name, const char *initramfs, const char *kernel_opt,
            GError **error)
{
  g_autofree char *kernel = NULL, *release = NULL;
  if (!check_readable ("guest initramfs", initramfs,
                       kernel_opt ? "given with --initramfs"
                                  : "build it with meson, or pass --initramfs FILE",
                       error)
      || !kernel_for (initramfs, kernel_opt, &kernel, &release, error))
    return FALSE;
  GuestKernel *k = guest_kernel_new (name, kernel, initramfs, release, error);
  if (k)
    g_ptr_array_add (d->kernels, k);
  return k != NULL;
}

gboolean
guest_files_resolve (Daemon *d, const GuestFileOptions *o, GError **error)
{
  d->kernels = g_ptr_array_new_with_free_func ((GDestroyNotify) guest_kernel_free);
  /* The built-in container root meson built (checked when a container
   * asks for it). */
  d->default_root = built_or_installed (GUEST_AGENT_DIR, NULL, DEFAULT_ROOT_NAME);

  /* Given: that pair, "custom". Else sandboxd's own kernel (kernel/,
   * built without modules) when it was built, and Debian's with
   * guest-agent's initramfs when that was, or its kernel is installed. */
  if (o->kernel || o->initramfs)
    {
      g_autofree char *initramfs
          = o->initramfs ? g_canonicalize_filename (o->initramfs, NULL) : default_initramfs ();
      if (!add_kernel (d, CUSTOM_KERNEL, initramfs, o->kernel, error))
        return FALSE;
    }
  g_autofree char *own = built_or_installed (OWN_KERNEL_DIR, OWN_KERNEL_DIR, INITRAMFS_NAME);
  g_autofree char *own_kernel = beside_initramfs (own, "kernel");
  if (g_file_test (own, G_FILE_TEST_EXISTS) && g_file_test (own_kernel, G_FILE_TEST_EXISTS)
      && !add_kernel (d, OWN_KERNEL, own, NULL, error))
    return FALSE;
  g_autofree char *debian = built_or_installed (GUEST_AGENT_DIR, NULL, INITRAMFS_NAME);
  g_autoptr (GError) debian_error = NULL;
  if (g_file_test (debian, G_FILE_TEST_EXISTS)
      && !add_kernel (d, DEBIAN_KERNEL, debian, NULL, &debian_error))
    {
      /* Needed only when it is the one there is. */
      if (d->kernels->len == 0)
        {
          g_propagate_error (error, g_steal_pointer (&debian_error));
          return FALSE;
        }
      g_message ("guest kernel %s left out: %s", DEBIAN_KERNEL, debian_error->message);
    }
  if (d->kernels->len == 0)
    {
      check_readable ("guest initramfs", debian, "build it with meson, or pass --initramfs FILE",
                      error);
      return FALSE;
    }
  if (o->kernels_dir && !kernels_load_dir (d->kernels, o->kernels_dir, error))
    return FALSE;

  GuestKernel *def = d->kernels->pdata[0];
  if (o->default_kernel)
    {
      def = (GuestKernel *) kernels_find (d->kernels, o->default_kernel);
      if (def == NULL)
        {
          g_autofree char *names = kernels_names (d->kernels);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "--default-kernel %s: no such guest kernel (there are: %s)",
                       o->default_kernel, names);
          return FALSE;
        }
    }
  def->is_default = TRUE;
  d->ctx.kernel = g_strdup (def->kernel);
  d->ctx.initramfs = g_strdup (def->initramfs);
  d->guest_release = g_strdup (def->release);
  return TRUE;
}
