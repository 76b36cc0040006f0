/* libFuzzer: any string a guest puts in a control message (a type, an
 * error, its kernel release) as sandboxd logs and keeps it: printable
 * ASCII only, bounded, whatever came. */
#include "guest-text.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *s = g_strndup ((const char *) data, size);
  g_autofree char *shown = guest_text (s);
  gsize len = strlen (shown);
  g_assert (len <= GUEST_TEXT_MAX * 4 + 3);
  for (gsize i = 0; i < len; i++)
    g_assert (shown[i] >= 0x20 && shown[i] < 0x7f);
  /* A longer input is cut, and says so; a shorter one is all there. */
  if (strlen (s) > GUEST_TEXT_MAX)
    g_assert (g_str_has_suffix (shown, "..."));
  else
    g_assert (len >= strlen (s) && len <= strlen (s) * 4);
  return 0;
}
