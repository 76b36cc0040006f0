/* sandbox-runtime's update: runc's LinuxResources as Containers.Update's
 * limits (oci/oci-resources.c). */
#include "oci.h"

#include <gio/gio.h>

static JsonObject *
parse (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

/* What podman writes for --memory 64m --cpu-quota 50000 --cpu-shares 512. */
static void
test_podman_resources (void)
{
  g_autoptr (JsonObject) res
      = parse ("{\"memory\": {\"limit\": 67108864, \"swap\": 134217728, \"swappiness\": null},"
               " \"cpu\": {\"quota\": 50000, \"shares\": 512}, \"pids\": {\"limit\": -1},"
               " \"devices\": [{\"allow\": false, \"access\": \"rwm\"}]}");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) l = oci_resources_to_limits (res, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (l, "memory_bytes"), ==, 67108864);
  g_assert_cmpint (json_object_get_int_member (l, "cpu_quota"), ==, 50000);
  g_assert_false (json_object_has_member (l, "cpu_period"));
  /* runc's conversion: 1 + (512 - 2) * 9999 / 262142 */
  g_assert_cmpint (json_object_get_int_member (l, "cpu_weight"), ==, 20);
  g_assert_cmpint (json_object_get_int_member (l, "pids"), ==, -1);
  g_assert_cmpuint (json_object_get_size (l), ==, 4);
}

static void
refused (const char *text, const char *names)
{
  g_autoptr (JsonObject) res = parse (text);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) l = oci_resources_to_limits (res, &error);
  g_assert_null (l);
  g_assert_nonnull (error);
  if (strstr (error->message, names) == NULL)
    g_error ("\"%s\" does not name %s", error->message, names);
}

static void
test_refused (void)
{
  refused ("{\"blockIO\": {\"weight\": 10}}", "blockIO");
  refused ("{\"memory\": {\"kernel\": 1}}", "memory.kernel");
  refused ("{\"cpu\": {\"cpus\": \"0-1\"}}", "cpu.cpus");
  refused ("{\"pids\": {\"limit\": \"many\"}}", "pids.limit is not a number");
  refused ("{\"memory\": 5}", "memory is not an object");
}

static void
test_nothing (void)
{
  g_autoptr (JsonObject) res = parse ("{\"blockIO\": null, \"memory\": {}}");
  g_autoptr (JsonObject) l = oci_resources_to_limits (res, NULL);
  g_assert_nonnull (l);
  g_assert_cmpuint (json_object_get_size (l), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/oci/resources/podman", test_podman_resources);
  g_test_add_func ("/oci/resources/refused", test_refused);
  g_test_add_func ("/oci/resources/nothing", test_nothing);
  return g_test_run ();
}
