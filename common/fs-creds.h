/* fs-creds.h — reading a path as someone else.
 *
 * A tenant names host paths (a root, a bundle, a disk). The daemon runs as
 * root and must open them with the tenant's rights, never its own: root
 * would read /etc/shadow or another user's 0700 directory for anyone who
 * asked. Two ways, both without touching the rest of the process:
 *  - a thread takes the tenant's file-system identity for a while
 *    (fsuid, fsgid and supplementary groups are per thread in the kernel;
 *    the raw system calls change only the calling thread, where glibc's
 *    wrappers would change every thread of the daemon);
 *  - a child process becomes the tenant for good before it runs a program
 *    (mkfs.erofs reading a tenant's directory).
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#define FS_CREDS_MAX_GROUPS 64

typedef struct
{
  uid_t uid;
  gid_t gid;
  guint n_groups; /* supplementary groups */
  gid_t groups[FS_CREDS_MAX_GROUPS];
} FsCreds;

/* What a thread had before fs_creds_enter. */
typedef struct
{
  uid_t fsuid;
  gid_t fsgid;
  int n_groups;
  gid_t groups[FS_CREDS_MAX_GROUPS];
  guint32 cap_effective[2];
  gboolean entered;
} FsCredsSaved;

/* @uid's credentials: @gid ((gid_t) -1: the user's primary group, or the
 * uid when it has no user), and the supplementary groups of @uid's user in
 * the group database (none when @uid has no user). */
void fs_creds_for_user (FsCreds *creds, uid_t uid, gid_t gid);

/* The calling thread opens, reads and lists as @creds until
 * fs_creds_leave, with no effective capability: the file-system identity
 * alone leaves CAP_SYS_PTRACE (which opens /proc/PID/root and
 * /proc/PID/maps of any process) and the rest in force. FALSE with @error
 * if the kernel refused (nothing changed then). Never hold it across a
 * main-loop turn. */
gboolean fs_creds_enter (const FsCreds *creds, FsCredsSaved *saved, GError **error);
void fs_creds_leave (FsCredsSaved *saved);

/* open(2) for a path a caller named: refuses magic links on the way
 * (/proc/PID/root, /proc/PID/fd/N: ELOOP, as for any link with O_NOFOLLOW)
 * and anything on procfs (EACCES: /proc/self is the daemon, whose own
 * files pass every permission check). -1 with errno. */
int fs_open_untrusted (const char *path, int flags);

/* A GSpawnChildSetupFunc: the child becomes @creds (an FsCreds *) for
 * good: groups, gid, uid, in that order; it exits 127 if any step fails. */
void fs_creds_drop_in_child (gpointer creds);
