/* The request and response envelopes of sandbox.v1. */
#include "rpc-envelope.h"

#include <string.h>

static void
test_request_roundtrip (void)
{
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "name", "web");
  gsize len;
  g_autofree char *text
      = rpc_request_encode (12, "sandbox.v1.Sandboxes.Create", params, 5000, &len);
  RpcRequest req;
  g_autoptr (GError) error = NULL;
  g_assert_true (rpc_request_decode (text, len, &req, &error));
  g_assert_no_error (error);
  g_assert_cmpint (req.id, ==, 12);
  g_assert_cmpstr (req.method, ==, "sandbox.v1.Sandboxes.Create");
  g_assert_cmpint (req.deadline_ms, ==, 5000);
  g_assert_cmpstr (json_object_get_string_member (req.params, "name"), ==, "web");
  rpc_request_clear (&req);
}

static void
expect_invalid (const char *text, const char *fragment, gboolean has_id)
{
  RpcRequest req;
  g_autoptr (GError) error = NULL;
  g_assert_false (rpc_request_decode (text, strlen (text), &req, &error));
  g_assert_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT);
  if (strstr (error->message, fragment) == NULL)
    g_error ("\"%s\" not in \"%s\"", fragment, error->message);
  g_assert_cmpint (req.has_id, ==, has_id);
  rpc_request_clear (&req);
}

static void
test_bad_requests (void)
{
  expect_invalid ("", "request is empty", FALSE);
  expect_invalid ("nope", "request is not valid JSON", FALSE);
  expect_invalid ("\"a string\"", "request is not a JSON object", FALSE);
  expect_invalid ("{\"method\": \"x\"}", "field \"id\" is required", FALSE);
  expect_invalid ("{\"id\": 1.5, \"method\": \"x\"}", "field \"id\" must be an integer", FALSE);
  expect_invalid ("{\"id\": 1}", "field \"method\" is required", TRUE);
  expect_invalid ("{\"id\": 1, \"method\": 2}", "field \"method\" must be a string", TRUE);
  expect_invalid ("{\"id\": 1, \"method\": \"x\", \"params\": []}",
                  "field \"params\" must be an object", TRUE);
  expect_invalid ("{\"id\": 1, \"method\": \"x\", \"deadline_ms\": -5}",
                  "field \"deadline_ms\" is -5", TRUE);
  expect_invalid ("{\"id\": 1, \"method\": \"\xff\"}", "not valid UTF-8", FALSE);

  /* 150,000 nested arrays overflowed json-glib's stack (SIGSEGV). */
  GString *deep = g_string_new ("{\"id\": 1, \"method\": \"x\", \"params\": {\"a\": ");
  for (int i = 0; i < 150000; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 150000; i++)
    g_string_append_c (deep, ']');
  g_string_append (deep, "}}");
  expect_invalid (deep->str, "nest deeper than 64 levels", FALSE);
  g_string_free (deep, TRUE);
}

static void
test_response_roundtrip (void)
{
  g_autoptr (JsonObject) result = json_object_new ();
  json_object_set_string_member (result, "api", "sandbox.v1");
  gsize len;
  g_autofree char *ok = rpc_response_encode (TRUE, 3, RPC_STATUS_OK, NULL, result, &len);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) back = rpc_response_decode (ok, len, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (back, "api"), ==, "sandbox.v1");

  g_autofree char *bad
      = rpc_response_encode (TRUE, 4, RPC_STATUS_NOT_FOUND, "no sandbox \"x\"", NULL, &len);
  g_assert_nonnull (strstr (bad, "\"code\":\"NOT_FOUND\""));
  g_autoptr (JsonObject) none = rpc_response_decode (bad, len, 4, &error);
  g_assert_null (none);
  g_assert_error (error, RPC_ERROR, RPC_STATUS_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no sandbox \"x\"");
}

static void
test_status_names (void)
{
  RpcStatus st;
  g_assert_cmpstr (rpc_status_to_string (RPC_STATUS_FAILED_PRECONDITION), ==,
                   "FAILED_PRECONDITION");
  g_assert_true (rpc_status_from_string ("DEADLINE_EXCEEDED", &st));
  g_assert_cmpint (st, ==, RPC_STATUS_DEADLINE_EXCEEDED);
  g_assert_false (rpc_status_from_string ("SOMETIMES", &st));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rpc-envelope/request-roundtrip", test_request_roundtrip);
  g_test_add_func ("/rpc-envelope/bad-requests", test_bad_requests);
  g_test_add_func ("/rpc-envelope/response-roundtrip", test_response_roundtrip);
  g_test_add_func ("/rpc-envelope/status-names", test_status_names);
  return g_test_run ();
}
