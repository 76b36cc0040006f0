/* qemu-monitor.h — QEMU's commands as sandboxd uses them, one function
 * each, typed: the JSON of a command is written here alone (as libvirt's
 * qemu_monitor_json.c does), so the domain never builds QMP by hand and
 * each command is checked against a fake monitor (tests/test-qmp-client.c).
 *
 * Every function sends one command on @qmp and answers @callback as
 * qmp_client_execute_async does (@timeout_ms: the command's own). */
#pragma once

#include "qmp-client.h"

typedef struct
{
  guint timeout_ms;
  QmpReplyFunc callback;
  gpointer data;
} QemuReply;

/* The vCPUs: stop, cont; the machine: system_powerdown (the guest's power
 * button), quit; query-status, query-migrate. */
void qemu_monitor_stop (QmpClient *qmp, const QemuReply *reply);
void qemu_monitor_cont (QmpClient *qmp, const QemuReply *reply);
void qemu_monitor_system_powerdown (QmpClient *qmp, const QemuReply *reply);
void qemu_monitor_quit (QmpClient *qmp, const QemuReply *reply);
void qemu_monitor_query_status (QmpClient *qmp, const QemuReply *reply);
void qemu_monitor_query_migrate (QmpClient *qmp, const QemuReply *reply);

/* Fds passed with SCM_RIGHTS: into fd set @fdset_id (add-fd), or under
 * @fdname (getfd); remove-fd drops a set. */
void qemu_monitor_add_fd (QmpClient *qmp, gint64 fdset_id, int fd, const QemuReply *reply);
void qemu_monitor_remove_fd (QmpClient *qmp, gint64 fdset_id, const QemuReply *reply);
void qemu_monitor_getfd (QmpClient *qmp, const char *fdname, int fd, const QemuReply *reply);

/* A raw block node @node on @filename (a /dev/fdset/N path); a SCSI disk
 * @id on @bus at target @scsi_id, LUN 0, of node @drive; and their removal. */
void qemu_monitor_blockdev_add_raw (QmpClient *qmp, const char *node, const char *filename,
                                    gboolean read_only, const QemuReply *reply);
void qemu_monitor_blockdev_del (QmpClient *qmp, const char *node, const QemuReply *reply);
void qemu_monitor_device_add_scsi_hd (QmpClient *qmp, const char *id, const char *bus,
                                      const char *drive, guint scsi_id, const QemuReply *reply);
void qemu_monitor_device_del (QmpClient *qmp, const char *id, const QemuReply *reply);

/* QEMU's events that sandboxd acts on, typed (each handler may be NULL):
 * a device removed (DEVICE_DELETED: its id; NULL for one QEMU names by
 * path only), the machine shutting down (SHUTDOWN: QEMU's reason, "?" if
 * none), the guest kernel's panic (GUEST_PANICKED). The names of events
 * are written here alone. */
typedef struct
{
  void (*device_deleted) (const char *device, gpointer data);
  void (*shutdown) (const char *reason, gpointer data);
  void (*panicked) (gpointer data);
} QemuEvents;
/* For as long as @qmp lives; @events must outlive it (a static table). */
void qemu_monitor_watch_events (QmpClient *qmp, const QemuEvents *events, gpointer data);

/* Migration to or from @uri ("fd:NAME"), with @capability set to @state
 * first (migrate-set-capabilities). */
void qemu_monitor_migrate_set_capability (QmpClient *qmp, const char *capability, gboolean state,
                                          const QemuReply *reply);
void qemu_monitor_migrate (QmpClient *qmp, const char *uri, const QemuReply *reply);
void qemu_monitor_migrate_incoming (QmpClient *qmp, const char *uri, const QemuReply *reply);
