#include "agent-protocol.h"

#include "json-fields.h"

#include <string.h>

GQuark
agent_protocol_error_quark (void)
{
  return g_quark_from_static_string ("agent-protocol-error-quark");
}

struct AgentDecoder
{
  GByteArray *buf;
  gsize consumed; /* bytes of buf already returned as frames */
  gboolean broken;
  char *resync_token; /* scanning for the guest's "resynced" with it */
};

AgentDecoder *
agent_decoder_new (void)
{
  AgentDecoder *d = g_new0 (AgentDecoder, 1);
  d->buf = g_byte_array_new ();
  return d;
}

void
agent_decoder_free (AgentDecoder *decoder)
{
  if (decoder == NULL)
    return;
  g_byte_array_unref (decoder->buf);
  g_free (decoder->resync_token);
  g_free (decoder);
}

static void
decoder_compact (AgentDecoder *d)
{
  if (d->consumed > 0)
    {
      g_byte_array_remove_range (d->buf, 0, d->consumed);
      d->consumed = 0;
    }
}

void
agent_decoder_push (AgentDecoder *decoder, const guint8 *data, gsize len)
{
  decoder_compact (decoder);
  g_byte_array_append (decoder->buf, data, len);
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

const char *
agent_frame_type_to_string (AgentFrameType type)
{
  switch (type)
    {
    case AGENT_FRAME_CONTROL:
      return "control";
    case AGENT_FRAME_STDIN:
      return "stdin";
    case AGENT_FRAME_STDOUT:
      return "stdout";
    case AGENT_FRAME_STDERR:
      return "stderr";
    }
  return "unknown";
}

/* Whether the frame is {"type": "resynced", "token": @token}. */
static gboolean
is_resynced (const AgentFrame *f, const char *token)
{
  if (f->type != AGENT_FRAME_CONTROL)
    return FALSE;
  g_autoptr (JsonObject) msg = agent_control_parse (f, NULL);
  const char *got = NULL;
  return msg != NULL && g_str_equal (json_object_get_string_member (msg, "type"), "resynced")
         && json_field_string (msg, "token", TRUE, &got, NULL) && g_str_equal (got, token);
}

/* Whether the 12 bytes at @h are a frame header; if not, why in @error. */
static gboolean
header_valid (const guint8 *h, GError **error)
{
  guint8 type = h[0], flags = h[1];
  guint16 reserved = (guint16) ((h[2] << 8) | h[3]);
  guint32 length = read_be32 (h + 8);
  if (type < AGENT_FRAME_CONTROL || type > AGENT_FRAME_STDERR)
    g_set_error (error, AGENT_PROTOCOL_ERROR, 0, "bad frame: unknown type %u", type);
  else if (reserved != 0 || (flags & ~AGENT_FRAME_FLAG_EOF) != 0)
    g_set_error (error, AGENT_PROTOCOL_ERROR, 0,
                 "bad frame: reserved bits set (flags 0x%02x, reserved 0x%04x)", flags, reserved);
  else if (length > AGENT_FRAME_MAX_PAYLOAD)
    g_set_error (error, AGENT_PROTOCOL_ERROR, 0,
                 "bad frame: %s payload of %u bytes exceeds the maximum of %u",
                 agent_frame_type_to_string (type), length, AGENT_FRAME_MAX_PAYLOAD);
  else
    return TRUE;
  return FALSE;
}

gboolean
agent_decoder_next (AgentDecoder *decoder, AgentFrame *frame, GError **error)
{
  for (;;)
    {
      if (decoder->broken)
        {
          g_set_error (error, AGENT_PROTOCOL_ERROR, 0, "decoder already failed");
          return FALSE;
        }
      while (decoder->consumed < decoder->buf->len
             && decoder->buf->data[decoder->consumed] == AGENT_FRAME_PAD)
        decoder->consumed++;
      gsize avail = decoder->buf->len - decoder->consumed;
      if (avail < AGENT_FRAME_HEADER_SIZE)
        return FALSE;

      const guint8 *h = decoder->buf->data + decoder->consumed;
      gboolean scanning = decoder->resync_token != NULL;
      if (!header_valid (h, scanning ? NULL : error))
        {
          if (scanning)
            {
              decoder->consumed++; /* a frame may start at the next byte */
              continue;
            }
          decoder->broken = TRUE;
          return FALSE;
        }
      guint32 length = read_be32 (h + 8);
      if (avail < AGENT_FRAME_HEADER_SIZE + (gsize) length)
        return FALSE;

      frame->type = h[0];
      frame->flags = h[1];
      frame->stream = read_be32 (h + 4);
      frame->length = length;
      frame->payload = h + AGENT_FRAME_HEADER_SIZE;
      decoder->consumed += AGENT_FRAME_HEADER_SIZE + length;
      if (decoder->resync_token == NULL)
        return TRUE;
      if (is_resynced (frame, decoder->resync_token))
        g_clear_pointer (&decoder->resync_token, g_free);
    }
}

void
agent_decoder_resync (AgentDecoder *decoder, const char *token)
{
  g_free (decoder->resync_token);
  decoder->resync_token = g_strdup (token);
}

gboolean
agent_decoder_resyncing (const AgentDecoder *decoder)
{
  return decoder->resync_token != NULL;
}

void
agent_frames_append_pad (GByteArray *out)
{
  guint at = out->len;
  g_byte_array_set_size (out, at + AGENT_RESYNC_PAD_SIZE);
  memset (out->data + at, AGENT_FRAME_PAD, AGENT_RESYNC_PAD_SIZE);
}

void
agent_frame_header (guint8 h[AGENT_FRAME_HEADER_SIZE], AgentFrameType type, guint8 flags,
                    guint32 stream, gsize len)
{
  g_assert (len <= AGENT_FRAME_MAX_PAYLOAD);
  const guint8 header[AGENT_FRAME_HEADER_SIZE] = {
    (guint8) type,
    flags,
    0,
    0,
    (guint8) (stream >> 24),
    (guint8) (stream >> 16),
    (guint8) (stream >> 8),
    (guint8) stream,
    (guint8) (len >> 24),
    (guint8) (len >> 16),
    (guint8) (len >> 8),
    (guint8) len,
  };
  memcpy (h, header, sizeof header);
}

void
agent_frame_append (GByteArray *out, AgentFrameType type, guint8 flags, guint32 stream,
                    const void *payload, gsize len)
{
  guint8 h[AGENT_FRAME_HEADER_SIZE];
  agent_frame_header (h, type, flags, stream, len);
  g_byte_array_append (out, h, sizeof h);
  if (len > 0)
    g_byte_array_append (out, payload, (guint) len);
}

gboolean
agent_frame_append_control (GByteArray *out, JsonObject *message, GError **error)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), message);
  g_autofree char *text = json_to_string (node, FALSE);
  gsize len = strlen (text);
  if (len > AGENT_FRAME_MAX_PAYLOAD)
    {
      g_set_error (error, AGENT_PROTOCOL_ERROR, 0,
                   "control message of %zu bytes exceeds the maximum of %u", len,
                   AGENT_FRAME_MAX_PAYLOAD);
      return FALSE;
    }
  agent_frame_append (out, AGENT_FRAME_CONTROL, 0, 0, text, len);
  return TRUE;
}

void
agent_frames_append_data (GByteArray *out, AgentFrameType type, guint8 flags, guint32 stream,
                          const guint8 *bytes, gsize len)
{
  do
    {
      gsize n = MIN (len, AGENT_FRAME_MAX_PAYLOAD);
      agent_frame_append (out, type, n == len ? flags : 0, stream, bytes, n);
      bytes += n;
      len -= n;
    }
  while (len > 0);
}

JsonObject *
agent_control_parse (const AgentFrame *frame, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;

  if (frame->length == 0)
    {
      g_set_error (error, AGENT_PROTOCOL_ERROR, 0, "bad control frame: empty");
      return NULL;
    }
  if (!json_text_check_depth ((const char *) frame->payload, frame->length, JSON_MAX_DEPTH, &local)
      || !json_parser_load_from_data (parser, (const char *) frame->payload, frame->length, &local))
    {
      g_set_error (error, AGENT_PROTOCOL_ERROR, 0, "bad control frame: not JSON: %s",
                   local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, AGENT_PROTOCOL_ERROR, 0, "bad control frame: not a JSON object");
      return NULL;
    }
  JsonObject *obj = json_node_get_object (root);
  JsonNode *type = json_object_get_member (obj, "type");
  if (type == NULL || !JSON_NODE_HOLDS_VALUE (type)
      || json_node_get_value_type (type) != G_TYPE_STRING)
    {
      g_set_error (error, AGENT_PROTOCOL_ERROR, 0,
                   "bad control frame: member \"type\" missing or not a string");
      return NULL;
    }
  return json_object_ref (obj);
}
