/* sandbox-reattach.c — taking back a sandbox after sandboxd restarted.
 *
 * QEMU outlives sandboxd: it serves its QMP and agent sockets, so a new
 * sandboxd connects again, as libvirt reattaches to its domains. The QEMU is
 * no longer our child, so its end is watched through a pidfd; its pid is
 * trusted only while /proc says the process started when the saved state
 * says ours did (pids are reused).
 */
#include "sandbox-private.h"

#include "proc-stat.h"

#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

static gboolean
on_pidfd (int fd, GIOCondition cond, gpointer data)
{
  Sandbox *sb = data;
  sb->pidfd_watch = 0;
  close (sb->pidfd);
  sb->pidfd = -1;
  sandbox_qemu_exited (sb, -1);
  return G_SOURCE_REMOVE;
}

void
sandbox_reattach (Sandbox *sb)
{
  SandboxState was = sb->state;
  sb->pidfd = proc_stat_pidfd (sb->pid, sb->qemu_start_time);
  if (sb->pidfd < 0)
    {
      if (sb->pid > 0 || (was != SANDBOX_STOPPED && was != SANDBOX_FAILED))
        sandbox_qemu_exited (sb, -1); /* fails it, unless it was stopping */
      return;
    }
  sb->pidfd_watch = g_unix_fd_add (sb->pidfd, G_IO_IN, on_pidfd, sb);

  if (was == SANDBOX_RUNNING)
    {
      g_message ("sandbox %s: reattaching to its QEMU (pid %d)", sb->name, (int) sb->pid);
      /* Its network helper's guard is our predecessor's, frozen as it
       * left it: ours is kept current. */
      g_autoptr (GError) error = NULL;
      if (sb->network && sb->network->helper_pid > 0 && sb->ctx->cgroups
          && !cgroup_guard_reattach (sb->ctx->cgroups, sb->cgroup, &error))
        g_warning ("sandbox %s: %s (its guard is the previous sandboxd's)", sb->name,
                   error->message);
      sb->resuming = TRUE;
      sandbox_connect (sb);
      sandbox_volumes_reattach (sb);
      return;
    }
  /* Half-made or half-stopped: finish it off and say so. */
  sb->stop_phase = STOP_QUIT;
  if (was == SANDBOX_STOPPING || was == SANDBOX_STOPPED || was == SANDBOX_FAILED)
    sandbox_signal_qemu (sb, SIGKILL);
  else
    sandbox_fail (sb, "sandboxd restarted while the sandbox was %s; it was stopped",
                  sandbox_state_to_string (was));
}
