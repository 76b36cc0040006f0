/* sandbox-private.h — the Sandbox record and what the domain's files
 * share: sandbox.c (the state machine), sandbox-process.c, -containers.c,
 * -disks.c, -mounts.c, -pause.c, -reattach.c, -reply.c, -state.c,
 * -template.c and templates.c. Nothing outside sandbox/ includes it. */
#pragma once

#include "agent-channel.h"
#include "console-log.h"
#include "guest-text.h"
#include "network.h"
#include "output-log.h"
#include "qemu-monitor.h"
#include "qmp-client.h"
#include "sandbox.h"
#include "volumes.h"

#include <stdarg.h>

typedef struct
{
  Sandbox *sb;
  guint32 id;
  gint64 guest_pid;
  char **args;
  char *container;  /* where it runs; NULL: the guest itself */
  GTask *exec_task; /* until the agent says started or exec-failed */
  OutputLog *out;
  OutputLog *err;
  gboolean exited;
  guint64 exit_seq; /* its place among the exits (0: before sandboxd started) */
  gint64 exit_code; /* -1 when killed by a signal */
  gint64 signal;    /* 0 when it exited */
  GList *waiters;   /* GTask: Wait calls */
  gboolean has_stdin;
  gboolean tty;          /* a terminal in the guest: one output stream, stdout */
  gboolean stdin_closed; /* by CloseStdin, or by the process */
  guint64 stdin_sent;    /* bytes sent to the guest */
  guint64 stdin_acked;   /* bytes the guest wrote to the pipe */
  GList *stdin_writers;  /* StdinWrite: WriteStdin calls waiting for their ack */
  guint64 out_acked;     /* output offsets acknowledged to the guest */
  guint64 err_acked;
  guint64 out_skip; /* bytes the guest resends (a replay) that are stored already */
  guint64 err_skip;
  gboolean replayed; /* the guest resent it in this session */
} SandboxProcess;

typedef struct SandboxDisk SandboxDisk;
typedef struct SandboxContainer SandboxContainer;

typedef enum
{
  STOP_NONE,
  STOP_POWERDOWN, /* asked the guest to power off */
  STOP_QUIT,      /* asked QEMU to quit; SIGKILL next */
} StopPhase;

/* What the parts (processes, containers, disks) ask of the core. They ask
 * through the sandbox, not by name, so that the core calls the parts and
 * never the other way round (tools/check-deps.py). */
typedef struct
{
  void (*fail) (Sandbox *sb, const char *reason); /* sandbox_fail */
  void (*save) (Sandbox *sb);                     /* sandbox_save */
  void (*boot_finished) (Sandbox *sb);
  void (*auto_remove_check) (Sandbox *sb);
  void (*signal_qemu) (Sandbox *sb, int sig); /* sandbox_signal_qemu */
} SandboxOps;

struct Sandbox
{
  SandboxContext *ctx;
  GuestLogBudget guest_log; /* lines about what its guest sent */
  const SandboxOps *ops;
  char *id;
  char *name;
  char *tenant;      /* who owns it (NULL: the admin); names are unique per tenant */
  char *kernel_name; /* its guest kernel's (SandboxConfig), or NULL */
  char *kernel_path; /* NULL: the context's kernel and initramfs */
  char *initramfs_path;
  char *cgroup; /* QEMU's cgroup's name for the manager: the id, or a path from the root */
  char *dir;
  SandboxState state;
  char *error;
  guint memory_mb;
  guint cpus;
  guint pids;           /* asked for; 0: the policy's */
  const Policy *policy; /* owned by the daemon */
  GDateTime *created;
  gint64 start_us;
  gint64 boot_ms;
  char *kernel_release;

  GPid pid;
  guint qemu_uid;          /* QEMU's own uid while it runs (policy uid_range), else 0 */
  Network *network;        /* NULL: none */
  GPtrArray *volumes;      /* Volume: shared host directories, for life */
  gboolean paused;         /* its vCPUs stopped (sandbox-pause.c) */
  guint64 qemu_start_time; /* /proc/PID/stat's, to know the pid is still our QEMU */
  gint64 start_real_us;    /* when QEMU started, wall clock */
  int pidfd;               /* of a QEMU another sandboxd started (reattached), or -1 */
  guint pidfd_watch;
  guint child_watch;
  guint boot_timer;
  gboolean boot_waits_for_qmp; /* the guest is up; running once QMP is */
  gboolean boot_slot;          /* it holds one of ctx->boot_slots while it boots */
  gboolean boot_queued;        /* waiting in ctx->boot_queue for one */
  guint stop_timer;
  StopPhase stop_phase;
  guint release_idle;
  guint grace_timer;
  char *grace_reason;
  QmpClient *qmp;
  AgentChannel *agent;
  ConsoleLog *console;

  GList *start_calls;  /* GTask: Create calls waiting for the boot */
  GList *delete_calls; /* GTask: Delete calls waiting for QEMU to go */
  GList *stop_calls;   /* GTask: Stop calls waiting for QEMU to go */
  gboolean deleting;
  gboolean delete_on_failure;
  gboolean auto_remove;
  guint auto_remove_timer;
  gint64 auto_remove_at; /* when the armed timer fires, monotonic */

  GHashTable *procs; /* id -> SandboxProcess */
  guint32 next_proc;
  guint64 exits; /* processes seen to exit, to order them by (exit_seq) */

  GList *stats_calls; /* GTask: Stats calls waiting for the guest's numbers */
  guint stats_timer;
  GHashTable *disks; /* id -> SandboxDisk */
  guint next_disk;
  GPtrArray *containers; /* SandboxContainer, the first is exec's default */

  guint64 output_bytes; /* stored output of all its processes */
  gboolean output_full; /* output_bytes reached the daemon's output quota */

  guint save_idle;   /* a save of state.json is due */
  gboolean resuming; /* reattached: the guest's replay has not ended yet */

  /* Templates (sandbox-template.c). */
  gboolean hidden;       /* a template's build: no events, no state.json */
  char *snapshot_to;     /* a template's build: its state file, written at hello */
  char *restore_from;    /* a clone: the template's state file it restores */
  int ram_fd;            /* a build's or a clone's RAM: the template's memfd; -1 */
  gboolean template_nic; /* a build with a NIC (for clones with a network) */
  int nic_peer;          /* the build's: the other end of its NIC's socket, or -1 */
  char *cold_reason;     /* why it was booted cold after all (NULL: it was not) */
  gboolean thawed;       /* the clone's agent said hello after thaw */
  gboolean fall_back;    /* the restore failed: boot cold once QEMU is gone */
  guint template_timer;  /* query-migrate polls, the thaw deadline, the step after freeze */
  gint64 restore_ms;     /* QEMU start (a warm one: its adoption) to thawed hello */
  gboolean warm;         /* taken from the warm pool (templates.c) */
};

/* sandbox-reply.c: answering a domain call. Each answers @task and drops
 * the reference the domain holds (a task is answered exactly once). */
void sandbox_reply_json (GTask *task, JsonObject *result);
void sandbox_reply_error (GTask *task, SandboxError code, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);
void sandbox_reply_gerror (GTask *task, const GError *error);
/* Answers every task of @tasks with the error and empties the list. */
void sandbox_reply_all_error (GList **tasks, SandboxError code, const char *message);
SandboxError sandbox_error_from_errno (int errno_value);

/* What sandbox_to_json and state.json share: id, name, state, error,
 * created, memory_mb, cpus, policy. */
JsonObject *sandbox_settings_json (Sandbox *sb);

/* A sandbox record for @id in @dir, with nothing in it yet. */
Sandbox *sandbox_alloc (SandboxContext *ctx, const char *id, const char *dir);

/* Marks the sandbox failed with @reason, answers everyone waiting and
 * kills QEMU. No-op once stopped or failed. */
void sandbox_fail (Sandbox *sb, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
/* The same from a part (through sb->ops). */
static inline void G_GNUC_PRINTF (2, 3) sandbox_part_fail (Sandbox *sb, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  sb->ops->fail (sb, reason);
}

/* The guest is ready (and its first container, if any): running. */
void sandbox_boot_finished (Sandbox *sb);

/* Arms, moves or disarms the removal of an auto_remove sandbox after a
 * change of its first process (started, exited, output read). */
void sandbox_auto_remove_check (Sandbox *sb);

/* Opens the QMP and agent channels of the QEMU in sb->pid. */
void sandbox_connect (Sandbox *sb);
/* QEMU is gone: with its wait status, or -1 when it was not our child. */
void sandbox_qemu_exited (Sandbox *sb, int status);
/* Removes QEMU's cgroup, if its policy gave it one. */
void sandbox_remove_cgroup (Sandbox *sb);
/* Sends @sig to QEMU (through its pidfd when reattached). */
void sandbox_signal_qemu (Sandbox *sb, int sig);

/* sandbox-state.c: DIR/sb/<id>/state.json, written atomically (a temp
 * file renamed over it; not synced: it must outlive sandboxd, not the
 * host). sandbox_save writes it from the main loop, once for any number of
 * changes; sandbox_save_now at once. */
void sandbox_save (Sandbox *sb);
gboolean sandbox_save_now (Sandbox *sb, GError **error);
/* Restores @sb (made by sandbox_alloc for its id and dir) from its
 * state.json. */
gboolean sandbox_state_load (Sandbox *sb, GError **error);

/* sandbox-process.c */
/* A process record with its output files (@reopen: they exist already). */
SandboxProcess *sandbox_process_new (Sandbox *sb, guint32 id, gboolean reopen, GError **error);
void sandbox_process_free (SandboxProcess *proc);
/* A control message about a process (started, exec-failed, exit). */
void sandbox_process_control (Sandbox *sb, const char *type, JsonObject *msg);
void sandbox_process_data (Sandbox *sb, guint32 stream, gboolean is_stderr, const guint8 *bytes,
                           gsize len, gboolean eof);
/* The process with the lowest id, or NULL. *done when it has exited and
 * its output was read to the end. */
SandboxProcess *sandbox_first_process (Sandbox *sb, gboolean *done);
/* The sandbox is going away: end every stream and answer every waiter. */
void sandbox_processes_abort (Sandbox *sb, SandboxError code, const char *reason);

/* sandbox-disks.c */
/* The end of an attach (@result: the disk, transfer full) or a detach;
 * @error mostly in SANDBOX_ERROR. Called exactly once, also when the
 * sandbox goes. */
typedef void (*SandboxDiskDone) (Sandbox *sb, JsonObject *result, const GError *error,
                                 gpointer data);
const char *sandbox_disk_attach (Sandbox *sb, const char *path, gboolean read_only,
                                 SandboxDiskDone done, gpointer data, GError **error);
/* The same with @fd, the file already open (a duplicate is taken). */
const char *sandbox_disk_attach_fd (Sandbox *sb, const char *path, int fd, gboolean read_only,
                                    SandboxDiskDone done, gpointer data, GError **error);
gboolean sandbox_disk_detach (Sandbox *sb, const char *disk_id, SandboxDiskDone done, gpointer data,
                              GError **error);
/* A SandboxDiskDone that answers the GTask in @data. */
void sandbox_disk_answer_task (Sandbox *sb, JsonObject *result, const GError *error, gpointer data);
/* G_MAXUINT for an unknown disk. */
guint sandbox_disk_scsi_id (Sandbox *sb, const char *disk_id);
/* A read-only disk QEMU gets on its command line: the fd to pass (or -1
 * with @error), and where QEMU finds it. */
typedef struct
{
  const char *node; /* block node name, also the disk id */
  gint64 fdset;
  guint scsi_id;
} SandboxBootDisk;
int sandbox_disk_add_boot (Sandbox *sb, const char *path, SandboxBootDisk *boot, GError **error);
void sandbox_disk_free (SandboxDisk *disk);
/* The sandbox's disks (@attached_only: not those being attached or detached). */
JsonArray *sandbox_disks_to_json (Sandbox *sb, gboolean attached_only);
/* A disk that state.json says is attached. */
gboolean sandbox_disk_restore (Sandbox *sb, JsonObject *disk, GError **error);
/* QMP said DEVICE_DELETED for @device. */
void sandbox_disk_device_deleted (Sandbox *sb, const char *device);

/* sandbox-volumes.c: the volumes' sockets before QEMU starts (the
 * servers' listening ends appended to @listeners, QEMU's in each
 * v->qemu_fd), and their servers after (the sandbox fails if one dies
 * while it boots or runs; start closes the sockets). After a failed
 * prepare, sandbox_volumes_close closes what was made. */
gboolean sandbox_volumes_prepare (Sandbox *sb, GArray *listeners, GError **error);
gboolean sandbox_volumes_start (Sandbox *sb, GArray *listeners, GError **error);
void sandbox_volumes_close (Sandbox *sb, GArray *listeners);
/* After a restart of sandboxd: their servers watched again (the sandbox
 * fails if one is gone). */
void sandbox_volumes_reattach (Sandbox *sb);
/* Ends their servers (if still ours). */
void sandbox_volumes_release (Sandbox *sb);

/* sandbox-mounts.c: the images of a container's read-only host
 * directories (the spec's "image" mounts) as disks of their own. */
typedef void (*SandboxMountsDone) (Sandbox *sb, const GError *error, gpointer data);
/* Attaches those not attached yet; @done is called once, when all are. */
void sandbox_mounts_attach (Sandbox *sb, JsonObject *spec, SandboxMountsDone done, gpointer data);
/* Detaches them (best effort). */
void sandbox_mounts_detach (Sandbox *sb, JsonObject *spec);
/* Adds their image paths to @paths (a set). */
void sandbox_mounts_add_images (JsonObject *spec, GHashTable *paths);
/* TRUE if one of them is on @disk_id. */
gboolean sandbox_mounts_hold_disk (JsonObject *spec, const char *disk_id);

/* sandbox-template.c: a clone's restore (after QMP is there: its state,
 * cont, thaw) and a template's snapshot (after hello: freeze, stop,
 * migrate to its file; then the boot is finished). A failed restore kills
 * QEMU and sets fall_back: the core boots cold once QEMU is gone. */
void sandbox_restore_start (Sandbox *sb);
/* Tells the guest to thaw (again, for a warm clone taken from the pool). */
void sandbox_restore_thaw (Sandbox *sb);
void sandbox_restore_fail (Sandbox *sb, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
void sandbox_snapshot_start (Sandbox *sb);
/* The agent's "frozen". */
void sandbox_snapshot_frozen (Sandbox *sb);
void sandbox_template_clear (Sandbox *sb);

/* sandbox-containers.c */
void sandbox_container_free (SandboxContainer *container);
/* The first container, before the boot. */
void sandbox_containers_register (Sandbox *sb, const SandboxContainerConfig *config);
/* Its disk on QEMU's command line (a cold boot): the fd to pass. */
int sandbox_containers_boot_disk (Sandbox *sb, SandboxBootDisk *boot, GError **error);
/* After hello: asks the agent for the first container. FALSE if there is
 * none (the boot is finished); the container's answer finishes it. */
gboolean sandbox_containers_start_boot (Sandbox *sb);
/* container-added, container-failed, container-removed, container-exited. */
void sandbox_container_control (Sandbox *sb, const char *type, JsonObject *message);
/* @for_state: only running ones, as state.json keeps them. */
JsonArray *sandbox_containers_to_json (Sandbox *sb, gboolean for_state);
gboolean sandbox_container_restore (Sandbox *sb, JsonObject *container, GError **error);
/* The container whose root or a mount is on @disk_id, or NULL. */
const char *sandbox_container_of_disk (Sandbox *sb, const char *disk_id);
/* Where a process goes: the container @name (NULL: the first), its name
 * and *spec; NULL with no error when the sandbox has no containers. */
const char *sandbox_container_for_exec (Sandbox *sb, const char *name, JsonObject **spec,
                                        GError **error);
