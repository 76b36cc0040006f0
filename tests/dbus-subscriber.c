/* dbus-subscriber SECONDS: calls org.sandboxd.Daemon1.Subscribe on the
 * session bus, then prints each SandboxStateChanged it receives ("ID NAME
 * STATE") for SECONDS. A subscription lives on its connection: gdbus's
 * call and monitor are two, so the tests need this one. */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

static void
on_signal (GDBusConnection *connection, const char *sender, const char *path, const char *interface,
           const char *signal, GVariant *params, gpointer data)
{
  const char *id, *name, *state;
  g_variant_get (params, "(&s&s&s)", &id, &name, &state);
  printf ("%s %s %s\n", id, name, state);
  fflush (stdout);
}

static gboolean
on_timeout (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int seconds = argc > 1 ? atoi (argv[1]) : 10;
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    {
      fprintf (stderr, "dbus-subscriber: %s\n", error->message);
      return 1;
    }
  g_dbus_connection_signal_subscribe (bus, NULL, "org.sandboxd.Daemon1", "SandboxStateChanged",
                                      "/org/sandboxd/Daemon1", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                      on_signal, NULL, NULL);
  g_autoptr (GVariant) res = g_dbus_connection_call_sync (
      bus, "org.sandboxd.Daemon1", "/org/sandboxd/Daemon1", "org.sandboxd.Daemon1", "Subscribe",
      NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  if (res == NULL)
    {
      printf ("refused: %s\n", error->message);
      return 1;
    }
  printf ("subscribed\n");
  fflush (stdout);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add_seconds ((guint) seconds, on_timeout, loop);
  g_main_loop_run (loop);
  return 0;
}
