/* dbus-service.h — sandboxd's face on D-Bus (org.sandboxd.Daemon1, see
 * data/org.sandboxd.Daemon1.xml): the name that activation starts it by,
 * its version, its RPC address, its sandboxes and their state changes. */
#pragma once

#include "daemon.h"

#include <gio/gio.h>

#define SANDBOXD_BUS_NAME "org.sandboxd.Daemon1"
#define SANDBOXD_OBJECT_PATH "/org/sandboxd/Daemon1"

typedef struct DbusService DbusService;

/* Connects to @bus and owns the name. If the bus cannot be reached or the
 * name is owned by someone else, logs why and quits the daemon's loop with
 * exit status 1. */
DbusService *dbus_service_new (Daemon *daemon, GBusType bus);
void dbus_service_free (DbusService *service);
