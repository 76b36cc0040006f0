/* rpc-socket.h — internal to rpc/: binding the daemon's nanomsg sockets. */
#pragma once

#include <glib.h>

/* Creates a nanomsg socket of @protocol and binds it to @address. For
 * ipc:// the socket file is created 0600 (umask around the bind, then
 * chmod) and its path is returned in @ipc_path (NULL otherwise), the
 * endpoint in *@endpoint (or NULL). Returns the socket or -1 with @error
 * naming @what. */
int rpc_socket_bind_private (int domain, int protocol, const char *address, const char *what,
                             char **ipc_path, int *endpoint, GError **error);

/* A cap on the connections @sock (bound to @address by the above) holds:
 * checked every second, and past @max every one of them is closed at
 * once (the endpoint is shut down and bound again, its file 0600 anew),
 * between @around (data, FALSE) and @around (data, TRUE): to take its
 * directory back and give it back to whoever it was given. nanomsg
 * accepts in a thread of its own and has no per-connection refusal: a
 * client past the cap loses all of its socket's connections, which are
 * its own on a socket that serves it alone (a tenant's). */
typedef struct RpcConnectionCap RpcConnectionCap;
RpcConnectionCap *rpc_connection_cap_new (int sock, int endpoint, const char *address, guint max,
                                          void (*around) (gpointer data, gboolean done),
                                          gpointer data);
void rpc_connection_cap_free (RpcConnectionCap *cap);
