/* options.h — sandboxd's command line. */
#pragma once

#include <gio/gio.h>

typedef struct
{
  char *runtime_dir;
  char *state_dir;
  char *kernel;
  char *initramfs;
  char *kernels_dir;
  char *default_kernel;
  char *qemu;
  char *net_helper;
  char *virtiofsd;
  char *volume_user;
  char *accel;
  gint boot_timeout;
  gint auto_remove_grace;
  gint max_sandboxes;
  gint max_memory_mb;
  gint max_image_builds;
  gint max_boots;
  gint tcg_cache_mb;
  gint image_gc_age_days;
  gint image_cache_max_mb;
  gint idle_exit;
  char *dbus;
  gboolean version;
  gboolean stop_on_exit;
  gboolean no_templates;
  int warm;
  int max_templates;
  char *policy_dir;
  char *default_policy;
  char *tenants;
  char **net_deny;
  gint tenant_connections;
  gint output_buffer_mb;
  gint output_quota_mb;
  GBusType bus;
} Options;

void options_clear (Options *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

/* Parses and checks the command line: -1 to go on, else the exit code
 * (0 after --version, 2 after a usage error, said on stderr). */
int options_parse (Options *options, int argc, char **argv);
