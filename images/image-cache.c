#include "images.h"

#include "fs-creds.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Part of every fingerprint: a new way of building forgets what was built. */
#define FORMAT_TAG "sandboxd-image-2 erofs"
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
  /* AT_EACCESS: as the thread's file-system identity (a tenant's, when it
   * took one), not the process's real uid. */
  if (stat (root, &st) < 0 || faccessat (AT_FDCWD, root, R_OK, AT_EACCESS) < 0)
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
  FsCreds *creds;    /* read the root as them (NULL: as sandboxd) */
  guint64 max_bytes; /* the largest file a build may write (0: no limit) */
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

/* SHA-256 by libcrypto: with the CPU's SHA instructions, 10x GLib's. */
static EVP_MD_CTX *
sha256_new (GError **error)
{
  EVP_MD_CTX *sum = EVP_MD_CTX_new ();
  if (sum == NULL || !EVP_DigestInit_ex (sum, EVP_sha256 (), NULL))
    {
      EVP_MD_CTX_free (sum);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "libcrypto has no SHA-256");
      return NULL;
    }
  return sum;
}

static char *
sha256_finish (EVP_MD_CTX *sum, GError **error)
{
  guchar md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  gboolean ok = EVP_DigestFinal_ex (sum, md, &md_len);
  EVP_MD_CTX_free (sum);
  if (!ok)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SHA-256 failed");
      return NULL;
    }
  GString *hex = g_string_sized_new (2 * md_len);
  for (unsigned i = 0; i < md_len; i++)
    g_string_append_printf (hex, "%02x", md[i]);
  return g_string_free (hex, FALSE);
}

static void
sha256_add_string (EVP_MD_CTX *sum, const char *s)
{
  EVP_DigestUpdate (sum, (const guchar *) s, strlen (s) + 1);
}

/* The SHA-256 of the file at @fd: an image's name. Told as "hashing". */
static char *
hash_image (Job *job, int fd, const char *path, GError **error)
{
  EVP_MD_CTX *sum = sha256_new (error);
  if (sum == NULL)
    return NULL;
  g_autofree guint8 *buf = g_malloc (1 << 20);
  guint64 bytes = 0;
  gint64 next_report = 0;
  ssize_t n;
  while ((n = pread (fd, buf, 1 << 20, (off_t) bytes)) > 0)
    {
      EVP_DigestUpdate (sum, buf, n);
      bytes += (guint64) n;
      if (g_get_monotonic_time () >= next_report)
        {
          report (job, "hashing", 0, bytes);
          next_report = g_get_monotonic_time () + PROGRESS_INTERVAL_US;
        }
    }
  if (n < 0)
    {
      int e = errno;
      EVP_MD_CTX_free (sum);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "read %s: %s", path,
                   g_strerror (e));
      return NULL;
    }
  return sha256_finish (sum, error);
}

static char *
stat_fingerprint (const struct stat *st)
{
  return g_strdup_printf ("%o %u %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                          " %ld.%09ld %ld.%09ld %" G_GINT64_FORMAT,
                          st->st_mode, st->st_uid, st->st_gid, (guint64) st->st_dev,
                          (guint64) st->st_ino, (long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
                          (long) st->st_ctim.tv_sec, st->st_ctim.tv_nsec, (gint64) st->st_size);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* A fingerprint of everything below @path: names, modes, owners, inodes,
 * sizes, mtimes and ctimes, link targets, depth first in name order. Any
 * write, chmod, chown, rename or replacement changes a ctime, and nobody
 * but root can set a ctime back: equal fingerprints taken before and after
 * a build mean the build read an unchanged root. */
static gboolean
fingerprint_tree (EVP_MD_CTX *sum, const char *path, const char *rel, GError **error)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", path, g_strerror (e));
      return FALSE;
    }
  g_autofree char *meta = stat_fingerprint (&st);
  sha256_add_string (sum, rel);
  sha256_add_string (sum, meta);
  if (S_ISLNK (st.st_mode))
    {
      g_autofree char *target = g_file_read_link (path, error);
      if (target)
        sha256_add_string (sum, target);
      return target != NULL;
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
      if (!fingerprint_tree (sum, child, child_rel, error))
        return FALSE;
    }
  return TRUE;
}

static char *
root_fingerprint (const char *root, GError **error)
{
  EVP_MD_CTX *sum = sha256_new (error);
  if (sum == NULL)
    return NULL;
  sha256_add_string (sum, FORMAT_TAG);
  if (!fingerprint_tree (sum, root, "/", error))
    {
      EVP_MD_CTX_free (sum);
      return NULL;
    }
  return sha256_finish (sum, error);
}

/* roots/<hash of the root's path> remembers "FINGERPRINT DIGEST": a root
 * unchanged since (same fingerprint) is not built again. */
static char *
memo_path (Job *job, const char *root)
{
  g_autofree char *key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, root, -1);
  return g_build_filename (job->cache_dir, "roots", key, NULL);
}

static char *
memo_lookup (Job *job, const char *root, const char *fingerprint)
{
  g_autofree char *memo = memo_path (job, root);
  g_autofree char *known = NULL;
  if (!g_file_get_contents (memo, &known, NULL, NULL))
    return NULL;
  g_auto (GStrv) parts = g_strsplit (g_strstrip (known), " ", 2);
  if (g_strv_length (parts) == 2 && g_str_equal (parts[0], fingerprint) && strlen (parts[1]) == 64)
    return g_strdup (parts[1]);
  return NULL;
}

static void
memo_store (Job *job, const char *root, const char *fingerprint, const char *hex)
{
  g_autofree char *memo = memo_path (job, root);
  g_autofree char *dir = g_path_get_dirname (memo);
  g_autofree char *line = g_strdup_printf ("%s %s\n", fingerprint, hex);
  if (g_mkdir_with_parents (dir, 0700) < 0 || !g_file_set_contents (memo, line, -1, NULL))
    g_warning ("image of %s: cannot remember its digest in %s", root, memo);
}

/* Only what the daemon wrote itself is reused: a regular file, ours,
 * writable by nobody else, with no second name (a hard link planted from
 * elsewhere). Images are written to a temporary name, synced, then
 * renamed, so one that exists is complete. */
static gboolean
entry_trusted (const char *path, struct stat *st)
{
  if (lstat (path, st) < 0)
    return FALSE;
  if (S_ISREG (st->st_mode) && st->st_uid == geteuid () && !(st->st_mode & (S_IWGRP | S_IWOTH))
      && st->st_nlink == 1 && st->st_size > 0)
    return TRUE;
  g_warning ("image cache: %s is not one sandboxd wrote (owner %u, mode %04o, %u links): "
             "replacing it",
             path, (guint) st->st_uid, (guint) (st->st_mode & 07777), (guint) st->st_nlink);
  return FALSE;
}

/* The cache holds what QEMUs get as disks: a directory only we can change. */
static gboolean
check_cache_dir (const char *dir, GError **error)
{
  struct stat st;
  if (g_mkdir_with_parents (dir, 0700) < 0 || lstat (dir, &st) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "create %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode) || st.st_uid != geteuid () || (st.st_mode & (S_IWGRP | S_IWOTH)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "image cache %s is not safe: it must be sandboxd's own directory, writable by "
                   "nobody else (owner %u, mode %04o)",
                   dir, (guint) st.st_uid, (guint) (st.st_mode & 07777));
      return FALSE;
    }
  return TRUE;
}

/* What a builder's child sets before it runs: its file size limit, then
 * the tenant's identity. */
typedef struct
{
  FsCreds *creds;
  guint64 max_bytes;
} ChildSetup;

static void
child_setup (gpointer data)
{
  const ChildSetup *setup = data;
  if (setup->max_bytes)
    {
      struct rlimit r = { setup->max_bytes, setup->max_bytes };
      if (setrlimit (RLIMIT_FSIZE, &r) < 0)
        _exit (127);
    }
  if (setup->creds)
    fs_creds_drop_in_child (setup->creds);
}

/* Runs @argv to its end; @in_fd (-1: none) is its stdin and @out_fd (-1:
 * none) its fd 3, both still the caller's to close; with @creds it runs as
 * them; with @max_bytes no file it writes grows past that (SIGXFSZ). */
static gboolean
run_with (const char *const *argv, int in_fd, int out_fd, FsCreds *creds, guint64 max_bytes,
          GError **error)
{
  ChildSetup setup = { creds, max_bytes };
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (in_fd >= 0)
    g_subprocess_launcher_take_stdin_fd (launcher, dup (in_fd));
  if (out_fd >= 0)
    g_subprocess_launcher_take_fd (launcher, dup (out_fd), 3);
  if (creds || max_bytes)
    g_subprocess_launcher_set_child_setup (launcher, child_setup, &setup, NULL);
  g_autoptr (GSubprocess) proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  g_autofree char *err = NULL;
  if (proc == NULL || !g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, error))
    {
      g_prefix_error (error, "%s: ", argv[0]);
      return FALSE;
    }
  if (g_subprocess_get_if_signaled (proc) && g_subprocess_get_term_sig (proc) == SIGXFSZ)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "%s: a file would grow past the %" G_GUINT64_FORMAT
                   " bytes left of the image quota",
                   argv[0], max_bytes);
      return FALSE;
    }
  if (!g_subprocess_get_successful (proc))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", argv[0],
                   err ? g_strstrip (err) : "");
      return FALSE;
    }
  return TRUE;
}

static gboolean
run (const char *const *argv, GError **error)
{
  return run_with (argv, -1, -1, NULL, 0, error);
}

/* Builds the image of @root into a new temporary file of the cache, synced;
 * returns its path. A fixed UUID and timestamp make the same tree give the
 * same bytes, so identical roots share one image. */
static char *
build_image (Job *job, const char *root, int tar_fd, GError **error)
{
  gboolean is_tar = tar_fd >= 0;
  g_autofree char *mkfs_path = g_find_program_in_path ("mkfs.erofs");
  if (mkfs_path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "mkfs.erofs is not installed (package erofs-utils): cannot build images");
      return NULL;
    }
  g_autofree char *tmp_image
      = g_strdup_printf ("%s/tmp-%08x.erofs", job->cache_dir, g_random_int ());
  g_autofree char *tree = NULL;
  const char *source = root;
  gboolean ok = TRUE;
  if (is_tar)
    {
      tree = g_build_filename (job->cache_dir, "tmp-XXXXXX", NULL);
      if (g_mkdtemp_full (tree, 0700) == NULL)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "mkdtemp in %s: %s",
                       job->cache_dir, g_strerror (e));
          return NULL;
        }
      report (job, "unpacking", 0, 0);
      /* The tarball as it was opened (as the tenant, for a tenant's). */
      const char *tar[] = { "tar", "-x", "--numeric-owner", "-f", "-", "-C", tree, NULL };
      ok = run_with (tar, tar_fd, -1, NULL, job->max_bytes, error);
      source = tree;
    }
  report (job, "building", 0, 0);
  /* A tenant's directory is read by mkfs.erofs running as the tenant: it
   * reads what they may read, nothing more. It writes the image through
   * fd 3 (a file of ours it is lent meanwhile, in a directory it cannot
   * enter). */
  FsCreds *creds = is_tar ? NULL : job->creds;
  int out = creds ? open (tmp_image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
  if (creds && (out < 0 || fchown (out, creds->uid, creds->gid) < 0))
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", tmp_image,
                   g_strerror (e));
      ok = FALSE;
    }
  const char *mkfs[] = { "mkfs.erofs", "-T0",
                         "-U",         "00000000-0000-0000-0000-000000000000",
                         "--quiet",    creds ? "/dev/fd/3" : tmp_image,
                         source,       NULL };
  ok = ok && run_with (mkfs, -1, out, creds, job->max_bytes, error);
  if (out >= 0)
    {
      if (fchown (out, geteuid (), getegid ()) < 0)
        ok = FALSE;
      close (out);
    }
  if (tree)
    {
      const char *rm[] = { "rm", "-rf", "--one-file-system", tree, NULL };
      run (rm, NULL);
    }
  if (!ok)
    {
      g_unlink (tmp_image);
      return NULL;
    }
  return g_steal_pointer (&tmp_image);
}

/* Builds @root, names the image by the SHA-256 of its own bytes, and keeps
 * it unless an identical one is there. What the image holds is what its
 * name says, whatever happened to the root meanwhile. */
static ImageInfo *
build_and_store (Job *job, const char *root, int tar_fd, GError **error)
{
  g_autofree char *tmp = build_image (job, root, tar_fd, error);
  if (tmp == NULL)
    return NULL;
  int fd = open (tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  g_autofree char *hex = NULL;
  if (fd < 0 || fsync (fd) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", tmp, g_strerror (e));
    }
  else
    hex = hash_image (job, fd, tmp, error);
  if (fd >= 0)
    close (fd);
  if (hex == NULL)
    {
      g_unlink (tmp);
      return NULL;
    }
  ImageInfo *info = g_new0 (ImageInfo, 1);
  info->digest = g_strdup_printf ("sha256:%s", hex);
  g_autofree char *name = g_strdup_printf ("sha256-%s.erofs", hex);
  info->path = g_build_filename (job->cache_dir, name, NULL);
  struct stat st;
  if (entry_trusted (info->path, &st))
    g_unlink (tmp); /* the same bytes are there already (another root, the same content) */
  else if (g_rename (tmp, info->path) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "rename %s: %s", tmp,
                   g_strerror (e));
      g_unlink (tmp);
      image_info_free (info);
      return NULL;
    }
  else
    info->built = TRUE;
  return info;
}

static void
get_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();
  /* The root as it is now, with no link on the way: its fingerprint then
   * covers everything mkfs.erofs will read. A tenant's is looked at (and a
   * tarball opened) as the tenant. */
  FsCredsSaved saved = { 0 };
  g_autofree char *root = NULL;
  g_autofree char *before = NULL;
  int tar_fd = -1;
  if (job->creds == NULL || fs_creds_enter (job->creds, &saved, &error))
    {
      root = realpath (job->root, NULL);
      if (root == NULL)
        {
          int e = errno;
          g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (e), "root %s: %s", job->root,
                       g_strerror (e));
        }
      else if (g_file_test (root, G_FILE_TEST_IS_REGULAR)
               && (tar_fd = fs_open_untrusted (root, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY))
                      < 0)
        {
          int e = errno;
          g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (e), "root %s: %s", root,
                       g_strerror (e));
        }
      else
        before = root_fingerprint (root, &error);
      fs_creds_leave (&saved);
    }
  if (before == NULL || !check_cache_dir (job->cache_dir, &error))
    {
      if (tar_fd >= 0)
        close (tar_fd);
      g_prefix_error (&error, "image of %s: ", job->root);
      g_task_return_error (task, error);
      return;
    }
  ImageInfo *info = NULL;
  g_autofree char *known = memo_lookup (job, root, before);
  struct stat st;
  if (known)
    {
      info = g_new0 (ImageInfo, 1);
      info->digest = g_strdup_printf ("sha256:%s", known);
      g_autofree char *name = g_strdup_printf ("sha256-%s.erofs", known);
      info->path = g_build_filename (job->cache_dir, name, NULL);
      if (!entry_trusted (info->path, &st))
        g_clear_pointer (&info, image_info_free);
    }
  if (info == NULL)
    {
      g_message ("image of %s: building", job->root);
      info = build_and_store (job, root, tar_fd, &error);
      if (info == NULL)
        {
          if (tar_fd >= 0)
            close (tar_fd);
          g_prefix_error (&error, "image of %s: ", job->root);
          g_task_return_error (task, error);
          return;
        }
      /* Remembered only if the root did not change while it was read. */
      g_autofree char *after = NULL;
      if (job->creds == NULL || fs_creds_enter (job->creds, &saved, NULL))
        {
          after = root_fingerprint (root, NULL);
          fs_creds_leave (&saved);
        }
      if (after && g_str_equal (before, after))
        memo_store (job, root, before, info->digest + strlen ("sha256:"));
      else
        g_message ("image of %s: the root changed while it was built; not remembered", job->root);
    }
  if (tar_fd >= 0)
    close (tar_fd);
  info->build_ms = (g_get_monotonic_time () - start) / 1000;
  /* Its last use, for the cache's garbage collection (image_cache_prune). */
  utimensat (AT_FDCWD, info->path, NULL, AT_SYMLINK_NOFOLLOW);
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
  g_free (job->creds);
  g_free (job);
}

/* Builds run in a pool of their own: at most max_builds at once, the rest
 * wait their turn (mkfs.erofs is CPU- and disk-bound; a burst of creates
 * with new roots must not take every core from the running guests). */
static GThreadPool *builders;
static guint max_builds = 2;

void
image_cache_set_max_builds (guint n)
{
  max_builds = MAX (n, 1);
  if (builders)
    g_thread_pool_set_max_threads (builders, (gint) max_builds, NULL);
}

static void
run_job (gpointer data, gpointer unused)
{
  GTask *task = data;
  get_in_thread (task, NULL, g_task_get_task_data (task), NULL);
  g_object_unref (task);
}

void
image_cache_get_async (const char *cache_dir, const char *root, const FsCreds *creds,
                       guint64 max_bytes, ImageProgress progress, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Job *job = g_new0 (Job, 1);
  *job = (Job){ task,
                g_strdup (cache_dir),
                g_strdup (root),
                progress,
                user_data,
                creds ? g_memdup2 (creds, sizeof *creds) : NULL,
                max_bytes };
  g_task_set_task_data (task, job, job_free);
  if (builders == NULL)
    builders = g_thread_pool_new (run_job, NULL, (gint) max_builds, FALSE, NULL);
  g_thread_pool_push (builders, task, NULL);
}

static gint
by_last_use (gconstpointer a, gconstpointer b)
{
  const ImageInfo *x = *(ImageInfo **) a, *y = *(ImageInfo **) b;
  return x->last_used < y->last_used ? -1 : x->last_used > y->last_used;
}

GPtrArray *
image_cache_list (const char *cache_dir, GError **error)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) image_info_free);
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) dir = g_dir_open (cache_dir, 0, &local);
  if (dir == NULL)
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&all); /* nothing built yet */
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      struct stat st;
      g_autofree char *path = g_build_filename (cache_dir, name, NULL);
      if (!g_str_has_prefix (name, "sha256-") || !g_str_has_suffix (name, ".erofs")
          || lstat (path, &st) < 0 || !S_ISREG (st.st_mode))
        continue;
      ImageInfo *info = g_new0 (ImageInfo, 1);
      info->path = g_steal_pointer (&path);
      info->digest = g_strdup_printf (
          "sha256:%.*s", (int) (strlen (name) - strlen ("sha256-") - strlen (".erofs")),
          name + strlen ("sha256-"));
      info->bytes = (guint64) st.st_size;
      info->last_used = (gint64) st.st_mtime;
      g_ptr_array_add (all, info);
    }
  g_ptr_array_sort (all, by_last_use);
  return g_steal_pointer (&all);
}

/* What roots/ remembers of images that are gone is forgotten too. */
static void
forget_missing (const char *cache_dir)
{
  g_autofree char *roots = g_build_filename (cache_dir, "roots", NULL);
  g_autoptr (GDir) dir = g_dir_open (roots, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *memo = g_build_filename (roots, name, NULL);
      g_autofree char *text = NULL;
      if (!g_file_get_contents (memo, &text, NULL, NULL))
        continue;
      g_auto (GStrv) parts = g_strsplit (g_strstrip (text), " ", 2);
      g_autofree char *image = g_strv_length (parts) == 2
                                   ? g_strdup_printf ("%s/sha256-%s.erofs", cache_dir, parts[1])
                                   : NULL;
      if (image == NULL || !g_file_test (image, G_FILE_TEST_EXISTS))
        g_unlink (memo);
    }
}

GPtrArray *
image_cache_prune (const char *cache_dir, GHashTable *in_use, gint64 unused_for_s,
                   guint64 keep_bytes, GError **error)
{
  g_autoptr (GPtrArray) all = image_cache_list (cache_dir, error);
  if (all == NULL)
    return NULL;
  GPtrArray *removed = g_ptr_array_new_with_free_func ((GDestroyNotify) image_info_free);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint64 total = 0;
  for (guint i = 0; i < all->len; i++)
    total += ((ImageInfo *) all->pdata[i])->bytes;
  /* Oldest first: those unused for long, then more while over the size. */
  for (guint i = 0; i < all->len; i++)
    {
      ImageInfo *info = all->pdata[i];
      gboolean old = now - info->last_used >= unused_for_s;
      gboolean over = keep_bytes > 0 && total > keep_bytes;
      /* A minute's grace: an image just built may be about to be used. */
      if (g_hash_table_contains (in_use, info->path) || now - info->last_used < 60
          || !(old || over))
        continue;
      if (g_unlink (info->path) < 0)
        continue;
      total -= info->bytes;
      g_ptr_array_add (removed, g_steal_pointer (&all->pdata[i]));
    }
  forget_missing (cache_dir);
  return removed;
}

ImageInfo *
image_cache_get_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
