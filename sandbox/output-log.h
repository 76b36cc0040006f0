/* output-log.h — one stream of a process's output, kept in a file on the
 * host and served by offset, so a reader that goes away and comes back
 * resumes where it stopped and nothing is lost. */
#pragma once

#include "sandbox.h"

#include <gio/gio.h>

#include <glib.h>

typedef struct OutputLog OutputLog;

/* Creates the file, or with @reopen carries on with the one there (a
 * sandbox reattached after a restart of sandboxd). */
OutputLog *output_log_new (const char *path, gboolean reopen, GError **error);
/* Answers every waiting reader with what it has (eof if closed). */
void output_log_free (OutputLog *log);
/* The same, and removes its file. */
void output_log_delete (OutputLog *log);

/* An error once the log is closed. */
gboolean output_log_append (OutputLog *log, const guint8 *data, gsize len, GError **error);
/* No more data will come; waiting readers get eof. (No fd is held
 * between calls: appends and reads open the file while they work.) */
void output_log_close (OutputLog *log);
guint64 output_log_size (OutputLog *log);
/* Bytes stored that no reader has read yet (readers may reread; this
 * counts from the furthest any reader got). */
guint64 output_log_unread (OutputLog *log);
/* @hook runs after a reader got further than any before it. */
void output_log_set_read_hook (OutputLog *log, void (*hook) (gpointer data), gpointer data);

/* Returns @task (taken) with a SandboxOutput (sandbox.h) holding up to @max_bytes from
 * @offset; when there is nothing there yet and the stream is open, waits
 * up to @wait_ms for data first. */
void output_log_read (OutputLog *log, GTask *task, guint64 offset, gsize max_bytes, guint wait_ms);
