#include "rpc-schema.h"

#include <string.h>

/* rpc-schema-data.c, generated from sandbox.v1.json by tools/embed-text.py. */
extern const char rpc_schema_json[];

struct RpcSchema
{
  JsonNode *root;
  char *api;
  GHashTable *methods; /* "sandbox.v1.S.M" -> params JsonObject (borrowed) */
};

void
rpc_schema_free (RpcSchema *schema)
{
  if (schema == NULL)
    return;
  g_hash_table_destroy (schema->methods);
  json_node_unref (schema->root);
  g_free (schema->api);
  g_free (schema);
}

RpcSchema *
rpc_schema_new_from_data (const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json, -1, error))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *services = obj ? json_object_get_member (obj, "services") : NULL;
  if (obj == NULL || services == NULL || !JSON_NODE_HOLDS_OBJECT (services))
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "schema has no \"services\" object");
      return NULL;
    }
  RpcSchema *s = g_new0 (RpcSchema, 1);
  s->root = json_node_copy (root);
  obj = json_node_get_object (s->root);
  s->api = g_strdup (json_object_get_string_member_with_default (obj, "api", "sandbox.v1"));
  s->methods = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonObject *svcs = json_object_get_object_member (obj, "services");
  GList *snames = json_object_get_members (svcs);
  for (GList *sl = snames; sl; sl = sl->next)
    {
      JsonObject *svc = json_object_get_object_member (svcs, sl->data);
      GList *mnames = json_object_get_members (svc);
      for (GList *ml = mnames; ml; ml = ml->next)
        {
          JsonObject *m = json_object_get_object_member (svc, ml->data);
          JsonObject *params = json_object_get_object_member (m, "params");
          g_hash_table_insert (
              s->methods,
              g_strdup_printf ("%s.%s.%s", s->api, (char *) sl->data, (char *) ml->data), params);
        }
      g_list_free (mnames);
    }
  g_list_free (snames);
  return s;
}

RpcSchema *
rpc_schema_get_default (void)
{
  static RpcSchema *schema;
  if (g_once_init_enter (&schema))
    {
      g_autoptr (GError) error = NULL;
      RpcSchema *s = rpc_schema_new_from_data (rpc_schema_json, &error);
      if (s == NULL)
        g_error ("the built-in schema is broken: %s", error->message);
      g_once_init_leave (&schema, s);
    }
  return schema;
}

static gboolean invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT, msg);
  return FALSE;
}

static gboolean
is_value (JsonNode *n, GType t)
{
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == t;
}

static gboolean
in_enum (JsonObject *spec, const char *value)
{
  if (!json_object_has_member (spec, "enum"))
    return TRUE;
  JsonArray *e = json_object_get_array_member (spec, "enum");
  for (guint i = 0; i < json_array_get_length (e); i++)
    if (g_strcmp0 (json_array_get_string_element (e, i), value) == 0)
      return TRUE;
  return FALSE;
}

/* @value as an array of at most the spec's "max" items, or NULL. */
static JsonArray *
bounded_array (const char *name, JsonObject *spec, JsonNode *value, const char *items,
               GError **error)
{
  if (!JSON_NODE_HOLDS_ARRAY (value))
    {
      invalid (error, "field \"%s\" must be an array of %s", name, items);
      return NULL;
    }
  JsonArray *a = json_node_get_array (value);
  gint64 max = json_object_get_int_member_with_default (spec, "max", G_MAXINT64);
  if ((gint64) json_array_get_length (a) > max)
    {
      invalid (error, "field \"%s\" has %u items, at most %" G_GINT64_FORMAT, name,
               json_array_get_length (a), max);
      return NULL;
    }
  return a;
}

static gboolean
check_field (const char *name, JsonObject *spec, JsonNode *value, GError **error)
{
  const char *type = json_object_get_string_member_with_default (spec, "type", "");
  if (g_str_equal (type, "string"))
    {
      if (!is_value (value, G_TYPE_STRING))
        return invalid (error, "field \"%s\" must be a string", name);
      if (!in_enum (spec, json_node_get_string (value)))
        return invalid (error, "field \"%s\": \"%s\" is not one of the allowed values", name,
                        json_node_get_string (value));
      return TRUE;
    }
  if (g_str_equal (type, "integer"))
    {
      if (!is_value (value, G_TYPE_INT64))
        return invalid (error, "field \"%s\" must be an integer", name);
      gint64 v = json_node_get_int (value);
      gint64 min = json_object_get_int_member_with_default (spec, "min", G_MININT64);
      gint64 max = json_object_get_int_member_with_default (spec, "max", G_MAXINT64);
      if (v < min || v > max)
        return invalid (error,
                        "field \"%s\" is %" G_GINT64_FORMAT ", outside %" G_GINT64_FORMAT
                        "..%" G_GINT64_FORMAT,
                        name, v, min, max);
      return TRUE;
    }
  if (g_str_equal (type, "boolean"))
    return is_value (value, G_TYPE_BOOLEAN)
               ? TRUE
               : invalid (error, "field \"%s\" must be a boolean", name);
  if (g_str_equal (type, "array<string>"))
    {
      JsonArray *a = bounded_array (name, spec, value, "strings", error);
      if (a == NULL)
        return FALSE;
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!is_value (json_array_get_element (a, i), G_TYPE_STRING))
          return invalid (error, "field \"%s[%u]\" must be a string", name, i);
      return TRUE;
    }
  if (g_str_equal (type, "array<integer>"))
    {
      JsonArray *a = bounded_array (name, spec, value, "integers", error);
      if (a == NULL)
        return FALSE;
      gint64 item_min = json_object_get_int_member_with_default (spec, "item_min", G_MININT64);
      gint64 item_max = json_object_get_int_member_with_default (spec, "item_max", G_MAXINT64);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (!is_value (e, G_TYPE_INT64) || json_node_get_int (e) < item_min
              || json_node_get_int (e) > item_max)
            return invalid (error,
                            "field \"%s[%u]\" must be an integer within %" G_GINT64_FORMAT
                            "..%" G_GINT64_FORMAT,
                            name, i, item_min, item_max);
        }
      return TRUE;
    }
  if (g_str_equal (type, "array<object>"))
    {
      JsonArray *a = bounded_array (name, spec, value, "objects", error);
      if (a == NULL)
        return FALSE;
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (a, i)))
          return invalid (error, "field \"%s[%u]\" must be an object", name, i);
      return TRUE;
    }
  if (g_str_equal (type, "object"))
    return JSON_NODE_HOLDS_OBJECT (value) ? TRUE
                                          : invalid (error, "field \"%s\" must be an object", name);
  g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "schema: field \"%s\" has unknown type %s",
               name, type);
  return FALSE;
}

gboolean
rpc_schema_validate (RpcSchema *schema, const char *method, JsonObject *params, GError **error)
{
  JsonObject *spec = g_hash_table_lookup (schema->methods, method);
  if (spec == NULL)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_UNIMPLEMENTED, "unknown method \"%s\"", method);
      return FALSE;
    }
  /* Unknown fields are refused: a misspelt optional field would otherwise
   * be silently ignored. */
  GList *given = json_object_get_members (params);
  for (GList *l = given; l; l = l->next)
    {
      const char *name = l->data;
      JsonNode *value = json_object_get_member (params, name);
      if (!json_object_has_member (spec, name))
        {
          invalid (error, "unknown field \"%s\" for %s", name, method);
          g_list_free (given);
          return FALSE;
        }
      if (JSON_NODE_HOLDS_NULL (value))
        continue;
      if (!check_field (name, json_object_get_object_member (spec, name), value, error))
        {
          g_list_free (given);
          return FALSE;
        }
    }
  g_list_free (given);

  GList *fields = json_object_get_members (spec);
  for (GList *l = fields; l; l = l->next)
    {
      JsonObject *f = json_object_get_object_member (spec, l->data);
      JsonNode *v = json_object_get_member (params, l->data);
      if (json_object_get_boolean_member_with_default (f, "required", FALSE)
          && (v == NULL || JSON_NODE_HOLDS_NULL (v)))
        {
          invalid (error, "field \"%s\" is required", (char *) l->data);
          g_list_free (fields);
          return FALSE;
        }
    }
  g_list_free (fields);
  return TRUE;
}

JsonObject *
rpc_schema_complete (RpcSchema *schema, const char *method, JsonObject *params)
{
  JsonObject *out = json_object_new ();
  GList *given = json_object_get_members (params);
  for (GList *l = given; l; l = l->next)
    json_object_set_member (out, l->data,
                            json_node_copy (json_object_get_member (params, l->data)));
  g_list_free (given);
  JsonObject *spec = g_hash_table_lookup (schema->methods, method);
  GList *fields = spec ? json_object_get_members (spec) : NULL;
  for (GList *l = fields; l; l = l->next)
    {
      JsonObject *f = json_object_get_object_member (spec, l->data);
      JsonNode *v = json_object_get_member (out, l->data);
      if (json_object_has_member (f, "default") && (v == NULL || JSON_NODE_HOLDS_NULL (v)))
        json_object_set_member (out, l->data,
                                json_node_copy (json_object_get_member (f, "default")));
    }
  g_list_free (fields);
  return out;
}

gint64
rpc_schema_field_max (RpcSchema *schema, const char *method, const char *field)
{
  JsonObject *spec = g_hash_table_lookup (schema->methods, method);
  JsonNode *f = spec ? json_object_get_member (spec, field) : NULL;
  return f && JSON_NODE_HOLDS_OBJECT (f)
             ? json_object_get_int_member_with_default (json_node_get_object (f), "max", -1)
             : -1;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GStrv
rpc_schema_list_methods (RpcSchema *schema)
{
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, schema->methods);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (names, FALSE);
}
