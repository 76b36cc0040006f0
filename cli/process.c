/* Running a process and copying its streams: what run, exec and logs share. */
#include "cli.h"

#include "json-fields.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Reads wait this long for output, and Wait this long for the exit, at a
 * time: short enough that a restart of sandboxd is noticed soon. */
#define READ_WAIT_MS 3000
#define WAIT_DEADLINE_MS 10000
#define READ_DEADLINE_MS (READ_WAIT_MS + 5000)
/* How long run, exec and logs -f wait for a sandboxd that went away (a
 * restart) to come back before giving up. */
#define RECONNECT_TIMEOUT_S 60
#define READ_MAX_BYTES (1024 * 1024)
/* A process without stdin or terminal: Exec waits this long for its exit
 * and brings its output along (one round trip for a short command); a
 * longer one's output starts flowing after it. */
#define EXEC_WAIT_MS 500
#define STDIN_CHUNK (256 * 1024)

typedef struct
{
  const char *address;
  const char *sandbox_id;
  gint64 process_id;
  const char *stream;
  int fd;
  gboolean follow;
  GError *error;
  gint64 offset; /* where to start */
} StreamCopy;

static gboolean
write_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Calls @method, which must be safe to repeat (reads by offset, Wait). While
 * sandboxd does not answer (it is restarting), calls again on a new
 * connection, for up to RECONNECT_TIMEOUT_S. */
static JsonObject *
call_riding_restarts (const char *address, RpcClient **client, const char *method,
                      JsonObject *params, gint64 deadline_ms, GError **error)
{
  gint64 give_up = g_get_monotonic_time () + RECONNECT_TIMEOUT_S * G_USEC_PER_SEC;
  for (;;)
    {
      g_clear_error (error);
      if (*client == NULL)
        *client = rpc_client_new (address, error);
      JsonObject *res
          = *client ? rpc_client_call (*client, method, params, deadline_ms, error) : NULL;
      if (res != NULL || !g_error_matches (*error, RPC_ERROR, RPC_STATUS_UNAVAILABLE)
          || g_get_monotonic_time () >= give_up)
        return res;
      g_clear_pointer (client, rpc_client_free);
      g_usleep (200 * 1000);
    }
}

/* Reads one output stream by offset until its end (or, without follow,
 * until what is stored now); one thread each, so stdout and stderr stay
 * separate and neither waits for the other. */
static gpointer
copy_stream (gpointer data)
{
  StreamCopy *sc = data;
  g_autoptr (RpcClient) client = NULL;
  gint64 offset = sc->offset;
  gboolean eof = FALSE;
  while (!eof)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_string_member (params, "sandbox_id", sc->sandbox_id);
      json_object_set_int_member (params, "process_id", sc->process_id);
      json_object_set_string_member (params, "stream", sc->stream);
      json_object_set_int_member (params, "offset", offset);
      json_object_set_int_member (params, "max_bytes", READ_MAX_BYTES);
      json_object_set_int_member (params, "wait_ms", sc->follow ? READ_WAIT_MS : 0);
      g_autoptr (JsonObject) res
          = call_riding_restarts (sc->address, &client, "sandbox.v1.Processes.ReadOutput", params,
                                  READ_DEADLINE_MS, &sc->error);
      if (g_error_matches (sc->error, RPC_ERROR, RPC_STATUS_DEADLINE_EXCEEDED))
        {
          g_clear_error (&sc->error); /* a busy sandboxd: ask again */
          continue;
        }
      const char *b64 = NULL;
      gint64 next = 0;
      if (res == NULL || !json_field_string (res, "data", TRUE, &b64, &sc->error)
          || !json_field_int (res, "offset", TRUE, 0, G_MAXINT64, &next, &sc->error)
          || !json_field_bool (res, "eof", TRUE, &eof, &sc->error))
        break;
      gsize len = 0;
      g_autofree guint8 *bytes = g_base64_decode (b64, &len);
      if (len > 0 && !write_all (sc->fd, bytes, len))
        break; /* our reader went away (e.g. a closed pipe): stop copying */
      if (!sc->follow && next == offset)
        break;
      offset = next;
    }
  return NULL;
}

typedef struct
{
  const char *address;
  const char *sandbox_id;
  gint64 process_id;
  gboolean tty; /* watch for the detach keys */
  GError *error;
} StdinCopy;

/* Ctrl-P Ctrl-Q with -t: we leave, the process runs on (docker's keys). */
static void G_GNUC_NORETURN
detach (const char *sandbox_id)
{
  cli_terminal_restore ();
  fprintf (stderr, "\r\nsandboxctl: detached; the process runs on in %s\n", sandbox_id);
  exit (0);
}

static gboolean
write_stdin (RpcClient *client, StdinCopy *sc, const guint8 *data, gsize len)
{
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "sandbox_id", sc->sandbox_id);
  json_object_set_int_member (params, "process_id", sc->process_id);
  g_autofree char *b64 = g_base64_encode (data, len);
  json_object_set_string_member (params, "data", b64);
  g_autoptr (JsonObject) res
      = rpc_client_call (client, "sandbox.v1.Processes.WriteStdin", params, 0, NULL);
  return res != NULL;
}

/* Forwards our stdin to the process; each WriteStdin returns once the guest
 * has written the chunk to the pipe, so a slow reader slows us down. */
static gpointer
copy_stdin (gpointer data)
{
  StdinCopy *sc = data;
  g_autoptr (RpcClient) client = rpc_client_new (sc->address, &sc->error);
  g_autofree guint8 *buf = g_malloc (STDIN_CHUNK + 1);
  gboolean held = FALSE; /* a Ctrl-P, at buf[0] */
  while (client)
    {
      ssize_t n = read (STDIN_FILENO, buf + held, STDIN_CHUNK);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_autoptr (JsonObject) params = json_object_new ();
          json_object_set_string_member (params, "sandbox_id", sc->sandbox_id);
          json_object_set_int_member (params, "process_id", sc->process_id);
          g_autoptr (JsonObject) res = rpc_client_call (client, "sandbox.v1.Processes.CloseStdin",
                                                        params, CLI_CALL_DEADLINE_MS, NULL);
          break;
        }
      gsize len = (gsize) n + held, send = len;
      gboolean leave = FALSE;
      if (sc->tty)
        send = cli_terminal_scan_detach (buf, len, &held, &leave);
      else
        held = FALSE;
      if (send > 0 && !write_stdin (client, sc, buf, send))
        break; /* the process closed its stdin or exited: stop forwarding */
      if (leave)
        detach (sc->sandbox_id);
      if (held)
        buf[0] = buf[len - 1];
    }
  return NULL;
}

/* Both streams from @offsets (stdout's, stderr's); a stream whose offset
 * is negative is done already. */
static int
stream_from (const CliGlobals *globals, const char *sandbox_id, gint64 process_id, gboolean follow,
             const gint64 offsets[2])
{
  StreamCopy out = { globals->address, sandbox_id, process_id, "stdout",
                     STDOUT_FILENO,    follow,     NULL,       offsets[0] };
  StreamCopy err = { globals->address, sandbox_id, process_id, "stderr",
                     STDERR_FILENO,    follow,     NULL,       offsets[1] };
  GThread *t_out = offsets[0] >= 0 ? g_thread_new ("stdout", copy_stream, &out) : NULL;
  GThread *t_err = offsets[1] >= 0 ? g_thread_new ("stderr", copy_stream, &err) : NULL;
  if (t_out)
    g_thread_join (t_out);
  if (t_err)
    g_thread_join (t_err);
  int code = 0;
  if (out.error || err.error)
    code = cli_fail (out.error ? out.error : err.error);
  g_clear_error (&out.error);
  g_clear_error (&err.error);
  return code;
}

int
cli_stream_output (const CliGlobals *globals, const char *sandbox_id, gint64 process_id,
                   gboolean follow)
{
  const gint64 from_start[2] = { 0, 0 };
  return stream_from (globals, sandbox_id, process_id, follow, from_start);
}

/* Exec answered with the exit (wait_ms): its output came along; the rest
 * of a stream longer than that is read on from where it stopped. */
static int
finish_exited (const CliGlobals *globals, const char *sandbox_id, gint64 process_id,
               JsonObject *exited)
{
  static const char *const names[2] = { "stdout", "stderr" };
  gint64 offsets[2];
  for (int i = 0; i < 2; i++)
    {
      JsonObject *o = json_object_get_object_member (exited, names[i]);
      const char *b64 = json_object_get_string_member_with_default (o, "data", "");
      gsize len = 0;
      g_autofree guint8 *bytes = g_base64_decode (b64, &len);
      if (len > 0)
        write_all (i == 0 ? STDOUT_FILENO : STDERR_FILENO, bytes, len);
      offsets[i] = json_object_get_boolean_member_with_default (o, "eof", FALSE)
                       ? -1
                       : json_object_get_int_member_with_default (o, "offset", 0);
    }
  int code = stream_from (globals, sandbox_id, process_id, TRUE, offsets);
  if (code != 0)
    return code;
  return (int) json_object_get_int_member_with_default (exited, "status", CLI_EXIT_ERROR);
}

typedef struct
{
  const char *address;
  const char *sandbox_id;
  gint64 process_id;
  gboolean tty; /* SIGWINCH: our terminal's new size, to the guest's */
} SignalProxy;

static void
resize (RpcClient *client, const SignalProxy *p)
{
  guint rows, cols;
  cli_terminal_size (&rows, &cols);
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "sandbox_id", p->sandbox_id);
  json_object_set_int_member (params, "process_id", p->process_id);
  json_object_set_int_member (params, "rows", rows);
  json_object_set_int_member (params, "cols", cols);
  g_autoptr (JsonObject) res
      = rpc_client_call (client, "sandbox.v1.Processes.Resize", params, CLI_CALL_DEADLINE_MS, NULL);
}

/* Forwards SIGINT, SIGTERM and SIGHUP to the process's group, as docker
 * run does: Ctrl-C stops the command in the guest, and sandboxctl then exits
 * with its status (130). The signals are blocked in every thread; this one
 * takes them with sigwait. It is not joined: exiting ends it. */
static gpointer
proxy_signals (gpointer data)
{
  SignalProxy *p = data;
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  sigaddset (&set, SIGWINCH);
  g_autoptr (RpcClient) client = rpc_client_new (p->address, NULL);
  for (;;)
    {
      int sig = 0;
      if (sigwait (&set, &sig) != 0 || client == NULL)
        continue;
      if (sig == SIGWINCH)
        {
          if (p->tty)
            resize (client, p);
          continue;
        }
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_string_member (params, "sandbox_id", p->sandbox_id);
      json_object_set_int_member (params, "process_id", p->process_id);
      json_object_set_int_member (params, "signal", sig);
      json_object_set_boolean_member (params, "group", TRUE);
      g_autoptr (JsonObject) res = rpc_client_call (client, "sandbox.v1.Processes.Signal", params,
                                                    CLI_CALL_DEADLINE_MS, NULL);
    }
  return NULL;
}

static void
block_proxied_signals (void)
{
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  sigaddset (&set, SIGWINCH);
  pthread_sigmask (SIG_BLOCK, &set, NULL);
}

static int
exit_code_for_exec_error (const GError *error)
{
  /* As a shell does: 127 for a command not found, 126 for one not runnable. */
  if (error->domain == RPC_ERROR && error->code == RPC_STATUS_NOT_FOUND)
    return 127;
  if (error->domain == RPC_ERROR && error->code == RPC_STATUS_PERMISSION_DENIED)
    return 126;
  return CLI_EXIT_ERROR;
}

gboolean
cli_exec_set_user (JsonObject *params, const char *user)
{
  g_auto (GStrv) parts = g_strsplit (user, ":", 2);
  guint64 uid, gid;
  if (!g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXUINT32 - 1, &uid, NULL))
    return FALSE;
  json_object_set_int_member (params, "uid", (gint64) uid);
  if (parts[1] == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXUINT32 - 1, &gid, NULL))
    return FALSE;
  json_object_set_int_member (params, "gid", (gint64) gid);
  return TRUE;
}

int
cli_exec_and_wait (const CliGlobals *globals, RpcClient *client, const char *sandbox_id,
                   const CliExec *x)
{
  g_autoptr (GError) error = NULL;
  char **args = x->args, **env = x->env;
  const char *workdir = x->workdir;
  gboolean with_stdin = x->with_stdin;
  g_autoptr (JsonObject) exec = json_object_new ();
  json_object_set_string_member (exec, "sandbox_id", sandbox_id);
  json_field_set_strv (exec, "args", args);
  json_field_set_strv (exec, "env", env);
  if (x->env_only)
    json_object_set_boolean_member (exec, "env_only", TRUE);
  if (x->groups)
    {
      JsonArray *gids = json_array_new ();
      for (char **g = x->groups; *g; g++)
        {
          guint64 gid = 0;
          if (!g_ascii_string_to_unsigned (*g, 10, 0, G_MAXUINT32 - 1, &gid, NULL))
            {
              json_array_unref (gids);
              return cli_usage_error_text ("exec", "--group-add takes a numeric group id");
            }
          json_array_add_int_element (gids, (gint64) gid);
        }
      json_object_set_array_member (exec, "additional_gids", gids);
    }
  json_field_set_strv (exec, "add_capabilities", x->caps);
  if (workdir)
    json_object_set_string_member (exec, "cwd", workdir);
  if (with_stdin)
    json_object_set_boolean_member (exec, "stdin", TRUE);
  if (x->tty)
    {
      guint rows, cols;
      cli_terminal_size (&rows, &cols);
      json_object_set_boolean_member (exec, "tty", TRUE);
      json_object_set_int_member (exec, "rows", rows);
      json_object_set_int_member (exec, "cols", cols);
      if (!cli_terminal_onlcr ())
        json_object_set_boolean_member (exec, "tty_raw_output", TRUE);
    }
  if (x->container)
    json_object_set_string_member (exec, "container", x->container);
  if (x->user && !cli_exec_set_user (exec, x->user))
    return cli_usage_error_text ("exec", "--user takes UID[:GID], numbers");
  if (!with_stdin && !x->tty)
    json_object_set_int_member (exec, "wait_ms", EXEC_WAIT_MS);
  /* From here on a signal to us is meant for the process: held until it
   * has an id to go to (a Ctrl-C while Exec waits is forwarded after).
   * Blocked before the other threads start, so they inherit the mask. */
  block_proxied_signals ();
  g_autoptr (JsonObject) started
      = rpc_client_call (client, "sandbox.v1.Processes.Exec", exec, CLI_CALL_DEADLINE_MS, &error);
  if (started == NULL)
    {
      int code = exit_code_for_exec_error (error);
      cli_fail (error);
      return code;
    }
  gint64 process_id = json_object_get_int_member_with_default (started, "process_id", 0);
  if (json_object_get_boolean_member_with_default (started, "exited", FALSE)
      && json_object_has_member (started, "stdout") && json_object_has_member (started, "stderr"))
    return finish_exited (globals, sandbox_id, process_id, started);

  static SignalProxy proxy;
  proxy = (SignalProxy){ globals->address, sandbox_id, process_id, x->tty };
  g_thread_unref (g_thread_new ("signals", proxy_signals, &proxy));
  /* Keys, Ctrl-C included, now go to the guest's terminal as bytes. */
  if (x->tty && x->with_stdin && !cli_terminal_raw ())
    g_printerr ("sandboxctl: cannot put the terminal in raw mode\n");

  StdinCopy in = { globals->address, sandbox_id, process_id, x->tty, NULL };
  /* The stdin thread may stay blocked in read() after the process exits;
   * it is not joined, and exiting ends it. */
  if (with_stdin)
    g_thread_unref (g_thread_new ("stdin", copy_stdin, &in));

  g_autoptr (JsonObject) wait = json_object_new ();
  json_object_set_string_member (wait, "sandbox_id", sandbox_id);
  json_object_set_int_member (wait, "process_id", process_id);
  int code = cli_stream_output (globals, sandbox_id, process_id, TRUE);
  g_autoptr (RpcClient) waiter = NULL;
  g_autoptr (JsonObject) exited = NULL;
  do
    exited = call_riding_restarts (globals->address, &waiter, "sandbox.v1.Processes.Wait", wait,
                                   WAIT_DEADLINE_MS, &error);
  while (exited == NULL && g_error_matches (error, RPC_ERROR, RPC_STATUS_DEADLINE_EXCEEDED));
  if (exited == NULL)
    return cli_fail (error);
  if (code != 0)
    return code;
  return (int) json_object_get_int_member_with_default (exited, "status", CLI_EXIT_ERROR);
}

void
cli_delete_sandbox (RpcClient *client, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "id", id);
  json_object_set_boolean_member (params, "force", TRUE);
  g_autoptr (JsonObject) res = rpc_client_call (client, "sandbox.v1.Sandboxes.Delete", params,
                                                CLI_CALL_DEADLINE_MS, &error);
  /* NOT_FOUND: the daemon removed it already (auto_remove). */
  if (res == NULL && !g_error_matches (error, RPC_ERROR, RPC_STATUS_NOT_FOUND))
    cli_fail (error);
}
