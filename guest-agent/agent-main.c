/* sandbox-agent: PID 1 of every sandbox guest.
 *
 * It mounts the basics, loads the kernel modules the builder listed, opens
 * its virtio-serial port and serves the host: one multiplexed channel of
 * frames (agent-protocol.h) carrying control messages and process output.
 */
#include "agent.h"
#include "config.h"
#include "json-fields.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/input.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODULE_LIST "/lib/modules/sandbox-modules.list"
#define NET_MODULE_LIST "/lib/modules/sandbox-net-modules.list"
#define VOLUME_MODULE_LIST "/lib/modules/sandbox-volume-modules.list"
#define PORT_TIMEOUT_MS 20000
/* How long processes get between SIGTERM and SIGKILL at shutdown. */
#define SHUTDOWN_GRACE_MS 3000
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static struct
{
  GHashTable *procs; /* id -> AgentProcess, until the host acknowledged its exit */
  gboolean shutting_down;
} agent;

static void maybe_finish_shutdown (void);
static void power_off_after_flush (int budget_ms) G_GNUC_NORETURN;

static void log_msg (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
log_msg (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "sandbox-agent: %s\n", msg);
}

/* ---- processes ---- */

/* Reports the exit once both streams ended, so it comes after all output.
 * The process is kept (for a new session) until the host acknowledges it. */
static void
maybe_report_exit (AgentProcess *proc)
{
  if (!proc->exited || proc->exit_sent || proc->out.fd >= 0 || proc->err.fd >= 0)
    return;
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "exit");
  json_object_set_int_member (msg, "id", proc->id);
  if (WIFSIGNALED (proc->wait_status))
    json_object_set_int_member (msg, "signal", WTERMSIG (proc->wait_status));
  else
    json_object_set_int_member (msg, "exit_code", WEXITSTATUS (proc->wait_status));
  proc->exit_sent = TRUE;
  agent_port_send_control (msg);
  maybe_finish_shutdown ();
}

static AgentProcess *
find_proc_by_pid (pid_t pid)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, agent.procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((AgentProcess *) value)->pid == pid)
      return value;
  return NULL;
}

static gboolean
on_sigchld (int fd, GIOCondition cond, gpointer data)
{
  struct signalfd_siginfo si;
  while (read (fd, &si, sizeof si) == sizeof si)
    ;
  /* As PID 1 we reap every orphan, not only our own children. */
  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);
      if (pid <= 0)
        break;
      AgentProcess *proc = find_proc_by_pid (pid);
      if (proc == NULL)
        {
          agent_container_reaped (pid);
          continue;
        }
      proc->exited = TRUE;
      proc->wait_status = status;
      maybe_report_exit (proc);
    }
  maybe_finish_shutdown ();
  return G_SOURCE_CONTINUE;
}

/* ---- requests from the host ---- */

static void
reply_error (gint64 id, const char *type, int err, const char *message)
{
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", type);
  json_object_set_int_member (msg, "id", id);
  if (err != 0)
    json_object_set_int_member (msg, "errno", err);
  json_object_set_string_member (msg, "message", message);
  agent_port_send_control (msg);
}

/* @uid's home in the passwd file under @root ("/": the guest's), or NULL. */
static char *
passwd_home (const char *root, uid_t uid)
{
  g_autofree char *path = g_build_filename (root, "etc", "passwd", NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, ":", 7);
      if (g_strv_length (f) == 7 && f[2][0] && strtoul (f[2], NULL, 10) == uid && f[5][0])
        return g_strdup (f[5]);
    }
  return NULL;
}

/* PATH, then what was asked for; HOME, when that does not give a
 * non-empty one, is the user's from the container's /etc/passwd (runc's
 * rule), else "/" ("/root" for root in the guest itself). */
static char **
build_env (char **requested, const AgentContainer *container, uid_t uid)
{
  g_auto (GStrv) env = g_new0 (char *, 1);
  env = g_environ_setenv (env, "PATH", DEFAULT_PATH, TRUE);
  for (char **e = requested; e && *e; e++)
    {
      const char *eq = strchr (*e, '=');
      if (eq == NULL || eq == *e)
        continue;
      g_autofree char *key = g_strndup (*e, (gsize) (eq - *e));
      env = g_environ_setenv (env, key, eq + 1, TRUE);
    }
  const char *home = g_environ_getenv (env, "HOME");
  if (home == NULL || *home == '\0')
    {
      g_autofree char *root = container && container->init_pid
                                  ? g_strdup_printf ("/proc/%d/root", (int) container->init_pid)
                                  : g_strdup ("/");
      g_autofree char *found = passwd_home (root, uid);
      env = g_environ_setenv (
          env, "HOME", found ? found : (container == NULL && uid == 0 ? "/root" : "/"), TRUE);
    }
  return g_steal_pointer (&env);
}

static void
handle_exec (JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  g_auto (GStrv) args = NULL;
  g_auto (GStrv) requested_env = NULL;
  const char *cwd = "/";
  const char *container_name = NULL;

  if (!json_field_int (msg, "id", TRUE, 1, G_MAXUINT32, &id, &error))
    {
      log_msg ("exec request: %s", error->message);
      return;
    }
  if (g_hash_table_contains (agent.procs, GUINT_TO_POINTER (id)))
    {
      reply_error (id, "exec-failed", 0, "process id already in use");
      return;
    }
  gboolean with_stdin = FALSE, tty = FALSE, onlcr = TRUE;
  gint64 uid = 0, gid = -1, rows = 24, cols = 80;
  if (!json_field_int (msg, "uid", FALSE, 0, G_MAXUINT32 - 1, &uid, &error)
      || !json_field_int (msg, "gid", FALSE, 0, G_MAXUINT32 - 1, &gid, &error)
      || !json_field_strv (msg, "args", TRUE, &args, &error)
      || !json_field_strv (msg, "env", FALSE, &requested_env, &error)
      || !json_field_string (msg, "cwd", FALSE, &cwd, &error)
      || !json_field_string (msg, "container", FALSE, &container_name, &error)
      || !json_field_bool (msg, "stdin", FALSE, &with_stdin, &error)
      || !json_field_bool (msg, "tty", FALSE, &tty, &error)
      || !json_field_bool (msg, "onlcr", FALSE, &onlcr, &error)
      || !json_field_int (msg, "rows", FALSE, 1, G_MAXUINT16, &rows, &error)
      || !json_field_int (msg, "cols", FALSE, 1, G_MAXUINT16, &cols, &error))
    {
      reply_error (id, "exec-failed", 0, error->message);
      return;
    }
  JsonNode *gn = json_object_get_member (msg, "additional_gids");
  JsonArray *groups = gn && JSON_NODE_HOLDS_ARRAY (gn) ? json_node_get_array (gn) : NULL;
  for (guint i = 0; groups && i < json_array_get_length (groups); i++)
    {
      JsonNode *g = json_array_get_element (groups, i);
      if (!JSON_NODE_HOLDS_VALUE (g) || json_node_get_value_type (g) != G_TYPE_INT64
          || json_node_get_int (g) < 0 || json_node_get_int (g) > G_MAXUINT32 - 1)
        {
          reply_error (id, "exec-failed", 0, "additional_gids must be group ids");
          return;
        }
    }
  /* Capabilities beyond the container's (runc exec --cap). */
  guint64 add_caps = 0;
  JsonNode *cn = json_object_get_member (msg, "add_caps");
  JsonArray *caps = cn && JSON_NODE_HOLDS_ARRAY (cn) ? json_node_get_array (cn) : NULL;
  for (guint i = 0; caps && i < json_array_get_length (caps); i++)
    {
      JsonNode *c = json_array_get_element (caps, i);
      if (!JSON_NODE_HOLDS_VALUE (c) || json_node_get_value_type (c) != G_TYPE_INT64
          || json_node_get_int (c) < 0 || json_node_get_int (c) > 63)
        {
          reply_error (id, "exec-failed", 0, "add_caps must be capability numbers");
          return;
        }
      add_caps |= G_GUINT64_CONSTANT (1) << json_node_get_int (c);
    }
  AgentTerminal terminal
      = { { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols }, onlcr };
  const AgentContainer *container = NULL;
  if (container_name && (container = agent_container_lookup (container_name)) == NULL)
    {
      g_autofree char *why = g_strdup_printf ("container %s is not running", container_name);
      reply_error (id, "exec-failed", ESRCH, why);
      return;
    }
  g_auto (GStrv) env = build_env (requested_env, container, (uid_t) uid);

  int exec_errno = 0;
  AgentProcess *proc = agent_process_spawn (
      (guint32) id, args, env, cwd, with_stdin, tty ? &terminal : NULL, (uid_t) uid,
      (gid_t) (gid < 0 ? uid : gid), groups, add_caps, container, &exec_errno, &error);
  if (proc == NULL)
    {
      reply_error (id, "exec-failed", exec_errno, error->message);
      return;
    }
  g_hash_table_insert (agent.procs, GUINT_TO_POINTER (proc->id), proc);
  agent_output_update (proc);

  g_autoptr (JsonObject) reply = json_object_new ();
  json_object_set_string_member (reply, "type", "started");
  json_object_set_int_member (reply, "id", id);
  json_object_set_int_member (reply, "pid", proc->pid);
  agent_port_send_control (reply);
}

/* As PID 1, every process in the guest; on a host (tests), only ours. */
static void
signal_all (int sig)
{
  if (getpid () == 1)
    {
      kill (-1, sig);
      return;
    }
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, agent.procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (!((AgentProcess *) value)->exited)
      kill (-((AgentProcess *) value)->pid, sig);
}

/* Before powering off, give the host what is queued for it (exit reports
 * of the processes the shutdown ended), for at most @budget_ms. */
static void
power_off_after_flush (int budget_ms)
{
  agent_port_flush_for (budget_ms);
  agent_system_power_off ();
}

/* Powers off once shutting down, every process has been reported and no
 * child is left (peeked at, not reaped: on_sigchld reaps). */
static void
maybe_finish_shutdown (void)
{
  if (!agent.shutting_down)
    return;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, agent.procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (!((AgentProcess *) value)->exit_sent)
      return;
  siginfo_t info = { 0 };
  if (waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
    power_off_after_flush (500);
}

static gboolean
on_shutdown_grace (gpointer data)
{
  log_msg ("processes still running after %d ms; killing them", SHUTDOWN_GRACE_MS);
  signal_all (SIGKILL);
  power_off_after_flush (500);
}

/* An orderly shutdown: every process gets SIGTERM, then SIGKILL after a
 * grace period; the guest powers off once none is left (see on_sigchld). */
static void
begin_shutdown (const char *why)
{
  if (agent.shutting_down)
    return;
  agent.shutting_down = TRUE;
  log_msg ("shutting down: %s", why);
  signal_all (SIGTERM);
  g_timeout_add (SHUTDOWN_GRACE_MS, on_shutdown_grace, NULL);
  maybe_finish_shutdown ();
}

static gboolean
on_input_event (int fd, GIOCondition cond, gpointer data)
{
  struct input_event ev;
  while (read (fd, &ev, sizeof ev) == sizeof ev)
    if (ev.type == EV_KEY && ev.code == KEY_POWER && ev.value == 1)
      begin_shutdown ("power button (QMP system_powerdown)");
  return (cond & (G_IO_HUP | G_IO_ERR)) ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* ---- stdin ---- */

static void
send_stdin_ack (AgentProcess *proc, gboolean closed)
{
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "stdin-ack");
  json_object_set_int_member (msg, "id", proc->id);
  json_object_set_int_member (msg, "offset", (gint64) proc->in_written);
  if (closed)
    json_object_set_boolean_member (msg, "closed", TRUE);
  agent_port_send_control (msg);
}

static void
stdin_close (AgentProcess *proc)
{
  if (proc->in_fd >= 0)
    close (proc->in_fd);
  proc->in_fd = -1;
  if (proc->in_queue)
    write_queue_clear (proc->in_queue);
}

/* Writes what the pipe takes; acknowledges it, so the host sends more only
 * as the process reads (the host's WriteStdin waits for this ack). */
static void
stdin_flush (gpointer data)
{
  AgentProcess *proc = data;
  if (proc->in_fd < 0)
    return;
  gssize n = write_queue_flush (proc->in_queue, proc->in_fd, 0, NULL, NULL);
  if (n < 0)
    {
      /* EPIPE: the process closed its stdin; what is queued is lost to it. */
      stdin_close (proc);
      send_stdin_ack (proc, TRUE);
      return;
    }
  proc->in_written += (guint64) n;
  if (write_queue_length (proc->in_queue) == 0 && proc->in_close)
    {
      stdin_close (proc);
      send_stdin_ack (proc, TRUE);
    }
  else if (n > 0)
    send_stdin_ack (proc, FALSE);
}

static void
handle_stdin (const AgentFrame *frame)
{
  AgentProcess *proc = g_hash_table_lookup (agent.procs, GUINT_TO_POINTER (frame->stream));
  if (proc == NULL || proc->in_fd < 0)
    {
      log_msg ("stdin for process %u, which has no open stdin", frame->stream);
      return;
    }
  if (proc->in_queue == NULL)
    proc->in_queue = write_queue_new (stdin_flush, proc);
  write_queue_append (proc->in_queue, frame->payload, frame->length);
  if (frame->flags & AGENT_FRAME_FLAG_EOF)
    proc->in_close = TRUE;
  stdin_flush (proc);
}

static void
handle_signal (JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0, sig = 0;
  gboolean group = FALSE;
  if (!json_field_int (msg, "id", TRUE, 1, G_MAXUINT32, &id, &error)
      || !json_field_int (msg, "signal", TRUE, 1, 64, &sig, &error)
      || !json_field_bool (msg, "group", FALSE, &group, &error))
    {
      log_msg ("signal request: %s", error->message);
      return;
    }
  AgentProcess *proc = g_hash_table_lookup (agent.procs, GUINT_TO_POINTER ((guint32) id));
  if (proc == NULL || proc->exited)
    return; /* it has exited meanwhile: its exit report says so */
  /* Each process leads its own process group (setsid). */
  if (kill (group ? -proc->pid : proc->pid, (int) sig) < 0)
    log_msg ("kill %d with signal %" G_GINT64_FORMAT ": %s", (int) proc->pid, sig,
             g_strerror (errno));
}

/* Guest stats, from /proc: answered at once with the request's "id". */
static void
handle_stats (JsonObject *msg)
{
  g_autoptr (JsonObject) reply = json_object_new ();
  json_object_set_string_member (reply, "type", "stats");
  json_object_set_int_member (reply, "id", json_object_get_int_member_with_default (msg, "id", 0));
  g_autofree char *meminfo = NULL, *loadavg = NULL;
  if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    {
      const char *t = strstr (meminfo, "MemTotal:"), *a = strstr (meminfo, "MemAvailable:");
      if (t)
        json_object_set_int_member (reply, "memory_total_kb", g_ascii_strtoll (t + 9, NULL, 10));
      if (a)
        json_object_set_int_member (reply, "memory_available_kb",
                                    g_ascii_strtoll (a + 13, NULL, 10));
    }
  if (g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL))
    {
      g_auto (GStrv) f = g_strsplit (loadavg, " ", 0);
      if (g_strv_length (f) >= 3)
        {
          json_object_set_double_member (reply, "load1", g_ascii_strtod (f[0], NULL));
          json_object_set_double_member (reply, "load5", g_ascii_strtod (f[1], NULL));
          json_object_set_double_member (reply, "load15", g_ascii_strtod (f[2], NULL));
        }
    }
  json_object_set_int_member (reply, "uptime_ms", agent_system_uptime_ms ());
  guint running = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, agent.procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    running += !((AgentProcess *) value)->exited;
  json_object_set_int_member (reply, "processes", running);
  agent_port_send_control (reply);
}

/* {"type": "resize", "id", "rows", "cols"}: a terminal's new size. */
static void
handle_resize (JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0, rows = 0, cols = 0;
  if (!json_field_int (msg, "id", TRUE, 1, G_MAXUINT32, &id, &error)
      || !json_field_int (msg, "rows", TRUE, 1, G_MAXUINT16, &rows, &error)
      || !json_field_int (msg, "cols", TRUE, 1, G_MAXUINT16, &cols, &error))
    {
      log_msg ("resize: %s", error->message);
      return;
    }
  AgentProcess *proc = g_hash_table_lookup (agent.procs, GUINT_TO_POINTER (id));
  struct winsize size = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
  if (proc && !agent_process_resize (proc, &size, &error))
    log_msg ("resize: %s", error->message);
}

static void
handle_control (JsonObject *msg)
{
  const char *type = json_object_get_string_member (msg, "type");
  if (g_str_equal (type, "exec"))
    handle_exec (msg);
  else if (g_str_equal (type, "signal"))
    handle_signal (msg);
  else if (g_str_equal (type, "stats"))
    handle_stats (msg);
  else if (g_str_equal (type, "resize"))
    handle_resize (msg);
  else if (g_str_equal (type, "ack"))
    agent_output_handle_ack (msg);
  else if (g_str_equal (type, "container-add"))
    agent_container_handle_add (msg);
  else if (g_str_equal (type, "container-remove"))
    agent_container_handle_remove (msg);
  else if (g_str_equal (type, "container-update"))
    agent_container_handle_update (msg);
  else if (g_str_equal (type, "freeze"))
    agent_clone_handle_freeze (msg);
  else if (g_str_equal (type, "thaw"))
    agent_clone_handle_thaw (msg);
  else if (g_str_equal (type, "shutdown"))
    begin_shutdown ("requested by the host");
  else if (g_str_equal (type, "resync"))
    agent_port_handle_resync (msg);
  else
    log_msg ("ignoring unknown control message \"%s\"", type);
}

/* ---- the channel ---- */

static void
on_frame (const AgentFrame *frame)
{
  if (frame->type == AGENT_FRAME_STDIN)
    {
      handle_stdin (frame);
      return;
    }
  if (frame->type != AGENT_FRAME_CONTROL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) msg = agent_control_parse (frame, &error);
  if (msg == NULL)
    log_msg ("%s", error->message);
  else
    handle_control (msg);
}

static const AgentPortCallbacks port_callbacks = {
  .session = agent_output_replay,
  .frame = on_frame,
  .queue_changed = agent_output_update_all,
};

static int
setup_sigchld (void)
{
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  sigprocmask (SIG_BLOCK, &set, NULL);
  return signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  const char *port_path = NULL;

  int port_fd = -1;
  if (argc == 3 && g_str_equal (argv[1], "--port"))
    port_path = argv[2];
  else if (argc == 3 && g_str_equal (argv[1], "--port-fd"))
    port_fd = atoi (argv[2]);
  else if (argc != 1 || getpid () != 1)
    {
      fprintf (stderr,
               "usage: sandbox-agent [--port DEVICE | --port-fd FD]\n"
               "Runs as PID 1 (/init) of a sandboxd guest; --port serves DEVICE, and\n"
               "--port-fd an open socket, instead of the virtio-serial port\n" AGENT_PORT_NAME
               " (for tests on the host).\n");
      return 2;
    }

  if (getpid () == 1)
    {
      if (!agent_system_mount (&error))
        log_msg ("%s", error->message);
      g_clear_error (&error);
      agent_system_set_hostname ();
      g_setenv ("PATH", DEFAULT_PATH, TRUE);
      if (!agent_system_load_modules (MODULE_LIST, &error)
          || !agent_net_configure (NET_MODULE_LIST, &error)
          || !agent_volumes_mount (VOLUME_MODULE_LIST, &error))
        {
          log_msg ("%s", error->message);
          agent_system_power_off ();
        }
    }

  int fd = port_fd;
  if (port_fd >= 0)
    g_unix_set_fd_nonblocking (port_fd, TRUE, NULL);
  else if (port_path != NULL)
    {
      fd = open (port_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        {
          log_msg ("open %s: %s", port_path, g_strerror (errno));
          return 1;
        }
    }
  else
    fd = agent_system_open_port (AGENT_PORT_NAME, PORT_TIMEOUT_MS, &error);
  if (fd < 0)
    {
      log_msg ("%s", error->message);
      agent_system_power_off ();
    }

  signal (SIGPIPE, SIG_IGN); /* a closed stdin pipe is an EPIPE, not a death */
  int sigfd = setup_sigchld ();
  agent.procs = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) agent_process_free);
  agent_output_init (agent.procs, maybe_report_exit);
  agent_containers_init ();
  g_unix_fd_add (sigfd, G_IO_IN, on_sigchld, NULL);
  g_autoptr (GArray) inputs = agent_system_open_input_devices ();
  for (guint i = 0; i < inputs->len; i++)
    g_unix_fd_add (g_array_index (inputs, int, i), G_IO_IN | G_IO_HUP | G_IO_ERR, on_input_event,
                   NULL);

  log_msg ("ready on port %s after %" G_GINT64_FORMAT " ms of uptime",
           port_path      ? port_path
           : port_fd >= 0 ? "fd"
                          : AGENT_PORT_NAME,
           agent_system_uptime_ms ());
  agent_port_start (fd, &port_callbacks);

  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (loop);
  return 0;
}
