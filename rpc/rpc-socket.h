/* rpc-socket.h — internal to rpc/: binding the daemon's nanomsg sockets. */
#pragma once

#include <glib.h>

/* Creates a nanomsg socket of @protocol and binds it to @address. For
 * ipc:// the socket file is created 0600 (umask around the bind, then
 * chmod) and its path is returned in @ipc_path (NULL otherwise). Returns the
 * socket or -1 with @error naming @what. */
int rpc_socket_bind_private (int domain, int protocol, const char *address, const char *what,
                             char **ipc_path, GError **error);
