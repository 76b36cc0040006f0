/* guest-files.h — finding the guest kernel and initramfs. */
#pragma once

#include "daemon.h"

/* Fills d->initramfs, d->guest_release, d->kernel and d->default_root
 * (sandbox-rootfs.tar beside the initramfs) from the options or,
 * when not given, from the build tree next to this binary, the installed
 * libexec directory, and /boot/vmlinuz-<release of the initramfs>. Each
 * error says which file is missing and how to provide it. */
gboolean guest_files_resolve (Daemon *d, const char *kernel_opt, const char *initramfs_opt,
                              GError **error);
