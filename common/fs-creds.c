#include "fs-creds.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
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

/* The calling thread's capabilities (capget/capset with pid 0 act on the
 * calling thread only; glibc has no wrapper that would act on all). */
static int
thread_caps (struct __user_cap_data_struct data[2], gboolean set)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  return (int) syscall (set ? SYS_capset : SYS_capget, &header, data);
}

/* Sets the thread's effective set to @effective (within its permitted). */
static int
thread_set_effective (const guint32 effective[2])
{
  struct __user_cap_data_struct data[2];
  if (thread_caps (data, FALSE) < 0)
    return -1;
  data[0].effective = effective[0];
  data[1].effective = effective[1];
  return thread_caps (data, TRUE);
}

gboolean
fs_creds_enter (const FsCreds *creds, FsCredsSaved *saved, GError **error)
{
  saved->entered = FALSE;
  struct __user_cap_data_struct caps[2];
  const guint32 none[2] = { 0, 0 };
  if (thread_caps (caps, FALSE) < 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "capget: %s", g_strerror (e));
      return FALSE;
    }
  saved->cap_effective[0] = caps[0].effective;
  saved->cap_effective[1] = caps[1].effective;
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
  /* Last: setfsgid needs CAP_SETGID. */
  if (thread_set_effective (none) < 0 || (uid_t) setfsuid ((uid_t) -1) != creds->uid
      || (gid_t) setfsgid ((gid_t) -1) != creds->gid)
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
  /* The capabilities back first, then the uid: root may set any fsgid and
   * groups. */
  if (thread_set_effective (saved->cap_effective) < 0)
    g_error ("cannot take back this thread's capabilities: %s", g_strerror (errno));
  setfsuid (saved->fsuid);
  setfsgid (saved->fsgid);
  if (thread_setgroups ((size_t) saved->n_groups, saved->groups) < 0
      || (uid_t) setfsuid ((uid_t) -1) != saved->fsuid)
    g_error ("cannot take back this thread's own identity: %s", g_strerror (errno));
  saved->entered = FALSE;
}

int
fs_open_untrusted (const char *path, int flags)
{
  struct open_how how = { .flags = (guint64) flags, .resolve = RESOLVE_NO_MAGICLINKS };
  int fd = (int) syscall (SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd < 0)
    return -1;
  struct statfs sfs;
  if (fstatfs (fd, &sfs) < 0 || sfs.f_type == PROC_SUPER_MAGIC)
    {
      close (fd);
      errno = EACCES;
      return -1;
    }
  return fd;
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
