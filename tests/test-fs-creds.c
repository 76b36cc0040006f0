/* Reading as a tenant: what a tenant may not read directly, sandboxd's
 * thread acting for it may not read either (the second security review:
 * /proc/PID/root into another process's private mounts, /proc/PID/maps). */
#include "fs-creds.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static pid_t holder;
static char *priv_dir;

/* A root process with a private mount: a 0644 file only it can reach, as
 * another tenant's or the daemon's own namespace would hold. */
static void
start_holder (void)
{
  int ready[2];
  g_assert_cmpint (pipe (ready), ==, 0);
  holder = fork ();
  if (holder == 0)
    {
      close (ready[0]);
      prctl (PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion ends it too */
      if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
          || mount ("tmpfs", priv_dir, "tmpfs", 0, "mode=0755") < 0)
        _exit (1);
      g_autofree char *secret = g_build_filename (priv_dir, "secret", NULL);
      if (!g_file_set_contents (secret, "private", -1, NULL) || chmod (secret, 0644) < 0)
        _exit (1);
      (void) !write (ready[1], "x", 1);
      pause ();
      _exit (0);
    }
  close (ready[1]);
  char c;
  g_assert_cmpint (read (ready[0], &c, 1), ==, 1);
  close (ready[0]);
}

static char *
secret_path (void)
{
  return g_strdup_printf ("/proc/%d/root%s/secret", holder, priv_dir);
}

static guint64
thread_cap_eff (void)
{
  g_autofree char *status = NULL;
  g_assert_true (g_file_get_contents ("/proc/thread-self/status", &status, NULL, NULL));
  const char *p = strstr (status, "CapEff:");
  g_assert_nonnull (p);
  return g_ascii_strtoull (p + strlen ("CapEff:"), NULL, 16);
}

static void
test_proc_root_as_tenant (void)
{
  g_autofree char *path = secret_path ();
  /* As root, the file is there to read: the test sees what it guards. */
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  FsCreds creds;
  fs_creds_for_user (&creds, NOBODY, (gid_t) -1);
  FsCredsSaved saved;
  g_autoptr (GError) error = NULL;
  g_assert_true (fs_creds_enter (&creds, &saved, &error));
  fd = open (path, O_RDONLY | O_CLOEXEC);
  int e = errno;
  fs_creds_leave (&saved);
  if (fd >= 0)
    close (fd);
  g_assert_cmpint (fd, ==, -1);
  g_assert_cmpint (e, ==, EACCES);
}

static void
test_caps_dropped_and_back (void)
{
  guint64 before = thread_cap_eff ();
  g_assert_cmpuint (before, !=, 0);
  FsCreds creds;
  fs_creds_for_user (&creds, NOBODY, (gid_t) -1);
  FsCredsSaved saved;
  g_assert_true (fs_creds_enter (&creds, &saved, NULL));
  guint64 during = thread_cap_eff ();
  fs_creds_leave (&saved);
  g_assert_cmpuint (during, ==, 0);
  g_assert_cmpuint (thread_cap_eff (), ==, before);
}

static void
test_open_untrusted (void)
{
  g_autofree char *path = secret_path ();
  /* Even as root: a magic link is refused, and so is procfs itself. */
  g_assert_cmpint (fs_open_untrusted (path, O_RDONLY | O_CLOEXEC), ==, -1);
  g_assert_cmpint (errno, ==, ELOOP);
  g_assert_cmpint (fs_open_untrusted ("/proc/self/maps", O_RDONLY | O_CLOEXEC), ==, -1);
  g_assert_cmpint (errno, ==, EACCES);
  int fd = fs_open_untrusted ("/etc/hostname", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (geteuid () != 0)
    {
      printf ("1..0 # SKIP needs root (a private mount, credentials)\n");
      return 0;
    }
  priv_dir = g_dir_make_tmp ("fs-creds-XXXXXX", NULL);
  start_holder ();
  g_test_add_func ("/fs-creds/proc-root-as-tenant", test_proc_root_as_tenant);
  g_test_add_func ("/fs-creds/caps-dropped-and-back", test_caps_dropped_and_back);
  g_test_add_func ("/fs-creds/open-untrusted", test_open_untrusted);
  int rc = g_test_run ();
  kill (holder, SIGKILL);
  waitpid (holder, NULL, 0);
  rmdir (priv_dir);
  return rc;
}
