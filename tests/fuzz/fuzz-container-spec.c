/* libFuzzer: any bytes as an OCI bundle's config.json. */
#include "images.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *root = NULL;
  g_autoptr (JsonObject) spec
      = container_spec_parse ("/bundle", (const char *) data, (gssize) size, &root, &error);
  if (spec)
    {
      /* Accepted: a command to run and a root under the bundle or absolute. */
      g_assert (error == NULL && root != NULL && root[0] == '/');
      g_assert (json_object_get_array_member (spec, "args") != NULL);
    }
  else
    g_assert (error != NULL && error->domain == CONTAINER_SPEC_ERROR);
  return 0;
}
