/* names.h — what a name the API gives (a sandbox's, a container's, a
 * volume's) may be: letters, digits, '-', '_', '.', starting with a letter
 * or digit, at most 63 bytes. Never a path. */
#pragma once

#include <glib.h>

/* INVALID_ARGUMENT naming @field unless @name is one. */
gboolean daemon_check_name (const char *name, const char *field, GError **error);
