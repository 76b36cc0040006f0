/* qemu.h — the QEMU command line of a sandbox and starting it. */
#pragma once

#include "daemon.h"

typedef struct
{
  const char *dir; /* the sandbox's directory: sockets, logs */
  guint memory_mb;
  guint cpus;
  const char *hostname; /* the guest's; a valid sandbox name */
} QemuConfig;

#define QEMU_QMP_SOCKET "qmp.sock"
#define QEMU_AGENT_SOCKET "agent.sock"
#define QEMU_CONSOLE_LOG "console.log"
#define QEMU_LOG "qemu.log"
/* The virtio-scsi controller's bus, where disks are hot-plugged. */
#define QEMU_SCSI_BUS "scsi0.0"

/* The full argv (argv[0] is the QEMU binary). */
GStrv qemu_build_argv (const Daemon *daemon, const QemuConfig *config);

/* Starts QEMU with its stdout and stderr in DIR/qemu.log. The caller
 * watches the pid (g_child_watch_add) and so reaps it. */
gboolean qemu_spawn (const Daemon *daemon, const QemuConfig *config, GPid *pid, GError **error);

/* The last @max_bytes of @path as text, "" if unreadable. */
char *qemu_file_tail (const char *path, gsize max_bytes);
