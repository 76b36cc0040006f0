/* volume-request.c — a Create's volumes, checked (volume-request.h). */
#include "volume-request.h"

#include "autofd.h"
#include "fs-creds.h"
#include "json-fields.h"
#include "rpc-status.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
clear_volume (gpointer p)
{
  SandboxVolumeConfig *v = p;
  g_free ((char *) v->source);
  g_free ((char *) v->destination);
  g_free ((char *) v->tag);
  if (v->source_fd >= 0)
    close (v->source_fd);
}

GArray *
volume_requests_new (void)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (SandboxVolumeConfig));
  g_array_set_clear_func (a, clear_volume);
  return a;
}

static gboolean G_GNUC_PRINTF (3, 4) volume_error (GError **error, int status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, RPC_ERROR, status, msg);
  return FALSE;
}

/* Where a volume may go: an absolute path of its own, not the kernel's
 * (/proc, /sys, /dev); the guest's own are named on its kernel's command
 * line, so their characters are few. */
static gboolean
check_destination (const char *dest, gboolean in_container, GError **error)
{
  static const char *const kernel_dirs[] = { "/proc", "/sys", "/dev" };
  if (dest == NULL || !g_path_is_absolute (dest) || strstr (dest, "..") || strlen (dest) > 255)
    return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                         "volume %s: the destination must be an absolute path without \"..\" "
                         "(at most 255 bytes)",
                         dest ? dest : "(none)");
  g_autofree char *canon = g_canonicalize_filename (dest, "/");
  if (g_str_equal (canon, "/"))
    return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                         "volume %s: a volume cannot cover the root", dest);
  for (gsize i = 0; i < G_N_ELEMENTS (kernel_dirs); i++)
    if (g_str_equal (canon, kernel_dirs[i])
        || (g_str_has_prefix (canon, kernel_dirs[i]) && canon[strlen (kernel_dirs[i])] == '/'))
      return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                           "volume %s: %s is the kernel's, not a place for a volume", dest,
                           kernel_dirs[i]);
  for (const char *c = dest; !in_container && *c; c++)
    if (!g_ascii_isalnum (*c) && !strchr ("/._-+@", *c))
      return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                           "volume %s: a guest path may have letters, digits and / . _ - + @ "
                           "only (a container's may have any)",
                           dest);
  return TRUE;
}

/* The host directory, opened as the caller (*fd, O_PATH): who serves it. */
static gboolean
check_source (const Tenant *t, const char *source, const char *dest, int *out_fd, guint *uid,
              guint *gid, GError **error)
{
  if (source == NULL || !g_path_is_absolute (source))
    return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                         "volume %s: the host directory must be an absolute path, not \"%s\"", dest,
                         source ? source : "");
  FsCredsSaved saved;
  if (t && !fs_creds_enter (&t->creds, &saved, error))
    return FALSE;
  int fd = fs_open_untrusted (source, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  gboolean ok = fd >= 0 && fstat (fd, &st) == 0;
  int e = errno;
  if (t)
    fs_creds_leave (&saved);
  sbx_autofd int held = fd;
  if (!ok)
    return volume_error (error,
                         e == ENOENT                 ? RPC_STATUS_NOT_FOUND
                         : e == EACCES || e == EPERM ? RPC_STATUS_PERMISSION_DENIED
                                                     : RPC_STATUS_INVALID_ARGUMENT,
                         "volume %s: host directory %s: %s%s%s%s", dest, source,
                         e == ENOTDIR ? "not a directory" : g_strerror (e),
                         t ? " (opened as tenant " : "", t ? t->name : "", t ? ")" : "");
  if (t && st.st_uid != t->creds.uid)
    return volume_error (error, RPC_STATUS_PERMISSION_DENIED,
                         "volume %s: host directory %s is uid %u's: tenant %s (uid %u) may share "
                         "only its own directories",
                         dest, source, (guint) st.st_uid, t->name, (guint) t->creds.uid);
  if (!t && st.st_uid == 0)
    return volume_error (error, RPC_STATUS_FAILED_PRECONDITION,
                         "volume %s: host directory %s is root's: a volume is served as its "
                         "directory's owner, never as root (chown it to the user its files "
                         "should belong to)",
                         dest, source);
  *uid = t ? t->creds.uid : st.st_uid;
  *gid = t ? t->creds.gid : st.st_gid ? st.st_gid : st.st_uid;
  *out_fd = held;
  held = -1;
  return TRUE;
}

/* The same destination or host directory twice is a mistake. */
static gboolean
check_unique (GArray *vols, const char *source, const char *dest, GError **error)
{
  g_autofree char *canon = g_canonicalize_filename (dest, "/");
  if (vols->len >= VOLUMES_MAX)
    return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                         "volume %s: a sandbox has at most %d volumes", dest, VOLUMES_MAX);
  for (guint i = 0; i < vols->len; i++)
    {
      SandboxVolumeConfig *o = &g_array_index (vols, SandboxVolumeConfig, i);
      g_autofree char *other = g_canonicalize_filename (o->destination, "/");
      if (g_str_equal (other, canon))
        return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                             "volume %s: two volumes have this destination", dest);
      if (g_str_equal (o->source, source))
        return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                             "volume %s: host directory %s is volume %s already", dest, source,
                             o->destination);
    }
  return TRUE;
}

static gboolean
add_volume (const Tenant *t, GArray *out, const char *source, const char *dest, gboolean readonly,
            gboolean in_container, GError **error)
{
  SandboxVolumeConfig v = { .in_container = in_container, .readonly = readonly, .source_fd = -1 };
  if (!check_destination (dest, in_container, error) || !check_unique (out, source, dest, error)
      || !check_source (t, source, dest, &v.source_fd, &v.uid, &v.gid, error))
    return FALSE;
  v.source = g_strdup (source);
  v.destination = g_strdup (dest);
  g_array_append_val (out, v);
  return TRUE;
}

/* A named volume of the caller's: its data directory, sandboxd's own,
 * opened by sandboxd; served as its owner. */
static gboolean
add_named (Daemon *d, GArray *out, const char *name, const char *dest, gboolean readonly,
           gboolean in_container, GError **error)
{
  SandboxVolumeConfig v = { .in_container = in_container, .readonly = readonly, .source_fd = -1 };
  if (!check_destination (dest, in_container, error))
    return FALSE;
  g_autoptr (VolumeInfo) info = daemon_volume_for_sandbox (d, name, error);
  if (info == NULL)
    {
      g_prefix_error (error, "volume %s: ", dest);
      return FALSE;
    }
  if (!check_unique (out, info->path, dest, error))
    return FALSE;
  v.source_fd = open (info->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (v.source_fd < 0)
    return volume_error (error, RPC_STATUS_INTERNAL, "volume %s: named volume %s: %s", dest, name,
                         g_strerror (errno));
  v.source = g_strdup (info->path);
  v.destination = g_strdup (dest);
  v.uid = info->uid;
  v.gid = info->gid;
  g_array_append_val (out, v);
  return TRUE;
}

gboolean
volume_requests_read (Daemon *d, JsonArray *volumes, gboolean in_container, GArray *out,
                      GError **error)
{
  const Tenant *tenant = d->caller;
  for (guint i = 0; volumes && i < json_array_get_length (volumes); i++)
    {
      JsonObject *o = json_array_get_object_element (volumes, i);
      const char *source = NULL, *dest = NULL;
      gboolean readonly = FALSE;
      g_autoptr (GList) members = o ? json_object_get_members (o) : NULL;
      for (GList *l = members; l; l = l->next)
        if (!g_str_equal (l->data, "source") && !g_str_equal (l->data, "name")
            && !g_str_equal (l->data, "destination") && !g_str_equal (l->data, "readonly"))
          return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                               "volumes[%u]: unknown field \"%s\" (known: source, name, "
                               "destination, readonly)",
                               i, (const char *) l->data);
      const char *name = NULL;
      if (o == NULL || !json_field_string (o, "source", FALSE, &source, error)
          || !json_field_string (o, "name", FALSE, &name, error)
          || !json_field_string (o, "destination", TRUE, &dest, error)
          || !json_field_bool (o, "readonly", FALSE, &readonly, error))
        {
          if (error && *error)
            g_prefix_error (error, "volumes[%u]: ", i);
          else
            volume_error (error, RPC_STATUS_INVALID_ARGUMENT, "volumes[%u] is not an object", i);
          return FALSE;
        }
      if ((source == NULL) == (name == NULL))
        return volume_error (error, RPC_STATUS_INVALID_ARGUMENT,
                             "volumes[%u]: give either source (a host directory) or name (a "
                             "named volume)",
                             i);
      if (name ? !add_named (d, out, name, dest, readonly, in_container, error)
               : !add_volume (tenant, out, source, dest, readonly, in_container, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
has_option (JsonObject *m, const char *name)
{
  JsonNode *n = json_object_get_member (m, "options");
  JsonArray *opts = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  for (guint j = 0; opts && j < json_array_get_length (opts); j++)
    if (g_strcmp0 (json_array_get_string_element (opts, j), name) == 0)
      return TRUE;
  return FALSE;
}

static JsonArray *
spec_mounts (JsonObject *spec)
{
  JsonNode *n = json_object_get_member (spec, "mounts");
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static gboolean
is_volume (JsonObject *m)
{
  return m && !g_strcmp0 (json_object_get_string_member_with_default (m, "type", ""), "volume");
}

char *
volume_requests_in_spec (JsonObject *spec)
{
  JsonArray *mounts = spec_mounts (spec);
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonObject *m = json_array_get_object_element (mounts, i);
      if (is_volume (m))
        return g_strdup_printf ("mounts[%u] (%s on %s)", i,
                                json_object_get_string_member_with_default (m, "source", "?"),
                                json_object_get_string_member_with_default (m, "destination", "?"));
    }
  return NULL;
}

/* Volume @i of @vols is mount @m of the container: both get tag vfsI. */
static void
tag_volume (GArray *vols, guint i, JsonObject *m)
{
  SandboxVolumeConfig *v = &g_array_index (vols, SandboxVolumeConfig, i);
  g_free ((char *) v->tag);
  v->tag = g_strdup_printf ("vfs%u", i);
  v->in_container = TRUE;
  json_object_set_string_member (m, "tag", v->tag);
}

gboolean
volume_requests_bind (const Tenant *tenant, JsonObject *spec, GArray *vols, GError **error)
{
  JsonArray *mounts = spec_mounts (spec);
  guint requested = vols->len;
  /* config.json's own read-write host directories. */
  for (guint i = 0; mounts && i < json_array_get_length (mounts); i++)
    {
      JsonObject *m = json_array_get_object_element (mounts, i);
      if (!is_volume (m))
        continue;
      const char *source = json_object_get_string_member_with_default (m, "source", NULL);
      const char *dest = json_object_get_string_member_with_default (m, "destination", NULL);
      if (!add_volume (tenant, vols, source, dest, has_option (m, "ro"), TRUE, error))
        return FALSE;
      tag_volume (vols, vols->len - 1, m);
    }
  if (mounts == NULL && requested)
    {
      mounts = json_array_new ();
      json_object_set_array_member (spec, "mounts", mounts);
    }
  /* Create's, as mounts of the container after its own. */
  for (guint i = 0; i < requested; i++)
    {
      SandboxVolumeConfig *v = &g_array_index (vols, SandboxVolumeConfig, i);
      JsonObject *m = json_object_new ();
      json_object_set_string_member (m, "destination", v->destination);
      json_object_set_string_member (m, "type", "volume");
      json_object_set_string_member (m, "source", v->source);
      JsonArray *opts = json_array_new ();
      json_array_add_string_element (opts, v->readonly ? "ro" : "rw");
      json_object_set_array_member (m, "options", opts);
      json_array_add_object_element (mounts, m);
      tag_volume (vols, i, m);
    }
  return TRUE;
}
