/* sbx_autofd: closed at scope exit, kept when stolen, errno left as the
 * failing call set it. */
#include "autofd.h"

#include <fcntl.h>
#include <glib.h>

static int
opened_and_left (void)
{
  sbx_autofd int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  return fd; /* its number, closed on the way out */
}

static int
opened_and_kept (void)
{
  sbx_autofd int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  return sbx_steal_fd (&fd);
}

static int
fails_with (int e)
{
  sbx_autofd int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  errno = e;
  return -1;
}

static void
test_autofd (void)
{
  int closed = opened_and_left ();
  g_assert_cmpint (fcntl (closed, F_GETFD), ==, -1);
  g_assert_cmpint (errno, ==, EBADF);
  int kept = opened_and_kept ();
  g_assert_cmpint (fcntl (kept, F_GETFD), >=, 0);
  close (kept);
  g_assert_cmpint (fails_with (ENOSPC), ==, -1);
  g_assert_cmpint (errno, ==, ENOSPC);
  sbx_autofd int none = -1; /* left alone */
  (void) none;
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/autofd/scope", test_autofd);
  return g_test_run ();
}
