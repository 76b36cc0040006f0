/* agent-security.c — a container's process security, from its spec (the
 * host read it from config.json: images/container-security.c), applied
 * between fork and exec in runc's order: rlimits, oom_score_adj and the
 * bounding set while still root, then (keeping capabilities across the
 * change of user) the user, then the other capability sets, the ambient
 * ones and no_new_privs. Prepared before the fork; applying is syscalls
 * only. */
#include "agent.h"

#include "json-fields.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum
{
  SET_BOUNDING,
  SET_EFFECTIVE,
  SET_INHERITABLE,
  SET_PERMITTED,
  SET_AMBIENT,
};
static const char *const set_names[]
    = { "bounding", "effective", "inheritable", "permitted", "ambient" };

gboolean
agent_security_prepare (JsonObject *spec, AgentSecurity *s, GError **error)
{
  memset (s, 0, sizeof *s);
  s->oom_score_adj = -1;
  JsonNode *cn = json_object_get_member (spec, "capabilities");
  if (cn && JSON_NODE_HOLDS_OBJECT (cn))
    {
      JsonObject *caps = json_node_get_object (cn);
      s->has_caps = TRUE;
      for (int set = 0; set < AGENT_CAP_SETS; set++)
        {
          JsonNode *an = json_object_get_member (caps, set_names[set]);
          JsonArray *a = an && JSON_NODE_HOLDS_ARRAY (an) ? json_node_get_array (an) : NULL;
          for (guint i = 0; a && i < json_array_get_length (a); i++)
            {
              gint64 cap = json_array_get_int_element (a, i);
              if (cap >= 0 && cap <= CAP_LAST_CAP)
                s->caps[set] |= 1ULL << cap;
            }
        }
    }
  JsonNode *rn = json_object_get_member (spec, "rlimits");
  JsonArray *rl = rn && JSON_NODE_HOLDS_ARRAY (rn) ? json_node_get_array (rn) : NULL;
  for (guint i = 0; rl && i < json_array_get_length (rl) && s->n_rlimits < AGENT_MAX_RLIMITS; i++)
    {
      JsonObject *o = json_array_get_object_element (rl, i);
      gint64 res = 0, soft = 0, hard = 0;
      if (o == NULL || !json_field_int (o, "resource", TRUE, 0, RLIM_NLIMITS - 1, &res, error)
          || !json_field_int (o, "soft", TRUE, 0, G_MAXINT64, &soft, error)
          || !json_field_int (o, "hard", TRUE, 0, G_MAXINT64, &hard, error))
        {
          g_prefix_error (error, "rlimits: ");
          return FALSE;
        }
      s->rlimits[s->n_rlimits].resource = (int) res;
      s->rlimits[s->n_rlimits].limit = (struct rlimit){ (rlim_t) soft, (rlim_t) hard };
      s->n_rlimits++;
    }
  gint64 oom = -1001, mask = -1;
  JsonNode *gn = json_object_get_member (spec, "additional_gids");
  JsonArray *gids = gn && JSON_NODE_HOLDS_ARRAY (gn) ? json_node_get_array (gn) : NULL;
  for (guint i = 0; gids && i < json_array_get_length (gids) && s->n_groups < AGENT_MAX_GROUPS; i++)
    s->groups[s->n_groups++] = (gid_t) json_array_get_int_element (gids, i);
  if (!json_field_bool (spec, "no_new_privileges", FALSE, &s->no_new_privs, error)
      || !json_field_int (spec, "oom_score_adj", FALSE, -1000, 1000, &oom, error)
      || !json_field_int (spec, "umask", FALSE, 0, 0777, &mask, error))
    return FALSE;
  s->umask = (int) mask;
  /* The host built the filter (images/spec-seccomp.c): loaded as it is. */
  const char *bpf = NULL;
  if (!json_field_string (spec, "seccomp_bpf", FALSE, &bpf, error))
    return FALSE;
  if (bpf)
    {
      gsize len = 0;
      guchar *prog = g_base64_decode (bpf, &len);
      if (len == 0 || len % sizeof (struct sock_filter) != 0
          || len / sizeof (struct sock_filter) > BPF_MAXINSNS)
        {
          g_free (prog);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "seccomp_bpf is not a BPF program");
          return FALSE;
        }
      s->seccomp.filter = (struct sock_filter *) prog;
      s->seccomp.len = (unsigned short) (len / sizeof (struct sock_filter));
    }
  s->has_oom = oom >= -1000;
  s->oom_score_adj = (int) oom;
  return TRUE;
}

void
agent_security_add_caps (AgentSecurity *s, guint64 caps)
{
  caps &= (CAP_LAST_CAP >= 63 ? ~G_GUINT64_CONSTANT (0)
                              : (G_GUINT64_CONSTANT (1) << (CAP_LAST_CAP + 1)) - 1);
  s->caps[SET_BOUNDING] |= caps;
  s->caps[SET_EFFECTIVE] |= caps;
  s->caps[SET_PERMITTED] |= caps;
}

void
agent_security_clear (AgentSecurity *s)
{
  g_clear_pointer (&s->seccomp.filter, g_free);
}

/* Without no_new_privs, loading a filter takes CAP_SYS_ADMIN: it is
 * loaded before the change of user then (runc's order), else last. */
static gboolean
load_seccomp (const AgentSecurity *s)
{
  return s->seccomp.filter == NULL
         || prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &s->seccomp, 0, 0) == 0;
}

gboolean
agent_security_apply_early (const AgentSecurity *s)
{
  if (s->umask >= 0)
    umask ((mode_t) s->umask);
  for (int i = 0; i < s->n_rlimits; i++)
    if (setrlimit (s->rlimits[i].resource, &s->rlimits[i].limit) < 0)
      return FALSE;
  if (s->has_oom)
    {
      char text[16];
      int len = snprintf (text, sizeof text, "%d", s->oom_score_adj);
      int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, text, (size_t) len) != len)
        return FALSE;
      close (fd);
    }
  if (!s->no_new_privs && !load_seccomp (s))
    return FALSE;
  if (!s->has_caps)
    return TRUE;
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
    if (!(s->caps[SET_BOUNDING] & (1ULL << cap)) && prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0
        && errno != EINVAL)
      return FALSE;
  return prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0;
}

gboolean
agent_security_apply_late (const AgentSecurity *s)
{
  if (s->has_caps)
    {
      struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
      struct __user_cap_data_struct data[2];
      for (int w = 0; w < 2; w++)
        {
          data[w].effective = (guint32) (s->caps[SET_EFFECTIVE] >> (32 * w));
          data[w].permitted = (guint32) (s->caps[SET_PERMITTED] >> (32 * w));
          data[w].inheritable = (guint32) (s->caps[SET_INHERITABLE] >> (32 * w));
        }
      if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 || syscall (SYS_capset, &header, data) < 0)
        return FALSE;
      /* An ambient capability must also be permitted and inheritable; one
       * that is not cannot be raised, as with runc. */
      for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
        if (s->caps[SET_AMBIENT] & (1ULL << cap))
          prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
    }
  if (!s->no_new_privs)
    return TRUE;
  return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && load_seccomp (s);
}
