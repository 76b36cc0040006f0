#include "fs-creds.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

void
fs_creds_for_user (FsCreds *creds, uid_t uid, gid_t gid)
{
  creds->uid = uid;
  creds->gid = gid != (gid_t) -1 ? gid : (gid_t) uid;
  creds->n_groups = 0;
  char buf[4096];
  struct passwd pw, *found = NULL;
  if (getpwuid_r (uid, &pw, buf, sizeof buf, &found) != 0 || found == NULL)
    return;
  if (gid == (gid_t) -1)
    creds->gid = gid = pw.pw_gid;
  int n = FS_CREDS_MAX_GROUPS;
  if (getgrouplist (pw.pw_name, gid, creds->groups, &n) < 0)
    n = 0; /* more than we keep: none rather than some */
  creds->n_groups = (guint) n;
}

/* The raw calls: per thread, unlike glibc's setgroups (which signals every
 * thread to change with it). setfsuid and setfsgid are per thread anyway. */
static int
thread_setgroups (size_t n, const gid_t *groups)
{
  return (int) syscall (SYS_setgroups, n, groups);
}

gboolean
fs_creds_enter (const FsCreds *creds, FsCredsSaved *saved, GError **error)
{
  saved->entered = FALSE;
  saved->n_groups = getgroups (FS_CREDS_MAX_GROUPS, saved->groups);
  if (saved->n_groups < 0 || thread_setgroups (creds->n_groups, creds->groups) < 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   "cannot take the groups of uid %u: %s", (guint) creds->uid, g_strerror (e));
      return FALSE;
    }
  /* The group first: with a non-zero fsuid the thread could no longer
   * choose its fsgid. setfsuid reports the old value whatever happens;
   * asking again tells whether it took. */
  saved->fsgid = (gid_t) setfsgid (creds->gid);
  saved->fsuid = (uid_t) setfsuid (creds->uid);
  saved->entered = TRUE;
  if ((uid_t) setfsuid ((uid_t) -1) != creds->uid || (gid_t) setfsgid ((gid_t) -1) != creds->gid)
    {
      fs_creds_leave (saved);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM, "cannot take the identity of uid %u",
                   (guint) creds->uid);
      return FALSE;
    }
  return TRUE;
}

void
fs_creds_leave (FsCredsSaved *saved)
{
  if (!saved->entered)
    return;
  /* The uid back first: root may set any fsgid and groups. */
  setfsuid (saved->fsuid);
  setfsgid (saved->fsgid);
  if (thread_setgroups ((size_t) saved->n_groups, saved->groups) < 0
      || (uid_t) setfsuid ((uid_t) -1) != saved->fsuid)
    g_error ("cannot take back this thread's own identity: %s", g_strerror (errno));
  saved->entered = FALSE;
}

void
fs_creds_drop_in_child (gpointer data)
{
  const FsCreds *creds = data;
  if (setgroups (creds->n_groups, creds->groups) < 0
      || setresgid (creds->gid, creds->gid, creds->gid) < 0
      || setresuid (creds->uid, creds->uid, creds->uid) < 0)
    _exit (127);
}
