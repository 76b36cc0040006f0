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

/* Each limit as "name value" (a list's items joined), on one line. */
static void
print_limits (JsonObject *limits)
{
  printf ("Limits:       ");
  g_autoptr (GList) names = json_object_get_members (limits);
  for (GList *l = names; l; l = l->next)
    {
      JsonNode *v = json_object_get_member (limits, l->data);
      if (JSON_NODE_HOLDS_ARRAY (v))
        {
          JsonArray *a = json_node_get_array (v);
          printf (" %s ", (char *) l->data);
          for (guint i = 0; i < json_array_get_length (a); i++)
            printf ("%s%s", i ? "," : "", json_array_get_string_element (a, i));
          if (json_array_get_length (a) == 0)
            printf ("-");
        }
      else
        printf (" %s %" G_GINT64_FORMAT, (char *) l->data, json_node_get_int (v));
    }
  printf ("\n");
}

static void
print_templates (JsonObject *t)
{
  JsonArray *list = json_object_get_array_member (t, "templates");
  printf ("Templates:     %u of at most %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
          " MiB of RAM, %" G_GINT64_FORMAT " warm clones per shape\n",
          list ? json_array_get_length (list) : 0,
          json_object_get_int_member_with_default (t, "max", 0),
          json_object_get_int_member_with_default (t, "ram_bytes", 0) >> 20,
          json_object_get_int_member_with_default (t, "warm_per_shape", 0));
  for (guint i = 0; list && i < json_array_get_length (list); i++)
    {
      JsonObject *e = json_array_get_object_element (list, i);
      printf ("  %-30s %-8s %5" G_GINT64_FORMAT " MiB %2" G_GINT64_FORMAT
              " vCPU  RAM %4" G_GINT64_FORMAT " MiB  %" G_GINT64_FORMAT " clones\n",
              json_object_get_string_member_with_default (e, "key", "?"),
              json_object_get_string_member_with_default (e, "state", "?"),
              json_object_get_int_member_with_default (e, "memory_mb", 0),
              json_object_get_int_member_with_default (e, "cpus", 0),
              json_object_get_int_member_with_default (e, "ram_bytes", 0) >> 20,
              json_object_get_int_member_with_default (e, "clones", 0));
    }
}

int
cli_info (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse (
          "info", "",
          "Show the host as sandboxd sees it and the limits on callers and guests (the admin "
          "also sees its ceilings and VM templates); for a tenant, its quotas and its use.",
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
  if (json_object_has_member (info, "limits"))
    print_limits (json_object_get_object_member (info, "limits"));
  if (json_object_has_member (info, "templates"))
    print_templates (json_object_get_object_member (info, "templates"));
  if (json_object_has_member (info, "tenant"))
    print_quota (json_object_get_object_member (info, "tenant"));
  return 0;
}
