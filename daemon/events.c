#include "events.h"

typedef struct
{
  EventLog *log;
  RpcCall *call;
  guint64 since;
  guint max;
  guint timer;
} Reader;

struct EventLog
{
  RpcPublisher *publisher;
  JsonObject *ring[EVENT_LOG_SIZE];
  guint64 next_seq; /* the seq the next event gets; the first is 1 */
  GList *readers;
  EventListener listener;
  gpointer listener_data;
};

void
event_log_set_listener (EventLog *log, EventListener listener, gpointer user_data)
{
  log->listener = listener;
  log->listener_data = user_data;
}

EventLog *
event_log_new (RpcPublisher *publisher)
{
  EventLog *log = g_new0 (EventLog, 1);
  log->publisher = publisher;
  log->next_seq = 1;
  return log;
}

static void
reader_answer (Reader *r)
{
  EventLog *log = r->log;
  g_clear_handle_id (&r->timer, g_source_remove);
  log->readers = g_list_remove (log->readers, r);

  guint64 oldest = log->next_seq > EVENT_LOG_SIZE ? log->next_seq - EVENT_LOG_SIZE : 1;
  guint64 from = MAX (r->since + 1, oldest);
  JsonArray *events = json_array_new ();
  guint64 seq = from;
  for (; seq < log->next_seq && json_array_get_length (events) < r->max; seq++)
    json_array_add_object_element (events, json_object_ref (log->ring[seq % EVENT_LOG_SIZE]));
  JsonObject *res = json_object_new ();
  json_object_set_array_member (res, "events", events);
  json_object_set_int_member (res, "next_seq", (gint64) (seq - 1));
  json_object_set_int_member (res, "lost", (gint64) (from - (r->since + 1)));
  rpc_call_return (r->call, res);
  rpc_call_unref (r->call);
  g_free (r);
}

static gboolean
on_reader_timeout (gpointer data)
{
  Reader *r = data;
  r->timer = 0;
  reader_answer (r);
  return G_SOURCE_REMOVE;
}

void
event_log_read (EventLog *log, RpcCall *call, guint64 since_seq, guint wait_ms, guint max_events)
{
  Reader *r = g_new0 (Reader, 1);
  r->log = log;
  r->call = rpc_call_ref (call);
  r->since = MIN (since_seq, log->next_seq - 1);
  r->max = max_events;
  log->readers = g_list_prepend (log->readers, r);
  if (r->since + 1 < log->next_seq || wait_ms == 0)
    reader_answer (r);
  else
    r->timer = g_timeout_add (wait_ms, on_reader_timeout, r);
}

void
event_log_emit (EventLog *log, const char *type, JsonObject *fields)
{
  guint64 seq = log->next_seq++;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format_iso8601 (now);
  json_object_set_int_member (fields, "seq", (gint64) seq);
  json_object_set_string_member (fields, "time", time);
  json_object_set_string_member (fields, "type", type);
  JsonObject **slot = &log->ring[seq % EVENT_LOG_SIZE];
  if (*slot)
    json_object_unref (*slot);
  *slot = fields;
  if (log->publisher)
    rpc_publisher_send (log->publisher, fields);
  if (log->listener)
    log->listener (type, fields, log->listener_data);

  GList *waiting = g_steal_pointer (&log->readers);
  for (GList *l = waiting; l; l = l->next)
    {
      log->readers = g_list_prepend (log->readers, l->data);
      reader_answer (l->data);
    }
  g_list_free (waiting);
}

void
event_log_free (EventLog *log)
{
  if (log == NULL)
    return;
  while (log->readers)
    reader_answer (log->readers->data);
  for (guint i = 0; i < EVENT_LOG_SIZE; i++)
    if (log->ring[i])
      json_object_unref (log->ring[i]);
  g_free (log);
}
