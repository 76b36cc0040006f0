/* sandboxctl create: boot a sandbox and leave it running. */
#include "cli.h"

#include <stdio.h>

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
  gint64 memory_mb;
  if (!cli_memory_mb ("create", memory, &memory_mb, &code))
    return code;

  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_autoptr (JsonObject) sb = cli_create_sandbox (client, name, memory_mb, cpus, FALSE, &code);
  if (sb == NULL)
    return code;
  if (globals->json)
    cli_print_json (sb);
  else
    printf ("%s\n", json_object_get_string_member_with_default (sb, "id", "?"));
  return 0;
}
