/* The agent frame codec: what a hostile guest's bytes can and cannot do. */
#include "agent-protocol.h"

#include <string.h>

static GByteArray *
one_frame (AgentFrameType type, guint8 flags, guint32 stream, const char *payload)
{
  GByteArray *b = g_byte_array_new ();
  agent_frame_append (b, type, flags, stream, payload, payload ? strlen (payload) : 0);
  return b;
}

static void
test_roundtrip_byte_by_byte (void)
{
  g_autoptr (GByteArray) b = one_frame (AGENT_FRAME_STDOUT, 0, 42, "hello");
  agent_frame_append (b, AGENT_FRAME_STDERR, AGENT_FRAME_FLAG_EOF, 42, NULL, 0);
  g_autoptr (AgentDecoder) d = agent_decoder_new ();
  AgentFrame f;
  GError *error = NULL;
  int frames = 0;

  /* A frame split at every possible byte still comes out whole. */
  for (guint i = 0; i < b->len; i++)
    {
      agent_decoder_push (d, b->data + i, 1);
      while (agent_decoder_next (d, &f, &error))
        {
          if (frames == 0)
            {
              g_assert_cmpint (f.type, ==, AGENT_FRAME_STDOUT);
              g_assert_cmpuint (f.stream, ==, 42);
              g_assert_cmpuint (f.length, ==, 5);
              g_assert_cmpmem (f.payload, f.length, "hello", 5);
              g_assert_cmpint (f.flags, ==, 0);
            }
          else
            {
              g_assert_cmpint (f.type, ==, AGENT_FRAME_STDERR);
              g_assert_cmpint (f.flags, ==, AGENT_FRAME_FLAG_EOF);
              g_assert_cmpuint (f.length, ==, 0);
            }
          frames++;
        }
      g_assert_no_error (error);
    }
  g_assert_cmpint (frames, ==, 2);
}

static void
expect_bad (const guint8 *bytes, gsize len, const char *fragment)
{
  g_autoptr (AgentDecoder) d = agent_decoder_new ();
  g_autoptr (GError) error = NULL;
  AgentFrame f;
  agent_decoder_push (d, bytes, len);
  g_assert_false (agent_decoder_next (d, &f, &error));
  g_assert_error (error, AGENT_PROTOCOL_ERROR, 0);
  g_assert_nonnull (strstr (error->message, fragment));
  /* A failed decoder stays failed. */
  g_clear_error (&error);
  g_assert_false (agent_decoder_next (d, &f, &error));
  g_assert_nonnull (error);
}

static void
test_oversized_frame_is_refused_from_its_header (void)
{
  /* Only the header arrives: the size alone condemns it, before any
   * payload is buffered. */
  guint8 h[12] = { AGENT_FRAME_STDOUT, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff };
  expect_bad (h, sizeof h, "exceeds the maximum of 65536");
}

static void
test_unknown_type_is_refused (void)
{
  guint8 h[12] = { 9, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
  expect_bad (h, sizeof h, "unknown type 9");
}

static void
test_reserved_bits_are_refused (void)
{
  guint8 h[12] = { AGENT_FRAME_STDOUT, 0x80, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
  expect_bad (h, sizeof h, "reserved bits set");
}

static void
test_max_payload_is_accepted (void)
{
  g_autofree char *big = g_malloc0 (AGENT_FRAME_MAX_PAYLOAD);
  g_autoptr (GByteArray) b = g_byte_array_new ();
  agent_frame_append (b, AGENT_FRAME_STDOUT, 0, 1, big, AGENT_FRAME_MAX_PAYLOAD);
  g_autoptr (AgentDecoder) d = agent_decoder_new ();
  g_autoptr (GError) error = NULL;
  AgentFrame f;
  agent_decoder_push (d, b->data, b->len);
  g_assert_true (agent_decoder_next (d, &f, &error));
  g_assert_cmpuint (f.length, ==, AGENT_FRAME_MAX_PAYLOAD);
}

static void
expect_bad_control (const char *payload, const char *fragment)
{
  g_autoptr (GByteArray) b = one_frame (AGENT_FRAME_CONTROL, 0, 0, payload);
  g_autoptr (AgentDecoder) d = agent_decoder_new ();
  g_autoptr (GError) error = NULL;
  AgentFrame f;
  agent_decoder_push (d, b->data, b->len);
  g_assert_true (agent_decoder_next (d, &f, &error));
  g_autoptr (JsonObject) msg = agent_control_parse (&f, &error);
  g_assert_null (msg);
  g_assert_nonnull (error);
  if (strstr (error->message, fragment) == NULL)
    g_error ("\"%s\" not in \"%s\"", fragment, error->message);
}

static void
test_control_messages (void)
{
  g_autoptr (JsonObject) hello = json_object_new ();
  json_object_set_string_member (hello, "type", "hello");
  json_object_set_int_member (hello, "protocol", AGENT_PROTOCOL_VERSION);
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_assert_true (agent_frame_append_control (b, hello, NULL));
  g_autoptr (AgentDecoder) d = agent_decoder_new ();
  AgentFrame f;
  agent_decoder_push (d, b->data, b->len);
  g_assert_true (agent_decoder_next (d, &f, NULL));
  g_autoptr (JsonObject) back = agent_control_parse (&f, NULL);
  g_assert_nonnull (back);
  g_assert_cmpstr (json_object_get_string_member (back, "type"), ==, "hello");
  g_assert_cmpint (json_object_get_int_member (back, "protocol"), ==, AGENT_PROTOCOL_VERSION);

  expect_bad_control ("{not json", "not JSON");
  expect_bad_control ("[1]", "not a JSON object");
  expect_bad_control ("{\"type\": 3}", "\"type\" missing or not a string");
  expect_bad_control ("{}", "\"type\" missing or not a string");

  /* Nesting that would overflow json-glib's stack, within one frame. */
  GString *deep = g_string_new ("{\"type\": \"x\", \"a\": ");
  while (deep->len < AGENT_FRAME_MAX_PAYLOAD / 2 - 2)
    g_string_append_c (deep, '[');
  gsize opened = deep->len - strlen ("{\"type\": \"x\", \"a\": ");
  for (gsize i = 0; i < opened; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  expect_bad_control (deep->str, "nest deeper than 64 levels");
  g_string_free (deep, TRUE);
  /* Nesting within the limit, and brackets inside strings, are fine. */
  g_autoptr (GByteArray) ok = one_frame (
      AGENT_FRAME_CONTROL, 0, 0, "{\"type\": \"x\", \"s\": \"[[[[\\\"{{\", \"a\": [[[{}]]]}");
  g_autoptr (AgentDecoder) d2 = agent_decoder_new ();
  agent_decoder_push (d2, ok->data, ok->len);
  g_assert_true (agent_decoder_next (d2, &f, NULL));
  g_autoptr (JsonObject) fine = agent_control_parse (&f, NULL);
  g_assert_nonnull (fine);
}

static void
append_control (GByteArray *b, const char *json)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  g_assert_true (agent_frame_append_control (b, json_node_get_object (node), NULL));
}

/* A new host's first bytes: the tail of a frame it never saw the start of,
 * an old session's frames, a header that looks valid and claims 64 KiB,
 * a "resynced" with another token; then the guest's pad and its answer.
 * Only what follows the answer comes out, fed in any chunk size. */
static void
test_resync_scans_to_the_answer (void)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GByteArray) old = one_frame (AGENT_FRAME_STDOUT, 0, 7, "old session's output");
  g_byte_array_append (b, old->data + 5, old->len - 5);
  append_control (b, "{\"type\":\"hello\",\"protocol\":2}");
  append_control (b, "{\"type\":\"resynced\",\"token\":\"an-older-one\"}");
  guint8 greedy[5] = { AGENT_FRAME_STDOUT, 0, 0, 0, 0 };
  g_byte_array_append (b, greedy, sizeof greedy); /* with the pad: stream 0xffffffff, 64 KiB - 1 */
  agent_frames_append_pad (b);
  append_control (b, "{\"type\":\"resynced\",\"token\":\"t-1\"}");
  append_control (b, "{\"type\":\"hello\",\"protocol\":2}");
  agent_frame_append (b, AGENT_FRAME_STDOUT, 0, 9, "new", 3);

  const gsize chunks[] = { 1, 7, 4096, 65536, G_MAXSIZE };
  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++)
    {
      g_autoptr (AgentDecoder) d = agent_decoder_new ();
      agent_decoder_resync (d, "t-1");
      g_autoptr (GPtrArray) got = g_ptr_array_new_with_free_func (g_free);
      for (gsize at = 0; at < b->len; at += MIN (chunks[c], b->len - at))
        {
          agent_decoder_push (d, b->data + at, MIN (chunks[c], b->len - at));
          AgentFrame f;
          g_autoptr (GError) error = NULL;
          while (agent_decoder_next (d, &f, &error))
            g_ptr_array_add (got, g_strdup_printf ("%d:%u:%.*s", f.type, f.stream, (int) f.length,
                                                   (const char *) f.payload));
          g_assert_no_error (error);
        }
      g_assert_false (agent_decoder_resyncing (d));
      g_assert_cmpuint (got->len, ==, 2);
      g_assert_cmpstr (got->pdata[0], ==, "1:0:{\"type\":\"hello\",\"protocol\":2}");
      g_assert_cmpstr (got->pdata[1], ==, "3:9:new");
    }
}

/* Pad bytes between frames are skipped outside a resync too (a guest's
 * answer may come after its host stopped scanning); a bad header there is
 * still an error. */
static void
test_pad_between_frames (void)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  guint8 pad[3] = { AGENT_FRAME_PAD, AGENT_FRAME_PAD, AGENT_FRAME_PAD };
  g_byte_array_append (b, pad, sizeof pad);
  agent_frame_append (b, AGENT_FRAME_STDOUT, 0, 1, "x", 1);
  g_byte_array_append (b, pad, sizeof pad);
  guint8 bad[12] = { 9 };
  g_byte_array_append (b, bad, sizeof bad);
  g_autoptr (AgentDecoder) d = agent_decoder_new ();
  agent_decoder_push (d, b->data, b->len);
  AgentFrame f;
  g_autoptr (GError) error = NULL;
  g_assert_true (agent_decoder_next (d, &f, &error));
  g_assert_cmpmem (f.payload, f.length, "x", 1);
  g_assert_false (agent_decoder_next (d, &f, &error));
  g_assert_error (error, AGENT_PROTOCOL_ERROR, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent-protocol/roundtrip-byte-by-byte", test_roundtrip_byte_by_byte);
  g_test_add_func ("/agent-protocol/oversized", test_oversized_frame_is_refused_from_its_header);
  g_test_add_func ("/agent-protocol/unknown-type", test_unknown_type_is_refused);
  g_test_add_func ("/agent-protocol/reserved-bits", test_reserved_bits_are_refused);
  g_test_add_func ("/agent-protocol/max-payload", test_max_payload_is_accepted);
  g_test_add_func ("/agent-protocol/control", test_control_messages);
  g_test_add_func ("/agent-protocol/resync", test_resync_scans_to_the_answer);
  g_test_add_func ("/agent-protocol/pad", test_pad_between_frames);
  return g_test_run ();
}
