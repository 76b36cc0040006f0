/* sandboxctl create: boot a sandbox and leave it running. */
#include "cli.h"

#include <stdio.h>

int
cli_create (const CliGlobals *globals, int argc, char **argv)
{
  g_auto (CliSandboxOptions) opts = { 0 };
  int code = 0;
  g_autofree GOptionEntry *entries = cli_sandbox_option_entries (&opts, NULL);
  if (!cli_parse ("create", "[OPTIONS]",
                  "Create a sandbox (a microVM with its own kernel), wait until its guest agent\n"
                  "is up, and print its id.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return cli_usage_error_text ("create", "unexpected argument (did you mean 'run'?)");
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_autoptr (JsonObject) sb = cli_create_sandbox (globals, client, "create", &opts, FALSE, &code);
  if (sb == NULL)
    return code;
  if (globals->json)
    cli_print_json (sb);
  else
    printf ("%s\n", json_object_get_string_member_with_default (sb, "id", "?"));
  return 0;
}
