/* sandboxctl info: System.Info, the host as sandboxd sees it and, for a
 * tenant, its quotas and what it uses of them. */
#include "cli.h"

#include <stdio.h>

static void
print_quota (JsonObject *tenant)
{
  JsonObject *quota = json_object_get_object_member (tenant, "quota");
  JsonObject *use = json_object_get_object_member (tenant, "use");
  printf ("Tenant:        %s\n", json_object_get_string_member_with_default (tenant, "name", "?"));
  printf ("  %-10s %10s %10s\n", "QUOTA", "USED", "LIMIT");
  g_autoptr (GList) names = json_object_get_members (quota);
  for (GList *l = names; l; l = l->next)
    {
      JsonNode *limit = json_object_get_member (quota, l->data);
      g_autofree char *shown
          = JSON_NODE_HOLDS_NULL (limit)
                ? g_strdup ("-")
                : g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (limit));
      printf ("  %-10s %10" G_GINT64_FORMAT " %10s\n", (char *) l->data,
              json_object_get_int_member_with_default (use, l->data, 0), shown);
    }
}

int
cli_info (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse ("info", "",
                  "Show the host as sandboxd sees it; for a tenant, its quotas and its use.",
                  entries, &argc, &argv, &code))
    return code;
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  g_autoptr (JsonObject) info
      = client ? rpc_client_call (client, "sandbox.v1.System.Info", NULL, 10000, &error) : NULL;
  if (info == NULL)
    return cli_fail (error);
  if (globals->json)
    {
      cli_print_json (info);
      return 0;
    }
  printf ("Accelerator:   %s\n", json_object_get_string_member_with_default (info, "accel", "?"));
  printf ("CPUs:          %" G_GINT64_FORMAT "\n",
          json_object_get_int_member_with_default (info, "cpus", 0));
  printf ("Memory:        %" G_GINT64_FORMAT " MiB (%" G_GINT64_FORMAT " available)\n",
          json_object_get_int_member_with_default (info, "memory_mb", 0),
          json_object_get_int_member_with_default (info, "memory_available_mb", 0));
  JsonObject *counts = json_object_get_object_member (info, "sandboxes");
  g_autoptr (GList) states = counts ? json_object_get_members (counts) : NULL;
  printf ("Sandboxes:    ");
  for (GList *l = states; l; l = l->next)
    printf (" %s %" G_GINT64_FORMAT, (char *) l->data,
            json_object_get_int_member (counts, l->data));
  printf ("\n");
  if (json_object_has_member (info, "tenant"))
    print_quota (json_object_get_object_member (info, "tenant"));
  return 0;
}
