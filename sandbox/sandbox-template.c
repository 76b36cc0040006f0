/* sandbox-template.c — a sandbox as a template's build or as a clone
 * (templates.c keeps the templates; docs/templates.md).
 *
 * A build boots like any sandbox; at the agent's hello the guest is told
 * to "freeze", then QMP stop and migrate to the template's file (an fd
 * passed with getfd: QEMU's jail opens nothing, and -sandbox spawn=deny
 * rules out exec: URIs), written to a temporary name and renamed once
 * complete.
 *
 * A clone's QEMU starts with the template's machine and -incoming defer;
 * once QMP is there it gets a read-only fd of the state (getfd,
 * migrate-incoming), goes on (cont) when the load is complete, and its
 * agent is told to "thaw" (entropy, clock, hostname) before it says hello
 * again. Whatever fails before that hello kills QEMU and the core boots
 * the sandbox cold: a template never fails a create. */
#include "sandbox-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#define TEMPLATE_QMP_TIMEOUT_MS 10000
#define MIGRATE_POLL_MS 10
#define THAW_TIMEOUT_S 10
#define STATE_FDNAME "sandboxd-state"

void
sandbox_template_clear (Sandbox *sb)
{
  g_clear_handle_id (&sb->template_timer, g_source_remove);
}

void
sandbox_restore_fail (Sandbox *sb, const char *fmt, ...)
{
  if (sb->fall_back || sb->restore_from == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *why = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_message ("sandbox %s: restoring it from its template failed: %s; booting it cold", sb->name,
             why);
  sandbox_template_clear (sb);
  if (sb->ctx->template_discard)
    sb->ctx->template_discard (sb->ctx, sb->restore_from, why);
  g_free (sb->cold_reason);
  sb->cold_reason = g_steal_pointer (&why);
  sb->fall_back = TRUE;
  if (sb->pid > 0)
    sb->ops->signal_qemu (sb, SIGKILL);
}

/* A step of the restore or of the snapshot failed: a clone falls back to a
 * cold boot, a build fails. */
static void
step_failed (Sandbox *sb, const char *step, const char *why)
{
  if (sb->restore_from)
    sandbox_restore_fail (sb, "%s: %s", step, why);
  else
    sb->ops->fail (sb, why);
}

static gboolean
on_thaw_timeout (gpointer data)
{
  Sandbox *sb = data;
  sb->template_timer = 0;
  sandbox_restore_fail (sb, "the agent did not answer thaw within %d s", THAW_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

void
sandbox_restore_thaw (Sandbox *sb)
{
  guchar entropy[64];
  g_autoptr (GError) error = NULL;
  if (getrandom (entropy, sizeof entropy, 0) != (ssize_t) sizeof entropy)
    {
      sandbox_restore_fail (sb, "getrandom: %s", g_strerror (errno));
      return;
    }
  g_autofree char *b64 = g_base64_encode (entropy, sizeof entropy);
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "thaw");
  json_object_set_string_member (msg, "hostname", sb->name);
  json_object_set_string_member (msg, "entropy", b64);
  json_object_set_int_member (msg, "realtime_us", g_get_real_time ());
  /* Its network, as a cold boot's kernel command line would give it. */
  Network *net = sb->network;
  g_autofree char *addr
      = net && net->address
            ? g_strdup_printf ("%s/%u,%s,%u", net->address, net->prefix,
                               net->gateway ? net->gateway : "0.0.0.0", net->mtu ? net->mtu : 1500)
            : NULL;
  if (addr)
    json_object_set_string_member (msg, "net", addr);
  if (addr && net->dns)
    json_object_set_string_member (msg, "dns", net->dns);
  if (addr && net->mac)
    json_object_set_string_member (msg, "mac", net->mac);
  if (sb->agent == NULL || !agent_channel_send_control (sb->agent, msg, &error))
    {
      sandbox_restore_fail (sb, "thaw: %s", error ? error->message : "no agent channel");
      return;
    }
  sb->template_timer = g_timeout_add_seconds (THAW_TIMEOUT_S, on_thaw_timeout, sb);
}

static void
on_cont (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  if (error)
    sandbox_restore_fail (sb, "cont: %s", error->message);
  else
    sandbox_restore_thaw (sb);
}

static gboolean poll_migration (gpointer data);

/* query-migrate: "completed" goes on, "failed" falls back, else again. */
static void
on_migrate_status (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  if (sb->fall_back || (sb->restore_from == NULL && sb->snapshot_to == NULL))
    return;
  JsonObject *o = result && JSON_NODE_HOLDS_OBJECT (result) ? json_node_get_object (result) : NULL;
  const char *status = o ? json_object_get_string_member_with_default (o, "status", "") : "";
  gboolean done = g_str_equal (status, "completed");
  gboolean failed = error || g_str_equal (status, "failed") || g_str_equal (status, "cancelled");
  if (!done && !failed)
    {
      sb->template_timer = g_timeout_add (MIGRATE_POLL_MS, poll_migration, sb);
      return;
    }
  const char *why = error ? error->message
                    : o   ? json_object_get_string_member_with_default (o, "error-desc", status)
                          : status;
  if (sb->restore_from)
    {
      if (failed)
        sandbox_restore_fail (sb, "the state did not load: %s", why);
      else
        qemu_monitor_cont (sb->qmp, &(QemuReply){ TEMPLATE_QMP_TIMEOUT_MS, on_cont, sb });
      return;
    }
  /* A build: the state is complete (or not) in its temporary file. */
  g_autofree char *tmp = g_strconcat (sb->snapshot_to, ".tmp", NULL);
  int fd = failed ? -1 : open (tmp, O_RDONLY | O_CLOEXEC);
  if (failed || fd < 0 || fsync (fd) < 0 || g_rename (tmp, sb->snapshot_to) < 0)
    {
      if (fd >= 0)
        close (fd);
      g_unlink (tmp);
      sb->ops->fail (sb, failed ? why : g_strerror (errno));
      return;
    }
  close (fd);
  sb->ops->boot_finished (sb);
}

static gboolean
poll_migration (gpointer data)
{
  Sandbox *sb = data;
  sb->template_timer = 0;
  if (sb->qmp)
    qemu_monitor_query_migrate (sb->qmp,
                                &(QemuReply){ TEMPLATE_QMP_TIMEOUT_MS, on_migrate_status, sb });
  return G_SOURCE_REMOVE;
}

static void
on_migrate_started (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  if (error)
    step_failed (sb, "migrate-incoming", error->message);
  else
    poll_migration (sb);
}

static void
on_ignore_shared (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  if (error)
    {
      step_failed (sb, "migrate-set-capabilities", error->message);
      return;
    }
  QemuReply reply = { TEMPLATE_QMP_TIMEOUT_MS, on_migrate_started, sb };
  if (sb->restore_from)
    qemu_monitor_migrate_incoming (qmp, "fd:" STATE_FDNAME, &reply);
  else
    qemu_monitor_migrate (qmp, "fd:" STATE_FDNAME, &reply);
}

/* The RAM is the template's memfd (shared by the build, private to each
 * clone): not in the state, on both sides. */
static void
on_state_fd (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  if (error)
    {
      step_failed (sb, "getfd", error->message);
      return;
    }
  QemuReply reply = { TEMPLATE_QMP_TIMEOUT_MS, on_ignore_shared, sb };
  qemu_monitor_migrate_set_capability (qmp, "x-ignore-shared", TRUE, &reply);
}

static void
send_state_fd (Sandbox *sb, int fd)
{
  QemuReply reply = { TEMPLATE_QMP_TIMEOUT_MS, on_state_fd, sb };
  qemu_monitor_getfd (sb->qmp, STATE_FDNAME, fd, &reply);
  close (fd);
}

void
sandbox_restore_start (Sandbox *sb)
{
  int fd = open (sb->restore_from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    sandbox_restore_fail (sb, "open %s: %s", sb->restore_from, g_strerror (errno));
  else
    send_state_fd (sb, fd);
}

void
sandbox_snapshot_start (Sandbox *sb)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) msg = json_object_new ();
  json_object_set_string_member (msg, "type", "freeze");
  if (!agent_channel_send_control (sb->agent, msg, &error))
    sb->ops->fail (sb, error->message);
}

static void
on_stopped (QmpClient *qmp, JsonNode *result, const GError *error, gpointer data)
{
  Sandbox *sb = data;
  g_autofree char *tmp = g_strconcat (sb->snapshot_to, ".tmp", NULL);
  int fd = error ? -1 : open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    sb->ops->fail (sb, error ? error->message : g_strerror (errno));
  else
    send_state_fd (sb, fd);
}

static gboolean
after_frozen (gpointer data)
{
  Sandbox *sb = data;
  sb->template_timer = 0;
  /* The guest's session ends here: each clone's host starts a new one. */
  g_clear_pointer (&sb->agent, agent_channel_free);
  if (sb->qmp)
    qemu_monitor_stop (sb->qmp, &(QemuReply){ TEMPLATE_QMP_TIMEOUT_MS, on_stopped, sb });
  return G_SOURCE_REMOVE;
}

void
sandbox_snapshot_frozen (Sandbox *sb)
{
  /* From the agent channel's own callback: it goes from the main loop. */
  if (sb->snapshot_to && sb->template_timer == 0)
    sb->template_timer = g_idle_add (after_frozen, sb);
}
