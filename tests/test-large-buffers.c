/* large_buffers_keep: megabyte buffers freed and allocated again, as one
 * ReadOutput after another does, reuse their pages instead of faulting
 * them in anew. */
#include "large-buffers.h"

#include <glib.h>
#include <string.h>
#include <sys/resource.h>

#define ROUNDS 20

static long
minor_faults (void)
{
  struct rusage ru;
  g_assert_cmpint (getrusage (RUSAGE_SELF, &ru), ==, 0);
  return ru.ru_minflt;
}

/* One message's buffers: output read (1 MiB), its base64 and the JSON
 * string holding it (1.4 MiB each), the message sent (1.4 MiB). */
static void
one_message (void)
{
  static const gsize sizes[] = { 1 << 20, 1398104, 1398104, 1398200 };
  gpointer bufs[G_N_ELEMENTS (sizes)];
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      bufs[i] = g_malloc (sizes[i]);
      memset (bufs[i], 'x', sizes[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    g_free (bufs[i]);
}

static void
test_reuse (void)
{
#if defined(__SANITIZE_ADDRESS__)
  g_test_skip ("AddressSanitizer has its own allocator");
  return;
#endif
  large_buffers_keep ();
  one_message ();
  long before = minor_faults ();
  for (int i = 0; i < ROUNDS; i++)
    one_message ();
  long faults = minor_faults () - before;
  /* Fresh pages would be ~1300 faults per message. */
  g_test_message ("%ld minor faults in %d messages", faults, ROUNDS);
  g_assert_cmpint (faults, <, 10 * ROUNDS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/large-buffers/reuse", test_reuse);
  return g_test_run ();
}
