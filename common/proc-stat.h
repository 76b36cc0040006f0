/* proc-stat.h — what /proc/PID/stat says of a process: whether it runs,
 * and when it started (which, with its pid, names it across restarts). */
#pragma once

#include <glib.h>

/* FALSE if @pid is gone; else *state (R, S, Z, ...) and *start_time
 * (field 22, in clock ticks since boot), each when not NULL. */
gboolean proc_stat_read (GPid pid, char *state, guint64 *start_time);
