#include "qemu-monitor.h"

static void
execute (QmpClient *qmp, const char *command, JsonObject *args, int fd, const QemuReply *reply)
{
  qmp_client_execute_with_fd_async (qmp, command, args, fd, reply->timeout_ms, reply->callback,
                                    reply->data);
}

void
qemu_monitor_stop (QmpClient *qmp, const QemuReply *reply)
{
  execute (qmp, "stop", NULL, -1, reply);
}

void
qemu_monitor_cont (QmpClient *qmp, const QemuReply *reply)
{
  execute (qmp, "cont", NULL, -1, reply);
}

void
qemu_monitor_system_powerdown (QmpClient *qmp, const QemuReply *reply)
{
  execute (qmp, "system_powerdown", NULL, -1, reply);
}

void
qemu_monitor_quit (QmpClient *qmp, const QemuReply *reply)
{
  execute (qmp, "quit", NULL, -1, reply);
}

void
qemu_monitor_query_status (QmpClient *qmp, const QemuReply *reply)
{
  execute (qmp, "query-status", NULL, -1, reply);
}

void
qemu_monitor_query_migrate (QmpClient *qmp, const QemuReply *reply)
{
  execute (qmp, "query-migrate", NULL, -1, reply);
}

void
qemu_monitor_add_fd (QmpClient *qmp, gint64 fdset_id, int fd, const QemuReply *reply)
{
  JsonObject *args = json_object_new ();
  json_object_set_int_member (args, "fdset-id", fdset_id);
  execute (qmp, "add-fd", args, fd, reply);
}

void
qemu_monitor_remove_fd (QmpClient *qmp, gint64 fdset_id, const QemuReply *reply)
{
  JsonObject *args = json_object_new ();
  json_object_set_int_member (args, "fdset-id", fdset_id);
  execute (qmp, "remove-fd", args, -1, reply);
}

void
qemu_monitor_getfd (QmpClient *qmp, const char *fdname, int fd, const QemuReply *reply)
{
  JsonObject *args = json_object_new ();
  json_object_set_string_member (args, "fdname", fdname);
  execute (qmp, "getfd", args, fd, reply);
}

void
qemu_monitor_blockdev_add_raw (QmpClient *qmp, const char *node, const char *filename,
                               gboolean read_only, const QemuReply *reply)
{
  JsonObject *file = json_object_new ();
  json_object_set_string_member (file, "driver", "file");
  json_object_set_string_member (file, "filename", filename);
  JsonObject *args = json_object_new ();
  json_object_set_string_member (args, "node-name", node);
  json_object_set_string_member (args, "driver", "raw");
  json_object_set_boolean_member (args, "read-only", read_only);
  json_object_set_object_member (args, "file", file);
  execute (qmp, "blockdev-add", args, -1, reply);
}

void
qemu_monitor_blockdev_del (QmpClient *qmp, const char *node, const QemuReply *reply)
{
  JsonObject *args = json_object_new ();
  json_object_set_string_member (args, "node-name", node);
  execute (qmp, "blockdev-del", args, -1, reply);
}

void
qemu_monitor_device_add_scsi_hd (QmpClient *qmp, const char *id, const char *bus, const char *drive,
                                 guint scsi_id, const QemuReply *reply)
{
  JsonObject *args = json_object_new ();
  json_object_set_string_member (args, "driver", "scsi-hd");
  json_object_set_string_member (args, "id", id);
  json_object_set_string_member (args, "bus", bus);
  json_object_set_string_member (args, "drive", drive);
  json_object_set_int_member (args, "scsi-id", scsi_id);
  json_object_set_int_member (args, "lun", 0);
  execute (qmp, "device_add", args, -1, reply);
}

void
qemu_monitor_device_del (QmpClient *qmp, const char *id, const QemuReply *reply)
{
  JsonObject *args = json_object_new ();
  json_object_set_string_member (args, "id", id);
  execute (qmp, "device_del", args, -1, reply);
}

void
qemu_monitor_migrate_set_capability (QmpClient *qmp, const char *capability, gboolean state,
                                     const QemuReply *reply)
{
  JsonObject *cap = json_object_new ();
  json_object_set_string_member (cap, "capability", capability);
  json_object_set_boolean_member (cap, "state", state);
  JsonArray *caps = json_array_new ();
  json_array_add_object_element (caps, cap);
  JsonObject *args = json_object_new ();
  json_object_set_array_member (args, "capabilities", caps);
  execute (qmp, "migrate-set-capabilities", args, -1, reply);
}

void
qemu_monitor_migrate (QmpClient *qmp, const char *uri, const QemuReply *reply)
{
  JsonObject *args = json_object_new ();
  json_object_set_string_member (args, "uri", uri);
  execute (qmp, "migrate", args, -1, reply);
}

void
qemu_monitor_migrate_incoming (QmpClient *qmp, const char *uri, const QemuReply *reply)
{
  JsonObject *args = json_object_new ();
  json_object_set_string_member (args, "uri", uri);
  execute (qmp, "migrate-incoming", args, -1, reply);
}

typedef struct
{
  const QemuEvents *events;
  gpointer data;
} Watch;

static void
on_event (QmpClient *qmp, const char *event, JsonObject *data, gpointer user_data)
{
  Watch *w = user_data;
  const char *device
      = data ? json_object_get_string_member_with_default (data, "device", NULL) : NULL;
  if (g_str_equal (event, "DEVICE_DELETED") && w->events->device_deleted)
    w->events->device_deleted (device, w->data);
  else if (g_str_equal (event, "SHUTDOWN") && w->events->shutdown)
    w->events->shutdown (
        data ? json_object_get_string_member_with_default (data, "reason", "?") : "?", w->data);
  else if (g_str_equal (event, "GUEST_PANICKED") && w->events->panicked)
    w->events->panicked (w->data);
}

void
qemu_monitor_watch_events (QmpClient *qmp, const QemuEvents *events, gpointer data)
{
  Watch *w = g_new0 (Watch, 1);
  w->events = events;
  w->data = data;
  qmp_client_subscribe_full (qmp, NULL, on_event, w, g_free);
}
