/* runtime-manage.c — the commands on a container that exists: state,
 * kill, pause and resume, update, events, delete; and list, spec,
 * features. */
#include "config.h"
#include "json-fields.h"
#include "runtime.h"

#include <errno.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

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

int
cmd_pause (int argc, char **argv)
{
  return pause_or_resume (argc, argv, TRUE);
}

int
cmd_resume (int argc, char **argv)
{
  return pause_or_resume (argc, argv, FALSE);
}

int
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

int
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

int
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
  g_autofree char *dir = oci_state_dir (runtime_root, s->id);
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

int
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
int
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

int
cmd_features (int argc, char **argv)
{
  printf ("{\n  \"ociVersionMin\": \"1.0.0\",\n  \"ociVersionMax\": \"1.0.2\",\n"
          "  \"annotations\": {\"org.sandboxd.isolation\": \"vm\",\n"
          "    \"org.sandboxd.kernel\": \"a guest kernel's name (sandboxctl kernels)\",\n"
          "    \"org.sandboxd.kernel.min\": \"the oldest kernel release it runs on\"}\n}\n");
  return 0;
}

static gint
compare_ids (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* runc spec: config.json in --bundle (default: here), never over one. */
int
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
int
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
  g_autoptr (GDir) dir = g_dir_open (runtime_root, 0, NULL);
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
      g_autoptr (OciState) s = oci_state_load (runtime_root, ids->pdata[i], NULL);
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
