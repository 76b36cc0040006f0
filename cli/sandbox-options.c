/* What run and create share: the options that shape a new sandbox, and
 * the Create call. */
#include "cli.h"
#include "json-fields.h"

#include <string.h>

#define CREATE_DEADLINE_MS (5 * 60 * 1000)

/* "256", "256M", "1G" -> MiB. */
static gboolean
parse_memory (const char *text, gint64 *mb)
{
  char *end = NULL;
  guint64 v = g_ascii_strtoull (text, &end, 10);
  if (end == text)
    return FALSE;
  if (*end == '\0' || g_ascii_strcasecmp (end, "m") == 0 || g_ascii_strcasecmp (end, "mb") == 0
      || g_ascii_strcasecmp (end, "mib") == 0)
    *mb = (gint64) v;
  else if (g_ascii_strcasecmp (end, "g") == 0 || g_ascii_strcasecmp (end, "gb") == 0
           || g_ascii_strcasecmp (end, "gib") == 0)
    *mb = (gint64) v * 1024;
  else
    return FALSE;
  return TRUE;
}

gboolean
cli_memory_mb (const char *verb, const char *memory, gint64 *mb, int *exit_code)
{
  *mb = 0;
  if (memory == NULL || parse_memory (memory, mb))
    return TRUE;
  g_autofree char *msg
      = g_strdup_printf ("--memory: \"%s\" is not a size such as 256M or 1G", memory);
  *exit_code = cli_usage_error_text (verb, msg);
  return FALSE;
}

void
cli_sandbox_options_clear (CliSandboxOptions *o)
{
  g_clear_pointer (&o->name, g_free);
  g_clear_pointer (&o->memory, g_free);
  g_clear_pointer (&o->policy, g_free);
  g_clear_pointer (&o->kernel, g_free);
  g_clear_pointer (&o->network, g_free);
  g_clear_pointer (&o->publish, g_strfreev);
  g_clear_pointer (&o->volumes, g_strfreev);
  g_clear_pointer (&o->mounts, g_strfreev);
  cli_root_options_clear (&o->root);
}

void
cli_root_options_clear (CliRootOptions *r)
{
  g_clear_pointer (&r->rootfs, g_free);
  g_clear_pointer (&r->bundle, g_free);
  g_clear_pointer (&r->image, g_free);
  g_clear_pointer (&r->writable, g_free);
}

void
cli_root_option_entries (CliRootOptions *r, GOptionEntry out[5])
{
  const GOptionEntry entries[] = {
    { "rootfs", 0, 0, G_OPTION_ARG_FILENAME, &r->rootfs,
      "The container's root: this directory (made a read-only disk image once per content)",
      "DIR" },
    { "bundle", 0, 0, G_OPTION_ARG_FILENAME, &r->bundle,
      "The container: this OCI bundle (config.json and its root)", "DIR" },
    { "image", 0, 0, G_OPTION_ARG_FILENAME, &r->image,
      "The container's root: this root filesystem tarball", "FILE.tar" },
    { "writable", 0, 0, G_OPTION_ARG_STRING, &r->writable,
      "Size of the container's writable layer, e.g. 64M (default: half the guest's memory)",
      "SIZE" },
    { NULL },
  };
  memcpy (out, entries, sizeof entries);
}

gboolean
cli_root_params (const char *verb, const CliRootOptions *r, JsonObject *params, int *exit_code)
{
  const char *names[] = { "rootfs", "bundle", "image" };
  const char *values[] = { r->rootfs, r->bundle, r->image };
  int given = 0;
  for (int i = 0; i < 3; i++)
    if (values[i])
      {
        g_autofree char *abs = g_canonicalize_filename (values[i], NULL);
        json_object_set_string_member (params, names[i], abs);
        given++;
      }
  if (given > 1)
    {
      *exit_code = cli_usage_error_text (verb, "give one of --rootfs, --bundle and --image");
      return FALSE;
    }
  gint64 mb = 0;
  if (r->writable && (!parse_memory (r->writable, &mb) || mb <= 0))
    {
      *exit_code = cli_usage_error_text (verb, "--writable takes a size such as 64M or 1G");
      return FALSE;
    }
  if (mb)
    json_object_set_int_member (params, "writable_mb", mb);
  return TRUE;
}

GOptionEntry *
cli_sandbox_option_entries (CliSandboxOptions *o, const GOptionEntry *own)
{
  const GOptionEntry shared[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &o->name, "Name the sandbox", "NAME" },
    { "memory", 'm', 0, G_OPTION_ARG_STRING, &o->memory, "Guest memory, e.g. 256M or 1G", "SIZE" },
    { "cpus", 0, 0, G_OPTION_ARG_INT, &o->cpus, "Guest vCPUs", "N" },
    { "policy", 0, 0, G_OPTION_ARG_STRING, &o->policy,
      "The policy confining its QEMU (default: sandboxd's, normally \"default\")", "NAME" },
    { "kernel", 0, 0, G_OPTION_ARG_STRING, &o->kernel,
      "The guest kernel it boots (sandboxctl kernels; default: sandboxd's default)", "NAME" },
    { "pids", 0, 0, G_OPTION_ARG_INT, &o->pids,
      "Lower its QEMU's pids limit (a policy's limits can be tightened, never loosened)", "N" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &o->network,
      "none (default), user (outbound NAT through a libslirp helper) or ns:PATH (join that network "
      "namespace, e.g. /run/netns/NAME)",
      "MODE" },
    { "publish", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &o->publish,
      "Publish a guest port on the host, as docker: [HOST_IP:]HOST_PORT:GUEST_PORT[/tcp|/udp] "
      "(repeatable; implies --network user)",
      "SPEC" },
    { "volume", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &o->volumes,
      "Share a host directory, or a named volume (sandboxctl volume; made if missing), with the "
      "guest, live (virtio-fs), as docker: HOST_DIR|NAME:PATH[:ro|:rw] (in the container, or the "
      "guest's PATH without one; repeatable)",
      "SPEC" },
    { "mount", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->mounts,
      "The same, as docker's --mount: type=bind,source=HOST_DIR,target=PATH[,readonly] or "
      "type=volume,source=NAME,... (repeatable)",
      "SPEC" },
  };
  GArray *all = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  g_array_append_vals (all, shared, G_N_ELEMENTS (shared));
  GOptionEntry root[5];
  cli_root_option_entries (&o->root, root);
  g_array_append_vals (all, root, 4);
  for (const GOptionEntry *e = own; e && e->long_name; e++)
    g_array_append_val (all, *e);
  return (GOptionEntry *) g_array_free (all, FALSE);
}

/* A host directory is a path ("/srv/db", "./data"); anything else names
 * a volume (sandboxctl volume), as docker has it. */
static gboolean
is_host_dir (const char *source)
{
  return source[0] == '/' || source[0] == '.';
}

static JsonObject *
volume_json (const char *source, const char *dest, gboolean readonly)
{
  JsonObject *v = json_object_new ();
  g_autofree char *abs = g_canonicalize_filename (source, NULL);
  if (is_host_dir (source))
    json_object_set_string_member (v, "source", abs);
  else
    json_object_set_string_member (v, "name", source);
  json_object_set_string_member (v, "destination", dest);
  if (readonly)
    json_object_set_boolean_member (v, "readonly", TRUE);
  return v;
}

/* -v HOST_DIR|NAME:PATH[:ro|:rw] and --mount type=bind|volume,source=,
 * target=[,readonly] into Create's "volumes". */
static gboolean
volume_params (const char *verb, const CliSandboxOptions *o, JsonObject *params, int *exit_code)
{
  JsonArray *volumes = json_array_new ();
  for (char **v = o->volumes; v && *v; v++)
    {
      g_auto (GStrv) f = g_strsplit (*v, ":", -1);
      guint n = g_strv_length (f);
      if (n < 2 || n > 3 || !*f[0] || !*f[1]
          || (n == 3 && !g_str_equal (f[2], "ro") && !g_str_equal (f[2], "rw")))
        {
          g_autofree char *msg = g_strdup_printf (
              "-v %s: expected HOST_DIR:PATH[:ro|:rw] or NAME:PATH[:ro|:rw]", *v);
          *exit_code = cli_usage_error_text (verb, msg);
          json_array_unref (volumes);
          return FALSE;
        }
      json_array_add_object_element (volumes,
                                     volume_json (f[0], f[1], n == 3 && g_str_equal (f[2], "ro")));
    }
  for (char **m = o->mounts; m && *m; m++)
    {
      g_auto (GStrv) f = g_strsplit (*m, ",", -1);
      const char *type = NULL, *source = NULL, *target = NULL;
      gboolean readonly = FALSE, bad = FALSE;
      for (char **kv = f; *kv && !bad; kv++)
        {
          char *eq = strchr (*kv, '=');
          const char *key = *kv, *value = eq ? eq + 1 : NULL;
          if (eq)
            *eq = '\0';
          if (g_str_equal (key, "type") && value)
            type = value;
          else if ((g_str_equal (key, "source") || g_str_equal (key, "src")) && value)
            source = value;
          else if ((g_str_equal (key, "target") || g_str_equal (key, "dst")
                    || g_str_equal (key, "destination"))
                   && value)
            target = value;
          else if (g_str_equal (key, "readonly") || g_str_equal (key, "ro"))
            readonly = value == NULL || g_str_equal (value, "true") || g_str_equal (value, "1");
          else
            bad = TRUE;
        }
      /* type=bind names a host directory; type=volume a named volume. */
      if (bad || !source || !target
          || !(g_strcmp0 (type, "bind") == 0
                   ? is_host_dir (source)
                   : g_strcmp0 (type, "volume") == 0 && !is_host_dir (source)))
        {
          g_autofree char *msg = g_strdup_printf (
              "--mount %s: expected type=bind,source=HOST_DIR,target=PATH[,readonly] or "
              "type=volume,source=NAME,target=PATH[,readonly]",
              *m);
          *exit_code = cli_usage_error_text (verb, msg);
          json_array_unref (volumes);
          return FALSE;
        }
      json_array_add_object_element (volumes, volume_json (source, target, readonly));
    }
  if (json_array_get_length (volumes))
    json_object_set_array_member (params, "volumes", volumes);
  else
    json_array_unref (volumes);
  return TRUE;
}

JsonObject *
cli_create_sandbox (const CliGlobals *globals, RpcClient *client, const char *verb,
                    const CliSandboxOptions *o, gboolean auto_remove, int *exit_code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) params = json_object_new ();
  gint64 memory_mb;
  if (!cli_memory_mb (verb, o->memory, &memory_mb, exit_code))
    return NULL;
  if (o->name)
    json_object_set_string_member (params, "name", o->name);
  if (memory_mb)
    json_object_set_int_member (params, "memory_mb", memory_mb);
  if (o->cpus)
    json_object_set_int_member (params, "cpus", o->cpus);
  if (o->pids)
    json_object_set_int_member (params, "pids", o->pids);
  if (o->policy)
    json_object_set_string_member (params, "policy", o->policy);
  if (o->kernel)
    json_object_set_string_member (params, "kernel", o->kernel);
  if (auto_remove)
    json_object_set_boolean_member (params, "auto_remove", TRUE);
  if (o->network)
    json_object_set_string_member (params, "network", o->network);
  json_field_set_strv (params, "ports", o->publish);
  if (!volume_params (verb, o, params, exit_code)
      || !cli_root_params (verb, &o->root, params, exit_code))
    return NULL;
  CliImageProgress *progress = cli_image_progress_start (globals->address, client, params);
  JsonObject *sb
      = rpc_client_call (client, "sandbox.v1.Sandboxes.Create", params, CREATE_DEADLINE_MS, &error);
  cli_image_progress_stop (progress);
  if (sb == NULL)
    *exit_code = cli_fail (error);
  return sb;
}
