/* An OCI runtime-spec config.json read strictly: every member is either
 * understood or refused with its dotted path ("linux.seccomp"). */
#include "container-spec-private.h"
#include "fs-creds.h"

#include "json-fields.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* No config.json needs more; a larger one is refused before it is read. */
#define CONFIG_MAX_BYTES (1024 * 1024)

static gboolean
read_process (JsonObject *p, JsonObject *spec, GError **error)
{
  static const char *const own[] = { "args", "env", "cwd", "user", "terminal", NULL };
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_strv_builder_addv (names, (const char **) own);
  g_strv_builder_addv (names, (const char **) container_security_process_fields);
  g_auto (GStrv) known = g_strv_builder_end (names);
  JsonObject *user = NULL;
  JsonNode *terminal = NULL;
  const char *cwd = "/";
  if (!only_known (p, "process", (const char *const *) known, error)
      || !container_security_read_process (p, spec, error)
      || !get_strings (p, "process", "args", spec, error)
      || !get_strings (p, "process", "env", spec, error)
      || !get_string (p, "process", "cwd", &cwd, error)
      || !get_object (p, "process", "user", &user, error)
      || !get_value (p, "process", "terminal", G_TYPE_BOOLEAN, &terminal, error))
    return FALSE;
  if (!json_object_has_member (spec, "args")
      || json_array_get_length (json_object_get_array_member (spec, "args")) == 0)
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                       "process.args must name a command (a non-empty array of strings)");
  /* Its process runs on a terminal in the guest (Exec's tty). */
  if (terminal && json_node_get_boolean (terminal))
    json_object_set_boolean_member (spec, "terminal", TRUE);
  JsonArray *env
      = json_object_has_member (spec, "env") ? json_object_get_array_member (spec, "env") : NULL;
  for (guint i = 0; env && i < json_array_get_length (env); i++)
    {
      const char *e = json_array_get_string_element (env, i);
      if (strchr (e, '=') == NULL || *e == '=')
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                           "process.env[%u]: \"%s\" is not NAME=VALUE", i, e);
    }
  if (!g_path_is_absolute (cwd))
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                       "process.cwd: \"%s\" is not an absolute path", cwd);
  json_object_set_string_member (spec, "cwd", cwd);
  if (user)
    {
      static const char *const user_known[] = { "uid", "gid", "additionalGids", "umask", NULL };
      gint64 umask_value = -1;
      if (!get_int (user, "process.user", "umask", 0, &umask_value, error))
        return FALSE;
      if (umask_value > 0777)
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "process.user.umask is above 0777");
      if (umask_value >= 0)
        json_object_set_int_member (spec, "umask", umask_value);
      gint64 uid = 0, gid = 0;
      g_autoptr (JsonObject) gids = json_object_new ();
      if (!only_known (user, "process.user", user_known, error)
          || !get_int (user, "process.user", "uid", 0, &uid, error)
          || !get_int (user, "process.user", "gid", 0, &gid, error))
        return FALSE;
      JsonNode *extra = json_object_get_member (user, "additionalGids");
      if (extra && !JSON_NODE_HOLDS_ARRAY (extra))
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                           "process.user.additionalGids must be an array of numbers");
      if (extra)
        json_object_set_member (spec, "additional_gids", json_node_copy (extra));
      json_object_set_int_member (spec, "uid", uid);
      json_object_set_int_member (spec, "gid", gid);
    }
  return TRUE;
}

static gboolean
valid_hostname (const char *name)
{
  if (*name == '\0' || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

/* QEMU's cgroup, from the hierarchies' root: "/a/b" as given (a relative
 * path is taken from the root too), or systemd's "slice:prefix:name" as
 * the path systemd gives such a scope, "/slice/prefix-name.scope".
 * NULL if it is not one: empty, "." or ".." levels, odd characters. */
static char *
cgroup_path_from_oci (const char *given)
{
  g_auto (GStrv) parts = g_strsplit (given, ":", -1);
  g_autofree char *path = g_strv_length (parts) == 3
                              ? g_strdup_printf ("/%s/%s%s%s.scope", parts[0], parts[1],
                                                 *parts[1] ? "-" : "", parts[2])
                              : g_strconcat (given[0] == '/' ? "" : "/", given, NULL);
  if (strlen (path) > 256)
    return NULL;
  g_auto (GStrv) levels = g_strsplit (path + 1, "/", -1);
  if (g_strv_length (levels) > 8)
    return NULL;
  for (char **l = levels; *l; l++)
    {
      if (**l == '\0' || g_str_equal (*l, ".") || g_str_equal (*l, ".."))
        return NULL;
      for (const char *c = *l; *c; c++)
        if (!g_ascii_isalnum (*c) && !strchr ("._:@-", *c))
          return NULL;
    }
  return g_steal_pointer (&path);
}

static gboolean
read_linux (JsonObject *l, JsonObject *spec, GError **error)
{
  static const char *const own[]
      = { "resources", "namespaces", "cgroupsPath", "rootfsPropagation", "mountLabel", NULL };
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_strv_builder_addv (names, (const char **) own);
  g_strv_builder_addv (names, (const char **) container_security_linux_fields);
  g_auto (GStrv) known = g_strv_builder_end (names);
  JsonObject *res = NULL;
  const char *cgroups_path = NULL, *propagation = NULL;
  /* The container's root is private in the guest: nothing in a VM's mount
   * tree is shared with the host's, so every propagation is honoured. */
  static const char *const propagations[]
      = { "private", "rprivate",   "slave",       "rslave", "shared",
          "rshared", "unbindable", "runbindable", NULL };
  if (!only_known (l, "linux", (const char *const *) known, error)
      || !get_object (l, "linux", "resources", &res, error)
      || !get_string (l, "linux", "cgroupsPath", &cgroups_path, error)
      || !get_string (l, "linux", "rootfsPropagation", &propagation, error)
      || !container_security_read_linux (l, spec, error))
    return FALSE;
  /* SELinux's label for the container's mounts: the guest has no SELinux,
   * and runc on a host without it ignores the label the same way. */
  JsonNode *label = json_object_get_member (l, "mountLabel");
  if (label && !asks_nothing (label))
    not_applied (spec, "linux.mountLabel (the guest has no SELinux)");
  if (propagation && *propagation && !g_strv_contains (propagations, propagation))
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                       "linux.rootfsPropagation \"%s\" is not a propagation (private, slave, "
                       "shared, unbindable, or r...)",
                       propagation);
  if (cgroups_path)
    {
      g_autofree char *path = cgroup_path_from_oci (cgroups_path);
      if (path == NULL)
        return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                           "linux.cgroupsPath \"%s\" is not a cgroup path (/a/b, or systemd's "
                           "slice:prefix:name; names of letters, digits and ._:@-, at most 8 "
                           "levels)",
                           cgroups_path);
      json_object_set_string_member (spec, "cgroups_path", path);
    }
  /* Every container gets these namespaces; listing them changes nothing. */
  if (json_object_has_member (l, "namespaces"))
    {
      JsonNode *n = member_of_type (l, "linux", "namespaces", JSON_NODE_ARRAY, TRUE, error);
      if (n == NULL)
        return FALSE;
      static const char *const given[]
          = { "pid", "mount", "uts", "ipc", "network", "cgroup", NULL };
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          JsonObject *ns = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
          const char *type = ns ? json_object_get_string_member_with_default (ns, "type", "") : "";
          /* A network namespace by path (podman's, CNI's): the sandbox
           * attaches to it (sandboxd's ns: network), the container shares it. */
          const char *ns_path
              = ns ? json_object_get_string_member_with_default (ns, "path", NULL) : NULL;
          if (ns_path && g_str_equal (type, "network") && json_object_get_size (ns) == 2
              && g_path_is_absolute (ns_path))
            {
              json_object_set_string_member (spec, "network_path", ns_path);
              continue;
            }
          if (ns == NULL || !g_strv_contains (given, type) || json_object_get_size (ns) != 1)
            return spec_error (error, CONTAINER_SPEC_ERROR_UNSUPPORTED,
                               "linux.namespaces[%u] (\"%s\") is not supported by sandboxd: "
                               "containers get pid, mount, uts, ipc and, when listed, network "
                               "and cgroup namespaces (new ones, not joined by path)",
                               i, type);
          /* Without it a container shares the guest's network (a pod's). */
          if (g_str_equal (type, "network"))
            json_object_set_boolean_member (spec, "netns", TRUE);
          if (g_str_equal (type, "cgroup"))
            json_object_set_boolean_member (spec, "cgroupns", TRUE);
        }
    }
  if (res == NULL)
    return TRUE;
  static const char *const res_known[]
      = { "memory", "cpu", "pids", "devices", "hugepageLimits", "network", NULL };
  /* No huge pages in a guest (none can be used, so any limit holds), and
   * no net_cls/net_prio tags the host could see: accepted, listed. */
  static const char *const moot[][2]
      = { { "hugepageLimits", "linux.resources.hugepageLimits (the guest has no huge pages)" },
          { "network", "linux.resources.network (the host does not see a guest's classes)" } };
  for (guint i = 0; i < G_N_ELEMENTS (moot); i++)
    {
      JsonNode *n = json_object_get_member (res, moot[i][0]);
      if (n && !asks_nothing (n))
        not_applied (spec, moot[i][1]);
    }
  JsonObject *memory = NULL, *cpu = NULL, *pids = NULL;
  if (!only_known (res, "linux.resources", res_known, error)
      || !get_object (res, "linux.resources", "memory", &memory, error)
      || !get_object (res, "linux.resources", "cpu", &cpu, error)
      || !get_object (res, "linux.resources", "pids", &pids, error))
    return FALSE;
  static const char *const limit[] = { "limit", NULL };
  /* swap and swappiness: the guest has no swap, so there is nothing to
   * limit (Docker and containerd always write them). */
  static const char *const mem_known[] = { "limit", "reservation", "swap", "swappiness", NULL };
  static const char *const cpu_known[] = { "quota", "period", "shares", NULL };
  gint64 mem = 0, low = 0, npids = 0, quota = 0, period = 0, shares = 0;
  if ((memory
       && (!only_known (memory, "linux.resources.memory", mem_known, error)
           || !get_int (memory, "linux.resources.memory", "limit", 1 << 20, &mem, error)
           || !get_int (memory, "linux.resources.memory", "reservation", 0, &low, error)))
      || (pids
          && (!only_known (pids, "linux.resources.pids", limit, error)
              || !get_int (pids, "linux.resources.pids", "limit", 1, &npids, error)))
      || (cpu
          && (!only_known (cpu, "linux.resources.cpu", cpu_known, error)
              || !get_int (cpu, "linux.resources.cpu", "quota", 1000, &quota, error)
              || !get_int (cpu, "linux.resources.cpu", "period", 1000, &period, error)
              || !get_int (cpu, "linux.resources.cpu", "shares", 0, &shares, error))))
    return FALSE;
  if (mem)
    json_object_set_int_member (spec, "memory_bytes", mem);
  if (low) /* the container cgroup's memory.low */
    json_object_set_int_member (spec, "memory_low", low);
  /* cgroup v1's shares (2..262144) as v2's cpu.weight (1..10000), as runc
   * maps them (and sandbox-runtime's update); 0 asks for nothing. */
  if (shares)
    json_object_set_int_member (spec, "cpu_weight",
                                1 + ((CLAMP (shares, 2, 262144) - 2) * 9999) / 262142);
  if (npids)
    json_object_set_int_member (spec, "pids", npids);
  if (quota)
    json_object_set_int_member (spec, "cpu_quota", quota);
  if (period)
    json_object_set_int_member (spec, "cpu_period", period);
  return TRUE;
}

static gboolean
read_annotations (JsonObject *a, JsonObject *spec, GError **error)
{
  JsonObject *copy = json_object_new ();
  json_object_set_object_member (spec, "annotations", copy);
  g_autoptr (GList) members = json_object_get_members (a);
  for (GList *l = members; l; l = l->next)
    {
      const char *value = NULL;
      if (!get_string (a, "annotations", l->data, &value, error))
        return FALSE;
      json_object_set_string_member (copy, l->data, value);
    }
  return TRUE;
}

JsonObject *
container_spec_new_default (void)
{
  JsonObject *spec = json_object_new ();
  json_object_set_string_member (spec, "cwd", "/");
  json_object_set_int_member (spec, "uid", 0);
  json_object_set_int_member (spec, "gid", 0);
  json_object_set_boolean_member (spec, "readonly", FALSE);
  return spec;
}

static gboolean
read_config (JsonObject *config, const char *bundle, JsonObject *spec, char **root, GError **error)
{
  static const char *const known[]
      = { "ociVersion", "process", "root",        "hostname", "domainname",
          "mounts",     "linux",   "annotations", "hooks",    NULL };
  JsonObject *process = NULL, *rootobj = NULL, *linux_ = NULL, *annotations = NULL;
  JsonObject *hooks = NULL;
  const char *hostname = NULL, *domainname = NULL, *version = NULL, *path = NULL;
  JsonNode *readonly = NULL;
  if (!only_known (config, "", known, error)
      || !get_string (config, "", "ociVersion", &version, error))
    return FALSE;
  /* SemVer 2.0.0, as the spec says: MAJOR.MINOR.PATCH[-PRE][+BUILD]. */
  if (version
      && !g_regex_match_simple ("^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]*)?$", version, 0, 0))
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                       "ociVersion \"%s\" is not a version (MAJOR.MINOR.PATCH)", version);
  JsonNode *pn = member_of_type (config, "", "process", JSON_NODE_OBJECT, TRUE, error);
  JsonNode *rn = pn ? member_of_type (config, "", "root", JSON_NODE_OBJECT, TRUE, error) : NULL;
  if (rn == NULL)
    return FALSE;
  process = json_node_get_object (pn);
  rootobj = json_node_get_object (rn);
  static const char *const root_known[] = { "path", "readonly", NULL };
  if (!read_process (process, spec, error) || !only_known (rootobj, "root", root_known, error)
      || !get_string (rootobj, "root", "path", &path, error)
      || !get_value (rootobj, "root", "readonly", G_TYPE_BOOLEAN, &readonly, error)
      || !get_string (config, "", "hostname", &hostname, error)
      || !get_string (config, "", "domainname", &domainname, error)
      || !get_object (config, "", "linux", &linux_, error)
      || !get_object (config, "", "annotations", &annotations, error))
    return FALSE;
  if (path == NULL || *path == '\0')
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID, "root.path is missing");
  if (hostname && !valid_hostname (hostname))
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                       "hostname \"%s\" is not a valid host name", hostname);
  if (hostname)
    json_object_set_string_member (spec, "hostname", hostname);
  /* The NIS domain name of its UTS namespace (setdomainname). */
  if (domainname && *domainname && !valid_hostname (domainname))
    return spec_error (error, CONTAINER_SPEC_ERROR_INVALID,
                       "domainname \"%s\" is not a valid domain name", domainname);
  if (domainname && *domainname)
    json_object_set_string_member (spec, "domainname", domainname);
  if (readonly)
    json_object_set_boolean_member (spec, "readonly", json_node_get_boolean (readonly));
  if (json_object_has_member (config, "mounts"))
    {
      JsonNode *mn = member_of_type (config, "", "mounts", JSON_NODE_ARRAY, TRUE, error);
      if (mn == NULL || !container_spec_read_mounts (json_node_get_array (mn), bundle, spec, error))
        return FALSE;
    }
  if (!get_object (config, "", "hooks", &hooks, error)
      || (hooks && !container_security_read_hooks (hooks, spec, error)))
    return FALSE;
  if ((linux_ && !read_linux (linux_, spec, error))
      || (annotations && !read_annotations (annotations, spec, error)))
    return FALSE;
  *root = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (bundle, path, NULL);
  return TRUE;
}

JsonObject *
container_spec_parse (const char *bundle, const char *text, gssize len, char **root, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  if (!json_text_check_depth (text, len, JSON_MAX_DEPTH, &local))
    {
      g_set_error (error, CONTAINER_SPEC_ERROR, CONTAINER_SPEC_ERROR_INVALID, "%s/config.json: %s",
                   bundle, local->message);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, text, len, &local))
    {
      /* json-glib names the text "<data>": name the file instead. */
      if (g_str_has_prefix (local->message, "<data>:"))
        g_set_error (error, CONTAINER_SPEC_ERROR, CONTAINER_SPEC_ERROR_INVALID, "%s/config.json:%s",
                     bundle, local->message + strlen ("<data>:"));
      else
        g_set_error (error, CONTAINER_SPEC_ERROR, CONTAINER_SPEC_ERROR_INVALID,
                     "%s/config.json: %s", bundle, local->message);
      return NULL;
    }
  JsonNode *top = json_parser_get_root (parser);
  if (top == NULL || !JSON_NODE_HOLDS_OBJECT (top))
    {
      g_set_error (error, CONTAINER_SPEC_ERROR, CONTAINER_SPEC_ERROR_INVALID,
                   "%s/config.json: not a JSON object", bundle);
      return NULL;
    }
  JsonObject *spec = container_spec_new_default ();
  if (!read_config (json_node_get_object (top), bundle, spec, root, error))
    {
      json_object_unref (spec);
      return NULL;
    }
  return spec;
}

/* config.json as a client names it: a regular file, not a link (O_NOFOLLOW),
 * opened without blocking (a FIFO would hang the reader), at most
 * CONFIG_MAX_BYTES. */
static char *
read_config_file (const char *path, gsize *len, GError **error)
{
  int fd = fs_open_untrusted (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, CONTAINER_SPEC_ERROR,
                   e == ENOENT ? CONTAINER_SPEC_ERROR_NOT_FOUND : CONTAINER_SPEC_ERROR_INVALID,
                   "%s: %s", path,
                   e == ELOOP ? "a symbolic link (refused: name the file itself)" : g_strerror (e));
      return NULL;
    }
  struct stat st;
  const char *why = NULL;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    why = "not a regular file";
  else if (st.st_size > CONFIG_MAX_BYTES)
    why = "larger than 1 MiB";
  g_autofree char *text = why ? NULL : g_malloc (CONFIG_MAX_BYTES + 1);
  gsize got = 0;
  while (why == NULL && got <= CONFIG_MAX_BYTES)
    {
      ssize_t n = read (fd, text + got, CONFIG_MAX_BYTES + 1 - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        why = g_strerror (errno);
      else if (n == 0)
        break;
      else
        got += (gsize) n;
    }
  close (fd);
  if (why == NULL && got > CONFIG_MAX_BYTES)
    why = "larger than 1 MiB";
  if (why)
    {
      g_set_error (error, CONTAINER_SPEC_ERROR, CONTAINER_SPEC_ERROR_INVALID, "%s: %s", path, why);
      return NULL;
    }
  text[got] = '\0';
  *len = got;
  return g_steal_pointer (&text);
}

JsonObject *
container_spec_from_bundle (const char *bundle, char **root, GError **error)
{
  g_autofree char *path = g_build_filename (bundle, "config.json", NULL);
  struct stat st;
  if (stat (bundle, &st) < 0 && errno == EACCES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "bundle %s: %s", bundle,
                   g_strerror (EACCES));
      return NULL;
    }
  if (!g_file_test (bundle, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CONTAINER_SPEC_ERROR, CONTAINER_SPEC_ERROR_NOT_FOUND,
                   "bundle %s is not a directory", bundle);
      return NULL;
    }
  gsize len = 0;
  g_autofree char *text = read_config_file (path, &len, error);
  if (text == NULL)
    return NULL;
  return container_spec_parse (bundle, text, (gssize) len, root, error);
}
