/* container-request.h — the container part of an RPC request (Create's or
 * AddContainer's): one of rootfs, bundle or image, read and checked, then
 * the root's image found or built off the main loop. */
#pragma once

#include "daemon.h"
#include "sandbox.h"

/* Called once the image is there; @config is valid during the call only. */
typedef void (*ContainerReady) (Daemon *daemon, RpcCall *call, const SandboxContainerConfig *config,
                                gpointer data);

/* TRUE if @params name a root (rootfs, bundle or image). */
gboolean container_request_wanted (JsonObject *params);

/* Checks @params' container fields (the error names the field or the file,
 * in RPC_ERROR); then builds or reuses the image and calls @ready, or
 * answers @call with why it could not. When it returns TRUE, @data is
 * freed with @free_data afterwards; on FALSE it is the caller's. */
gboolean container_request_start (Daemon *daemon, RpcCall *call, JsonObject *params,
                                  const char *name, ContainerReady ready, gpointer data,
                                  GDestroyNotify free_data, GError **error);
