/* sandboxctl ls: list sandboxes. */
#include "cli.h"

#include <stdio.h>

int
cli_ls (const CliGlobals *globals, int argc, char **argv)
{
  g_autofree char *state = NULL;
  gboolean quiet = FALSE;
  int code = 0;
  GOptionEntry entries[] = {
    { "state", 's', 0, G_OPTION_ARG_STRING, &state,
      "Only sandboxes in STATE (creating, booting, running, stopping, stopped, failed)", "STATE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print ids only", NULL },
    { NULL },
  };
  if (!cli_parse ("ls", "[OPTIONS] [NAME-PREFIX]", "List sandboxes, sorted by name.", entries,
                  &argc, &argv, &code))
    return code;
  if (argc > 2)
    return cli_usage_error_text ("ls", "at most one name prefix");

  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_autoptr (JsonObject) params = json_object_new ();
  if (state)
    json_object_set_string_member (params, "state", state);
  if (argc == 2)
    json_object_set_string_member (params, "name_prefix", argv[1]);
  g_autoptr (JsonObject) res
      = rpc_client_call (client, "sandbox.v1.Sandboxes.List", params, CLI_CALL_DEADLINE_MS, &error);
  if (res == NULL)
    return cli_fail (error);
  JsonArray *all = json_object_get_array_member (res, "sandboxes");
  if (globals->json)
    {
      cli_print_json_array (all);
      return 0;
    }
  /* The admin of a sandboxd with tenants sees whose each one is. */
  gboolean tenants = FALSE;
  for (guint i = 0; i < json_array_get_length (all); i++)
    tenants = tenants || json_object_has_member (json_array_get_object_element (all, i), "tenant");
  if (!quiet)
    printf ("%-14s %-20s %s%-9s %-7s %-5s %s\n", "ID", "NAME", tenants ? "TENANT     " : "",
            "STATE", "MEMORY", "CPUS", "CREATED");
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonObject *sb = json_array_get_object_element (all, i);
      const char *id = json_object_get_string_member_with_default (sb, "id", "?");
      if (quiet)
        {
          printf ("%s\n", id);
          continue;
        }
      g_autofree char *mem = g_strdup_printf (
          "%" G_GINT64_FORMAT "M", json_object_get_int_member_with_default (sb, "memory_mb", 0));
      g_autofree char *tenant
          = tenants ? g_strdup_printf (
                "%-10s ", json_object_get_string_member_with_default (sb, "tenant", "-"))
                    : g_strdup ("");
      printf ("%-14s %-20s %s%-9s %-7s %-5" G_GINT64_FORMAT " %s\n", id,
              json_object_get_string_member_with_default (sb, "name", "?"), tenant,
              json_object_get_string_member_with_default (sb, "state", "?"), mem,
              json_object_get_int_member_with_default (sb, "cpus", 0),
              json_object_get_string_member_with_default (sb, "created", "?"));
    }
  return 0;
}
