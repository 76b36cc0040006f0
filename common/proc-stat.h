/* proc-stat.h — what /proc/PID/stat says of a process: whether it runs,
 * and when it started (which, with its pid, names it across restarts). */
#pragma once

#include <glib.h>

/* FALSE if @pid is gone; else *state (R, S, Z, ...) and *start_time
 * (field 22, in clock ticks since boot), each when not NULL. */
gboolean proc_stat_read (GPid pid, char *state, guint64 *start_time);
/* @pid's start time, 0 if it is gone. */
guint64 proc_stat_start_time (GPid pid);
/* A pidfd of @pid if it is still the process that started at
 * @start_time (checked again with the pidfd held, so the pid cannot be
 * reused under it); -1 if it is gone (or either is 0). */
int proc_stat_pidfd (GPid pid, guint64 start_time);
