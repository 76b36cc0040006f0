/* sandbox.h — one sandbox: a QEMU microvm, its QMP and agent channels,
 * its processes, and the state machine
 *   creating -> booting -> running -> stopping -> stopped
 * with failed reachable from every live state. */
#pragma once

#include "policy.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

typedef enum
{
  SANDBOX_CREATING,
  SANDBOX_BOOTING,
  SANDBOX_RUNNING,
  SANDBOX_STOPPING,
  SANDBOX_STOPPED,
  SANDBOX_FAILED,
} SandboxState;

typedef struct Sandbox Sandbox;

typedef enum
{
  ACCEL_TCG,
  ACCEL_KVM,
} Accel;

/* What the sandboxes need of their host, kept by it for their lifetime:
 * configuration, the table of every sandbox, and the host's hooks. */
typedef struct SandboxContext SandboxContext;
struct SandboxContext
{
  char *runtime_dir; /* a sandbox lives in RUNTIME_DIR/sb/<id> */
  char *kernel;      /* the guest's */
  char *initramfs;
  char *qemu;       /* the binary */
  char *net_helper; /* the user network's helper (sandbox-slirp); NULL: not installed */
  char *virtiofsd;  /* volumes' file server; NULL: not installed (no volumes) */
  Accel accel;
  guint tsc_khz;      /* host TSC rate, for TCG guests */
  guint tcg_cache_mb; /* TCG's code cache per QEMU (0: QEMU's default) */
  guint boot_timeout_s;
  /* Cold boots at once (0: no limit): more wait their turn in
   * boot_queue, in state "creating", their watchdog not yet started. A
   * boot ends at hello, failure, stop or delete; clones do not wait. */
  guint boot_slots;
  guint boots;        /* holding a slot now */
  GQueue *boot_queue; /* Sandbox *, first come first served (made when needed) */
  guint boot_kick;    /* the idle that starts the next ones */
  /* A sandbox that waited for a boot slot begins its boot (may be NULL). */
  void (*boot_begun) (SandboxContext *ctx, Sandbox *sb);
  guint auto_remove_grace_s; /* see SandboxConfig.auto_remove */
  /* Output a process may have stored that no reader has read, per stream,
   * before the guest is told to hold it (0: no limit). */
  guint64 output_buffer_bytes;
  /* Output one sandbox may store in all, its processes' streams together
   * (0: no limit): at the quota the guest is told nothing more is stored,
   * so its processes block once their windows are full. */
  guint64 output_quota_bytes;
  GHashTable *policies;   /* name -> Policy: for sandboxes taken back */
  CgroupManager *cgroups; /* NULL when they cannot be managed */
  GHashTable *sandboxes;  /* id -> Sandbox: all of them (the host's table) */
  /* Sandboxes in no table of the host's: template builds (templates.c). */
  GPtrArray *hidden;
  /* Set by sandbox_templates_new (NULL: no templates): the state file of
   * the ready template for @sb's shape and *ram_fd, its RAM, the caller's
   * to close (NULL: none yet; one is built), and
   * dropping one whose clone did not restore. */
  char *(*template_find) (SandboxContext *ctx, Sandbox *sb, int *ram_fd);
  void (*template_discard) (SandboxContext *ctx, const char *path, const char *why);
  /* The host's word that a template build or a warm clone of @memory_mb
   * may start now (its ceilings; NULL: always). */
  gboolean (*admit_hidden) (SandboxContext *ctx, guint memory_mb);
  gpointer templates;
  /* An event (state changes, process starts and exits) of a sandbox of
   * @tenant (NULL: the admin's): @fields taken. */
  void (*emit) (SandboxContext *ctx, const char *tenant, const char *type, JsonObject *fields);
  /* A sandbox has been deleted: the host may free it (later). */
  void (*gone) (SandboxContext *ctx, const char *id);
  gpointer host; /* the host's own data */
};

/* The domain's errors; the shell maps them to its statuses (RPC, D-Bus). */
#define SANDBOX_ERROR (sandbox_error_quark ())
GQuark sandbox_error_quark (void);
typedef enum
{
  SANDBOX_ERROR_INVALID,   /* a bad argument */
  SANDBOX_ERROR_NOT_FOUND, /* no such process, container or disk */
  SANDBOX_ERROR_EXISTS,    /* a name taken */
  SANDBOX_ERROR_STATE,     /* not in a state to do that (not running, stdin closed...) */
  SANDBOX_ERROR_GONE,      /* it failed, stopped or went away meanwhile */
  SANDBOX_ERROR_LIMIT,     /* a limit reached */
  SANDBOX_ERROR_DENIED,    /* not allowed */
  SANDBOX_ERROR_INTERNAL,
} SandboxError;

/* The result of a sandbox_*_async call: its JSON object (transfer full),
 * or NULL with @error (mostly in SANDBOX_ERROR). */
JsonObject *sandbox_call_finish (GAsyncResult *result, GError **error);

/* A container: a root, its image (image-cache.h) and its spec
 * (container-spec.h). */
typedef struct
{
  const char *name;
  const char *root; /* the host's directory or tarball it came from */
  const char *image;
  const char *digest;
  gboolean image_built;
  JsonObject *spec;
} SandboxContainerConfig;

/* A host directory shared with the guest (virtio-fs, volumes.h), checked
 * by the host: a directory, and @uid:@gid (never root) the user it is
 * served as. */
typedef struct
{
  const char *source;      /* absolute */
  int source_fd;           /* it, opened by its requester (O_PATH will do); the caller's */
  const char *destination; /* the guest's path, or the first container's */
  const char *tag;         /* in_container: the tag the container spec's mount has */
  gboolean in_container;
  gboolean readonly;
  guint uid;
  guint gid;
} SandboxVolumeConfig;

typedef struct
{
  const char *name; /* NULL: the id */
  guint memory_mb;
  guint cpus;
  guint pids; /* the cgroup's pids limit; 0: the policy's */
  const Policy *policy;
  gboolean delete_on_failure; /* a failed boot deletes the sandbox */
  /* run --rm, done by the daemon: the sandbox is deleted once its first
   * process has exited and its output was read (or the daemon's
   * auto_remove_grace_s has passed), when it fails, or when it has run
   * that long without a process. Kept across restarts of sandboxd. */
  gboolean auto_remove;
  /* network.h: "none", "user", "ns:PATH" (NULL: none, or user with ports)
   * and docker's -p specs; checked (ports free, the helper there, a netns) when
   * the sandbox is made. */
  const char *network;
  const char *const *ports;
  /* QEMU's cgroup at this path from the hierarchies' root ("/a/b", an OCI
   * bundle's linux.cgroupsPath), made for it (an existing one is refused)
   * and removed with it; NULL: under sandboxd's own parent. */
  const char *cgroup_path;
  /* Whose it is (NULL: the admin's): kept, shown, passed with its events. */
  const char *tenant;
  /* The guest kernel's name (shown), and its files when they are not the
   * context's (templates are kept per kernel). */
  const char *kernel_name;
  const char *kernel;
  const char *initramfs;
  /* Its volumes (sandbox_new refuses them without ctx->virtiofsd): a
   * sandbox with volumes boots cold (a template's RAM is not shared with
   * a file server) and keeps them for life (nothing is hot-plugged on
   * microvm's virtio-mmio). */
  const SandboxVolumeConfig *volumes;
  guint n_volumes;
} SandboxConfig;

const char *sandbox_state_to_string (SandboxState state);
/* QEMU's and the network helper's logs (their stdout and stderr, which
 * a guest can make them write) are cut back to their first line and
 * last SANDBOX_LOG_KEEP_BYTES once past SANDBOX_LOG_MAX_BYTES: the host
 * calls this every few seconds for each sandbox. */
#define SANDBOX_LOG_MAX_BYTES (1024 * 1024)
#define SANDBOX_LOG_KEEP_BYTES (64 * 1024)
#define SANDBOX_LOG_TRIM_INTERVAL_S 5
void sandbox_trim_logs (Sandbox *sandbox);
/* What bounds every sandbox toward its guest, for System.Info:
 * {"agent_backlog_bytes", "guest_log_lines_per_min"}. */
JsonObject *sandbox_limits_to_json (void);

/* templates.c: VM templates (docs/templates.md). Makes @dir (the state
 * dir's templates/) and hooks itself into @ctx: from then on a sandbox
 * is a clone of its shape's template when there is
 * one. Reads the kernel and initramfs to name them by content: the
 * context's, and the other kernels sandboxes may boot (@kernels: kernel,
 * initramfs, kernel, initramfs, ..., NULL), whose templates are kept too. */
typedef struct SandboxTemplates SandboxTemplates;
SandboxTemplates *sandbox_templates_new (SandboxContext *ctx, const char *dir,
                                         const char *const *kernels, GError **error);
void sandbox_templates_free (SandboxTemplates *templates);
/* Builds the template of that shape now, unless it is there. */
void sandbox_templates_prepare (SandboxTemplates *templates, guint memory_mb, guint cpus,
                                const Policy *policy);
/* A warm pool: @n clones kept ready (restored, thawed, idle) per shape
 * with a template; hidden (ctx->hidden), so not listed; killed at exit. */
void sandbox_templates_set_warm (SandboxTemplates *templates, guint n);
/* At most @n templates (ready or building; SANDBOX_TEMPLATES_MAX unless
 * set); the least recently used ready one is dropped for a new one, and
 * an earlier sandboxd's files beyond the newest @n are removed. 0: none. */
#define SANDBOX_TEMPLATES_MAX 8
void sandbox_templates_set_max (SandboxTemplates *templates, guint n);
/* The bytes the templates' RAM takes in sandboxd (sealed memfds). */
guint64 sandbox_templates_memory (SandboxTemplates *templates);
/* A clone of that shape from the pool (the pool refills), or NULL.
 * @kernel, @initramfs: NULL for the context's. */
Sandbox *sandbox_templates_take (SandboxTemplates *templates, guint memory_mb, guint cpus,
                                 const Policy *policy, const char *kernel, const char *initramfs);
/* A sandbox taken from the pool becomes @config's (name, auto_remove),
 * with @container: thawed again, its container added; answers like
 * sandbox_start_async. */
void sandbox_adopt_async (Sandbox *sandbox, const SandboxConfig *config,
                          const SandboxContainerConfig *container, GAsyncReadyCallback callback,
                          gpointer user_data);
/* {"max", "warm_per_shape", "ram_bytes", "templates": [{"key", "state":
 * ready|building|failed, "memory_mb", "cpus", "ram_bytes", "clones",
 * "warm"}]} */
JsonObject *sandbox_templates_to_json (SandboxTemplates *templates);

/* accel.c: choosing between KVM and TCG for the guests.
 * @requested is "auto", "kvm" or "tcg". "auto" takes KVM only if a real
 * QEMU boots the guest kernel and initramfs with it to their init (a
 * /dev/kvm that opens, or a QEMU that starts, is not enough: nested and
 * PVM hosts' KVM can hang a guest); "kvm" fails if it can't. The verdict
 * is kept in @cache (if not NULL) for later starts on the same boot of the
 * host with the same QEMU, guest files and /dev/kvm. */
typedef struct
{
  const char *qemu;
  const char *kernel;
  const char *initramfs;
  const char *cache;
} AccelProbe;
gboolean accel_choose (const AccelProbe *probe, const char *requested, Accel *accel, char **reason,
                       GError **error);
const char *accel_to_string (Accel accel);
/* The host TSC rate in kHz, 0 if unknown. */
guint accel_host_tsc_khz (void);

/* Makes the sandbox and its directory; nothing runs yet. */
Sandbox *sandbox_new (SandboxContext *ctx, const SandboxConfig *config, GError **error);
/* Leaves QEMU running: a later sandboxd reattaches it. */
void sandbox_free (Sandbox *sandbox);

/* The sandbox sandboxd saved in RUNTIME_DIR/sb/@id (state.json), as it
 * was; nothing is checked or started yet (see sandbox_reattach). */
Sandbox *sandbox_load (SandboxContext *ctx, const char *id, GError **error);
/* After a restart of sandboxd: a running sandbox whose QEMU is still there
 * gets its QMP and agent channels back, and the guest resends the output
 * not yet stored. Any other sandbox whose QEMU still runs (it was booting or
 * stopping) is stopped, and marked failed or stopped with the reason. */
void sandbox_reattach (Sandbox *sandbox);

const char *sandbox_get_id (Sandbox *sandbox);
const char *sandbox_get_name (Sandbox *sandbox);
SandboxState sandbox_get_state (Sandbox *sandbox);
guint sandbox_get_memory_mb (Sandbox *sandbox);
guint sandbox_get_cpus (Sandbox *sandbox);
/* Its owner (NULL: the admin). */
const char *sandbox_get_tenant (Sandbox *sandbox);
/* The output its processes have stored, in all. */
guint64 sandbox_get_output_bytes (Sandbox *sandbox);
JsonObject *sandbox_to_json (Sandbox *sandbox);
/* It waits for a boot slot (SandboxContext.boot_slots). */
gboolean sandbox_is_boot_queued (Sandbox *sandbox);

/* Boots, with @container (may be NULL) as its first container: its disk is
 * on QEMU's command line. Answers with the sandbox once the agent
 * said hello and set the container up, or with the reason it failed
 * (including the guest console's tail). */
void sandbox_start_async (Sandbox *sandbox, const SandboxContainerConfig *container,
                          GAsyncReadyCallback callback, gpointer user_data);

/* Stops the sandbox gracefully: the guest is asked to power off (its
 * processes get SIGTERM, then SIGKILL), QEMU is told to quit after
 * @timeout_s, and killed if it still runs 5 s later. Answers with the
 * stopped sandbox. */
void sandbox_stop_async (Sandbox *sandbox, guint timeout_s, GAsyncReadyCallback callback,
                         gpointer user_data);

/* Stops (@pause) or goes on with a running sandbox's vCPUs; answers the
 * sandbox ("paused": true while it is). */
void sandbox_pause_async (Sandbox *sandbox, gboolean pause, GAsyncReadyCallback callback,
                          gpointer user_data);
/* Kills QEMU at once; answers with the stopped sandbox. */
void sandbox_kill_async (Sandbox *sandbox, GAsyncReadyCallback callback, gpointer user_data);

/* Answers with resource use: QEMU's RSS and CPU time read on the
 * host and, from a running guest, its memory, load and uptime ("guest"). */
void sandbox_stats_async (Sandbox *sandbox, GAsyncReadyCallback callback, gpointer user_data);

/* Stops QEMU (quit, then SIGKILL) if it runs, removes the directory, answers
 * and tells the daemon the sandbox is gone. */
void sandbox_delete_async (Sandbox *sandbox, GAsyncReadyCallback callback, gpointer user_data);

/* sandbox-containers.c: containers in a running sandbox. Add answers with
 * the container once the guest has set it up; remove once its disk is
 * gone. */
void sandbox_add_container_async (Sandbox *sandbox, const SandboxContainerConfig *config,
                                  GAsyncReadyCallback callback, gpointer user_data);
/* New limits for a running container's cgroup in the guest (@name NULL:
 * the first container). @limits: memory_bytes, memory_low, pids,
 * cpu_quota, cpu_period, cpu_weight (absent: unchanged; -1: none), checked
 * by the caller. Answers with the container, its spec updated. */
void sandbox_update_container_async (Sandbox *sandbox, const char *name, JsonObject *limits,
                                     GAsyncReadyCallback callback, gpointer user_data);
void sandbox_remove_container_async (Sandbox *sandbox, const char *name,
                                     GAsyncReadyCallback callback, gpointer user_data);
/* {"containers": [...]}, in the order they were added. */
JsonObject *sandbox_list_containers (Sandbox *sandbox);
/* Adds the paths of its containers' images to @paths (a set): they may not
 * be removed from the cache. */
void sandbox_add_images_in_use (Sandbox *sandbox, GHashTable *paths);
/* It has a volume of host directory @path (in whatever state it is). */
gboolean sandbox_uses_directory (Sandbox *sandbox, const char *path);

/* sandbox-process.c: processes inside the guest. Each answers with a JSON
 * object (sandbox_call_finish), but ReadOutput. */
typedef struct
{
  char **args;       /* empty: the container's own command */
  char **env;        /* added to the container's */
  gboolean env_only; /* env is the whole environment, without the container's */
  const char *cwd;
  gboolean with_stdin;
  gboolean tty; /* a terminal in the guest instead of pipes: stdin (with_stdin), one stream */
  gboolean tty_raw_output; /* its output's \n not turned into \r\n (ONLCR off) */
  guint rows;              /* its size (0: 24 x 80) */
  guint cols;
  gint64 uid;            /* -1: the container's (or root) */
  gint64 gid;            /* -1: the container's, or the uid */
  JsonArray *groups;     /* its supplementary groups in a container; NULL: the container's */
  guint64 add_caps;      /* capabilities (1 << number) beyond the container's, in one */
  const char *container; /* NULL: the first container, or the guest itself without one */
} SandboxExec;

void sandbox_exec_async (Sandbox *sandbox, const SandboxExec *exec, GAsyncReadyCallback callback,
                         gpointer user_data);
/* {"processes": [...]}, oldest first. */
JsonObject *sandbox_list_processes (Sandbox *sandbox);
void sandbox_signal_async (Sandbox *sandbox, guint32 process_id, int signal, gboolean group,
                           GAsyncReadyCallback callback, gpointer user_data);
/* Answers once the guest has written the bytes to the process's stdin. */
void sandbox_write_stdin_async (Sandbox *sandbox, guint32 process_id, const guint8 *data, gsize len,
                                GAsyncReadyCallback callback, gpointer user_data);
void sandbox_close_stdin_async (Sandbox *sandbox, guint32 process_id, GAsyncReadyCallback callback,
                                gpointer user_data);
/* A new size for the terminal of a process started with tty. */
void sandbox_resize_async (Sandbox *sandbox, guint32 process_id, guint rows, guint cols,
                           GAsyncReadyCallback callback, gpointer user_data);
void sandbox_wait_async (Sandbox *sandbox, guint32 process_id, GAsyncReadyCallback callback,
                         gpointer user_data);
/* Up to @max_bytes of a stream from @offset, waiting up to @wait_ms for
 * some when there is none yet and it is open; finish with
 * sandbox_read_output_finish. */
void sandbox_read_output_async (Sandbox *sandbox, guint32 process_id, gboolean is_stderr,
                                guint64 offset, gsize max_bytes, guint wait_ms,
                                GAsyncReadyCallback callback, gpointer user_data);
typedef struct
{
  GBytes *data;
  guint64 offset; /* where the next read starts */
  gboolean eof;   /* the stream ended there */
} SandboxOutput;
void sandbox_output_free (SandboxOutput *output);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SandboxOutput, sandbox_output_free)
SandboxOutput *sandbox_read_output_finish (GAsyncResult *result, GError **error);

/* sandbox-disks.c: hot-plugged SCSI disks. Attach answers with
 * {"disk_id", "path", "read_only", "scsi_id", "state"}; detach waits for
 * QEMU's DEVICE_DELETED before removing the block node. */
/* @fd (-1: sandboxd opens @path itself) is the file, opened by the caller
 * (as a tenant, say; the sandbox takes a duplicate). */
void sandbox_attach_disk_async (Sandbox *sandbox, const char *path, int fd, gboolean read_only,
                                GAsyncReadyCallback callback, gpointer user_data);
void sandbox_detach_disk_async (Sandbox *sandbox, const char *disk_id, GAsyncReadyCallback callback,
                                gpointer user_data);
