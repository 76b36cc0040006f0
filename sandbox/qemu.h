/* qemu.h — starting a sandbox's QEMU in its jail (its command line:
 * qemu-argv.h). */
#pragma once

#include "qemu-argv.h"
#include "sandbox.h"

/* Starts QEMU with its stdout and stderr in DIR/qemu.log, confined by
 * config->policy (jail.h) in its own cgroup. The caller watches the pid
 * (g_child_watch_add) and so reaps it. */
gboolean qemu_spawn (const SandboxContext *ctx, const QemuConfig *config, GPid *pid,
                     GError **error);
