/* daemon.h — the service shell's own header (daemon/ only): the Daemon
 * (configuration, the table of sandboxes, tenants, the RPC and event
 * sockets) and what its files give each other: methods, tenants and
 * their quotas, images, Exec with wait, the network guard's lists, the
 * mapping of errors to statuses. */
#pragma once

#include "events.h"
#include "policy.h"
#include "rpc-server.h"
#include "sandbox.h"
#include "tenants.h"
#include "volume-sizes.h"
#include "volume-store.h"

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
  char *guest_release;           /* the default guest kernel's */
  GPtrArray *kernels;            /* GuestKernel (kernels.h): what Create's "kernel" names */
  char *accel_reason;            /* why that accelerator: shown by Version and at start */
  guint max_sandboxes;           /* admission: sandboxes kept, 0: no limit */
  guint max_memory_mb;           /* admission: guest RAM of live sandboxes, 0: no limit */
  guint image_gc_age_s;          /* images unused this long are collected */
  guint64 image_cache_max_bytes; /* and more while the cache is larger (0: no limit) */
  gboolean stop_on_exit;         /* SIGTERM stops the sandboxes (else they live on) */
  char *default_policy;
  SandboxTemplates *templates; /* NULL: --no-templates */
  char *tenants_file;          /* --tenants (NULL: the admin is the only caller) */
  char **net_deny;             /* --net-deny: CIDRs no user network's guest reaches */
  guint tenant_connections;    /* on each of a tenant's sockets, at most */
  GHashTable *tenants;         /* name -> Tenant (tenants.h); reloaded on SIGHUP */
  char *volume_user;           /* --volume-user: who serves the admin's named volumes */
  guint volume_uid;            /* that user's uid and gid; 0: there is none */
  guint volume_gid;
  VolumeSizes *volume_sizes; /* named volumes' sizes, measured in a thread */
  /* Who the method running now was called by (NULL: the admin): set by
   * daemon_dispatch for the length of the call only; what outlives it
   * (a container's image build) keeps its own copy. */
  const Tenant *caller;
  RpcHandler tenant_handler; /* of tenants' sockets (set by main: no call cycle) */
  GHashTable *creating;      /* sandbox id -> its Create call (borrowed), until answered */
  GHashTable *image_holds;   /* tenant name -> bytes its builds in progress may still write */

  /* State. */
  RpcServer *rpc;
  RpcPublisher *publisher;
  char *rpc_address; /* ipc://RUNTIME_DIR/rpc.sock */
  char *events_address;
  EventLog *events;
  GMainLoop *loop;
  gboolean shutting_down;
  int exit_code;
  int netlink_fd; /* the host's address changes (host-guard.c); 0: none */
  guint netlink_watch;
  guint idle_exit_s;       /* 0: never */
  gint64 last_activity_us; /* of the RPC server, for --idle-exit */
};

/* Frees what the daemon holds (main.c). */
void daemon_clear (Daemon *daemon);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Daemon, daemon_clear)

/* daemon/volume-service.c: Volumes.Create, List, Get, Delete and Prune (RPC
 * methods) over the caller's named volumes (volume-store.h). */
void daemon_volumes_create (Daemon *daemon, RpcCall *call, JsonObject *params, GError **error);
void daemon_volumes_list (Daemon *daemon, RpcCall *call, JsonObject *params, GError **error);
void daemon_volumes_get (Daemon *daemon, RpcCall *call, JsonObject *params, GError **error);
void daemon_volumes_delete (Daemon *daemon, RpcCall *call, JsonObject *params, GError **error);
void daemon_volumes_prune (Daemon *daemon, RpcCall *call, JsonObject *params, GError **error);
/* The caller's named volume @name for a sandbox, made when it is not there
 * yet (as docker's -v NAME:PATH): its data directory and owner. An error
 * is an RPC status naming it. */
VolumeInfo *daemon_volume_for_sandbox (Daemon *daemon, const char *name, GError **error);

/* daemon/image-service.c: Images.List and Images.Prune (RPC methods), and the
 * hourly collection of unused images. */
void daemon_images_list (Daemon *daemon, RpcCall *call, JsonObject *params, GError **error);
void daemon_images_prune (Daemon *daemon, RpcCall *call, JsonObject *params, GError **error);
void daemon_images_gc_start (Daemon *daemon);

/* daemon/methods.c: the RPC handler of the admin's socket, and the call of
 * a method for @caller (NULL: the admin). */
void daemon_handle_call (RpcCall *call, gpointer user_data);
/* The same on a tenant's socket (@user_data: its TenantApi). */
void daemon_handle_tenant_call (RpcCall *call, gpointer user_data);
void daemon_dispatch (Daemon *daemon, const Tenant *caller, RpcCall *call);
/* SandboxContext.admit_hidden: a template build or a warm clone of
 * @memory_mb is within the daemon's ceilings (as a create would be). */
gboolean daemon_admit_hidden (SandboxContext *ctx, guint memory_mb);
/* SandboxContext.boot_begun: a queued boot begins, and its Create's
 * deadline with it. */
void daemon_boot_begun (SandboxContext *ctx, Sandbox *sandbox);

/* daemon/tenant-api.c: the tenants' sockets (RUNTIME_DIR/tenants/NAME/),
 * their event logs and the tenants file (read at start and on SIGHUP: on a
 * bad file the tenants stay as they were). */
gboolean daemon_tenants_load (Daemon *daemon, GError **error);
/* What an earlier sandboxd left in RUNTIME_DIR/tenants (taken back first). */
void daemon_tenants_remove_stale (Daemon *daemon);
void daemon_tenants_clear (Daemon *daemon);
/* Whom a tenant's socket serves (NULL: a tenant no longer served). */
const Tenant *daemon_tenant_api_caller (TenantApi *api, Daemon **daemon);
const Tenant *daemon_tenant (Daemon *daemon, const char *name);
const Tenant *daemon_tenant_by_uid (Daemon *daemon, uid_t uid);
/* Its API's address (or events' with @events); NULL while it has none. */
const char *daemon_tenant_address (const Tenant *tenant, gboolean events);
EventLog *daemon_tenant_events (const Tenant *tenant);
/* An event of a sandbox (or image build) of @tenant (NULL: the admin's):
 * to the admin's log with its tenant, and to the tenant's own log. */
void daemon_emit (Daemon *daemon, const char *tenant, const char *type, JsonObject *fields);

/* daemon/exec-wait.c: Exec with wait_ms (answers with the exit and the
 * start of the output inline, or as a plain Exec if it still runs then),
 * and output as the API carries it: {"data": base64, "offset", "eof"}. */
void daemon_exec_wait (Daemon *daemon, RpcCall *call, Sandbox *sandbox, const SandboxExec *exec,
                       guint wait_ms);
JsonObject *daemon_output_to_json (const SandboxOutput *out);

/* daemon/tenant-quota.c: what a request would add to its tenant's use. */
typedef struct
{
  gboolean sandbox; /* a new sandbox */
  guint memory_mb;
  guint cpus;
  gboolean image;  /* it builds an image */
  gboolean output; /* it runs a process (stores output) */
  gboolean volume; /* it makes or uses a named volume */
} TenantAsk;
/* TRUE for the admin (@tenant NULL) or within the quotas; else
 * RESOURCE_EXHAUSTED naming the quota, its limit and the use. */
gboolean daemon_quota_admit (Daemon *daemon, const Tenant *tenant, const TenantAsk *ask,
                             GError **error);
/* {"name", "quota": {limits, null: none}, "use": {...}}. */
JsonObject *daemon_quota_to_json (Daemon *daemon, const Tenant *tenant);
/* Where @tenant's named volumes are kept (NULL: the admin's). */
char *daemon_volume_dir (Daemon *daemon, const char *tenant);
/* Where @tenant's images are kept (NULL: the admin's). */
char *daemon_image_dir (Daemon *daemon, const char *tenant);
/* The bytes @tenant's next image may take and holds them until
 * daemon_quota_image_release: its image_mb quota less its images and what
 * its builds in progress hold. G_MAXUINT64 without a quota (or for the
 * admin); 0 (nothing held) when the quota is full. */
guint64 daemon_quota_image_hold (Daemon *daemon, const char *tenant);
void daemon_quota_image_release (Daemon *daemon, const char *tenant, guint64 bytes);

/* daemon/host-guard.c: the network guard denies @deny (CIDRs) and the
 * host's addresses, read again on every change; an error names the bad
 * CIDR. Nothing to do without cgroups (no user network then). */
gboolean daemon_host_guard_start (Daemon *daemon, char **deny, GError **error);
void daemon_host_guard_stop (Daemon *daemon);

/* daemon/api-status.c: the one mapping of failures (the domain's, the
 * libraries') to the status a caller sees. */
RpcStatus daemon_status_from_error (const GError *error);
/* Answers @call with @error's message and its status. */
void daemon_return_error (RpcCall *call, const GError *error);

const Policy *daemon_policy (Daemon *daemon, const char *name, GError **error);

/* daemon/policy-choice.c: the policy @name, or NULL with NOT_FOUND
 * (unknown), FAILED_PRECONDITION (it cannot be applied by this sandboxd)
 * or PERMISSION_DENIED (weaker than the daemon's default). */
