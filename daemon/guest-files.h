/* guest-files.h — finding the files sandboxd runs beside itself: the guest
 * kernel and initramfs, and the user network's helper. */
#pragma once

#include "daemon.h"
#include "kernels.h"

typedef struct
{
  const char *kernel; /* --kernel, --initramfs: the guest kernel "custom" */
  const char *initramfs;
  const char *kernels_dir;    /* --kernels-dir: the operator's (kernels.h) */
  const char *default_kernel; /* --default-kernel NAME */
} GuestFileOptions;

/* Fills d->kernels, the catalog of guest kernels: "custom" from the
 * options when given, "sandboxd" (our own, kernel/) and "debian" (Debian's
 * kernel with guest-agent's initramfs) from the build tree next to this
 * binary or the installed libexec directory, and the --kernels-dir ones;
 * the first (or --default-kernel) is the default, whose files become
 * d->ctx.kernel, d->ctx.initramfs and d->guest_release. Also
 * d->default_root (the built-in container root). Each error says which
 * file is wrong and how to provide it. */
gboolean guest_files_resolve (Daemon *d, const GuestFileOptions *options, GError **error);

/* The user network's helper: @given (a path, or a name looked up in PATH),
 * else sandbox-slirp in the build tree next to this binary, else the
 * installed one; NULL if there is none. */
char *net_helper_path (const char *given);
/* The volumes' file server: @given, else QEMU's virtiofsd
 * (/usr/lib/qemu/virtiofsd); NULL if it is not there. */
char *virtiofsd_path (const char *given);
