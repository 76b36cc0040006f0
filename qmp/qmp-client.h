/* qmp-client.h — an asynchronous QMP client on the GLib main loop.
 *
 * One client per QEMU. Connect, then execute commands; each command gets a
 * unique id and its own timeout, and replies are matched by id (a reply that
 * arrives after its timeout is recognised and dropped). Events go to their
 * subscribers. When QEMU closes the socket or sends something that is not
 * QMP, every pending command fails and the closed handler is called once.
 *
 * Callbacks are never called from qmp_client_free(): freeing drops them.
 * Do not free the client from inside one of its callbacks; defer it.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#define QMP_ERROR (qmp_error_quark ())
GQuark qmp_error_quark (void);

typedef enum
{
  QMP_ERROR_COMMAND,  /* QEMU answered with an error: "<class>: <desc>" */
  QMP_ERROR_PROTOCOL, /* the peer sent something that is not QMP */
  QMP_ERROR_TIMEOUT,  /* no reply within the command's timeout */
  QMP_ERROR_CLOSED,   /* the connection is gone */
  QMP_ERROR_CONNECT,  /* could not connect within the timeout */
  QMP_ERROR_BACKLOG,  /* QEMU does not read: too much waits to be sent (nothing queued) */
} QmpError;

/* What may wait for a QEMU that does not read its QMP socket: past either,
 * a new command fails at once (QMP_ERROR_BACKLOG) and the client keeps no
 * more of it. */
#define QMP_BACKLOG_MAX_BYTES (1024 * 1024)
#define QMP_BACKLOG_MAX_COMMANDS 256

typedef struct QmpClient QmpClient;

/* @result is the "return" member (any JSON) or NULL with @error set. */
typedef void (*QmpReplyFunc) (QmpClient *client, JsonNode *result, const GError *error,
                              gpointer user_data);
typedef void (*QmpEventFunc) (QmpClient *client, const char *event, JsonObject *data,
                              gpointer user_data);
typedef void (*QmpClosedFunc) (QmpClient *client, const GError *reason, gpointer user_data);

/* @socket_path: where to connect, also named in errors. */
QmpClient *qmp_client_new (const char *socket_path);
void qmp_client_free (QmpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpClient, qmp_client_free)

/* Calls @func for each event named @event (NULL: every event), in the order
 * subscribed. Returns an id for qmp_client_unsubscribe. */
guint qmp_client_subscribe (QmpClient *client, const char *event, QmpEventFunc func,
                            gpointer user_data);
/* The same, @destroy called on @user_data when the subscription goes
 * (unsubscribed, or the client freed). */
guint qmp_client_subscribe_full (QmpClient *client, const char *event, QmpEventFunc func,
                                 gpointer user_data, GDestroyNotify destroy);
void qmp_client_unsubscribe (QmpClient *client, guint subscription);
void qmp_client_set_closed_handler (QmpClient *client, QmpClosedFunc func, gpointer user_data);

/* Connects (retrying while QEMU has not created the socket yet), reads the
 * greeting and negotiates capabilities; then calls @ready with the greeting's
 * "QMP" object as result. */
void qmp_client_connect_async (QmpClient *client, guint timeout_ms, QmpReplyFunc ready,
                               gpointer user_data);

/* While connecting, give up as soon as QEMU process @pid has exited; and
 * accept the socket only if @pid serves it (SO_PEERCRED). */
void qmp_client_set_process (QmpClient *client, GPid pid);

/* Uses @fd, a socket already connected to QMP (ownership taken), then
 * reads the greeting and negotiates as qmp_client_connect_async does. */
void qmp_client_connect_fd_async (QmpClient *client, int fd, QmpReplyFunc ready,
                                  gpointer user_data);

/* Sends @command with @arguments (may be NULL; ownership taken). */
void qmp_client_execute_async (QmpClient *client, const char *command, JsonObject *arguments,
                               guint timeout_ms, QmpReplyFunc callback, gpointer user_data);

/* The same, passing a duplicate of @fd with the command (SCM_RIGHTS), as
 * "getfd" and "add-fd" expect. The caller keeps its own @fd. */
void qmp_client_execute_with_fd_async (QmpClient *client, const char *command,
                                       JsonObject *arguments, int fd, guint timeout_ms,
                                       QmpReplyFunc callback, gpointer user_data);

/* "major.minor.micro" from the greeting, or NULL before it. */
const char *qmp_client_get_qemu_version (QmpClient *client);
gboolean qmp_client_is_connected (QmpClient *client);
/* The greeting's capabilities (e.g. "oob"), or NULL before it. */
const char *const *qmp_client_get_capabilities (QmpClient *client);
