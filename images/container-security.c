/* container-security.c — config.json's process security and hardening
 * fields, as `runc spec` and podman write them, read into the spec the
 * guest agent applies in the container: capabilities (all five sets),
 * rlimits, no_new_privs, oom_score_adj, masked and read-only paths,
 * sysctls; device rules are checked against the devices a container has.
 * Host-only fields (AppArmor, SELinux) are accepted and listed in
 * "not_applied", which inspect shows. */
#include "container-spec-private.h"

#include <string.h>
#include <sys/stat.h>

const char *const container_security_process_fields[]
    = { "capabilities", "rlimits", "noNewPrivileges", "oomScoreAdj", "apparmorProfile",
        "selinuxLabel", NULL };
const char *const container_security_linux_fields[]
    = { "maskedPaths", "readonlyPaths", "sysctl", "seccomp", "devices", NULL };

static const char *const seccomp_actions[]
    = { "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
        "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          NULL };
static const char *const seccomp_ops[]
    = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
        "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL };
static const char *const seccomp_arches[]
    = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };

/* The kernel's capability numbers (linux/capability.h), by name. */
static const char *const cap_names[] = {
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
};

static const char *const rlimit_names[] = {
  "CPU",     "FSIZE", "DATA",  "STACK",      "CORE",     "RSS",  "NPROC",  "NOFILE",
  "MEMLOCK", "AS",    "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
};

static int
index_of (const char *const *names, gsize n, const char *prefix, const char *name)
{
  if (!g_str_has_prefix (name, prefix))
    return -1;
  for (gsize i = 0; i < n; i++)
    if (g_str_equal (names[i], name + strlen (prefix)))
      return (int) i;
  return -1;
}

static gboolean
read_capabilities (JsonObject *caps, JsonObject *spec, GError **error)
{
  static const char *const sets[]
      = { "bounding", "effective", "inheritable", "permitted", "ambient", NULL };
  if (!only_known (caps, "process.capabilities", sets, error))
    return FALSE;
  JsonObject *out = json_object_new ();
  json_object_set_object_member (spec, "capabilities", out);
  for (const char *const *set = sets; *set; set++)
    {
      g_autoptr (JsonObject) names = json_object_new ();
      if (!get_strings (caps, "process.capabilities", *set, names, error))
        return FALSE;
      if (!json_object_has_member (names, *set))
        continue;
      JsonArray *a = json_object_get_array_member (names, *set);
      JsonArray *nums = json_array_new ();
      json_object_set_array_member (out, *set, nums);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          const char *name = json_array_get_string_element (a, i);
          int cap = index_of (cap_names, G_N_ELEMENTS (cap_names), "CAP_", name);
          if (cap < 0)
            return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                               "process.capabilities.%s[%u]: \"%s\" is not a capability", *set, i,
                               name);
          json_array_add_int_element (nums, cap);
        }
    }
  return TRUE;
}

int
container_capability_number (const char *name)
{
  return index_of (cap_names, G_N_ELEMENTS (cap_names), "CAP_", name);
}

static gboolean
read_rlimits (JsonArray *limits, JsonObject *spec, GError **error)
{
  static const char *const known[] = { "type", "soft", "hard", NULL };
  JsonArray *out = json_array_new ();
  json_object_set_array_member (spec, "rlimits", out);
  for (guint i = 0; i < json_array_get_length (limits); i++)
    {
      g_autofree char *path = g_strdup_printf ("process.rlimits[%u]", i);
      JsonNode *n = json_array_get_element (limits, i);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s must be an object", path);
      JsonObject *l = json_node_get_object (n);
      const char *type = NULL;
      gint64 soft = -1, hard = -1;
      if (!only_known (l, path, known, error) || !get_string (l, path, "type", &type, error)
          || !get_int (l, path, "soft", 0, &soft, error)
          || !get_int (l, path, "hard", 0, &hard, error))
        return FALSE;
      int res = type ? index_of (rlimit_names, G_N_ELEMENTS (rlimit_names), "RLIMIT_", type) : -1;
      if (res < 0 || soft < 0 || hard < 0 || soft > hard)
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                           "%s: needs a type RLIMIT_<NAME> and soft <= hard", path);
      JsonObject *o = json_object_new ();
      json_object_set_int_member (o, "resource", res);
      json_object_set_int_member (o, "soft", soft);
      json_object_set_int_member (o, "hard", hard);
      json_array_add_object_element (out, o);
    }
  return TRUE;
}

gboolean
container_security_read_process (JsonObject *p, JsonObject *spec, GError **error)
{
  JsonObject *caps = NULL;
  JsonNode *nnp = NULL;
  gint64 oom = G_MININT64;
  const char *apparmor = NULL, *selinux = NULL;
  if (!get_object (p, "process", "capabilities", &caps, error)
      || !get_value (p, "process", "noNewPrivileges", G_TYPE_BOOLEAN, &nnp, error)
      || !get_int (p, "process", "oomScoreAdj", -1000, &oom, error)
      || !get_string (p, "process", "apparmorProfile", &apparmor, error)
      || !get_string (p, "process", "selinuxLabel", &selinux, error)
      || (caps && !read_capabilities (caps, spec, error)))
    return FALSE;
  if (json_object_has_member (p, "rlimits"))
    {
      JsonNode *n = member_of_type (p, "process", "rlimits", JSON_NODE_ARRAY, TRUE, error);
      if (n == NULL || !read_rlimits (json_node_get_array (n), spec, error))
        return FALSE;
    }
  if (oom != G_MININT64 && oom > 1000)
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                       "process.oomScoreAdj must be from -1000 to 1000");
  if (oom != G_MININT64)
    json_object_set_int_member (spec, "oom_score_adj", oom);
  if (nnp)
    json_object_set_boolean_member (spec, "no_new_privileges", json_node_get_boolean (nnp));
  if (apparmor)
    not_applied (spec, "process.apparmorProfile");
  if (selinux)
    not_applied (spec, "process.selinuxLabel");
  return TRUE;
}

#define MAX_DEVICES 256

/* linux.devices: nodes the agent makes in the container's /dev, of the
 * guest's own devices (a VM has none of the host's). Into spec "devices":
 * path, mode (type and permissions), major, minor, uid, gid. */
static gboolean
read_linux_devices (JsonArray *devices, JsonObject *spec, GError **error)
{
  static const char *const known[]
      = { "path", "type", "major", "minor", "fileMode", "uid", "gid", NULL };
  if (json_array_get_length (devices) > MAX_DEVICES)
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "linux.devices has more than %d nodes",
                       MAX_DEVICES);
  JsonArray *out = json_array_new ();
  json_object_set_array_member (spec, "devices", out);
  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      g_autofree char *path = g_strdup_printf ("linux.devices[%u]", i);
      JsonNode *n = json_array_get_element (devices, i);
      JsonObject *d = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      const char *dpath = NULL, *type = NULL;
      gint64 major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;
      if (d == NULL)
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s must be an object", path);
      if (!only_known (d, path, known, error) || !get_string (d, path, "path", &dpath, error)
          || !get_string (d, path, "type", &type, error)
          || !get_int (d, path, "major", 0, &major, error)
          || !get_int (d, path, "minor", 0, &minor, error)
          || !get_int (d, path, "fileMode", 0, &mode, error)
          || !get_int (d, path, "uid", 0, &uid, error) || !get_int (d, path, "gid", 0, &gid, error))
        return FALSE;
      if (dpath == NULL || !g_str_has_prefix (dpath, "/dev/") || strstr (dpath, "..")
          || strstr (dpath, "//") || g_str_has_suffix (dpath, "/"))
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                           "%s.path must be a path under /dev/ without \"..\"", path);
      mode_t kind = type == NULL                                         ? 0
                    : g_str_equal (type, "c") || g_str_equal (type, "u") ? S_IFCHR
                    : g_str_equal (type, "b")                            ? S_IFBLK
                    : g_str_equal (type, "p")                            ? S_IFIFO
                                                                         : 0;
      if (kind == 0)
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s.type must be c, u, b or p",
                           path);
      if (mode > 07777 || major > 0xfff || minor > 0xfffff || uid > G_MAXUINT32 - 1
          || gid > G_MAXUINT32 - 1)
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                           "%s: fileMode, major, minor, uid or gid out of range", path);
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "path", dpath);
      json_object_set_int_member (o, "mode", (gint64) kind | mode);
      json_object_set_int_member (o, "major", major);
      json_object_set_int_member (o, "minor", minor);
      json_object_set_int_member (o, "uid", uid);
      json_object_set_int_member (o, "gid", gid);
      json_array_add_object_element (out, o);
    }
  return TRUE;
}

/* Whether linux.devices (in spec "devices") has a node of @major:@minor. */
static gboolean
declared_device (JsonObject *spec, gint64 major, gint64 minor)
{
  JsonNode *n = json_object_get_member (spec, "devices");
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonObject *d = json_array_get_object_element (a, i);
      if (json_object_get_int_member (d, "major") == major
          && (minor == -1 || json_object_get_int_member (d, "minor") == minor))
        return TRUE;
    }
  return FALSE;
}

/* Rules that allow a device must allow one a container has: null, zero,
 * full, random, urandom, tty, ptmx and its pts, and those linux.devices
 * makes. */
static gboolean
read_devices (JsonArray *rules, JsonObject *spec, GError **error)
{
  static const struct
  {
    gint64 major, minor; /* -1: any */
  } have[] = { { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 },   { 1, 9 },
               { 5, 0 }, { 5, 1 }, { 5, 2 }, { 136, -1 } };
  static const char *const known[] = { "allow", "type", "major", "minor", "access", NULL };
  for (guint i = 0; i < json_array_get_length (rules); i++)
    {
      g_autofree char *path = g_strdup_printf ("linux.resources.devices[%u]", i);
      JsonNode *n = json_array_get_element (rules, i);
      JsonObject *r = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      JsonNode *allow = NULL;
      const char *type = "a", *access = NULL;
      gint64 major = -1, minor = -1;
      if (r == NULL)
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s must be an object", path);
      if (!only_known (r, path, known, error)
          || !get_value (r, path, "allow", G_TYPE_BOOLEAN, &allow, error)
          || !get_string (r, path, "type", &type, error)
          || !get_string (r, path, "access", &access, error)
          || !get_int (r, path, "major", -1, &major, error)
          || !get_int (r, path, "minor", -1, &minor, error))
        return FALSE;
      if (allow == NULL || !json_node_get_boolean (allow))
        continue; /* denying is what a container's /dev already does */
      gboolean known_device = major >= 0 && declared_device (spec, major, minor);
      for (gsize d = 0; d < G_N_ELEMENTS (have) && !known_device; d++)
        known_device = g_str_equal (type, "c") && major == have[d].major
                       && (minor == have[d].minor || have[d].minor == -1);
      if (!known_device)
        return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                           "%s: allowing device %s %" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                           " is not supported by sandboxd (a container has null, zero, full, "
                           "random, urandom, tty, console, ptmx and its pts, and what "
                           "linux.devices makes)",
                           path, type, major, minor);
    }
  return TRUE;
}

static gboolean
one_of (JsonObject *o, const char *path, const char *name, const char *const *allowed,
        gboolean required, GError **error)
{
  const char *v = NULL;
  if (!get_string (o, path, name, &v, error))
    return FALSE;
  if (v == NULL && !required)
    return TRUE;
  if (v == NULL)
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s.%s is missing", path, name);
  if (!g_strv_contains (allowed, v))
    return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                       "%s.%s: \"%s\" is not supported by sandboxd", path, name, v);
  return TRUE;
}

/* linux.seccomp, checked member by member, then built into the BPF
 * program the agent loads ("seccomp_bpf", base64; spec-seccomp.c). */
static gboolean
read_seccomp (JsonObject *sc, JsonObject *spec, GError **error)
{
  static const char *const known[]
      = { "defaultAction", "defaultErrnoRet", "architectures", "syscalls", "flags", NULL };
  static const char *const rule_known[] = { "names", "action", "errnoRet", "args", NULL };
  static const char *const arg_known[] = { "index", "value", "valueTwo", "op", NULL };
  gint64 errno_ret = 0;
  g_autoptr (JsonObject) lists = json_object_new ();
  if (!only_known (sc, "linux.seccomp", known, error)
      || !one_of (sc, "linux.seccomp", "defaultAction", seccomp_actions, TRUE, error)
      || !get_int (sc, "linux.seccomp", "defaultErrnoRet", 0, &errno_ret, error)
      || !get_strings (sc, "linux.seccomp", "architectures", lists, error)
      || !get_strings (sc, "linux.seccomp", "flags", lists, error))
    return FALSE;
  JsonArray *arches = json_object_has_member (lists, "architectures")
                          ? json_object_get_array_member (lists, "architectures")
                          : NULL;
  for (guint i = 0; arches && i < json_array_get_length (arches); i++)
    if (!g_strv_contains (seccomp_arches, json_array_get_string_element (arches, i)))
      return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                         "linux.seccomp.architectures[%u]: \"%s\" is not supported by sandboxd", i,
                         json_array_get_string_element (arches, i));
  if (json_object_has_member (lists, "flags")
      && json_array_get_length (json_object_get_array_member (lists, "flags")) > 0)
    return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                       "linux.seccomp.flags are not supported by sandboxd");
  JsonNode *rn = json_object_get_member (sc, "syscalls");
  if (rn && !JSON_NODE_HOLDS_ARRAY (rn))
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                       "linux.seccomp.syscalls must be an array");
  JsonArray *rules = rn ? json_node_get_array (rn) : NULL;
  for (guint i = 0; rules && i < json_array_get_length (rules); i++)
    {
      g_autofree char *path = g_strdup_printf ("linux.seccomp.syscalls[%u]", i);
      JsonNode *n = json_array_get_element (rules, i);
      JsonObject *r = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      g_autoptr (JsonObject) names = json_object_new ();
      if (r == NULL)
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s must be an object", path);
      if (!only_known (r, path, rule_known, error) || !get_strings (r, path, "names", names, error)
          || !one_of (r, path, "action", seccomp_actions, TRUE, error)
          || !get_int (r, path, "errnoRet", 0, &errno_ret, error))
        return FALSE;
      JsonNode *an = json_object_get_member (r, "args");
      if (an && !JSON_NODE_HOLDS_ARRAY (an))
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s.args must be an array", path);
      JsonArray *args = an ? json_node_get_array (an) : NULL;
      for (guint j = 0; args && j < json_array_get_length (args); j++)
        {
          g_autofree char *apath = g_strdup_printf ("%s.args[%u]", path, j);
          JsonNode *en = json_array_get_element (args, j);
          JsonObject *a = JSON_NODE_HOLDS_OBJECT (en) ? json_node_get_object (en) : NULL;
          gint64 index = -1, value = 0;
          if (a == NULL)
            return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s must be an object", apath);
          if (!only_known (a, apath, arg_known, error)
              || !get_int (a, apath, "index", 0, &index, error)
              || !get_int (a, apath, "value", 0, &value, error)
              || !get_int (a, apath, "valueTwo", 0, &value, error)
              || !one_of (a, apath, "op", seccomp_ops, TRUE, error))
            return FALSE;
          if (index < 0 || index > 5)
            return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s.index must be from 0 to 5",
                               apath);
        }
    }
  g_autofree char *bpf = NULL;
  g_autoptr (GError) local = NULL;
  if (!container_seccomp_compile (sc, &bpf, &local))
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s", local->message);
  json_object_set_string_member (spec, "seccomp_bpf", bpf);
  return TRUE;
}

gboolean
container_security_read_linux (JsonObject *l, JsonObject *spec, GError **error)
{
  JsonObject *seccomp = NULL;
  if (!get_object (l, "linux", "seccomp", &seccomp, error)
      || (seccomp && !read_seccomp (seccomp, spec, error)))
    return FALSE;
  JsonObject *sysctl = NULL;
  if (!get_strings (l, "linux", "maskedPaths", spec, error)
      || !get_strings (l, "linux", "readonlyPaths", spec, error)
      || !get_object (l, "linux", "sysctl", &sysctl, error))
    return FALSE;
  if (json_object_has_member (l, "devices"))
    {
      JsonNode *n = member_of_type (l, "linux", "devices", JSON_NODE_ARRAY, TRUE, error);
      if (n == NULL || !read_linux_devices (json_node_get_array (n), spec, error))
        return FALSE;
    }
  JsonObject *res = NULL;
  if (!get_object (l, "linux", "resources", &res, error))
    return FALSE;
  if (res && json_object_has_member (res, "devices"))
    {
      JsonNode *n
          = member_of_type (res, "linux.resources", "devices", JSON_NODE_ARRAY, TRUE, error);
      if (n == NULL || !read_devices (json_node_get_array (n), spec, error))
        return FALSE;
    }
  if (sysctl == NULL)
    return TRUE;
  JsonObject *out = json_object_new ();
  json_object_set_object_member (spec, "sysctl", out);
  g_autoptr (GList) keys = json_object_get_members (sysctl);
  for (GList *k = keys; k; k = k->next)
    {
      const char *key = k->data, *value = NULL;
      if (!get_string (sysctl, "linux.sysctl", key, &value, error))
        return FALSE;
      if (strstr (key, "..") || strchr (key, '/') || *key == '.' || *key == '\0')
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                           "linux.sysctl: \"%s\" is not a sysctl name", key);
      json_object_set_string_member (out, key, value);
    }
  return TRUE;
}

gboolean
container_security_read_hooks (JsonObject *hooks, JsonObject *spec, GError **error)
{
  static const char *const on_host[]
      = { "prestart", "createRuntime", "poststart", "poststop", NULL };
  static const char *const in_container[] = { "createContainer", "startContainer", NULL };
  static const char *const hook_known[] = { "path", "args", "env", "timeout", NULL };
  g_autoptr (GList) kinds = json_object_get_members (hooks);
  for (GList *k = kinds; k; k = k->next)
    {
      const char *kind = k->data;
      if (g_strv_contains (in_container, kind))
        return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                           "hooks.%s is not supported by sandboxd (it would run a host program "
                           "inside the container, which is in a VM)",
                           kind);
      if (!g_strv_contains (on_host, kind))
        return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                           "hooks.%s is not supported by sandboxd", kind);
      g_autofree char *kpath = g_strdup_printf ("hooks.%s", kind);
      JsonNode *n = member_of_type (hooks, "hooks", kind, JSON_NODE_ARRAY, TRUE, error);
      if (n == NULL)
        return FALSE;
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          g_autofree char *path = g_strdup_printf ("%s[%u]", kpath, i);
          JsonNode *hn = json_array_get_element (a, i);
          JsonObject *h = JSON_NODE_HOLDS_OBJECT (hn) ? json_node_get_object (hn) : NULL;
          const char *prog = NULL;
          gint64 timeout = 0;
          g_autoptr (JsonObject) lists = json_object_new ();
          if (h == NULL)
            return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "%s must be an object", path);
          if (!only_known (h, path, hook_known, error)
              || !get_string (h, path, "path", &prog, error)
              || !get_strings (h, path, "args", lists, error)
              || !get_strings (h, path, "env", lists, error)
              || !get_int (h, path, "timeout", 1, &timeout, error))
            return FALSE;
          if (prog == NULL || !g_path_is_absolute (prog))
            return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                               "%s.path must be an absolute path", path);
        }
    }
  not_applied (spec, "hooks (sandbox-runtime runs them on the host)");
  return TRUE;
}
