/* sandbox-pause.c — pausing a sandbox: its vCPUs stop (QMP stop) and go
 * on (cont). The guest's memory and devices stay; nothing runs in it, so
 * calls that need the guest wait until it goes on. */
#include "sandbox-private.h"

#define PAUSE_QMP_TIMEOUT_MS 10000

typedef struct
{
  Sandbox *sb;
  GTask *task;
  gboolean pause;
} PauseCall;

static void
on_paused (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  PauseCall *c = data;
  if (error)
    sandbox_reply_error (c->task, SANDBOX_ERROR_GONE, "sandbox %s: %s", c->sb->name,
                         error->message);
  else
    {
      c->sb->paused = c->pause;
      c->sb->ops->save (c->sb);
      sandbox_reply_json (c->task, sandbox_to_json (c->sb));
    }
  g_free (c);
}

void
sandbox_pause_async (Sandbox *sb, gboolean pause, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  if (sb->state != SANDBOX_RUNNING || sb->qmp == NULL)
    {
      sandbox_reply_error (task, SANDBOX_ERROR_STATE, "sandbox %s is %s, not running", sb->name,
                           sandbox_state_to_string (sb->state));
      return;
    }
  if (sb->paused == pause)
    {
      sandbox_reply_error (task, SANDBOX_ERROR_STATE, "sandbox %s is %s", sb->name,
                           pause ? "paused already" : "not paused");
      return;
    }
  PauseCall *c = g_new0 (PauseCall, 1);
  *c = (PauseCall){ sb, task, pause };
  QemuReply reply = { PAUSE_QMP_TIMEOUT_MS, on_paused, c };
  if (pause)
    qemu_monitor_stop (sb->qmp, &reply);
  else
    qemu_monitor_cont (sb->qmp, &reply);
}
