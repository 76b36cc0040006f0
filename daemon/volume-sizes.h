/* volume-sizes.h — what named volumes take on disk, measured in a thread
 * of its own and kept: a walk of a tree that a tenant filled with files
 * would otherwise hold the main loop, and every other caller with it.
 * A size is at most VOLUME_SIZES_MAX_AGE_S old when it is asked for again
 * (the asking starts a new measure and gets the last one). */
#pragma once

#include <glib.h>

#define VOLUME_SIZES_MAX_AGE_S 2

typedef struct VolumeSizes VolumeSizes;

VolumeSizes *volume_sizes_new (void);
void volume_sizes_free (VolumeSizes *sizes);
/* The bytes @path's tree took when last measured (0 before the first
 * measure); a new measure starts if that one is older than the max age. */
guint64 volume_sizes_get (VolumeSizes *sizes, const char *path);
/* @path was removed: its size is forgotten. */
void volume_sizes_forget (VolumeSizes *sizes, const char *path);
