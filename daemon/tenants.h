/* tenants.h — the tenants of a multi-tenant sandboxd (`--tenants FILE`,
 * docs/tenants.md): who they are, what they may choose, what they may use. */
#pragma once

#include "fs-creds.h"

#include <glib.h>

/* What a tenant's socket holds of calls waiting for their answers (long
 * polls, Execs waiting for a guest), at most: past either, a call is
 * RESOURCE_EXHAUSTED at once (a tenant cannot grow sandboxd's memory by
 * calls it leaves pending). */
#define TENANT_MAX_CALLS 512
#define TENANT_MAX_CALL_BYTES (64 * 1024 * 1024)

typedef enum
{
  TENANT_QUOTA_SANDBOXES,
  TENANT_QUOTA_MEMORY_MB, /* guest RAM of its live sandboxes */
  TENANT_QUOTA_CPUS,      /* vCPUs of its live sandboxes */
  TENANT_QUOTA_IMAGE_MB,  /* its image cache */
  TENANT_QUOTA_OUTPUT_MB, /* output its sandboxes' processes have stored */
  TENANT_QUOTA_VOLUME_MB, /* its named volumes, on disk */
  TENANT_QUOTA_N
} TenantQuota;

/* Their names in the file and in System.Info. */
extern const char *const tenant_quota_names[TENANT_QUOTA_N];

typedef struct TenantApi TenantApi;

typedef struct
{
  char *name;
  FsCreds creds;                /* uid, gid and groups: host paths it names are opened as these */
  char *default_policy;         /* NULL: sandboxd's */
  char **policies;              /* those it may choose besides its default (NULL: none) */
  gint64 quota[TENANT_QUOTA_N]; /* -1: no limit */
  TenantApi *api;               /* its sockets (the daemon's) */
} Tenant;

void tenant_free (Tenant *tenant);

/* Reads @path: {"tenants": [{"name", "uid", "gid"?, "default_policy"?,
 * "policies"?, "quota"?: {...}}]}. Every field is checked; an error names
 * the file and the field ("tenants[1].quota.memory_mb: ..."). Names and
 * uids are unique, uid 0 (the admin) is refused. Returns name -> Tenant,
 * policies not yet checked against the daemon's. */
GHashTable *tenants_load (const char *path, GError **error);

/* @tenant may choose policy @name. */
gboolean tenant_may_use_policy (const Tenant *tenant, const char *name);
