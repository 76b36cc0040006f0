/* console-log.h — a guest's serial console, kept by the daemon.
 *
 * QEMU serves the console as a unix socket in its own directory; the daemon
 * connects and appends what the guest prints to a log file of its own
 * (beside state.json, where QEMU cannot write), at most @max_bytes before
 * it is rotated once (LOG.1): a guest that prints without end costs at most
 * twice that. While nobody is connected (a restart of sandboxd), QEMU drops
 * what the guest prints.
 */
#pragma once

#include <glib.h>

typedef struct ConsoleLog ConsoleLog;

/* Connects to @socket_path (retrying while QEMU starts; only if process
 * @qemu serves it) and keeps @log_path. */
ConsoleLog *console_log_new (const char *socket_path, GPid qemu, const char *log_path,
                             guint64 max_bytes);
/* Reads what the socket still holds (QEMU has exited), then stops. */
void console_log_drain (ConsoleLog *console);
void console_log_free (ConsoleLog *console);

/* The last @max_bytes of a log file (and of its rotated predecessor
 * LOG.1 when it holds less) as valid UTF-8, stripped; "" when there is
 * none. Reads only regular files, through no link, and only their tails. */
char *log_file_tail (const char *log_path, gsize max_bytes);

/* A log another process appends to (QEMU's, the network helper's stdout
 * and stderr, opened O_APPEND) cut back once it is larger than
 * @max_bytes: its first line, a line saying how much went, and its last
 * @keep_bytes. TRUE if it was cut. */
gboolean log_file_trim (const char *log_path, guint64 max_bytes, gsize keep_bytes);
