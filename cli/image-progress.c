/* While a call that may build a root's image runs (run, create, container
 * add with a root), shows the daemon's image.* events for that root on
 * stderr. Only once the call has taken a second: quick builds and cached
 * roots stay quiet. */
#include "cli.h"

#include <stdio.h>

#define SHOW_AFTER_US G_USEC_PER_SEC
#define POLL_MS 250

struct CliImageProgress
{
  char *address;
  char *source;
  gint64 since;
  gint64 start;
  gint stopped; /* atomic */
};

static void
progress_free (CliImageProgress *p)
{
  g_free (p->address);
  g_free (p->source);
}

/* The line for @ev, or NULL. */
static char *
describe (CliImageProgress *p, JsonObject *ev, gboolean *ready)
{
  const char *type = json_object_get_string_member_with_default (ev, "type", "");
  const char *stage = json_object_get_string_member_with_default (ev, "stage", "");
  *ready = g_str_equal (type, "image.ready");
  if (*ready && json_object_has_member (ev, "error"))
    return NULL; /* the call's own error says it */
  if (*ready)
    return g_strdup_printf (
        "image of %s: %s %s in %.1f s", p->source,
        json_object_get_boolean_member_with_default (ev, "built", FALSE) ? "built" : "found",
        json_object_get_string_member_with_default (ev, "digest", "?"),
        json_object_get_int_member_with_default (ev, "build_ms", 0) / 1000.0);
  if (g_str_equal (stage, "hashing"))
    return g_strdup_printf ("image of %s: checksumming the image: %" G_GINT64_FORMAT " MiB so far",
                            p->source,
                            json_object_get_int_member_with_default (ev, "bytes", 0) >> 20);
  if (g_str_equal (stage, "unpacking"))
    return g_strdup_printf ("image of %s: unpacking the tarball", p->source);
  return g_strdup_printf ("image of %s: building it (mkfs.erofs; done once per root)", p->source);
}

static gpointer
follow_events (gpointer data)
{
  CliImageProgress *p = data;
  g_autoptr (RpcClient) client = rpc_client_new (p->address, NULL);
  g_autofree char *pending = NULL;
  gboolean shown = FALSE;
  while (client && !g_atomic_int_get (&p->stopped))
    {
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_int_member (params, "since_seq", p->since);
      json_object_set_int_member (params, "wait_ms", POLL_MS);
      g_autoptr (JsonObject) res = rpc_client_call (client, "sandbox.v1.Events.Read", params,
                                                    POLL_MS + CLI_CALL_DEADLINE_MS, NULL);
      if (res == NULL)
        break;
      p->since = json_object_get_int_member_with_default (res, "next_seq", p->since);
      JsonArray *events = json_object_get_array_member (res, "events");
      gboolean ready = FALSE;
      for (guint i = 0; events && i < json_array_get_length (events); i++)
        {
          JsonObject *ev = json_array_get_object_element (events, i);
          if (g_strcmp0 (json_object_get_string_member_with_default (ev, "source", NULL), p->source)
              != 0)
            continue;
          char *line = describe (p, ev, &ready);
          if (line)
            {
              g_free (pending);
              pending = line;
            }
          if (ready)
            break;
        }
      gboolean late = g_get_monotonic_time () - p->start > SHOW_AFTER_US;
      if (pending && (shown || late) && !g_atomic_int_get (&p->stopped) && (!ready || shown))
        {
          fprintf (stderr, "sandboxctl: %s\n", pending);
          shown = TRUE;
        }
      g_clear_pointer (&pending, g_free);
      if (ready)
        break;
    }
  g_atomic_rc_box_release_full (p, (GDestroyNotify) progress_free);
  return NULL;
}

CliImageProgress *
cli_image_progress_start (const char *address, RpcClient *client, JsonObject *params)
{
  const char *names[] = { "rootfs", "bundle", "image" };
  const char *source = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (names) && source == NULL; i++)
    source = json_object_get_string_member_with_default (params, names[i], NULL);
  if (source == NULL)
    return NULL;
  /* Where the event log is now: what the build emits comes after. */
  g_autoptr (JsonObject) now = json_object_new ();
  json_object_set_int_member (now, "since_seq", G_MAXINT64);
  g_autoptr (JsonObject) res
      = rpc_client_call (client, "sandbox.v1.Events.Read", now, CLI_CALL_DEADLINE_MS, NULL);
  if (res == NULL)
    return NULL;
  CliImageProgress *p = g_atomic_rc_box_new0 (CliImageProgress);
  p->address = g_strdup (address);
  p->source = g_strdup (source);
  p->since = json_object_get_int_member_with_default (res, "next_seq", 0);
  p->start = g_get_monotonic_time ();
  g_thread_unref (g_thread_new ("image-progress", follow_events, g_atomic_rc_box_acquire (p)));
  return p;
}

void
cli_image_progress_stop (CliImageProgress *p)
{
  if (p == NULL)
    return;
  /* The thread notices on its next wake-up and prints nothing more. */
  g_atomic_int_set (&p->stopped, 1);
  g_atomic_rc_box_release_full (p, (GDestroyNotify) progress_free);
}
