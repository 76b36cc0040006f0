/* spec-fields.c — typed access to config.json's members, each error
 * naming the member by its dotted path: what container-spec.c and
 * container-security.c share. */
#include "container-spec-private.h"

#include <gio/gio.h>
#include <string.h>

GQuark
container_spec_error_quark (void)
{
  return g_quark_from_static_string ("container-spec-error-quark");
}

gboolean
spec_error (GError **error, ContainerSpecError code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, CONTAINER_SPEC_ERROR, code, "config.json: %s", msg);
  return FALSE;
}

/* The properties the OCI runtime spec (1.2) defines, by the path of their
 * object (array indices left out). The spec says a runtime MUST ignore a
 * property it does not know; one it defines and we cannot honour is
 * refused by name, unless its value asks for nothing. */
static const struct
{
  const char *path;
  const char *names;
} spec_properties[] = {
  { "", "ociVersion root mounts process hostname domainname hooks annotations linux solaris "
        "windows vm zos" },
  { "root", "path readonly" },
  { "mounts", "destination source options type uidMappings gidMappings" },
  { "process", "terminal consoleSize cwd env args commandLine rlimits apparmorProfile "
               "capabilities noNewPrivileges oomScoreAdj scheduler selinuxLabel ioPriority "
               "execCPUAffinity user" },
  { "process.user", "uid gid umask additionalGids username" },
  { "process.capabilities", "effective bounding inheritable permitted ambient" },
  { "process.rlimits", "type soft hard" },
  { "hooks", "prestart createRuntime createContainer startContainer poststart poststop" },
  { "linux", "devices uidMappings gidMappings timeOffsets sysctl cgroupsPath resources "
             "rootfsPropagation seccomp namespaces maskedPaths readonlyPaths mountLabel intelRdt "
             "personality memoryPolicy netDevices" },
  { "linux.resources", "devices memory cpu blockIO hugepageLimits network pids rdma unified" },
  { "linux.resources.memory", "limit reservation swap kernel kernelTCP swappiness "
                              "disableOOMKiller useHierarchy checkBeforeUpdate" },
  { "linux.resources.cpu", "shares quota burst period realtimeRuntime realtimePeriod cpus mems "
                           "idle" },
  { "linux.resources.pids", "limit" },
  { "linux.resources.devices", "allow type major minor access" },
  { "linux.seccomp", "defaultAction defaultErrnoRet architectures flags listenerPath "
                     "listenerMetadata syscalls" },
  { "linux.seccomp.syscalls", "names action errnoRet args" },
  { "linux.seccomp.syscalls.args", "index value valueTwo op" },
};

/* @path without its "[N]" parts. */
static char *
spec_path (const char *path)
{
  GString *s = g_string_new (NULL);
  for (const char *c = path; *c; c++)
    if (*c == '[')
      c = strchr (c, ']') ? strchr (c, ']') : c + strlen (c) - 1;
    else
      g_string_append_c (s, *c);
  return g_string_free (s, FALSE);
}

/* Whether the spec defines @name in the object at @path; *@covered FALSE
 * when the table has no such object (then every member not known is
 * refused, as before). */
static gboolean
spec_defines (const char *path, const char *name, gboolean *covered)
{
  g_autofree char *bare = spec_path (path);
  for (gsize i = 0; i < G_N_ELEMENTS (spec_properties); i++)
    if (g_str_equal (spec_properties[i].path, bare))
      {
        *covered = TRUE;
        g_auto (GStrv) names = g_strsplit (spec_properties[i].names, " ", -1);
        return g_strv_contains ((const char *const *) names, name);
      }
  *covered = FALSE;
  return FALSE;
}

void
not_applied (JsonObject *spec, const char *field)
{
  if (!json_object_has_member (spec, "not_applied"))
    json_object_set_array_member (spec, "not_applied", json_array_new ());
  json_array_add_string_element (json_object_get_array_member (spec, "not_applied"), field);
}

/* null, false, 0, "", [], {} or an object of only such: it asks for
 * nothing (Docker and containerd write such defaults). */
gboolean
asks_nothing (JsonNode *n)
{
  switch (json_node_get_node_type (n))
    {
    case JSON_NODE_NULL:
      return TRUE;
    case JSON_NODE_ARRAY:
      return json_array_get_length (json_node_get_array (n)) == 0;
    case JSON_NODE_OBJECT:
      {
        JsonObject *o = json_node_get_object (n);
        g_autoptr (GList) members = json_object_get_members (o);
        for (GList *l = members; l; l = l->next)
          if (!asks_nothing (json_object_get_member (o, l->data)))
            return FALSE;
        return TRUE;
      }
    case JSON_NODE_VALUE:
      {
        GType t = json_node_get_value_type (n);
        if (t == G_TYPE_BOOLEAN)
          return !json_node_get_boolean (n);
        if (t == G_TYPE_INT64)
          return json_node_get_int (n) == 0;
        if (t == G_TYPE_DOUBLE)
          return json_node_get_double (n) == 0;
        return t == G_TYPE_STRING && *json_node_get_string (n) == '\0';
      }
    }
  return FALSE;
}

gboolean
only_known (JsonObject *o, const char *path, const char *const *known, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      gboolean covered = FALSE;
      if (g_strv_contains (known, name))
        continue;
      gboolean defined = spec_defines (path, name, &covered);
      if (covered && !defined)
        continue; /* not the spec's: ignored, as it says */
      if (covered && asks_nothing (json_object_get_member (o, name)))
        continue;
      return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                         "%s%s%s is not supported by sandboxd", path, *path ? "." : "", name);
    }
  return TRUE;
}

JsonNode *
member_of_type (JsonObject *o, const char *path, const char *name, JsonNodeType type,
                gboolean required, GError **error)
{
  static const char *type_names[] = { "an object", "an array", "a value", "null" };
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL)
    {
      if (required)
        spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s%s%s is missing", path,
                    *path ? "." : "", name);
      return NULL;
    }
  if (JSON_NODE_TYPE (n) != type)
    {
      spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s%s%s must be %s", path, *path ? "." : "",
                  name, type_names[type]);
      return NULL;
    }
  return n;
}

gboolean
get_object (JsonObject *o, const char *path, const char *name, JsonObject **out, GError **error)
{
  if (!json_object_has_member (o, name))
    return TRUE;
  JsonNode *n = member_of_type (o, path, name, JSON_NODE_OBJECT, TRUE, error);
  if (n)
    *out = json_node_get_object (n);
  return n != NULL;
}

gboolean
get_value (JsonObject *o, const char *path, const char *name, GType type, JsonNode **out,
           GError **error)
{
  if (!json_object_has_member (o, name))
    return TRUE;
  JsonNode *n = member_of_type (o, path, name, JSON_NODE_VALUE, TRUE, error);
  if (n == NULL)
    return FALSE;
  if (json_node_get_value_type (n) != type)
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s%s%s must be %s", path,
                       *path ? "." : "", name,
                       type == G_TYPE_STRING    ? "a string"
                       : type == G_TYPE_BOOLEAN ? "true or false"
                                                : "an integer");
  *out = n;
  return TRUE;
}

gboolean
get_string (JsonObject *o, const char *path, const char *name, const char **out, GError **error)
{
  JsonNode *n = NULL;
  if (!get_value (o, path, name, G_TYPE_STRING, &n, error))
    return FALSE;
  if (n)
    *out = json_node_get_string (n);
  return TRUE;
}

gboolean
get_int (JsonObject *o, const char *path, const char *name, gint64 min, gint64 *out, GError **error)
{
  JsonNode *n = NULL;
  if (!get_value (o, path, name, G_TYPE_INT64, &n, error))
    return FALSE;
  if (n && json_node_get_int (n) < min)
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                       "%s.%s must be at least %" G_GINT64_FORMAT, path, name, min);
  if (n)
    *out = json_node_get_int (n);
  return TRUE;
}

gboolean
get_strings (JsonObject *o, const char *path, const char *name, JsonObject *into, GError **error)
{
  if (!json_object_has_member (o, name))
    return TRUE;
  JsonNode *n = member_of_type (o, path, name, JSON_NODE_ARRAY, TRUE, error);
  if (n == NULL)
    return FALSE;
  JsonArray *a = json_node_get_array (n);
  JsonArray *copy = json_array_new ();
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          json_array_unref (copy);
          return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s.%s[%u] must be a string",
                             path, name, i);
        }
      json_array_add_string_element (copy, json_node_get_string (e));
    }
  json_object_set_array_member (into, name, copy);
  return TRUE;
}
