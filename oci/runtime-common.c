/* runtime-common.c — what every sandbox-runtime command shares: the global
 * options, errors and debug lines (runc's, on stderr and in --log), calls
 * to sandboxd, option parsing, a container's record and first process,
 * and the bundle's hooks, run on the host. */
#include "config.h"
#include "json-fields.h"
#include "runtime.h"

#include <errno.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *runtime_root = DEFAULT_ROOT;
const char *runtime_address; /* --address, else $SANDBOXD_ADDRESS, else the system daemon's */
const char *runtime_log_path;
gboolean runtime_log_json;
gboolean runtime_debug; /* --debug: each call to sandboxd is logged too */

/* logrus's text form, as runc writes its lines: time="..." level=L msg="...". */
static char *
text_line (const char *when, const char *level, const char *msg)
{
  g_autofree char *quoted = g_strescape (msg, NULL);
  return g_strdup_printf ("time=\"%s\" level=%s msg=\"%s\"", when, level, quoted);
}

/* A line of --log (JSON with --log-format json) for conmon to read; with
 * @also_stderr, on stderr too (in text). */
static void
log_line (const char *level, const char *msg, gboolean also_stderr)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format_iso8601 (now);
  g_autofree char *text = text_line (when, level, msg);
  if (also_stderr)
    fprintf (stderr, "%s\n", text);
  FILE *f = runtime_log_path ? fopen (runtime_log_path, "a") : NULL;
  if (f == NULL)
    return;
  if (runtime_log_json)
    {
      g_autoptr (JsonObject) o = json_object_new ();
      json_object_set_string_member (o, "level", level);
      json_object_set_string_member (o, "msg", msg);
      json_object_set_string_member (o, "time", when);
      g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), o);
      g_autofree char *line = json_to_string (n, FALSE);
      fprintf (f, "%s\n", line);
    }
  else
    fprintf (f, "%s\n", text);
  fclose (f);
}

/* runc's way: the message on stderr, and in --log. */
int G_GNUC_PRINTF (1, 2) fail (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "sandbox-runtime: %s\n", msg);
  log_line ("error", msg, FALSE);
  return 1;
}

/* --debug: on stderr and in --log, as runc's debug lines (level=debug). */
void G_GNUC_PRINTF (1, 2) say_debug (const char *fmt, ...)
{
  if (!runtime_debug)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  log_line ("debug", msg, TRUE);
}

JsonObject *
call (const char *method, JsonObject *params, gint64 deadline_ms, GError **error)
{
  const char *to = runtime_address ? runtime_address : rpc_client_default_address ();
  say_debug ("%s at %s", method, to);
  GError *local = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (to, &local);
  JsonObject *res = client ? rpc_client_call (client, method, params, deadline_ms, &local) : NULL;
  say_debug ("%s: %s", method, res ? "ok" : local->message);
  if (local)
    g_propagate_error (error, local);
  return res;
}

/* sandboxctl, beside us (installed) or in the build tree. */
char *
find_sandboxctl (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self ? g_path_get_dirname (self) : NULL;
  g_autofree char *beside = dir ? g_build_filename (dir, "sandboxctl", NULL) : NULL;
  const char *candidates[] = { beside, SANDBOXCTL_INSTALL_PATH, SANDBOXCTL_BUILD_PATH };
  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (candidates[i] && g_file_test (candidates[i], G_FILE_TEST_IS_EXECUTABLE))
      return g_strdup (candidates[i]);
  return g_find_program_in_path ("sandboxctl");
}

/* Runs one hook; FALSE (with @error) when it fails or outlives its timeout. */
static gboolean
run_hook (JsonObject *hook, const char *state_json, GError **error)
{
  const char *path = json_object_get_string_member_with_default (hook, "path", "");
  g_auto (GStrv) args = NULL;
  g_auto (GStrv) env = NULL;
  json_field_strv (hook, "args", FALSE, &args, NULL);
  json_field_strv (hook, "env", FALSE, &env, NULL);
  gint64 timeout_s = json_object_get_int_member_with_default (hook, "timeout", 0);
  /* The program is the path; args are its whole argv, argv[0] included. */
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) path);
  if (args && args[0])
    for (char **a = args; *a; a++)
      g_ptr_array_add (argv, *a);
  else
    g_ptr_array_add (argv, (gpointer) path);
  g_ptr_array_add (argv, NULL);
  GPid pid;
  int in_fd = -1;
  char *no_env[] = { NULL };
  if (!g_spawn_async_with_pipes (NULL, (char **) argv->pdata, env ? env : no_env,
                                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_FILE_AND_ARGV_ZERO, NULL, NULL,
                                 &pid, &in_fd, NULL, NULL, error))
    return FALSE;
  (void) !write (in_fd, state_json, strlen (state_json));
  close (in_fd);
  gint64 deadline = timeout_s > 0 ? g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC : 0;
  int status = 0;
  for (;;)
    {
      pid_t r = waitpid (pid, &status, deadline ? WNOHANG : 0);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        break;
      if (deadline && g_get_monotonic_time () > deadline)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "hook %s: no end after %" G_GINT64_FORMAT " s", path, timeout_s);
          return FALSE;
        }
      g_usleep (10 * 1000);
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "hook %s: %s %d", path,
               WIFEXITED (status) ? "exit status" : "killed by signal",
               WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
  return FALSE;
}

/* The bundle's hooks of @kind, in order, with the state of @s. With
 * @fatal the first failure stops them and is returned; else each failure
 * is a warning (poststart, poststop), as the runtime spec says. */
gboolean
run_hooks (const OciState *s, const char *kind, gboolean fatal, GError **error)
{
  g_autofree char *path = g_build_filename (s->bundle, "config.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!g_file_get_contents (path, &text, NULL, NULL)
      || !json_text_check_depth (text, -1, JSON_MAX_DEPTH, NULL)
      || !json_parser_load_from_data (parser, text, -1, NULL))
    return TRUE; /* create read it; a bundle gone since has no hooks to run */
  JsonNode *top = json_parser_get_root (parser);
  JsonObject *o = top && JSON_NODE_HOLDS_OBJECT (top) ? json_node_get_object (top) : NULL;
  JsonObject *hooks = NULL;
  JsonArray *list = NULL;
  if (o && json_field_object (o, "hooks", FALSE, &hooks, NULL) && hooks
      && json_object_has_member (hooks, kind)
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (hooks, kind)))
    list = json_object_get_array_member (hooks, kind);
  g_autoptr (JsonObject) state = oci_state_to_json (s);
  g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), state);
  g_autofree char *state_json = json_to_string (n, FALSE);
  for (guint i = 0; list && i < json_array_get_length (list); i++)
    {
      JsonObject *hook = json_array_get_object_element (list, i);
      g_autoptr (GError) local = NULL;
      if (hook == NULL || run_hook (hook, state_json, &local))
        continue;
      if (fatal)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s", kind, local->message);
          return FALSE;
        }
      fprintf (stderr, "sandbox-runtime: warning: %s %s\n", kind, local->message);
    }
  return TRUE;
}

/* A command's own options; FALSE (and *code) after a usage error. */
gboolean
parse_options (const char *verb, const char *params, GOptionEntry *entries, int *argc, char ***argv,
               int *code)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (params);
  g_option_context_add_main_entries (ctx, entries, NULL);
  /* As runc: options end at the first argument (the id), so a command's
   * own (exec ID sh -c ..., ps -u) are its, not ours. */
  g_option_context_set_strict_posix (ctx, TRUE);
  g_autoptr (GError) error = NULL;
  if (g_option_context_parse (ctx, argc, argv, &error))
    return TRUE;
  *code = fail ("%s: %s", verb, error->message);
  return FALSE;
}

OciState *
load_or_fail (int argc, char **argv, const char *verb, int *code)
{
  g_autoptr (GError) error = NULL;
  if (argc < 2)
    {
      *code = fail ("%s: give a container id", verb);
      return NULL;
    }
  OciState *s = oci_state_load (runtime_root, argv[1], &error);
  if (s == NULL)
    *code = fail ("%s: %s", verb, error->message);
  /* podman passes its --runtime-flag to create only: the same sandboxd. */
  else if (runtime_address == NULL && s->address)
    runtime_address = g_strdup (s->address);
  return s;
}

/* The first process of the sandbox (the container's) and its state
 * ("starting", "running", "exited"); 0 with @error when it has none yet. */
gint64
container_process (const char *name, char **state, GError **error)
{
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "sandbox_id", name);
  g_autoptr (JsonObject) res = call ("sandbox.v1.Processes.List", params, CALL_DEADLINE_MS, error);
  JsonArray *procs = res ? json_object_get_array_member (res, "processes") : NULL;
  if (procs && json_array_get_length (procs) > 0)
    {
      JsonObject *first = json_array_get_object_element (procs, 0);
      if (state)
        *state = g_strdup (json_object_get_string_member_with_default (first, "state", ""));
      return json_object_get_int_member (first, "process_id");
    }
  if (res)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "its process has not started");
  return 0;
}
