/* container-spec-private.h — what container-spec.c (the config.json
 * reader) and container-security.c (its process and security fields)
 * share. */
#pragma once

#include "images.h"

/* "config.json: ..." in CONTAINER_SPEC_ERROR; FALSE. */
gboolean spec_error (GError **error, ContainerSpecError code, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);
/* Refuses a member of @o not in @known (NULL-terminated) that the OCI
 * runtime spec defines and that asks for something (not null, false, 0,
 * "", [] or {}); one the spec does not define is ignored, as it requires.
 * Where the spec table does not cover @path, every other member is
 * refused. @path names @o. */
gboolean only_known (JsonObject *o, const char *path, const char *const *known, GError **error);
/* Whether a member's value asks for nothing (see only_known). */
gboolean asks_nothing (JsonNode *n);
/* Lists @field in the spec's "not_applied" (inspect shows it): accepted,
 * and meaningless in a VM's guest. */
void not_applied (JsonObject *spec, const char *field);
JsonNode *member_of_type (JsonObject *o, const char *path, const char *name, JsonNodeType type,
                          gboolean required, GError **error);
/* Optional members: TRUE when absent (out untouched) or well typed. */
gboolean get_object (JsonObject *o, const char *path, const char *name, JsonObject **out,
                     GError **error);
gboolean get_value (JsonObject *o, const char *path, const char *name, GType type, JsonNode **out,
                    GError **error);
gboolean get_string (JsonObject *o, const char *path, const char *name, const char **out,
                     GError **error);
gboolean get_int (JsonObject *o, const char *path, const char *name, gint64 min, gint64 *out,
                  GError **error);
/* An array of strings, copied into @into as a member of that name. */
gboolean get_strings (JsonObject *o, const char *path, const char *name, JsonObject *into,
                      GError **error);

/* spec-mounts.c: mounts[] into @spec's "mounts": "file" (a small host
 * file's content), "image" (a read-only host directory, "source", which
 * the daemon turns into an image), or the kernel's own types. */
gboolean container_spec_read_mounts (JsonArray *mounts, const char *bundle, JsonObject *spec,
                                     GError **error);

/* container-security.c: process.capabilities, .rlimits, .noNewPrivileges,
 * .oomScoreAdj, .apparmorProfile, .selinuxLabel (the last two accepted,
 * listed in "not_applied"), and linux.maskedPaths, .readonlyPaths,
 * .sysctl, .resources.devices; each into @spec as the agent applies it. */
gboolean container_security_read_process (JsonObject *process, JsonObject *spec, GError **error);
gboolean container_security_read_linux (JsonObject *linux_, JsonObject *spec, GError **error);
/* spec-seccomp.c: a checked linux.seccomp as the BPF program libseccomp
 * builds (sock_filter array, base64), for the agent to load. */
gboolean container_seccomp_compile (JsonObject *seccomp, char **bpf_base64, GError **error);
/* hooks: checked (host programs, absolute paths; the ones that would run
 * inside the container's namespaces are refused); sandbox-runtime runs
 * them, sandboxd lists them in "not_applied". */
gboolean container_security_read_hooks (JsonObject *hooks, JsonObject *spec, GError **error);
/* The names read_process and read_linux leave to the functions above. */
extern const char *const container_security_process_fields[];
extern const char *const container_security_linux_fields[];
