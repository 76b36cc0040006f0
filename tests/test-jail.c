/* Policies as files, and the seccomp filter of the jail proving itself on
 * a small helper (not on QEMU's good behaviour). No VM. */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *policy_dir, *probe;

static void
test_shipped (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) all = policy_load_dir (policy_dir, &error);
  g_assert_no_error (error);
  const char *names[] = { "default", "strict", "unprivileged" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_nonnull (g_hash_table_lookup (all, names[i]));
  Policy *def = g_hash_table_lookup (all, "default"), *strict = g_hash_table_lookup (all, "strict");
  g_assert_true (def->seccomp_kill && def->private_root && def->user && def->memory_overhead_mb);
  g_assert_cmpuint (strict->max_memory_mb, <, def->max_memory_mb);
  /* Each says what it is in a digest (VM templates' shapes): they differ. */
  g_assert_cmpuint (strlen (def->digest), ==, 64);
  g_assert_cmpstr (def->digest, !=, strict->digest);

  /* A sandbox may only tighten the default: strict does, unprivileged
   * (no user switch, namespaces, root or cgroup) would loosen it. */
  Policy *unpriv = g_hash_table_lookup (all, "unprivileged");
  g_assert_null (policy_weaker_than (def, def));
  g_assert_null (policy_weaker_than (strict, def));
  g_autofree char *why = policy_weaker_than (unpriv, def);
  g_assert_cmpstr (why, ==, "QEMU would run as sandboxd's own user, not as sandboxd-qemu");
  g_autofree char *loose = policy_weaker_than (def, strict);
  g_assert_cmpstr (loose, ==, "its limits are higher");
}

/* Writes @json as bad.json next to a copy of the allow-list; the error
 * must name the file and contain @want. */
static void
expect_refused (const char *json, const char *want)
{
  g_autofree char *dir = g_dir_make_tmp ("policy-XXXXXX", NULL);
  g_autofree char *list = g_build_filename (dir, "q.syscalls", NULL);
  g_autofree char *file = g_build_filename (dir, "bad.json", NULL);
  g_assert_true (g_file_set_contents (list, "read\nwrite\nnot_a_syscall_at_all\n", -1, NULL));
  g_assert_true (g_file_set_contents (file, json, -1, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) all = policy_load_dir (dir, &error);
  g_assert_null (all);
  g_assert_nonnull (error);
  if (!strstr (error->message, "bad.json") || !strstr (error->message, want))
    g_error ("error \"%s\" should name bad.json and say \"%s\"", error->message, want);
  unlink (list);
  unlink (file);
  rmdir (dir);
}

#define GOOD_TAIL                                                                                  \
  "\"namespaces\": [], \"private_root\": false, \"qemu_sandbox\": true, "                          \
  "\"seccomp\": {\"allow\": \"q.syscalls\", \"action\": \"kill\"}"

static void
test_malformed (void)
{
  expect_refused ("{", "bad.json");
  expect_refused ("{\"description\": \"x\", \"requires_root\": false, " GOOD_TAIL
                  ", \"limits\": {\"max_memory_mb\": \"lots\", \"max_cpus\": 1, "
                  "\"open_files\": 100}}",
                  "max_memory_mb");
  expect_refused ("{\"description\": \"x\", \"requires_root\": false, \"namespace\": [], " GOOD_TAIL
                  ", \"limits\": {\"max_memory_mb\": 100, \"max_cpus\": 1, \"open_files\": 100}}",
                  "unknown field \"namespace\"");
  expect_refused ("{\"description\": \"x\", \"requires_root\": false, " GOOD_TAIL
                  ", \"limits\": {\"max_memory_mb\": 100, \"max_cpus\": 1, \"open_files\": 100}}",
                  "unknown system call \"not_a_syscall_at_all\"");
}

/* Runs the probe in a jail with @filter; its wait status. */
static int
run_probe (const JailFilter *filter, const char *mode, GString *out)
{
  int p[2];
  g_assert_cmpint (pipe (p), ==, 0);
  char *argv[] = { (char *) probe, (char *) mode, NULL };
  g_auto (JailSpec) spec;
  jail_spec_init (&spec, argv, p[1]);
  spec.open_files = 256;
  spec.filter = filter;
  GPid pid;
  g_autoptr (GError) error = NULL;
  g_assert_true (jail_spawn (&spec, &pid, &error));
  g_assert_no_error (error);
  close (p[1]);
  char buf[256];
  ssize_t n;
  while ((n = read (p[0], buf, sizeof buf)) > 0)
    g_string_append_len (out, buf, n);
  close (p[0]);
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return status;
}

static void
test_filter (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) all = policy_load_dir (policy_dir, &error);
  g_assert_no_error (error);
  Policy *def = g_hash_table_lookup (all, "default");

  JailFilter *kill = jail_filter_new (def->syscalls, TRUE, &error);
  g_assert_no_error (error);
  g_autoptr (GString) out = g_string_new (NULL);
  int status = run_probe (kill, "allowed", out);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_assert_true (g_str_has_prefix (out->str, "pid "));

  g_string_truncate (out, 0);
  status = run_probe (kill, "unshare", out);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGSYS);
  g_assert_true (g_str_has_prefix (out->str, "pid ")); /* it did run until then */

  /* io_uring would run operations the filter never sees (IORING_OP_SYMLINKAT
   * where symlink() is killed): its calls fail with ENOSYS, even under
   * "kill", so QEMU falls back to its thread pool instead of dying. */
  status = run_probe (kill, "io_uring", out);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, ENOSYS);
  /* clone3's flags cannot be inspected: ENOSYS, and glibc uses clone, which
   * makes threads but no processes; sockets are unix ones only. */
  status = run_probe (kill, "clone3", out);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, ENOSYS);
  status = run_probe (kill, "thread", out);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  status = run_probe (kill, "fork", out);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGSYS);
  status = run_probe (kill, "inet", out);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, EAFNOSUPPORT);
  /* ioctl: what QEMU asks of files, terminals, taps and KVM; any other
   * request is the filter's, never the driver's. */
  status = run_probe (kill, "ioctl-ok", out);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  status = run_probe (kill, "ioctl-off", out);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGSYS);
  status = run_probe (kill, "ioctl-kvm", out);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  jail_filter_free (kill);

  /* "errno": the call fails with EPERM instead, and the process carries on. */
  JailFilter *deny = jail_filter_new (def->syscalls, FALSE, &error);
  g_assert_no_error (error);
  status = run_probe (deny, "unshare", out);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, EPERM);
  jail_filter_free (deny);

  /* Without the filter the same calls reach the kernel: the filter did it. */
  status = run_probe (NULL, "unshare", out);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  status = run_probe (NULL, "io_uring", out);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), !=, ENOSYS);
  const char *reach[] = { "clone3", "fork", "inet", "ioctl-off" };
  for (gsize i = 0; i < G_N_ELEMENTS (reach); i++)
    {
      status = run_probe (NULL, reach[i], out);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
}

/* An allow-list naming io_uring is refused: the filter cannot see its
 * operations. */
/* A volume server's jail: root in a user namespace that is one host uid.
 * It writes through the directory as it was opened (bound by fd, on a
 * scratch tmpfs of its own over /tmp, though the directory's host path is
 * in a 0700 directory it could not pass), and its files are that uid's on
 * the host; the host root's 0600 file stays closed to it, capabilities or
 * not. */
static void
test_user_namespace (void)
{
  if (getuid () != 0)
    {
      g_test_skip ("maps a user namespace to another uid: needs root");
      return;
    }
  g_autofree char *dir = g_dir_make_tmp ("userns-XXXXXX", NULL);
  g_autofree char *shared = g_build_filename (dir, "shared", NULL);
  g_autofree char *point = g_strdup_printf ("/tmp/sbx-userns-%d", getpid ());
  g_autofree char *secret = g_build_filename (shared, "secret", NULL);
  g_autofree char *made = g_build_filename (point, "made", NULL);
  g_assert_cmpint (mkdir (shared, 0755), ==, 0);
  g_assert_cmpint (chown (shared, 4242, 4242), ==, 0);
  g_assert_cmpint (chmod (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (secret, "s", 1, NULL));
  g_assert_cmpint (chmod (secret, 0600), ==, 0);
  g_autofree char *script = g_strdup_printf (
      "id -u >%s/uid; echo x >%s; cat %s/secret >/dev/null 2>&1 && echo read >%s/leak; true", point,
      made, point, point);
  char *argv[] = { "/bin/sh", "-c", script, NULL };
  int fd = open (shared, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_auto (JailSpec) spec;
  jail_spec_init (&spec, argv, 2);
  spec.clone_flags = CLONE_NEWNS;
  spec.user_ns = TRUE;
  spec.scratch = "/tmp";
  spec.uid = 4242;
  spec.gid = 4242;
  spec.keep_caps = (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER);
  g_autoptr (GError) error = NULL;
  g_assert_true (jail_spec_bind_fd (&spec, fd, point, TRUE, MS_NODEV, &error));
  close (fd);
  GPid pid = 0;
  g_assert_true (jail_spawn (&spec, &pid, &error));
  g_assert_no_error (error);
  int status = 0;
  waitpid (pid, &status, 0);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_autofree char *uid_file = g_build_filename (shared, "uid", NULL);
  g_autofree char *inside = NULL;
  g_assert_true (g_file_get_contents (uid_file, &inside, NULL, NULL));
  g_assert_cmpstr (inside, ==, "0\n"); /* root in its namespace */
  g_autofree char *made_here = g_build_filename (shared, "made", NULL);
  struct stat st;
  g_assert_cmpint (stat (made_here, &st), ==, 0); /* through the bind, into the directory */
  g_assert_cmpuint (st.st_uid, ==, 4242);         /* and the host's uid 4242's */
  g_autofree char *leak = g_build_filename (shared, "leak", NULL);
  g_assert_false (g_file_test (leak, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (point, G_FILE_TEST_EXISTS)); /* the host's /tmp was not touched */
  g_autofree char *cmd = g_strdup_printf ("rm -rf %s", dir);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
test_io_uring_refused (void)
{
  g_autofree char *dir = g_dir_make_tmp ("policy-XXXXXX", NULL);
  g_autofree char *list = g_build_filename (dir, "calls", NULL);
  g_autofree char *file = g_build_filename (dir, "p.json", NULL);
  g_assert_true (g_file_set_contents (list, "read\nio_uring_enter\n", -1, NULL));
  g_assert_true (g_file_set_contents (
      file,
      "{\"description\": \"x\", \"requires_root\": false, \"namespaces\": [], "
      "\"private_root\": false, \"seccomp\": {\"allow\": \"calls\", \"action\": \"kill\"}, "
      "\"qemu_sandbox\": true, \"limits\": {\"max_memory_mb\": 100, \"max_cpus\": 1, "
      "\"open_files\": 100}}",
      -1, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) all = policy_load_dir (dir, &error);
  g_assert_null (all);
  g_assert_nonnull (error);
  if (strstr (error->message, "io_uring_enter") == NULL || strstr (error->message, ":2:") == NULL)
    g_error ("\"%s\" does not name io_uring_enter and its line", error->message);
  unlink (list);
  unlink (file);
  rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  policy_dir = g_getenv ("SANDBOXD_POLICY_DIR");
  probe = g_getenv ("SECCOMP_PROBE");
  g_assert_nonnull (policy_dir);
  g_assert_nonnull (probe);
  g_test_add_func ("/policy/shipped", test_shipped);
  g_test_add_func ("/policy/malformed", test_malformed);
  g_test_add_func ("/policy/seccomp-kills", test_filter);
  g_test_add_func ("/policy/io-uring-refused", test_io_uring_refused);
  g_test_add_func ("/jail/user-namespace", test_user_namespace);
  return g_test_run ();
}
