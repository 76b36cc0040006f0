#include "image-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Part of every digest: a change of image format invalidates the cache. */
#define FORMAT_TAG "sandboxd-image-1 erofs"
#define PROGRESS_INTERVAL_US (2 * G_USEC_PER_SEC)

void
image_info_free (ImageInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->path);
  g_free (info->digest);
  g_free (info);
}

gboolean
image_cache_check_root (const char *root, GError **error)
{
  struct stat st;
  if (stat (root, &st) < 0 || access (root, R_OK) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "root %s: %s", root,
                   g_strerror (e));
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "root %s is neither a directory nor a tarball", root);
      return FALSE;
    }
  return TRUE;
}

/* One get: what the worker thread needs. */
typedef struct
{
  GTask *task;
  char *cache_dir;
  char *root;
  ImageProgress progress;
  gpointer data;
} Job;

typedef struct
{
  ImageProgress progress;
  gpointer data;
  char *stage;
  guint64 files, bytes;
} Report;

static gboolean
deliver_report (gpointer p)
{
  Report *r = p;
  r->progress (r->stage, r->files, r->bytes, r->data);
  g_free (r->stage);
  g_free (r);
  return G_SOURCE_REMOVE;
}

/* From the worker thread to the caller's main context. */
static void
report (Job *job, const char *stage, guint64 files, guint64 bytes)
{
  if (job->progress == NULL)
    return;
  Report *r = g_new0 (Report, 1);
  *r = (Report){ job->progress, job->data, g_strdup (stage), files, bytes };
  g_main_context_invoke (g_task_get_context (job->task), deliver_report, r);
}

typedef struct
{
  Job *job;
  EVP_MD_CTX *sum; /* SHA-256 by libcrypto: with the CPU's SHA instructions, 10x GLib's */
  const char *root;
  gboolean fingerprint; /* metadata only, times and inodes included */
  guint64 files, bytes;
  gint64 next_report;
} Hasher;

static void
maybe_report (Hasher *h)
{
  if (h->fingerprint || g_get_monotonic_time () < h->next_report)
    return;
  g_message ("image of %s: read %" G_GUINT64_FORMAT " files, %" G_GUINT64_FORMAT " MiB so far",
             h->root, h->files, h->bytes >> 20);
  report (h->job, "reading", h->files, h->bytes);
  h->next_report = g_get_monotonic_time () + PROGRESS_INTERVAL_US;
}

static gboolean
hash_file (Hasher *h, const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "read %s: %s", path,
                   g_strerror (e));
      return FALSE;
    }
  guint8 buf[65536];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    {
      EVP_DigestUpdate (h->sum, buf, n);
      h->bytes += (guint64) n;
      maybe_report (h);
    }
  int e = errno;
  close (fd);
  if (n < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "read %s: %s", path,
                   g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

static char *
stat_fingerprint (const struct stat *st)
{
  return g_strdup_printf (
      "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %ld.%09ld %ld.%09ld %" G_GINT64_FORMAT,
      (guint64) st->st_dev, (guint64) st->st_ino, (long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
      (long) st->st_ctim.tv_sec, st->st_ctim.tv_nsec, (gint64) st->st_size);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Everything mkfs.erofs puts in the image: names, types, modes, owners,
 * contents, link targets, device numbers (not times), depth first in name
 * order. A fingerprint takes sizes, times and inodes instead of contents:
 * cheap, and it changes whenever a file is written (ctime). */
static gboolean
hash_tree (Hasher *h, const char *path, const char *rel, GError **error)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", path, g_strerror (e));
      return FALSE;
    }
  g_autofree char *meta = g_strdup_printf ("%o %u %u", st.st_mode, st.st_uid, st.st_gid);
  EVP_DigestUpdate (h->sum, (const guchar *) rel, strlen (rel) + 1);
  EVP_DigestUpdate (h->sum, (const guchar *) meta, strlen (meta) + 1);
  h->files++;
  maybe_report (h);
  if (h->fingerprint)
    {
      g_autofree char *times = stat_fingerprint (&st);
      EVP_DigestUpdate (h->sum, (const guchar *) times, strlen (times) + 1);
    }
  if (S_ISREG (st.st_mode))
    return h->fingerprint || hash_file (h, path, error);
  if (S_ISLNK (st.st_mode))
    {
      g_autofree char *target = g_file_read_link (path, error);
      if (target)
        EVP_DigestUpdate (h->sum, (const guchar *) target, strlen (target) + 1);
      return target != NULL;
    }
  if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode))
    {
      g_autofree char *dev = g_strdup_printf ("%" G_GUINT64_FORMAT, (guint64) st.st_rdev);
      EVP_DigestUpdate (h->sum, (const guchar *) dev, strlen (dev) + 1);
      return TRUE;
    }
  if (!S_ISDIR (st.st_mode))
    return TRUE;
  g_autoptr (GDir) dir = g_dir_open (path, 0, error);
  if (dir == NULL)
    return FALSE;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *ent;
  while ((ent = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (ent));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child = g_build_filename (path, names->pdata[i], NULL);
      g_autofree char *child_rel = g_build_filename (rel, names->pdata[i], NULL);
      if (!hash_tree (h, child, child_rel, error))
        return FALSE;
    }
  return TRUE;
}

static char *
hash_root (Job *job, const char *root, gboolean is_tar, gboolean fingerprint, GError **error)
{
  Hasher h = {
    job, EVP_MD_CTX_new (), root, fingerprint, 0, 0, g_get_monotonic_time () + PROGRESS_INTERVAL_US
  };
  if (h.sum == NULL || !EVP_DigestInit_ex (h.sum, EVP_sha256 (), NULL))
    {
      EVP_MD_CTX_free (h.sum);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "libcrypto has no SHA-256");
      return NULL;
    }
  EVP_DigestUpdate (h.sum, (const guchar *) FORMAT_TAG, sizeof FORMAT_TAG);
  EVP_DigestUpdate (h.sum, (const guchar *) (is_tar ? "tar" : "dir"), 4);
  gboolean ok
      = is_tar && !fingerprint ? hash_file (&h, root, error) : hash_tree (&h, root, "/", error);
  guchar md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  if (ok && !EVP_DigestFinal_ex (h.sum, md, &md_len))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SHA-256 of %s failed", root);
      ok = FALSE;
    }
  EVP_MD_CTX_free (h.sum);
  if (!ok)
    return NULL;
  GString *hex = g_string_sized_new (2 * md_len);
  for (unsigned i = 0; i < md_len; i++)
    g_string_append_printf (hex, "%02x", md[i]);
  return g_string_free (hex, FALSE);
}

/* roots/<hash of the root's path> remembers "FINGERPRINT DIGEST": a root
 * unchanged since (same fingerprint) is not read again to know its digest. */
static char *
memo_path (Job *job)
{
  g_autofree char *key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, job->root, -1);
  return g_build_filename (job->cache_dir, "roots", key, NULL);
}

static char *
root_digest (Job *job, gboolean is_tar, GError **error)
{
  g_autofree char *fingerprint = hash_root (job, job->root, is_tar, TRUE, error);
  if (fingerprint == NULL)
    return NULL;
  g_autofree char *memo = memo_path (job);
  g_autofree char *known = NULL;
  if (g_file_get_contents (memo, &known, NULL, NULL))
    {
      g_auto (GStrv) parts = g_strsplit (g_strstrip (known), " ", 2);
      if (g_strv_length (parts) == 2 && g_str_equal (parts[0], fingerprint)
          && strlen (parts[1]) == 64)
        return g_strdup (parts[1]);
    }
  report (job, "reading", 0, 0);
  char *hex = hash_root (job, job->root, is_tar, FALSE, error);
  g_autofree char *dir = g_path_get_dirname (memo);
  g_autofree char *line = hex ? g_strdup_printf ("%s %s\n", fingerprint, hex) : NULL;
  if (hex && (g_mkdir_with_parents (dir, 0700) < 0 || !g_file_set_contents (memo, line, -1, NULL)))
    g_warning ("image of %s: cannot remember its digest in %s", job->root, memo);
  return hex;
}

static gboolean
run (const char *const *argv, GError **error)
{
  g_autofree char *err = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, error))
    {
      g_prefix_error (error, "%s: ", argv[0]);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", argv[0],
                   err ? g_strstrip (err) : "");
      return FALSE;
    }
  return TRUE;
}

static gboolean
build_image (Job *job, const char *cache_dir, const char *root, gboolean is_tar, const char *image,
             GError **error)
{
  g_autofree char *mkfs_path = g_find_program_in_path ("mkfs.erofs");
  if (mkfs_path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "mkfs.erofs is not installed (package erofs-utils): cannot build images");
      return FALSE;
    }
  g_autofree char *tmp_image = g_strdup_printf ("%s.tmp-%08x", image, g_random_int ());
  g_autofree char *tree = NULL;
  const char *source = root;
  gboolean ok = TRUE;
  if (is_tar)
    {
      tree = g_build_filename (cache_dir, "tmp-XXXXXX", NULL);
      if (g_mkdtemp_full (tree, 0700) == NULL)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "mkdtemp in %s: %s", cache_dir,
                       g_strerror (e));
          return FALSE;
        }
      report (job, "unpacking", 0, 0);
      const char *tar[] = { "tar", "-x", "--numeric-owner", "-f", root, "-C", tree, NULL };
      ok = run (tar, error);
      source = tree;
    }
  report (job, "building", 0, 0);
  const char *mkfs[] = { "mkfs.erofs", "-T0", "--quiet", tmp_image, source, NULL };
  ok = ok && run (mkfs, error);
  if (ok && g_rename (tmp_image, image) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "rename %s: %s", tmp_image,
                   g_strerror (e));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp_image);
  if (tree)
    {
      const char *rm[] = { "rm", "-rf", "--one-file-system", tree, NULL };
      run (rm, NULL);
    }
  return ok;
}

static void
get_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();
  gboolean is_tar = g_file_test (job->root, G_FILE_TEST_IS_REGULAR);
  if (g_mkdir_with_parents (job->cache_dir, 0700) < 0)
    {
      int e = errno;
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (e), "create %s: %s",
                               job->cache_dir, g_strerror (e));
      return;
    }
  g_autofree char *hex = root_digest (job, is_tar, &error);
  if (hex == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  ImageInfo *info = g_new0 (ImageInfo, 1);
  info->digest = g_strdup_printf ("sha256:%s", hex);
  g_autofree char *name = g_strdup_printf ("sha256-%s.erofs", hex);
  info->path = g_build_filename (job->cache_dir, name, NULL);
  if (!g_file_test (info->path, G_FILE_TEST_EXISTS))
    {
      g_message ("image of %s: building %s", job->root, info->digest);
      if (!build_image (job, job->cache_dir, job->root, is_tar, info->path, &error))
        {
          image_info_free (info);
          g_prefix_error (&error, "image of %s: ", job->root);
          g_task_return_error (task, error);
          return;
        }
      info->built = TRUE;
    }
  info->build_ms = (g_get_monotonic_time () - start) / 1000;
  struct stat st;
  if (stat (info->path, &st) == 0)
    info->bytes = (guint64) st.st_size;
  g_message ("image of %s: %s %s (%" G_GUINT64_FORMAT " KiB) in %" G_GINT64_FORMAT " ms", job->root,
             info->built ? "built" : "reused", info->digest, info->bytes >> 10, info->build_ms);
  g_task_return_pointer (task, info, (GDestroyNotify) image_info_free);
}

static void
job_free (gpointer p)
{
  Job *job = p;
  g_free (job->cache_dir);
  g_free (job->root);
  g_free (job);
}

void
image_cache_get_async (const char *cache_dir, const char *root, ImageProgress progress,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Job *job = g_new0 (Job, 1);
  *job = (Job){ task, g_strdup (cache_dir), g_strdup (root), progress, user_data };
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, get_in_thread);
  g_object_unref (task);
}

ImageInfo *
image_cache_get_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
