/* large-buffers.h — keeping freed megabyte buffers for reuse. */
#pragma once

/* A process that moves megabyte messages in a loop (ReadOutput's 1 MiB of
 * output, base64 encoded, in a JSON string, in a nanomsg message) frees
 * and allocates several such buffers per message. glibc maps buffers that
 * large on their own, or trims them off the heap at free, so each message
 * faulted its pages in anew: in sandboxd during a stream, page faults were
 * a fifth of its CPU time. This keeps buffers up to 4 MiB on the heap and
 * up to 16 MiB of freed heap, so they are reused. Call first thing in
 * main(). */
void large_buffers_keep (void);
