/* runtime.h — inside sandbox-runtime: what its command files share
 * (runtime-common.c, runtime-host.c) and the commands main dispatches. */
#pragma once

#include "oci.h"
#include "rpc-client.h"

#include <stdio.h>

#define DEFAULT_ROOT "/run/sandbox-runtime"
#define CREATE_DEADLINE_MS (5 * 60 * 1000)
#define CALL_DEADLINE_MS (60 * 1000)
#define NAME_MAX_LEN 63

/* runtime-common.c: the global options (main sets them). */
extern const char *runtime_root;
extern const char *runtime_address; /* --address, else $SANDBOXD_ADDRESS, else the system's */
extern const char *runtime_log_path;
extern gboolean runtime_log_json;
extern gboolean runtime_debug; /* --debug: each call to sandboxd is logged too */

/* runc's way: the message on stderr, and in --log; returns 1. */
int fail (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
/* With --debug: on stderr and in --log, at level debug. */
void say_debug (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
/* A call to sandboxd (at runtime_address). */
JsonObject *call (const char *method, JsonObject *params, gint64 deadline_ms, GError **error);
/* sandboxctl, beside us (installed) or in the build tree; NULL if neither. */
char *find_sandboxctl (void);
/* A command's own options, strict POSIX (they end at the id); FALSE, with
 * *code, after a usage error. */
gboolean parse_options (const char *verb, const char *params, GOptionEntry *entries, int *argc,
                        char ***argv, int *code);
/* The record of argv[1]; NULL (and *code) when there is none. */
OciState *load_or_fail (int argc, char **argv, const char *verb, int *code);
/* The bundle's hooks of @kind with the state of @s (docs/oci.md). */
gboolean run_hooks (const OciState *s, const char *kind, gboolean fatal, GError **error);
/* The first process of the sandbox (the container's) and its state
 * ("starting", "running", "exited"); 0 with @error when it has none yet. */
gint64 container_process (const char *name, char **state, GError **error);

/* runtime-host.c: host processes. */
int send_console (const char *socket_path, GError **error);
/* A process in the container, as `sandboxctl exec` runs it: NULL (or
 * FALSE) fields are the container's own. */
typedef struct
{
  char **args;
  gboolean terminal;
  char **env;
  gboolean env_only; /* @env is the whole environment */
  const char *cwd;
  const char *user; /* UID[:GID] */
  char **groups;    /* its supplementary groups */
  char **caps;      /* capabilities beyond the container's (exec --cap) */
} HostExec;
char **exec_argv (const char *sandboxctl, const char *name, const HostExec *x);
void host_process (const char *fifo, int console, char **argv) G_GNUC_NORETURN;
gboolean write_pid_file (const char *path, GPid pid, GError **error);

/* The commands: each takes its verb's argv (argv[0] the verb) and returns
 * the exit status. */
int cmd_create (int argc, char **argv);
int cmd_start (int argc, char **argv);
int cmd_run (int argc, char **argv);
int cmd_exec (int argc, char **argv);
int cmd_ps (int argc, char **argv);
int cmd_state (int argc, char **argv);
int cmd_kill (int argc, char **argv);
int cmd_pause (int argc, char **argv);
int cmd_resume (int argc, char **argv);
int cmd_update (int argc, char **argv);
int cmd_events (int argc, char **argv);
int cmd_delete (int argc, char **argv);
int cmd_features (int argc, char **argv);
int cmd_spec (int argc, char **argv);
int cmd_list (int argc, char **argv);
