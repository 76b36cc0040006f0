/* daemon.h — the daemon's configuration and its table of sandboxes. */
#pragma once

#include "events.h"
#include "policy.h"
#include "rpc-server.h"

#include <glib.h>

typedef enum
{
  ACCEL_TCG,
  ACCEL_KVM,
} Accel;

typedef struct Daemon Daemon;

struct Daemon
{
  /* Configuration, fixed after start-up. */
  char *runtime_dir;
  char *state_dir; /* images/: containers' roots (made when first needed) */
  char *kernel;
  char *initramfs;
  char *default_root;  /* the built-in container root, a tarball meson builds */
  char *guest_release; /* of the initramfs' modules, NULL if unknown */
  char *qemu;
  Accel accel;
  char *accel_reason; /* why that accelerator: shown by Version and at start */
  guint tsc_khz;      /* host TSC rate, for TCG guests */
  guint boot_timeout_s;
  guint auto_remove_grace_s;     /* see SandboxConfig.auto_remove */
  guint max_sandboxes;           /* admission: sandboxes kept, 0: no limit */
  guint max_memory_mb;           /* admission: guest RAM of live sandboxes, 0: no limit */
  guint image_gc_age_s;          /* images unused this long are collected */
  guint64 image_cache_max_bytes; /* and more while the cache is larger (0: no limit) */
  gboolean stop_on_exit;         /* SIGTERM stops the sandboxes (else they live on) */
  GHashTable *policies;          /* name -> Policy */
  char *default_policy;
  CgroupManager *cgroups; /* NULL when sandboxd cannot manage cgroups */
  /* Output a process may have stored that no reader has read, per stream,
   * before the guest is told to hold it (0: no limit). */
  guint64 output_buffer_bytes;
  /* Output one sandbox may store in all, its processes' streams together
   * (0: no limit): at the quota the guest is told nothing more is stored,
   * so its processes block once their windows are full. */
  guint64 output_quota_bytes;

  /* State. */
  RpcServer *rpc;
  RpcPublisher *publisher;
  char *rpc_address; /* ipc://RUNTIME_DIR/rpc.sock */
  char *events_address;
  EventLog *events;
  GHashTable *sandboxes; /* id -> Sandbox */
  GMainLoop *loop;
  gboolean shutting_down;
  int exit_code;
  guint idle_exit_s; /* 0: never */
  /* Set by the shell: a sandbox calls it when it has been deleted. */
  void (*sandbox_gone) (Daemon *daemon, const char *id);
  gint64 last_activity_us; /* of the RPC server, for --idle-exit */
};

/* Frees what the daemon holds (main.c). */
void daemon_clear (Daemon *daemon);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Daemon, daemon_clear)

/* daemon/image-service.c: Images.List and Images.Prune (RPC methods), and the
 * hourly collection of unused images. */
void daemon_images_list (Daemon *daemon, RpcCall *call, JsonObject *params, GError **error);
void daemon_images_prune (Daemon *daemon, RpcCall *call, JsonObject *params, GError **error);
void daemon_images_gc_start (Daemon *daemon);

/* daemon/methods.c: the RPC handler. */
void daemon_handle_call (RpcCall *call, gpointer user_data);

/* daemon/api-status.c: the one mapping of failures (the domain's, the
 * libraries') to the status a caller sees. */
RpcStatus daemon_status_from_error (const GError *error);
/* Answers @call with @error's message and its status. */
void daemon_return_error (RpcCall *call, const GError *error);

const Policy *daemon_policy (Daemon *daemon, const char *name, GError **error);

/* rm -rf: removes @path and all below it. */
gboolean daemon_remove_tree (const char *path, GError **error);

/* daemon/policy-choice.c: the policy @name, or NULL with NOT_FOUND
 * (unknown), FAILED_PRECONDITION (it cannot be applied by this sandboxd)
 * or PERMISSION_DENIED (weaker than the daemon's default). */
