/* runtime-create.c — create, start and run: the sandbox booted with the
 * bundle as its first container, its host process waiting on ROOT/ID/start
 * until start; run waits for it. */
#include "config.h"
#include "json-fields.h"
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long start waits for the host process to open its end (10 ms each). */
#define START_WAIT_TRIES 500

#define START_RUN_WAIT_S 30

typedef struct
{
  char **args;
  gboolean terminal;
  JsonObject *annotations;
} BundleProcess;

/* What the runtime itself needs of config.json (sandboxd reads the rest). */
static gboolean
read_bundle (const char *bundle, BundleProcess *bp, GError **error)
{
  g_autofree char *path = g_build_filename (bundle, "config.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!g_file_get_contents (path, &text, NULL, error)
      || !json_text_check_depth (text, -1, JSON_MAX_DEPTH, error)
      || !json_parser_load_from_data (parser, text, -1, error))
    return FALSE;
  JsonNode *rootn = json_parser_get_root (parser);
  JsonObject *o = rootn && JSON_NODE_HOLDS_OBJECT (rootn) ? json_node_get_object (rootn) : NULL;
  JsonNode *pn = o ? json_object_get_member (o, "process") : NULL;
  JsonObject *p = pn && JSON_NODE_HOLDS_OBJECT (pn) ? json_node_get_object (pn) : NULL;
  if (p == NULL || !json_field_strv (p, "args", TRUE, &bp->args, error)
      || !json_field_bool (p, "terminal", FALSE, &bp->terminal, error))
    {
      if (error && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no process object");
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  JsonNode *an = json_object_get_member (o, "annotations");
  if (an && JSON_NODE_HOLDS_OBJECT (an))
    bp->annotations = json_object_ref (json_node_get_object (an));
  return TRUE;
}

/* The bundle's choice of guest kernel: org.sandboxd.kernel (a name of
 * sandboxctl kernels) and org.sandboxd.kernel.min (the oldest release it
 * runs on); sandboxd checks both. */
static void
kernel_from_annotations (JsonObject *annotations, JsonObject *params)
{
  static const char *const keys[][2]
      = { { "org.sandboxd.kernel", "kernel" }, { "org.sandboxd.kernel.min", "kernel_min" } };
  for (guint i = 0; annotations && i < G_N_ELEMENTS (keys); i++)
    {
      JsonNode *v = json_object_get_member (annotations, keys[i][0]);
      if (v && JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
        json_object_set_string_member (params, keys[i][1], json_node_get_string (v));
    }
}

/* create's options, which run takes too. */
typedef struct
{
  char *bundle, *pid_file, *console_socket;
  gboolean no_pivot, no_new_keyring;
  gint preserve_fds;
} CreateOptions;

static void
create_options_clear (CreateOptions *o)
{
  g_free (o->bundle);
  g_free (o->pid_file);
  g_free (o->console_socket);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CreateOptions, create_options_clear)

#define CREATE_OPTION_ENTRIES(o)                                                                   \
  { "bundle", 'b', 0, G_OPTION_ARG_FILENAME, &(o).bundle, "The bundle (default: .)", "DIR" },      \
      { "pid-file", 0, 0, G_OPTION_ARG_FILENAME, &(o).pid_file, "Write the container's pid here",  \
        "FILE" },                                                                                  \
      { "console-socket",                                                                          \
        0,                                                                                         \
        0,                                                                                         \
        G_OPTION_ARG_FILENAME,                                                                     \
        &(o).console_socket,                                                                       \
        "Send the terminal's master here (process.terminal)",                                      \
        "PATH" },                                                                                  \
      { "no-pivot", 0, 0, G_OPTION_ARG_NONE, &(o).no_pivot, "Accepted (the root is the guest's)",  \
        NULL },                                                                                    \
      { "no-new-keyring", 0, 0, G_OPTION_ARG_NONE, &(o).no_new_keyring, "Accepted", NULL },        \
  {                                                                                                \
    "preserve-fds", 0, 0, G_OPTION_ARG_INT, &(o).preserve_fds, "Accepted (0 only)", "N"            \
  }

static int create_container (const char *verb, const char *id, const CreateOptions *o,
                             GPid *pid_out);

int
cmd_create (int argc, char **argv)
{
  g_auto (CreateOptions) o = { 0 };
  GOptionEntry entries[] = { CREATE_OPTION_ENTRIES (o), { NULL } };
  int code = 1;
  if (!parse_options ("create", "ID", entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return fail ("create: give one container id");
  return create_container ("create", argv[1], &o, NULL);
}

/* The container @id from @o's bundle: its sandbox booted, its host process
 * (whose pid goes to @pid_out) waiting for start. */
static int
create_container (const char *verb, const char *id, const CreateOptions *o, GPid *pid_out)
{
  const char *bundle = o->bundle, *pid_file = o->pid_file, *console_socket = o->console_socket;
  g_autoptr (GError) error = NULL;
  if (!oci_id_valid (id))
    return fail ("%s: invalid container id \"%s\" (letters, digits and _+-. only)", verb, id);
  if (o->preserve_fds != 0)
    return fail ("%s: --preserve-fds %d is not supported (extra fds cannot reach a guest)", verb,
                 o->preserve_fds);
  g_autofree char *abs_bundle = g_canonicalize_filename (bundle ? bundle : ".", NULL);
  g_autofree char *dir = oci_state_dir (runtime_root, id);
  if (g_file_test (dir, G_FILE_TEST_EXISTS))
    return fail ("container with id \"%s\" already exists", id);
  BundleProcess bp = { 0 };
  if (!read_bundle (abs_bundle, &bp, &error))
    return fail ("%s: %s", verb, error->message);
  if (bp.terminal != (console_socket != NULL))
    return fail ("%s: process.terminal is %s but --console-socket was %s", verb,
                 bp.terminal ? "true" : "false", console_socket ? "given" : "not given");
  g_autofree char *sandboxctl = find_sandboxctl ();
  if (sandboxctl == NULL)
    return fail ("%s: sandboxctl is not installed beside sandbox-runtime", verb);

  g_autofree char *name = g_strndup (id, NAME_MAX_LEN);
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "name", name);
  json_object_set_string_member (params, "bundle", abs_bundle);
  json_object_set_boolean_member (params, "delete_on_failure", TRUE);
  kernel_from_annotations (bp.annotations, params);
  g_autoptr (JsonObject) sb
      = call ("sandbox.v1.Sandboxes.Create", params, CREATE_DEADLINE_MS, &error);
  if (sb == NULL)
    return fail ("create %s: %s", id, error->message);

  g_autofree char *fifo = g_build_filename (dir, "start", NULL);
  int console = -1;
  if (g_mkdir_with_parents (dir, 0700) < 0 || mkfifo (fifo, 0600) < 0)
    g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", dir,
                 g_strerror (errno));
  else if (console_socket)
    console = send_console (console_socket, &error);
  GPid pid = -1;
  g_auto (GStrv) host_argv
      = exec_argv (sandboxctl, name, &(HostExec){ .args = bp.args, .terminal = bp.terminal });
  if (error == NULL && (pid = fork ()) == 0)
    host_process (fifo, console, host_argv);
  if (console >= 0)
    close (console);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  OciState st = {
    .id = (char *) id,
    .name = name,
    .bundle = abs_bundle,
    .pid = pid,
    .pid_start_time = oci_process_start_time (pid),
    .created = g_date_time_format_iso8601 (now),
    .address = (char *) (runtime_address ? runtime_address : rpc_client_default_address ()),
    .annotations = bp.annotations,
  };
  if (error == NULL && pid < 0)
    g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (errno), "fork: %s", g_strerror (errno));
  gboolean ok = error == NULL && oci_state_save (runtime_root, &st, &error)
                && run_hooks (&st, "createRuntime", TRUE, &error)
                && run_hooks (&st, "prestart", TRUE, &error)
                && (pid_file == NULL || write_pid_file (pid_file, pid, &error));
  g_free (st.created);
  g_strfreev (bp.args);
  if (bp.annotations)
    json_object_unref (bp.annotations);
  if (ok)
    {
      if (pid_out)
        *pid_out = pid;
      return 0;
    }
  /* Nothing left behind: no VM, no record. */
  if (pid > 0)
    kill (pid, SIGKILL);
  g_autoptr (JsonObject) del = json_object_new ();
  json_object_set_string_member (del, "id", name);
  json_object_set_boolean_member (del, "force", TRUE);
  g_autoptr (JsonObject) gone = call ("sandbox.v1.Sandboxes.Delete", del, CALL_DEADLINE_MS, NULL);
  unlink (fifo);
  g_autofree char *state_file = g_build_filename (dir, "state.json", NULL);
  unlink (state_file);
  rmdir (dir);
  return fail ("create %s: %s", id, error->message);
}

/* Whether the sandbox's first process has left "starting" (it runs, or
 * already ended) within START_RUN_WAIT_S. */
static gboolean
wait_started (const char *name)
{
  gint64 end = g_get_monotonic_time () + START_RUN_WAIT_S * G_USEC_PER_SEC;
  do
    {
      g_autofree char *state = NULL;
      if (container_process (name, &state, NULL) && !g_str_equal (state, "starting"))
        return TRUE;
      g_usleep (10 * 1000);
    }
  while (g_get_monotonic_time () < end);
  return FALSE;
}

int
cmd_start (int argc, char **argv)
{
  int code = 1;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "start", &code);
  if (s == NULL)
    return code;
  g_autofree char *dir = oci_state_dir (runtime_root, s->id);
  g_autofree char *fifo = g_build_filename (dir, "start", NULL);
  /* The host process opens its end just after create returned: a start
   * that comes at once may find no reader yet (ENXIO) for a moment. */
  int fd = -1;
  for (int tries = 0; !s->started && tries < START_WAIT_TRIES; tries++)
    {
      fd = open (fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0 || errno != ENXIO || g_str_equal (oci_state_status (s), "stopped"))
        break;
      g_usleep (10 * 1000);
    }
  if (s->started || fd < 0 || write (fd, "s", 1) != 1)
    {
      if (fd >= 0)
        close (fd);
      return fail ("cannot start container %s: it is %s, not created", s->id, oci_state_status (s));
    }
  close (fd);
  unlink (fifo);
  s->started = TRUE;
  g_autoptr (GError) error = NULL;
  if (!oci_state_save (runtime_root, s, &error))
    return fail ("start: %s", error->message);
  /* runc returns once the process runs: a kill right after must find it.
   * Ours starts in the guest a moment after its host process got the
   * word. */
  if (!wait_started (s->name))
    return fail ("start %s: its process did not start within %d s", s->id, START_RUN_WAIT_S);
  run_hooks (s, "poststart", FALSE, NULL);
  return 0;
}

/* runc run: create and start; without --detach, wait for the process
 * (signals we get go to it) and exit with its status, then delete the
 * container unless --keep. */
static GPid run_pid = -1;

static void
forward_signal (int sig)
{
  if (run_pid > 0)
    kill (run_pid, sig);
}

int
cmd_run (int argc, char **argv)
{
  g_auto (CreateOptions) o = { 0 };
  gboolean detach = FALSE, keep = FALSE;
  GOptionEntry entries[] = {
    CREATE_OPTION_ENTRIES (o),
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &detach, "Return once it runs", NULL },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Do not delete the container after it exits", NULL },
    { NULL },
  };
  int code = 1;
  if (!parse_options ("run", "ID", entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return fail ("run: give one container id");
  char *id = argv[1];
  GPid pid = -1;
  if ((code = create_container ("run", id, &o, &pid)) != 0)
    return code;
  char *start_argv[] = { "start", id, NULL };
  if ((code = cmd_start (2, start_argv)) != 0 || detach)
    return code;
  run_pid = pid;
  static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded); i++)
    signal (forwarded[i], forward_signal);
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  int exit_code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  if (!keep)
    {
      char *delete_argv[] = { "delete", id, NULL };
      cmd_delete (2, delete_argv);
    }
  return exit_code;
}
