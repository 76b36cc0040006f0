/* policy.c — reading and checking the profiles in policies/. */
#include "policy.h"

#include "json-fields.h"

#include <gio/gio.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <unistd.h>

void
policy_free (Policy *p)
{
  if (p == NULL)
    return;
  g_free (p->name);
  g_free (p->path);
  g_free (p->digest);
  g_free (p->description);
  g_free (p->user);
  if (p->syscalls)
    g_array_unref (p->syscalls);
  jail_filter_free (p->filter);
  g_free (p);
}

static gboolean fail (GError **error, const char *what, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *what, ...)
{
  va_list ap;
  va_start (ap, what);
  g_autofree char *msg = g_strdup_vprintf (what, ap);
  va_end (ap);
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, msg);
  return FALSE;
}

static gboolean
parse_namespaces (JsonObject *o, int *flags, GError **error)
{
  g_auto (GStrv) names = NULL;
  if (!json_field_strv (o, "namespaces", TRUE, &names, error))
    return FALSE;
  static const struct
  {
    const char *name;
    int flag;
  } known[] = { { "mount", CLONE_NEWNS },
                { "pid", CLONE_NEWPID },
                { "ipc", CLONE_NEWIPC },
                { "uts", CLONE_NEWUTS },
                { "net", CLONE_NEWNET } };
  *flags = 0;
  for (char **n = names; *n; n++)
    {
      gsize i;
      for (i = 0; i < G_N_ELEMENTS (known) && !g_str_equal (*n, known[i].name); i++)
        ;
      if (i == G_N_ELEMENTS (known))
        return fail (error, "\"namespaces\": unknown namespace \"%s\" (mount, pid, ipc, uts, net)",
                     *n);
      *flags |= known[i].flag;
    }
  return TRUE;
}

/* "uid_range": [first, count], uids no account uses (checked at start). */
static gboolean
parse_uid_range (JsonObject *o, Policy *p, GError **error)
{
  JsonNode *node = json_object_get_member (o, "uid_range");
  if (node == NULL)
    return TRUE;
  JsonArray *a = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  gint64 first = 0, count = 0;
  for (guint i = 0; a && i < json_array_get_length (a) && json_array_get_length (a) == 2; i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
        break;
      *(i == 0 ? &first : &count) = json_node_get_int (n);
    }
  if (first < 1000 || count < 1 || first + count > G_MAXINT32)
    return fail (error, "\"uid_range\" must be [first, count]: uids from 1000 up, below 2^31");
  p->uid_first = (guint) first;
  p->uid_count = (guint) count;
  return TRUE;
}

/* One syscall name a line; "#" starts a comment. */
static gboolean
load_syscalls (const char *dir, const char *file, GArray **out, GError **error)
{
  if (strchr (file, '/') != NULL)
    return fail (error, "\"seccomp.allow\": \"%s\" must be a file name in %s", file, dir);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  g_autoptr (GArray) nrs = g_array_new (FALSE, FALSE, sizeof (int));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      char *hash = strchr (lines[i], '#');
      if (hash)
        *hash = '\0';
      const char *name = g_strstrip (lines[i]);
      if (*name == '\0')
        continue;
      int nr = seccomp_syscall_resolve_name (name);
      if (nr == __NR_SCMP_ERROR)
        return fail (error, "%s:%u: unknown system call \"%s\"", path, i + 1, name);
      if (g_str_equal (name, "clone3"))
        return fail (error,
                     "%s:%u: clone3 may not be allowed: its flags are in memory seccomp cannot "
                     "read (glibc falls back to clone, whose flags it checks)",
                     path, i + 1);
      if (g_str_has_prefix (name, "io_uring_"))
        return fail (error,
                     "%s:%u: %s may not be allowed: io_uring runs operations seccomp never sees",
                     path, i + 1, name);
      g_array_append_val (nrs, nr);
    }
  if (nrs->len == 0)
    return fail (error, "%s: the allow-list is empty", path);
  *out = g_steal_pointer (&nrs);
  return TRUE;
}

static gboolean
parse_limits (JsonObject *o, Policy *p, GError **error)
{
  JsonObject *l = NULL;
  gint64 mem = 0, cpus = 0, overhead = 0, pids = 0, files = 0;
  if (!json_field_object (o, "limits", TRUE, &l, error)
      || !json_field_int (l, "max_memory_mb", TRUE, 64, 1 << 20, &mem, error)
      || !json_field_int (l, "max_cpus", TRUE, 1, 1024, &cpus, error)
      || !json_field_int (l, "memory_overhead_mb", FALSE, 32, 1 << 20, &overhead, error)
      || !json_field_int (l, "pids", FALSE, 16, 1 << 22, &pids, error)
      || !json_field_int (l, "open_files", TRUE, 64, 1 << 20, &files, error))
    {
      g_prefix_error (error, "\"limits\": ");
      return FALSE;
    }
  p->max_memory_mb = (guint) mem;
  p->max_cpus = (guint) cpus;
  p->memory_overhead_mb = (guint) overhead;
  p->pids = (guint) pids;
  p->open_files = (guint) files;
  if ((overhead == 0) != (pids == 0))
    return fail (error,
                 "\"limits\": memory_overhead_mb and pids go together (a cgroup needs both)");
  return TRUE;
}

/* Members outside @known are refused: a misspelt setting must not be
 * silently ignored in a security policy. */
static gboolean
check_members (JsonObject *o, const char *const *known, const char *where, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *m = members; m; m = m->next)
    if (!g_strv_contains (known, m->data))
      return fail (error, "%sunknown field \"%s\"", where, (const char *) m->data);
  return TRUE;
}

/* What a policy says, as one digest: its JSON and its resolved allow-list. */
static char *
policy_digest (JsonNode *root, GArray *syscalls)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *text = json_to_string (root, FALSE);
  g_checksum_update (sum, (const guchar *) text, -1);
  g_checksum_update (sum, (const guchar *) syscalls->data, (gssize) (syscalls->len * sizeof (int)));
  return g_strdup (g_checksum_get_string (sum));
}

static Policy *
policy_parse (const char *dir, const char *file, GError **error)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, path, error))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (error, "not a JSON object");
      return NULL;
    }
  JsonObject *o = json_node_get_object (root);
  static const char *const top[]
      = { "description",  "requires_root", "user",         "uid_range", "namespaces",
          "private_root", "seccomp",       "qemu_sandbox", "limits",    NULL };
  static const char *const sec[] = { "allow", "action", NULL };
  static const char *const lim[]
      = { "max_memory_mb", "max_cpus", "memory_overhead_mb", "pids", "open_files", NULL };

  Policy *p = g_new0 (Policy, 1);
  p->path = g_strdup (path);
  p->name = g_strndup (file, strlen (file) - strlen (".json"));
  const char *description = NULL, *user = NULL, *allow = NULL, *action = NULL;
  JsonObject *seccomp = NULL, *limits = NULL;
  if (!check_members (o, top, "", error)
      || !json_field_string (o, "description", TRUE, &description, error)
      || !json_field_bool (o, "requires_root", TRUE, &p->requires_root, error)
      || !json_field_string (o, "user", FALSE, &user, error) || !parse_uid_range (o, p, error)
      || !parse_namespaces (o, &p->namespaces, error)
      || !json_field_bool (o, "private_root", TRUE, &p->private_root, error)
      || !json_field_bool (o, "qemu_sandbox", TRUE, &p->qemu_sandbox, error)
      || !json_field_object (o, "seccomp", TRUE, &seccomp, error)
      || !check_members (seccomp, sec, "\"seccomp\": ", error)
      || !json_field_string (seccomp, "allow", TRUE, &allow, error)
      || !json_field_string (seccomp, "action", TRUE, &action, error)
      || !json_field_object (o, "limits", TRUE, &limits, error)
      || !check_members (limits, lim, "\"limits\": ", error) || !parse_limits (o, p, error)
      || !load_syscalls (dir, allow, &p->syscalls, error))
    goto bad;
  if (!g_str_equal (action, "kill") && !g_str_equal (action, "errno"))
    {
      fail (error, "\"seccomp.action\" must be \"kill\" or \"errno\", not \"%s\"", action);
      goto bad;
    }
  p->seccomp_kill = g_str_equal (action, "kill");
  p->filter = jail_filter_new (p->syscalls, p->seccomp_kill, error);
  if (p->filter == NULL)
    goto bad;
  if (p->private_root && !(p->namespaces & CLONE_NEWNS))
    {
      fail (error, "\"private_root\" needs the mount namespace");
      goto bad;
    }
  if (p->uid_count && !user)
    {
      fail (error, "\"uid_range\" needs \"user\" (its group is QEMU's)");
      goto bad;
    }
  if (!p->requires_root && (user || p->namespaces || p->private_root || p->memory_overhead_mb))
    {
      fail (error, "\"requires_root\" is false, but user, namespaces, private_root and a cgroup "
                   "need root");
      goto bad;
    }
  p->description = g_strdup (description);
  p->user = g_strdup (user);
  p->digest = policy_digest (root, p->syscalls);
  return p;

bad:
  policy_free (p);
  return NULL;
}

GHashTable *
policy_load_dir (const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return NULL;
  g_autoptr (GHashTable) all
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) policy_free);
  const char *file;
  while ((file = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (file, ".json"))
        continue;
      GError *e = NULL;
      Policy *p = policy_parse (dir, file, &e);
      if (p == NULL)
        {
          g_propagate_prefixed_error (error, e, "policy %s/%s: ", dir, file);
          return NULL;
        }
      g_hash_table_insert (all, p->name, p);
    }
  if (g_hash_table_size (all) == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no policy (*.json) in %s", dir);
      return NULL;
    }
  return g_steal_pointer (&all);
}

static gboolean
syscalls_within (GArray *calls, GArray *allowed)
{
  for (guint i = 0; i < calls->len; i++)
    {
      int nr = g_array_index (calls, int, i);
      gboolean found = FALSE;
      for (guint j = 0; j < allowed->len && !found; j++)
        found = g_array_index (allowed, int, j) == nr;
      if (!found)
        return FALSE;
    }
  return TRUE;
}

char *
policy_weaker_than (const Policy *p, const Policy *base)
{
  static const struct
  {
    int flag;
    const char *name;
  } ns[] = { { CLONE_NEWNS, "mount" },
             { CLONE_NEWPID, "pid" },
             { CLONE_NEWIPC, "ipc" },
             { CLONE_NEWUTS, "uts" },
             { CLONE_NEWNET, "net" } };
  if (base->user && !p->user)
    return g_strdup_printf ("QEMU would run as sandboxd's own user, not as %s", base->user);
  if (base->uid_count && !p->uid_count)
    return g_strdup ("its QEMUs would share one uid instead of one each");
  for (gsize i = 0; i < G_N_ELEMENTS (ns); i++)
    if ((base->namespaces & ns[i].flag) && !(p->namespaces & ns[i].flag))
      return g_strdup_printf ("QEMU would share the host's %s namespace", ns[i].name);
  if (base->private_root && !p->private_root)
    return g_strdup ("QEMU would see the host's file system, not a private root");
  if (base->seccomp_kill && !p->seccomp_kill)
    return g_strdup ("a forbidden system call would fail instead of killing QEMU");
  if (!syscalls_within (p->syscalls, base->syscalls))
    return g_strdup ("its seccomp allow-list allows calls the default's does not");
  if (base->qemu_sandbox && !p->qemu_sandbox)
    return g_strdup ("QEMU's own -sandbox would be off");
  if (base->memory_overhead_mb && !p->memory_overhead_mb)
    return g_strdup ("QEMU would have no cgroup (memory, cpu and pids limits)");
  if (p->memory_overhead_mb > base->memory_overhead_mb || p->pids > base->pids
      || p->open_files > base->open_files || p->max_memory_mb > base->max_memory_mb
      || p->max_cpus > base->max_cpus)
    return g_strdup ("its limits are higher");
  return NULL;
}

char *
policy_unmet (const Policy *p)
{
  if (!p->requires_root || geteuid () == 0)
    return NULL;
  return g_strdup_printf ("policy %s needs root (its user switch, namespaces, private root and "
                          "cgroup cannot be applied by uid %u)",
                          p->name, (guint) geteuid ());
}
