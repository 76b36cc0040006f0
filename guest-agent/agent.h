/* agent.h — internals of sandbox-agent, shared by its own files only.
 *
 * The agent is PID 1 of every guest. It uses GLib (and GError) like the host
 * side; the initramfs builder copies the shared libraries it needs.
 */
#pragma once

#include "agent-protocol.h"
#include "write-queue.h"

#include <linux/filter.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/types.h>

/* agent-system.c: duties of PID 1 before the channel opens. */
gboolean agent_system_mount (GError **error);
gboolean agent_system_load_modules (const char *list_path, GError **error);
/* The value of KEY=VALUE on the kernel command line, or NULL. */
char *agent_system_cmdline_value (const char *key);
/* The sandbox's name, from sandboxd.hostname= on the kernel command line. */
void agent_system_set_hostname (void);
/* Waits (up to @timeout_ms) for the virtio-serial port named @name and opens
 * it non-blocking. Returns the fd or -1. */
int agent_system_open_port (const char *name, int timeout_ms, GError **error);
void agent_system_power_off (void) G_GNUC_NORETURN;
/* The fds of /dev/input/event*, non-blocking: the ACPI power button is one. */
GArray *agent_system_open_input_devices (void);
char *agent_system_kernel_release (void);
gint64 agent_system_uptime_ms (void);

/* agent-net.c: loopback, and eth0 as sandboxd.net= says (loading the
 * modules of @modules_list for it); /etc/hosts and /etc/resolv.conf. */
gboolean agent_net_configure (const char *modules_list, GError **error);
/* A clone's network at thaw (the template loaded the driver): @net as
 * sandboxd.net= has it, or NULL (none); @mac eth0's; /etc/hosts anew. */
gboolean agent_net_thaw (const char *net, const char *dns, const char *mac, GError **error);

/* agent-volumes.c: the volumes sandboxd.volumes= names (loading the
 * modules of @modules_list for them); the guest's own mounted at boot. */
gboolean agent_volumes_mount (const char *modules_list, GError **error);

/* One output stream of a process (stdout or stderr). */
typedef struct
{
  int fd;    /* the pipe's read end; -1 once it reached EOF */
  guint src; /* reading it, while the window is open */
  /* Sent bytes the host has not acknowledged yet: unacked->data from
   * @head on. The acknowledged ones before it are dropped in one move once
   * they are half the buffer, not by a move of the whole window at every
   * 64 KiB ack. */
  GByteArray *unacked;
  gsize head;
  guint64 acked; /* stream offset of unacked->data[head] */
} AgentStream;

/* agent-security.c: a container's process security (capabilities,
 * rlimits, groups, oom_score_adj, no_new_privs), prepared from its spec
 * before fork and applied in the child around its change of user. */
#define AGENT_CAP_SETS 5
#define AGENT_MAX_RLIMITS 16
#define AGENT_MAX_GROUPS 64
typedef struct
{
  gboolean has_caps;
  guint64 caps[AGENT_CAP_SETS]; /* bounding, effective, inheritable, permitted, ambient */
  int n_rlimits;
  struct
  {
    int resource;
    struct rlimit limit;
  } rlimits[AGENT_MAX_RLIMITS];
  int n_groups;
  gid_t groups[AGENT_MAX_GROUPS];
  gboolean no_new_privs;
  gboolean has_oom;
  int oom_score_adj;
  int umask;                 /* -1: the agent's */
  struct sock_fprog seccomp; /* .filter NULL: none */
} AgentSecurity;
gboolean agent_security_prepare (JsonObject *spec, AgentSecurity *security, GError **error);
void agent_security_clear (AgentSecurity *security);
/* @caps (1 << number) added to the bounding, effective and permitted sets,
 * as runc exec --cap does. */
void agent_security_add_caps (AgentSecurity *security, guint64 caps);

/* Before the change of user / after it; FALSE with errno set. */
gboolean agent_security_apply_early (const AgentSecurity *security);
gboolean agent_security_apply_late (const AgentSecurity *security);

/* agent-process.c: starting processes. */
typedef struct
{
  guint32 id;
  pid_t pid;
  int in_fd; /* write end of its stdin; -1 without one or once closed */
  AgentStream out;
  AgentStream err;
  WriteQueue *in_queue; /* stdin bytes not yet written (made at the first) */
  guint64 in_written;   /* stdin bytes written so far */
  gboolean in_close;    /* close stdin once the queue is written */
  gboolean tty;         /* out is a terminal's master (stdin too, if any) */
  gboolean exited;
  int wait_status;
  gboolean exit_sent; /* kept until the host acknowledges the exit */
} AgentProcess;

/* agent-container.c: containers, each in its own mount, pid, uts and ipc
 * namespaces with a root from a disk the host attached. */
enum
{
  AGENT_NS_PID,
  AGENT_NS_MNT,
  AGENT_NS_UTS,
  AGENT_NS_IPC,
  AGENT_NS_NET,    /* the guest's own, unless the spec asked for one (netns) */
  AGENT_NS_CGROUP, /* likewise (cgroupns) */
  AGENT_NS_COUNT
};

typedef struct
{
  char *name;
  JsonObject *spec; /* from the host: fstype, readonly, writable_mb, hostname, mounts, limits */
  gint64 scsi_id;   /* of its disk */
  guint wait_src;   /* waiting for the disk to appear */
  gint64 deadline;
  pid_t init_pid;             /* its init (pid 1 inside), 0 before and after */
  int ns_fds[AGENT_NS_COUNT]; /* of its init, for setns */
  char *cgroup;               /* its cgroup directory, or NULL */
  gboolean running;
  gboolean removing;
} AgentContainer;

void agent_containers_init (void);
/* {"type": "container-add", "name", "scsi_id", "spec"}: answered with
 * container-added (its init's pid) or container-failed (why). */
void agent_container_handle_add (JsonObject *message);
/* {"type": "container-remove", "name"}: kills its init, so every process
 * in it; answered with container-removed. */
void agent_container_handle_remove (JsonObject *message);
/* "container-update": new limits for a running container's cgroup
 * ("limits": memory_bytes, memory_low, pids, cpu_quota, cpu_period,
 * cpu_weight; -1: none); answered "container-updated" or
 * "container-update-failed" with a message. */
void agent_container_handle_update (JsonObject *message);
/* A running container, or NULL. */
const AgentContainer *agent_container_lookup (const char *name);
/* @pid was reaped: TRUE if it was a container's init. */
gboolean agent_container_reaped (pid_t pid);

/* agent-rootfs.c: the steps that build a container's root, planned in the
 * agent and run by the container's init after clone. */
typedef struct AgentRootfsPlan AgentRootfsPlan;
/* @device holds the root (spec "fstype"), mounted under @dir; the init
 * joins @cgroup_procs (may be NULL) first. */
AgentRootfsPlan *agent_rootfs_plan (const char *device, const char *dir, const char *cgroup_procs,
                                    JsonObject *spec, GError **error);
void agent_rootfs_plan_free (AgentRootfsPlan *plan);
/* In the child: runs every step; on failure writes {step, errno} (two
 * ints) to @status_fd and exits. Returns when all went well. */
void agent_rootfs_build (AgentRootfsPlan *plan, int status_fd);
/* "mount overlay /containers/c/root: Invalid argument" for a step's failure. */
char *agent_rootfs_describe_step (AgentRootfsPlan *plan, int step, int err);

/* Forks and execs @argv with @envp in @cwd as @uid:@gid (no supplementary
 * groups), inside @container when not NULL (its namespaces and cgroup);
 * stdout/stderr (and stdin when
 * @with_stdin, else /dev/null) become pipes whose other ends are returned in
 * the process, non-blocking. Reports exec failure (e.g. ENOENT) as an error
 * with the errno in *exec_errno. */
/* @tty: a pseudo-terminal of that size instead of pipes (stdin, if
 * @with_stdin, and one output stream: out), NULL for pipes. */
/* @groups: its supplementary groups in a container instead of the
 * container's (NULL: the container's); @add_caps: capabilities (1 << number)
 * it has there beyond the container's. */
typedef struct
{
  struct winsize size;
  gboolean onlcr; /* its output's \n becomes \r\n (a new terminal's default) */
} AgentTerminal;
AgentProcess *agent_process_spawn (guint32 id, char **argv, char **envp, const char *cwd,
                                   gboolean with_stdin, const AgentTerminal *tty, uid_t uid,
                                   gid_t gid, JsonArray *groups, guint64 add_caps,
                                   const AgentContainer *container, int *exec_errno,
                                   GError **error);
void agent_process_free (AgentProcess *proc);
/* A new window size for a process's terminal. */
gboolean agent_process_resize (AgentProcess *proc, const struct winsize *size, GError **error);

/* agent-port.c: the guest end of the channel. Frames queue while no host
 * is there; a new host gets a new session (hello first). */
typedef struct
{
  void (*session) (void);                  /* a host connected and was sent hello */
  void (*frame) (const AgentFrame *frame); /* a frame from the host */
  void (*queue_changed) (void);            /* agent_port_busy () may have changed */
} AgentPortCallbacks;

void agent_port_start (int fd, const AgentPortCallbacks *callbacks);
void agent_port_send_control (JsonObject *message);
void agent_port_send_data (AgentFrameType type, guint8 flags, guint32 stream, const guint8 *bytes,
                           gsize len);
/* Too much is queued for the host: read no more output for now. */
gboolean agent_port_busy (void);
/* Writes what is queued, waiting at most @budget_ms (before powering off). */
void agent_port_flush_for (int budget_ms);
/* A new session on the same connection (a clone, thawed): what was queued
 * is dropped, hello ("thawed" when @thawed) goes first. */
void agent_port_new_session (gboolean thawed);
/* {"type": "resync", "token"}: a host that connected while we may have
 * missed the old one leaving (a restarted sandboxd) asks for a new session;
 * it scans past whatever we wrote before the pad and "resynced". */
void agent_port_handle_resync (JsonObject *message);

/* agent-clone.c: "freeze" (a template, before its snapshot) and "thaw" (a
 * clone, after its restore: entropy, clock, hostname, a new session). */
void agent_clone_handle_freeze (JsonObject *message);
void agent_clone_handle_thaw (JsonObject *message);

/* agent-output.c: process output toward the host, acknowledged by offset
 * and resent to a new session from the last acknowledged byte. */
void agent_output_init (GHashTable *procs, void (*stream_ended) (AgentProcess *proc));
/* Reads @proc's pipes while their windows (and the port) allow. */
void agent_output_update (AgentProcess *proc);
void agent_output_update_all (void);
void agent_output_stream_free (AgentStream *stream);
/* {"type": "ack", "id", "stdout", "stderr", "exit"} from the host. */
void agent_output_handle_ack (JsonObject *message);
/* A new session: every process's unacknowledged output again. */
void agent_output_replay (void);
