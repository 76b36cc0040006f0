#include "dbus-service.h"

#include "config.h"
#include "sandbox.h"

/* data/org.sandboxd.Daemon1.xml, embedded by tools/embed-text.py. */
extern const char dbus_introspection_xml[];

struct DbusService
{
  Daemon *daemon;
  guint owner_id;
  GDBusConnection *connection;
  guint registration;
  GDBusNodeInfo *info;
};

static void
on_method_call (GDBusConnection *connection, const char *sender, const char *path,
                const char *interface, const char *method, GVariant *parameters,
                GDBusMethodInvocation *invocation, gpointer data)
{
  DbusService *s = data;
  if (!g_str_equal (method, "ListSandboxes"))
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                             "no method %s", method);
      return;
    }
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sss)"));
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, s->daemon->ctx.sandboxes);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_variant_builder_add (&b, "(sss)", sandbox_get_id (value), sandbox_get_name (value),
                           sandbox_state_to_string (sandbox_get_state (value)));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(sss))", &b));
}

static GVariant *
on_get_property (GDBusConnection *connection, const char *sender, const char *path,
                 const char *interface, const char *property, GError **error, gpointer data)
{
  DbusService *s = data;
  if (g_str_equal (property, "Version"))
    return g_variant_new_string (SANDBOXD_VERSION);
  if (g_str_equal (property, "RpcAddress"))
    return g_variant_new_string (s->daemon->rpc_address);
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", property);
  return NULL;
}

static const GDBusInterfaceVTable vtable = { on_method_call, on_get_property, NULL, { 0 } };

static void
on_event (const char *type, JsonObject *event, gpointer data)
{
  DbusService *s = data;
  if (s->connection == NULL
      || (!g_str_equal (type, "sandbox.state") && !g_str_equal (type, "sandbox.deleted")))
    return;
  const char *state = g_str_equal (type, "sandbox.deleted")
                          ? "deleted"
                          : json_object_get_string_member_with_default (event, "state", "");
  g_dbus_connection_emit_signal (
      s->connection, NULL, SANDBOXD_OBJECT_PATH, SANDBOXD_BUS_NAME, "SandboxStateChanged",
      g_variant_new ("(sss)", json_object_get_string_member_with_default (event, "sandbox_id", ""),
                     json_object_get_string_member_with_default (event, "name", ""), state),
      NULL);
}

static void
on_bus_acquired (GDBusConnection *connection, const char *name, gpointer data)
{
  DbusService *s = data;
  g_autoptr (GError) error = NULL;
  s->connection = g_object_ref (connection);
  s->registration = g_dbus_connection_register_object (
      connection, SANDBOXD_OBJECT_PATH, s->info->interfaces[0], &vtable, s, NULL, &error);
  if (s->registration == 0)
    g_warning ("D-Bus: cannot register %s: %s", SANDBOXD_OBJECT_PATH, error->message);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer data)
{
  g_message ("D-Bus: owning %s", name);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer data)
{
  DbusService *s = data;
  if (connection == NULL)
    g_warning ("D-Bus: cannot connect to the bus to own %s", name);
  else
    g_warning ("D-Bus: %s is owned by another process; exiting", name);
  s->daemon->exit_code = 1;
  g_main_loop_quit (s->daemon->loop);
}

DbusService *
dbus_service_new (Daemon *daemon, GBusType bus)
{
  DbusService *s = g_new0 (DbusService, 1);
  s->daemon = daemon;
  s->info = g_dbus_node_info_new_for_xml (dbus_introspection_xml, NULL);
  g_assert (s->info != NULL && s->info->interfaces[0] != NULL);
  event_log_set_listener (daemon->events, on_event, s);
  s->owner_id = g_bus_own_name (bus, SANDBOXD_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                on_bus_acquired, on_name_acquired, on_name_lost, s, NULL);
  return s;
}

void
dbus_service_free (DbusService *s)
{
  if (s == NULL)
    return;
  event_log_set_listener (s->daemon->events, NULL, NULL);
  if (s->registration)
    g_dbus_connection_unregister_object (s->connection, s->registration);
  g_bus_unown_name (s->owner_id);
  g_clear_object (&s->connection);
  g_dbus_node_info_unref (s->info);
  g_free (s);
}
