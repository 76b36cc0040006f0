/* sandboxctl container add|ls|rm: containers inside a running sandbox. */
#include "cli.h"

#include <stdio.h>

#define ADD_DEADLINE_MS (10 * 60 * 1000) /* building a large root's image takes a while */

static int
container_add (const CliGlobals *globals, int argc, char **argv)
{
  g_auto (CliRootOptions) root = { 0 };
  g_autofree char *name = NULL;
  int code = 0;
  GOptionEntry entries[6] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Name the container (required)", "NAME" },
  };
  cli_root_option_entries (&root, entries + 1);
  if (!cli_parse_with_name (
          "container add",
          "[OPTIONS] SANDBOX --name NAME [--rootfs DIR | --bundle DIR | --image FILE.tar]",
          "Add a container to the running sandbox SANDBOX: its root becomes a read-only\n"
          "disk (built once per root, then reused) hot-plugged into the VM, with a\n"
          "writable layer in guest memory and namespaces of its own. Without a root,\n"
          "the built-in busybox one (a tarball meson builds).",
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return cli_usage_error_text ("container add", "name one sandbox");
  if (name == NULL)
    return cli_usage_error_text ("container add", "--name is required");
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "sandbox_id", argv[1]);
  json_object_set_string_member (params, "name", name);
  if (!cli_root_params ("container add", &root, params, &code))
    return code;
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  CliImageProgress *progress = cli_image_progress_start (globals->address, client, params);
  g_autoptr (JsonObject) res
      = rpc_client_call (client, "sandbox.v1.Containers.Add", params, ADD_DEADLINE_MS, &error);
  cli_image_progress_stop (progress);
  if (res == NULL)
    return cli_fail (error);
  if (globals->json)
    cli_print_json (res);
  else
    printf ("%s\n", json_object_get_string_member_with_default (res, "name", name));
  return 0;
}

static int
container_ls (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse ("container ls", "[OPTIONS] SANDBOX",
                  "List the containers of SANDBOX; exec runs in the first by default.", entries,
                  &argc, &argv, &code))
    return code;
  if (argc != 2)
    return cli_usage_error_text ("container ls", "name one sandbox");
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "sandbox_id", argv[1]);
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  g_autoptr (JsonObject) res = rpc_client_call (client, "sandbox.v1.Containers.List", params,
                                                CLI_CALL_DEADLINE_MS, &error);
  if (res == NULL)
    return cli_fail (error);
  JsonArray *all = json_object_get_array_member (res, "containers");
  if (globals->json)
    {
      cli_print_json_array (all);
      return 0;
    }
  printf ("%-20s %-9s %-20s %s\n", "NAME", "STATE", "IMAGE", "ROOT");
  for (guint i = 0; all && i < json_array_get_length (all); i++)
    {
      JsonObject *c = json_array_get_object_element (all, i);
      const char *digest = json_object_get_string_member_with_default (c, "digest", "?");
      g_autofree char *short_digest = g_strndup (digest, 19); /* "sha256:" + 12 */
      printf ("%-20s %-9s %-20s %s\n", json_object_get_string_member_with_default (c, "name", "?"),
              json_object_get_string_member_with_default (c, "state", "?"), short_digest,
              json_object_get_string_member_with_default (c, "root", "?"));
    }
  return 0;
}

static int
container_rm (const CliGlobals *globals, int argc, char **argv)
{
  int code = 0;
  GOptionEntry entries[] = { { NULL } };
  if (!cli_parse ("container rm", "[OPTIONS] SANDBOX NAME...",
                  "Remove containers from SANDBOX: their processes are killed and their disks\n"
                  "detached.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc < 3)
    return cli_usage_error_text ("container rm", "name a sandbox and its containers");
  g_autoptr (GError) client_error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &client_error);
  if (client == NULL)
    return cli_fail (client_error);
  for (int i = 2; i < argc; i++)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_string_member (params, "sandbox_id", argv[1]);
      json_object_set_string_member (params, "name", argv[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) res = rpc_client_call (client, "sandbox.v1.Containers.Remove", params,
                                                    CLI_CALL_DEADLINE_MS, &error);
      if (res == NULL)
        code = cli_fail (error);
      else
        printf ("%s\n", argv[i]);
    }
  return code;
}

int
cli_container (const CliGlobals *globals, int argc, char **argv)
{
  static const struct
  {
    const char *name;
    int (*func) (const CliGlobals *, int, char **);
  } subs[] = { { "add", container_add }, { "ls", container_ls }, { "rm", container_rm } };
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf (out, "Usage: sandboxctl container COMMAND ...\n\n"
                    "Containers inside a sandbox (like a pod's):\n"
                    "  add SANDBOX --name NAME [--rootfs DIR | --bundle DIR | --image FILE.tar]\n"
                    "  ls SANDBOX\n"
                    "  rm SANDBOX NAME...\n\n"
                    "See sandboxctl container COMMAND --help.\n");
      return argc < 2 ? CLI_EXIT_USAGE : 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (subs); i++)
    if (g_str_equal (argv[1], subs[i].name))
      return subs[i].func (globals, argc - 1, argv + 1);
  g_autofree char *msg = g_strdup_printf ("unknown command \"%s\"", argv[1]);
  return cli_usage_error_text ("container", msg);
}
