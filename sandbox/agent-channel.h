/* agent-channel.h — the host end of one sandbox's agent channel.
 *
 * The guest is hostile: every frame is bounded and validated by the
 * decoder; the first bad frame closes the channel with a reason naming the
 * fault, and the owner fails that sandbox only.
 */
#pragma once

#include "agent-protocol.h"

typedef struct AgentChannel AgentChannel;

/* What may wait to be sent to a guest that does not read its port: past
 * it the queue is dropped and the channel closed with that reason. */
#define AGENT_CHANNEL_BACKLOG_MAX (16 * 1024 * 1024)

typedef struct
{
  /* A control message; it always has a string "type". */
  void (*control) (JsonObject *message, gpointer user_data);
  /* Bytes of a process stream; @eof on its last frame. */
  void (*data) (guint32 stream, AgentFrameType type, const guint8 *bytes, gsize len, gboolean eof,
                gpointer user_data);
  /* The channel is closed (EOF, I/O error or bad frame). Called once. The
   * owner may free the channel only after returning (defer it). */
  void (*closed) (const GError *reason, gpointer user_data);
} AgentChannelCallbacks;

/* Connects to the unix socket QEMU serves for the agent port, retrying
 * every few milliseconds until @timeout_ms (QEMU creates it at start). */
AgentChannel *agent_channel_new (const char *socket_path, guint timeout_ms,
                                 const AgentChannelCallbacks *callbacks, gpointer user_data);
/* Accept the socket only if process @pid (QEMU) serves it (SO_PEERCRED);
 * set before the first connect attempt. */
void agent_channel_set_peer (AgentChannel *channel, GPid pid);
void agent_channel_free (AgentChannel *channel);

/* Reads and dispatches what the guest sent and the socket still holds, now:
 * when QEMU has exited, its last words may not have been read yet. */
void agent_channel_drain (AgentChannel *channel);

/* For a guest whose channel had another host before (sandboxd restarted):
 * it may not have seen that host leave, so its first bytes here may be the
 * middle of a frame, or an old session's. Asks it for a resync and passes
 * on nothing it sent before answering (agent_decoder_resync). Call right
 * after agent_channel_new, before anything else is sent. */
void agent_channel_resync (AgentChannel *channel);

gboolean agent_channel_send_control (AgentChannel *channel, JsonObject *message, GError **error);
/* Sends @len bytes (any length: split into frames) of a host-to-guest
 * stream; @eof marks the last. */
gboolean agent_channel_send_data (AgentChannel *channel, AgentFrameType type, guint32 stream,
                                  const guint8 *bytes, gsize len, gboolean eof, GError **error);
