/* sandboxctl images: the daemon's cache of containers' root images, and
 * images prune. */
#include "cli.h"

#include <stdio.h>

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
  g_autoptr (JsonObject) res = cli_call (globals, "sandbox.v1.Images.Prune", NULL, &code);
  if (res == NULL)
    return code;
  cli_print_pruned (globals, res);
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
  g_autoptr (JsonObject) res = cli_call (globals, "sandbox.v1.Images.List", NULL, &code);
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
      g_autofree char *by = cli_join_names (json_object_get_array_member (image, "used_by"));
      printf ("%-19.19s %8.1fM  %-25s %s\n", digest,
              json_object_get_int_member_with_default (image, "bytes", 0) / 1048576.0,
              json_object_get_string_member_with_default (image, "last_used", "?"), by);
    }
  return 0;
}
