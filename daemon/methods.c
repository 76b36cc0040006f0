/* The sandbox.v1 methods: each checks its params (an error names the
 * field), finds its sandbox and hands over to it. rpc/API.md documents
 * them. */
#include "config.h"
#include "container-request.h"
#include "daemon.h"
#include "images.h"
#include "json-fields.h"
#include "kernels.h"
#include "names.h"
#include "sandbox.h"
#include "volume-request.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* The domain's answer (a JSON object or an error) to the call in @data. */
static void
on_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (RpcCall) call = data;
  g_autoptr (GError) error = NULL;
  JsonObject *res = sandbox_call_finish (result, &error);
  if (res)
    rpc_call_return (call, res);
  else
    daemon_return_error (call, error);
}

/* The RPC server has checked every field against rpc/sandbox.v1.json (type,
 * range, enum) and filled in the schema's defaults: methods read fields
 * without restating bounds or defaults. An optional field with no default
 * reads as @absent. */
static gint64
param_int (JsonObject *params, const char *name, gint64 absent)
{
  JsonNode *n = json_object_get_member (params, name);
  return n && !JSON_NODE_HOLDS_NULL (n) ? json_node_get_int (n) : absent;
}

static gboolean
param_bool (JsonObject *params, const char *name)
{
  JsonNode *n = json_object_get_member (params, name);
  return n && !JSON_NODE_HOLDS_NULL (n) && json_node_get_boolean (n);
}

static const char *
param_string (JsonObject *params, const char *name, const char *absent)
{
  JsonNode *n = json_object_get_member (params, name);
  return n && !JSON_NODE_HOLDS_NULL (n) ? json_node_get_string (n) : absent;
}

typedef void (*MethodFunc) (Daemon *d, RpcCall *call, JsonObject *params, GError **error);

static const char *
caller_name (Daemon *d)
{
  return d->caller ? d->caller->name : NULL;
}

/* A tenant sees its own sandboxes only; the admin sees all. */
static gboolean
visible (Daemon *d, Sandbox *sb)
{
  return d->caller == NULL || g_strcmp0 (sandbox_get_tenant (sb), d->caller->name) == 0;
}

/* By id, or by name: names are per tenant, so the admin may see several;
 * its own (no tenant) comes first, else the name must be unique. Another
 * tenant's sandbox is "not found", exactly as one that does not exist. */
static Sandbox *
find_sandbox (Daemon *d, const char *key, GError **error)
{
  Sandbox *sb = g_hash_table_lookup (d->ctx.sandboxes, key);
  if (sb && visible (d, sb))
    return sb;
  Sandbox *found = NULL;
  guint n = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.sandboxes);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (visible (d, value) && g_str_equal (sandbox_get_name (value), key))
      {
        if (g_strcmp0 (sandbox_get_tenant (value), caller_name (d)) == 0)
          return value;
        found = value;
        n++;
      }
  if (n == 1)
    return found;
  if (n > 1)
    g_set_error (error, RPC_ERROR, RPC_STATUS_FAILED_PRECONDITION,
                 "%u sandboxes of different tenants are named \"%s\": name one by its id", n, key);
  else
    g_set_error (error, RPC_ERROR, RPC_STATUS_NOT_FOUND, "no sandbox with id or name \"%s\"", key);
  return NULL;
}

static Sandbox *
param_sandbox (Daemon *d, JsonObject *params, const char *field, GError **error)
{
  const char *key = NULL;
  if (!json_field_string (params, field, TRUE, &key, error))
    return NULL;
  return find_sandbox (d, key, error);
}

static void
system_version (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  JsonObject *res = json_object_new ();
  json_object_set_string_member (res, "version", SANDBOXD_VERSION);
  json_object_set_string_member (res, "api", "sandbox.v1");
  json_object_set_string_member (res, "accel", accel_to_string (d->ctx.accel));
  json_object_set_string_member (res, "accel_reason", d->accel_reason);
  json_object_set_string_member (res, "kernel", d->ctx.kernel);
  json_object_set_string_member (res, "initramfs", d->ctx.initramfs);
  if (d->guest_release)
    json_object_set_string_member (res, "guest_kernel_release", d->guest_release);
  json_object_set_string_member (res, "default_kernel", kernels_default (d->kernels)->name);
  JsonArray *names = json_array_new ();
  for (guint i = 0; i < d->kernels->len; i++)
    json_array_add_string_element (names, ((GuestKernel *) d->kernels->pdata[i])->name);
  json_object_set_array_member (res, "kernels", names);
  rpc_call_return (call, res);
}

static void
system_ping (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  rpc_call_return (call, json_object_new ());
}

/* Free among @tenant's sandboxes (NULL: the admin's). */
static gboolean
name_free (Daemon *d, const char *tenant, const char *name, GError **error)
{
  gboolean taken = FALSE;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.sandboxes);
  while (name && !taken && g_hash_table_iter_next (&it, NULL, &value))
    taken = g_strcmp0 (sandbox_get_tenant (value), tenant) == 0
            && (g_str_equal (sandbox_get_name (value), name)
                || g_str_equal (sandbox_get_id (value), name));
  if (!taken)
    return TRUE;
  g_set_error (error, RPC_ERROR, RPC_STATUS_ALREADY_EXISTS, "a sandbox named \"%s\" already exists",
               name);
  return FALSE;
}

/* The daemon's own ceilings, whoever asks: how many sandboxes it keeps,
 * and how much guest RAM its live sandboxes may have in all. */
/* The daemon's own ceilings. A tenant is told which one it met, never the
 * figures: they are the sum of every tenant's use. */
static gboolean
admit (Daemon *d, const char *tenant, guint memory_mb, GError **error)
{
  guint count = g_hash_table_size (d->ctx.sandboxes);
  guint64 memory = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.sandboxes);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      SandboxState state = sandbox_get_state (value);
      if (state != SANDBOX_STOPPED && state != SANDBOX_FAILED)
        memory += sandbox_get_memory_mb (value);
    }
  /* Template builds and warm clones take memory too, and the templates'
   * RAM kept in sandboxd. */
  for (guint i = 0; d->ctx.hidden && i < d->ctx.hidden->len; i++)
    memory += sandbox_get_memory_mb (d->ctx.hidden->pdata[i]);
  if (d->templates)
    memory += (sandbox_templates_memory (d->templates) + (1 << 20) - 1) >> 20;
  if (tenant && d->max_sandboxes && count >= d->max_sandboxes)
    g_set_error (error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED,
                 "sandboxd has as many sandboxes as it keeps (for all its tenants); try later");
  else if (tenant && d->max_memory_mb && memory + memory_mb > d->max_memory_mb)
    g_set_error (error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED,
                 "sandboxd has no guest memory left for memory_mb %u (for all its tenants); try "
                 "later or ask for less",
                 memory_mb);
  else if (d->max_sandboxes && count >= d->max_sandboxes)
    g_set_error (error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED,
                 "sandboxd keeps at most %u sandboxes (--max-sandboxes) and has %u; remove one",
                 d->max_sandboxes, count);
  else if (d->max_memory_mb && memory + memory_mb > d->max_memory_mb)
    g_set_error (error, RPC_ERROR, RPC_STATUS_RESOURCE_EXHAUSTED,
                 "memory_mb %u would take the guest memory of sandboxd's live sandboxes to "
                 "%" G_GUINT64_FORMAT " MiB, past its limit of %u (--max-memory; %" G_GUINT64_FORMAT
                 " in use)",
                 memory_mb, memory + memory_mb, d->max_memory_mb, memory);
  else
    return TRUE;
  return FALSE;
}

gboolean
daemon_admit_hidden (SandboxContext *ctx, guint memory_mb)
{
  return admit (ctx->host, NULL, memory_mb, NULL);
}

/* A Create until its sandbox runs (or fails): findable by the sandbox's id,
 * so that its deadline starts again when a queued boot begins. */
typedef struct
{
  Daemon *daemon;
  char *id;
  RpcCall *call;
} CreateCall;

static void
on_created (GObject *source, GAsyncResult *result, gpointer data)
{
  CreateCall *c = data;
  g_hash_table_remove (c->daemon->creating, c->id);
  on_reply (source, result, c->call); /* takes the call's ref */
  g_free (c->id);
  g_free (c);
}

/* A network namespace or a cgroup named by path are places on the host:
 * a tenant could join another's network (or the host's) or put its QEMU
 * where no limit holds. The admin's only. */
static gboolean
host_places_allowed (const char *tenant, const char *network, const char *cgroup_path,
                     GError **error)
{
  if (tenant == NULL)
    return TRUE;
  if (network && g_str_has_prefix (network, "ns:"))
    g_set_error (error, RPC_ERROR, RPC_STATUS_PERMISSION_DENIED,
                 "tenant %s may not join a network namespace by path (%s): only the admin may",
                 tenant, network + strlen ("ns:"));
  else if (cgroup_path)
    g_set_error (error, RPC_ERROR, RPC_STATUS_PERMISSION_DENIED,
                 "tenant %s may not place QEMU's cgroup (linux.cgroupsPath %s): only the admin may",
                 tenant, cgroup_path);
  else
    return TRUE;
  return FALSE;
}

/* Checked again: another Create may have taken the name (or the room)
 * meanwhile. */
static void
create_and_start (Daemon *d, RpcCall *call, const SandboxConfig *cfg, GArray *volumes,
                  const SandboxContainerConfig *container, GError **error)
{
  TenantAsk ask = { TRUE, cfg->memory_mb, cfg->cpus, FALSE, FALSE };
  if (!name_free (d, cfg->tenant, cfg->name, error)
      || !admit (d, cfg->tenant, cfg->memory_mb, error)
      || !daemon_quota_admit (d, daemon_tenant (d, cfg->tenant), &ask, error))
    return;
  /* A bundle whose network namespace is a path (podman's, CNI's): the
   * sandbox attaches to it, unless the request chose a network. */
  const char *ns_path
      = container && container->spec && cfg->network == NULL
            ? json_object_get_string_member_with_default (container->spec, "network_path", NULL)
            : NULL;
  g_autofree char *ns_mode = ns_path ? g_strconcat ("ns:", ns_path, NULL) : NULL;
  SandboxConfig with_ns = *cfg;
  if (ns_mode)
    with_ns.network = ns_mode;
  /* Its linux.cgroupsPath: where QEMU's cgroup goes. */
  if (container && container->spec)
    with_ns.cgroup_path
        = json_object_get_string_member_with_default (container->spec, "cgroups_path", NULL);
  if (!host_places_allowed (cfg->tenant, with_ns.network, with_ns.cgroup_path, error))
    return;
  /* Its volumes: Create's and its config.json's read-write host
   * directories, each given its tag in the container's mounts. */
  if (container && container->spec
      && !volume_requests_bind (daemon_tenant (d, cfg->tenant), container->spec, volumes, error))
    return;
  with_ns.volumes = (const SandboxVolumeConfig *) volumes->data;
  with_ns.n_volumes = volumes->len;
  cfg = &with_ns;
  /* A warm clone of its shape, when the pool has one (a network, a cgroup
   * path, a pids limit or volumes of its own make a sandbox unlike the
   * pool's). */
  Sandbox *warm = d->templates && cfg->network == NULL && cfg->ports == NULL
                          && cfg->cgroup_path == NULL && cfg->pids == 0 && cfg->n_volumes == 0
                      ? sandbox_templates_take (d->templates, cfg->memory_mb, cfg->cpus,
                                                cfg->policy, cfg->kernel, cfg->initramfs)
                      : NULL;
  if (warm)
    {
      g_hash_table_insert (d->ctx.sandboxes, g_strdup (sandbox_get_id (warm)), warm);
      sandbox_adopt_async (warm, cfg, container, on_reply, rpc_call_ref (call));
      return;
    }
  Sandbox *sb = sandbox_new (&d->ctx, cfg, error);
  if (sb == NULL)
    return;
  g_hash_table_insert (d->ctx.sandboxes, g_strdup (sandbox_get_id (sb)), sb);
  CreateCall *c = g_new0 (CreateCall, 1);
  c->daemon = d;
  c->id = g_strdup (sandbox_get_id (sb));
  c->call = rpc_call_ref (call);
  g_hash_table_insert (d->creating, g_strdup (c->id), c->call);
  sandbox_start_async (sb, container, on_created, c);
  /* Waiting for a boot slot is not the boot: its deadline, like its
   * watchdog, starts when the boot does (daemon_boot_begun). */
  if (sandbox_is_boot_queued (sb))
    rpc_call_hold_deadline (call);
}

void
daemon_boot_begun (SandboxContext *ctx, Sandbox *sb)
{
  Daemon *d = ctx->host;
  RpcCall *call = g_hash_table_lookup (d->creating, sandbox_get_id (sb));
  if (call)
    rpc_call_restart_deadline (call);
}

/* A Create waiting for its container's image. */
typedef struct
{
  SandboxConfig cfg;
  GArray *volumes; /* SandboxVolumeConfig */
} CreateLater;

static void
free_create_later (gpointer data)
{
  CreateLater *later = data;
  g_free ((char *) later->cfg.name);
  g_free ((char *) later->cfg.tenant);
  g_free ((char *) later->cfg.network);
  g_strfreev ((char **) later->cfg.ports);
  g_array_unref (later->volumes);
  g_free (later);
}

/* Its root's image is there: now the sandbox. */
static void
on_first_container (Daemon *d, RpcCall *call, const SandboxContainerConfig *container,
                    gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (d->shutting_down)
    g_set_error (&error, RPC_ERROR, RPC_STATUS_UNAVAILABLE, "sandboxd is shutting down");
  else
    {
      CreateLater *later = data;
      create_and_start (d, call, &later->cfg, later->volumes, container, &error);
    }
  if (error)
    daemon_return_error (call, error);
}

/* Create's "kernel" (default: the daemon's), if it is at least
 * "kernel_min". */
static const GuestKernel *
param_kernel (Daemon *d, JsonObject *params, GError **error)
{
  const char *name = param_string (params, "kernel", NULL);
  const char *min = param_string (params, "kernel_min", NULL);
  const GuestKernel *k = name ? kernels_find (d->kernels, name) : kernels_default (d->kernels);
  if (k == NULL)
    {
      g_autofree char *names = kernels_names (d->kernels);
      g_set_error (error, RPC_ERROR, RPC_STATUS_NOT_FOUND,
                   "no guest kernel named \"%s\" (there are: %s; sandboxctl kernels)", name, names);
      return NULL;
    }
  gboolean new_enough = TRUE;
  if (min && !kernel_release_at_least (k->release, min, &new_enough))
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
                   "kernel_min \"%s\" is not a kernel release (as 6.1 or 5.15.0)", min);
      return NULL;
    }
  if (!new_enough)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_FAILED_PRECONDITION,
                   "guest kernel %s is release %s, older than the %s asked for (kernel_min)",
                   k->name, k->release, min);
      return NULL;
    }
  return k;
}

static void
sandboxes_create (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  const Tenant *t = d->caller;
  const char *name = param_string (params, "name", NULL);
  const char *policy_name = param_string (params, "policy", NULL);
  gint64 memory_mb = param_int (params, "memory_mb", 0), cpus = param_int (params, "cpus", 0);
  gint64 pids = param_int (params, "pids", 0);
  gboolean delete_on_failure = param_bool (params, "delete_on_failure");
  gboolean auto_remove = param_bool (params, "auto_remove");
  const char *network = param_string (params, "network", NULL);
  g_auto (GStrv) ports = NULL;
  if (!json_field_strv (params, "ports", FALSE, &ports, error))
    return;
  if ((name && !daemon_check_name (name, "name", error))
      || !name_free (d, caller_name (d), name, error))
    return;
  /* A tenant chooses among its policies; its default if it names none. */
  const char *fallback = t && t->default_policy ? t->default_policy : d->default_policy;
  if (policy_name && t && !g_str_equal (policy_name, fallback)
      && !tenant_may_use_policy (t, policy_name))
    {
      g_autofree char *allowed = t->policies ? g_strjoinv (", ", t->policies) : NULL;
      g_set_error (error, RPC_ERROR, RPC_STATUS_PERMISSION_DENIED,
                   "tenant %s may not choose policy %s (its policies: %s%s%s)", t->name,
                   policy_name, fallback, allowed ? ", " : "", allowed ? allowed : "");
      return;
    }
  if (policy_name == NULL)
    policy_name = fallback;
  const GuestKernel *kernel = param_kernel (d, params, error);
  if (kernel == NULL)
    return;
  if (!host_places_allowed (caller_name (d), network, NULL, error))
    return;
  if (d->shutting_down)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_UNAVAILABLE, "sandboxd is shutting down");
      return;
    }
  const Policy *policy = daemon_policy (d, policy_name, error);
  if (policy == NULL)
    return;
  /* A request may tighten its policy's limits, never loosen them. */
  if (memory_mb > policy->max_memory_mb || cpus > policy->max_cpus
      || (pids && (policy->pids == 0 || pids > policy->pids)))
    {
      g_set_error (
          error, RPC_ERROR, RPC_STATUS_PERMISSION_DENIED,
          "policy %s allows at most memory_mb %u, cpus %u and pids %u; asked for %" G_GINT64_FORMAT
          ", %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
          policy->name, policy->max_memory_mb, policy->max_cpus, policy->pids, memory_mb, cpus,
          pids ? pids : (gint64) policy->pids);
      return;
    }
  TenantAsk ask
      = { TRUE, (guint) memory_mb, (guint) cpus, container_request_wanted (params), FALSE };
  if (!admit (d, caller_name (d), (guint) memory_mb, error)
      || !daemon_quota_admit (d, t, &ask, error))
    return;
  SandboxConfig cfg = { .name = name,
                        .tenant = caller_name (d),
                        .memory_mb = (guint) memory_mb,
                        .cpus = (guint) cpus,
                        .pids = (guint) pids,
                        .policy = policy,
                        .delete_on_failure = delete_on_failure,
                        .auto_remove = auto_remove,
                        .network = network,
                        .ports = (const char *const *) ports,
                        .kernel_name = kernel->name,
                        .kernel = kernel->is_default ? NULL : kernel->kernel,
                        .initramfs = kernel->is_default ? NULL : kernel->initramfs };
  JsonNode *vn = json_object_get_member (params, "volumes");
  g_autoptr (GArray) volumes = volume_requests_new ();
  if (vn
      && !volume_requests_read (d, json_node_get_array (vn), container_request_wanted (params),
                                volumes, error))
    return;
  if (!container_request_wanted (params))
    {
      create_and_start (d, call, &cfg, volumes, NULL, error);
      return;
    }
  const char *container = "main";
  if (!json_field_string (params, "container_name", FALSE, &container, error)
      || !daemon_check_name (container, "container_name", error))
    return;
  CreateLater *later = g_new0 (CreateLater, 1);
  later->cfg = cfg;
  later->cfg.name = g_strdup (name);
  later->cfg.tenant = g_strdup (caller_name (d));
  later->cfg.network = g_strdup (network);
  later->cfg.ports = (const char *const *) g_strdupv (ports);
  later->volumes = g_steal_pointer (&volumes);
  if (!container_request_start (d, call, params, container, on_first_container, later,
                                free_create_later, error))
    free_create_later (later);
}

static void
sandboxes_get (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "id", error);
  if (sb)
    rpc_call_return (call, sandbox_to_json (sb));
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (sandbox_get_name (*(Sandbox **) a), sandbox_get_name (*(Sandbox **) b));
}

static void
sandboxes_list (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  const char *state = NULL, *prefix = NULL;
  if (!json_field_string (params, "state", FALSE, &state, error)
      || !json_field_string (params, "name_prefix", FALSE, &prefix, error))
    return;
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.sandboxes);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_ptr_array_add (all, value);
  g_ptr_array_sort (all, by_name);
  JsonArray *arr = json_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      Sandbox *sb = all->pdata[i];
      if (!visible (d, sb))
        continue;
      if (state && !g_str_equal (sandbox_state_to_string (sandbox_get_state (sb)), state))
        continue;
      if (prefix && !g_str_has_prefix (sandbox_get_name (sb), prefix))
        continue;
      json_array_add_object_element (arr, sandbox_to_json (sb));
    }
  JsonObject *res = json_object_new ();
  json_object_set_array_member (res, "sandboxes", arr);
  rpc_call_return (call, res);
}

static void
sandboxes_delete (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "id", error);
  if (sb == NULL)
    return;
  SandboxState st = sandbox_get_state (sb);
  if (!param_bool (params, "force") && (st == SANDBOX_RUNNING || st == SANDBOX_BOOTING))
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_FAILED_PRECONDITION,
                   "sandbox %s is %s; stop it first or delete with force", sandbox_get_name (sb),
                   sandbox_state_to_string (st));
      return;
    }
  sandbox_delete_async (sb, on_reply, rpc_call_ref (call));
}

static void
sandboxes_stop (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "id", error);
  if (sb)
    sandbox_stop_async (sb, (guint) param_int (params, "timeout_s", 0), on_reply,
                        rpc_call_ref (call));
}

/* A tenant's disk is opened as the tenant: a regular file it may write
 * (never a device), read-only through that same open file if asked. */
static int
open_tenant_disk (const Tenant *t, const char *path, gboolean read_only, GError **error)
{
  FsCredsSaved saved;
  if (!fs_creds_enter (&t->creds, &saved, error))
    return -1;
  int fd = fs_open_untrusted (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  int e = errno;
  struct stat st;
  if (fd >= 0 && fstat (fd, &st) == 0 && !S_ISREG (st.st_mode))
    {
      close (fd);
      fd = -1;
      e = 0;
    }
  if (fd >= 0 && read_only)
    {
      g_autofree char *self = g_strdup_printf ("/proc/self/fd/%d", fd);
      int ro = open (self, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
      e = errno;
      close (fd);
      fd = ro;
    }
  fs_creds_leave (&saved);
  if (fd < 0 && e == 0)
    g_set_error (error, RPC_ERROR, RPC_STATUS_PERMISSION_DENIED,
                 "disk image %s: a tenant may attach regular files only, not devices", path);
  else if (fd < 0)
    g_set_error (error, RPC_ERROR,
                 e == EACCES || e == EPERM || e == EROFS ? RPC_STATUS_PERMISSION_DENIED
                 : e == ENOENT                           ? RPC_STATUS_NOT_FOUND
                                                         : RPC_STATUS_INVALID_ARGUMENT,
                 "disk image %s: %s (opened for writing as tenant %s, uid %u)", path,
                 e == ELOOP ? "a symbolic link (refused: name the file itself)" : g_strerror (e),
                 t->name, (guint) t->creds.uid);
  return fd;
}

static void
sandboxes_attach_disk (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "id", error);
  const char *path = param_string (params, "path", "");
  gboolean read_only = param_bool (params, "read_only");
  int fd = sb && d->caller ? open_tenant_disk (d->caller, path, read_only, error) : -1;
  if (sb && (d->caller == NULL || fd >= 0))
    sandbox_attach_disk_async (sb, path, fd, read_only, on_reply, rpc_call_ref (call));
  if (fd >= 0)
    close (fd);
}

static void
sandboxes_detach_disk (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  const char *disk_id = NULL;
  Sandbox *sb = param_sandbox (d, params, "id", error);
  if (sb == NULL || !json_field_string (params, "disk_id", TRUE, &disk_id, error))
    return;
  sandbox_detach_disk_async (sb, disk_id, on_reply, rpc_call_ref (call));
}

static void
sandboxes_kill (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "id", error);
  if (sb)
    sandbox_kill_async (sb, on_reply, rpc_call_ref (call));
}

static void
sandboxes_pause (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "id", error);
  if (sb)
    sandbox_pause_async (sb, TRUE, on_reply, rpc_call_ref (call));
}

static void
sandboxes_resume (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "id", error);
  if (sb)
    sandbox_pause_async (sb, FALSE, on_reply, rpc_call_ref (call));
}

static void
sandboxes_stats (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "id", error);
  if (sb)
    sandbox_stats_async (sb, on_reply, rpc_call_ref (call));
}

/* What bounds a caller and its guests; the daemon's own ceilings (the sum
 * of all tenants') only for the admin. */
static JsonObject *
daemon_limits_to_json (Daemon *d)
{
  JsonObject *o = sandbox_limits_to_json ();
  if (d->caller || d->tenants)
    json_object_set_int_member (o, "connections_per_socket", d->tenant_connections);
  json_object_set_int_member (
      o, "ports_per_sandbox",
      rpc_schema_field_max (rpc_schema_get_default (), "sandbox.v1.Sandboxes.Create", "ports"));
  if (d->caller)
    return o;
  json_object_set_int_member (o, "max_sandboxes", d->max_sandboxes);
  json_object_set_int_member (o, "max_memory_mb", d->max_memory_mb);
  struct rlimit r;
  if (getrlimit (RLIMIT_NOFILE, &r) == 0)
    json_object_set_int_member (o, "open_files", (gint64) r.rlim_cur);
  JsonArray *deny = json_array_new ();
  for (char **c = d->net_deny; c && *c; c++)
    json_array_add_string_element (deny, *c);
  json_object_set_array_member (o, "net_deny", deny);
  return o;
}

static void
system_info (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  JsonObject *res = json_object_new ();
  json_object_set_string_member (res, "accel", accel_to_string (d->ctx.accel));
  json_object_set_string_member (res, "accel_reason", d->accel_reason);
  if (d->guest_release)
    json_object_set_string_member (res, "guest_kernel_release", d->guest_release);
  json_object_set_int_member (res, "cpus", g_get_num_processors ());
  g_autofree char *meminfo = NULL;
  if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    {
      const char *total = strstr (meminfo, "MemTotal:");
      const char *avail = strstr (meminfo, "MemAvailable:");
      if (total)
        json_object_set_int_member (res, "memory_mb", g_ascii_strtoll (total + 9, NULL, 10) / 1024);
      if (avail)
        json_object_set_int_member (res, "memory_available_mb",
                                    g_ascii_strtoll (avail + 13, NULL, 10) / 1024);
    }
  JsonObject *counts = json_object_new ();
  for (SandboxState st = SANDBOX_CREATING; st <= SANDBOX_FAILED; st++)
    json_object_set_int_member (counts, sandbox_state_to_string (st), 0);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->ctx.sandboxes);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      if (!visible (d, value))
        continue;
      const char *st = sandbox_state_to_string (sandbox_get_state (value));
      json_object_set_int_member (counts, st, json_object_get_int_member (counts, st) + 1);
    }
  json_object_set_object_member (res, "sandboxes", counts);
  json_object_set_string_member (res, "runtime_dir", d->ctx.runtime_dir);
  const char *events = d->caller ? daemon_tenant_address (d->caller, TRUE) : d->events_address;
  json_object_set_string_member (res, "events_address", events ? events : "");
  if (d->caller)
    json_object_set_object_member (res, "tenant", daemon_quota_to_json (d, d->caller));
  else if (d->tenants)
    json_object_set_int_member (res, "tenants", g_hash_table_size (d->tenants));
  json_object_set_object_member (res, "limits", daemon_limits_to_json (d));
  /* Templates' shapes and sizes are every tenant's: the admin's to see. */
  if (d->caller == NULL && d->templates)
    json_object_set_object_member (res, "templates", sandbox_templates_to_json (d->templates));
  rpc_call_return (call, res);
}

static void
events_read (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  EventLog *log = d->caller ? daemon_tenant_events (d->caller) : d->events;
  if (log == NULL)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_UNAVAILABLE, "no event log for tenant %s",
                   d->caller->name);
      return;
    }
  event_log_read_async (log, (guint64) param_int (params, "since_seq", 0),
                        (guint) param_int (params, "wait_ms", 0),
                        (guint) param_int (params, "max_events", 0), on_reply, rpc_call_ref (call));
}

static gboolean
param_process (Daemon *d, JsonObject *params, Sandbox **sb, guint32 *process, GError **error)
{
  *sb = param_sandbox (d, params, "sandbox_id", error);
  *process = (guint32) param_int (params, "process_id", 0);
  return *sb != NULL;
}

static void
processes_exec (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  g_auto (GStrv) args = NULL;
  g_auto (GStrv) env = NULL;
  SandboxExec exec = { .uid = -1, .gid = -1 };
  Sandbox *sb = param_sandbox (d, params, "sandbox_id", error);
  if (sb == NULL || !json_field_strv (params, "args", FALSE, &args, error)
      || !json_field_string (params, "container", FALSE, &exec.container, error)
      || !json_field_strv (params, "env", FALSE, &env, error)
      || !json_field_string (params, "cwd", FALSE, &exec.cwd, error))
    return;
  exec.with_stdin = param_bool (params, "stdin");
  exec.env_only = param_bool (params, "env_only");
  exec.tty = param_bool (params, "tty");
  exec.tty_raw_output = param_bool (params, "tty_raw_output");
  exec.rows = (guint) param_int (params, "rows", 0);
  exec.cols = (guint) param_int (params, "cols", 0);
  exec.uid = param_int (params, "uid", -1);
  exec.gid = param_int (params, "gid", -1);
  if (json_object_has_member (params, "additional_gids"))
    exec.groups = json_object_get_array_member (params, "additional_gids");
  g_auto (GStrv) caps = NULL;
  if (!json_field_strv (params, "add_capabilities", FALSE, &caps, error))
    return;
  for (char **c = caps; c && *c; c++)
    {
      int n = container_capability_number (*c);
      if (n < 0)
        {
          g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
                       "field \"add_capabilities\": \"%s\" is not a capability (as CAP_NET_ADMIN)",
                       *c);
          return;
        }
      exec.add_caps |= G_GUINT64_CONSTANT (1) << n;
    }
  for (char **e = env; e && *e; e++)
    if (strchr (*e, '=') == NULL || **e == '=')
      {
        g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
                     "field \"env\": \"%s\" is not NAME=VALUE", *e);
        return;
      }
  TenantAsk ask = { .output = TRUE };
  if (!daemon_quota_admit (d, d->caller, &ask, error))
    return;
  exec.args = args;
  exec.env = env;
  guint wait_ms = (guint) param_int (params, "wait_ms", 0);
  if (wait_ms)
    daemon_exec_wait (d, call, sb, &exec, wait_ms);
  else
    sandbox_exec_async (sb, &exec, on_reply, rpc_call_ref (call));
}

static void
on_container_image (Daemon *d, RpcCall *call, const SandboxContainerConfig *container,
                    gpointer data)
{
  /* Looked up again: the sandbox may have gone while the image was built. */
  Sandbox *sb = g_hash_table_lookup (d->ctx.sandboxes, data);
  if (sb == NULL)
    {
      rpc_call_return_error (call, RPC_STATUS_NOT_FOUND, "the sandbox was deleted meanwhile");
      return;
    }
  /* A later container shares the sandbox's QEMU, and so its cgroup; it
   * cannot add a volume (nothing is hot-plugged on virtio-mmio). */
  JsonObject *spec = container->spec;
  g_autofree char *volume = volume_requests_in_spec (spec);
  if (volume)
    {
      rpc_call_return_error (call, RPC_STATUS_FAILED_PRECONDITION,
                             "%s: a read-write host directory is shared with a sandbox when it is "
                             "created (Create's volumes, or its first container's config.json): "
                             "a later container cannot add one",
                             volume);
      return;
    }
  if (json_object_has_member (spec, "cgroups_path"))
    {
      json_object_remove_member (spec, "cgroups_path");
      if (!json_object_has_member (spec, "not_applied"))
        json_object_set_array_member (spec, "not_applied", json_array_new ());
      json_array_add_string_element (json_object_get_array_member (spec, "not_applied"),
                                     "linux.cgroupsPath (the sandbox's QEMU has its cgroup)");
    }
  sandbox_add_container_async (sb, container, on_reply, rpc_call_ref (call));
}

static void
containers_add (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  const char *name = NULL;
  Sandbox *sb = param_sandbox (d, params, "sandbox_id", error);
  if (sb == NULL || !json_field_string (params, "name", TRUE, &name, error)
      || !daemon_check_name (name, "name", error))
    return;
  if (!container_request_wanted (params))
    {
      /* No root given: the built-in busybox one. */
      if (!g_file_test (d->default_root, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, RPC_ERROR, RPC_STATUS_FAILED_PRECONDITION,
                       "no root given, and the built-in root %s is missing (meson builds it "
                       "with busybox-static)",
                       d->default_root);
          return;
        }
      json_object_set_string_member (params, "image", d->default_root);
    }
  TenantAsk ask = { .image = TRUE };
  if (!daemon_quota_admit (d, d->caller, &ask, error))
    return;
  char *id = g_strdup (sandbox_get_id (sb));
  if (!container_request_start (d, call, params, name, on_container_image, id, g_free, error))
    g_free (id);
}

static void
containers_remove (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  const char *name = NULL;
  Sandbox *sb = param_sandbox (d, params, "sandbox_id", error);
  if (sb && json_field_string (params, "name", TRUE, &name, error))
    sandbox_remove_container_async (sb, name, on_reply, rpc_call_ref (call));
}

/* Containers.Update: the limits, checked here (names and ranges). */
static void
containers_update (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  static const struct
  {
    const char *name;
    gint64 min, max;
    gboolean unlimited; /* -1 lifts the limit */
  } fields[] = { { "memory_bytes", 1 << 20, G_MAXINT64, TRUE },
                 { "memory_low", 1, G_MAXINT64, TRUE },
                 { "pids", 1, G_MAXINT32, TRUE },
                 { "cpu_quota", 1000, G_MAXINT64, TRUE },
                 { "cpu_period", 1000, 1000000, FALSE },
                 { "cpu_weight", 1, 10000, FALSE } };
  const char *name = NULL;
  Sandbox *sb = param_sandbox (d, params, "sandbox_id", error);
  if (sb == NULL || !json_field_string (params, "name", FALSE, &name, error))
    return;
  g_autoptr (JsonObject) limits = json_object_new ();
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      gint64 v = 0;
      if (!json_field_int (params, fields[i].name, FALSE, fields[i].unlimited ? -1 : fields[i].min,
                           fields[i].max, &v, error))
        return;
      if (v != -1 && v != 0 && v < fields[i].min)
        {
          g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
                       "field \"%s\": %" G_GINT64_FORMAT " is below %" G_GINT64_FORMAT
                       " (-1: no limit)",
                       fields[i].name, v, fields[i].min);
          return;
        }
      if (v)
        json_object_set_int_member (limits, fields[i].name, v);
    }
  if (json_object_get_size (limits) == 0)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
                   "no limit to update (memory_bytes, memory_low, pids, cpu_quota, cpu_period, "
                   "cpu_weight)");
      return;
    }
  sandbox_update_container_async (sb, name, limits, on_reply, rpc_call_ref (call));
}

static void
containers_list (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "sandbox_id", error);
  if (sb)
    rpc_call_return (call, sandbox_list_containers (sb));
}

static void
processes_signal (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb;
  guint32 process;
  if (param_process (d, params, &sb, &process, error))
    sandbox_signal_async (sb, process, (int) param_int (params, "signal", 0),
                          param_bool (params, "group"), on_reply, rpc_call_ref (call));
}

#define MAX_STDIN_BYTES (1024 * 1024)

static void
processes_write_stdin (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb;
  guint32 process;
  const char *b64 = NULL;
  if (!param_process (d, params, &sb, &process, error)
      || !json_field_string (params, "data", TRUE, &b64, error))
    return;
  /* Base64 is 4 characters per 3 bytes: refuse before decoding too much. */
  if (strlen (b64) > (MAX_STDIN_BYTES / 3 + 1) * 4)
    {
      g_set_error (error, RPC_ERROR, RPC_STATUS_INVALID_ARGUMENT,
                   "field \"data\" holds more than %d bytes", MAX_STDIN_BYTES);
      return;
    }
  gsize len = 0;
  g_autofree guint8 *data = g_base64_decode (b64, &len);
  sandbox_write_stdin_async (sb, process, data, len, on_reply, rpc_call_ref (call));
}

static void
processes_close_stdin (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb;
  guint32 process;
  if (param_process (d, params, &sb, &process, error))
    sandbox_close_stdin_async (sb, process, on_reply, rpc_call_ref (call));
}

static void
processes_resize (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb;
  guint32 process;
  if (param_process (d, params, &sb, &process, error))
    sandbox_resize_async (sb, process, (guint) param_int (params, "rows", 24),
                          (guint) param_int (params, "cols", 80), on_reply, rpc_call_ref (call));
}

static void
processes_list (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb = param_sandbox (d, params, "sandbox_id", error);
  if (sb)
    rpc_call_return (call, sandbox_list_processes (sb));
}

static void
processes_wait (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb;
  guint32 process;
  if (param_process (d, params, &sb, &process, error))
    sandbox_wait_async (sb, process, on_reply, rpc_call_ref (call));
}

/* Output as the API carries it: {"data": base64, "offset", "eof"}. */
static void
on_output (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (RpcCall) call = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SandboxOutput) out = sandbox_read_output_finish (result, &error);
  if (out == NULL)
    {
      daemon_return_error (call, error);
      return;
    }
  rpc_call_return (call, daemon_output_to_json (out));
}

static void
processes_read_output (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  Sandbox *sb;
  guint32 process;
  if (!param_process (d, params, &sb, &process, error))
    return;
  /* "stream" is "stdout" or "stderr" (the schema's enum). */
  sandbox_read_output_async (
      sb, process, g_str_equal (param_string (params, "stream", ""), "stderr"),
      (guint64) param_int (params, "offset", 0), (gsize) param_int (params, "max_bytes", 0),
      (guint) param_int (params, "wait_ms", 0), on_output, rpc_call_ref (call));
}

static void
kernels_list (Daemon *d, RpcCall *call, JsonObject *params, GError **error)
{
  JsonArray *list = json_array_new ();
  for (guint i = 0; i < d->kernels->len; i++)
    json_array_add_object_element (list, guest_kernel_to_json (d->kernels->pdata[i]));
  JsonObject *res = json_object_new ();
  json_object_set_array_member (res, "kernels", list);
  rpc_call_return (call, res);
}

static const struct
{
  const char *name;
  MethodFunc func;
} methods[] = {
  { "sandbox.v1.System.Version", system_version },
  { "sandbox.v1.System.Ping", system_ping },
  { "sandbox.v1.System.Info", system_info },
  { "sandbox.v1.Events.Read", events_read },
  { "sandbox.v1.Sandboxes.Create", sandboxes_create },
  { "sandbox.v1.Sandboxes.Get", sandboxes_get },
  { "sandbox.v1.Sandboxes.List", sandboxes_list },
  { "sandbox.v1.Sandboxes.Stop", sandboxes_stop },
  { "sandbox.v1.Sandboxes.Kill", sandboxes_kill },
  { "sandbox.v1.Sandboxes.Pause", sandboxes_pause },
  { "sandbox.v1.Sandboxes.Resume", sandboxes_resume },
  { "sandbox.v1.Sandboxes.Stats", sandboxes_stats },
  { "sandbox.v1.Sandboxes.Delete", sandboxes_delete },
  { "sandbox.v1.Sandboxes.AttachDisk", sandboxes_attach_disk },
  { "sandbox.v1.Sandboxes.DetachDisk", sandboxes_detach_disk },
  { "sandbox.v1.Containers.Add", containers_add },
  { "sandbox.v1.Containers.Remove", containers_remove },
  { "sandbox.v1.Containers.List", containers_list },
  { "sandbox.v1.Containers.Update", containers_update },
  { "sandbox.v1.Volumes.Create", daemon_volumes_create },
  { "sandbox.v1.Volumes.List", daemon_volumes_list },
  { "sandbox.v1.Volumes.Get", daemon_volumes_get },
  { "sandbox.v1.Volumes.Delete", daemon_volumes_delete },
  { "sandbox.v1.Volumes.Prune", daemon_volumes_prune },
  { "sandbox.v1.Images.List", daemon_images_list },
  { "sandbox.v1.Kernels.List", kernels_list },
  { "sandbox.v1.Images.Prune", daemon_images_prune },
  { "sandbox.v1.Processes.Exec", processes_exec },
  { "sandbox.v1.Processes.List", processes_list },
  { "sandbox.v1.Processes.Wait", processes_wait },
  { "sandbox.v1.Processes.Signal", processes_signal },
  { "sandbox.v1.Processes.WriteStdin", processes_write_stdin },
  { "sandbox.v1.Processes.CloseStdin", processes_close_stdin },
  { "sandbox.v1.Processes.Resize", processes_resize },
  { "sandbox.v1.Processes.ReadOutput", processes_read_output },
};

void
daemon_dispatch (Daemon *d, const Tenant *caller, RpcCall *call)
{
  const char *method = rpc_call_get_method (call);
  g_autoptr (GError) error = NULL;
  d->last_activity_us = g_get_monotonic_time ();

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, method))
      {
        d->caller = caller;
        methods[i].func (d, call, rpc_call_get_params (call), &error);
        d->caller = NULL;
        if (error)
          daemon_return_error (call, error);
        return;
      }
  rpc_call_return_error (call, RPC_STATUS_UNIMPLEMENTED, "unknown method \"%s\"", method);
}

void
daemon_handle_call (RpcCall *call, gpointer user_data)
{
  daemon_dispatch (user_data, NULL, call);
}

void
daemon_handle_tenant_call (RpcCall *call, gpointer user_data)
{
  Daemon *d = NULL;
  const Tenant *t = daemon_tenant_api_caller (user_data, &d);
  /* Never the admin's rights for a socket whose tenant has gone. */
  if (t == NULL)
    rpc_call_return_error (call, RPC_STATUS_PERMISSION_DENIED, "this tenant is no longer served");
  else
    daemon_dispatch (d, t, call);
}
