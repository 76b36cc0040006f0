/* libFuzzer: any bytes a hostile guest sends down the agent channel, as
 * the host decodes them. */
#include "agent-protocol.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (AgentDecoder) decoder = agent_decoder_new ();
  g_autoptr (GError) error = NULL;
  AgentFrame frame;
  /* Two pushes, so frames also cross a push boundary. */
  size_t half = size / 2;
  agent_decoder_push (decoder, data, half);
  while (agent_decoder_next (decoder, &frame, &error))
    ;
  if (error == NULL)
    {
      agent_decoder_push (decoder, data + half, size - half);
      while (agent_decoder_next (decoder, &frame, &error))
        {
          g_assert (frame.length <= AGENT_FRAME_MAX_PAYLOAD);
          if (frame.type == AGENT_FRAME_CONTROL)
            {
              g_autoptr (GError) cerr = NULL;
              g_autoptr (JsonObject) msg = agent_control_parse (&frame, &cerr);
              g_assert ((msg == NULL) != (cerr == NULL));
            }
        }
    }
  return 0;
}
