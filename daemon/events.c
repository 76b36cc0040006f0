#include "events.h"

#include "long-poll.h"

typedef struct
{
  guint64 since;
  guint max;
} Reader;

struct EventLog
{
  RpcPublisher *publisher;
  JsonObject *ring[EVENT_LOG_SIZE];
  guint64 next_seq; /* the seq the next event gets; the first is 1 */
  LongPoll readers;
  EventListener listener;
  gpointer listener_data;
};

static void reader_answer (GTask *task, gpointer waiter, gpointer owner);

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
  long_poll_init (&log->readers, reader_answer, log);
  return log;
}

static void
reader_answer (GTask *task, gpointer waiter, gpointer owner)
{
  Reader *r = waiter;
  EventLog *log = owner;
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
  g_task_return_pointer (task, res, (GDestroyNotify) json_object_unref);
  g_object_unref (task);
}

void
event_log_read_async (EventLog *log, guint64 since_seq, guint wait_ms, guint max_events,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Reader *r = g_new0 (Reader, 1);
  r->since = MIN (since_seq, log->next_seq - 1);
  r->max = max_events;
  long_poll_add (&log->readers, task, r, r->since + 1 < log->next_seq, wait_ms);
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

  long_poll_wake (&log->readers, NULL); /* every reader has a new event now */
}

void
event_log_free (EventLog *log)
{
  if (log == NULL)
    return;
  long_poll_clear (&log->readers);
  for (guint i = 0; i < EVENT_LOG_SIZE; i++)
    if (log->ring[i])
      json_object_unref (log->ring[i]);
  g_free (log);
}
