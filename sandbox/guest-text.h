/* guest-text.h — what a guest says, made fit for sandboxd's log.
 *
 * Strings in the guest's control messages (a message type, a kernel
 * release, an error text) are the guest's to choose: logged whole, 2,000
 * frames with a 60 KB type added 114 MiB to the host's log, and terminal
 * escapes in them reach whoever reads it. They are cut and escaped before
 * they are logged or kept, and each sandbox may log only so many lines of
 * its guest's a minute.
 */
#pragma once

#include <glib.h>

#define GUEST_TEXT_MAX 64          /* bytes kept of a guest's string */
#define GUEST_LOG_LINES_PER_MIN 20 /* then one line says the rest are dropped */

typedef struct
{
  gint64 window_start_us;
  guint lines;
} GuestLogBudget;

/* @s with bytes outside printable ASCII (and backslash) as \xNN, cut to
 * GUEST_TEXT_MAX bytes of the original ("..." then follows). */
char *guest_text (const char *s);

/* TRUE if one more line about the guest may be logged now; the first line
 * over the budget in a minute is logged by this call, saying so. */
gboolean guest_log_allowed (GuestLogBudget *budget, const char *sandbox_name);
