/* agent-volumes.c — the sandbox's volumes (virtio-fs), as the kernel
 * command line names them:
 *
 *   sandboxd.volumes=TAG:ro|rw[:PATH][,TAG:ro|rw[:PATH]...]
 *
 * Each is a virtio-fs device of that tag. One with a PATH is the guest's
 * own and is mounted there at boot; one without is a container's (its
 * spec's "volume" mount names the tag). The modules of @modules_list
 * (Debian's kernel: fuse, virtiofs) are loaded when there is any. */
#include "agent.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>

static gboolean
mount_volume (const char *tag, gboolean readonly, const char *path, GError **error)
{
  if (!g_path_is_absolute (path) || strstr (path, "..") || g_mkdir_with_parents (path, 0755) < 0
      || mount (tag, path, "virtiofs", MS_NOSUID | MS_NODEV | (readonly ? MS_RDONLY : 0), NULL) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "volume %s on %s: %s", tag, path,
                   g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
agent_volumes_mount (const char *modules_list, GError **error)
{
  g_autofree char *list = agent_system_cmdline_value ("sandboxd.volumes");
  if (list == NULL || *list == '\0')
    return TRUE;
  if (!agent_system_load_modules (modules_list, error))
    return FALSE;
  g_auto (GStrv) items = g_strsplit (list, ",", -1);
  for (char **item = items; *item; item++)
    {
      g_auto (GStrv) f = g_strsplit (*item, ":", 3);
      if (g_strv_length (f) < 2 || (!g_str_equal (f[1], "ro") && !g_str_equal (f[1], "rw")))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "sandboxd.volumes: \"%s\" is not TAG:ro|rw[:PATH]", *item);
          return FALSE;
        }
      if (f[2] && !mount_volume (f[0], g_str_equal (f[1], "ro"), f[2], error))
        return FALSE;
    }
  return TRUE;
}
