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

gboolean
only_known (JsonObject *o, const char *path, const char *const *known, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (known, l->data))
      return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                         "%s%s%s is not supported by sandboxd", path, *path ? "." : "",
                         (const char *) l->data);
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
