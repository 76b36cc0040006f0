/* large-buffers.c — see large-buffers.h. */
#include "large-buffers.h"

#include <malloc.h>

#define MMAP_THRESHOLD (4 * 1024 * 1024)
#define TRIM_THRESHOLD (16 * 1024 * 1024)

void
large_buffers_keep (void)
{
  /* Fixed values also turn off glibc's dynamic threshold, which raised the
   * mapping threshold past our buffers but kept trimming the heap. */
  mallopt (M_MMAP_THRESHOLD, MMAP_THRESHOLD);
  mallopt (M_TRIM_THRESHOLD, TRIM_THRESHOLD);
}
