/* json-fields.h — typed access to the members of a JSON object.
 *
 * Every reader of untrusted JSON (RPC requests, agent control frames,
 * QMP replies) goes through these, so a wrong type or a missing member is
 * always reported the same way: an error that names the field.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#define JSON_FIELD_ERROR (json_field_error_quark ())
GQuark json_field_error_quark (void);

typedef enum
{
  JSON_FIELD_ERROR_MISSING,
  JSON_FIELD_ERROR_TYPE,
  JSON_FIELD_ERROR_RANGE,
  JSON_FIELD_ERROR_DEPTH,
} JsonFieldError;

/* How deep untrusted JSON may nest. json-glib parses recursively: a few
 * hundred KB of "[[[[..." overflow the stack, so every reader of untrusted
 * text (RPC, QMP, agent control frames, config.json, state.json) checks
 * the depth before parsing. Nothing we read nests more than a few levels. */
#define JSON_MAX_DEPTH 64

/* FALSE with JSON_FIELD_ERROR_DEPTH when arrays and objects in @text
 * (@len bytes, or NUL-terminated when -1) nest deeper than @max_depth.
 * Only the nesting is looked at: the text may still be malformed. */
gboolean json_text_check_depth (const char *text, gssize len, guint max_depth, GError **error);

/* Each getter: TRUE and *out set when present and of the right type; TRUE
 * with *out untouched when absent (or null) and !required; FALSE with @error
 * naming @name otherwise. Strings point into @obj. */
gboolean json_field_string (JsonObject *obj, const char *name, gboolean required, const char **out,
                            GError **error);
gboolean json_field_int (JsonObject *obj, const char *name, gboolean required, gint64 min,
                         gint64 max, gint64 *out, GError **error);
gboolean json_field_bool (JsonObject *obj, const char *name, gboolean required, gboolean *out,
                          GError **error);
/* A JSON array of strings; *out is a new NULL-terminated vector. */
gboolean json_field_strv (JsonObject *obj, const char *name, gboolean required, char ***out,
                          GError **error);
gboolean json_field_object (JsonObject *obj, const char *name, gboolean required, JsonObject **out,
                            GError **error);

/* The writing side: sets @name to a JSON array of the strings of @strv;
 * does nothing when @strv is NULL. */
void json_field_set_strv (JsonObject *obj, const char *name, char **strv);
