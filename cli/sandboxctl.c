/* sandboxctl: the command-line client of sandboxd. */
#include "cli.h"

#include "rpc-envelope.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const struct
{
  const char *name;
  CliVerbFunc func;
  const char *summary;
} verbs[] = {
  { "run", cli_run, "Run a command in a new sandbox" },
  { "create", cli_create, "Create a sandbox and boot it" },
  { "exec", cli_exec, "Run a command in a running sandbox" },
  { "ls", cli_ls, "List sandboxes" },
  { "inspect", cli_inspect, "Show sandboxes as JSON" },
  { "logs", cli_logs, "Show a process's output" },
  { "stop", cli_stop, "Stop sandboxes gracefully" },
  { "kill", cli_kill, "Kill sandboxes' QEMU at once" },
  { "rm", cli_rm, "Delete sandboxes" },
  { "ps", cli_ps, "List a sandbox's processes" },
  { "container", cli_container, "Add, list and remove containers in a sandbox" },
  { "images", cli_images, "List the cached root images; images prune removes unused ones" },
  { "stats", cli_stats, "Show sandboxes' resource use" },
  { "events", cli_events, "Show the daemon's events" },
  { "version", cli_version, "Show the client and daemon versions" },
};

int
cli_fail (const GError *error)
{
  const char *code
      = error->domain == RPC_ERROR ? rpc_status_to_string ((RpcStatus) error->code) : "INTERNAL";
  fprintf (stderr, "sandboxctl: %s: %s\n", code, error->message);
  return CLI_EXIT_ERROR;
}

int
cli_usage_error_text (const char *verb, const char *message)
{
  fprintf (stderr, "sandboxctl: %s: %s (see sandboxctl %s --help)\n", verb, message, verb);
  return CLI_EXIT_USAGE;
}

static int
cli_usage_error (const char *verb, const GError *error)
{
  return cli_usage_error_text (verb, error->message);
}

gboolean
cli_parse (const char *verb, const char *params, const char *summary, const GOptionEntry *entries,
           int *argc, char ***argv, int *exit_code)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *usage = g_strdup_printf ("%s %s", verb, params);
  g_autoptr (GOptionContext) ctx = g_option_context_new (usage);
  g_option_context_set_summary (ctx, summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  /* Stop at the first non-option so the command keeps its own flags. */
  g_option_context_set_strict_posix (ctx, TRUE);
  g_autofree char *prgname = g_strdup_printf ("sandboxctl %s", verb);
  g_set_prgname (prgname);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      *exit_code = cli_usage_error (verb, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
cli_parse_with_name (const char *verb, const char *params, const char *summary,
                     const GOptionEntry *entries, int *argc, char ***argv, int *exit_code)
{
  if (!cli_parse (verb, params, summary, entries, argc, argv, exit_code))
    return FALSE;
  char **v = *argv;
  if (*argc < 3 || v[2][0] != '-' || g_str_equal (v[2], "--"))
    return TRUE;
  /* "VERB NAME --opt ...": parse what follows the name, then put it back. */
  char *name = v[1];
  int rest = *argc - 1;
  char **after = v + 1;
  after[0] = v[0];
  if (!cli_parse (verb, params, summary, entries, &rest, &after, exit_code))
    return FALSE;
  static GPtrArray *keep; /* argv lives as long as the process */
  keep = g_ptr_array_new ();
  g_ptr_array_add (keep, after[0]);
  g_ptr_array_add (keep, name);
  for (int i = 1; i < rest; i++)
    g_ptr_array_add (keep, after[i]);
  g_ptr_array_add (keep, NULL);
  *argc = rest + 1;
  *argv = (char **) keep->pdata;
  return TRUE;
}

GStrv
cli_strv_from (int n, char **args)
{
  GStrv v = g_new0 (char *, n + 1);
  for (int i = 0; i < n; i++)
    v[i] = g_strdup (args[i]);
  return v;
}

int
cli_for_each_sandbox (const CliGlobals *globals, const char *method, int argc, char **argv,
                      JsonObject *extra, gint64 deadline_ms, void (*print) (JsonObject *))
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  int code = 0;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_string_member (params, "id", argv[i]);
      GList *members = extra ? json_object_get_members (extra) : NULL;
      for (GList *l = members; l; l = l->next)
        json_object_set_member (params, l->data,
                                json_node_copy (json_object_get_member (extra, l->data)));
      g_list_free (members);
      g_autoptr (JsonObject) res = rpc_client_call (client, method, params, deadline_ms, &error);
      if (res == NULL)
        {
          code = cli_fail (error);
          g_clear_error (&error);
        }
      else if (globals->json)
        cli_print_json (res);
      else if (print)
        print (res);
      else
        printf ("%s\n", argv[i]);
    }
  return code;
}

void
cli_print_json (JsonObject *obj)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  g_autofree char *text = json_to_string (node, TRUE);
  printf ("%s\n", text);
}

void
cli_print_json_array (JsonArray *array)
{
  g_autoptr (JsonNode) node = json_node_init_array (json_node_alloc (), array);
  g_autofree char *text = json_to_string (node, TRUE);
  printf ("%s\n", text);
}

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: sandboxctl [--address ADDR] [--json] COMMAND [OPTIONS] [ARGS...]\n\n"
                "Drive sandboxd: every sandbox is a QEMU microVM with its own kernel.\n\n"
                "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    fprintf (out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
  fprintf (out,
           "\nGlobal options:\n"
           "  -a, --address ADDR  sandboxd's address (default $SANDBOXD_ADDRESS or %s)\n"
           "  --json              machine-readable output\n"
           "  -h, --help          this help; 'sandboxctl COMMAND --help' for a command\n\n"
           "Exit status: run and exec exit with the command's status (128+N when it\n"
           "was killed by signal N); 1 when sandboxctl or sandboxd failed, printed as\n"
           "'sandboxctl: CODE: message'; 2 for a usage error.\n",
           rpc_client_default_address ());
}

int
main (int argc, char **argv)
{
  CliGlobals globals = { .address = rpc_client_default_address () };
  int i = 1;

  setlocale (LC_ALL, "");
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i];
      if (g_str_equal (a, "--json"))
        globals.json = TRUE;
      else if ((g_str_equal (a, "--address") || g_str_equal (a, "-a")) && i + 1 < argc)
        globals.address = argv[++i];
      else if (g_str_has_prefix (a, "--address="))
        globals.address = a + strlen ("--address=");
      else if (g_str_equal (a, "--help") || g_str_equal (a, "-h"))
        {
          print_usage (stdout);
          return 0;
        }
      else if (g_str_equal (a, "--version"))
        return cli_version (&globals, 1, (char *[]){ "version", NULL });
      else
        {
          fprintf (stderr, "sandboxctl: unknown option %s (see sandboxctl --help)\n", a);
          return CLI_EXIT_USAGE;
        }
    }
  if (i >= argc)
    {
      print_usage (stderr);
      return CLI_EXIT_USAGE;
    }
  for (gsize v = 0; v < G_N_ELEMENTS (verbs); v++)
    if (g_str_equal (argv[i], verbs[v].name))
      return verbs[v].func (&globals, argc - i, argv + i);
  fprintf (stderr, "sandboxctl: unknown command \"%s\" (see sandboxctl --help)\n", argv[i]);
  return CLI_EXIT_USAGE;
}
