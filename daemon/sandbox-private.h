/* sandbox-private.h — what sandbox.c and sandbox-process.c share. */
#pragma once

#include "agent-channel.h"
#include "output-log.h"
#include "qmp-client.h"
#include "sandbox.h"

typedef struct
{
  guint32 id;
  gint64 guest_pid;
  char **args;
  RpcCall *exec_call; /* until the agent says started or exec-failed */
  OutputLog *out;
  OutputLog *err;
  gboolean exited;
  gint64 exit_code; /* -1 when killed by a signal */
  gint64 signal;    /* 0 when it exited */
  GList *waiters;   /* RpcCall */
  gboolean has_stdin;
  gboolean stdin_closed; /* by CloseStdin, or by the process */
  guint64 stdin_sent;    /* bytes sent to the guest */
  guint64 stdin_acked;   /* bytes the guest wrote to the pipe */
  GList *stdin_writers;  /* StdinWrite: WriteStdin calls waiting for their ack */
} SandboxProcess;

typedef struct SandboxDisk SandboxDisk;

typedef enum
{
  STOP_NONE,
  STOP_POWERDOWN, /* asked the guest to power off */
  STOP_QUIT,      /* asked QEMU to quit; SIGKILL next */
} StopPhase;

struct Sandbox
{
  Daemon *daemon;
  char *id;
  char *name;
  char *dir;
  SandboxState state;
  char *error;
  guint memory_mb;
  guint cpus;
  GDateTime *created;
  gint64 start_us;
  gint64 boot_ms;
  char *kernel_release;

  GPid pid;
  guint child_watch;
  guint boot_timer;
  guint stop_timer;
  StopPhase stop_phase;
  guint release_idle;
  guint grace_timer;
  char *grace_reason;
  QmpClient *qmp;
  AgentChannel *agent;

  GList *start_calls;  /* Create calls waiting for the boot */
  GList *delete_calls; /* Delete calls waiting for QEMU to go */
  GList *stop_calls;   /* Stop calls waiting for QEMU to go */
  gboolean deleting;
  gboolean delete_on_failure;

  GHashTable *procs; /* id -> SandboxProcess */
  guint32 next_proc;

  GList *stats_calls; /* Stats calls waiting for the guest's numbers */
  guint stats_timer;
  GHashTable *disks; /* id -> SandboxDisk */
  guint next_disk;
};

/* Marks the sandbox failed with @reason, answers everyone waiting and
 * kills QEMU. No-op once stopped or failed. */
void sandbox_fail (Sandbox *sb, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* sandbox-process.c */
void sandbox_process_free (SandboxProcess *proc);
/* A control message about a process (started, exec-failed, exit). */
void sandbox_process_control (Sandbox *sb, const char *type, JsonObject *msg);
void sandbox_process_data (Sandbox *sb, guint32 stream, gboolean is_stderr, const guint8 *bytes,
                           gsize len, gboolean eof);
/* The sandbox is going away: end every stream and answer every waiter. */
void sandbox_processes_abort (Sandbox *sb, RpcStatus status, const char *reason);

/* sandbox-disks.c */
void sandbox_disk_free (SandboxDisk *disk);
JsonObject *sandbox_disk_to_json (SandboxDisk *disk);
/* QMP said DEVICE_DELETED for @device. */
void sandbox_disk_device_deleted (Sandbox *sb, const char *device);
