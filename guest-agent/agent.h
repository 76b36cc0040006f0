/* agent.h — internals of sandbox-agent, shared by its own files only.
 *
 * The agent is PID 1 of every guest. It uses GLib (and GError) like the host
 * side; the initramfs builder copies the shared libraries it needs.
 */
#pragma once

#include "agent-protocol.h"

#include <sys/types.h>

/* agent-system.c: duties of PID 1 before the channel opens. */
gboolean agent_system_mount (GError **error);
gboolean agent_system_load_modules (const char *list_path, GError **error);
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

/* agent-process.c: starting processes. */
typedef struct
{
  guint32 id;
  pid_t pid;
  int in_fd;  /* write end of its stdin; -1 without one or once closed */
  int out_fd; /* -1 once its EOF was sent */
  int err_fd;
  guint in_src;
  guint out_src;
  guint err_src;
  GByteArray *in_queue; /* stdin bytes not yet written */
  guint64 in_written;   /* stdin bytes written so far */
  gboolean in_close;    /* close stdin once the queue is written */
  gboolean exited;
  int wait_status;
} AgentProcess;

/* Forks and execs @argv with @envp in @cwd as @uid:@gid (no supplementary
 * groups); stdout/stderr (and stdin when
 * @with_stdin, else /dev/null) become pipes whose other ends are returned in
 * the process, non-blocking. Reports exec failure (e.g. ENOENT) as an error
 * with the errno in *exec_errno. */
AgentProcess *agent_process_spawn (guint32 id, char **argv, char **envp, const char *cwd,
                                   gboolean with_stdin, uid_t uid, gid_t gid, int *exec_errno,
                                   GError **error);
void agent_process_free (AgentProcess *proc);
