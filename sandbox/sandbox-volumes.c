/* A sandbox's volumes at boot (volumes.h): each one's socket made before
 * QEMU (its end on QEMU's command line), its file server started once
 * QEMU's cgroup is there, and a server that dies failing the sandbox. */
#include "sandbox-private.h"

#include <sys/wait.h>
#include <unistd.h>

static void
on_server_exited (Volume *v, int status, gpointer data)
{
  Sandbox *sb = data;
  if (sb->state != SANDBOX_BOOTING && sb->state != SANDBOX_RUNNING)
    return;
  g_autofree char *how = status < 0 ? g_strdup ("exited")
                         : WIFSIGNALED (status)
                             ? g_strdup_printf ("was killed by signal %d", WTERMSIG (status))
                             : g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
  g_autofree char *reason = g_strdup_printf ("volume %s: its file server (virtiofsd) %s (see %s)",
                                             v->destination, how, VOLUMES_LOG);
  sb->ops->fail (sb, reason);
}

gboolean
sandbox_volumes_prepare (Sandbox *sb, GArray *listeners, GError **error)
{
  for (guint i = 0; i < sb->volumes->len; i++)
    {
      Volume *v = sb->volumes->pdata[i];
      int fd = volume_prepare (v, sb->dir, error);
      if (fd < 0)
        return FALSE;
      g_array_append_val (listeners, fd);
    }
  return TRUE;
}

gboolean
sandbox_volumes_start (Sandbox *sb, GArray *listeners, GError **error)
{
  g_autofree char *log_path = g_build_filename (sb->dir, VOLUMES_LOG, NULL);
  gboolean own_cgroup = sb->policy && sb->policy->memory_overhead_mb && sb->ctx->cgroups;
  VolumeServerSpec spec = {
    .virtiofsd = sb->ctx->virtiofsd,
    .log_path = log_path,
    .cgroups = sb->ctx->cgroups,
    .cgroup = own_cgroup ? sb->cgroup : NULL,
  };
  gboolean ok = TRUE;
  for (guint i = 0; i < listeners->len; i++)
    {
      Volume *v = sb->volumes->pdata[i];
      v->exited = on_server_exited;
      v->exited_data = sb;
      ok = ok && volume_start (v, &spec, g_array_index (listeners, int, i), error);
    }
  sandbox_volumes_close (sb, listeners);
  return ok;
}

void
sandbox_volumes_close (Sandbox *sb, GArray *listeners)
{
  for (guint i = 0; i < listeners->len; i++)
    close (g_array_index (listeners, int, i));
  g_array_set_size (listeners, 0);
  for (guint i = 0; i < sb->volumes->len; i++)
    {
      Volume *v = sb->volumes->pdata[i];
      if (v->qemu_fd >= 0)
        close (v->qemu_fd);
      v->qemu_fd = -1;
    }
}

void
sandbox_volumes_release (Sandbox *sb)
{
  for (guint i = 0; i < sb->volumes->len; i++)
    volume_stop (sb->volumes->pdata[i]);
}

gboolean
sandbox_uses_directory (Sandbox *sb, const char *path)
{
  for (guint i = 0; i < sb->volumes->len; i++)
    if (g_str_equal (((Volume *) sb->volumes->pdata[i])->source, path))
      return TRUE;
  return FALSE;
}

void
sandbox_volumes_reattach (Sandbox *sb)
{
  for (guint i = 0; i < sb->volumes->len; i++)
    {
      Volume *v = sb->volumes->pdata[i];
      v->exited = on_server_exited;
      v->exited_data = sb;
      if (!volume_reattach (v))
        {
          g_autofree char *reason
              = g_strdup_printf ("volume %s: its file server (virtiofsd) is gone", v->destination);
          sb->ops->fail (sb, reason);
          return;
        }
    }
}
