/* exec-bench ADDRESS SANDBOX N: runs `true` N times in SANDBOX through
 * libsandboxd-client, in this one process (one connection, Exec with
 * wait_ms: one round trip each), and prints each round trip in ms: the
 * in-process figure beside qemu-ga's, which bench.py drives in-process too.
 * PAUSE_MS between calls lets the guest go idle, as between commands. */
#include "rpc-client.h"

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  if (argc != 4 && argc != 5)
    {
      fprintf (stderr, "usage: exec-bench ADDRESS SANDBOX N [PAUSE_MS]\n");
      return 2;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (argv[1], &error);
  int n = atoi (argv[3]);
  int pause_ms = argc == 5 ? atoi (argv[4]) : 0;
  for (int i = 0; client && i < n; i++)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      JsonArray *args = json_array_new ();
      json_array_add_string_element (args, "true");
      json_object_set_string_member (params, "sandbox_id", argv[2]);
      json_object_set_array_member (params, "args", args);
      json_object_set_int_member (params, "wait_ms", 10000);
      gint64 t = g_get_monotonic_time ();
      g_autoptr (JsonObject) res
          = rpc_client_call (client, "sandbox.v1.Processes.Exec", params, 30000, &error);
      if (res == NULL || !json_object_get_boolean_member_with_default (res, "exited", FALSE))
        break;
      printf ("%.3f\n", (g_get_monotonic_time () - t) / 1000.0);
      if (pause_ms)
        g_usleep ((gulong) pause_ms * 1000);
    }
  if (error || client == NULL)
    {
      fprintf (stderr, "exec-bench: %s\n", error ? error->message : "no exit");
      return 1;
    }
  return 0;
}
