/* templates.c — VM templates: one snapshot per shape, cloned by restore
 * (docs/templates.md).
 *
 * A shape is what makes two machines alike: QEMU, the accelerator, the
 * guest kernel and initramfs (by content), memory, vCPUs, the policy
 * (by what it says: its digest) and whether it has a NIC.
 * Its template is a guest booted by sandboxd with no container, no network
 * and no user code, frozen once its agent said hello and saved with QMP
 * `migrate` to STATE_DIR/templates/<key>.vmstate (0600, root's; a clone's
 * QEMU only gets a read-only fd of it). The key is a digest of the shape,
 * so a new kernel or initramfs means a new template; files of other
 * kernels are removed at start. A shape without a template is booted cold
 * meanwhile and its template built in the background, by a hidden sandbox
 * (no events, no state.json) that sandbox-template.c snapshots instead of
 * finishing its boot. A failed build is tried again after a minute.
 *
 * Templates cost the host what no tenant is charged for (a sealed memfd
 * in sandboxd and two files, ~60 MiB each), so they are bounded: a shape
 * gets one only when it recurs (its second sandbox) or is prepared (the
 * default shape), at most `max` exist (the least recently used ready one
 * is dropped for a new one; none is built while all are busy), and a
 * build or a warm clone starts only while the host admits its memory
 * (ctx->admit_hidden). Their RAM is counted (sandbox_templates_memory). */
#include "remove-tree.h"
#include "sandbox-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define RETRY_AFTER_US (60 * G_USEC_PER_SEC)
#define TEMPLATE_SUFFIX ".vmstate"
#define RAM_SUFFIX ".ram"
#define PAGE 4096
/* Shapes remembered (their uses counted) without a template: beyond it,
 * the least recently used are forgotten. */
#define MAX_SHAPES 256

typedef struct
{
  char *key;
  char *path;       /* its state file */
  gboolean ready;   /* the file is complete */
  Sandbox *builder; /* while it is built */
  gint64 failed_at; /* monotonic; 0: never */
  guint clones;     /* restored from it, for inspect and tests */
  int ram;          /* its RAM: a sealed memfd, or -1 */
  SandboxTemplates *ts;
  GPtrArray *pool; /* Sandbox: warm clones, ready to be taken */
  guint starting;  /* warm clones on their way */
  guint memory_mb; /* the shape, to build it again */
  gboolean nic;    /* with a NIC: for sandboxes with a network */
  guint cpus;
  const Policy *policy;
  char *kernel; /* its guest kernel and initramfs; NULL: the context's */
  char *initramfs;
  guint uses;        /* sandboxes of this shape asked for */
  gint64 last_used;  /* monotonic */
  gboolean prepared; /* built whether it recurs or not */
} Template;

struct SandboxTemplates
{
  SandboxContext *ctx;
  char *dir;
  char *kernel_digest; /* sha256 hex of the kernel's and the initramfs' bytes */
  GHashTable *kernels; /* another kernel's path -> that digest of it and its initramfs */
  guint warm;          /* warm clones kept per shape */
  guint max;           /* templates at most (ready or building) */
  gboolean closing;    /* sandboxd is exiting: nothing new starts */
  GHashTable *by_key;  /* key -> Template */
};

static void refill (SandboxTemplates *ts, Template *t);

static void
template_free (Template *t)
{
  if (t->ram >= 0)
    close (t->ram);
  if (t->pool)
    g_ptr_array_unref (t->pool);
  g_free (t->key);
  g_free (t->path);
  g_free (t->kernel);
  g_free (t->initramfs);
  g_free (t);
}

static char *
digest_files (const char *const *paths, GError **error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  for (const char *const *p = paths; *p; p++)
    {
      g_autoptr (GMappedFile) f = g_mapped_file_new (*p, FALSE, error);
      if (f == NULL)
        return NULL;
      g_checksum_update (sum, (const guchar *) g_mapped_file_get_contents (f),
                         (gssize) g_mapped_file_get_length (f));
    }
  return g_strdup (g_checksum_get_string (sum));
}

/* "<first 12 of the kernel digest>-<first 16 of the shape's>"; NULL for
 * a kernel sandbox_templates_new was not told of. */
static char *
shape_key (SandboxTemplates *ts, Sandbox *sb)
{
  SandboxContext *ctx = ts->ctx;
  const char *kernel_digest
      = sb->kernel_path ? g_hash_table_lookup (ts->kernels, sb->kernel_path) : ts->kernel_digest;
  if (kernel_digest == NULL)
    return NULL;
  g_autofree char *shape
      = g_strdup_printf ("v1|%s|%s|%s|%u|%u|%s|%s|%s", ctx->qemu, accel_to_string (ctx->accel),
                         kernel_digest, sb->memory_mb, sb->cpus, sb->policy->name,
                         sb->policy->digest ? sb->policy->digest : "", sb->network ? "nic" : "");
  g_autofree char *d = g_compute_checksum_for_string (G_CHECKSUM_SHA256, shape, -1);
  return g_strdup_printf ("%.12s-%.16s", kernel_digest, d);
}

static gboolean
zero_page (const guchar *p)
{
  for (int i = 0; i < PAGE; i++)
    if (p[i])
      return FALSE;
  return TRUE;
}

/* Copies @from's data (its holes skipped) to @to, leaving zero pages out:
 * what is not written stays a hole, which reads as zeros. */
static gboolean
copy_sparse (int from, int to, GError **error)
{
  struct stat st;
  g_autofree guchar *buf = g_malloc (PAGE);
  if (fstat (from, &st) < 0 || ftruncate (to, st.st_size) < 0)
    goto fail;
  for (off_t pos = lseek (from, 0, SEEK_DATA); pos >= 0 && pos < st.st_size;
       pos = lseek (from, pos, SEEK_DATA))
    {
      off_t end = lseek (from, pos, SEEK_HOLE);
      if (end < 0)
        goto fail;
      for (; pos < end; pos += PAGE)
        {
          if (pread (from, buf, PAGE, pos) != PAGE)
            goto fail;
          if (!zero_page (buf) && pwrite (to, buf, PAGE, pos) != PAGE)
            goto fail;
        }
    }
  if (errno != ENXIO && errno != 0)
    goto fail;
  return TRUE;
fail:
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "copy the template's RAM: %s",
               g_strerror (errno));
  return FALSE;
}

/* The template's RAM from its file into a memfd, sealed: a clone's QEMU
 * may map it privately (copy on write) but never change it. */
static int
load_ram (const char *path, GError **error)
{
  int file = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  int ram = memfd_create ("sandboxd-template", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  errno = 0;
  gboolean ok
      = file >= 0 && ram >= 0 && copy_sparse (file, ram, error)
        && fcntl (ram, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0;
  if (!ok && (error == NULL || *error == NULL))
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", path,
                 g_strerror (errno));
  if (file >= 0)
    close (file);
  if (!ok && ram >= 0)
    close (ram);
  return ok ? ram : -1;
}

/* The build's RAM (its memfd) into PATH.ram, sparse. */
static gboolean
save_ram (int ram, const char *state_path, GError **error)
{
  g_autofree char *base = g_strndup (state_path, strlen (state_path) - strlen (TEMPLATE_SUFFIX));
  g_autofree char *path = g_strconcat (base, RAM_SUFFIX, NULL);
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  errno = 0;
  gboolean ok
      = fd >= 0 && copy_sparse (ram, fd, error) && fsync (fd) == 0 && g_rename (tmp, path) == 0;
  if (!ok && (error == NULL || *error == NULL))
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", path,
                 g_strerror (errno));
  if (fd >= 0)
    close (fd);
  if (!ok)
    g_unlink (tmp);
  return ok;
}

static char *
ram_path (Template *t)
{
  g_autofree char *base = g_strndup (t->path, strlen (t->path) - strlen (TEMPLATE_SUFFIX));
  return g_strconcat (base, RAM_SUFFIX, NULL);
}

/* Ready when both files are there and the RAM is loaded. */
static gboolean
make_ready (Template *t, GError **error)
{
  g_autofree char *ram = ram_path (t);
  if (t->ram < 0)
    t->ram = load_ram (ram, error);
  t->ready = t->ram >= 0;
  return t->ready;
}

static void
on_builder_deleted (GObject *source, GAsyncResult *result, gpointer data)
{
  Sandbox *builder = data;
  g_ptr_array_remove (builder->ctx->hidden, builder);
  g_autoptr (JsonObject) res = sandbox_call_finish (result, NULL);
  /* Not from within the sandbox's own call chain. */
  g_idle_add_once ((GSourceOnceFunc) sandbox_free, builder);
}

static void
on_builder_started (GObject *source, GAsyncResult *result, gpointer data)
{
  Template *t = data;
  Sandbox *builder = g_steal_pointer (&t->builder);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) res = sandbox_call_finish (result, &error);
  struct stat st;
  g_autoptr (GError) ram_error = NULL;
  if (res && g_stat (t->path, &st) == 0
      && (!save_ram (builder->ram_fd, t->path, &ram_error) || !make_ready (t, &ram_error)))
    g_clear_pointer (&res, json_object_unref);
  if (res)
    {
      g_message ("template %s: ready (%" G_GINT64_FORMAT " KiB of state, %" G_GINT64_FORMAT " ms)",
                 t->key, (gint64) st.st_size / 1024, builder->boot_ms);
      refill (t->ts, t);
    }
  else
    {
      t->failed_at = g_get_monotonic_time ();
      if (!t->ts->closing)
        g_message ("template %s: not built: %s (cold boots meanwhile; tried again in a minute)",
                   t->key,
                   error       ? error->message
                   : ram_error ? ram_error->message
                               : "no state was written");
      g_unlink (t->path);
    }
  sandbox_delete_async (builder, on_builder_deleted, builder);
}

/* A sandbox of @t's shape that no one sees (a build, a warm clone), in
 * ctx->hidden so that its uid is its own. */
static Sandbox *
hidden_sandbox (SandboxTemplates *ts, Template *t, const char *id, const char *dir)
{
  Sandbox *b = sandbox_alloc (ts->ctx, id, dir);
  b->hidden = TRUE;
  b->memory_mb = t->memory_mb;
  b->cpus = t->cpus;
  b->policy = t->policy;
  b->kernel_path = g_strdup (t->kernel);
  b->initramfs_path = g_strdup (t->initramfs);
  b->template_nic = t->nic;
  g_ptr_array_add (ts->ctx->hidden, b);
  return b;
}

static void
build (SandboxTemplates *ts, Template *t)
{
  /* As long as a sandbox's (RUNTIME_DIR/sb/<12>): its sockets' paths fit. */
  g_autofree char *id = g_strdup_printf ("t%.11s", strchr (t->key, '-') + 1);
  g_autofree char *dir = g_build_filename (ts->ctx->runtime_dir, "tb", id, NULL);
  g_autoptr (GError) error = NULL;
  if (!remove_tree (dir, &error) || g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_message ("template %s: %s", t->key, error ? error->message : g_strerror (errno));
      t->failed_at = g_get_monotonic_time ();
      return;
    }
  Sandbox *b = hidden_sandbox (ts, t, id, dir);
  b->snapshot_to = g_strdup (t->path);
  /* Its RAM is the template's: a memfd it maps shared. */
  b->ram_fd = memfd_create ("sandboxd-template-build", MFD_CLOEXEC);
  if (b->ram_fd < 0 || ftruncate (b->ram_fd, (off_t) t->memory_mb << 20) < 0)
    {
      g_message ("template %s: memfd: %s", t->key, g_strerror (errno));
      t->failed_at = g_get_monotonic_time ();
      g_ptr_array_remove (ts->ctx->hidden, b);
      sandbox_free (b);
      return;
    }
  t->builder = b;
  g_message ("template %s: building (sandbox %s: %u MiB, %u vCPUs, policy %s)", t->key, id,
             b->memory_mb, b->cpus, b->policy->name);
  sandbox_start_async (b, NULL, on_builder_started, t);
}

/* Templates that exist, ready or building. */
static guint
count_built (SandboxTemplates *ts)
{
  guint n = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, ts->by_key);
  while (g_hash_table_iter_next (&it, NULL, &value))
    n += ((Template *) value)->ready || ((Template *) value)->builder;
  return n;
}

static void
drain_pool (Template *t)
{
  while (t->pool && t->pool->len)
    {
      Sandbox *sb = g_ptr_array_steal_index (t->pool, t->pool->len - 1);
      sandbox_delete_async (sb, on_builder_deleted, sb);
    }
}

/* Its files and RAM go (clones running keep their own fd of the RAM). */
static void
drop_files (Template *t)
{
  t->ready = FALSE;
  g_unlink (t->path);
  g_autofree char *ram = ram_path (t);
  g_unlink (ram);
  if (t->ram >= 0)
    close (t->ram);
  t->ram = -1;
}

/* The least recently used of @ts's shapes that, if @ready, has a ready
 * template (no warm clone on its way), else has none at all (not
 * building, not prepared); never @except. NULL: none. */
static Template *
least_recent (SandboxTemplates *ts, gboolean ready, Template *except)
{
  Template *lru = NULL;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, ts->by_key);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Template *t = value;
      gboolean candidate = ready ? t->ready && t->starting == 0
                                 : !t->ready && !t->builder && !t->starting && !t->prepared;
      if (t != except && candidate && (lru == NULL || t->last_used < lru->last_used))
        lru = t;
    }
  return lru;
}

/* Room for one more template: the least recently used ready one is
 * dropped if @ts is full. FALSE if every one is building. */
static gboolean
make_room (SandboxTemplates *ts, Template *t)
{
  if (ts->max == 0)
    return FALSE;
  if (count_built (ts) < ts->max)
    return TRUE;
  Template *old = least_recent (ts, TRUE, t);
  if (old == NULL)
    return FALSE;
  g_message ("template %s: dropped for %s (--max-templates %u; used %" G_GINT64_FORMAT " s ago)",
             old->key, t->key, ts->max,
             (g_get_monotonic_time () - old->last_used) / G_USEC_PER_SEC);
  drain_pool (old);
  drop_files (old);
  old->uses = 0; /* it must recur again to come back */
  return TRUE;
}

static gboolean
admitted (SandboxTemplates *ts, guint memory_mb)
{
  return ts->ctx->admit_hidden == NULL || ts->ctx->admit_hidden (ts->ctx, memory_mb);
}

/* Why a shape is looked up: a sandbox boots with it (a use), a create
 * looks for a warm clone (then boots: not a use yet), or it is prepared. */
typedef enum
{
  LOOKUP_USE,
  LOOKUP_PEEK,
  LOOKUP_PREPARE,
} Lookup;

static Template *
lookup (SandboxTemplates *ts, Sandbox *sb, Lookup why)
{
  g_autofree char *key = shape_key (ts, sb);
  if (key == NULL)
    return NULL;
  Template *t = g_hash_table_lookup (ts->by_key, key);
  if (t == NULL)
    {
      /* Forget the least recently seen shape that has nothing built. */
      Template *old;
      if (g_hash_table_size (ts->by_key) >= MAX_SHAPES
          && (old = least_recent (ts, FALSE, NULL)) != NULL)
        g_hash_table_remove (ts->by_key, old->key);
      t = g_new0 (Template, 1);
      t->key = g_strdup (key);
      g_autofree char *name = g_strconcat (key, TEMPLATE_SUFFIX, NULL);
      t->path = g_build_filename (ts->dir, name, NULL);
      t->ram = -1;
      t->ts = ts;
      t->memory_mb = sb->memory_mb;
      t->nic = sb->network != NULL;
      t->cpus = sb->cpus;
      t->policy = sb->policy;
      t->kernel = g_strdup (sb->kernel_path);
      t->initramfs = g_strdup (sb->initramfs_path);
      g_hash_table_insert (ts->by_key, t->key, t);
      /* One an earlier sandboxd built (kept at start only up to max). */
      g_autoptr (GError) error = NULL;
      g_autofree char *ram = ram_path (t);
      if (g_file_test (t->path, G_FILE_TEST_IS_REGULAR) && g_file_test (ram, G_FILE_TEST_IS_REGULAR)
          && count_built (ts) < ts->max && !make_ready (t, &error))
        g_message ("template %s: %s", t->key, error->message);
    }
  t->prepared = t->prepared || why == LOOKUP_PREPARE;
  t->uses += why == LOOKUP_USE;
  t->last_used = g_get_monotonic_time ();
  if (!t->ready && t->builder == NULL && (t->prepared || t->uses >= 2)
      && (t->failed_at == 0 || g_get_monotonic_time () - t->failed_at > RETRY_AFTER_US)
      && admitted (ts, t->memory_mb) && make_room (ts, t))
    build (ts, t);
  refill (ts, t);
  return t;
}

typedef struct
{
  Template *t;
  Sandbox *sb;
} WarmStart;

static void
on_pooled (GObject *source, GAsyncResult *result, gpointer data)
{
  WarmStart *w = data;
  Template *t = w->t;
  Sandbox *sb = w->sb;
  g_free (w);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) res = sandbox_call_finish (result, &error);
  t->starting--;
  if (res == NULL || t->ts->closing)
    {
      if (res == NULL && !t->ts->closing)
        g_message ("template %s: a warm clone failed: %s", t->key, error->message);
      sandbox_delete_async (sb, on_builder_deleted, sb);
      return;
    }
  g_ptr_array_add (t->pool, sb);
  g_message ("template %s: %u warm", t->key, t->pool->len);
}

/* One more warm clone: a hidden sandbox restored and thawed (under a name
 * of its own; taking it thaws it again as the caller's). */
static void
start_warm (SandboxTemplates *ts, Template *t)
{
  g_autofree char *id = g_strdup_printf ("%08x%04x", g_random_int (), g_random_int () & 0xffff);
  g_autofree char *dir = g_build_filename (ts->ctx->runtime_dir, "pool", id, NULL);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    return;
  Sandbox *b = hidden_sandbox (ts, t, id, dir);
  b->restore_from = g_strdup (t->path);
  b->ram_fd = fcntl (t->ram, F_DUPFD_CLOEXEC, 3);
  t->starting++;
  WarmStart *w = g_new (WarmStart, 1);
  w->t = t;
  w->sb = b;
  sandbox_start_async (b, NULL, on_pooled, w);
}

static void
refill (SandboxTemplates *ts, Template *t)
{
  if (ts->closing)
    return;
  if (t->pool == NULL)
    t->pool = g_ptr_array_new ();
  while (t->ready && t->pool->len + t->starting < ts->warm && admitted (ts, t->memory_mb))
    start_warm (ts, t);
}

static char *
find (SandboxContext *ctx, Sandbox *sb, int *ram_fd)
{
  Template *t = lookup (ctx->templates, sb, LOOKUP_USE);
  if (t == NULL || !t->ready)
    return NULL;
  *ram_fd = fcntl (t->ram, F_DUPFD_CLOEXEC, 3);
  if (*ram_fd < 0)
    return NULL;
  t->clones++;
  return g_strdup (t->path);
}

static void
discard (SandboxContext *ctx, const char *path, const char *why)
{
  SandboxTemplates *ts = ctx->templates;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, ts->by_key);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Template *t = value;
      if (g_str_equal (t->path, path) && t->ready)
        {
          g_message ("template %s: dropped (%s); building it again", t->key, why);
          drop_files (t);
          if (t->builder == NULL)
            build (ts, t);
        }
    }
}

/* A build an earlier sandboxd left running (killed before it was done):
 * its QEMU, named by its directory (-name sandboxd:RUNTIME/tb/...),
 * is killed; it is in no state.json to be taken back from. */
static void
kill_stale_builds (SandboxTemplates *ts)
{
  g_autofree char *mark = g_strdup_printf ("sandboxd:%s/tb/", ts->ctx->runtime_dir);
  g_autofree char *warm = g_strdup_printf ("sandboxd:%s/pool/", ts->ctx->runtime_dir);
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  while (proc && (name = g_dir_read_name (proc)) != NULL)
    {
      if (!g_ascii_isdigit (*name))
        continue;
      g_autofree char *path = g_strdup_printf ("/proc/%s/cmdline", name);
      g_autofree char *cmdline = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &cmdline, &len, NULL))
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, mark) || strstr (cmdline, warm))
        {
          g_message ("templates: killing the build an earlier sandboxd left (pid %s)", name);
          kill ((pid_t) g_ascii_strtoll (name, NULL, 10), SIGKILL);
        }
    }
  const char *dirs[] = { "tb", "pool" };
  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = g_build_filename (ts->ctx->runtime_dir, dirs[i], NULL);
      remove_tree (path, NULL);
    }
}

/* Whether @name is a file of one of our kernels' templates. */
static gboolean
of_our_kernels (SandboxTemplates *ts, const char *name)
{
  if (strncmp (name, ts->kernel_digest, 12) == 0)
    return TRUE;
  GHashTableIter it;
  gpointer digest;
  g_hash_table_iter_init (&it, ts->kernels);
  while (g_hash_table_iter_next (&it, NULL, &digest))
    if (strncmp (name, digest, 12) == 0)
      return TRUE;
  return FALSE;
}

/* Files of other kernels or initramfses, and half-written ones, go. */
static void
prune (SandboxTemplates *ts)
{
  g_autoptr (GDir) dir = g_dir_open (ts->dir, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    if (!of_our_kernels (ts, name)
        || !(g_str_has_suffix (name, TEMPLATE_SUFFIX) || g_str_has_suffix (name, RAM_SUFFIX)))
      {
        g_autofree char *path = g_build_filename (ts->dir, name, NULL);
        g_unlink (path);
      }
}

SandboxTemplates *
sandbox_templates_new (SandboxContext *ctx, const char *dir, const char *const *kernels,
                       GError **error)
{
  const char *files[] = { ctx->kernel, ctx->initramfs, NULL };
  g_autofree char *digest = digest_files (files, error);
  if (digest == NULL)
    return NULL;
  g_autoptr (GHashTable) others = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (const char *const *k = kernels; k && k[0] && k[1]; k += 2)
    {
      const char *pair[] = { k[0], k[1], NULL };
      char *d = digest_files (pair, error);
      if (d == NULL)
        return NULL;
      g_hash_table_insert (others, g_strdup (k[0]), d);
    }
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "create %s: %s", dir,
                   g_strerror (e));
      return NULL;
    }
  SandboxTemplates *ts = g_new0 (SandboxTemplates, 1);
  ts->ctx = ctx;
  ts->dir = g_strdup (dir);
  ts->kernel_digest = g_steal_pointer (&digest);
  ts->kernels = g_steal_pointer (&others);
  ts->max = SANDBOX_TEMPLATES_MAX;
  ts->by_key
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) template_free);
  prune (ts);
  kill_stale_builds (ts);
  ctx->templates = ts;
  ctx->template_find = find;
  ctx->template_discard = discard;
  return ts;
}

void
sandbox_templates_set_warm (SandboxTemplates *ts, guint n)
{
  ts->warm = n;
}

typedef struct
{
  gint64 mtime;
  char *path;
} StateFile;

static gint
newest_first (gconstpointer a, gconstpointer b)
{
  gint64 ma = ((const StateFile *) a)->mtime, mb = ((const StateFile *) b)->mtime;
  return ma < mb ? 1 : ma > mb ? -1 : 0;
}

static void
state_file_clear (StateFile *f)
{
  g_free (f->path);
}

void
sandbox_templates_set_max (SandboxTemplates *ts, guint n)
{
  ts->max = n;
  /* An earlier sandboxd's templates beyond the newest @n go. */
  g_autoptr (GArray) files = g_array_new (FALSE, FALSE, sizeof (StateFile));
  g_array_set_clear_func (files, (GDestroyNotify) state_file_clear);
  g_autoptr (GDir) dir = g_dir_open (ts->dir, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      StateFile f = { 0, g_build_filename (ts->dir, name, NULL) };
      struct stat st;
      if (!g_str_has_suffix (name, TEMPLATE_SUFFIX) || g_stat (f.path, &st) < 0)
        {
          g_free (f.path);
          continue;
        }
      f.mtime = st.st_mtime;
      g_array_append_val (files, f);
    }
  g_array_sort (files, newest_first);
  for (guint i = n; i < files->len; i++)
    {
      const char *path = g_array_index (files, StateFile, i).path;
      g_autofree char *base = g_strndup (path, strlen (path) - strlen (TEMPLATE_SUFFIX));
      g_autofree char *ram = g_strconcat (base, RAM_SUFFIX, NULL);
      g_unlink (path);
      g_unlink (ram);
    }
}

/* What its sealed memfd holds (its holes take nothing). */
static guint64
ram_bytes (const Template *t)
{
  struct stat st;
  return t->ram >= 0 && fstat (t->ram, &st) == 0 ? (guint64) st.st_blocks * 512 : 0;
}

guint64
sandbox_templates_memory (SandboxTemplates *ts)
{
  guint64 total = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, ts->by_key);
  while (g_hash_table_iter_next (&it, NULL, &value))
    total += ram_bytes (value);
  return total;
}

Sandbox *
sandbox_templates_take (SandboxTemplates *ts, guint memory_mb, guint cpus, const Policy *policy,
                        const char *kernel, const char *initramfs)
{
  Sandbox like = { .memory_mb = memory_mb,
                   .cpus = cpus,
                   .policy = policy,
                   .kernel_path = (char *) kernel,
                   .initramfs_path = (char *) initramfs };
  Template *t = lookup (ts, &like, LOOKUP_PEEK);
  Sandbox *sb = NULL;
  if (t == NULL)
    return NULL;
  if (t->pool && t->pool->len > 0)
    {
      sb = g_ptr_array_steal_index (t->pool, 0);
      g_ptr_array_remove (ts->ctx->hidden, sb);
    }
  refill (ts, t);
  return sb;
}

void
sandbox_templates_prepare (SandboxTemplates *ts, guint memory_mb, guint cpus, const Policy *policy)
{
  Sandbox like = { .memory_mb = memory_mb, .cpus = cpus, .policy = policy };
  lookup (ts, &like, LOOKUP_PREPARE);
}

JsonObject *
sandbox_templates_to_json (SandboxTemplates *ts)
{
  JsonObject *o = json_object_new ();
  JsonArray *a = json_array_new ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, ts->by_key);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Template *t = value;
      if (!t->ready && !t->builder && !t->failed_at)
        continue; /* a shape seen, no template */
      JsonObject *e = json_object_new ();
      json_object_set_string_member (e, "key", t->key);
      json_object_set_string_member (e, "state",
                                     t->ready     ? "ready"
                                     : t->builder ? "building"
                                                  : "failed");
      json_object_set_int_member (e, "memory_mb", t->memory_mb);
      json_object_set_int_member (e, "cpus", t->cpus);
      json_object_set_int_member (e, "ram_bytes", (gint64) ram_bytes (t));
      json_object_set_int_member (e, "clones", t->clones);
      json_object_set_int_member (e, "warm", t->pool ? t->pool->len : 0);
      json_array_add_object_element (a, e);
    }
  json_object_set_int_member (o, "max", ts->max);
  json_object_set_int_member (o, "warm_per_shape", ts->warm);
  json_object_set_int_member (o, "ram_bytes", (gint64) sandbox_templates_memory (ts));
  json_object_set_array_member (o, "templates", a);
  return o;
}

void
sandbox_templates_free (SandboxTemplates *ts)
{
  if (ts == NULL)
    return;
  if (ts->ctx->templates == ts)
    {
      ts->ctx->templates = NULL;
      ts->ctx->template_find = NULL;
      ts->ctx->template_discard = NULL;
    }
  /* At exit, builds and warm clones go: their QEMUs are killed and
   * reaped, their directories removed (the main context runs until they
   * are, 10 s at most), before what they refer to is freed. */
  ts->closing = TRUE;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, ts->by_key);
  while (g_hash_table_iter_next (&it, NULL, &value))
    drain_pool (value);
  GPtrArray *hidden = ts->ctx->hidden;
  for (guint i = 0; hidden && i < hidden->len; i++)
    sandbox_signal_qemu (hidden->pdata[i], SIGKILL);
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (hidden && hidden->len && g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (10000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_hash_table_destroy (ts->by_key);
  g_free (ts->kernel_digest);
  g_clear_pointer (&ts->kernels, g_hash_table_unref);
  g_free (ts->dir);
  g_free (ts);
}
