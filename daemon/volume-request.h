/* volume-request.h — a Create's volumes, as the daemon checks them before
 * the sandbox exists: the host directory (opened as the caller), who
 * serves it (a tenant's own directory, served as the tenant; the admin's,
 * as its owner, never root), and where it goes. */
#pragma once

#include "daemon.h"

#include <json-glib/json-glib.h>

/* At most this many a sandbox: each is a device and a process. */
#define VOLUMES_MAX 8

/* SandboxVolumeConfig, their strings owned by the array. */
GArray *volume_requests_new (void);

/* Create's "volumes" ([{"source" or "name", "destination", "readonly"}])
 * of @daemon's caller, checked and appended to @out (a named volume is
 * made if it is not there); in_container when the sandbox has a container
 * (they go into its mounts: volume_requests_bind). An error names the
 * volume (its destination) and what is wrong, as an RPC status. */
gboolean volume_requests_read (Daemon *daemon, JsonArray *volumes, gboolean in_container,
                               GArray *out, GError **error);

/* "mounts[N] (SOURCE on DEST)" of the spec's first "volume" mount, or
 * NULL. */
char *volume_requests_in_spec (JsonObject *spec);

/* A first container's spec: its "volume" mounts (config.json's
 * read-write host directories) are checked and appended to @vols, the
 * in_container ones of @vols become mounts of the spec, and every one
 * gets its tag, in the spec and in @vols. */
gboolean volume_requests_bind (const Tenant *tenant, JsonObject *spec, GArray *vols,
                               GError **error);
