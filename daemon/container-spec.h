/* container-spec.h — what a container is made of, from an OCI bundle's
 * config.json or from a bare root.
 *
 * A spec is a JSON object in sandboxd's own form, kept in state.json and
 * sent to the guest agent:
 *   args, env, cwd, uid, gid          the default process
 *   hostname, readonly, mounts        the container's root
 *   memory_bytes, pids, cpu_quota, cpu_period   limits inside the guest
 *   annotations
 * config.json fields sandboxd cannot honour are refused by name, never
 * ignored (docs/containers.md lists what is supported).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#define CONTAINER_SPEC_ERROR (container_spec_error_quark ())
GQuark container_spec_error_quark (void);

typedef enum
{
  CONTAINER_SPEC_ERROR_INVALID,     /* malformed: names the file and field */
  CONTAINER_SPEC_ERROR_UNSUPPORTED, /* a field sandboxd cannot honour */
  CONTAINER_SPEC_ERROR_NOT_FOUND,   /* the bundle, its config.json or its root is missing */
} ContainerSpecError;

/* Reads @bundle/config.json: a regular file (not a link, FIFO or device) of
 * at most 1 MiB. *root is the root directory's host path. It may block on
 * the file system: call it off the main loop. */
JsonObject *container_spec_from_bundle (const char *bundle, char **root, GError **error);

/* The same from @text, the content of @bundle's config.json. */
JsonObject *container_spec_parse (const char *bundle, const char *text, gssize len, char **root,
                                  GError **error);

/* A container of a bare root: runs what it is told, as root, in "/". */
JsonObject *container_spec_new_default (void);
