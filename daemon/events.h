/* events.h — the daemon's event log: every event gets a sequence number,
 * is kept in a ring of the last EVENT_LOG_SIZE, published live, and served
 * by Events.Read so a client that was away resumes without loss. */
#pragma once

#include "rpc-publisher.h"

#define EVENT_LOG_SIZE 4096

typedef struct EventLog EventLog;

EventLog *event_log_new (RpcPublisher *publisher);
void event_log_free (EventLog *log);

/* Adds "seq", "time" and "type" to @fields (ownership taken) and emits it. */
void event_log_emit (EventLog *log, const char *type, JsonObject *fields);

/* Called with each event after it is emitted (one listener: the D-Bus face). */
typedef void (*EventListener) (const char *type, JsonObject *event, gpointer user_data);
void event_log_set_listener (EventLog *log, EventListener listener, gpointer user_data);

/* Answers with {"events", "next_seq", "lost"} (a JSON object: finish with
 * g_task_propagate_pointer): the events after @since_seq, waiting up to
 * @wait_ms when there are none yet. */
void event_log_read_async (EventLog *log, guint64 since_seq, guint wait_ms, guint max_events,
                           GAsyncReadyCallback callback, gpointer user_data);
