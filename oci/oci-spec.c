/* oci-spec.c — `spec`: a config.json to start from, as runc's `spec`
 * writes one: sh on a terminal as root in a read-only rootfs/, three
 * capabilities, 1024 open files, the usual mounts, its own namespaces and
 * the kernel's files masked. Written here, field by field. */
#include "oci.h"

static JsonArray *
strings (const char *const *items)
{
  JsonArray *a = json_array_new ();
  for (const char *const *i = items; *i; i++)
    json_array_add_string_element (a, *i);
  return a;
}

static void
add_mount (JsonArray *mounts, const char *dest, const char *type, const char *source,
           const char *const *options)
{
  JsonObject *m = json_object_new ();
  json_object_set_string_member (m, "destination", dest);
  json_object_set_string_member (m, "type", type);
  json_object_set_string_member (m, "source", source);
  if (options)
    json_object_set_array_member (m, "options", strings (options));
  json_array_add_object_element (mounts, m);
}

JsonObject *
oci_default_spec (void)
{
  static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
  static const char *const env[]
      = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL };
  static const char *const args[] = { "sh", NULL };
  JsonObject *process = json_object_new ();
  json_object_set_boolean_member (process, "terminal", TRUE);
  JsonObject *user = json_object_new ();
  json_object_set_int_member (user, "uid", 0);
  json_object_set_int_member (user, "gid", 0);
  json_object_set_object_member (process, "user", user);
  json_object_set_array_member (process, "args", strings (args));
  json_object_set_array_member (process, "env", strings (env));
  json_object_set_string_member (process, "cwd", "/");
  JsonObject *capabilities = json_object_new ();
  const char *sets[] = { "bounding", "effective", "permitted", "ambient" };
  for (gsize i = 0; i < G_N_ELEMENTS (sets); i++)
    json_object_set_array_member (capabilities, sets[i], strings (caps));
  json_object_set_object_member (process, "capabilities", capabilities);
  JsonObject *nofile = json_object_new ();
  json_object_set_string_member (nofile, "type", "RLIMIT_NOFILE");
  json_object_set_int_member (nofile, "hard", 1024);
  json_object_set_int_member (nofile, "soft", 1024);
  JsonArray *rlimits = json_array_new ();
  json_array_add_object_element (rlimits, nofile);
  json_object_set_array_member (process, "rlimits", rlimits);
  json_object_set_boolean_member (process, "noNewPrivileges", TRUE);

  JsonObject *root = json_object_new ();
  json_object_set_string_member (root, "path", "rootfs");
  json_object_set_boolean_member (root, "readonly", TRUE);

  JsonArray *mounts = json_array_new ();
  static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  static const char *const pts[]
      = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
  static const char *const shm[]
      = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
  static const char *const plain[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const ro[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
  add_mount (mounts, "/proc", "proc", "proc", NULL);
  add_mount (mounts, "/dev", "tmpfs", "tmpfs", dev);
  add_mount (mounts, "/dev/pts", "devpts", "devpts", pts);
  add_mount (mounts, "/dev/shm", "tmpfs", "shm", shm);
  add_mount (mounts, "/dev/mqueue", "mqueue", "mqueue", plain);
  add_mount (mounts, "/sys", "sysfs", "sysfs", ro);
  add_mount (mounts, "/sys/fs/cgroup", "cgroup", "cgroup", cg);

  JsonObject *linux_ = json_object_new ();
  JsonObject *deny_all = json_object_new ();
  json_object_set_boolean_member (deny_all, "allow", FALSE);
  json_object_set_string_member (deny_all, "access", "rwm");
  JsonArray *devices = json_array_new ();
  json_array_add_object_element (devices, deny_all);
  JsonObject *resources = json_object_new ();
  json_object_set_array_member (resources, "devices", devices);
  json_object_set_object_member (linux_, "resources", resources);
  JsonArray *namespaces = json_array_new ();
  const char *ns[] = { "pid", "network", "ipc", "uts", "mount" };
  for (gsize i = 0; i < G_N_ELEMENTS (ns); i++)
    {
      JsonObject *n = json_object_new ();
      json_object_set_string_member (n, "type", ns[i]);
      json_array_add_object_element (namespaces, n);
    }
  json_object_set_array_member (linux_, "namespaces", namespaces);
  static const char *const masked[] = { "/proc/acpi",
                                        "/proc/asound",
                                        "/proc/kcore",
                                        "/proc/keys",
                                        "/proc/latency_stats",
                                        "/proc/timer_list",
                                        "/proc/timer_stats",
                                        "/proc/sched_debug",
                                        "/sys/firmware",
                                        "/proc/scsi",
                                        NULL };
  static const char *const readonly[]
      = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };
  json_object_set_array_member (linux_, "maskedPaths", strings (masked));
  json_object_set_array_member (linux_, "readonlyPaths", strings (readonly));

  JsonObject *spec = json_object_new ();
  json_object_set_string_member (spec, "ociVersion", OCI_SPEC_VERSION);
  json_object_set_object_member (spec, "process", process);
  json_object_set_object_member (spec, "root", root);
  json_object_set_string_member (spec, "hostname", "sandbox");
  json_object_set_array_member (spec, "mounts", mounts);
  json_object_set_object_member (spec, "linux", linux_);
  return spec;
}
