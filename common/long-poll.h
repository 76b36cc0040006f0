/* long-poll.h — calls that wait until there is something to answer them
 * with, or until their wait runs out: ReadOutput at the end of an open
 * stream, Events.Read with no new event. */
#pragma once

#include <gio/gio.h>

/* Returns @task from @waiter, the owner's per-call data (freed afterwards
 * with g_free); the answer owns @task (returns it and drops it). */
typedef void (*LongPollAnswer) (GTask *task, gpointer waiter, gpointer owner);
/* Whether @waiter can be answered now. */
typedef gboolean (*LongPollReady) (gpointer waiter, gpointer owner);

typedef struct
{
  GList *parked;
  LongPollAnswer answer;
  gpointer owner;
} LongPoll;

void long_poll_init (LongPoll *lp, LongPollAnswer answer, gpointer owner);
/* Answers @task at once when @ready or @wait_ms is 0; otherwise parks it
 * until long_poll_wake finds it ready or @wait_ms passes. Takes @task and
 * @waiter. */
void long_poll_add (LongPoll *lp, GTask *task, gpointer waiter, gboolean ready, guint wait_ms);
/* Answers the parked calls @ready says can be (NULL: all of them). */
void long_poll_wake (LongPoll *lp, LongPollReady ready);
/* Answers every parked call as things stand. */
void long_poll_clear (LongPoll *lp);
