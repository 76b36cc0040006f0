/* qemu-argv.h — a sandbox's QEMU command line, from a plain config: no
 * daemon, no I/O (tests/test-qemu-argv.c checks it without a VM). */
#pragma once

#include "policy.h"

#include <glib.h>

typedef struct
{
  const char *qemu;   /* the binary */
  gboolean kvm;       /* else TCG */
  guint tsc_khz;      /* the host's TSC rate, for TCG guests (0: unknown) */
  guint tcg_cache_mb; /* TCG's translated-code cache (0: QEMU's default, 1 GiB) */
  const char *id;     /* the sandbox's */
  const char *cgroup; /* its cgroup's name for the cgroup manager */
  const char *dir;    /* the sandbox's directory: sockets, logs */
  guint memory_mb;
  guint cpus;
  guint pids;           /* the cgroup's pids limit (0: the policy's) */
  const Policy *policy; /* what confines QEMU */
  guint uid;            /* QEMU's own uid (the policy's uid_range); 0: the policy user's */
  const char *hostname; /* the guest's; a valid sandbox name */
  const char *label;    /* the host's path of the sandbox dir: QEMU's -name, for ps */
  const char *kernel;   /* as QEMU sees them (inside its jail, or the host's) */
  const char *initramfs;
  /* A read-only disk on the command line (a container's root): an fd QEMU
   * inherits, put in fd set @disk_fdset, as SCSI target @disk_scsi_id. */
  const char *disk_node; /* NULL: none */
  int disk_fd;
  gint64 disk_fdset;
  guint disk_scsi_id;
  /* A NIC (virtio-net) on an inherited fd: a stream socket to the user
   * network's helper (net_tap FALSE) or a tap device (TRUE); 0: none. */
  int net_fd;
  gboolean net_tap;
  const char *net_mac;
  const char *net_args; /* for the guest's kernel: network_kernel_args */
  /* Volumes: a vhost-user-fs device each, tag @volume_tags[i], on the
   * inherited socket @volume_fds[i], connected to its file server. Guest
   * RAM is then a shared memfd (the servers map it), and the virtio-mmio
   * devices are modern (vhost-user-fs has no legacy interface). */
  guint n_volumes;
  const char *const *volume_tags;
  const int *volume_fds;
  const char *volume_args; /* for the guest's kernel: volumes_kernel_args */
  /* A clone: QEMU waits for its state (migrate-incoming), from a
   * template's snapshot (templates.c); a machine like the template's. */
  gboolean incoming;
  /* A template's build: its kernel zeroes the pages it frees
   * (init_on_free), so its snapshot, and each clone's RAM, holds only
   * what is in use: a zero page is not sent, nor touched by the load. */
  gboolean template_build;
  /* Guest RAM from a file (a template's, a memfd): QEMU maps @ram_path,
   * the inherited @ram_fd as it sees it, shared (the build writes the
   * template) or private (a clone: copy on write, the rest shared). With
   * migration's x-ignore-shared the RAM is not in the state. 0: none. */
  int ram_fd;
  const char *ram_path;
  gboolean ram_shared;
  /* Called with QEMU's pid once it exists, before it runs: a restarted
   * sandboxd must be able to tell it is ours from the first instant. */
  void (*started) (GPid pid, gpointer data);
  gpointer started_data;
} QemuConfig;

/* Under the sandbox's directory. QEMU may write only in qemu/ (owned by its
 * user; the jail's /sb/qemu); state.json beside it stays root's. */
#define QEMU_DIR "qemu"
#define QEMU_QMP_SOCKET "qemu/qmp.sock"
#define QEMU_AGENT_SOCKET "qemu/agent.sock"
#define QEMU_CONSOLE_SOCKET "qemu/console.sock"
/* The daemon's copy of the guest console (console-log.h), and its cap. */
#define SANDBOX_CONSOLE_LOG "console.log"
#define SANDBOX_CONSOLE_MAX_BYTES (1024 * 1024)
#define QEMU_LOG "qemu.log"
/* QEMU's -readconfig, root's, in its directory. */
#define QEMU_CONFIG "qemu/machine.cfg"
#define QEMU_JAIL_ROOT "root"
/* The virtio-scsi controller's bus, where disks are hot-plugged. */
#define QEMU_SCSI_BUS "scsi0.0"

/* The full argv (argv[0] is config->qemu). */
GStrv qemu_build_argv (const QemuConfig *config);
/* @argv as QEMU is started: without what other users of the host must not
 * read in ps (the guest's size, its kernel's command line with the
 * sandbox's name), which goes in *@config, QEMU's config-file syntax, for
 * QEMU to read from @path (-readconfig). NULL if a value cannot be put
 * there. */
GStrv qemu_argv_private (GStrv argv, const char *path, char **config, GError **error);
