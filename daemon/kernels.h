/* kernels.h — the catalog of guest kernels a sandbox may boot (Create's
 * "kernel", sandboxctl --kernel NAME, Kernels.List): each a kernel with the
 * initramfs made for it, checked when sandboxd starts. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct
{
  char *name;      /* [a-z0-9][a-z0-9._-]* */
  char *kernel;    /* as QEMU boots it: an ELF vmlinux with a PVH note, or a bzImage */
  char *initramfs; /* the agent and the modules of @release */
  char *release;   /* the kernel's, checked against the kernel file */
  guint64 bytes;   /* kernel + initramfs */
  gboolean is_default;
} GuestKernel;

/* Checks the files (readable, a kernel's header, a cpio or compressed
 * initramfs, the kernel's own version string naming @release) and makes
 * the entry; an error names the kernel, the file and what is wrong. */
GuestKernel *guest_kernel_new (const char *name, const char *kernel, const char *initramfs,
                               const char *release, GError **error);
void guest_kernel_free (GuestKernel *kernel);
/* The release a kernel file's banner names ("Linux version RELEASE "), or
 * NULL: for a kernel given without its initramfs' release file. */
char *guest_kernel_release_of (const char *kernel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GuestKernel, guest_kernel_free)

/* {name, release, kernel, initramfs, bytes, default}. */
JsonObject *guest_kernel_to_json (const GuestKernel *kernel);

/* Adds every DIR/NAME/ holding kernel, initramfs.img and release (the
 * operator's kernels: --kernels-dir); a name taken already, or an entry
 * that fails its checks, is an error naming it. */
gboolean kernels_load_dir (GPtrArray *kernels, const char *dir, GError **error);
const GuestKernel *kernels_find (GPtrArray *kernels, const char *name);
/* The one marked default (guest_files_resolve marks one). */
const GuestKernel *kernels_default (GPtrArray *kernels);
/* "a, b, c": for errors. */
char *kernels_names (GPtrArray *kernels);

/* *result: whether @release is @min or later, by their leading dotted
 * numbers ("6.1.192-sandboxd" is 6.1.192; Debian's "6.1.0-28-cloud-amd64"
 * is 6.1.0, its ABI's name). FALSE when either does not start so. */
gboolean kernel_release_at_least (const char *release, const char *min, gboolean *result);
