/* rpc-publisher.h — live events on a nanomsg PUB socket: one JSON object
 * per message. Subscribers that are away miss them; Events.Read serves the
 * same events by sequence number, without loss. */
#pragma once

#include <json-glib/json-glib.h>

typedef struct RpcPublisher RpcPublisher;

/* For ipc:// the socket file is made 0600, like the RPC socket. */
RpcPublisher *rpc_publisher_new (const char *address, GError **error);
void rpc_publisher_free (RpcPublisher *publisher);
/* As rpc_server_cap_connections, for its subscribers. */
void rpc_publisher_cap_connections (RpcPublisher *publisher, guint max,
                                    void (*around) (gpointer data, gboolean done), gpointer data);
/* Never blocks: a subscriber that cannot keep up loses messages. */
void rpc_publisher_send (RpcPublisher *publisher, JsonObject *message);
