/* Containers without a VM: OCI config.json read strictly (each refusal
 * names its field), and root images built once per content. */
#include "images.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

static char *
make_bundle (const char *config)
{
  char *dir = g_dir_make_tmp ("bundle-XXXXXX", NULL);
  g_autofree char *root = g_build_filename (dir, "rootfs", NULL);
  g_autofree char *file = g_build_filename (dir, "config.json", NULL);
  g_assert_cmpint (g_mkdir (root, 0755), ==, 0);
  if (config)
    g_assert_true (g_file_set_contents (file, config, -1, NULL));
  return dir;
}

static void
remove_tree (const char *dir)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (cmd), ==, 0);
}

/* What `runc spec` writes (its security and hardening fields) is read
 * into the spec the agent applies, not refused. */
static void
test_runc_spec_fields (void)
{
  g_autofree char *dir = make_bundle (
      "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
      " \"process\": {\"args\": [\"sh\"], \"noNewPrivileges\": true, \"oomScoreAdj\": 100,"
      "   \"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [10, 20]},"
      "   \"apparmorProfile\": \"x\","
      "   \"capabilities\": {\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\"],"
      "     \"effective\": [\"CAP_KILL\"], \"permitted\": [\"CAP_KILL\"], \"ambient\": []},"
      "   \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 512}]},"
      " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
      "   {\"destination\": \"/sys\", \"type\": \"none\", \"source\": \"/sys\","
      "    \"options\": [\"rbind\", \"ro\"]},"
      "   {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\","
      "    \"options\": [\"ro\"]}],"
      " \"linux\": {\"namespaces\": [{\"type\": \"network\"}, {\"type\": \"cgroup\"}],"
      "   \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"],"
      "   \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}, \"cgroupsPath\": \"/x\","
      "   \"mountLabel\": \"system_u:object_r:container_file_t:s0\","
      "   \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
      "     {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": "
      "\"rwm\"}], \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 0}],"
      "     \"network\": {\"classID\": 1048577}}}}");
  g_autoptr (GError) error = NULL;
  g_autofree char *root = NULL;
  g_autoptr (JsonObject) spec = container_spec_from_bundle (dir, &root, &error);
  g_assert_no_error (error);
  JsonObject *caps = json_object_get_object_member (spec, "capabilities");
  JsonArray *bounding = json_object_get_array_member (caps, "bounding");
  g_assert_cmpint (json_array_get_int_element (bounding, 0), ==, 29); /* CAP_AUDIT_WRITE */
  g_assert_cmpint (json_array_get_int_element (bounding, 1), ==, 5);  /* CAP_KILL */
  JsonObject *nofile
      = json_array_get_object_element (json_object_get_array_member (spec, "rlimits"), 0);
  g_assert_cmpint (json_object_get_int_member (nofile, "resource"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (nofile, "soft"), ==, 512);
  g_assert_true (json_object_get_boolean_member (spec, "no_new_privileges"));
  g_assert_cmpint (json_object_get_int_member (spec, "oom_score_adj"), ==, 100);
  g_assert_true (json_object_get_boolean_member (spec, "netns"));
  g_assert_true (json_object_get_boolean_member (spec, "cgroupns"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (spec, "additional_gids")),
                    ==, 2);
  g_assert_cmpstr (
      json_array_get_string_element (json_object_get_array_member (spec, "maskedPaths"), 0), ==,
      "/proc/kcore");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (spec, "sysctl"),
                                                  "net.ipv4.ip_forward"),
                   ==, "1");
  /* The config's mounts in its order, /proc with them (the guest mounts
   * it there); a bind of the host's /sys gives the guest's own instead. */
  JsonArray *mounts = json_object_get_array_member (spec, "mounts");
  g_assert_cmpuint (json_array_get_length (mounts), ==, 2);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (mounts, 0), "type"), ==,
      "proc");
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (mounts, 1), "type"), ==,
      "cgroup");
  /* Host-only fields: accepted, listed as not applied (AppArmor; SELinux's
   * mount label, huge pages and net classes, which a guest has none of). */
  JsonArray *na = json_object_get_array_member (spec, "not_applied");
  g_assert_cmpuint (json_array_get_length (na), ==, 4);
  g_assert_true (g_str_has_prefix (json_array_get_string_element (na, 1), "linux.mountLabel"));
  g_assert_true (
      g_str_has_prefix (json_array_get_string_element (na, 2), "linux.resources.hugepageLimits"));
  /* QEMU's cgroup goes where the bundle says. */
  g_assert_cmpstr (json_object_get_string_member (spec, "cgroups_path"), ==, "/x");
  remove_tree (dir);
}

/* linux.seccomp is built on the host: the spec carries the BPF program
 * the agent loads, which starts by checking the architecture. */
static void
test_seccomp_built (void)
{
  g_autofree char *dir
      = make_bundle ("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                     " \"process\": {\"args\": [\"sh\"]},"
                     " \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\","
                     "   \"architectures\": [\"SCMP_ARCH_X86_64\"],"
                     "   \"syscalls\": [{\"names\": [\"read\", \"write\", \"no_such_call\"],"
                     "     \"action\": \"SCMP_ACT_ALLOW\"}]}}}");
  g_autoptr (GError) error = NULL;
  g_autofree char *root = NULL;
  g_autoptr (JsonObject) spec = container_spec_from_bundle (dir, &root, &error);
  g_assert_no_error (error);
  g_assert_false (json_object_has_member (spec, "seccomp"));
  gsize len = 0;
  g_autofree guchar *prog
      = g_base64_decode (json_object_get_string_member (spec, "seccomp_bpf"), &len);
  g_assert_cmpuint (len, >, 8 * 4);
  g_assert_cmpuint (len % 8, ==, 0);
  /* struct sock_filter {u16 code; u8 jt, jf; u32 k}: ld [4] (seccomp_data.arch) */
  guint16 code;
  guint32 k;
  memcpy (&code, prog, 2);
  memcpy (&k, prog + 4, 4);
  g_assert_cmpuint (code, ==, 0x20);
  g_assert_cmpuint (k, ==, 4);
  remove_tree (dir);
}

static void
test_full_bundle (void)
{
  g_autofree char *dir = make_bundle (
      "{\"ociVersion\": \"1.0.2\","
      " \"process\": {\"args\": [\"sh\", \"-c\", \"echo hi\"], \"env\": [\"A=1\"],"
      "   \"cwd\": \"/srv\", \"user\": {\"uid\": 1000, \"gid\": 100}, \"terminal\": false},"
      " \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
      " \"hostname\": \"web-1\", \"domainname\": \"example.org\","
      " \"mounts\": [{\"destination\": \"/data\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
      "   \"options\": [\"size=1m\"]},"
      "   {\"destination\": \"/etc2\", \"type\": \"none\", \"source\": \"/etc\","
      "    \"options\": [\"rbind\", \"ro\"]},"
      "   {\"destination\": \"/seed\", \"type\": \"bind\", \"source\": \"rootfs\","
      "    \"options\": [\"ro\"]}],"
      " \"linux\": {\"resources\": {\"memory\": {\"limit\": 67108864, \"reservation\": 33554432,"
      "     \"swap\": 134217728, \"swappiness\": 0, \"disableOOMKiller\": false},"
      "   \"pids\": {\"limit\": 32},"
      "   \"cpu\": {\"quota\": 50000, \"period\": 100000, \"shares\": 1024}},"
      "   \"cgroupsPath\": \"machine.slice:libpod:abc\", \"rootfsPropagation\": \"rslave\","
      "   \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229,"
      "     \"fileMode\": 384, \"uid\": 1000, \"gid\": 100}],"
      "   \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}]},"
      " \"annotations\": {\"org.example.team\": \"blue\"}}");
  g_autoptr (GError) error = NULL;
  g_autofree char *root = NULL;
  g_autoptr (JsonObject) spec = container_spec_from_bundle (dir, &root, &error);
  g_assert_no_error (error);
  g_autofree char *want_root = g_build_filename (dir, "rootfs", NULL);
  g_assert_cmpstr (root, ==, want_root);
  JsonArray *args = json_object_get_array_member (spec, "args");
  g_assert_cmpuint (json_array_get_length (args), ==, 3);
  g_assert_cmpstr (json_array_get_string_element (args, 2), ==, "echo hi");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (spec, "env"), 0),
                   ==, "A=1");
  g_assert_cmpstr (json_object_get_string_member (spec, "cwd"), ==, "/srv");
  g_assert_cmpint (json_object_get_int_member (spec, "uid"), ==, 1000);
  g_assert_cmpint (json_object_get_int_member (spec, "gid"), ==, 100);
  g_assert_true (json_object_get_boolean_member (spec, "readonly"));
  g_assert_cmpstr (json_object_get_string_member (spec, "hostname"), ==, "web-1");
  g_assert_cmpstr (json_object_get_string_member (spec, "domainname"), ==, "example.org");
  JsonObject *fuse
      = json_array_get_object_element (json_object_get_array_member (spec, "devices"), 0);
  g_assert_cmpstr (json_object_get_string_member (fuse, "path"), ==, "/dev/fuse");
  g_assert_cmpint (json_object_get_int_member (fuse, "mode"), ==, 020600); /* S_IFCHR | 0600 */
  g_assert_cmpint (json_object_get_int_member (fuse, "minor"), ==, 229);
  g_assert_cmpint (json_object_get_int_member (fuse, "uid"), ==, 1000);
  g_assert_cmpint (json_object_get_int_member (spec, "memory_bytes"), ==, 67108864);
  g_assert_cmpint (json_object_get_int_member (spec, "pids"), ==, 32);
  g_assert_cmpint (json_object_get_int_member (spec, "cpu_quota"), ==, 50000);
  /* What Docker and containerd write: a reservation (memory.low), shares
   * (cpu.weight 39, as runc maps 1024), and swap, which has nothing to
   * limit in a guest without swap. */
  g_assert_cmpint (json_object_get_int_member (spec, "memory_low"), ==, 33554432);
  g_assert_cmpint (json_object_get_int_member (spec, "cpu_weight"), ==, 39);
  /* systemd's form, as the path systemd would give the scope. */
  g_assert_cmpstr (json_object_get_string_member (spec, "cgroups_path"), ==,
                   "/machine.slice/libpod-abc.scope");
  JsonArray *mounts = json_object_get_array_member (spec, "mounts");
  g_assert_cmpuint (json_array_get_length (mounts), ==, 3);
  /* A relative bind source is the bundle's, as runc has it. */
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (mounts, 2), "source"), ==,
      want_root);
  /* runc's way of writing a bind mount, read-only, of a host directory:
   * an image of it. */
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (mounts, 1), "type"), ==,
      "image");
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (mounts, 1), "source"), ==,
      "/etc");
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (spec, "annotations"), "org.example.team"),
                   ==, "blue");
  remove_tree (dir);
}

/* @config must be refused with @code and a message containing @field. */
static void
expect_refused (const char *config, ContainerSpecError code, const char *field)
{
  g_autofree char *dir = make_bundle (config);
  g_autoptr (GError) error = NULL;
  g_autofree char *root = NULL;
  g_autoptr (JsonObject) spec = container_spec_from_bundle (dir, &root, &error);
  g_assert_null (spec);
  g_assert_error (error, CONTAINER_SPEC_ERROR, (gint) code);
  if (strstr (error->message, field) == NULL)
    g_error ("\"%s\" does not name %s", error->message, field);
  remove_tree (dir);
}

#define ROOT "\"root\": {\"path\": \"rootfs\"}"
#define PROC "\"process\": {\"args\": [\"sh\"]}"

static void
test_refusals (void)
{
  expect_refused (NULL, CONTAINER_SPEC_ERROR_NOT_FOUND, "config.json");
  expect_refused ("{\"process\": {\"args\": [\"sh\"", CONTAINER_SPEC_ERROR_INVALID, "config.json");
  expect_refused ("[1, 2]", CONTAINER_SPEC_ERROR_INVALID, "not a JSON object");
  g_autofree char *deep = g_strnfill (150000, '[');
  expect_refused (deep, CONTAINER_SPEC_ERROR_INVALID, "nest deeper than 64 levels");
  expect_refused ("{" ROOT "}", CONTAINER_SPEC_ERROR_INVALID, "process is missing");
  expect_refused ("{" ROOT ", \"process\": {\"args\": \"sh\"}}", CONTAINER_SPEC_ERROR_INVALID,
                  "process.args");
  expect_refused ("{" ROOT ", \"process\": {\"args\": []}}", CONTAINER_SPEC_ERROR_INVALID,
                  "process.args");
  expect_refused ("{" ROOT ", \"process\": {\"args\": [\"sh\", 3]}}", CONTAINER_SPEC_ERROR_INVALID,
                  "process.args[1]");
  expect_refused ("{" ROOT ", \"process\": {\"args\": [\"sh\"], \"env\": [\"NOVALUE\"]}}",
                  CONTAINER_SPEC_ERROR_INVALID, "process.env[0]");
  expect_refused ("{" ROOT ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"tmp\"}}",
                  CONTAINER_SPEC_ERROR_INVALID, "process.cwd");
  /* process.terminal: kept in the spec, for the runtime to give it a terminal. */
  {
    g_autoptr (GError) terr = NULL;
    g_autofree char *tdir
        = make_bundle ("{" ROOT ", \"process\": {\"args\": [\"sh\"], \"terminal\": true}}");
    g_autofree char *troot = NULL;
    g_autoptr (JsonObject) tspec = container_spec_from_bundle (tdir, &troot, &terr);
    g_assert_no_error (terr);
    g_assert_true (json_object_get_boolean_member_with_default (tspec, "terminal", FALSE));
    remove_tree (tdir);
  }
  expect_refused ("{" ROOT ", \"process\": {\"args\": [\"sh\"], \"capabilities\": "
                  "{\"bounding\": [\"CAP_KILL\", \"CAP_FLY\"]}}}",
                  CONTAINER_SPEC_ERROR_INVALID, "process.capabilities.bounding[1]: \"CAP_FLY\"");
  /* What the spec does not define is ignored (it says a runtime MUST);
   * what it defines and a VM cannot do is refused by name unless it asks
   * for nothing (Docker and containerd write such defaults). */
  {
    g_autoptr (GError) uerr = NULL;
    g_autofree char *udir = make_bundle (
        "{" ROOT ", \"wishful\": 1, \"process\": {\"args\": [\"sh\"], \"capabilities\": "
        "{\"wishful\": []}}, \"linux\": {\"intelRdt\": {}, \"resources\": {\"blockIO\": {}, "
        "\"memory\": {\"disableOOMKiller\": false, \"swappiness\": 0}, \"future\": 7}}}");
    g_autofree char *uroot = NULL;
    g_autoptr (JsonObject) uspec = container_spec_from_bundle (udir, &uroot, &uerr);
    g_assert_no_error (uerr);
    remove_tree (udir);
  }
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"intelRdt\": {\"closID\": \"x\"}}}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED, "linux.intelRdt is not supported");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"resources\": {\"blockIO\": "
                  "{\"weight\": 10}}}}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED, "linux.resources.blockIO is not supported");
  expect_refused ("{\"ociVersion\": \"invalid\", " PROC ", " ROOT "}", CONTAINER_SPEC_ERROR_INVALID,
                  "ociVersion \"invalid\" is not a version");
  expect_refused ("{" ROOT ", \"process\": {\"args\": [\"sh\"], \"rlimits\": "
                  "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 5}]}}",
                  CONTAINER_SPEC_ERROR_INVALID, "process.rlimits[0]");
  expect_refused ("{" ROOT ", \"process\": {\"args\": [\"sh\"], \"user\": {\"uid\": -1}}}",
                  CONTAINER_SPEC_ERROR_INVALID, "process.user.uid");
  expect_refused ("{" PROC "}", CONTAINER_SPEC_ERROR_INVALID, "root is missing");
  expect_refused ("{" PROC ", \"root\": {\"path\": 7}}", CONTAINER_SPEC_ERROR_INVALID, "root.path");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"seccomp\": {}}}",
                  CONTAINER_SPEC_ERROR_INVALID, "linux.seccomp.defaultAction is missing");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"seccomp\": {\"defaultAction\": "
                  "\"SCMP_ACT_NOTIFY\"}}}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED,
                  "linux.seccomp.defaultAction: \"SCMP_ACT_NOTIFY\"");
  expect_refused ("{" PROC ", " ROOT ", \"hooks\": {\"createContainer\": []}}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED, "hooks.createContainer");
  expect_refused ("{" PROC ", " ROOT ", \"hooks\": {\"prestart\": [{\"path\": \"rel\"}]}}",
                  CONTAINER_SPEC_ERROR_INVALID, "hooks.prestart[0].path");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"devices\": [{\"path\": \"/etc/x\", "
                  "\"type\": \"c\", \"major\": 1, \"minor\": 3}]}}",
                  CONTAINER_SPEC_ERROR_INVALID, "linux.devices[0].path");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"devices\": [{\"path\": \"/dev/x\", "
                  "\"type\": \"q\"}]}}",
                  CONTAINER_SPEC_ERROR_INVALID, "linux.devices[0].type");
  /* Allowing a device neither every container has nor linux.devices makes. */
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"devices\": [{\"path\": \"/dev/fuse\", "
                  "\"type\": \"c\", \"major\": 10, \"minor\": 229}], \"resources\": "
                  "{\"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": 10, "
                  "\"minor\": 200, \"access\": \"rwm\"}]}}}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED, "linux.resources.devices[0]");
  expect_refused ("{" PROC ", " ROOT ", \"domainname\": \"a/b\"}", CONTAINER_SPEC_ERROR_INVALID,
                  "domainname \"a/b\"");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"rootfsPropagation\": \"sideways\"}}",
                  CONTAINER_SPEC_ERROR_INVALID, "linux.rootfsPropagation \"sideways\"");
  expect_refused ("{" PROC ", " ROOT ", \"hostname\": \"a b\"}", CONTAINER_SPEC_ERROR_INVALID,
                  "hostname");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"namespaces\": [{\"type\": \"ipc\", "
                  "\"path\": \"/proc/1/ns/ipc\"}]}}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED, "linux.namespaces[0]");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}]}}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED, "linux.namespaces[0]");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"resources\": {\"devices\": "
                  "[{\"allow\": true, \"type\": \"b\", \"major\": 8, \"minor\": 0, "
                  "\"access\": \"rwm\"}]}}}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED,
                  "linux.resources.devices[0]: allowing device b 8:0");
  expect_refused ("{" PROC ", " ROOT
                  ", \"linux\": {\"resources\": {\"memory\": {\"limit\": \"1G\"}}}}",
                  CONTAINER_SPEC_ERROR_INVALID, "linux.resources.memory.limit");
  expect_refused ("{" PROC ", " ROOT ", \"mounts\": [{\"destination\": \"/c\", \"type\": "
                  "\"nfs\"}]}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED, "mounts[0].type");
  expect_refused ("{" PROC ", " ROOT ", \"mounts\": [{\"destination\": \"/d\", \"type\": "
                  "\"bind\", \"source\": \"data\", \"options\": [\"ro\"]}]}",
                  CONTAINER_SPEC_ERROR_NOT_FOUND, "/data: No such file or directory");
  expect_refused ("{" PROC ", " ROOT ", \"mounts\": [{\"destination\": \"/d\", \"type\": "
                  "\"bind\", \"source\": \"\"}]}",
                  CONTAINER_SPEC_ERROR_INVALID, "mounts[0].source: a bind needs one");
  expect_refused ("{" PROC ", " ROOT ", \"linux\": {\"cgroupsPath\": \"/a/../b\"}}",
                  CONTAINER_SPEC_ERROR_INVALID, "linux.cgroupsPath \"/a/../b\"");
  expect_refused ("{" PROC ", " ROOT ", \"mounts\": [{\"destination\": \"/d\", \"type\": "
                  "\"bind\", \"source\": \"/nonexistent-x\", \"options\": [\"ro\"]}]}",
                  CONTAINER_SPEC_ERROR_NOT_FOUND, "mounts[0].source: host path /nonexistent-x");
  expect_refused ("{" PROC ", " ROOT ", \"mounts\": [{\"destination\": \"/d\", \"type\": "
                  "\"bind\", \"source\": \"/dev/null\"}]}",
                  CONTAINER_SPEC_ERROR_UNSUPPORTED, "only regular files and directories");
  expect_refused ("{" PROC ", " ROOT ", \"mounts\": [{\"destination\": \"../x\", \"type\": "
                  "\"tmpfs\"}]}",
                  CONTAINER_SPEC_ERROR_INVALID, "mounts[0].destination");
}

/* A read-write bind of a host directory (docker's and podman's -v) is a
 * volume, shared live; a read-only one an image. */
static void
test_rw_bind_volume (void)
{
  g_autofree char *dir
      = make_bundle ("{" PROC ", " ROOT ", \"mounts\": [{\"destination\": \"/d\", \"type\": "
                     "\"bind\", \"source\": \"/etc\", \"options\": [\"rbind\", \"rw\"]}, "
                     "{\"destination\": \"/e\", \"type\": \"bind\", \"source\": \"/etc\", "
                     "\"options\": [\"rbind\", \"ro\"]}]}");
  g_autoptr (GError) error = NULL;
  g_autofree char *root = NULL;
  g_autoptr (JsonObject) spec = container_spec_from_bundle (dir, &root, &error);
  g_assert_no_error (error);
  JsonArray *mounts = json_object_get_array_member (spec, "mounts");
  JsonObject *rw = json_array_get_object_element (mounts, 0);
  g_assert_cmpstr (json_object_get_string_member (rw, "type"), ==, "volume");
  g_assert_cmpstr (json_object_get_string_member (rw, "source"), ==, "/etc");
  g_assert_cmpstr (json_object_get_string_member (rw, "destination"), ==, "/d");
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (mounts, 1), "type"), ==,
      "image");
  remove_tree (dir);
}

/* ---- images ---- */

static GMainLoop *loop;
static guint readings;  /* "building" reports: the root's contents were read */
static char *swap_file; /* written when a build starts: the root changes under it */

static void
on_progress (const char *stage, guint64 files, guint64 bytes, gpointer data)
{
  readings += g_str_equal (stage, "building");
  if (swap_file && g_str_equal (stage, "building"))
    g_assert_true (g_file_set_contents (swap_file, "evil\n", -1, NULL));
}

/* The SHA-256 of @path's bytes, as "sha256:<hex>". */
static char *
file_digest (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_autofree char *hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) data, len);
  return g_strdup_printf ("sha256:%s", hex);
}

static void
on_image (GObject *source, GAsyncResult *result, gpointer data)
{
  ImageInfo **out = data;
  g_autoptr (GError) error = NULL;
  *out = image_cache_get_finish (result, &error);
  g_assert_no_error (error);
  g_main_loop_quit (loop);
}

static void
on_image_error (GObject *source, GAsyncResult *result, gpointer data)
{
  GError **error = data;
  g_autoptr (ImageInfo) info = image_cache_get_finish (result, error);
  g_assert_null (info);
  g_main_loop_quit (loop);
}

typedef struct
{
  ImageInfo *info;
  GError *error;
} Outcome;

static void
on_outcome (GObject *source, GAsyncResult *result, gpointer data)
{
  Outcome *o = data;
  o->info = image_cache_get_finish (result, &o->error);
  g_main_loop_quit (loop);
}

static ImageInfo *
get_image (const char *cache, const char *root)
{
  ImageInfo *info = NULL;
  image_cache_get_async (cache, root, NULL, 0, on_progress, on_image, &info);
  g_main_loop_run (loop);
  return info;
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
test_image_cache (void)
{
  g_autofree char *mkfs = g_find_program_in_path ("mkfs.erofs");
  if (mkfs == NULL)
    {
      g_test_skip ("mkfs.erofs is not installed (erofs-utils)");
      return;
    }
  loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *tmp = g_dir_make_tmp ("images-XXXXXX", NULL);
  g_autofree char *root = g_build_filename (tmp, "root", NULL);
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  g_autofree char *sub = g_build_filename (root, "etc", NULL);
  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  write_file (root, "marker", "one\n");
  write_file (sub, "hostname", "box\n");

  g_autoptr (ImageInfo) first = get_image (cache, root);
  g_assert_true (first->built);
  g_assert_cmpuint (readings, >, 0);
  /* An image is named by what it holds: its own bytes. */
  g_autofree char *first_bytes = file_digest (first->path);
  g_assert_cmpstr (first_bytes, ==, first->digest);
  /* Untouched since: known by its fingerprint, its contents not read again. */
  readings = 0;
  g_autoptr (ImageInfo) untouched = get_image (cache, root);
  g_assert_false (untouched->built);
  g_assert_cmpstr (untouched->digest, ==, first->digest);
  g_assert_cmpuint (readings, ==, 0);
  g_assert_true (g_str_has_prefix (first->digest, "sha256:"));
  g_assert_true (g_file_test (first->path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (first->bytes, >, 0);
  /* The same content again, even with new times: the same image, not rebuilt. */
  g_autofree char *marker = g_build_filename (root, "marker", NULL);
  struct utimbuf times = { 12345, 12345 };
  g_assert_cmpint (g_utime (marker, &times), ==, 0);
  readings = 0;
  g_autoptr (ImageInfo) again = get_image (cache, root);
  g_assert_cmpuint (readings, >, 0);
  g_assert_false (again->built);
  g_assert_cmpstr (again->path, ==, first->path);
  /* Content, mode: each makes another image. */
  write_file (root, "marker", "two\n");
  g_autoptr (ImageInfo) changed = get_image (cache, root);
  g_assert_true (changed->built);
  g_assert_cmpstr (changed->digest, !=, first->digest);
  g_assert_cmpint (g_chmod (marker, 0600), ==, 0);
  g_autoptr (ImageInfo) moded = get_image (cache, root);
  g_assert_cmpstr (moded->digest, !=, changed->digest);

  /* A tarball (of another tree): built once, then found by its digest. */
  g_autofree char *tar = g_build_filename (tmp, "root.tar", NULL);
  g_autofree char *cmd = g_strdup_printf ("tar -C '%s' -cf '%s' .", sub, tar);
  g_assert_cmpint (system (cmd), ==, 0);
  g_autoptr (ImageInfo) from_tar = get_image (cache, tar);
  g_assert_true (from_tar->built);
  g_autoptr (ImageInfo) tar_again = get_image (cache, tar);
  g_assert_false (tar_again->built);
  g_assert_cmpstr (tar_again->digest, ==, from_tar->digest);
  /* Poisoning: the root is swapped while it is built (as the build starts).
   * Whatever the image holds, its name says it, and the root is not
   * remembered; a later request for the genuine content gets an image of
   * that content, never the one built from the swapped root. */
  write_file (root, "marker", "genuine\n");
  g_autofree char *clean_root = g_build_filename (tmp, "clean", NULL);
  g_autofree char *copy = g_strdup_printf ("cp -a '%s' '%s'", root, clean_root);
  g_assert_cmpint (system (copy), ==, 0);
  g_autofree char *clean_cache = g_build_filename (tmp, "clean-cache", NULL);
  g_autoptr (ImageInfo) genuine = get_image (clean_cache, clean_root);
  swap_file = g_build_filename (root, "marker", NULL);
  /* mkfs.erofs may also fail on a root that changes while it reads it (a
   * file gone between its listing and its opening): an error, not an
   * image. */
  Outcome raced = { 0 };
  image_cache_get_async (cache, root, NULL, 0, on_progress, on_outcome, &raced);
  g_main_loop_run (loop);
  g_clear_pointer (&swap_file, g_free);
  g_assert_true ((raced.info == NULL) != (raced.error == NULL));
  if (raced.info)
    {
      g_autofree char *raced_bytes = file_digest (raced.info->path);
      g_assert_cmpstr (raced_bytes, ==, raced.info->digest);
    }
  g_clear_pointer (&raced.info, image_info_free);
  g_clear_error (&raced.error);
  write_file (root, "marker", "genuine\n");
  readings = 0;
  g_autoptr (ImageInfo) later = get_image (cache, root);
  g_assert_cmpuint (readings, >, 0); /* not taken from the memo of the raced build */
  g_autofree char *later_bytes = file_digest (later->path);
  g_assert_cmpstr (later_bytes, ==, genuine->digest);
  g_assert_cmpstr (later->digest, ==, genuine->digest);

  /* An entry sandboxd did not write (another owner's, or writable by
   * others) is not trusted: it is built again over it. */
  g_assert_true (g_file_set_contents (later->path, "planted", -1, NULL));
  g_assert_cmpint (g_chmod (later->path, 0666), ==, 0);
  g_autoptr (ImageInfo) replanted = get_image (cache, root);
  g_assert_true (replanted->built);
  g_autofree char *replanted_bytes = file_digest (replanted->path);
  g_assert_cmpstr (replanted_bytes, ==, genuine->digest);

  /* Nothing half-made is left in the cache: images, and what roots were. */
  g_autoptr (GDir) d = g_dir_open (cache, 0, NULL);
  const char *ent;
  while ((ent = g_dir_read_name (d)) != NULL)
    g_assert_true ((g_str_has_prefix (ent, "sha256-") && g_str_has_suffix (ent, ".erofs"))
                   || g_str_equal (ent, "roots"));

  /* Collection: listed least recently used first; prune keeps what is in
   * use and what was used in the last minute, removes those unused for
   * long, then more (oldest first) while the cache is over its size. */
  g_autoptr (GPtrArray) listed = image_cache_list (cache, NULL);
  g_assert_cmpuint (listed->len, >=, 3);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  for (guint i = 0; i < listed->len; i++)
    {
      ImageInfo *info = listed->pdata[i];
      struct utimbuf age = { now - 7200 - (time_t) i * 60, now - 7200 - (time_t) i * 60 };
      g_assert_cmpint (g_utime (info->path, &age), ==, 0);
    }
  g_autoptr (GHashTable) in_use = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_add (in_use, replanted->path);
  g_autoptr (GPtrArray) kept_all = image_cache_prune (cache, in_use, 3 * 3600, 0, NULL);
  g_assert_cmpuint (kept_all->len, ==, 0); /* none unused for 3 h, no size limit */
  g_autoptr (GPtrArray) one = image_cache_prune (cache, in_use, 3 * 3600, 1, NULL);
  g_assert_cmpuint (one->len, ==, listed->len - 1); /* over 1 byte: all but the one in use */
  g_autoptr (GPtrArray) left = image_cache_list (cache, NULL);
  g_assert_cmpuint (left->len, ==, 1);
  g_assert_cmpstr (((ImageInfo *) left->pdata[0])->path, ==, replanted->path);

  /* A cache directory others can write to is refused. */
  g_assert_cmpint (g_chmod (cache, 0777), ==, 0);
  g_autoptr (GError) cache_error = NULL;
  image_cache_get_async (cache, root, NULL, 0, NULL, on_image_error, &cache_error);
  g_main_loop_run (loop);
  g_assert_error (cache_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (cache_error->message, "is not safe"));

  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (tmp, "nope", NULL);
  g_assert_false (image_cache_check_root (missing, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  remove_tree (tmp);
  g_main_loop_unref (loop);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/containers/bundle", test_full_bundle);
  g_test_add_func ("/containers/runc-spec-fields", test_runc_spec_fields);
  g_test_add_func ("/containers/seccomp-built", test_seccomp_built);
  g_test_add_func ("/containers/refusals", test_refusals);
  g_test_add_func ("/containers/rw-bind-volume", test_rw_bind_volume);
  g_test_add_func ("/containers/image-cache", test_image_cache);
  return g_test_run ();
}
