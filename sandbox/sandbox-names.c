/* sandbox-names.c — what the states are called (the API, state.json and
 * the events use these names), and the limits every sandbox has. */
#include "agent-channel.h"
#include "guest-text.h"
#include "sandbox.h"

const char *
sandbox_state_to_string (SandboxState state)
{
  switch (state)
    {
    case SANDBOX_CREATING:
      return "creating";
    case SANDBOX_BOOTING:
      return "booting";
    case SANDBOX_RUNNING:
      return "running";
    case SANDBOX_STOPPING:
      return "stopping";
    case SANDBOX_STOPPED:
      return "stopped";
    case SANDBOX_FAILED:
      return "failed";
    }
  return "unknown";
}

JsonObject *
sandbox_limits_to_json (void)
{
  JsonObject *o = json_object_new ();
  json_object_set_int_member (o, "agent_backlog_bytes", AGENT_CHANNEL_BACKLOG_MAX);
  json_object_set_int_member (o, "guest_log_lines_per_min", GUEST_LOG_LINES_PER_MIN);
  return o;
}
