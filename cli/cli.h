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
void cli_print_json (JsonObject *obj);
void cli_print_json_array (JsonArray *array);

int cli_run (const CliGlobals *globals, int argc, char **argv);
int cli_version (const CliGlobals *globals, int argc, char **argv);
int cli_stop (const CliGlobals *globals, int argc, char **argv);
int cli_inspect (const CliGlobals *globals, int argc, char **argv);
