/* sandboxctl run: create a sandbox, run one command in it, stream its
 * output, exit with its status. */
#include "cli.h"

#include "json-fields.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define CREATE_DEADLINE_MS (5 * 60 * 1000)
#define READ_WAIT_MS 10000
#define READ_MAX_BYTES (1024 * 1024)

typedef struct
{
  const char *address;
  const char *sandbox_id;
  gint64 process_id;
  const char *stream;
  int fd;
  GError *error;
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

/* Reads one output stream by offset until its end; one thread each, so
 * stdout and stderr stay separate and neither waits for the other. */
static gpointer
copy_stream (gpointer data)
{
  StreamCopy *sc = data;
  g_autoptr (RpcClient) client = rpc_client_new (sc->address, &sc->error);
  gint64 offset = 0;
  gboolean eof = FALSE;
  while (client && !eof)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_string_member (params, "sandbox_id", sc->sandbox_id);
      json_object_set_int_member (params, "process_id", sc->process_id);
      json_object_set_string_member (params, "stream", sc->stream);
      json_object_set_int_member (params, "offset", offset);
      json_object_set_int_member (params, "max_bytes", READ_MAX_BYTES);
      json_object_set_int_member (params, "wait_ms", READ_WAIT_MS);
      g_autoptr (JsonObject) res
          = rpc_client_call (client, "sandbox.v1.Processes.ReadOutput", params,
                             READ_WAIT_MS + CLI_CALL_DEADLINE_MS, &sc->error);
      const char *b64 = NULL;
      if (res == NULL || !json_field_string (res, "data", TRUE, &b64, &sc->error)
          || !json_field_int (res, "offset", TRUE, 0, G_MAXINT64, &offset, &sc->error)
          || !json_field_bool (res, "eof", TRUE, &eof, &sc->error))
        break;
      gsize len = 0;
      g_autofree guint8 *bytes = g_base64_decode (b64, &len);
      if (len > 0 && !write_all (sc->fd, bytes, len))
        break; /* our reader went away (e.g. a closed pipe): stop copying */
    }
  return NULL;
}

static gboolean
parse_memory (const char *text, gint64 *mb)
{
  char *end = NULL;
  guint64 v = g_ascii_strtoull (text, &end, 10);
  if (end == text)
    return FALSE;
  if (*end == '\0' || g_ascii_strcasecmp (end, "m") == 0 || g_ascii_strcasecmp (end, "mb") == 0
      || g_ascii_strcasecmp (end, "mib") == 0)
    *mb = (gint64) v;
  else if (g_ascii_strcasecmp (end, "g") == 0 || g_ascii_strcasecmp (end, "gb") == 0
           || g_ascii_strcasecmp (end, "gib") == 0)
    *mb = (gint64) v * 1024;
  else
    return FALSE;
  return TRUE;
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

static void
delete_sandbox (RpcClient *client, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "id", id);
  json_object_set_boolean_member (params, "force", TRUE);
  g_autoptr (JsonObject) res = rpc_client_call (client, "sandbox.v1.Sandboxes.Delete", params,
                                                CLI_CALL_DEADLINE_MS, &error);
  if (res == NULL)
    cli_fail (error);
}

int
cli_run (const CliGlobals *globals, int argc, char **argv)
{
  gboolean rm = FALSE;
  g_autofree char *name = NULL;
  g_autofree char *memory = NULL;
  gint cpus = 0;
  g_auto (GStrv) env = NULL;
  g_autofree char *workdir = NULL;
  int code = 0;
  g_autoptr (GError) error = NULL;

  GOptionEntry entries[] = {
    { "rm", 0, 0, G_OPTION_ARG_NONE, &rm, "Delete the sandbox when the command exits", NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Name the sandbox", "NAME" },
    { "memory", 'm', 0, G_OPTION_ARG_STRING, &memory, "Guest memory, e.g. 256M or 1G", "SIZE" },
    { "cpus", 0, 0, G_OPTION_ARG_INT, &cpus, "Guest vCPUs", "N" },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, "Set an environment variable", "K=V" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &workdir, "Working directory of the command", "DIR" },
    { NULL },
  };
  if (!cli_parse ("run", "[OPTIONS] [--] COMMAND [ARG...]",
                  "Create a sandbox (a microVM with its own kernel), run COMMAND in it and exit\n"
                  "with its status. stdout and stderr stay separate.",
                  entries, &argc, &argv, &code))
    return code;
  int first = 1;
  if (first < argc && g_str_equal (argv[first], "--"))
    first++;
  if (first >= argc)
    {
      return cli_usage_error_text ("run", "no command given");
    }
  gint64 memory_mb = 0;
  if (memory && !parse_memory (memory, &memory_mb))
    {
      g_autofree char *msg = g_strdup_printf ("--memory: \"%s\" is not a size", memory);
      return cli_usage_error_text ("run", msg);
    }

  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);

  g_autoptr (JsonObject) create = json_object_new ();
  if (name)
    json_object_set_string_member (create, "name", name);
  if (memory_mb)
    json_object_set_int_member (create, "memory_mb", memory_mb);
  if (cpus)
    json_object_set_int_member (create, "cpus", cpus);
  if (rm)
    json_object_set_boolean_member (create, "delete_on_failure", TRUE);
  g_autoptr (JsonObject) sandbox
      = rpc_client_call (client, "sandbox.v1.Sandboxes.Create", create, CREATE_DEADLINE_MS, &error);
  if (sandbox == NULL)
    return cli_fail (error);
  g_autofree char *id = g_strdup (json_object_get_string_member_with_default (sandbox, "id", ""));

  g_autoptr (JsonObject) exec = json_object_new ();
  json_object_set_string_member (exec, "sandbox_id", id);
  JsonArray *args = json_array_new ();
  for (int i = first; i < argc; i++)
    json_array_add_string_element (args, argv[i]);
  json_object_set_array_member (exec, "args", args);
  if (env)
    {
      JsonArray *e = json_array_new ();
      for (char **s = env; *s; s++)
        json_array_add_string_element (e, *s);
      json_object_set_array_member (exec, "env", e);
    }
  if (workdir)
    json_object_set_string_member (exec, "cwd", workdir);
  g_autoptr (JsonObject) started
      = rpc_client_call (client, "sandbox.v1.Processes.Exec", exec, CLI_CALL_DEADLINE_MS, &error);
  if (started == NULL)
    {
      code = exit_code_for_exec_error (error);
      cli_fail (error);
      if (rm)
        delete_sandbox (client, id);
      return code;
    }
  gint64 process_id = json_object_get_int_member_with_default (started, "process_id", 0);

  StreamCopy out = { globals->address, id, process_id, "stdout", STDOUT_FILENO, NULL };
  StreamCopy err = { globals->address, id, process_id, "stderr", STDERR_FILENO, NULL };
  GThread *t_out = g_thread_new ("stdout", copy_stream, &out);
  GThread *t_err = g_thread_new ("stderr", copy_stream, &err);

  g_autoptr (JsonObject) wait = json_object_new ();
  json_object_set_string_member (wait, "sandbox_id", id);
  json_object_set_int_member (wait, "process_id", process_id);
  g_autoptr (JsonObject) exited
      = rpc_client_call (client, "sandbox.v1.Processes.Wait", wait, 0, &error);
  g_thread_join (t_out);
  g_thread_join (t_err);

  if (exited == NULL)
    code = cli_fail (error);
  else if (out.error || err.error)
    code = cli_fail (out.error ? out.error : err.error);
  else
    code = (int) json_object_get_int_member_with_default (exited, "status", CLI_EXIT_ERROR);
  g_clear_error (&out.error);
  g_clear_error (&err.error);
  if (rm)
    delete_sandbox (client, id);
  return code;
}
