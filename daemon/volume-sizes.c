/* volume-sizes.c — named volumes' sizes, measured off the main loop
 * (volume-sizes.h). */
#include "volume-sizes.h"

#include "volume-store.h"

typedef struct
{
  guint64 bytes;
  gint64 measured_us; /* monotonic; 0: never */
  gboolean pending;   /* a measure is queued or running */
} Entry;

struct VolumeSizes
{
  GMutex lock;
  GHashTable *entries; /* path -> Entry */
  GThreadPool *pool;   /* one thread: walks one tree at a time */
};

static void
measure (gpointer data, gpointer user_data)
{
  char *path = data;
  VolumeSizes *s = user_data;
  guint64 bytes = volume_store_tree_bytes (path);
  g_mutex_lock (&s->lock);
  Entry *e = g_hash_table_lookup (s->entries, path);
  if (e)
    {
      e->bytes = bytes;
      e->measured_us = g_get_monotonic_time ();
      e->pending = FALSE;
    }
  g_mutex_unlock (&s->lock);
  g_free (path);
}

VolumeSizes *
volume_sizes_new (void)
{
  VolumeSizes *s = g_new0 (VolumeSizes, 1);
  g_mutex_init (&s->lock);
  s->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  s->pool = g_thread_pool_new (measure, s, 1, FALSE, NULL);
  return s;
}

void
volume_sizes_free (VolumeSizes *s)
{
  if (s == NULL)
    return;
  g_thread_pool_free (s->pool, TRUE, TRUE);
  g_hash_table_unref (s->entries);
  g_mutex_clear (&s->lock);
  g_free (s);
}

guint64
volume_sizes_get (VolumeSizes *s, const char *path)
{
  g_mutex_lock (&s->lock);
  Entry *e = g_hash_table_lookup (s->entries, path);
  if (e == NULL)
    {
      e = g_new0 (Entry, 1);
      g_hash_table_insert (s->entries, g_strdup (path), e);
    }
  guint64 bytes = e->bytes;
  if (!e->pending
      && (e->measured_us == 0
          || g_get_monotonic_time () - e->measured_us > VOLUME_SIZES_MAX_AGE_S * G_USEC_PER_SEC))
    {
      e->pending = TRUE;
      g_thread_pool_push (s->pool, g_strdup (path), NULL);
    }
  g_mutex_unlock (&s->lock);
  return bytes;
}

void
volume_sizes_forget (VolumeSizes *s, const char *path)
{
  g_mutex_lock (&s->lock);
  g_hash_table_remove (s->entries, path);
  g_mutex_unlock (&s->lock);
}
