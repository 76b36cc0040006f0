/* sandbox-runtime — an OCI runtime with runc's command line, as conmon and
 * podman call it: each container is one sandbox of sandboxd's (one
 * microVM), its root the bundle's.
 *
 *   create  boots the sandbox with the bundle as its first container, and
 *           starts the container's host process (its pid goes to
 *           --pid-file): `sandboxctl exec` of the bundle's process, which
 *           waits on ROOT/ID/start until `start`, carries the container's
 *           stdio (conmon's fds, or a terminal whose master goes to
 *           --console-socket), lives exactly as long as the process in the
 *           guest and exits with its status.
 *   start   opens ROOT/ID/start: the process starts.
 *   run     create and start; waits for the process unless --detach.
 *   state   the OCI state (created, running, paused, stopped).
 *   kill    a signal to the process in the guest (--all: its group).
 *   exec    another process in the container, its host process likewise.
 *   pause, resume  the VM's vCPUs.
 *   ps      ps(1) in the container (--format json: the host process).
 *   update  new cgroup limits for the container in the guest.
 *   events  its resource use, as runc's stats events.
 *   delete  the sandbox and the record (of a stopped one, unless --force).
 * Hooks run on the host (docs/oci.md). */
#include "config.h"
#include "json-fields.h"
#include "oci.h"
#include "rpc-client.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ROOT "/run/sandbox-runtime"
#define CREATE_DEADLINE_MS (5 * 60 * 1000)
#define CALL_DEADLINE_MS (60 * 1000)
#define NAME_MAX_LEN 63

static const char *root = DEFAULT_ROOT;
static const char *address; /* --address, else $SANDBOXD_ADDRESS, else the system daemon's */
static const char *log_path;
static gboolean log_json;
static gboolean debug; /* --debug: each call to sandboxd is logged too */

/* A line of --log (JSON with --log-format json) for conmon to read. */
static void
log_line (const char *level, const char *msg)
{
  FILE *f = log_path ? fopen (log_path, "a") : NULL;
  if (f)
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *when = g_date_time_format_iso8601 (now);
      if (log_json)
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
        fprintf (f, "time=\"%s\" level=%s msg=\"%s\"\n", when, level, msg);
      fclose (f);
    }
}

/* runc's way: the message on stderr, and in --log. */
static int G_GNUC_PRINTF (1, 2) fail (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "sandbox-runtime: %s\n", msg);
  log_line ("error", msg);
  return 1;
}

/* --debug: on stderr and in --log, as runc's debug lines. */
static void G_GNUC_PRINTF (1, 2) say_debug (const char *fmt, ...)
{
  if (!debug)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "sandbox-runtime: debug: %s\n", msg);
  log_line ("debug", msg);
}

static JsonObject *
call (const char *method, JsonObject *params, gint64 deadline_ms, GError **error)
{
  const char *to = address ? address : rpc_client_default_address ();
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
static char *
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

/* ---- hooks: host programs, with the container's state on stdin ---- */

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
static gboolean
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
static gboolean
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

/* ---- create ---- */

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

/* A terminal whose master goes to @socket_path (SCM_RIGHTS, as runc sends
 * it); returns the slave, or -1. */
static int
send_console (const char *socket_path, GError **error)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  int unlock = 0, slave = -1, sock = -1;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (master < 0 || ioctl (master, TIOCSPTLCK, &unlock) < 0
      || (slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0)
    goto fail;
  if (strlen (socket_path) >= sizeof addr.sun_path)
    {
      errno = ENAMETOOLONG;
      goto fail;
    }
  strcpy (addr.sun_path, socket_path);
  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || connect (sock, (struct sockaddr *) &addr, sizeof addr) < 0)
    goto fail;
  char name[] = "/dev/ptmx";
  struct iovec iov = { name, sizeof name - 1 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control = { 0 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &master, sizeof master);
  if (sendmsg (sock, &msg, 0) < 0)
    goto fail;
  close (sock);
  close (master);
  return slave;
fail:;
  int e = errno;
  if (sock >= 0)
    close (sock);
  if (slave >= 0)
    close (slave);
  if (master >= 0)
    close (master);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "console socket %s: %s", socket_path,
               g_strerror (e));
  return -1;
}

/* `sandboxctl exec` of a process in the container: what its host process
 * becomes. @env, @cwd and @user may be NULL (the container's own); with
 * @env_only, @env is the whole environment. */
static char **
exec_argv (const char *sandboxctl, const char *name, gboolean terminal, char **env,
           gboolean env_only, const char *cwd, const char *user, char **groups, char **args)
{
  GPtrArray *argv = g_ptr_array_new ();
  const char *head[] = { sandboxctl, "--address", address ? address : rpc_client_default_address (),
                         "exec", "-i" };
  for (gsize i = 0; i < G_N_ELEMENTS (head); i++)
    g_ptr_array_add (argv, g_strdup (head[i]));
  if (terminal)
    g_ptr_array_add (argv, g_strdup ("-t"));
  if (env_only)
    g_ptr_array_add (argv, g_strdup ("--env-only"));
  for (char **e = env; e && *e; e++)
    {
      g_ptr_array_add (argv, g_strdup ("-e"));
      g_ptr_array_add (argv, g_strdup (*e));
    }
  if (cwd)
    {
      g_ptr_array_add (argv, g_strdup ("-w"));
      g_ptr_array_add (argv, g_strdup (cwd));
    }
  if (user)
    {
      g_ptr_array_add (argv, g_strdup ("-u"));
      g_ptr_array_add (argv, g_strdup (user));
    }
  for (char **g = groups; g && *g; g++)
    {
      g_ptr_array_add (argv, g_strdup ("--group-add"));
      g_ptr_array_add (argv, g_strdup (*g));
    }
  g_ptr_array_add (argv, g_strdup (name));
  g_ptr_array_add (argv, g_strdup ("--"));
  for (char **a = args; a && *a; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);
  return (char **) g_ptr_array_free (argv, FALSE);
}

/* A container process's host process: its own session (with @console,
 * if any, as its terminal), waits for `start` on @fifo (when given), then
 * becomes @argv (sandboxctl exec). Never returns. */
static void G_GNUC_NORETURN
host_process (const char *fifo, int console, char **argv)
{
  setsid ();
  signal (SIGPIPE, SIG_DFL); /* an ignored signal would stay ignored across exec */
  if (console >= 0)
    {
      if (dup2 (console, 0) < 0 || dup2 (console, 1) < 0 || dup2 (console, 2) < 0
          || ioctl (0, TIOCSCTTY, 0) < 0)
        _exit (125);
      if (console > 2)
        close (console);
    }
  if (fifo)
    {
      int fd = open (fifo, O_RDONLY | O_CLOEXEC);
      char go = 0;
      if (fd < 0 || read (fd, &go, 1) != 1)
        _exit (125); /* deleted before it was started */
      close (fd);
    }
  execv (argv[0], argv);
  _exit (127);
}

static gboolean
write_pid_file (const char *path, GPid pid, GError **error)
{
  g_autofree char *text = g_strdup_printf ("%d", (int) pid);
  return g_file_set_contents (path, text, -1, error);
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

static int
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
  g_autofree char *dir = oci_state_dir (root, id);
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
      = exec_argv (sandboxctl, name, bp.terminal, NULL, FALSE, NULL, NULL, NULL, bp.args);
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
    .address = (char *) (address ? address : rpc_client_default_address ()),
    .annotations = bp.annotations,
  };
  if (error == NULL && pid < 0)
    g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (errno), "fork: %s", g_strerror (errno));
  gboolean ok = error == NULL && oci_state_save (root, &st, &error)
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

/* ---- the others ---- */

static OciState *
load_or_fail (int argc, char **argv, const char *verb, int *code)
{
  g_autoptr (GError) error = NULL;
  if (argc < 2)
    {
      *code = fail ("%s: give a container id", verb);
      return NULL;
    }
  OciState *s = oci_state_load (root, argv[1], &error);
  if (s == NULL)
    *code = fail ("%s: %s", verb, error->message);
  /* podman passes its --runtime-flag to create only: the same sandboxd. */
  else if (address == NULL && s->address)
    address = g_strdup (s->address);
  return s;
}

/* How long start waits for the host process to open its end (10 ms each). */
#define START_WAIT_TRIES 500

#define START_RUN_WAIT_S 30

/* The first process of the sandbox (the container's) and its state
 * ("starting", "running", "exited"); 0 with @error when it has none yet. */
static gint64
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

static int
cmd_start (int argc, char **argv)
{
  int code = 1;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "start", &code);
  if (s == NULL)
    return code;
  g_autofree char *dir = oci_state_dir (root, s->id);
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
  if (!oci_state_save (root, s, &error))
    return fail ("start: %s", error->message);
  /* runc returns once the process runs: a kill right after must find it.
   * Ours starts in the guest a moment after its host process got the
   * word. */
  if (!wait_started (s->name))
    return fail ("start %s: its process did not start within %d s", s->id, START_RUN_WAIT_S);
  run_hooks (s, "poststart", FALSE, NULL);
  return 0;
}

static gboolean
sandbox_paused (const char *name)
{
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "id", name);
  g_autoptr (JsonObject) sb = call ("sandbox.v1.Sandboxes.Get", params, CALL_DEADLINE_MS, NULL);
  return sb && json_object_get_boolean_member_with_default (sb, "paused", FALSE);
}

/* pause and resume: the container's VM, its vCPUs. */
static int
pause_or_resume (int argc, char **argv, gboolean pause)
{
  const char *verb = pause ? "pause" : "resume";
  int code = 1;
  g_autoptr (OciState) s = load_or_fail (argc, argv, verb, &code);
  if (s == NULL)
    return code;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "id", s->name);
  g_autoptr (JsonObject) res
      = call (pause ? "sandbox.v1.Sandboxes.Pause" : "sandbox.v1.Sandboxes.Resume", params,
              CALL_DEADLINE_MS, &error);
  if (res == NULL)
    return fail ("%s %s: %s", verb, s->id, error->message);
  return 0;
}

static int
cmd_pause (int argc, char **argv)
{
  return pause_or_resume (argc, argv, TRUE);
}

static int
cmd_resume (int argc, char **argv)
{
  return pause_or_resume (argc, argv, FALSE);
}

static int
cmd_state (int argc, char **argv)
{
  int code = 1;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "state", &code);
  if (s == NULL)
    return code;
  g_autoptr (JsonObject) o = oci_state_to_json (s);
  if (g_str_equal (oci_state_status (s), "running") && sandbox_paused (s->name))
    json_object_set_string_member (o, "status", "paused");
  g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), o);
  g_autofree char *text = json_to_string (n, TRUE);
  printf ("%s\n", text);
  return 0;
}

static int
parse_signal (const char *text)
{
  guint64 n;
  if (g_ascii_string_to_unsigned (text, 10, 0, 64, &n, NULL))
    return (int) n;
  const char *name = g_str_has_prefix (text, "SIG") ? text + 3 : text;
  for (int sig = 1; sig < NSIG; sig++)
    {
      const char *abbrev = sigabbrev_np (sig);
      if (abbrev && g_ascii_strcasecmp (abbrev, name) == 0)
        return sig;
    }
  return -1;
}

static int
cmd_kill (int argc, char **argv)
{
  gboolean all = FALSE;
  GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "The process's whole group", NULL },
    { NULL },
  };
  int code = 1;
  g_autoptr (GError) error = NULL;
  if (!parse_options ("kill", "ID [SIGNAL]", entries, &argc, &argv, &code))
    return code;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "kill", &code);
  if (s == NULL)
    return code;
  int sig = argc > 2 ? parse_signal (argv[2]) : SIGTERM;
  if (sig < 0)
    return fail ("kill: \"%s\" is not a signal", argv[2]);
  const char *status = oci_state_status (s);
  if (g_str_equal (status, "stopped"))
    return fail ("kill %s: the container is stopped", s->id);
  if (sig == 0)
    return 0; /* kill(2)'s signal 0: it is there, and may be signalled */
  if (g_str_equal (status, "created"))
    {
      kill (s->pid, sig); /* never started: its host process ends */
      return 0;
    }
  gint64 process = container_process (s->name, NULL, &error);
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "sandbox_id", s->name);
  json_object_set_int_member (params, "process_id", process);
  json_object_set_int_member (params, "signal", sig);
  json_object_set_boolean_member (params, "group", all);
  g_autoptr (JsonObject) res
      = process ? call ("sandbox.v1.Processes.Signal", params, CALL_DEADLINE_MS, &error) : NULL;
  if (res == NULL)
    return fail ("kill %s: %s", s->id, error->message);
  return 0;
}

static int
cmd_delete (int argc, char **argv)
{
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Also a running container (killed)", NULL },
    { NULL },
  };
  int code = 1;
  g_autoptr (GError) error = NULL;
  if (!parse_options ("delete", "ID", entries, &argc, &argv, &code))
    return code;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "delete", &code);
  /* --force forgives a container that does not exist, not a bad id. */
  if (s == NULL)
    return force && argc >= 2 && oci_id_valid (argv[1]) ? 0 : code;
  /* The runtime spec: deleting a container that is not stopped (created,
   * running or paused) is an error, unless forced. */
  if (!g_str_equal (oci_state_status (s), "stopped") && !force)
    return fail ("cannot delete container %s that is %s, not stopped: use --force", s->id,
                 oci_state_status (s));
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "id", s->name);
  json_object_set_boolean_member (params, "force", TRUE);
  g_autoptr (JsonObject) res
      = call ("sandbox.v1.Sandboxes.Delete", params, CALL_DEADLINE_MS, &error);
  if (res == NULL && !g_error_matches (error, RPC_ERROR, RPC_STATUS_NOT_FOUND))
    return fail ("delete %s: %s", s->id, error->message);
  if (!g_str_equal (oci_state_status (s), "stopped"))
    kill (s->pid, SIGKILL);
  run_hooks (s, "poststop", FALSE, NULL);
  g_autofree char *dir = oci_state_dir (root, s->id);
  g_autofree char *fifo = g_build_filename (dir, "start", NULL);
  g_autofree char *state_file = g_build_filename (dir, "state.json", NULL);
  unlink (fifo);
  unlink (state_file);
  rmdir (dir);
  return 0;
}

/* runc events: the container's resource use as runc's "stats" events (one
 * JSON object a line): with --stats once, else every --interval until it
 * stops. CPU is its QEMU's; memory and pids are the guest's own when it
 * runs (what the container's processes use), else QEMU's cgroup's. */
static JsonObject *
stats_event (const OciState *s, GError **error)
{
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "id", s->name);
  g_autoptr (JsonObject) st = call ("sandbox.v1.Sandboxes.Stats", params, CALL_DEADLINE_MS, error);
  if (st == NULL)
    return NULL;
  JsonObject *guest = NULL, *cgroup = NULL;
  json_field_object (st, "guest", FALSE, &guest, NULL);
  json_field_object (st, "cgroup", FALSE, &cgroup, NULL);
  gint64 limit = json_object_get_int_member_with_default (st, "memory_mb", 0) * 1024 * 1024;
  gint64 used
      = guest ? (json_object_get_int_member_with_default (guest, "memory_total_kb", 0)
                 - json_object_get_int_member_with_default (guest, "memory_available_kb", 0))
                    * 1024
              : (cgroup ? json_object_get_int_member_with_default (cgroup, "memory_bytes", 0) : 0);
  JsonObject *cpu_usage = json_object_new (), *cpu = json_object_new ();
  json_object_set_int_member (
      cpu_usage, "total", json_object_get_int_member_with_default (st, "qemu_cpu_ms", 0) * 1000000);
  json_object_set_object_member (cpu, "usage", cpu_usage);
  JsonObject *mem_usage = json_object_new (), *memory = json_object_new ();
  json_object_set_int_member (mem_usage, "usage", used);
  json_object_set_int_member (mem_usage, "limit", limit);
  json_object_set_object_member (memory, "usage", mem_usage);
  JsonObject *pids = json_object_new ();
  json_object_set_int_member (pids, "current",
                              guest
                                  ? json_object_get_int_member_with_default (guest, "processes", 0)
                                  : json_object_get_int_member_with_default (st, "processes", 0));
  JsonObject *data = json_object_new ();
  json_object_set_object_member (data, "cpu", cpu);
  json_object_set_object_member (data, "memory", memory);
  json_object_set_object_member (data, "pids", pids);
  JsonObject *event = json_object_new ();
  json_object_set_string_member (event, "type", "stats");
  json_object_set_string_member (event, "id", s->id);
  json_object_set_object_member (event, "data", data);
  return event;
}

static int
cmd_events (int argc, char **argv)
{
  gboolean stats = FALSE;
  g_autofree char *interval_text = NULL;
  GOptionEntry entries[] = {
    { "stats", 0, 0, G_OPTION_ARG_NONE, &stats, "Print the stats once and exit", NULL },
    { "interval", 0, 0, G_OPTION_ARG_STRING, &interval_text,
      "Between stats events (default 5s; as runc: 500ms, 2s, 1m)", "DURATION" },
    { NULL },
  };
  int code = 1;
  if (!parse_options ("events", "ID", entries, &argc, &argv, &code))
    return code;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "events", &code);
  if (s == NULL)
    return code;
  gint64 interval_ms = 5000;
  if (interval_text)
    {
      char *end = NULL;
      double v = g_ascii_strtod (interval_text, &end);
      double unit = g_str_equal (end, "ms")  ? 1
                    : g_str_equal (end, "s") ? 1000
                    : g_str_equal (end, "m") ? 60000
                                             : -1;
      if (end == interval_text || unit < 0 || v <= 0)
        return fail ("events: --interval %s is not a duration (500ms, 2s, 1m)", interval_text);
      interval_ms = (gint64) (v * unit);
    }
  do
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) event = stats_event (s, &error);
      if (event == NULL)
        return fail ("events %s: %s", s->id, error->message);
      g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), event);
      g_autofree char *line = json_to_string (n, FALSE);
      printf ("%s\n", line);
      fflush (stdout);
      if (stats)
        return 0;
      g_usleep (interval_ms * 1000);
    }
  while (!g_str_equal (oci_state_status (s), "stopped"));
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

static int
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

/* runc exec: a process in a running container. --process gives it as
 * config.json's process object (what podman exec writes); else the
 * command line. The pid in --pid-file is its host process; with
 * --detach we return once it runs, else we wait and exit with its status. */
static int
cmd_exec (int argc, char **argv)
{
  g_autofree char *process = NULL, *pid_file = NULL, *console_socket = NULL, *cwd = NULL;
  g_autofree char *user = NULL;
  g_auto (GStrv) env = NULL;
  g_auto (GStrv) groups = NULL;
  gboolean detach = FALSE, tty = FALSE;
  GOptionEntry entries[] = {
    { "process", 'p', 0, G_OPTION_ARG_FILENAME, &process, "The process, as JSON", "FILE" },
    { "pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file, "Write its pid here", "FILE" },
    { "console-socket", 0, 0, G_OPTION_ARG_FILENAME, &console_socket,
      "Send its terminal's master here", "PATH" },
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &detach, "Return once it runs", NULL },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &tty, "A terminal", NULL },
    { "cwd", 0, 0, G_OPTION_ARG_STRING, &cwd, "Its working directory", "DIR" },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, "An environment variable", "K=V" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, "UID[:GID]", "UID[:GID]" },
    { "additional-gids", 'g', 0, G_OPTION_ARG_STRING_ARRAY, &groups,
      "A supplementary group (repeatable)", "GID" },
    { NULL },
  };
  int code = 1;
  g_autoptr (GError) error = NULL;
  if (!parse_options ("exec", "ID [COMMAND...]", entries, &argc, &argv, &code))
    return code;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "exec", &code);
  if (s == NULL)
    return code;
  /* A created container is there in its VM already (its own process
   * waits for start): exec runs beside it, as runc's does. */
  const char *state = oci_state_status (s);
  if (!g_str_equal (state, "running") && !g_str_equal (state, "created"))
    return fail ("exec: container %s is %s, not created or running", s->id, state);
  /* exec ID -- CMD: the "--" only ends options. */
  int first = argc > 2 && g_str_equal (argv[2], "--") ? 3 : 2;
  g_auto (GStrv) args = argc > first ? g_strdupv (argv + first) : NULL;
  g_autofree char *user_text = g_strdup (user);
  const char *dir = cwd;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (process)
    {
      JsonObject *p = NULL, *u = NULL;
      g_autofree char *text = NULL;
      if (!g_file_get_contents (process, &text, NULL, &error)
          || !json_text_check_depth (text, -1, JSON_MAX_DEPTH, &error)
          || !json_parser_load_from_data (parser, text, -1, &error))
        return fail ("exec: %s", error->message);
      JsonNode *top = json_parser_get_root (parser);
      p = top && JSON_NODE_HOLDS_OBJECT (top) ? json_node_get_object (top) : NULL;
      g_clear_pointer (&args, g_strfreev);
      g_clear_pointer (&env, g_strfreev);
      if (p == NULL || !json_field_strv (p, "args", TRUE, &args, &error)
          || !json_field_strv (p, "env", FALSE, &env, &error)
          || !json_field_string (p, "cwd", FALSE, &dir, &error)
          || !json_field_bool (p, "terminal", FALSE, &tty, &error)
          || !json_field_object (p, "user", FALSE, &u, &error))
        return fail ("exec: %s: %s", process, error ? error->message : "not a JSON object");
      if (u)
        {
          g_free (user_text);
          user_text = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                                       json_object_get_int_member_with_default (u, "uid", 0),
                                       json_object_get_int_member_with_default (u, "gid", 0));
          /* user.additionalGids: its groups instead of the container's. */
          JsonNode *gn = json_object_get_member (u, "additionalGids");
          JsonArray *gids = gn && JSON_NODE_HOLDS_ARRAY (gn) ? json_node_get_array (gn) : NULL;
          if (gids)
            {
              g_strfreev (groups);
              groups = g_new0 (char *, json_array_get_length (gids) + 1);
              for (guint i = 0; i < json_array_get_length (gids); i++)
                {
                  JsonNode *g = json_array_get_element (gids, i);
                  if (!JSON_NODE_HOLDS_VALUE (g) || json_node_get_value_type (g) != G_TYPE_INT64)
                    return fail ("exec: %s: user.additionalGids[%u] is not a group id", process, i);
                  groups[i] = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (g));
                }
            }
        }
    }
  if (args == NULL || args[0] == NULL)
    return fail ("exec: no command given");
  if (tty != (console_socket != NULL))
    return fail ("exec: a terminal needs --console-socket (and only then)");
  g_autofree char *sandboxctl = find_sandboxctl ();
  if (sandboxctl == NULL)
    return fail ("exec: sandboxctl is not installed beside sandbox-runtime");
  /* --process is the whole process: its env replaces the container's
   * (runc's rule); -e adds to it. */
  g_auto (GStrv) xargv
      = exec_argv (sandboxctl, s->name, tty, env, process != NULL, dir, user_text, groups, args);
  int console = console_socket ? send_console (console_socket, &error) : -1;
  if (console_socket && console < 0)
    return fail ("exec: %s", error->message);
  GPid pid = fork ();
  if (pid == 0)
    host_process (NULL, console, xargv);
  if (console >= 0)
    close (console);
  if (pid < 0)
    return fail ("exec: fork: %s", g_strerror (errno));
  if (pid_file && !write_pid_file (pid_file, pid, &error))
    {
      kill (pid, SIGKILL);
      return fail ("exec: %s", error->message);
    }
  if (detach)
    return 0;
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* The container's host processes (its processes run in the VM, not here). */
static int
cmd_ps (int argc, char **argv)
{
  g_autofree char *format = NULL;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "table or json", "FORMAT" },
    { NULL },
  };
  int code = 1;
  if (!parse_options ("ps", "ID [-- PS-ARGS...]", entries, &argc, &argv, &code))
    return code;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "ps", &code);
  if (s == NULL)
    return code;
  gboolean alive = !g_str_equal (oci_state_status (s), "stopped");
  /* JSON: pids a caller may signal on this host, so the host process's
   * (the container's processes have guest pids, in another kernel). */
  if (format && g_str_equal (format, "json"))
    {
      printf (alive ? "[%d]\n" : "[]\n", (int) s->pid);
      return 0;
    }
  if (format && !g_str_equal (format, "table"))
    return fail ("ps: --format %s: table or json", format);
  if (!alive)
    {
      printf ("PID\n");
      return 0;
    }
  /* The table: ps(1) in the container, with the arguments after the id
   * (runc passes them to ps), default -ef. */
  int first = argc > 2 && g_str_equal (argv[2], "--") ? 3 : 2;
  g_autoptr (GPtrArray) ps = g_ptr_array_new ();
  g_ptr_array_add (ps, (gpointer) "ps");
  if (argc > first)
    for (int i = first; i < argc; i++)
      g_ptr_array_add (ps, argv[i]);
  else
    g_ptr_array_add (ps, (gpointer) "-ef");
  g_ptr_array_add (ps, NULL);
  g_autofree char *sandboxctl = find_sandboxctl ();
  if (sandboxctl == NULL)
    return fail ("ps: sandboxctl is not installed beside sandbox-runtime");
  g_auto (GStrv) xargv
      = exec_argv (sandboxctl, s->name, FALSE, NULL, FALSE, NULL, NULL, NULL, (char **) ps->pdata);
  g_autoptr (GError) error = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, xargv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL,
                     &status, &error))
    return fail ("ps: %s", error->message);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    return fail ("ps: the container %s has no ps(1) to list its processes", s->id);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 1;
}

/* The --resources file ("-": stdin) as a JSON object. */
static JsonObject *
read_resources (const char *file, GError **error)
{
  g_autofree char *text = NULL;
  if (g_str_equal (file, "-"))
    {
      GString *in = g_string_new (NULL);
      char buf[4096];
      ssize_t n;
      while (in->len < (1 << 20)
             && ((n = read (0, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0)
          g_string_append_len (in, buf, n);
      text = g_string_free (in, FALSE);
    }
  else if (!g_file_get_contents (file, &text, NULL, error))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_text_check_depth (text, -1, JSON_MAX_DEPTH, error)
      || !json_parser_load_from_data (parser, text, -1, error))
    return NULL;
  JsonNode *top = json_parser_get_root (parser);
  if (top == NULL || !JSON_NODE_HOLDS_OBJECT (top))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a JSON object", file);
      return NULL;
    }
  return json_object_ref (json_node_get_object (top));
}

static void
set_number (JsonObject *res, const char *group, const char *name, gint64 value)
{
  if (value == 0)
    return;
  if (!json_object_has_member (res, group))
    json_object_set_object_member (res, group, json_object_new ());
  json_object_set_int_member (json_object_get_object_member (res, group), name, value);
}

/* update: new limits for the container's cgroup in the guest, from
 * --resources (runc's LinuxResources, as podman writes it) and runc's
 * flags, which win over the file. */
static int
cmd_update (int argc, char **argv)
{
  g_autofree char *file = NULL;
  gint64 memory = 0, reservation = 0, quota = 0, period = 0, shares = 0, pids = 0;
  GOptionEntry entries[] = {
    { "resources", 'r', 0, G_OPTION_ARG_FILENAME, &file, "LinuxResources JSON (- for stdin)",
      "FILE" },
    { "memory", 0, 0, G_OPTION_ARG_INT64, &memory, "memory limit, bytes (-1: none)", "BYTES" },
    { "memory-reservation", 0, 0, G_OPTION_ARG_INT64, &reservation, "memory soft limit", "BYTES" },
    { "cpu-quota", 0, 0, G_OPTION_ARG_INT64, &quota, "CPU quota per period, us (-1: none)", "US" },
    { "cpu-period", 0, 0, G_OPTION_ARG_INT64, &period, "CPU period, us", "US" },
    { "cpu-share", 0, 0, G_OPTION_ARG_INT64, &shares, "CPU shares (relative weight)", "N" },
    { "pids-limit", 0, 0, G_OPTION_ARG_INT64, &pids, "most processes (-1: none)", "N" },
    { NULL },
  };
  int code = 1;
  if (!parse_options ("update", "ID", entries, &argc, &argv, &code))
    return code;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "update", &code);
  if (s == NULL)
    return code;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) res = file ? read_resources (file, &error) : json_object_new ();
  if (res == NULL)
    return fail ("update %s: --resources %s: %s", s->id, file, error->message);
  set_number (res, "memory", "limit", memory);
  set_number (res, "memory", "reservation", reservation);
  set_number (res, "cpu", "quota", quota);
  set_number (res, "cpu", "period", period);
  set_number (res, "cpu", "shares", shares);
  set_number (res, "pids", "limit", pids);
  g_autoptr (JsonObject) params = oci_resources_to_limits (res, &error);
  if (params == NULL)
    return fail ("update %s: %s", s->id, error->message);
  if (json_object_get_size (params) == 0)
    return 0; /* nothing asked: nothing to do, as runc */
  json_object_set_string_member (params, "sandbox_id", s->name);
  g_autoptr (JsonObject) reply
      = call ("sandbox.v1.Containers.Update", params, CALL_DEADLINE_MS, &error);
  if (reply == NULL)
    return fail ("update %s: %s", s->id, error->message);
  return 0;
}

static int
cmd_features (int argc, char **argv)
{
  printf ("{\n  \"ociVersionMin\": \"1.0.0\",\n  \"ociVersionMax\": \"1.0.2\",\n"
          "  \"annotations\": {\"org.sandboxd.isolation\": \"vm\"}\n}\n");
  return 0;
}

static gint
compare_ids (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* runc spec: config.json in --bundle (default: here), never over one. */
static int
cmd_spec (int argc, char **argv)
{
  g_autofree char *bundle = NULL;
  gboolean rootless = FALSE;
  GOptionEntry entries[] = {
    { "bundle", 'b', 0, G_OPTION_ARG_FILENAME, &bundle, "Where to write config.json", "DIR" },
    { "rootless", 0, 0, G_OPTION_ARG_NONE, &rootless, "(refused: a VM's container needs none)",
      NULL },
    { NULL },
  };
  int code = 1;
  if (!parse_options ("spec", "", entries, &argc, &argv, &code))
    return code;
  if (rootless)
    return fail ("spec: --rootless: every container runs as sandboxd's, in its own VM");
  g_autofree char *path = g_build_filename (bundle ? bundle : ".", "config.json", NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return fail ("spec: %s exists (remove it first)", path);
  g_autoptr (JsonObject) spec = oci_default_spec ();
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), spec);
  g_autofree char *text = json_to_string (node, TRUE);
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (path, text, -1, &error))
    return fail ("spec: %s", error->message);
  return 0;
}

/* runc list: every container under --root, as a table or JSON. */
static int
cmd_list (int argc, char **argv)
{
  g_autofree char *format = NULL;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "table (default) or json", "FORMAT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only the ids", NULL },
    { NULL },
  };
  int code = 1;
  if (!parse_options ("list", "", entries, &argc, &argv, &code))
    return code;
  if (format && !g_str_equal (format, "table") && !g_str_equal (format, "json"))
    return fail ("list: --format must be table or json, not \"%s\"", format);
  gboolean json = format && g_str_equal (format, "json");
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = g_dir_open (root, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    if (oci_id_valid (name))
      g_ptr_array_add (ids, g_strdup (name));
  g_ptr_array_sort (ids, (GCompareFunc) compare_ids);
  g_autoptr (JsonArray) all = json_array_new ();
  if (!json && !quiet)
    printf ("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
            "OWNER");
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr (OciState) s = oci_state_load (root, ids->pdata[i], NULL);
      if (s == NULL)
        continue; /* half made or half removed */
      const char *status = oci_state_status (s);
      if (quiet)
        printf ("%s\n", s->id);
      else if (json)
        {
          JsonObject *o = oci_state_to_json (s);
          json_object_set_string_member (o, "created", s->created ? s->created : "");
          json_object_set_string_member (o, "owner", "root");
          json_array_add_object_element (all, o);
        }
      else
        printf ("%-12s %-8d %-10s %-40s %-30s %s\n", s->id,
                g_str_equal (status, "stopped") ? 0 : (int) s->pid, status,
                s->bundle ? s->bundle : "", s->created ? s->created : "", "root");
    }
  if (json)
    {
      g_autoptr (JsonNode) node = json_node_init_array (json_node_alloc (), all);
      g_autofree char *text = json_to_string (node, FALSE);
      printf ("%s\n", text);
    }
  return 0;
}

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} commands[] = {
  { "create", cmd_create, "boot the container's sandbox; its process waits for start" },
  { "run", cmd_run, "create and start; wait for the process and exit with its status" },
  { "start", cmd_start, "start the container's process" },
  { "state", cmd_state, "the OCI state of a container (JSON)" },
  { "kill", cmd_kill, "send a signal to the container's process" },
  { "exec", cmd_exec, "run another process in the container" },
  { "pause", cmd_pause, "stop the container's VM (its vCPUs)" },
  { "ps", cmd_ps, "the container's processes (ps in it; --format json: the host process)" },
  { "update", cmd_update, "new limits for the container (its cgroup in the guest)" },
  { "resume", cmd_resume, "let a paused container's VM go on" },
  { "delete", cmd_delete, "remove the container and its sandbox" },
  { "features", cmd_features, "what this runtime supports (JSON)" },
  { "events", cmd_events, "the container's resource use as stats events (--stats: once)" },
  { "list", cmd_list, "the containers under --root (a table, or --format json)" },
  { "spec", cmd_spec, "write a config.json to start from (runc's defaults)" },
};

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: sandbox-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] "
           "COMMAND [OPTIONS] ID\n\nAn OCI runtime: every container in its own microVM "
           "(sandboxd, at $SANDBOXD_ADDRESS or %s).\n\nCommands:\n",
           rpc_client_default_address ());
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

int
main (int argc, char **argv)
{
  /* A hook that exits without reading its stdin must not kill us. */
  signal (SIGPIPE, SIG_IGN);
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i];
      const char *value = i + 1 < argc ? argv[i + 1] : NULL;
      /* podman passes --runtime-flag address=ADDR as --address=ADDR. */
      if (g_str_has_prefix (a, "--address="))
        {
          address = a + strlen ("--address=");
          continue;
        }
      gboolean takes = g_str_equal (a, "--root") || g_str_equal (a, "--log")
                       || g_str_equal (a, "--log-format") || g_str_equal (a, "--criu")
                       || g_str_equal (a, "--address");
      if (takes && value == NULL)
        return fail ("%s needs a value", a);
      if (g_str_equal (a, "--root"))
        root = value;
      else if (g_str_equal (a, "--address"))
        address = value;
      else if (g_str_equal (a, "--log"))
        log_path = value;
      else if (g_str_equal (a, "--log-format"))
        log_json = g_str_equal (value, "json");
      else if (g_str_equal (a, "--version") || g_str_equal (a, "-v"))
        {
          printf ("sandbox-runtime version %s\nspec: %s\n", SANDBOXD_VERSION, OCI_SPEC_VERSION);
          return 0;
        }
      else if (g_str_equal (a, "--help") || g_str_equal (a, "-h"))
        {
          usage (stdout);
          return 0;
        }
      else if (g_str_equal (a, "--debug"))
        debug = TRUE;
      else if (!g_str_equal (a, "--systemd-cgroup") && !takes)
        {
          usage (stderr);
          return 2;
        }
      i += takes;
    }
  if (i >= argc)
    {
      usage (stderr);
      return 2;
    }
  for (gsize c = 0; c < G_N_ELEMENTS (commands); c++)
    if (g_str_equal (argv[i], commands[c].name))
      return commands[c].run (argc - i, argv + i);
  g_autoptr (GString) names = g_string_new (NULL);
  for (gsize c = 0; c < G_N_ELEMENTS (commands); c++)
    g_string_append_printf (names, "%s%s", c ? ", " : "", commands[c].name);
  fail ("unknown command \"%s\" (this runtime has: %s)", argv[i], names->str);
  return 2;
}
