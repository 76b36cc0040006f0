/* sandboxctl kernels: the guest kernels a sandbox may boot (Kernels.List). */
#include "cli.h"

#include <stdio.h>

int
cli_kernels (const CliGlobals *globals, int argc, char **argv)
{
  gboolean quiet = FALSE;
  int code = 0;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print names only", NULL },
    { NULL },
  };
  if (!cli_parse ("kernels", "[-q]",
                  "List the guest kernels a sandbox may boot (run/create --kernel NAME): their\n"
                  "release (uname -r in the guest), size (kernel and initramfs) and which is\n"
                  "the default. sandboxd's --kernels-dir adds more.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return cli_usage_error_text ("kernels", "no arguments expected");
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  g_autoptr (JsonObject) res = client ? rpc_client_call (client, "sandbox.v1.Kernels.List", NULL,
                                                         CLI_CALL_DEADLINE_MS, &error)
                                      : NULL;
  if (res == NULL)
    return cli_fail (error);
  JsonArray *all = json_object_get_array_member (res, "kernels");
  if (globals->json)
    {
      cli_print_json_array (all);
      return 0;
    }
  if (!quiet)
    printf ("%-16s %-24s %9s  %s\n", "NAME", "RELEASE", "SIZE", "DEFAULT");
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonObject *k = json_array_get_object_element (all, i);
      const char *name = json_object_get_string_member_with_default (k, "name", "?");
      if (quiet)
        printf ("%s\n", name);
      else
        printf ("%-16s %-24s %8.1fM  %s\n", name,
                json_object_get_string_member_with_default (k, "release", "?"),
                json_object_get_int_member_with_default (k, "bytes", 0) / 1048576.0,
                json_object_get_boolean_member_with_default (k, "default", FALSE) ? "yes" : "");
    }
  return 0;
}
