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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODULE_LIST "/lib/modules/sandbox-modules.list"
#define PORT_TIMEOUT_MS 20000
#define READ_CHUNK 32768
/* Output is read from processes only while the queue to the host is short:
 * a slow host slows the processes instead of growing the agent's memory. */
#define OUTQ_HIGH (1024 * 1024)
#define OUTQ_LOW (256 * 1024)
/* How long processes get between SIGTERM and SIGKILL at shutdown. */
#define SHUTDOWN_GRACE_MS 3000
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct
{
  int fd;
  gboolean connected;
  guint in_src;
  guint out_src;
  guint reconnect_src;
  AgentDecoder *decoder;
  GByteArray *outq;
  gboolean output_paused;
  GHashTable *procs; /* id -> AgentProcess */
  gboolean shutting_down;
} Agent;

static Agent agent;

static void channel_flush (void);
static void maybe_finish_shutdown (void);
static void power_off_after_flush (int budget_ms) G_GNUC_NORETURN;
static void proc_update_watches (AgentProcess *proc);

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

/* ---- output to the host ---- */

static void
set_output_paused (gboolean paused)
{
  if (agent.output_paused == paused)
    return;
  agent.output_paused = paused;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, agent.procs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    proc_update_watches (value);
}

static void
send_control (JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  if (!agent_frame_append_control (agent.outq, msg, &error))
    log_msg ("dropping control message: %s", error->message);
  channel_flush ();
}

static gboolean
on_port_writable (int fd, GIOCondition cond, gpointer data)
{
  agent.out_src = 0;
  channel_flush ();
  return G_SOURCE_REMOVE;
}

static void
channel_flush (void)
{
  if (!agent.connected)
    return;
  while (agent.outq->len > 0)
    {
      ssize_t n = write (agent.fd, agent.outq->data, agent.outq->len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          if (errno != EAGAIN)
            log_msg ("write to port: %s", g_strerror (errno));
          break;
        }
      g_byte_array_remove_range (agent.outq, 0, (guint) n);
    }
  if (agent.outq->len > 0 && agent.out_src == 0)
    agent.out_src = g_unix_fd_add (agent.fd, G_IO_OUT, on_port_writable, NULL);
  if (agent.outq->len >= OUTQ_HIGH)
    set_output_paused (TRUE);
  else if (agent.outq->len <= OUTQ_LOW)
    set_output_paused (FALSE);
}

/* ---- processes ---- */

static void
maybe_report_exit (AgentProcess *proc)
{
  if (!proc->exited || proc->out_fd >= 0 || proc->err_fd >= 0)
    return;
  /* Both streams have sent EOF, so the exit report comes after all output. */
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "exit");
  json_object_set_int_member (msg, "id", proc->id);
  if (WIFSIGNALED (proc->wait_status))
    json_object_set_int_member (msg, "signal", WTERMSIG (proc->wait_status));
  else
    json_object_set_int_member (msg, "exit_code", WEXITSTATUS (proc->wait_status));
  send_control (msg);
  g_hash_table_remove (agent.procs, GUINT_TO_POINTER (proc->id));
  maybe_finish_shutdown ();
}

static gboolean
on_proc_output (int fd, GIOCondition cond, gpointer data)
{
  AgentProcess *proc = data;
  gboolean is_out = fd == proc->out_fd;
  guint8 buf[READ_CHUNK];

  ssize_t n;
  do
    n = read (fd, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return G_SOURCE_CONTINUE;

  AgentFrameType type = is_out ? AGENT_FRAME_STDOUT : AGENT_FRAME_STDERR;
  if (n > 0)
    {
      agent_frame_append (agent.outq, type, 0, proc->id, buf, (gsize) n);
      channel_flush ();
      return G_SOURCE_CONTINUE;
    }

  /* EOF (or a read error, which ends the stream the same way). */
  agent_frame_append (agent.outq, type, AGENT_FRAME_FLAG_EOF, proc->id, NULL, 0);
  close (fd);
  if (is_out)
    {
      proc->out_fd = -1;
      proc->out_src = 0;
    }
  else
    {
      proc->err_fd = -1;
      proc->err_src = 0;
    }
  channel_flush ();
  maybe_report_exit (proc);
  return G_SOURCE_REMOVE;
}

static void
watch_fd (AgentProcess *proc, int fd, guint *src)
{
  gboolean want = fd >= 0 && !agent.output_paused;
  if (want && *src == 0)
    *src = g_unix_fd_add (fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_proc_output, proc);
  else if (!want && *src != 0)
    {
      g_source_remove (*src);
      *src = 0;
    }
}

static void
proc_update_watches (AgentProcess *proc)
{
  watch_fd (proc, proc->out_fd, &proc->out_src);
  watch_fd (proc, proc->err_fd, &proc->err_src);
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
        continue;
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
  send_control (msg);
}

static char **
build_env (char **requested)
{
  g_auto (GStrv) env = g_new0 (char *, 1);
  env = g_environ_setenv (env, "PATH", DEFAULT_PATH, TRUE);
  env = g_environ_setenv (env, "HOME", "/root", TRUE);
  for (char **e = requested; e && *e; e++)
    {
      const char *eq = strchr (*e, '=');
      if (eq == NULL || eq == *e)
        continue;
      g_autofree char *key = g_strndup (*e, (gsize) (eq - *e));
      env = g_environ_setenv (env, key, eq + 1, TRUE);
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
  gboolean with_stdin = FALSE;
  gint64 uid = 0, gid = -1;
  if (!json_field_int (msg, "uid", FALSE, 0, G_MAXUINT32 - 1, &uid, &error)
      || !json_field_int (msg, "gid", FALSE, 0, G_MAXUINT32 - 1, &gid, &error)
      || !json_field_strv (msg, "args", TRUE, &args, &error)
      || !json_field_strv (msg, "env", FALSE, &requested_env, &error)
      || !json_field_string (msg, "cwd", FALSE, &cwd, &error)
      || !json_field_bool (msg, "stdin", FALSE, &with_stdin, &error))
    {
      reply_error (id, "exec-failed", 0, error->message);
      return;
    }
  g_auto (GStrv) env = build_env (requested_env);

  int exec_errno = 0;
  AgentProcess *proc = agent_process_spawn ((guint32) id, args, env, cwd, with_stdin, (uid_t) uid,
                                            (gid_t) (gid < 0 ? uid : gid), &exec_errno, &error);
  if (proc == NULL)
    {
      reply_error (id, "exec-failed", exec_errno, error->message);
      return;
    }
  g_hash_table_insert (agent.procs, GUINT_TO_POINTER (proc->id), proc);
  proc_update_watches (proc);

  g_autoptr (JsonObject) reply = json_object_new ();
  json_object_set_string_member (reply, "type", "started");
  json_object_set_int_member (reply, "id", id);
  json_object_set_int_member (reply, "pid", proc->pid);
  send_control (reply);
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
  gint64 deadline = g_get_monotonic_time () + (gint64) budget_ms * 1000;
  while (agent.connected && agent.outq->len > 0 && g_get_monotonic_time () < deadline)
    {
      struct pollfd p = { .fd = agent.fd, .events = POLLOUT };
      if (poll (&p, 1, 50) > 0)
        channel_flush ();
    }
  agent_system_power_off ();
}

/* Powers off once shutting down, every process has been reported and no
 * child is left (peeked at, not reaped: on_sigchld reaps). */
static void
maybe_finish_shutdown (void)
{
  if (!agent.shutting_down || g_hash_table_size (agent.procs) > 0)
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
  send_control (msg);
}

static void
stdin_close (AgentProcess *proc)
{
  g_clear_handle_id (&proc->in_src, g_source_remove);
  if (proc->in_fd >= 0)
    close (proc->in_fd);
  proc->in_fd = -1;
  g_byte_array_set_size (proc->in_queue, 0);
}

static gboolean on_stdin_writable (int fd, GIOCondition cond, gpointer data);

/* Writes what the pipe takes; acknowledges it, so the host sends more only
 * as the process reads (the host's WriteStdin waits for this ack). */
static void
stdin_flush (AgentProcess *proc)
{
  gsize before = proc->in_queue->len;
  while (proc->in_fd >= 0 && proc->in_queue->len > 0)
    {
      ssize_t n = write (proc->in_fd, proc->in_queue->data, proc->in_queue->len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n < 0)
        {
          /* EPIPE: the process closed its stdin; what is queued is lost to it. */
          stdin_close (proc);
          send_stdin_ack (proc, TRUE);
          return;
        }
      g_byte_array_remove_range (proc->in_queue, 0, (guint) n);
      proc->in_written += (guint64) n;
    }
  if (proc->in_fd < 0)
    return;
  if (proc->in_queue->len > 0 && proc->in_src == 0)
    proc->in_src = g_unix_fd_add (proc->in_fd, G_IO_OUT, on_stdin_writable, proc);
  if (proc->in_queue->len == 0 && proc->in_close)
    {
      stdin_close (proc);
      send_stdin_ack (proc, TRUE);
    }
  else if (proc->in_queue->len < before)
    send_stdin_ack (proc, FALSE);
}

static gboolean
on_stdin_writable (int fd, GIOCondition cond, gpointer data)
{
  AgentProcess *proc = data;
  proc->in_src = 0;
  stdin_flush (proc);
  return G_SOURCE_REMOVE;
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
  g_byte_array_append (proc->in_queue, frame->payload, frame->length);
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
  json_object_set_int_member (reply, "processes", g_hash_table_size (agent.procs));
  send_control (reply);
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
  else if (g_str_equal (type, "shutdown"))
    begin_shutdown ("requested by the host");
  else
    log_msg ("ignoring unknown control message \"%s\"", type);
}

/* ---- the channel ---- */

static void channel_disconnected (void);

static gboolean
on_port_readable (int fd, GIOCondition cond, gpointer data)
{
  guint8 buf[READ_CHUNK];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      agent.in_src = 0;
      channel_disconnected ();
      return G_SOURCE_REMOVE;
    }

  agent_decoder_push (agent.decoder, buf, (gsize) n);
  AgentFrame frame;
  g_autoptr (GError) error = NULL;
  while (agent_decoder_next (agent.decoder, &frame, &error))
    {
      if (frame.type == AGENT_FRAME_STDIN)
        {
          handle_stdin (&frame);
          continue;
        }
      if (frame.type != AGENT_FRAME_CONTROL)
        continue;
      g_autoptr (JsonObject) msg = agent_control_parse (&frame, &error);
      if (msg == NULL)
        break;
      handle_control (msg);
    }
  if (error != NULL)
    {
      /* A host that speaks garbage gets a fresh session, not a dead agent. */
      log_msg ("%s; resetting the session", error->message);
      agent_decoder_free (agent.decoder);
      agent.decoder = agent_decoder_new ();
    }
  return G_SOURCE_CONTINUE;
}

static void
send_hello (void)
{
  g_autofree char *release = agent_system_kernel_release ();
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "hello");
  json_object_set_int_member (msg, "protocol", AGENT_PROTOCOL_VERSION);
  json_object_set_string_member (msg, "agent_version", SANDBOXD_VERSION);
  json_object_set_string_member (msg, "kernel_release", release);
  json_object_set_int_member (msg, "uptime_ms", agent_system_uptime_ms ());
  send_control (msg);
}

static gboolean
poll_host_connected (gpointer data)
{
  struct pollfd p = { .fd = agent.fd, .events = POLLIN | POLLOUT };
  if (poll (&p, 1, 0) < 0 || (p.revents & POLLHUP))
    return G_SOURCE_CONTINUE;

  agent.reconnect_src = 0;
  agent.connected = TRUE;
  agent_decoder_free (agent.decoder);
  agent.decoder = agent_decoder_new ();
  agent.in_src = g_unix_fd_add (agent.fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_port_readable, NULL);
  send_hello ();
  return G_SOURCE_REMOVE;
}

/* The host closed its end. The port reports HUP until it comes back, which
 * the guest can only see by polling: do that gently. */
static void
channel_disconnected (void)
{
  agent.connected = FALSE;
  if (agent.out_src)
    {
      g_source_remove (agent.out_src);
      agent.out_src = 0;
    }
  /* A partly written frame would desynchronise the next session. */
  g_byte_array_set_size (agent.outq, 0);
  if (agent.reconnect_src == 0)
    agent.reconnect_src = g_timeout_add (10, poll_host_connected, NULL);
}

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
      if (!agent_system_load_modules (MODULE_LIST, &error))
        {
          log_msg ("%s", error->message);
          agent_system_power_off ();
        }
    }

  if (port_fd >= 0)
    {
      agent.fd = port_fd;
      g_unix_set_fd_nonblocking (port_fd, TRUE, NULL);
    }
  else if (port_path != NULL)
    {
      agent.fd = open (port_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (agent.fd < 0)
        {
          log_msg ("open %s: %s", port_path, g_strerror (errno));
          return 1;
        }
    }
  else
    agent.fd = agent_system_open_port (AGENT_PORT_NAME, PORT_TIMEOUT_MS, &error);
  if (agent.fd < 0)
    {
      log_msg ("%s", error->message);
      agent_system_power_off ();
    }

  signal (SIGPIPE, SIG_IGN); /* a closed stdin pipe is an EPIPE, not a death */
  int sigfd = setup_sigchld ();
  agent.outq = g_byte_array_new ();
  agent.decoder = agent_decoder_new ();
  agent.procs = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) agent_process_free);
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
  channel_disconnected ();

  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (loop);
  return 0;
}
