/* sandboxctl events: the daemon's events, resumable by sequence number. */
#include "cli.h"

#include "json-fields.h"

#include <stdio.h>

#define EVENTS_WAIT_MS 10000

/* A string of the event as text for a terminal: bytes that are not
 * printable ASCII (a tenant's path, a guest's words) as \xNN, so nothing
 * in an event moves the cursor or retitles the window of whoever reads. */
static void
print_text (const char *before, const char *s, const char *after)
{
  g_autoptr (GString) out = g_string_new (NULL);
  for (const guchar *p = (const guchar *) s; *p; p++)
    if (*p >= 0x20 && *p < 0x7f)
      g_string_append_c (out, (char) *p);
    else
      g_string_append_printf (out, "\\x%02x", *p);
  fputs (before, stdout);
  fputs (out->str, stdout);
  fputs (after, stdout);
}

static void
print_event (JsonObject *ev, gboolean json)
{
  if (json)
    {
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), ev);
      g_autofree char *text = json_to_string (node, FALSE);
      printf ("%s\n", text);
    }
  else
    {
      const char *type = json_object_get_string_member_with_default (ev, "type", "?");
      /* Image events are about a root, the others about a sandbox. */
      printf ("%" G_GINT64_FORMAT, json_object_get_int_member_with_default (ev, "seq", 0));
      print_text (" ", json_object_get_string_member_with_default (ev, "time", "?"), "");
      print_text (" ", type, "");
      const char *source = json_object_get_string_member_with_default (ev, "source", "?");
      print_text (" ", json_object_get_string_member_with_default (ev, "name", source), "");
      if (json_object_has_member (ev, "stage"))
        print_text (" ", json_object_get_string_member (ev, "stage"), "");
      if (json_object_has_member (ev, "digest"))
        {
          print_text (" ", json_object_get_string_member (ev, "digest"), "");
          if (json_object_get_boolean_member_with_default (ev, "built", FALSE))
            printf (" built");
        }
      if (json_object_has_member (ev, "state"))
        print_text (" ", json_object_get_string_member (ev, "state"), "");
      if (json_object_has_member (ev, "process_id"))
        printf (" process %" G_GINT64_FORMAT, json_object_get_int_member (ev, "process_id"));
      if (json_object_has_member (ev, "status"))
        printf (" status %" G_GINT64_FORMAT, json_object_get_int_member (ev, "status"));
      if (json_object_has_member (ev, "error"))
        print_text (" (", json_object_get_string_member (ev, "error"), ")");
      printf ("\n");
    }
  fflush (stdout);
}

int
cli_events (const CliGlobals *globals, int argc, char **argv)
{
  gint64 since = 0;
  gboolean follow = FALSE;
  int code = 0;
  GOptionEntry entries[] = {
    { "since", 0, 0, G_OPTION_ARG_INT64, &since, "Only events after sequence number SEQ", "SEQ" },
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow, "Keep waiting for new events", NULL },
    { NULL },
  };
  if (!cli_parse ("events", "[OPTIONS]",
                  "Print the daemon's events (sandbox state changes, processes started and\n"
                  "exited) with their sequence numbers; --since resumes where you left off.",
                  entries, &argc, &argv, &code))
    return code;
  if (argc > 1 || since < 0)
    return cli_usage_error_text ("events", "takes no arguments; --since must not be negative");

  g_autoptr (GError) error = NULL;
  g_autoptr (RpcClient) client = rpc_client_new (globals->address, &error);
  if (client == NULL)
    return cli_fail (error);
  for (;;)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_int_member (params, "since_seq", since);
      json_object_set_int_member (params, "wait_ms", follow ? EVENTS_WAIT_MS : 0);
      json_object_set_int_member (params, "max_events", 1000);
      g_autoptr (JsonObject) res = rpc_client_call (client, "sandbox.v1.Events.Read", params,
                                                    EVENTS_WAIT_MS + CLI_CALL_DEADLINE_MS, &error);
      JsonArray *events = NULL;
      gint64 next = since;
      if (res == NULL || !json_field_int (res, "next_seq", TRUE, 0, G_MAXINT64, &next, &error))
        return cli_fail (error);
      events = json_object_get_array_member (res, "events");
      gint64 lost = json_object_get_int_member_with_default (res, "lost", 0);
      if (lost > 0)
        fprintf (stderr, "sandboxctl: %" G_GINT64_FORMAT " older events are no longer kept\n",
                 lost);
      for (guint i = 0; events && i < json_array_get_length (events); i++)
        print_event (json_array_get_object_element (events, i), globals->json);
      if (!follow && next == since)
        return 0;
      since = next;
    }
}
