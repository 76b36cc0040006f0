/* oci.h — inside sandbox-runtime: what its commands share. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* The version of the OCI runtime spec this runtime follows. */
#define OCI_SPEC_VERSION "1.0.2"

/* oci-state.c: a container's record in the runtime's --root: ROOT/ID/
 * state.json (what state prints, and the sandbox's name) and ROOT/ID/start,
 * the FIFO the container's host process waits on until `start`. */
typedef struct
{
  char *id;
  char *name; /* the sandbox's (ids longer than sandboxd's names are cut) */
  char *bundle;
  GPid pid; /* the host process that lives as long as the container's */
  guint64 pid_start_time;
  gboolean started;
  char *created; /* ISO 8601 */
  char *address; /* sandboxd's, as create found it: later commands use it */
  JsonObject *annotations;
} OciState;

void oci_state_free (OciState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OciState, oci_state_free)
/* A container id is a directory name under --root: letters, digits and
 * "_+-." only (runc's rule), never "." or "..", at most 1024 bytes. */
gboolean oci_id_valid (const char *id);
char *oci_state_dir (const char *root, const char *id);
gboolean oci_state_save (const char *root, const OciState *state, GError **error);
OciState *oci_state_load (const char *root, const char *id, GError **error);
/* created, running or stopped. */
const char *oci_state_status (const OciState *state);
/* The OCI state document (as `state` prints it). */
JsonObject *oci_state_to_json (const OciState *state);
guint64 oci_process_start_time (GPid pid);

/* oci-resources.c: runc's LinuxResources (`update --resources`) as
 * Containers.Update's limits; NULL with an error naming what cannot be
 * updated. An empty object when it asks for nothing. */
JsonObject *oci_resources_to_limits (JsonObject *resources, GError **error);

/* oci-spec.c: `spec`'s config.json to start from (runc's defaults). */
JsonObject *oci_default_spec (void);
