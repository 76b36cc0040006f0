/* sandbox-names.c — what the states are called (the API, state.json and
 * the events use these names). */
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
