/* sandboxctl create: boot a sandbox and leave it running. */
#include "cli.h"

#include <stdio.h>

#define CREATE_DEADLINE_MS (5 * 60 * 1000)

int
cli_create (const CliGlobals *globals, int argc, char **argv)
{
  g_autofree char *name = NULL;
  g_autofree char *memory = NULL;
  gint cpus = 0;
  int code = 0;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Name the sandbox", "NAME" },
    { "memory", 'm', 0, G_OPTION_ARG_STRING, &memory, "Guest memory, e.g. 256M or 1G", "SIZE" },
    { "cpus", 0, 0, G_OPTION_ARG_INT, &cpus, "Guest vCPUs", "N" },
    { NULL },
  };
  if (!cli_parse ("create", "[OPTIONS]",
                  "Create a sandbox (a microVM with its own kernel), wait until its guest agent\n"
                  "is up, and print its id.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return cli_usage_error_text ("create", "unexpected argument (did you mean 'run'?)");
  gint64 memory_mb = 0;
  if (memory && !cli_parse_memory (memory, &memory_mb))
    return cli_usage_error_text ("create", "--memory takes a size such as 256M or 1G");

  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_autoptr (JsonObject) params = json_object_new ();
  if (name)
    json_object_set_string_member (params, "name", name);
  if (memory_mb)
    json_object_set_int_member (params, "memory_mb", memory_mb);
  if (cpus)
    json_object_set_int_member (params, "cpus", cpus);
  g_autoptr (JsonObject) sb
      = rpc_client_call (client, "sandbox.v1.Sandboxes.Create", params, CREATE_DEADLINE_MS, &error);
  if (sb == NULL)
    return cli_fail (error);
  if (globals->json)
    cli_print_json (sb);
  else
    printf ("%s\n", json_object_get_string_member_with_default (sb, "id", "?"));
  return 0;
}
