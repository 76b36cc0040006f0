#include "dbus-service.h"

#include "config.h"
#include "sandbox.h"

/* data/org.sandboxd.Daemon1.xml, embedded by tools/embed-text.py. */
extern const char dbus_introspection_xml[];

/* A caller that asked for signals (Subscribe), until it leaves the bus. */
typedef struct
{
  char *tenant; /* NULL: the admin */
  guint watch;
} Subscriber;

static void
subscriber_free (gpointer data)
{
  Subscriber *sub = data;
  g_bus_unwatch_name (sub->watch);
  g_free (sub->tenant);
  g_free (sub);
}

struct DbusService
{
  GHashTable *subscribers; /* unique name -> Subscriber */
  Daemon *daemon;
  guint owner_id;
  GDBusConnection *connection;
  guint registration;
  GDBusNodeInfo *info;
};

/* A caller's uid, from the bus (a tenant is known by it). */
static gboolean
caller_uid (DbusService *s, const char *sender, guint32 *uid)
{
  g_autoptr (GVariant) res = g_dbus_connection_call_sync (
      s->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetConnectionUnixUser", g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
      G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
  if (res == NULL)
    return FALSE;
  g_variant_get (res, "(u)", uid);
  return TRUE;
}

/* Who a caller is for the daemon: the admin (root, or anyone the bus lets
 * in when there are no tenants), a tenant by its uid, or nobody
 * (FALSE: refused). */
static gboolean
caller_tenant (DbusService *s, const char *sender, const Tenant **tenant)
{
  guint32 uid = 0;
  *tenant = NULL;
  if (s->daemon->tenants_file == NULL)
    return TRUE;
  if (!caller_uid (s, sender, &uid))
    return FALSE;
  if (uid == 0)
    return TRUE;
  *tenant = daemon_tenant_by_uid (s->daemon, uid);
  return *tenant != NULL;
}

static void
on_subscriber_vanished (GDBusConnection *connection, const char *name, gpointer data)
{
  DbusService *s = data;
  g_hash_table_remove (s->subscribers, name);
}

static void
subscribe (DbusService *s, const char *sender, const Tenant *t, gboolean on)
{
  if (!on)
    {
      g_hash_table_remove (s->subscribers, sender);
      return;
    }
  if (g_hash_table_contains (s->subscribers, sender))
    return;
  Subscriber *sub = g_new0 (Subscriber, 1);
  sub->tenant = g_strdup (t ? t->name : NULL);
  sub->watch = g_bus_watch_name_on_connection (s->connection, sender, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                               NULL, on_subscriber_vanished, s, NULL);
  g_hash_table_insert (s->subscribers, g_strdup (sender), sub);
}

static void
on_method_call (GDBusConnection *connection, const char *sender, const char *path,
                const char *interface, const char *method, GVariant *parameters,
                GDBusMethodInvocation *invocation, gpointer data)
{
  DbusService *s = data;
  const Tenant *t = NULL;
  if (!caller_tenant (s, sender, &t))
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                             "sandboxd serves root and its tenants only");
      return;
    }
  if (g_str_equal (method, "Subscribe") || g_str_equal (method, "Unsubscribe"))
    {
      subscribe (s, sender, t, g_str_equal (method, "Subscribe"));
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
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
    if (t == NULL || g_strcmp0 (sandbox_get_tenant (value), t->name) == 0)
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
    {
      /* A tenant's own socket (root's for the admin). */
      const Tenant *t = NULL;
      if (!caller_tenant (s, sender, &t))
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                       "sandboxd serves root and its tenants only");
          return NULL;
        }
      const char *address = t ? daemon_tenant_address (t, FALSE) : s->daemon->rpc_address;
      return g_variant_new_string (address ? address : "");
    }
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
  const char *tenant = json_object_get_string_member_with_default (event, "tenant", NULL);
  GVariant *args = g_variant_ref_sink (
      g_variant_new ("(sss)", json_object_get_string_member_with_default (event, "sandbox_id", ""),
                     json_object_get_string_member_with_default (event, "name", ""), state));
  /* Without tenants, to whoever the bus lets listen (root and the sandboxd
   * group); with them, only to subscribers: the admin's and the owner's. */
  if (s->daemon->tenants_file == NULL)
    g_dbus_connection_emit_signal (s->connection, NULL, SANDBOXD_OBJECT_PATH, SANDBOXD_BUS_NAME,
                                   "SandboxStateChanged", args, NULL);
  else
    {
      GHashTableIter it;
      gpointer name, value;
      g_hash_table_iter_init (&it, s->subscribers);
      while (g_hash_table_iter_next (&it, &name, &value))
        {
          const Subscriber *sub = value;
          if (sub->tenant == NULL || g_strcmp0 (sub->tenant, tenant) == 0)
            g_dbus_connection_emit_signal (s->connection, name, SANDBOXD_OBJECT_PATH,
                                           SANDBOXD_BUS_NAME, "SandboxStateChanged", args, NULL);
        }
    }
  g_variant_unref (args);
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
  s->subscribers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, subscriber_free);
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
  g_hash_table_destroy (s->subscribers);
  g_clear_object (&s->connection);
  g_dbus_node_info_unref (s->info);
  g_free (s);
}
