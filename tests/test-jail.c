/* Policies as files, and the seccomp filter of the jail proving itself on
 * a small helper (not on QEMU's good behaviour). No VM. */
#include "policy.h"

#include <errno.h>
#include <gio/gio.h>
#include <signal.h>
#include <string.h>
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
  return g_test_run ();
}
