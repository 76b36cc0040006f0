/* images.h — the images library (images/): containers' roots, from an
 * OCI bundle's config.json or a bare root, and their read-only disk
 * images. This header is its whole contract. */
#pragma once

#include "fs-creds.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

/* ---- container specs ---- */
/* What a container is made of, from an OCI bundle's
 * config.json or from a bare root.
 *
 * A spec is a JSON object in sandboxd's own form, kept in state.json and
 * sent to the guest agent:
 *   args, env, cwd, uid, gid          the default process
 *   hostname, readonly, mounts        the container's root
 *   memory_bytes, pids, cpu_quota, cpu_period   limits inside the guest
 *   cgroups_path                      QEMU's cgroup (from linux.cgroupsPath)
 *   annotations
 * config.json fields sandboxd cannot honour are refused by name, never
 * ignored (docs/containers.md lists what is supported).
 */
#define CONTAINER_SPEC_ERROR (container_spec_error_quark ())
GQuark container_spec_error_quark (void);

typedef enum
{
  CONTAINER_SPEC_ERROR_INVALID,     /* malformed: names the file and field */
  CONTAINER_SPEC_ERROR_UNSUPPORTED, /* a field sandboxd cannot honour */
  CONTAINER_SPEC_ERROR_NOT_FOUND,   /* the bundle, its config.json or its root is missing */
} ContainerSpecError;

/* Reads @bundle/config.json: a regular file (not a link, FIFO or device) of
 * at most 1 MiB. *root is the root directory's host path. It may block on
 * the file system: call it off the main loop. */
JsonObject *container_spec_from_bundle (const char *bundle, char **root, GError **error);

/* The same from @text, the content of @bundle's config.json. */
JsonObject *container_spec_parse (const char *bundle, const char *text, gssize len, char **root,
                                  GError **error);

/* The kernel's number of capability @name ("CAP_NET_ADMIN"), or -1. */
int container_capability_number (const char *name);

/* A container of a bare root: runs what it is told, as root, in "/". */
JsonObject *container_spec_new_default (void);

/* ---- the image cache ---- */
/* Containers' roots as read-only disk images.
 *
 * A root (a directory, or a tarball of one) becomes an EROFS image named by
 * the SHA-256 of the image's own bytes: DIR/sha256-<hex>.erofs. Identical
 * roots give identical images, so one file serves them all; a root left
 * untouched since its last build (a metadata fingerprint, taken before and
 * after that build) is not built again. Building runs in a worker thread,
 * never in the main loop. docs/containers.md says why EROFS.
 */
typedef struct
{
  char *path;     /* the image */
  char *digest;   /* "sha256:<hex>" of the image */
  gboolean built; /* by this call; FALSE: it was in the cache */
  gint64 build_ms;
  guint64 bytes;    /* the image's size */
  gint64 last_used; /* built or handed out last, seconds since the epoch (list only) */
} ImageInfo;

void image_info_free (ImageInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageInfo, image_info_free)

/* Checks @root is a directory or a regular file (a tarball) we can read;
 * the error is G_IO_ERROR_NOT_FOUND when it does not exist. */
gboolean image_cache_check_root (const char *root, GError **error);

/* Where a build is, told in the caller's main context: @stage is
 * "unpacking" (a tarball), "building" (mkfs.erofs runs) or "hashing" (the
 * image, at the start and every 2 s, with the bytes read so far). */
typedef void (*ImageProgress) (const char *stage, guint64 files, guint64 bytes, gpointer data);

/* Finds or builds the image of @root in @cache_dir (made if missing);
 * @progress (may be NULL) gets @user_data too. With @creds (copied; NULL:
 * as sandboxd) the root is read only as them: looked at and fingerprinted
 * by the worker thread as them, a tarball opened as them and unpacked from
 * that open file, a directory read by mkfs.erofs running as them. With
 * @max_bytes (0: no limit) no file the build writes (the image, a file
 * unpacked from a tarball) may grow past it (RLIMIT_FSIZE on the
 * builders): such a build fails with G_IO_ERROR_NO_SPACE. */
void image_cache_get_async (const char *cache_dir, const char *root, const FsCreds *creds,
                            guint64 max_bytes, ImageProgress progress, GAsyncReadyCallback callback,
                            gpointer user_data);
ImageInfo *image_cache_get_finish (GAsyncResult *result, GError **error);

/* How many builds may run at once (default 2); more wait their turn. */
void image_cache_set_max_builds (guint n);

/* The images in @cache_dir (ImageInfo: path, digest, bytes, last_used),
 * least recently used first; none when it does not exist yet. */
GPtrArray *image_cache_list (const char *cache_dir, GError **error);

/* Removes images not in @in_use (a set of image paths) and not used for a
 * minute: those unused for @unused_for_s, and more, least recently used
 * first, while the cache holds over @keep_bytes (0: no size limit). Returns
 * the removed ones (ImageInfo). It runs on the caller's thread: images are
 * only listed and unlinked, nothing is read. */
GPtrArray *image_cache_prune (const char *cache_dir, GHashTable *in_use, gint64 unused_for_s,
                              guint64 keep_bytes, GError **error);
