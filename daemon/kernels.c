#include "kernels.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#define NAME_MAX_LEN 64

static gboolean
valid_name (const char *name)
{
  gsize len = strlen (name);
  if (len == 0 || len > NAME_MAX_LEN || !(g_ascii_islower (name[0]) || g_ascii_isdigit (name[0])))
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && !strchr ("._-", *p))
      return FALSE;
  return TRUE;
}

static gboolean
fail (GError **error, const char *name, const char *what, const char *path, const char *why)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "guest kernel %s: %s %s: %s", name, what,
               path, why);
  return FALSE;
}

/* Maps @path if it is a readable regular file. */
static GMappedFile *
map_file (const char *name, const char *what, const char *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      fail (error, name, what, path,
            g_file_test (path, G_FILE_TEST_EXISTS) ? "not a regular file" : "no such file");
      return NULL;
    }
  g_autoptr (GError) local = NULL;
  GMappedFile *f = g_mapped_file_new (path, FALSE, &local);
  if (f == NULL)
    fail (error, name, what, path, local->message);
  return f;
}

/* An ELF executable (vmlinux; QEMU's microvm boots its PVH entry) or a
 * bzImage ("HdrS" at 0x202). */
static gboolean
looks_like_kernel (const guint8 *data, gsize len)
{
  if (len >= 4 && memcmp (data, "\177ELF", 4) == 0)
    return TRUE;
  return len > 0x206 && memcmp (data + 0x202, "HdrS", 4) == 0;
}

/* A newc cpio archive, or one compressed as the kernel can unpack. */
static gboolean
looks_like_initramfs (const guint8 *data, gsize len)
{
  static const struct
  {
    const char *magic;
    gsize len;
  } magics[] = {
    { "070701", 6 },
    { "070702", 6 },
    { "\x1f\x8b", 2 },         /* gzip */
    { "\x28\xb5\x2f\xfd", 4 }, /* zstd */
    { "\xfd"
      "7zXZ",
      5 },
    { "BZh", 3 },
    { "\x02\x21\x4c\x18", 4 }, /* lz4 */
  };
  for (guint i = 0; i < G_N_ELEMENTS (magics); i++)
    if (len >= magics[i].len && memcmp (data, magics[i].magic, magics[i].len) == 0)
      return TRUE;
  return FALSE;
}

GuestKernel *
guest_kernel_new (const char *name, const char *kernel, const char *initramfs, const char *release,
                  GError **error)
{
  if (!valid_name (name))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "guest kernel name \"%s\": use lower-case letters, digits, '.', '_' and '-' "
                   "(at most %d, starting with a letter or digit)",
                   name, NAME_MAX_LEN);
      return NULL;
    }
  g_autoptr (GMappedFile) k = map_file (name, "kernel", kernel, error);
  if (k == NULL)
    return NULL;
  const guint8 *kdata = (const guint8 *) g_mapped_file_get_contents (k);
  gsize klen = g_mapped_file_get_length (k);
  if (!looks_like_kernel (kdata, klen))
    {
      fail (error, name, "kernel", kernel, "not a kernel (neither an ELF vmlinux nor a bzImage)");
      return NULL;
    }
  /* Its banner names its release: a kernel of another release than the
   * initramfs' modules would boot without them. */
  g_autofree char *banner = g_strdup_printf ("Linux version %s ", release);
  if (memmem (kdata, klen, banner, strlen (banner)) == NULL)
    {
      g_autofree char *why = g_strdup_printf (
          "is not release %s (no \"%s\" in it), which its initramfs is for", release, banner);
      fail (error, name, "kernel", kernel, why);
      return NULL;
    }
  g_autoptr (GMappedFile) i = map_file (name, "initramfs", initramfs, error);
  if (i == NULL)
    return NULL;
  if (!looks_like_initramfs ((const guint8 *) g_mapped_file_get_contents (i),
                             g_mapped_file_get_length (i)))
    {
      fail (error, name, "initramfs", initramfs, "not a cpio archive (nor a compressed one)");
      return NULL;
    }
  GuestKernel *g = g_new0 (GuestKernel, 1);
  g->name = g_strdup (name);
  g->kernel = g_strdup (kernel);
  g->initramfs = g_strdup (initramfs);
  g->release = g_strdup (release);
  g->bytes = klen + g_mapped_file_get_length (i);
  return g;
}

char *
guest_kernel_release_of (const char *kernel)
{
  static const char banner[] = "Linux version ";
  g_autoptr (GMappedFile) f = g_mapped_file_new (kernel, FALSE, NULL);
  if (f == NULL)
    return NULL;
  const char *data = g_mapped_file_get_contents (f);
  gsize len = g_mapped_file_get_length (f);
  const char *at = memmem (data, len, banner, strlen (banner));
  if (at == NULL)
    return NULL;
  const char *start = at + strlen (banner), *end = start;
  while (end < data + len && end - start < 128 && g_ascii_isgraph (*end))
    end++;
  return end > start && end < data + len && *end == ' ' ? g_strndup (start, end - start) : NULL;
}

void
guest_kernel_free (GuestKernel *kernel)
{
  if (kernel == NULL)
    return;
  g_free (kernel->name);
  g_free (kernel->kernel);
  g_free (kernel->initramfs);
  g_free (kernel->release);
  g_free (kernel);
}

JsonObject *
guest_kernel_to_json (const GuestKernel *kernel)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "name", kernel->name);
  json_object_set_string_member (o, "release", kernel->release);
  json_object_set_string_member (o, "kernel", kernel->kernel);
  json_object_set_string_member (o, "initramfs", kernel->initramfs);
  json_object_set_int_member (o, "bytes", (gint64) kernel->bytes);
  json_object_set_boolean_member (o, "default", kernel->is_default);
  return o;
}

const GuestKernel *
kernels_find (GPtrArray *kernels, const char *name)
{
  for (guint i = 0; i < kernels->len; i++)
    {
      const GuestKernel *k = kernels->pdata[i];
      if (g_str_equal (k->name, name))
        return k;
    }
  return NULL;
}

const GuestKernel *
kernels_default (GPtrArray *kernels)
{
  for (guint i = 0; i < kernels->len; i++)
    if (((GuestKernel *) kernels->pdata[i])->is_default)
      return kernels->pdata[i];
  return NULL;
}

char *
kernels_names (GPtrArray *kernels)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < kernels->len; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "", ((GuestKernel *) kernels->pdata[i])->name);
  return g_string_free (s, FALSE);
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

gboolean
kernels_load_dir (GPtrArray *kernels, const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  if (d == NULL)
    {
      g_prefix_error (error, "--kernels-dir: ");
      return FALSE;
    }
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  while ((entry = g_dir_read_name (d)))
    {
      g_autofree char *sub = g_build_filename (dir, entry, NULL);
      if (g_file_test (sub, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (names, g_strdup (entry));
    }
  g_ptr_array_sort (names, by_name);
  for (guint n = 0; n < names->len; n++)
    {
      const char *name = names->pdata[n];
      g_autofree char *kernel = g_build_filename (dir, name, "kernel", NULL);
      g_autofree char *initramfs = g_build_filename (dir, name, "initramfs.img", NULL);
      g_autofree char *release_path = g_build_filename (dir, name, "release", NULL);
      g_autofree char *release = NULL;
      g_autoptr (GError) local = NULL;
      if (kernels_find (kernels, name))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       "guest kernel %s in %s: that name is sandboxd's own already", name, dir);
          return FALSE;
        }
      if (!g_file_get_contents (release_path, &release, NULL, &local))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "guest kernel %s: %s (it names the kernel's release, as uname -r)", name,
                       local->message);
          return FALSE;
        }
      GuestKernel *k = guest_kernel_new (name, kernel, initramfs, g_strstrip (release), error);
      if (k == NULL)
        return FALSE;
      g_ptr_array_add (kernels, k);
    }
  return TRUE;
}

/* The leading "N.N.N" of @s as up to 3 numbers; FALSE if it starts
 * otherwise. */
static gboolean
leading_version (const char *s, guint64 v[3])
{
  v[0] = v[1] = v[2] = 0;
  for (int i = 0; i < 3; i++)
    {
      if (!g_ascii_isdigit (*s))
        return i > 0;
      char *end = NULL;
      v[i] = g_ascii_strtoull (s, &end, 10);
      s = end;
      if (*s != '.')
        return TRUE;
      s++;
    }
  return TRUE;
}

gboolean
kernel_release_at_least (const char *release, const char *min, gboolean *result)
{
  guint64 r[3], m[3];
  if (!leading_version (min, m) || !leading_version (release, r))
    return FALSE;
  *result = TRUE;
  for (int i = 0; i < 3; i++)
    if (r[i] != m[i])
      {
        *result = r[i] > m[i];
        break;
      }
  return TRUE;
}
