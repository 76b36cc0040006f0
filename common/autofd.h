/* autofd.h — an fd closed when its variable goes out of scope, as
 * g_autofree frees (GLib's g_autofd comes in 2.76; Debian 12 has 2.74):
 *
 *   sbx_autofd int fd = open (...);
 *   if (fd < 0) return FALSE;
 *   ...
 *   return sbx_steal_fd (&fd);  // kept: the caller's now
 *
 * A negative fd is left alone, and errno survives the close, so a caller
 * may still report the failure that made it leave. Header only. */
#pragma once

#include <errno.h>
#include <unistd.h>

static inline void
sbx_close_fd (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

/* The fd, no longer closed at scope exit. */
static inline int
sbx_steal_fd (int *fd)
{
  int kept = *fd;
  *fd = -1;
  return kept;
}

#define sbx_autofd __attribute__ ((cleanup (sbx_close_fd)))
