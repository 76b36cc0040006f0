/* daemon.h — the daemon's configuration and its table of sandboxes. */
#pragma once

#include "events.h"
#include "policy.h"
#include "rpc-server.h"
#include "sandbox.h"

#include <glib.h>

typedef struct Daemon Daemon;

struct Daemon
{
  /* What the sandboxes see of the daemon: their configuration (runtime
   * dir, guest files, QEMU, accelerator, timeouts, output limits,
   * policies, cgroups), the table of sandboxes, and the shell's hooks. */
  SandboxContext ctx;

  /* The shell's configuration, fixed after start-up. */
  char *state_dir;               /* images/: containers' roots (made when first needed) */
  char *default_root;            /* the built-in container root, a tarball meson builds */
  char *guest_release;           /* of the initramfs' modules, NULL if unknown */
  char *accel_reason;            /* why that accelerator: shown by Version and at start */
  guint max_sandboxes;           /* admission: sandboxes kept, 0: no limit */
  guint max_memory_mb;           /* admission: guest RAM of live sandboxes, 0: no limit */
  guint image_gc_age_s;          /* images unused this long are collected */
  guint64 image_cache_max_bytes; /* and more while the cache is larger (0: no limit) */
  gboolean stop_on_exit;         /* SIGTERM stops the sandboxes (else they live on) */
  char *default_policy;
  SandboxTemplates *templates; /* NULL: --no-templates */

  /* State. */
  RpcServer *rpc;
  RpcPublisher *publisher;
  char *rpc_address; /* ipc://RUNTIME_DIR/rpc.sock */
  char *events_address;
  EventLog *events;
  GMainLoop *loop;
  gboolean shutting_down;
  int exit_code;
  guint idle_exit_s;       /* 0: never */
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

/* daemon/policy-choice.c: the policy @name, or NULL with NOT_FOUND
 * (unknown), FAILED_PRECONDITION (it cannot be applied by this sandboxd)
 * or PERMISSION_DENIED (weaker than the daemon's default). */
