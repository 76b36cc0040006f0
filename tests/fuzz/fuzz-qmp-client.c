/* libFuzzer: whatever a QMP peer sends after a valid greeting and
 * negotiation, while two commands wait for answers (ids sbx-2, sbx-3).
 * The client must fail cleanly: no crash, hang or leak. */
#include "qmp-client.h"

#include <glib-unix.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static const char prologue[]
    = "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}}, "
      "\"capabilities\": []}}\r\n{\"return\": {}, \"id\": \"sbx-1\"}\r\n";

typedef struct
{
  gboolean ready;
  gboolean closed;
  int replies;
} State;

static void
on_ready (QmpClient *c, JsonNode *result, const GError *error, gpointer data)
{
  ((State *) data)->ready = TRUE;
}

static void
on_reply (QmpClient *c, JsonNode *result, const GError *error, gpointer data)
{
  ((State *) data)->replies++;
}

static void
on_closed (QmpClient *c, const GError *reason, gpointer data)
{
  ((State *) data)->closed = TRUE;
}

static void
on_event (QmpClient *c, const char *event, JsonObject *data, gpointer user_data)
{
}

static void
send_all (int fd, const guint8 *data, size_t size)
{
  while (size > 0)
    {
      ssize_t n = write (fd, data, size);
      if (n <= 0)
        return; /* the client hung up: that is an answer too */
      data += n;
      size -= (size_t) n;
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  int sv[2];
  State st = { 0 };
  signal (SIGPIPE, SIG_IGN);
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return 0;
  g_unix_set_fd_nonblocking (sv[1], FALSE, NULL);

  QmpClient *c = qmp_client_new ("fuzz");
  qmp_client_subscribe (c, NULL, on_event, &st);
  qmp_client_set_closed_handler (c, on_closed, &st);
  qmp_client_connect_fd_async (c, sv[0], on_ready, &st);
  send_all (sv[1], (const guint8 *) prologue, sizeof prologue - 1);
  while (!st.ready && g_main_context_iteration (NULL, FALSE))
    ;
  if (st.ready)
    {
      qmp_client_execute_async (c, "query-status", NULL, 0, on_reply, &st);
      qmp_client_execute_async (c, "query-version", NULL, 0, on_reply, &st);
    }
  send_all (sv[1], data, size);
  close (sv[1]);
  for (int i = 0; i < 1000 && !st.closed && g_main_context_iteration (NULL, FALSE); i++)
    ;
  qmp_client_free (c);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return 0;
}
