/* remove-tree.h — rm -rf as root, safely, in trees others can write.
 *
 * sandboxd removes directories that a tenant, or a QEMU that a hostile
 * guest may have taken over, can change while they are removed (a tenant's
 * API directory, a sandbox's directory). A walk by path (lstat, then
 * opendir and unlink by the full name) follows a symbolic link swapped in
 * between the two: a tenant that exchanged a directory with a link to a
 * root-owned one (renameat2 RENAME_EXCHANGE) had root delete what the link
 * pointed to. Here every step is relative to a directory fd that was opened
 * with O_NOFOLLOW, so a swapped-in link is at worst unlinked itself, and a
 * directory renamed away while it is emptied is emptied where it went
 * (somewhere its owner could already write).
 */
#pragma once

#include <glib.h>

/* The deepest tree removed; deeper is an error (each level holds an fd). */
#define REMOVE_TREE_MAX_DEPTH 128

/* Removes @path and everything below it, never following a symbolic link
 * (a link at @path itself is removed, not followed). The directories on the
 * way to @path must be trusted (not writable by others). TRUE if @path is
 * gone (or was not there); FALSE with @error naming what could not be
 * removed. */
gboolean remove_tree (const char *path, GError **error);
