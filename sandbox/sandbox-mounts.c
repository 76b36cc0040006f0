/* A container's read-only host directories (config.json bind mounts that
 * became images): each image its own read-only SCSI disk, hot-plugged
 * before the agent is asked for the container (at boot too) and detached
 * with it. The disk's id and SCSI target go into the spec's mount entry
 * ("disk_id", "scsi_id"): the agent finds the disk by its target, and
 * state.json keeps both for a restarted sandboxd. */
#include "sandbox-private.h"

typedef struct
{
  guint pending;
  GError *error;
  SandboxMountsDone done;
  gpointer data;
} Attach;

static gboolean
is_image (JsonNode *n)
{
  JsonObject *m = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
  return m && g_strcmp0 (json_object_get_string_member_with_default (m, "type", ""), "image") == 0
         && json_object_has_member (m, "image");
}

static JsonArray *
mounts_of (JsonObject *spec)
{
  JsonNode *n = json_object_get_member (spec, "mounts");
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static void
on_attached (Sandbox *sb, JsonObject *result, const GError *error, gpointer data)
{
  Attach *a = data;
  if (result)
    json_object_unref (result);
  if (error && a->error == NULL)
    a->error = g_error_copy (error);
  if (--a->pending > 0)
    return;
  a->done (sb, a->error, a->data);
  g_clear_error (&a->error);
  g_free (a);
}

void
sandbox_mounts_attach (Sandbox *sb, JsonObject *spec, SandboxMountsDone done, gpointer data)
{
  Attach *a = g_new0 (Attach, 1);
  a->pending = 1; /* this call's own, dropped at the end */
  a->done = done;
  a->data = data;
  JsonArray *mounts = mounts_of (spec);
  for (guint i = 0; mounts && i < json_array_get_length (mounts) && a->error == NULL; i++)
    {
      JsonNode *n = json_array_get_element (mounts, i);
      JsonObject *m = is_image (n) ? json_node_get_object (n) : NULL;
      if (m == NULL || json_object_has_member (m, "disk_id"))
        continue;
      a->pending++;
      const char *id = sandbox_disk_attach (sb, json_object_get_string_member (m, "image"), TRUE,
                                            on_attached, a, &a->error);
      if (id == NULL)
        {
          a->pending--;
          g_prefix_error (&a->error, "%s: ", json_object_get_string_member (m, "destination"));
          break;
        }
      json_object_set_string_member (m, "disk_id", id);
      json_object_set_int_member (m, "scsi_id", sandbox_disk_scsi_id (sb, id));
    }
  on_attached (sb, NULL, NULL, a);
}

static void
on_detached (Sandbox *sb, JsonObject *result, const GError *error, gpointer data)
{
  if (result)
    json_object_unref (result);
}

void
sandbox_mounts_detach (Sandbox *sb, JsonObject *spec)
{
  JsonArray *mounts = mounts_of (spec);
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonNode *n = json_array_get_element (mounts, i);
      JsonObject *m = is_image (n) ? json_node_get_object (n) : NULL;
      const char *id = m ? json_object_get_string_member_with_default (m, "disk_id", NULL) : NULL;
      if (id == NULL)
        continue;
      /* Best effort: a sandbox that is going takes its disks with it. */
      sandbox_disk_detach (sb, id, on_detached, NULL, NULL);
      json_object_remove_member (m, "scsi_id");
      json_object_remove_member (m, "disk_id");
    }
}

void
sandbox_mounts_add_images (JsonObject *spec, GHashTable *paths)
{
  JsonArray *mounts = mounts_of (spec);
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonNode *n = json_array_get_element (mounts, i);
      if (is_image (n))
        g_hash_table_add (
            paths, g_strdup (json_object_get_string_member (json_node_get_object (n), "image")));
    }
}

gboolean
sandbox_mounts_hold_disk (JsonObject *spec, const char *disk_id)
{
  JsonArray *mounts = mounts_of (spec);
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonNode *n = json_array_get_element (mounts, i);
      if (is_image (n)
          && g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (n),
                                                                    "disk_id", NULL),
                        disk_id)
                 == 0)
        return TRUE;
    }
  return FALSE;
}
