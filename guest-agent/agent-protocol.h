/* agent-protocol.h — the wire format between sandboxd and sandbox-agent.
 *
 * This header is the whole contract of the agent channel; PROTOCOL.md
 * describes it in prose. Both sides link agent-protocol.c.
 *
 * A frame is a 12-byte header followed by `length` payload bytes:
 *   u8 type | u8 flags | u16 reserved (0) | u32 stream | u32 length
 * all big-endian. CONTROL frames carry one JSON object; data frames carry
 * raw bytes of one process stream. A pad byte (AGENT_FRAME_PAD) where a
 * header would start is skipped: a resync (below) sends a run of them.
 */
#pragma once

#include "agent-protocol-version.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#define AGENT_PORT_NAME "org.sandboxd.agent.0"
#define AGENT_FRAME_HEADER_SIZE 12
#define AGENT_FRAME_MAX_PAYLOAD (64 * 1024)
/* The most output bytes of one stream the host may leave unacknowledged:
 * past it the agent stops reading that process's pipe, so a slow reader on
 * the host slows the process down (per-stream flow control). */
#define AGENT_STREAM_WINDOW (1024 * 1024)

/* Skipped where a frame header would start. */
#define AGENT_FRAME_PAD 0xff
/* A resync's run of pad bytes: longer than the longest frame, so a frame
 * whose start the receiver had (or seemed to have) ends within it. */
#define AGENT_RESYNC_PAD_SIZE (AGENT_FRAME_MAX_PAYLOAD + 2 * AGENT_FRAME_HEADER_SIZE)

typedef enum
{
  AGENT_FRAME_CONTROL = 1, /* JSON object; stream is 0 */
  AGENT_FRAME_STDIN = 2,   /* host to guest, stream = process id */
  AGENT_FRAME_STDOUT = 3,  /* guest to host, stream = process id */
  AGENT_FRAME_STDERR = 4,  /* guest to host, stream = process id */
} AgentFrameType;

/* On a data frame: this is the stream's last frame (payload may be empty). */
#define AGENT_FRAME_FLAG_EOF 0x01

typedef struct
{
  AgentFrameType type;
  guint8 flags;
  guint32 stream;
  guint32 length;
  const guint8 *payload; /* valid until the next agent_decoder_* call */
} AgentFrame;

#define AGENT_PROTOCOL_ERROR (agent_protocol_error_quark ())
GQuark agent_protocol_error_quark (void);

typedef struct AgentDecoder AgentDecoder;

AgentDecoder *agent_decoder_new (void);
void agent_decoder_free (AgentDecoder *decoder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentDecoder, agent_decoder_free)

/* Appends received bytes. */
void agent_decoder_push (AgentDecoder *decoder, const guint8 *data, gsize len);

/* TRUE and *frame filled when a whole frame is buffered; FALSE with no error
 * when more bytes are needed; FALSE with @error when the bytes are not a valid
 * frame (the decoder is then unusable: close the channel). */
gboolean agent_decoder_next (AgentDecoder *decoder, AgentFrame *frame, GError **error);

/* A new host on a port the guest may not have seen the old host leave:
 * what arrives before the guest's answer may start in the middle of a
 * frame, or be an old session's. Until the control frame
 * {"type": "resynced", "token": @token} has passed, the decoder returns
 * no frame and no error: a bad header there skips one byte, and every
 * frame is dropped. The guest answers a "resync" request with
 * AGENT_RESYNC_PAD_SIZE pad bytes and then that frame, so the scan ends
 * on it whatever came before. */
void agent_decoder_resync (AgentDecoder *decoder, const char *token);
gboolean agent_decoder_resyncing (const AgentDecoder *decoder);

/* Appends AGENT_RESYNC_PAD_SIZE pad bytes. */
void agent_frames_append_pad (GByteArray *out);

/* The header of a frame of @len payload bytes (<= AGENT_FRAME_MAX_PAYLOAD). */
void agent_frame_header (guint8 h[AGENT_FRAME_HEADER_SIZE], AgentFrameType type, guint8 flags,
                         guint32 stream, gsize len);

/* Appends one encoded frame to @out. @len must be <= AGENT_FRAME_MAX_PAYLOAD. */
void agent_frame_append (GByteArray *out, AgentFrameType type, guint8 flags, guint32 stream,
                         const void *payload, gsize len);

/* Appends @len bytes (any length, 0 too) of one stream as frames of at
 * most AGENT_FRAME_MAX_PAYLOAD; @flags go on the last frame only. */
void agent_frames_append_data (GByteArray *out, AgentFrameType type, guint8 flags, guint32 stream,
                               const guint8 *bytes, gsize len);

/* Appends a CONTROL frame holding @message. FALSE if it would exceed the
 * maximum payload. */
gboolean agent_frame_append_control (GByteArray *out, JsonObject *message, GError **error);

/* Parses a CONTROL frame's payload; the result always has a string "type". */
JsonObject *agent_control_parse (const AgentFrame *frame, GError **error);

const char *agent_frame_type_to_string (AgentFrameType type);
