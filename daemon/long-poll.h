/* long-poll.h — calls that wait until there is something to answer them
 * with, or until their wait runs out: ReadOutput at the end of an open
 * stream, Events.Read with no new event. */
#pragma once

#include "rpc-server.h"

/* Answers @call from @waiter, the owner's per-call data (freed afterwards
 * with g_free). */
typedef void (*LongPollAnswer) (RpcCall *call, gpointer waiter, gpointer owner);
/* Whether @waiter can be answered now. */
typedef gboolean (*LongPollReady) (gpointer waiter, gpointer owner);

typedef struct
{
  GList *parked;
  LongPollAnswer answer;
  gpointer owner;
} LongPoll;

void long_poll_init (LongPoll *lp, LongPollAnswer answer, gpointer owner);
/* Answers @call at once when @ready or @wait_ms is 0; otherwise parks it
 * until long_poll_wake finds it ready or @wait_ms passes. Takes @waiter. */
void long_poll_add (LongPoll *lp, RpcCall *call, gpointer waiter, gboolean ready, guint wait_ms);
/* Answers the parked calls @ready says can be (NULL: all of them). A call
 * whose deadline already answered it is let go as well. */
void long_poll_wake (LongPoll *lp, LongPollReady ready);
/* Answers every parked call as things stand. */
void long_poll_clear (LongPoll *lp);
