/* sandboxctl images: the daemon's cache of containers' root images, and
 * images prune. */
#include "cli.h"

#include <stdio.h>

static JsonObject *
call (const CliGlobals *globals, const char *method, int *code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  JsonObject *res
      = client ? rpc_client_call (client, method, NULL, CLI_CALL_DEADLINE_MS, &error) : NULL;
  if (res == NULL)
    *code = cli_fail (error);
  return res;
}

static int
images_prune (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse ("images prune", "",
                  "Remove every root image no sandbox uses (sandboxd also removes those unused\n"
                  "for --image-gc-age, hourly). Prints the digests removed.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return cli_usage_error_text ("images prune", "no arguments expected");
  g_autoptr (JsonObject) res = call (globals, "sandbox.v1.Images.Prune", &code);
  if (res == NULL)
    return code;
  if (globals->json)
    {
      cli_print_json (res);
      return 0;
    }
  JsonArray *removed = json_object_get_array_member (res, "removed");
  for (guint i = 0; i < json_array_get_length (removed); i++)
    printf ("%s\n", json_array_get_string_element (removed, i));
  printf ("freed %.1f MiB\n",
          json_object_get_int_member_with_default (res, "bytes", 0) / 1048576.0);
  return 0;
}

int
cli_images (const CliGlobals *globals, int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "prune"))
    return images_prune (globals, argc - 1, argv + 1);
  gboolean quiet = FALSE;
  int code = 0;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print digests only", NULL },
    { NULL },
  };
  if (!cli_parse ("images", "[-q] | prune",
                  "List the containers' root images sandboxd keeps (least recently used first),\n"
                  "with the sandboxes using each. 'images prune' removes the unused ones.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    {
      g_autofree char *msg = g_strdup_printf ("unknown command \"%s\"", argv[1]);
      return cli_usage_error_text ("images", msg);
    }
  g_autoptr (JsonObject) res = call (globals, "sandbox.v1.Images.List", &code);
  if (res == NULL)
    return code;
  JsonArray *all = json_object_get_array_member (res, "images");
  if (globals->json)
    {
      cli_print_json_array (all);
      return 0;
    }
  if (!quiet)
    printf ("%-19s %9s  %-25s %s\n", "DIGEST", "SIZE", "LAST USED", "USED BY");
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonObject *image = json_array_get_object_element (all, i);
      const char *digest = json_object_get_string_member_with_default (image, "digest", "?");
      if (quiet)
        {
          printf ("%s\n", digest);
          continue;
        }
      JsonArray *users = json_object_get_array_member (image, "used_by");
      GString *by = g_string_new (NULL);
      for (guint j = 0; users && j < json_array_get_length (users); j++)
        g_string_append_printf (by, "%s%s", j ? "," : "", json_array_get_string_element (users, j));
      printf ("%-19.19s %8.1fM  %-25s %s\n", digest,
              json_object_get_int_member_with_default (image, "bytes", 0) / 1048576.0,
              json_object_get_string_member_with_default (image, "last_used", "?"),
              by->len ? by->str : "-");
      g_string_free (by, TRUE);
    }
  return 0;
}
