/* cli-common.c — what every sandboxctl verb uses: errors and usage,
 * option parsing, JSON output, one call per named sandbox. */
#include "cli.h"

#include "rpc-envelope.h"

#include <stdio.h>
#include <string.h>

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

JsonObject *
cli_call (const CliGlobals *globals, const char *method, JsonObject *params, int *code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  JsonObject *res
      = client ? rpc_client_call (client, method, params, CLI_CALL_DEADLINE_MS, &error) : NULL;
  if (res == NULL)
    *code = cli_fail (error);
  return res;
}

char *
cli_join_names (JsonArray *names)
{
  GString *by = g_string_new (NULL);
  for (guint j = 0; names && j < json_array_get_length (names); j++)
    g_string_append_printf (by, "%s%s", j ? "," : "", json_array_get_string_element (names, j));
  if (by->len == 0)
    g_string_append (by, "-");
  return g_string_free (by, FALSE);
}

void
cli_print_pruned (const CliGlobals *globals, JsonObject *res)
{
  if (globals->json)
    {
      cli_print_json (res);
      return;
    }
  JsonArray *removed = json_object_get_array_member (res, "removed");
  for (guint i = 0; i < json_array_get_length (removed); i++)
    printf ("%s\n", json_array_get_string_element (removed, i));
  printf ("freed %.1f MiB\n",
          json_object_get_int_member_with_default (res, "bytes", 0) / 1048576.0);
}
