/* spec-seccomp.c — a container's linux.seccomp (checked member by member
 * in container-security.c) built into a BPF program with libseccomp, on
 * the host: once, at native speed (under TCG the guest took about 0.1 s
 * for podman's default profile, for every process). The agent only loads
 * the program (prctl) in each process of the container. */
#include "container-spec-private.h"

#include "json-fields.h"

#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct
{
  const char *name;
  enum scmp_compare op;
} ops[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static gboolean
action_of (const char *name, gint64 errno_ret, guint32 *action)
{
  int e = errno_ret > 0 ? (int) errno_ret : EPERM;
  if (g_str_equal (name, "SCMP_ACT_ALLOW"))
    *action = SCMP_ACT_ALLOW;
  else if (g_str_equal (name, "SCMP_ACT_ERRNO"))
    *action = SCMP_ACT_ERRNO ((guint32) e);
  else if (g_str_equal (name, "SCMP_ACT_TRACE"))
    *action = SCMP_ACT_TRACE ((guint32) e);
  else if (g_str_equal (name, "SCMP_ACT_KILL") || g_str_equal (name, "SCMP_ACT_KILL_THREAD"))
    *action = SCMP_ACT_KILL_THREAD;
  else if (g_str_equal (name, "SCMP_ACT_KILL_PROCESS"))
    *action = SCMP_ACT_KILL_PROCESS;
  else if (g_str_equal (name, "SCMP_ACT_TRAP"))
    *action = SCMP_ACT_TRAP;
  else if (g_str_equal (name, "SCMP_ACT_LOG"))
    *action = SCMP_ACT_LOG;
  else
    return FALSE;
  return TRUE;
}

static gboolean
add_rule (scmp_filter_ctx ctx, JsonObject *rule, guint i, GError **error)
{
  const char *act = "";
  gint64 errno_ret = 0;
  g_auto (GStrv) names = NULL;
  guint32 action;
  if (!json_field_strv (rule, "names", FALSE, &names, error)
      || !json_field_string (rule, "action", TRUE, &act, error)
      || !json_field_int (rule, "errnoRet", FALSE, 0, 4095, &errno_ret, error))
    return FALSE;
  if (!action_of (act, errno_ret, &action))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "action %s", act);
      return FALSE;
    }
  struct scmp_arg_cmp cmps[6];
  guint n = 0;
  JsonNode *an = json_object_get_member (rule, "args");
  JsonArray *args = an && JSON_NODE_HOLDS_ARRAY (an) ? json_node_get_array (an) : NULL;
  for (guint j = 0; args && j < json_array_get_length (args) && n < G_N_ELEMENTS (cmps); j++)
    {
      JsonObject *a = json_array_get_object_element (args, j);
      const char *op = "";
      gint64 index = 0, value = 0, value2 = 0;
      if (a == NULL || !json_field_int (a, "index", TRUE, 0, 5, &index, error)
          || !json_field_int (a, "value", FALSE, 0, G_MAXINT64, &value, error)
          || !json_field_int (a, "valueTwo", FALSE, 0, G_MAXINT64, &value2, error)
          || !json_field_string (a, "op", TRUE, &op, error))
        return FALSE;
      gboolean found = FALSE;
      for (gsize k = 0; k < G_N_ELEMENTS (ops) && !found; k++)
        if (g_str_equal (ops[k].name, op))
          {
            cmps[n++] = (struct scmp_arg_cmp){ (unsigned) index, ops[k].op, (scmp_datum_t) value,
                                               (scmp_datum_t) value2 };
            found = TRUE;
          }
      if (!found)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "op %s", op);
          return FALSE;
        }
    }
  for (char **name = names; name && *name; name++)
    {
      int nr = seccomp_syscall_resolve_name (*name);
      if (nr == __NR_SCMP_ERROR)
        continue; /* not a system call of this kernel's architectures */
      int rc = seccomp_rule_add_array (ctx, action, nr, n, cmps);
      /* -EACCES: the same action as the default; nothing to add. */
      if (rc < 0 && rc != -EACCES && rc != -EEXIST)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-rc), "syscalls[%u] (%s): %s", i,
                       *name, g_strerror (-rc));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
container_seccomp_compile (JsonObject *sc, char **bpf_base64, GError **error)
{
  const char *def = "";
  gint64 def_errno = 0;
  guint32 action;
  if (!json_field_string (sc, "defaultAction", TRUE, &def, error)
      || !json_field_int (sc, "defaultErrnoRet", FALSE, 0, 4095, &def_errno, error))
    return FALSE;
  if (!action_of (def, def_errno, &action))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "defaultAction %s", def);
      return FALSE;
    }
  scmp_filter_ctx ctx = seccomp_init (action);
  if (ctx == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot start a filter");
      return FALSE;
    }
  /* We set no_new_privs ourselves, when the spec asks. */
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  g_auto (GStrv) arches = NULL;
  json_field_strv (sc, "architectures", FALSE, &arches, NULL);
  for (char **a = arches; a && *a; a++)
    {
      g_autofree char *lower = g_ascii_strdown (*a + strlen ("SCMP_ARCH_"), -1);
      guint32 arch = seccomp_arch_resolve_name (lower);
      if (arch && seccomp_arch_exist (ctx, arch) == -EEXIST)
        seccomp_arch_add (ctx, arch);
    }
  JsonNode *rn = json_object_get_member (sc, "syscalls");
  JsonArray *rules = rn && JSON_NODE_HOLDS_ARRAY (rn) ? json_node_get_array (rn) : NULL;
  gboolean ok = TRUE;
  for (guint i = 0; ok && rules && i < json_array_get_length (rules); i++)
    {
      JsonObject *r = json_array_get_object_element (rules, i);
      ok = r && add_rule (ctx, r, i, error);
    }
  int fd = ok ? memfd_create ("seccomp", MFD_CLOEXEC) : -1;
  struct stat st;
  if (ok
      && (fd < 0 || seccomp_export_bpf (ctx, fd) < 0 || fstat (fd, &st) < 0 || st.st_size == 0
          || st.st_size % sizeof (struct sock_filter) != 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot export the filter");
      ok = FALSE;
    }
  if (ok && st.st_size / sizeof (struct sock_filter) > BPF_MAXINSNS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the filter has %zu instructions, more than the kernel's %d",
                   (size_t) (st.st_size / sizeof (struct sock_filter)), BPF_MAXINSNS);
      ok = FALSE;
    }
  if (ok)
    {
      g_autofree guchar *buf = g_malloc (st.st_size);
      ok = pread (fd, buf, st.st_size, 0) == st.st_size;
      if (ok)
        *bpf_base64 = g_base64_encode (buf, st.st_size);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read the filter");
    }
  if (fd >= 0)
    close (fd);
  seccomp_release (ctx);
  if (!ok)
    g_prefix_error (error, "linux.seccomp: ");
  return ok;
}
