#include "guest-text.h"

char *
guest_text (const char *s)
{
  GString *out = g_string_sized_new (GUEST_TEXT_MAX + 8);
  gsize i = 0;
  for (; s[i] && i < GUEST_TEXT_MAX; i++)
    {
      guchar c = (guchar) s[i];
      if (c >= 0x20 && c < 0x7f && c != '\\')
        g_string_append_c (out, (char) c);
      else
        g_string_append_printf (out, "\\x%02x", c);
    }
  if (s[i])
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

gboolean
guest_log_allowed (GuestLogBudget *budget, const char *sandbox_name)
{
  gint64 now = g_get_monotonic_time ();
  if (now - budget->window_start_us >= 60 * G_USEC_PER_SEC)
    {
      budget->window_start_us = now;
      budget->lines = 0;
    }
  budget->lines++;
  if (budget->lines == GUEST_LOG_LINES_PER_MIN + 1)
    g_message ("sandbox %s: its guest's messages are logged no more this minute (more than %d)",
               sandbox_name, GUEST_LOG_LINES_PER_MIN);
  return budget->lines <= GUEST_LOG_LINES_PER_MIN;
}
