/* tenant-api.c — each tenant's own API and events sockets
 * (RUNTIME_DIR/tenants/NAME/), its event log, the routing of events to
 * their owner, and the tenants file read at start and again on SIGHUP. */
#include "daemon.h"
#include "remove-tree.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct TenantApi
{
  Daemon *daemon;
  char *name;
  uid_t uid;
  gid_t gid;
  char *dir;  /* RUNTIME_DIR/tenants/NAME */
  char *link; /* RUNTIME_DIR/tenants/by-uid/UID -> ../NAME, for clients to find it */
  RpcServer *rpc;
  RpcPublisher *publisher;
  EventLog *events;
  char *rpc_address;
  char *events_address;
};

static char *
tenants_dir (Daemon *d, const char *sub)
{
  return g_build_filename (d->ctx.runtime_dir, "tenants", sub, NULL);
}

/* A tenant's directory is theirs to change: take it back (owner root,
 * 0700, so they can no longer swap what is in it) before removing it. */
static void
remove_tenant_dir (const char *dir)
{
  if (lchown (dir, 0, 0) == 0 && chmod (dir, 0700) == 0)
    remove_tree (dir, NULL);
  else if (errno != ENOENT)
    g_warning ("tenant directory %s: cannot take it back: %s", dir, g_strerror (errno));
}

void
daemon_tenants_remove_stale (Daemon *d)
{
  g_autofree char *dir = tenants_dir (d, NULL);
  g_autoptr (GDir) old = g_dir_open (dir, 0, NULL);
  const char *name;
  while (old && (name = g_dir_read_name (old)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      remove_tenant_dir (path);
    }
}

static void
tenant_api_free (TenantApi *api)
{
  if (api == NULL)
    return;
  g_clear_pointer (&api->rpc, rpc_server_free);
  g_clear_pointer (&api->events, event_log_free);
  g_clear_pointer (&api->publisher, rpc_publisher_free);
  if (api->link)
    g_unlink (api->link);
  if (api->dir)
    remove_tenant_dir (api->dir);
  g_free (api->link);
  g_free (api->dir);
  g_free (api->name);
  g_free (api->rpc_address);
  g_free (api->events_address);
  g_free (api);
}

static gboolean
mkdir_mode (const char *dir, mode_t mode, GError **error)
{
  if ((g_mkdir (dir, mode) == 0 || errno == EEXIST) && chmod (dir, mode) == 0)
    return TRUE;
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", dir, g_strerror (e));
  return FALSE;
}

/* The sockets, then the directory, to the tenant (without following links). */
static gboolean
give_to_tenant (TenantApi *api, GError **error)
{
  int dfd = open (api->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  gboolean owned = dfd >= 0
                   && fchownat (dfd, "rpc.sock", api->uid, api->gid, AT_SYMLINK_NOFOLLOW) == 0
                   && fchownat (dfd, "events.sock", api->uid, api->gid, AT_SYMLINK_NOFOLLOW) == 0
                   && fchown (dfd, api->uid, api->gid) == 0;
  int e = errno;
  if (dfd >= 0)
    close (dfd);
  if (!owned)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: cannot give it to uid %u: %s",
                 api->dir, (guint) api->uid, g_strerror (e));
  return owned;
}

/* A socket of the tenant's went past its connection cap and is made anew:
 * in a directory that is root's meanwhile (as at the start), then given. */
static void
around_rebind (gpointer data, gboolean done)
{
  TenantApi *api = data;
  g_autoptr (GError) error = NULL;
  if (!done)
    {
      if (lchown (api->dir, 0, 0) < 0 || chmod (api->dir, 0700) < 0)
        g_warning ("tenant %s: cannot take %s back: %s", api->name, api->dir, g_strerror (errno));
      return;
    }
  g_warning ("tenant %s: more than %u connections on one of its sockets: all of them were closed",
             api->name, api->daemon->tenant_connections);
  if (!give_to_tenant (api, &error))
    g_warning ("tenant %s: %s", api->name, error->message);
}

/* The sockets are made while the directory is still root's (the tenant
 * cannot put a link where they go), given to the tenant without following
 * links, and only then is the directory handed over. */
static TenantApi *
tenant_api_new (Daemon *d, const Tenant *t, GError **error)
{
  TenantApi *api = g_new0 (TenantApi, 1);
  api->daemon = d;
  api->name = g_strdup (t->name);
  api->uid = t->creds.uid;
  api->gid = t->creds.gid;
  g_autofree char *uid = g_strdup_printf ("%u", (guint) api->uid);
  g_autofree char *by_uid = tenants_dir (d, "by-uid");
  g_autofree char *target = g_build_filename ("..", t->name, NULL);
  api->dir = tenants_dir (d, t->name);
  remove_tenant_dir (api->dir);
  api->rpc_address = g_strdup_printf ("ipc://%s/rpc.sock", api->dir);
  api->events_address = g_strdup_printf ("ipc://%s/events.sock", api->dir);
  if (!mkdir_mode (by_uid, 0711, error) || !mkdir_mode (api->dir, 0700, error))
    goto fail;
  api->rpc
      = rpc_server_new (api->rpc_address, rpc_schema_get_default (), d->tenant_handler, api, error);
  if (api->rpc == NULL)
    goto fail;
  api->publisher = rpc_publisher_new (api->events_address, error);
  if (api->publisher == NULL)
    goto fail;
  api->events = event_log_new (api->publisher);
  if (!give_to_tenant (api, error))
    goto fail;
  rpc_server_cap_connections (api->rpc, d->tenant_connections, around_rebind, api);
  rpc_server_limit_calls (api->rpc, TENANT_MAX_CALLS, TENANT_MAX_CALL_BYTES);
  rpc_publisher_cap_connections (api->publisher, d->tenant_connections, around_rebind, api);
  api->link = g_build_filename (by_uid, uid, NULL);
  g_unlink (api->link);
  if (symlink (target, api->link) < 0)
    g_warning ("tenant %s: %s: %s (its clients must name their address)", t->name, api->link,
               g_strerror (errno));
  return api;
fail:
  g_prefix_error (error, "tenant %s: ", t->name);
  tenant_api_free (api);
  return NULL;
}

/* The tenants' policies are sandboxd's, none weaker than its default. */
static gboolean
check_policies (Daemon *d, const Tenant *t, GError **error)
{
  if (t->default_policy && daemon_policy (d, t->default_policy, error) == NULL)
    {
      g_prefix_error (error, "tenant %s: default_policy: ", t->name);
      return FALSE;
    }
  for (char **p = t->policies; p && *p; p++)
    if (daemon_policy (d, *p, error) == NULL)
      {
        g_prefix_error (error, "tenant %s: policies: ", t->name);
        return FALSE;
      }
  return TRUE;
}

/* Takes @tenants: those whose uid did not change keep their sockets (and
 * their clients and event logs); the others get new ones; the sockets of
 * tenants no longer there are closed. Their sandboxes stay (the admin sees
 * them). */
static gboolean
apply (Daemon *d, GHashTable *tenants, GError **error)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, tenants);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (!check_policies (d, value, error))
      {
        g_hash_table_unref (tenants);
        return FALSE;
      }
  g_autofree char *base = tenants_dir (d, NULL);
  if (!mkdir_mode (base, 0711, error))
    {
      g_hash_table_unref (tenants);
      return FALSE;
    }
  g_hash_table_iter_init (&it, tenants);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Tenant *t = value;
      Tenant *old = d->tenants ? g_hash_table_lookup (d->tenants, t->name) : NULL;
      if (old && old->api && old->api->uid == t->creds.uid && old->api->gid == t->creds.gid)
        t->api = g_steal_pointer (&old->api);
      else
        {
          g_autoptr (GError) local = NULL;
          if (old)
            g_clear_pointer (&old->api, tenant_api_free);
          t->api = tenant_api_new (d, t, &local);
          if (t->api == NULL)
            g_warning ("%s (its sandboxes stay; the admin sees them)", local->message);
        }
    }
  if (d->tenants)
    {
      g_hash_table_iter_init (&it, d->tenants);
      while (g_hash_table_iter_next (&it, NULL, &value))
        g_clear_pointer (&((Tenant *) value)->api, tenant_api_free);
      g_hash_table_unref (d->tenants);
    }
  d->tenants = tenants;
  return TRUE;
}

gboolean
daemon_tenants_load (Daemon *d, GError **error)
{
  GHashTable *tenants = tenants_load (d->tenants_file, error);
  if (tenants == NULL || !apply (d, tenants, error))
    return FALSE;
  g_message ("tenants from %s: %u", d->tenants_file, g_hash_table_size (d->tenants));
  return TRUE;
}

void
daemon_tenants_clear (Daemon *d)
{
  if (d->tenants == NULL)
    return;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->tenants);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_clear_pointer (&((Tenant *) value)->api, tenant_api_free);
  g_clear_pointer (&d->tenants, g_hash_table_unref);
}

const Tenant *
daemon_tenant (Daemon *d, const char *name)
{
  return d->tenants && name ? g_hash_table_lookup (d->tenants, name) : NULL;
}

const Tenant *
daemon_tenant_by_uid (Daemon *d, uid_t uid)
{
  if (d->tenants == NULL)
    return NULL;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, d->tenants);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Tenant *) value)->creds.uid == uid)
      return value;
  return NULL;
}

const char *
daemon_tenant_address (const Tenant *t, gboolean events)
{
  if (t->api == NULL)
    return NULL;
  return events ? t->api->events_address : t->api->rpc_address;
}

EventLog *
daemon_tenant_events (const Tenant *t)
{
  return t->api ? t->api->events : NULL;
}

/* Every event goes to the admin's log, with its tenant; a tenant's also to
 * the tenant's own log (its own sequence numbers: a tenant learns nothing
 * of the others' events, not even how many there were). */
void
daemon_emit (Daemon *d, const char *tenant, const char *type, JsonObject *fields)
{
  const Tenant *t = daemon_tenant (d, tenant);
  if (t && t->api)
    {
      /* A copy of its own: the log adds its seq, time and type to it. */
      JsonObject *copy = json_object_new ();
      g_autoptr (GList) members = json_object_get_members (fields);
      for (GList *l = members; l; l = l->next)
        json_object_set_member (copy, l->data,
                                json_node_copy (json_object_get_member (fields, l->data)));
      event_log_emit (t->api->events, type, copy);
    }
  if (tenant)
    json_object_set_string_member (fields, "tenant", tenant);
  event_log_emit (d->events, type, fields);
}

const Tenant *
daemon_tenant_api_caller (TenantApi *api, Daemon **daemon)
{
  *daemon = api->daemon;
  const Tenant *t = daemon_tenant (api->daemon, api->name);
  return t && t->api == api ? t : NULL;
}
