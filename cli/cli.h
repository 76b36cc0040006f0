/* cli.h — what sandboxctl's verbs share. */
#pragma once

#include "rpc-client.h"

#include <glib.h>

/* Exit codes of sandboxctl's own failures; run and exec otherwise exit with
 * the process's status (128+N when killed by signal N). */
#define CLI_EXIT_ERROR 1
#define CLI_EXIT_USAGE 2
/* Deadline of a call that does not wait for the guest. */
#define CLI_CALL_DEADLINE_MS 30000

typedef struct
{
  const char *address;
  gboolean json;
} CliGlobals;

typedef int (*CliVerbFunc) (const CliGlobals *globals, int argc, char **argv);

/* Prints "sandboxctl: <CODE>: <message>" and returns CLI_EXIT_ERROR. */
int cli_fail (const GError *error);
/* Prints "sandboxctl: <verb>: <message> (see sandboxctl <verb> --help)". */

int cli_usage_error_text (const char *verb, const char *message);
/* Parses a verb's options; on --help prints and sets *exit_code to 0. */
gboolean cli_parse (const char *verb, const char *params, const char *summary,
                    const GOptionEntry *entries, int *argc, char ***argv, int *exit_code);
/* The same, also for options right after the first argument (a name):
 * "exec POD --container C -- CMD" as well as "exec --container C POD CMD". */
gboolean cli_parse_with_name (const char *verb, const char *params, const char *summary,
                              const GOptionEntry *entries, int *argc, char ***argv, int *exit_code);
void cli_print_json (JsonObject *obj);
void cli_print_json_array (JsonArray *array);
/* @method with @params (NULL: none) on a connection of its own; NULL with
 * *code set after saying why. */
JsonObject *cli_call (const CliGlobals *globals, const char *method, JsonObject *params, int *code);
/* "a,b" of a JSON array of names (a list's "used_by"); "-" when empty. */
char *cli_join_names (JsonArray *names);
/* A Prune's answer: what it removed, a line each, and the MiB freed (or
 * the answer as JSON with --json). */
void cli_print_pruned (const CliGlobals *globals, JsonObject *res);

/* A NULL-terminated copy of @n arguments. */
GStrv cli_strv_from (int n, char **args);
/* --memory of @verb ("256", "256M", "1G"; NULL: 0, the default) in MiB;
 * FALSE with *exit_code set after a usage error. */
gboolean cli_memory_mb (const char *verb, const char *memory, gint64 *mb, int *exit_code);

/* sandbox-options.c: what run and create share. */
typedef struct
{
  char *rootfs; /* a container's root: one of these three */
  char *bundle;
  char *image;
  char *writable; /* its writable layer's size */
} CliRootOptions;

typedef struct
{
  char *name;
  char *memory;
  gint cpus;
  gint pids;
  char *policy;
  char *kernel;
  char *network;  /* none, user, ns:PATH */
  char **publish; /* -p, repeatable */
  char **volumes; /* -v HOST_DIR:PATH[:ro|:rw], repeatable */
  char **mounts;  /* --mount type=bind,src=,dst=[,readonly], repeatable */
  CliRootOptions root;
} CliSandboxOptions;
void cli_sandbox_options_clear (CliSandboxOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliSandboxOptions, cli_sandbox_options_clear)
/* The options of a new sandbox followed by @own (NULL-terminated, may be
 * NULL); g_free the result. */
GOptionEntry *cli_sandbox_option_entries (CliSandboxOptions *options, const GOptionEntry *own);
/* --rootfs, --bundle, --image and --writable, into @root. */
void cli_root_option_entries (CliRootOptions *root, GOptionEntry out[5]);
void cli_root_options_clear (CliRootOptions *root);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliRootOptions, cli_root_options_clear)
/* Puts the root options in @params as absolute paths; FALSE with
 * *exit_code set after a usage error. */
gboolean cli_root_params (const char *verb, const CliRootOptions *root, JsonObject *params,
                          int *exit_code);
/* Boots a sandbox (with a first container when a root is given); the
 * sandbox, or NULL with *exit_code set after saying why. */
JsonObject *cli_create_sandbox (const CliGlobals *globals, RpcClient *client, const char *verb,
                                const CliSandboxOptions *options, gboolean auto_remove,
                                int *exit_code);

/* image-progress.c: while a call with a root in @params runs, the image
 * build's progress on stderr (if it takes over a second). NULL without a
 * root. */
typedef struct CliImageProgress CliImageProgress;
CliImageProgress *cli_image_progress_start (const char *address, RpcClient *client,
                                            JsonObject *params);
void cli_image_progress_stop (CliImageProgress *progress);
/* Calls @method with {"id": NAME} for each name; prints each result with
 * @print (NULL: the name). Returns 0, or 1 if any call failed. */
int cli_for_each_sandbox (const CliGlobals *globals, const char *method, int argc, char **argv,
                          JsonObject *extra, gint64 deadline_ms, void (*print) (JsonObject *));

/* process.c */
typedef struct
{
  char **args;
  char **env;
  gboolean env_only; /* env replaces the container's instead of adding to it */
  const char *workdir;
  const char *user; /* "UID[:GID]" or NULL */
  char **groups;    /* supplementary group ids (in a container), or NULL */
  char **caps;      /* capabilities beyond the container's (in one), or NULL */
  gboolean with_stdin;
  const char *container; /* NULL: the sandbox's first */
  gboolean tty;          /* a terminal in the guest; ours in raw mode meanwhile */
} CliExec;

/* terminal.c: our terminal while a process runs with -t. */
gboolean cli_terminal_available (void); /* stdin is a terminal */
void cli_terminal_size (guint *rows, guint *cols);
/* Whether our terminal (as it was before raw mode) turns \n into \r\n:
 * the guest's does the same (an OCI console socket's receiver in raw mode
 * wants the \n alone). */
gboolean cli_terminal_onlcr (void);
/* Raw mode until exit (or a fatal signal), or cli_terminal_restore. */
gboolean cli_terminal_raw (void);
void cli_terminal_restore (void);
/* Looks for the detach keys (Ctrl-P Ctrl-Q) in @buf (which starts with the
 * Ctrl-P held from the last read, if any). Returns how many bytes to send;
 * *held when the last is a Ctrl-P kept for the next read; *detach when
 * the keys were found (send the bytes before them, then leave). */
gsize cli_terminal_scan_detach (const guint8 *buf, gsize len, gboolean *held, gboolean *detach);
/* The usage error of -t without a terminal, as docker says it. */
#define CLI_NOT_A_TTY "the input device is not a TTY (-t needs one; use -i alone)"

/* Parses "UID[:GID]" into the Exec params; FALSE if it is not that. */
gboolean cli_exec_set_user (JsonObject *params, const char *user);
int cli_exec_and_wait (const CliGlobals *globals, RpcClient *client, const char *sandbox_id,
                       const CliExec *exec);
int cli_stream_output (const CliGlobals *globals, const char *sandbox_id, gint64 process_id,
                       gboolean follow);
void cli_delete_sandbox (RpcClient *client, const char *id);

int cli_run (const CliGlobals *globals, int argc, char **argv);
int cli_create (const CliGlobals *globals, int argc, char **argv);
int cli_exec (const CliGlobals *globals, int argc, char **argv);
int cli_ls (const CliGlobals *globals, int argc, char **argv);
int cli_logs (const CliGlobals *globals, int argc, char **argv);
int cli_kill (const CliGlobals *globals, int argc, char **argv);
int cli_rm (const CliGlobals *globals, int argc, char **argv);
int cli_events (const CliGlobals *globals, int argc, char **argv);
int cli_stats (const CliGlobals *globals, int argc, char **argv);
int cli_ps (const CliGlobals *globals, int argc, char **argv);
int cli_version (const CliGlobals *globals, int argc, char **argv);
int cli_info (const CliGlobals *globals, int argc, char **argv);
int cli_stop (const CliGlobals *globals, int argc, char **argv);
int cli_inspect (const CliGlobals *globals, int argc, char **argv);
int cli_container (const CliGlobals *globals, int argc, char **argv);
int cli_images (const CliGlobals *globals, int argc, char **argv);
int cli_kernels (const CliGlobals *globals, int argc, char **argv);
int cli_volume (const CliGlobals *globals, int argc, char **argv);
