/* Containers of a sandbox: each a read-only root image on a SCSI disk (the
 * first on QEMU's command line, later ones hot-plugged), set up by the
 * guest agent in namespaces of its own (guest-agent/agent-container.c). */
#include "sandbox-private.h"

#include "json-fields.h"

#include <string.h>

typedef enum
{
  CONTAINER_CREATING,
  CONTAINER_RUNNING,
  CONTAINER_REMOVING,
  CONTAINER_EXITED, /* its init died: nothing runs in it any more */
} ContainerState;

static const char *state_names[] = { "creating", "running", "removing", "exited" };

struct SandboxContainer
{
  Sandbox *sb;
  char *name;
  JsonObject *spec;
  char *root; /* the host's directory or tarball */
  char *image;
  char *digest;
  gboolean image_built;
  char *disk_id;
  ContainerState state;
  gint64 init_pid;    /* in the guest */
  GTask *task;        /* the add or remove under way */
  GTask *update;      /* the update under way */
  JsonObject *limits; /* ... and what it asked for */
};

void
sandbox_container_free (SandboxContainer *c)
{
  if (c->task)
    sandbox_reply_error (c->task, SANDBOX_ERROR_GONE, "sandbox %s went away", c->sb->name);
  if (c->update)
    sandbox_reply_error (c->update, SANDBOX_ERROR_GONE, "sandbox %s went away", c->sb->name);
  if (c->limits)
    json_object_unref (c->limits);
  json_object_unref (c->spec);
  g_free (c->name);
  g_free (c->root);
  g_free (c->image);
  g_free (c->digest);
  g_free (c->disk_id);
  g_free (c);
}

static SandboxContainer *
find (Sandbox *sb, const char *name)
{
  for (guint i = 0; i < sb->containers->len; i++)
    {
      SandboxContainer *c = sb->containers->pdata[i];
      if (g_str_equal (c->name, name))
        return c;
    }
  return NULL;
}

static JsonObject *
container_json (SandboxContainer *c, gboolean for_state)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "name", c->name);
  json_object_set_string_member (o, "state", state_names[c->state]);
  json_object_set_string_member (o, "root", c->root);
  json_object_set_string_member (o, "image", c->image);
  json_object_set_string_member (o, "digest", c->digest);
  if (c->disk_id)
    json_object_set_string_member (o, "disk_id", c->disk_id);
  if (c->init_pid)
    json_object_set_int_member (o, "pid", c->init_pid);
  if (!for_state)
    json_object_set_boolean_member (o, "image_built", c->image_built);
  json_object_set_object_member (o, "spec", json_object_ref (c->spec));
  return o;
}

JsonArray *
sandbox_containers_to_json (Sandbox *sb, gboolean for_state)
{
  JsonArray *a = json_array_new ();
  for (guint i = 0; i < sb->containers->len; i++)
    {
      SandboxContainer *c = sb->containers->pdata[i];
      if (!for_state || c->state == CONTAINER_RUNNING)
        json_array_add_object_element (a, container_json (c, for_state));
    }
  return a;
}

void
sandbox_add_images_in_use (Sandbox *sb, GHashTable *paths)
{
  for (guint i = 0; i < sb->containers->len; i++)
    {
      SandboxContainer *c = sb->containers->pdata[i];
      if (c->image)
        g_hash_table_add (paths, g_strdup (c->image));
      sandbox_mounts_add_images (c->spec, paths);
    }
}

static SandboxContainer *
container_new (Sandbox *sb, const SandboxContainerConfig *cfg)
{
  SandboxContainer *c = g_new0 (SandboxContainer, 1);
  c->sb = sb;
  c->name = g_strdup (cfg->name);
  c->spec = json_object_ref (cfg->spec);
  c->root = g_strdup (cfg->root);
  c->image = g_strdup (cfg->image);
  c->digest = g_strdup (cfg->digest);
  c->image_built = cfg->image_built;
  c->state = CONTAINER_CREATING;
  g_ptr_array_add (sb->containers, c);
  return c;
}

gboolean
sandbox_container_restore (Sandbox *sb, JsonObject *o, GError **error)
{
  const char *name = NULL, *root = NULL, *image = NULL, *digest = NULL, *disk = NULL;
  JsonObject *spec = NULL;
  gint64 pid = 0;
  if (!json_field_string (o, "name", TRUE, &name, error)
      || !json_field_string (o, "root", TRUE, &root, error)
      || !json_field_string (o, "image", TRUE, &image, error)
      || !json_field_string (o, "digest", TRUE, &digest, error)
      || !json_field_string (o, "disk_id", FALSE, &disk, error)
      || !json_field_int (o, "pid", FALSE, 0, G_MAXINT32, &pid, error)
      || !json_field_object (o, "spec", TRUE, &spec, error))
    return FALSE;
  SandboxContainerConfig cfg
      = { .name = name, .root = root, .image = image, .digest = digest, .spec = spec };
  SandboxContainer *c = container_new (sb, &cfg);
  c->disk_id = g_strdup (disk);
  c->init_pid = pid;
  c->state = CONTAINER_RUNNING;
  return TRUE;
}

static void
remove_record (SandboxContainer *c)
{
  Sandbox *sb = c->sb;
  g_ptr_array_remove (sb->containers, c);
  sb->ops->save (sb);
}

void
sandbox_containers_register (Sandbox *sb, const SandboxContainerConfig *cfg)
{
  container_new (sb, cfg);
}

int
sandbox_containers_boot_disk (Sandbox *sb, SandboxBootDisk *boot, GError **error)
{
  SandboxContainer *c = sb->containers->pdata[0];
  int fd = sandbox_disk_add_boot (sb, c->image, boot, error);
  if (fd < 0)
    {
      g_prefix_error (error, "container %s: ", c->name);
      return -1;
    }
  g_free (c->disk_id);
  c->disk_id = g_strdup (boot->node);
  return fd;
}

/* Asks the agent to set the container up on its disk. */
static gboolean
send_add (SandboxContainer *c, GError **error)
{
  Sandbox *sb = c->sb;
  guint scsi_id = sandbox_disk_scsi_id (sb, c->disk_id);
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "container-add");
  json_object_set_string_member (msg, "name", c->name);
  json_object_set_int_member (msg, "scsi_id", scsi_id);
  JsonObject *spec = json_object_ref (c->spec);
  json_object_set_string_member (spec, "fstype", "erofs");
  if (!json_object_has_member (spec, "hostname"))
    json_object_set_string_member (spec, "hostname", c->name);
  json_object_set_object_member (msg, "spec", spec);
  return agent_channel_send_control (sb->agent, msg, error);
}

/* A disk callback's container (its name is the data), if it is still there. */
static SandboxContainer *
disk_done_container (Sandbox *sb, JsonObject *result, gpointer name)
{
  SandboxContainer *c = find (sb, name);
  g_free (name);
  if (result)
    json_object_unref (result);
  return c;
}

static void detach_disk (SandboxContainer *c);

/* Its root's disk is there, and now its mounts' too: the agent is asked. */
static void
on_mounts_attached (Sandbox *sb, const GError *error, gpointer name)
{
  SandboxContainer *c = disk_done_container (sb, NULL, name);
  if (c == NULL)
    return;
  g_autoptr (GError) send_error = NULL;
  if (error == NULL && send_add (c, &send_error))
    return;
  const char *why = error ? error->message : send_error->message;
  if (sb->state == SANDBOX_BOOTING && c == sb->containers->pdata[0])
    {
      sandbox_part_fail (sb, "container %s: %s", c->name, why);
      return;
    }
  GTask *task = g_steal_pointer (&c->task);
  if (task)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "container %s: %s", c->name, why);
  detach_disk (c);
}

static void on_disk_attached (Sandbox *sb, JsonObject *result, const GError *error, gpointer data);

gboolean
sandbox_containers_start_boot (Sandbox *sb)
{
  if (sb->containers->len == 0)
    return FALSE;
  SandboxContainer *c = sb->containers->pdata[0];
  if (c->disk_id)
    {
      sandbox_mounts_attach (sb, c->spec, on_mounts_attached, g_strdup (c->name));
      return TRUE;
    }
  /* A clone: its root's disk is hot-plugged like a later container's. */
  g_autoptr (GError) error = NULL;
  const char *disk
      = sandbox_disk_attach (sb, c->image, TRUE, on_disk_attached, g_strdup (c->name), &error);
  if (disk == NULL)
    sandbox_part_fail (sb, "container %s: %s", c->name, error->message);
  else
    c->disk_id = g_strdup (disk);
  return TRUE;
}

static void
on_disk_detached (Sandbox *sb, JsonObject *result, const GError *error, gpointer data)
{
  SandboxContainer *c = disk_done_container (sb, result, data);
  if (c == NULL)
    return;
  GTask *task = g_steal_pointer (&c->task);
  if (task && error)
    sandbox_reply_gerror (task, error);
  else if (task)
    {
      JsonObject *res = json_object_new ();
      json_object_set_string_member (res, "name", c->name);
      sandbox_reply_json (task, res);
    }
  remove_record (c);
}

/* The agent let go of the container: its disks go next. */
static void
detach_disk (SandboxContainer *c)
{
  g_autoptr (GError) error = NULL;
  sandbox_mounts_detach (c->sb, c->spec);
  if (c->disk_id
      && sandbox_disk_detach (c->sb, c->disk_id, on_disk_detached, g_strdup (c->name), &error))
    return;
  on_disk_detached (c->sb, NULL, error, g_strdup (c->name));
}

static void
on_disk_attached (Sandbox *sb, JsonObject *result, const GError *error, gpointer data)
{
  SandboxContainer *c = disk_done_container (sb, result, data);
  if (c == NULL)
    return;
  if (error == NULL)
    {
      sandbox_mounts_attach (sb, c->spec, on_mounts_attached, g_strdup (c->name));
      return;
    }
  if (sb->state == SANDBOX_BOOTING && c == sb->containers->pdata[0])
    {
      sandbox_part_fail (sb, "container %s: %s", c->name, error->message);
      return;
    }
  GTask *task = g_steal_pointer (&c->task);
  if (task)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "container %s: %s", c->name, error->message);
  remove_record (c);
}

void
sandbox_add_container_async (Sandbox *sb, const SandboxContainerConfig *cfg,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  if (find (sb, cfg->name))
    {
      sandbox_reply_error (task, SANDBOX_ERROR_EXISTS,
                           "sandbox %s already has a container named \"%s\"", sb->name, cfg->name);
      return;
    }
  SandboxContainer *c = container_new (sb, cfg);
  const char *disk
      = sandbox_disk_attach (sb, cfg->image, TRUE, on_disk_attached, g_strdup (c->name), &error);
  if (disk == NULL)
    {
      sandbox_reply_gerror (task, error);
      g_ptr_array_remove (sb->containers, c);
      return;
    }
  c->disk_id = g_strdup (disk);
  c->task = task;
}

void
sandbox_update_container_async (Sandbox *sb, const char *name, JsonObject *limits,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  SandboxContainer *c = name                  ? find (sb, name)
                        : sb->containers->len ? sb->containers->pdata[0]
                                              : NULL;
  if (c == NULL)
    sandbox_reply_error (task, SANDBOX_ERROR_NOT_FOUND, "sandbox %s has no container \"%s\"",
                         sb->name, name ? name : "");
  else if (sb->state != SANDBOX_RUNNING || sb->agent == NULL || c->state != CONTAINER_RUNNING)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "container %s of sandbox %s is %s, not running",
                         c->name, sb->name,
                         sb->state != SANDBOX_RUNNING ? sandbox_state_to_string (sb->state)
                                                      : state_names[c->state]);
  else if (c->update)
    sandbox_reply_error (task, SANDBOX_ERROR_STATE, "container %s of sandbox %s is being updated",
                         c->name, sb->name);
  else
    {
      g_autoptr (JsonObject) msg = json_object_new ();
      json_object_set_string_member (msg, "type", "container-update");
      json_object_set_string_member (msg, "name", c->name);
      json_object_set_object_member (msg, "limits", json_object_ref (limits));
      if (!agent_channel_send_control (sb->agent, msg, &error))
        sandbox_reply_gerror (task, error);
      else
        {
          c->update = task;
          c->limits = json_object_ref (limits);
        }
    }
}

/* The agent's answer to an update. */
static void
update_done (SandboxContainer *c, const char *failure)
{
  GTask *task = g_steal_pointer (&c->update);
  g_autoptr (JsonObject) limits = g_steal_pointer (&c->limits);
  if (task == NULL)
    return;
  if (failure)
    {
      sandbox_reply_error (task, SANDBOX_ERROR_INVALID, "container %s: %s", c->name, failure);
      return;
    }
  g_autoptr (GList) names = json_object_get_members (limits);
  for (GList *l = names; l; l = l->next)
    json_object_set_member (c->spec, l->data,
                            json_node_copy (json_object_get_member (limits, l->data)));
  c->sb->ops->save (c->sb);
  sandbox_reply_json (task, container_json (c, FALSE));
}

void
sandbox_remove_container_async (Sandbox *sb, const char *name, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_autoptr (GError) error = NULL;
  SandboxContainer *c = find (sb, name);
  if (c == NULL)
    {
      sandbox_reply_error (task, SANDBOX_ERROR_NOT_FOUND, "sandbox %s has no container \"%s\"",
                           sb->name, name);
      return;
    }
  if (c->task || c->state == CONTAINER_CREATING || c->state == CONTAINER_REMOVING)
    {
      sandbox_reply_error (task, SANDBOX_ERROR_STATE, "container %s of sandbox %s is %s", name,
                           sb->name, state_names[c->state]);
      return;
    }
  if (sb->state != SANDBOX_RUNNING || sb->agent == NULL)
    {
      sandbox_reply_error (task, SANDBOX_ERROR_STATE, "sandbox %s is %s, not running", sb->name,
                           sandbox_state_to_string (sb->state));
      return;
    }
  c->task = task;
  c->state = CONTAINER_REMOVING;
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "container-remove");
  json_object_set_string_member (msg, "name", c->name);
  if (!agent_channel_send_control (sb->agent, msg, &error))
    detach_disk (c);
}

const char *
sandbox_container_of_disk (Sandbox *sb, const char *disk_id)
{
  for (guint i = 0; i < sb->containers->len; i++)
    {
      SandboxContainer *c = sb->containers->pdata[i];
      if (g_strcmp0 (c->disk_id, disk_id) == 0 || sandbox_mounts_hold_disk (c->spec, disk_id))
        return c->name;
    }
  return NULL;
}

JsonObject *
sandbox_list_containers (Sandbox *sb)
{
  JsonObject *o = json_object_new ();
  json_object_set_array_member (o, "containers", sandbox_containers_to_json (sb, FALSE));
  return o;
}

const char *
sandbox_container_for_exec (Sandbox *sb, const char *name, JsonObject **spec, GError **error)
{
  *spec = NULL;
  if (name == NULL && sb->containers->len == 0)
    return NULL; /* the guest's own userland */
  SandboxContainer *c = name ? find (sb, name) : sb->containers->pdata[0];
  if (c == NULL)
    {
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_NOT_FOUND,
                   "sandbox %s has no container \"%s\"", sb->name, name);
      return NULL;
    }
  if (c->state != CONTAINER_RUNNING)
    {
      g_set_error (error, SANDBOX_ERROR, SANDBOX_ERROR_STATE, "container %s of sandbox %s is %s",
                   c->name, sb->name, state_names[c->state]);
      return NULL;
    }
  *spec = c->spec;
  return c->name;
}

void
sandbox_container_control (Sandbox *sb, const char *type, JsonObject *msg)
{
  /* From the guest: read as untrusted, like every control message. */
  g_autoptr (GError) error = NULL;
  const char *name = NULL, *message = "";
  gint64 pid = 0;
  if (!json_field_string (msg, "name", TRUE, &name, &error)
      || !json_field_string (msg, "message", FALSE, &message, &error)
      || !json_field_int (msg, "pid", FALSE, 0, G_MAXINT32, &pid, &error))
    {
      g_autofree char *shown = guest_text (error->message);
      if (guest_log_allowed (&sb->guest_log, sb->name))
        g_message ("sandbox %s: ignoring a bad %s from the guest: %s", sb->name, type, shown);
      return;
    }
  SandboxContainer *c = find (sb, name);
  if (c == NULL)
    return;
  gboolean boot = sb->state == SANDBOX_BOOTING && c == sb->containers->pdata[0];
  if (g_str_equal (type, "container-added") && c->state == CONTAINER_CREATING)
    {
      c->state = CONTAINER_RUNNING;
      c->init_pid = pid;
      sb->ops->save (sb);
      g_message ("sandbox %s: container %s running (root %s, image %s)", sb->name, c->name, c->root,
                 c->digest);
      GTask *task = g_steal_pointer (&c->task);
      if (task)
        sandbox_reply_json (task, container_json (c, FALSE));
      if (boot)
        sb->ops->boot_finished (sb);
    }
  else if (g_str_equal (type, "container-failed") && c->state == CONTAINER_CREATING)
    {
      if (boot)
        {
          sandbox_part_fail (sb, "container %s: %s", c->name, message);
          return;
        }
      GTask *task = g_steal_pointer (&c->task);
      if (task)
        sandbox_reply_error (task, SANDBOX_ERROR_STATE, "container %s: %s", c->name, message);
      detach_disk (c);
    }
  else if (g_str_equal (type, "container-removed") && c->state == CONTAINER_REMOVING)
    detach_disk (c);
  else if (g_str_equal (type, "container-updated"))
    update_done (c, NULL);
  else if (g_str_equal (type, "container-update-failed"))
    update_done (c, message);
  else if (g_str_equal (type, "container-exited"))
    {
      c->state = CONTAINER_EXITED;
      c->init_pid = 0;
      sb->ops->save (sb);
    }
}
