/* rpc-load ADDRESS: 50 clients x 200 calls while a sandbox boots. Prints
 * TAP. Proves the server answers everyone with no error and that a boot
 * (minutes under heavy TCG load) does not hold the others up. */
#include "rpc-client.h"

#include <stdio.h>

#define CLIENTS 50
#define CALLS 200

static const char *address;
static gint errors;
static gint done_during_boot;
static gint boot_finished;
static gint64 slowest_us; /* the longest any call took */
static GMutex slowest_lock;
static char *first_error;

static gpointer
client_thread (gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (address, &error);
  for (int i = 0; client && i < CALLS; i++)
    {
      const char *method = i % 2 ? "sandbox.v1.System.Version" : "sandbox.v1.System.Ping";
      gint64 start = g_get_monotonic_time ();
      JsonObject *res = rpc_client_call (client, method, NULL, 30000, &error);
      gint64 took = g_get_monotonic_time () - start;
      g_mutex_lock (&slowest_lock);
      slowest_us = MAX (slowest_us, took);
      g_mutex_unlock (&slowest_lock);
      if (res == NULL)
        {
          if (g_atomic_int_add (&errors, 1) == 0)
            first_error = g_strdup (error->message);
          g_clear_error (&error);
          continue;
        }
      json_object_unref (res);
      if (!g_atomic_int_get (&boot_finished))
        g_atomic_int_inc (&done_during_boot);
    }
  if (client == NULL)
    g_atomic_int_add (&errors, CALLS);
  return NULL;
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: rpc-load ADDRESS\n");
      return 2;
    }
  address = argv[1];
  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (address, &error);
  if (client == NULL)
    {
      printf ("Bail out! %s\n", error->message);
      return 1;
    }
  /* The boot starts first; the load runs while it is under way. */
  g_autoptr (JsonObject) create = json_object_new ();
  json_object_set_string_member (create, "name", "load");
  rpc_client_call_async (client, "sandbox.v1.Sandboxes.Create", create, 300000, NULL, NULL, NULL);
  g_usleep (200 * 1000);
  GThread *threads[CLIENTS];
  for (int i = 0; i < CLIENTS; i++)
    threads[i] = g_thread_new ("client", client_thread, NULL);

  /* Wait for the boot with a second client, as any other user would. */
  gint64 boot_start = g_get_monotonic_time ();
  g_autoptr (RpcClient) watcher = rpc_client_new (address, &error);
  gboolean running = FALSE;
  for (int i = 0; i < 600 && !running; i++)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_string_member (params, "id", "load");
      g_autoptr (JsonObject) sb
          = rpc_client_call (watcher, "sandbox.v1.Sandboxes.Get", params, 5000, NULL);
      running = sb && g_strcmp0 (json_object_get_string_member (sb, "state"), "running") == 0;
      if (!running)
        g_usleep (100 * 1000);
    }
  g_atomic_int_set (&boot_finished, 1);
  gint64 boot_us = g_get_monotonic_time () - boot_start;
  for (int i = 0; i < CLIENTS; i++)
    g_thread_join (threads[i]);
  /* A server that held calls up while it booted would make some of them
   * wait about as long as the boot (seconds under TCG); each must take a
   * fraction of it, and under a second (about 0.1 s here). */
  gboolean prompt = slowest_us < MIN (boot_us / 2, G_USEC_PER_SEC) && done_during_boot >= CLIENTS;

  printf ("%s 1 - %d clients x %d calls while a sandbox boots: %d errors%s%s\n",
          errors == 0 ? "ok" : "not ok", CLIENTS, CALLS, errors, first_error ? ": " : "",
          first_error ? first_error : "");
  printf ("%s 2 - the sandbox booted meanwhile\n", running ? "ok" : "not ok");
  printf ("%s 3 - the boot did not hold the calls up (%d of %d answered before it ended; the "
          "slowest took %.0f ms of the boot's %.0f)\n",
          prompt ? "ok" : "not ok", done_during_boot, CLIENTS * CALLS, slowest_us / 1000.0,
          boot_us / 1000.0);
  printf ("1..3\n");
  return errors == 0 && running && prompt ? 0 : 1;
}
