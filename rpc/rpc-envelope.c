#include "rpc-envelope.h"

#include "json-fields.h"

#include <string.h>

void
rpc_request_clear (RpcRequest *req)
{
  g_clear_pointer (&req->method, g_free);
  g_clear_pointer (&req->params, json_object_unref);
}

static gboolean invalid (GError **error, GError *cause, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError **error, GError *cause, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (cause)
    g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT, "%s: %s", msg, cause->message);
  else
    g_set_error_literal (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT, msg);
  return FALSE;
}

static JsonObject *
parse_object (const char *data, gsize len, const char *what, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  if (len == 0)
    {
      invalid (error, NULL, "%s is empty", what);
      return NULL;
    }
  if (!g_utf8_validate (data, (gssize) len, NULL))
    {
      invalid (error, NULL, "%s is not valid UTF-8", what);
      return NULL;
    }
  if (!json_text_check_depth (data, (gssize) len, JSON_MAX_DEPTH, &local))
    {
      invalid (error, local, "%s is refused", what);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local))
    {
      invalid (error, local, "%s is not valid JSON", what);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (error, NULL, "%s is not a JSON object", what);
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

gboolean
rpc_request_decode (const char *data, gsize len, RpcRequest *req, GError **error)
{
  g_autoptr (GError) local = NULL;
  memset (req, 0, sizeof *req);

  g_autoptr (JsonObject) obj = parse_object (data, len, "request", error);
  if (obj == NULL)
    return FALSE;

  if (!json_field_int (obj, "id", TRUE, G_MININT64, G_MAXINT64, &req->id, &local))
    return invalid (error, local, "request");
  req->has_id = TRUE;

  const char *method = NULL;
  if (!json_field_string (obj, "method", TRUE, &method, &local))
    return invalid (error, local, "request");
  req->method = g_strdup (method);

  JsonObject *params = NULL;
  if (!json_field_object (obj, "params", FALSE, &params, &local))
    return invalid (error, local, "request");
  req->params = params ? json_object_ref (params) : json_object_new ();

  if (!json_field_int (obj, "deadline_ms", FALSE, 0, G_MAXINT32, &req->deadline_ms, &local))
    return invalid (error, local, "request");
  return TRUE;
}

static char *
to_text (JsonObject *obj, gsize *len)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  char *text = json_to_string (node, FALSE);
  if (len)
    *len = strlen (text);
  return text;
}

char *
rpc_request_encode (gint64 id, const char *method, JsonObject *params, gint64 deadline_ms,
                    gsize *len)
{
  g_autoptr (JsonObject) obj = json_object_new ();
  json_object_set_int_member (obj, "id", id);
  json_object_set_string_member (obj, "method", method);
  json_object_set_object_member (obj, "params",
                                 params ? json_object_ref (params) : json_object_new ());
  if (deadline_ms > 0)
    json_object_set_int_member (obj, "deadline_ms", deadline_ms);
  return to_text (obj, len);
}

char *
rpc_response_encode (gboolean has_id, gint64 id, RpcStatus status, const char *message,
                     JsonObject *result, gsize *len)
{
  g_autoptr (JsonObject) obj = json_object_new ();
  if (has_id)
    json_object_set_int_member (obj, "id", id);
  else
    json_object_set_null_member (obj, "id");
  JsonObject *st = json_object_new ();
  json_object_set_string_member (st, "code", rpc_status_to_string (status));
  json_object_set_string_member (st, "message", message ? message : "");
  json_object_set_object_member (obj, "status", st);
  json_object_set_object_member (obj, "result",
                                 result ? json_object_ref (result) : json_object_new ());
  return to_text (obj, len);
}

JsonObject *
rpc_response_decode (const char *data, gsize len, gint64 expected_id, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonObject) obj = parse_object (data, len, "response", &local);
  if (obj == NULL)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "bad response from sandboxd: %s",
                   local->message);
      return NULL;
    }
  gint64 id = 0;
  JsonObject *status = NULL;
  const char *code = NULL, *message = "";
  if (!json_field_int (obj, "id", FALSE, G_MININT64, G_MAXINT64, &id, &local)
      || !json_field_object (obj, "status", TRUE, &status, &local)
      || !json_field_string (status, "code", TRUE, &code, &local)
      || !json_field_string (status, "message", FALSE, &message, &local))
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "bad response from sandboxd: %s",
                   local->message);
      return NULL;
    }
  RpcStatus st;
  if (!rpc_status_from_string (code, &st))
    st = RPC_STATUS_UNKNOWN;
  if (st != RPC_STATUS_OK)
    {
      g_set_error_literal (error, RPC_ERROR, st, message);
      return NULL;
    }
  if (id != expected_id)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL,
                   "response id %" G_GINT64_FORMAT " does not match request id %" G_GINT64_FORMAT,
                   id, expected_id);
      return NULL;
    }
  JsonObject *result = NULL;
  if (!json_field_object (obj, "result", FALSE, &result, &local))
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INTERNAL, "bad response from sandboxd: %s",
                   local->message);
      return NULL;
    }
  return result ? json_object_ref (result) : json_object_new ();
}
