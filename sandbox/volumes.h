/* volumes.h — a sandbox's volumes: host directories shared with its guest
 * over virtio-fs, each served by a virtiofsd of its own.
 *
 * The file server runs outside QEMU's jail as the user the volume is
 * served as (the tenant's, or the directory's owner: never root), in a
 * user namespace of its own where that user is root and no other id
 * exists, so its capabilities reach only that user's files: the kernel
 * enforces that a sandbox writes only where that user may. Its mount
 * namespace binds the directory, as the requester opened it (the path is
 * not looked up again), nodev and nosuid (read-only for a read-only
 * volume) on a fresh tmpfs of its own over /tmp, and virtiofsd's own
 * sandbox (pid, net,
 * mount namespaces, pivot_root into the directory, its seccomp filter)
 * follows.
 * It sits in the sandbox's cgroup, and it ends when QEMU's end of its
 * socket closes: it dies with the sandbox and outlives sandboxd. */
#pragma once

#include "policy.h"

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct Volume Volume;

struct Volume
{
  char *tag;             /* the guest's name for it (vfsN) */
  char *source;          /* the host directory */
  char *destination;     /* where it is mounted: in the guest, or in a container */
  gboolean in_container; /* a container's mount names it (its spec has the tag) */
  gboolean readonly;
  guint uid; /* who serves it, on the host */
  guint gid;
  /* Its virtiofsd while it runs (our child, or found again). */
  GPid pid;
  guint64 start_time;
  guint watch;   /* our child's exit, or a found one's pidfd */
  int pidfd;     /* a server found again after a restart of sandboxd; -1 */
  int qemu_fd;   /* QEMU's connected end, until QEMU has it; -1 */
  int source_fd; /* the directory, as its requester opened it, until served; -1 */
  /* Called when the server exits, with its wait status (-1: unknown, a
   * server found again). */
  void (*exited) (Volume *v, int status, gpointer data);
  gpointer exited_data;
};

/* @source_fd (a duplicate is kept) is @source as the requester opened it. */
Volume *volume_new (const char *tag, const char *source, int source_fd, const char *destination,
                    gboolean in_container, gboolean readonly, guint uid, guint gid);
void volume_free (Volume *v);

/* For inspect and state.json; volume_from_json reads it back. */
JsonObject *volume_to_json (const Volume *v);
Volume *volume_from_json (JsonObject *o, GError **error);

/* For inspect and state.json: each volume_to_json. */
JsonArray *volumes_to_json (GPtrArray *volumes);

/* What a sandbox's volumes log (their servers' command lines and output),
 * in its directory. */
#define VOLUMES_LOG "volumes.log"

/* The guest kernel's argument naming every volume: its tag, ro or rw,
 * and the guest's path for a volume of the guest's own:
 * " sandboxd.volumes=vfs0:rw:/data,vfs1:ro" ("" without volumes). */
char *volumes_kernel_args (GPtrArray *volumes);

/* The socket between QEMU and the file server: a listening one in @dir
 * (sandboxd's own, while it is made), already connected to: v->qemu_fd is
 * QEMU's end, and the listening socket is returned for virtiofsd (-1 with
 * @error). No path remains. */
int volume_prepare (Volume *v, const char *dir, GError **error);

typedef struct
{
  const char *virtiofsd; /* the binary */
  const char *log_path;  /* its stdout and stderr (appended to) */
  CgroupManager *cgroups;
  const char *cgroup; /* the sandbox's cgroup name; NULL: none */
} VolumeServerSpec;

/* Starts virtiofsd on @listen_fd (closed by the caller), confined. */
gboolean volume_start (Volume *v, const VolumeServerSpec *spec, int listen_fd, GError **error);
/* After a restart of sandboxd: the server state.json names is watched
 * through a pidfd if it is still that process (pid and start time);
 * FALSE if it is gone. */
gboolean volume_reattach (Volume *v);
/* Ends the file server (if it is still the process we started). */
void volume_stop (Volume *v);
