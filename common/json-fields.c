#include "json-fields.h"

#include <string.h>

GQuark
json_field_error_quark (void)
{
  return g_quark_from_static_string ("json-field-error-quark");
}

gboolean
json_text_check_depth (const char *text, gssize len, guint max_depth, GError **error)
{
  gsize n = len < 0 ? strlen (text) : (gsize) len;
  guint depth = 0;
  gboolean in_string = FALSE, escaped = FALSE;
  for (gsize i = 0; i < n; i++)
    {
      char c = text[i];
      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            {
              g_set_error (error, JSON_FIELD_ERROR, JSON_FIELD_ERROR_DEPTH,
                           "arrays and objects nest deeper than %u levels", max_depth);
              return FALSE;
            }
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

/* Returns the member, NULL if absent or null. */
static JsonNode *
lookup (JsonObject *obj, const char *name, gboolean required, gboolean *ok, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  *ok = TRUE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        {
          g_set_error (error, JSON_FIELD_ERROR, JSON_FIELD_ERROR_MISSING,
                       "field \"%s\" is required", name);
          *ok = FALSE;
        }
      return NULL;
    }
  return node;
}

static gboolean
type_error (const char *name, const char *expected, GError **error)
{
  g_set_error (error, JSON_FIELD_ERROR, JSON_FIELD_ERROR_TYPE, "field \"%s\" must be %s", name,
               expected);
  return FALSE;
}

static gboolean
holds (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

gboolean
json_field_string (JsonObject *obj, const char *name, gboolean required, const char **out,
                   GError **error)
{
  gboolean ok;
  JsonNode *node = lookup (obj, name, required, &ok, error);
  if (node == NULL)
    return ok;
  if (!holds (node, G_TYPE_STRING))
    return type_error (name, "a string", error);
  *out = json_node_get_string (node);
  return TRUE;
}

gboolean
json_field_int (JsonObject *obj, const char *name, gboolean required, gint64 min, gint64 max,
                gint64 *out, GError **error)
{
  gboolean ok;
  JsonNode *node = lookup (obj, name, required, &ok, error);
  if (node == NULL)
    return ok;
  if (!holds (node, G_TYPE_INT64))
    return type_error (name, "an integer", error);
  gint64 v = json_node_get_int (node);
  if (v < min || v > max)
    {
      g_set_error (error, JSON_FIELD_ERROR, JSON_FIELD_ERROR_RANGE,
                   "field \"%s\" is %" G_GINT64_FORMAT ", outside %" G_GINT64_FORMAT
                   "..%" G_GINT64_FORMAT,
                   name, v, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

gboolean
json_field_bool (JsonObject *obj, const char *name, gboolean required, gboolean *out,
                 GError **error)
{
  gboolean ok;
  JsonNode *node = lookup (obj, name, required, &ok, error);
  if (node == NULL)
    return ok;
  if (!holds (node, G_TYPE_BOOLEAN))
    return type_error (name, "a boolean", error);
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
json_field_strv (JsonObject *obj, const char *name, gboolean required, char ***out, GError **error)
{
  gboolean ok;
  JsonNode *node = lookup (obj, name, required, &ok, error);
  if (node == NULL)
    return ok;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return type_error (name, "an array of strings", error);
  JsonArray *arr = json_node_get_array (node);
  guint n = json_array_get_length (arr);
  g_autoptr (GPtrArray) v = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *el = json_array_get_element (arr, i);
      if (!holds (el, G_TYPE_STRING))
        {
          g_autofree char *what = g_strdup_printf ("%s[%u]", name, i);
          return type_error (what, "a string", error);
        }
      g_ptr_array_add (v, g_strdup (json_node_get_string (el)));
    }
  g_ptr_array_add (v, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&v), FALSE);
  return TRUE;
}

gboolean
json_field_object (JsonObject *obj, const char *name, gboolean required, JsonObject **out,
                   GError **error)
{
  gboolean ok;
  JsonNode *node = lookup (obj, name, required, &ok, error);
  if (node == NULL)
    return ok;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return type_error (name, "an object", error);
  *out = json_node_get_object (node);
  return TRUE;
}

void
json_field_set_strv (JsonObject *obj, const char *name, char **strv)
{
  if (strv == NULL)
    return;
  JsonArray *a = json_array_new ();
  for (char **s = strv; *s; s++)
    json_array_add_string_element (a, *s);
  json_object_set_array_member (obj, name, a);
}
