/* sandboxctl volume create|ls|inspect|rm|prune: the caller's named volumes
 * (docker volume's verbs). run and create take one as -v NAME:PATH. */
#include "cli.h"

#include <stdio.h>

static JsonObject *
named (const char *name)
{
  JsonObject *p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  return p;
}

/* Calls @method for each name; prints the name, or each answer as JSON. */
static int
for_each_name (const CliGlobals *globals, const char *verb, const char *method, int argc,
               char **argv, gboolean print_json)
{
  if (argc < 2)
    return cli_usage_error_text (verb, "a volume name is required");
  int code = 0;
  JsonArray *all = json_array_new ();
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (JsonObject) params = named (argv[i]);
      int one = 0;
      JsonObject *res = cli_call (globals, method, params, &one);
      if (res == NULL)
        {
          code = one;
          continue;
        }
      if (print_json)
        json_array_add_object_element (all, res);
      else
        {
          printf ("%s\n", argv[i]);
          json_object_unref (res);
        }
    }
  if (print_json)
    cli_print_json_array (all);
  json_array_unref (all);
  return code;
}

static int
volume_ls (const CliGlobals *globals, int argc, char **argv)
{
  gboolean quiet = FALSE;
  int code = 0;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print names only", NULL },
    { NULL },
  };
  if (!cli_parse ("volume ls", "[-q]", "List your named volumes, with their size and users.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return cli_usage_error_text ("volume ls", "no arguments expected");
  g_autoptr (JsonObject) res = cli_call (globals, "sandbox.v1.Volumes.List", NULL, &code);
  if (res == NULL)
    return code;
  JsonArray *all = json_object_get_array_member (res, "volumes");
  if (globals->json)
    {
      cli_print_json_array (all);
      return 0;
    }
  if (!quiet)
    printf ("%-24s %9s  %-20s %s\n", "NAME", "SIZE", "CREATED", "USED BY");
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonObject *v = json_array_get_object_element (all, i);
      const char *name = json_object_get_string_member_with_default (v, "name", "?");
      if (quiet)
        {
          printf ("%s\n", name);
          continue;
        }
      g_autofree char *by = cli_join_names (json_object_get_array_member (v, "used_by"));
      printf ("%-24s %8.1fM  %-20s %s\n", name,
              json_object_get_int_member_with_default (v, "bytes", 0) / 1048576.0,
              json_object_get_string_member_with_default (v, "created", "?"), by);
    }
  return 0;
}

static int
volume_prune (const CliGlobals *globals, int argc, char **argv)
{
  if (argc > 1)
    return cli_usage_error_text ("volume prune", "no arguments expected");
  int code = 0;
  g_autoptr (JsonObject) res = cli_call (globals, "sandbox.v1.Volumes.Prune", NULL, &code);
  if (res == NULL)
    return code;
  cli_print_pruned (globals, res);
  return 0;
}

static const struct
{
  const char *name, *args, *help;
} verbs[] = {
  { "create", "NAME", "Make a named volume (run -v NAME:PATH makes one too)" },
  { "ls", "[-q]", "List your named volumes" },
  { "inspect", "NAME...", "Show named volumes as JSON" },
  { "rm", "NAME...", "Remove named volumes (not one a sandbox uses)" },
  { "prune", "", "Remove every named volume no sandbox uses" },
};

static int
usage (const char *why)
{
  g_autoptr (GString) text = g_string_new (NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    g_string_append_printf (text, "  volume %-8s %-8s %s\n", verbs[i].name, verbs[i].args,
                            verbs[i].help);
  if (why == NULL)
    {
      printf ("Usage: sandboxctl volume COMMAND\n\nNamed volumes: directories sandboxd keeps "
              "(under its state dir), shared\nlive with the sandboxes that name them, kept "
              "after them.\n\n%s",
              text->str);
      return 0;
    }
  g_autofree char *msg = g_strdup_printf ("%s\n%s", why, text->str);
  return cli_usage_error_text ("volume", msg);
}

int
cli_volume (const CliGlobals *globals, int argc, char **argv)
{
  if (argc < 2)
    return usage ("a command is required");
  const char *verb = argv[1];
  argc--;
  argv++;
  if (g_str_equal (verb, "--help") || g_str_equal (verb, "-h") || g_str_equal (verb, "help"))
    return usage (NULL);
  if (g_str_equal (verb, "ls") || g_str_equal (verb, "list"))
    return volume_ls (globals, argc, argv);
  if (g_str_equal (verb, "prune"))
    return volume_prune (globals, argc, argv);
  if (g_str_equal (verb, "create"))
    {
      if (argc != 2)
        return cli_usage_error_text ("volume create", "exactly one volume name is expected");
      return for_each_name (globals, "volume create", "sandbox.v1.Volumes.Create", argc, argv,
                            globals->json);
    }
  if (g_str_equal (verb, "inspect"))
    return for_each_name (globals, "volume inspect", "sandbox.v1.Volumes.Get", argc, argv, TRUE);
  if (g_str_equal (verb, "rm") || g_str_equal (verb, "remove"))
    return for_each_name (globals, "volume rm", "sandbox.v1.Volumes.Delete", argc, argv,
                          globals->json);
  g_autofree char *why = g_strdup_printf ("unknown command \"%s\"", verb);
  return usage (why);
}
