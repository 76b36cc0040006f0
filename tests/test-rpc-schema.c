/* Request validation against the built-in sandbox.v1 schema. */
#include "rpc-schema.h"

#include <string.h>

static void
expect (const char *method, const char *params_json, int code, const char *fragment)
{
  g_autoptr (JsonNode) node = json_from_string (params_json, NULL);
  g_assert_nonnull (node);
  g_autoptr (GError) error = NULL;
  gboolean ok = rpc_schema_validate (rpc_schema_get_default (), method, json_node_get_object (node),
                                     &error);
  if (code == RPC_STATUS_OK)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      return;
    }
  g_assert_false (ok);
  g_assert_error (error, RPC_ERROR, code);
  if (strstr (error->message, fragment) == NULL)
    g_error ("\"%s\" not in \"%s\"", fragment, error->message);
}

static void
test_valid_requests (void)
{
  expect ("sandbox.v1.System.Version", "{}", RPC_STATUS_OK, NULL);
  expect ("sandbox.v1.Sandboxes.Create", "{\"name\": \"a\", \"memory_mb\": 128, \"cpus\": 2}",
          RPC_STATUS_OK, NULL);
  expect (
      "sandbox.v1.Processes.Exec",
      "{\"sandbox_id\": \"a\", \"args\": [\"ls\", \"-l\"], \"env\": [\"A=b\"], \"stdin\": true}",
      RPC_STATUS_OK, NULL);
  expect ("sandbox.v1.Processes.Exec", "{\"sandbox_id\": \"a\", \"additional_gids\": [0, 10]}",
          RPC_STATUS_OK, NULL);
  expect ("sandbox.v1.Processes.ReadOutput",
          "{\"sandbox_id\": \"a\", \"process_id\": 1, \"stream\": \"stderr\", \"wait_ms\": null}",
          RPC_STATUS_OK, NULL);
}

static void
test_invalid_requests (void)
{
  expect ("sandbox.v1.Nope.Never", "{}", RPC_STATUS_UNIMPLEMENTED, "unknown method");
  expect ("sandbox.v1.Sandboxes.Get", "{}", RPC_STATUS_INVALID_ARGUMENT,
          "field \"id\" is required");
  expect ("sandbox.v1.Sandboxes.Get", "{\"id\": 5}", RPC_STATUS_INVALID_ARGUMENT,
          "field \"id\" must be a string");
  expect ("sandbox.v1.Sandboxes.Create", "{\"memory_mb\": 1}", RPC_STATUS_INVALID_ARGUMENT,
          "field \"memory_mb\" is 1, outside 64..65536");
  /* A sandbox holds at most 32 of the host's ports. */
  GString *ports = g_string_new ("{\"ports\": [");
  for (int i = 0; i < 33; i++)
    g_string_append_printf (ports, "%s\"%d:80\"", i ? "," : "", 20000 + i);
  g_string_append (ports, "]}");
  expect ("sandbox.v1.Sandboxes.Create", ports->str, RPC_STATUS_INVALID_ARGUMENT,
          "field \"ports\" has 33 items, at most 32");
  g_string_free (ports, TRUE);
  expect ("sandbox.v1.Sandboxes.Create", "{\"memroy_mb\": 128}", RPC_STATUS_INVALID_ARGUMENT,
          "unknown field \"memroy_mb\"");
  expect ("sandbox.v1.Processes.Exec", "{\"sandbox_id\": \"a\", \"args\": [\"ls\", 3]}",
          RPC_STATUS_INVALID_ARGUMENT, "field \"args[1]\" must be a string");
  expect ("sandbox.v1.Processes.ReadOutput",
          "{\"sandbox_id\": \"a\", \"process_id\": 1, \"stream\": \"stdin\"}",
          RPC_STATUS_INVALID_ARGUMENT, "field \"stream\": \"stdin\" is not one of");
  expect ("sandbox.v1.Sandboxes.Delete", "{\"id\": \"a\", \"force\": \"yes\"}",
          RPC_STATUS_INVALID_ARGUMENT, "field \"force\" must be a boolean");
  expect ("sandbox.v1.Processes.Exec", "{\"sandbox_id\": \"a\", \"additional_gids\": [1, -1]}",
          RPC_STATUS_INVALID_ARGUMENT,
          "field \"additional_gids[1]\" must be an integer within 0..4294967294");
  expect ("sandbox.v1.Processes.Exec", "{\"sandbox_id\": \"a\", \"additional_gids\": \"10\"}",
          RPC_STATUS_INVALID_ARGUMENT, "field \"additional_gids\" must be an array of integers");
  /* Volumes: objects, at most 8. */
  expect ("sandbox.v1.Sandboxes.Create", "{\"volumes\": \"/srv:/data\"}",
          RPC_STATUS_INVALID_ARGUMENT, "field \"volumes\" must be an array of objects");
  expect ("sandbox.v1.Sandboxes.Create", "{\"volumes\": [{}, \"/srv:/data\"]}",
          RPC_STATUS_INVALID_ARGUMENT, "field \"volumes[1]\" must be an object");
  expect ("sandbox.v1.Sandboxes.Create", "{\"volumes\": [{}, {}, {}, {}, {}, {}, {}, {}, {}]}",
          RPC_STATUS_INVALID_ARGUMENT, "field \"volumes\" has 9 items, at most 8");
  expect ("sandbox.v1.Sandboxes.Create", "{\"volumes\": [{\"source\": \"/srv\"}]}", RPC_STATUS_OK,
          NULL);
}

static void
test_method_list (void)
{
  g_auto (GStrv) methods = rpc_schema_list_methods (rpc_schema_get_default ());
  g_assert_true (g_strv_contains ((const char *const *) methods, "sandbox.v1.System.Ping"));
  g_assert_true (g_strv_contains ((const char *const *) methods, "sandbox.v1.Events.Read"));
  for (char **m = methods; *m; m++)
    g_assert_true (g_str_has_prefix (*m, "sandbox.v1."));
}

/* Defaults come from the schema: absent fields get them, given ones stay,
 * and a field with no default stays absent. */
static void
test_defaults (void)
{
  g_autoptr (JsonNode) node = json_from_string ("{\"name\": \"a\", \"cpus\": 2}", NULL);
  g_autoptr (JsonObject) done = rpc_schema_complete (
      rpc_schema_get_default (), "sandbox.v1.Sandboxes.Create", json_node_get_object (node));
  g_assert_cmpint (json_object_get_int_member (done, "memory_mb"), ==, 256);
  g_assert_cmpint (json_object_get_int_member (done, "cpus"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (done, "container_name"), ==, "main");
  g_assert_false (json_object_get_boolean_member (done, "auto_remove"));
  g_assert_false (json_object_has_member (done, "pids"));
  g_assert_cmpstr (json_object_get_string_member (done, "name"), ==, "a");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rpc-schema/valid", test_valid_requests);
  g_test_add_func ("/rpc-schema/invalid", test_invalid_requests);
  g_test_add_func ("/rpc-schema/methods", test_method_list);
  g_test_add_func ("/rpc-schema/defaults", test_defaults);
  return g_test_run ();
}
