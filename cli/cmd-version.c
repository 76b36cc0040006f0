#include "cli.h"
#include "config.h"

#include <stdio.h>

int
cli_version (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse ("version", "", "Show the versions of sandboxctl and of the daemon it reaches.",
                  entries, &argc, &argv, &code))
    return code;

  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  g_autoptr (JsonObject) server
      = client ? rpc_client_call (client, "sandbox.v1.System.Version", NULL, 10000, &error) : NULL;
  if (globals->json)
    {
      g_autoptr (JsonObject) out = json_object_new ();
      json_object_set_string_member (out, "client", SANDBOXD_VERSION);
      if (server)
        json_object_set_object_member (out, "server", json_object_ref (server));
      cli_print_json (out);
    }
  else
    {
      printf ("sandboxctl %s\n", SANDBOXD_VERSION);
      if (server)
        {
          printf ("sandboxd   %s (api %s, accelerator %s, guest kernel %s %s)\n",
                  json_object_get_string_member_with_default (server, "version", "?"),
                  json_object_get_string_member_with_default (server, "api", "?"),
                  json_object_get_string_member_with_default (server, "accel", "?"),
                  json_object_get_string_member_with_default (server, "default_kernel", "?"),
                  json_object_get_string_member_with_default (server, "guest_kernel_release", "?"));
          JsonNode *kn = json_object_get_member (server, "kernels");
          JsonArray *ka = kn && JSON_NODE_HOLDS_ARRAY (kn) ? json_node_get_array (kn) : NULL;
          if (ka && json_array_get_length (ka) > 1)
            {
              printf ("guest kernels:");
              for (guint i = 0; i < json_array_get_length (ka); i++)
                printf (" %s", json_array_get_string_element (ka, i));
              printf (" (sandboxctl kernels)\n");
            }
        }
    }
  return server ? 0 : cli_fail (error);
}
