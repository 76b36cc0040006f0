/* config.json's mounts[]: the kinds a container in a VM can have.
 *
 * A bind mount's source is a host path, as in runc. The guest cannot see
 * the host's files, so what a bind brings in is decided here: a small text
 * file is copied ("file", its content in the spec), a read-only directory
 * becomes a disk image of its own ("image": sandboxd builds it like a root
 * and the agent mounts it), and a read-write directory becomes a volume
 * ("volume": shared live over virtio-fs; sandboxd checks who may share it
 * and serves it as its owner). */
#include "container-spec-private.h"
#include "fs-creds.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOST_FILE_MAX_BYTES (64 * 1024)

/* *content: the text of the regular host file @fd, of at most 64 KiB. */
static gboolean
read_host_file (int fd, const struct stat *st, const char *source, char **content, const char *path,
                GError **error)
{
  if (st->st_size > HOST_FILE_MAX_BYTES)
    return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                       "%s: host file %s is larger than %d bytes (only small files are copied "
                       "into a VM)",
                       path, source, HOST_FILE_MAX_BYTES);
  char *buf = g_malloc (HOST_FILE_MAX_BYTES + 1);
  ssize_t n = read (fd, buf, HOST_FILE_MAX_BYTES);
  if (n < 0 || memchr (buf, '\0', (size_t) n) || !g_utf8_validate (buf, n, NULL))
    {
      g_free (buf);
      return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                         "%s: host file %s is not text (only small text files are copied into "
                         "a VM)",
                         path, source);
    }
  buf[n] = '\0';
  *content = buf;
  return TRUE;
}

static gboolean
has_option (JsonObject *m, const char *name)
{
  JsonArray *opts
      = json_object_has_member (m, "options") ? json_object_get_array_member (m, "options") : NULL;
  for (guint j = 0; opts && j < json_array_get_length (opts); j++)
    if (g_str_equal (json_array_get_string_element (opts, j), name))
      return TRUE;
  return FALSE;
}

/* A bind mount of the host's @source into @copy (the spec's entry, its
 * options already there): as a file, an image, or refused. */
static gboolean
read_bind (const char *source, const char *dest, JsonObject *copy, const char *path, GError **error)
{
  int fd = fs_open_untrusted (source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      return spec_error (
          error, e == ENOENT ? CONTAINER_SPEC_ERROR_NOT_FOUND : CONTAINER_SPEC_ERROR_UNSUPPORTED,
          "%s.source: host path %s: %s", path, source,
          e == ELOOP ? "a symbolic link (name what it points to)" : g_strerror (e));
    }
  g_autofree char *content = NULL;
  gboolean ok = TRUE;
  if (S_ISREG (st.st_mode))
    ok = read_host_file (fd, &st, source, &content, path, error);
  close (fd);
  if (!ok)
    return FALSE;
  json_object_set_string_member (copy, "destination", dest);
  if (content)
    {
      json_object_remove_member (copy, "options");
      json_object_set_string_member (copy, "type", "file");
      json_object_set_string_member (copy, "content", content);
      return TRUE;
    }
  if (!S_ISDIR (st.st_mode))
    return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                       "%s (%s on %s): only regular files and directories of the host can be "
                       "bound into a VM",
                       path, source, dest);
  json_object_set_string_member (copy, "type", has_option (copy, "ro") ? "image" : "volume");
  json_object_set_string_member (copy, "source", source);
  return TRUE;
}

gboolean
container_spec_read_mounts (JsonArray *mounts, const char *bundle, JsonObject *spec, GError **error)
{
  static const char *const known[] = { "destination", "type", "source", "options", NULL };
  static const char *const types[]
      = { "tmpfs", "proc", "sysfs", "devpts", "mqueue", "bind", "cgroup", NULL };
  /* Every container has these (the agent mounts them where the config does
   * not): a bind of the host's own there (rootless tools write one for
   * /sys) gives the guest's kind instead. */
  static const char *const given[] = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/sys", NULL };
  JsonArray *out = json_array_new ();
  json_object_set_array_member (spec, "mounts", out);
  for (guint i = 0; i < json_array_get_length (mounts); i++)
    {
      g_autofree char *path = g_strdup_printf ("mounts[%u]", i);
      JsonNode *n = json_array_get_element (mounts, i);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s must be an object", path);
      JsonObject *m = json_node_get_object (n);
      const char *dest = NULL, *type = NULL, *source = NULL;
      g_autoptr (JsonObject) copy = json_object_new ();
      if (!only_known (m, path, known, error) || !get_string (m, path, "destination", &dest, error)
          || !get_string (m, path, "type", &type, error)
          || !get_string (m, path, "source", &source, error)
          || !get_strings (m, path, "options", copy, error))
        return FALSE;
      if (dest == NULL || !g_path_is_absolute (dest) || strstr (dest, ".."))
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                           "%s.destination must be an absolute path without \"..\"", path);
      /* "none" with a bind option is how runc writes bind mounts. */
      gboolean bind = has_option (copy, "bind") || has_option (copy, "rbind");
      if (type == NULL || (g_str_equal (type, "none") && bind))
        type = "bind";
      if (!g_strv_contains (types, type))
        return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                           "%s.type \"%s\" is not supported by sandboxd", path, type);
      if (g_str_equal (type, "bind") && (source == NULL || *source == '\0'))
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s.source: a bind needs one",
                           path);
      /* A relative bind source is the bundle's, as runc has it. */
      g_autofree char *in_bundle = NULL;
      if (g_str_equal (type, "bind") && !g_path_is_absolute (source))
        source = in_bundle = g_canonicalize_filename (source, bundle);
      if (g_strv_contains (given, dest) && g_str_equal (type, "bind"))
        continue;
      if (g_str_equal (type, "bind"))
        {
          if (!read_bind (source, dest, copy, path, error))
            return FALSE;
        }
      else
        {
          json_object_set_string_member (copy, "destination", dest);
          json_object_set_string_member (copy, "type", type);
          json_object_set_string_member (copy, "source", source ? source : type);
        }
      json_array_add_object_element (out, g_steal_pointer (&copy));
    }
  return TRUE;
}
