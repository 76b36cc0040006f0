#include "tenants.h"

#include "json-fields.h"

#include <json-glib/json-glib.h>
#include <string.h>

const char *const tenant_quota_names[TENANT_QUOTA_N]
    = { "sandboxes", "memory_mb", "cpus", "image_mb", "output_mb", "volume_mb" };

/* A tenant's name is a directory name and part of a socket's path. */
#define TENANT_NAME_MAX 32
#define TENANTS_FILE_MAX (1 << 20)

void
tenant_free (Tenant *t)
{
  if (t == NULL)
    return;
  g_free (t->name);
  g_free (t->default_policy);
  g_strfreev (t->policies);
  g_free (t);
}

gboolean
tenant_may_use_policy (const Tenant *t, const char *name)
{
  if (t->default_policy && g_str_equal (t->default_policy, name))
    return TRUE;
  return t->policies && g_strv_contains ((const char *const *) t->policies, name);
}

/* Members not in @known are refused by name: a misspelt quota must not
 * leave a tenant unlimited. */
static gboolean
only_known (JsonObject *o, const char *const *known, const char *where, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (known, l->data))
      {
        g_autofree char *list = g_strjoinv (", ", (char **) known);
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "%s%s: unknown field (known: %s)", where, (char *) l->data, list);
        return FALSE;
      }
  return TRUE;
}

static gboolean
valid_name (const char *name)
{
  if (!g_ascii_isalnum (name[0]) || strlen (name) > TENANT_NAME_MAX)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
read_quota (JsonObject *o, Tenant *t, GError **error)
{
  for (guint q = 0; q < TENANT_QUOTA_N; q++)
    t->quota[q] = -1;
  JsonObject *quota = NULL;
  if (!json_field_object (o, "quota", FALSE, &quota, error))
    return FALSE;
  if (quota == NULL)
    return TRUE;
  if (!only_known (quota, tenant_quota_names, "quota.", error))
    return FALSE;
  for (guint q = 0; q < TENANT_QUOTA_N; q++)
    if (!json_field_int (quota, tenant_quota_names[q], FALSE, 0, G_MAXINT32, &t->quota[q], error))
      {
        g_prefix_error (error, "quota.");
        return FALSE;
      }
  return TRUE;
}

static Tenant *
read_tenant (JsonObject *o, GError **error)
{
  static const char *const known[]
      = { "name", "uid", "gid", "default_policy", "policies", "quota", NULL };
  const char *name = NULL, *policy = NULL;
  gint64 uid = 0, gid = -1;
  g_auto (GStrv) policies = NULL;
  if (!only_known (o, known, "", error) || !json_field_string (o, "name", TRUE, &name, error)
      || !json_field_int (o, "uid", TRUE, 0, G_MAXUINT32 - 1, &uid, error)
      || !json_field_int (o, "gid", FALSE, 0, G_MAXUINT32 - 1, &gid, error)
      || !json_field_string (o, "default_policy", FALSE, &policy, error)
      || !json_field_strv (o, "policies", FALSE, &policies, error))
    return NULL;
  if (g_str_equal (name, "by-uid"))
    {
      /* RUNTIME_DIR/tenants/by-uid/UID names each tenant's socket: a tenant
       * of that name would own the directory and redirect the others. */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "name: \"by-uid\" is reserved (it names the directory of every tenant's "
                   "socket link)");
      return NULL;
    }
  if (!valid_name (name))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "name: \"%s\" is not a tenant name (letters, digits, '-', '_'; starting with "
                   "a letter or digit; at most %d)",
                   name, TENANT_NAME_MAX);
      return NULL;
    }
  if (uid == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "uid: 0 is root, the admin (RUNTIME_DIR/rpc.sock), not a tenant");
      return NULL;
    }
  Tenant *t = g_new0 (Tenant, 1);
  t->name = g_strdup (name);
  fs_creds_for_user (&t->creds, (uid_t) uid, gid >= 0 ? (gid_t) gid : (gid_t) -1);
  t->default_policy = g_strdup (policy);
  t->policies = g_steal_pointer (&policies);
  if (!read_quota (o, t, error))
    {
      tenant_free (t);
      return NULL;
    }
  return t;
}

static GHashTable *
read_tenants (JsonNode *root, GError **error)
{
  static const char *const known[] = { "tenants", NULL };
  JsonArray *list = NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "not a JSON object ({\"tenants\": [...]})");
      return NULL;
    }
  JsonObject *top = json_node_get_object (root);
  JsonNode *n = json_object_get_member (top, "tenants");
  if (!only_known (top, known, "", error))
    return NULL;
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "tenants: missing, or not an array");
      return NULL;
    }
  list = json_node_get_array (n);
  g_autoptr (GHashTable) tenants
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) tenant_free);
  g_autoptr (GHashTable) uids = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *e = json_array_get_element (list, i);
      g_autoptr (GError) local = NULL;
      Tenant *t = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (e))
        g_set_error (&local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "not an object");
      else
        t = read_tenant (json_node_get_object (e), &local);
      const char *other
          = t ? g_hash_table_lookup (uids, GUINT_TO_POINTER (t->creds.uid + 1)) : NULL;
      if (other)
        g_set_error (&local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "uid: %u is tenant %s's already (a uid is one tenant)", (guint) t->creds.uid,
                     other);
      else if (t && g_hash_table_contains (tenants, t->name))
        g_set_error (&local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "name: %s is taken by an earlier tenant", t->name);
      if (local)
        {
          tenant_free (t);
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "tenants[%u].", i);
          return NULL;
        }
      g_hash_table_insert (uids, GUINT_TO_POINTER (t->creds.uid + 1), t->name);
      g_hash_table_insert (tenants, t->name, t);
    }
  return g_steal_pointer (&tenants);
}

GHashTable *
tenants_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (JsonParser) parser = json_parser_new ();
  GHashTable *tenants = NULL;
  if (g_file_get_contents (path, &text, &len, error))
    {
      if (len > TENANTS_FILE_MAX)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "larger than %d bytes",
                     TENANTS_FILE_MAX);
      else if (json_text_check_depth (text, (gssize) len, JSON_MAX_DEPTH, error)
               && json_parser_load_from_data (parser, text, (gssize) len, error))
        tenants = read_tenants (json_parser_get_root (parser), error);
    }
  if (tenants == NULL)
    g_prefix_error (error, "tenants file %s: ", path);
  return tenants;
}
