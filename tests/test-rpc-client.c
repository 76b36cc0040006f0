/* The client library against the real RPC server code, in one process over
 * real nanomsg ipc sockets: asynchronous calls, answers that come later and
 * out of order, deadlines, validation against the schema. */
#include "rpc-client.h"
#include "rpc-server.h"

#include <string.h>
#include <unistd.h>

typedef struct
{
  GPtrArray *held;  /* Wait calls, answered in reverse order */
  GPtrArray *never; /* calls kept but never answered */
  guint expected;
} Server;

static void
handle (RpcCall *call, gpointer data)
{
  Server *s = data;
  const char *method = rpc_call_get_method (call);
  if (g_str_equal (method, "sandbox.v1.System.Ping"))
    rpc_call_return (call, json_object_new ());
  else if (g_str_equal (method, "sandbox.v1.Processes.Wait"))
    {
      /* Held back: answered once all expected calls are in, last first. */
      g_ptr_array_add (s->held, rpc_call_ref (call));
      if (s->held->len == s->expected)
        for (guint i = s->held->len; i > 0; i--)
          {
            RpcCall *c = s->held->pdata[i - 1];
            JsonObject *res = json_object_new ();
            json_object_set_int_member (
                res, "process_id",
                json_object_get_int_member (rpc_call_get_params (c), "process_id"));
            rpc_call_return (c, res);
          }
    }
  else if (g_str_equal (method, "sandbox.v1.Sandboxes.Get"))
    g_ptr_array_add (s->never, rpc_call_ref (call)); /* its deadline must answer it */
  /* Anything else is dropped unanswered: the server must say so. */
}

typedef struct
{
  int done;
  int ok;
  GHashTable *seen;
  GError *last_error;
} Results;

static void
on_result (GObject *source, GAsyncResult *res, gpointer data)
{
  Results *r = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) obj = rpc_client_call_finish (NULL, res, &error);
  r->done++;
  if (obj)
    {
      r->ok++;
      if (json_object_has_member (obj, "process_id"))
        g_hash_table_add (r->seen,
                          GINT_TO_POINTER (json_object_get_int_member (obj, "process_id")));
    }
  else
    {
      g_clear_error (&r->last_error);
      r->last_error = g_steal_pointer (&error);
    }
}

static void
wait_for (Results *r, int n)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (r->done < n && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (r->done, ==, n);
}

/* A server (handle) on a socket of its own, and a client of it. */
typedef struct
{
  char *dir;
  RpcServer *server;
  RpcClient *client;
  Server s;
  Results r;
} Fixture;

static void
fixture_start (Fixture *f, guint expected)
{
  f->dir = g_dir_make_tmp ("rpctest-XXXXXX", NULL);
  g_autofree char *address = g_strdup_printf ("ipc://%s/rpc.sock", f->dir);
  f->s = (Server){ g_ptr_array_new_with_free_func ((GDestroyNotify) rpc_call_unref),
                   g_ptr_array_new_with_free_func ((GDestroyNotify) rpc_call_unref), expected };
  g_autoptr (GError) error = NULL;
  f->server = rpc_server_new (address, rpc_schema_get_default (), handle, &f->s, &error);
  g_assert_no_error (error);
  f->client = rpc_client_new (address, &error);
  g_assert_no_error (error);
  f->r = (Results){ .seen = g_hash_table_new (NULL, NULL) };
}

static void
fixture_stop (Fixture *f)
{
  g_clear_error (&f->r.last_error);
  g_hash_table_destroy (f->r.seen);
  rpc_client_free (f->client);
  rpc_server_free (f->server);
  g_ptr_array_unref (f->s.held);
  g_ptr_array_unref (f->s.never);
  rmdir (f->dir);
  g_free (f->dir);
}

/* Processes.Wait for process @i: the server holds it (handle). */
static void
call_wait (Fixture *f, int i)
{
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "sandbox_id", "x");
  json_object_set_int_member (params, "process_id", i);
  rpc_client_call_async (f->client, "sandbox.v1.Processes.Wait", params, 10000, NULL, on_result,
                         &f->r);
}

static void
test_client (void)
{
  Fixture f;
  fixture_start (&f, 20);
  RpcClient *client = f.client;
  Results *r = &f.r;

  /* 20 calls in flight at once, answered in the reverse order. */
  for (int i = 1; i <= 20; i++)
    call_wait (&f, i);
  wait_for (r, 20);
  g_assert_cmpint (r->ok, ==, 20);
  g_assert_cmpuint (g_hash_table_size (r->seen), ==, 20); /* each got its own answer */

  /* A call nobody answers ends at its deadline, from the server. */
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "id", "x");
  rpc_client_call_async (client, "sandbox.v1.Sandboxes.Get", params, 300, NULL, on_result, r);
  wait_for (r, 21);
  g_assert_error (r->last_error, RPC_ERROR, RPC_STATUS_DEADLINE_EXCEEDED);
  if (strstr (r->last_error->message, "deadline of 300 ms") == NULL)
    g_error ("unexpected: %s", r->last_error->message);

  /* The schema is applied before the handler: wrong types never reach it.
   * (The server runs in this thread, so calls go async and we iterate.) */
  g_autoptr (JsonObject) bad = json_object_new ();
  json_object_set_int_member (bad, "id", 5);
  rpc_client_call_async (client, "sandbox.v1.Sandboxes.Get", bad, 5000, NULL, on_result, r);
  wait_for (r, 22);
  g_assert_error (r->last_error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT);
  g_assert_cmpstr (r->last_error->message, ==, "field \"id\" must be a string");
  rpc_client_call_async (client, "sandbox.v1.Nope.Nope", NULL, 5000, NULL, on_result, r);
  wait_for (r, 23);
  g_assert_error (r->last_error, RPC_ERROR, RPC_STATUS_UNIMPLEMENTED);

  /* A call the handler drops without answering is answered anyway. */
  g_autoptr (JsonObject) stats = json_object_new ();
  json_object_set_string_member (stats, "id", "x");
  rpc_client_call_async (client, "sandbox.v1.Sandboxes.Stats", stats, 5000, NULL, on_result, r);
  wait_for (r, 24);
  g_assert_error (r->last_error, RPC_ERROR, RPC_STATUS_INTERNAL);

  rpc_client_call_async (client, "sandbox.v1.System.Ping", NULL, 5000, NULL, on_result, r);
  wait_for (r, 25);
  g_assert_cmpint (r->ok, ==, 21);

  fixture_stop (&f);
}

/* A socket's calls in flight are bounded, in number and in bytes: past
 * either a call is RESOURCE_EXHAUSTED at once; answered calls make room. */
static void
test_limits (void)
{
  Fixture f;
  fixture_start (&f, 1000);
  rpc_server_limit_calls (f.server, 3, 4096);
  RpcClient *client = f.client;
  Server *s = &f.s;
  Results *r = &f.r;
  for (int i = 1; i <= 4; i++)
    call_wait (&f, i);
  wait_for (r, 1); /* the fourth, refused while three wait */
  g_assert_error (r->last_error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED);
  if (strstr (r->last_error->message, "3 calls on this socket are waiting") == NULL)
    g_error ("unexpected: %s", r->last_error->message);
  g_assert_cmpuint (s->held->len, ==, 3);
  /* Answered, they make room: a ping goes through. */
  for (guint i = 0; i < s->held->len; i++)
    rpc_call_return (s->held->pdata[i], json_object_new ());
  wait_for (r, 4);
  rpc_client_call_async (client, "sandbox.v1.System.Ping", NULL, 5000, NULL, on_result, r);
  wait_for (r, 5);
  g_assert_cmpint (r->ok, ==, 4);
  /* Bytes: one request of 8 KiB is past the 4 KiB the socket may hold. */
  g_autoptr (JsonObject) big = json_object_new ();
  g_autofree char *pad = g_strnfill (8192, 'x');
  json_object_set_string_member (big, "id", pad);
  rpc_client_call_async (client, "sandbox.v1.Sandboxes.Get", big, 5000, NULL, on_result, r);
  wait_for (r, 6);
  g_assert_error (r->last_error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED);
  g_assert_cmpuint (s->never->len, ==, 0); /* the handler never saw it */
  fixture_stop (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rpc-client/async-deadline-schema", test_client);
  g_test_add_func ("/rpc-client/limits", test_limits);
  return g_test_run ();
}
