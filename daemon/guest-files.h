/* guest-files.h — finding the files sandboxd runs beside itself: the guest
 * kernel and initramfs, and the user network's helper. */
#pragma once

#include "daemon.h"

/* Fills d->initramfs, d->guest_release, d->kernel and d->default_root
 * (sandbox-rootfs.tar beside the initramfs) from the options or,
 * when not given, from the build tree next to this binary, the installed
 * libexec directory, and /boot/vmlinuz-<release of the initramfs>. Each
 * error says which file is missing and how to provide it. */
gboolean guest_files_resolve (Daemon *d, const char *kernel_opt, const char *initramfs_opt,
                              GError **error);

/* The user network's helper: @given (a path, or a name looked up in PATH),
 * else sandbox-slirp in the build tree next to this binary, else the
 * installed one; NULL if there is none. */
char *net_helper_path (const char *given);
