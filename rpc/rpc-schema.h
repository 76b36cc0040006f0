/* rpc-schema.h — the sandbox.v1 schema (rpc/sandbox.v1.json, built in) and
 * request validation against it. */
#pragma once

#include "rpc-status.h"

#include <json-glib/json-glib.h>

typedef struct RpcSchema RpcSchema;

/* The schema built into this binary (from rpc/sandbox.v1.json). */
RpcSchema *rpc_schema_get_default (void);
RpcSchema *rpc_schema_new_from_data (const char *json, GError **error);
void rpc_schema_free (RpcSchema *schema);

/* Checks @params of @method: UNIMPLEMENTED for an unknown method;
 * INVALID_ARGUMENT naming the field for a missing required field, a wrong
 * type, a value out of range or not in its enum, or an unknown field. */
gboolean rpc_schema_validate (RpcSchema *schema, const char *method, JsonObject *params,
                              GError **error);

/* @params as the method sees them: a new object with every member of
 * @params (validated) and, for each field the schema gives a "default" and
 * @params lacks, that default. So bounds and defaults live in the schema
 * alone; a method reads its fields without restating them. */
JsonObject *rpc_schema_complete (RpcSchema *schema, const char *method, JsonObject *params);

/* The "max" of @field of @method (a number's, or an array's length), -1
 * if it has none: for what a limit is, told from the schema alone. */
gint64 rpc_schema_field_max (RpcSchema *schema, const char *method, const char *field);

/* Every method, "sandbox.v1.<Service>.<Method>", sorted. */
GStrv rpc_schema_list_methods (RpcSchema *schema);
