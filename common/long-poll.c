#include "long-poll.h"

typedef struct
{
  LongPoll *lp;
  GTask *task;
  gpointer waiter;
  guint timer;
} Parked;

void
long_poll_init (LongPoll *lp, LongPollAnswer answer, gpointer owner)
{
  lp->parked = NULL;
  lp->answer = answer;
  lp->owner = owner;
}

static void
answer (Parked *p)
{
  LongPoll *lp = p->lp;
  g_clear_handle_id (&p->timer, g_source_remove);
  lp->parked = g_list_remove (lp->parked, p);
  lp->answer (p->task, p->waiter, lp->owner);
  g_free (p->waiter);
  g_free (p);
}

static gboolean
on_timeout (gpointer data)
{
  Parked *p = data;
  p->timer = 0;
  answer (p);
  return G_SOURCE_REMOVE;
}

void
long_poll_add (LongPoll *lp, GTask *task, gpointer waiter, gboolean ready, guint wait_ms)
{
  Parked *p = g_new0 (Parked, 1);
  p->lp = lp;
  p->task = task;
  p->waiter = waiter;
  lp->parked = g_list_prepend (lp->parked, p);
  if (ready || wait_ms == 0)
    answer (p);
  else
    p->timer = g_timeout_add (wait_ms, on_timeout, p);
}

void
long_poll_wake (LongPoll *lp, LongPollReady ready)
{
  GList *l = lp->parked;
  while (l)
    {
      GList *next = l->next;
      Parked *p = l->data;
      if (ready == NULL || ready (p->waiter, lp->owner))
        answer (p);
      l = next;
    }
}

void
long_poll_clear (LongPoll *lp)
{
  while (lp->parked)
    answer (lp->parked->data);
}
