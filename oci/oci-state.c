/* oci-state.c — a container's record in the runtime's root directory. */
#include "oci.h"

#include "json-fields.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

void
oci_state_free (OciState *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->name);
  g_free (s->bundle);
  g_free (s->created);
  g_free (s->address);
  if (s->annotations)
    json_object_unref (s->annotations);
  g_free (s);
}

gboolean
oci_id_valid (const char *id)
{
  gsize len = strlen (id);
  if (len == 0 || len > 1024 || g_str_equal (id, ".") || g_str_equal (id, ".."))
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("_+-.", *p))
      return FALSE;
  return TRUE;
}

char *
oci_state_dir (const char *root, const char *id)
{
  return g_build_filename (root, id, NULL);
}

guint64
oci_process_start_time (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  const char *p = strrchr (text, ')');
  g_auto (GStrv) f = p ? g_strsplit (p + 2, " ", 0) : NULL;
  /* Field 3 is the state: a zombie has ended. Field 22 the start time. */
  if (f == NULL || g_strv_length (f) < 20 || g_str_equal (f[0], "Z"))
    return 0;
  return g_ascii_strtoull (f[19], NULL, 10);
}

const char *
oci_state_status (const OciState *s)
{
  if (s->pid <= 0 || oci_process_start_time (s->pid) != s->pid_start_time)
    return "stopped";
  return s->started ? "running" : "created";
}

JsonObject *
oci_state_to_json (const OciState *s)
{
  JsonObject *o = json_object_new ();
  const char *status = oci_state_status (s);
  json_object_set_string_member (o, "ociVersion", OCI_SPEC_VERSION);
  json_object_set_string_member (o, "id", s->id);
  json_object_set_string_member (o, "status", status);
  json_object_set_int_member (o, "pid", g_str_equal (status, "stopped") ? 0 : s->pid);
  json_object_set_string_member (o, "bundle", s->bundle);
  json_object_set_string_member (o, "created", s->created);
  json_object_set_object_member (
      o, "annotations", s->annotations ? json_object_ref (s->annotations) : json_object_new ());
  return o;
}

gboolean
oci_state_save (const char *root, const OciState *s, GError **error)
{
  g_autoptr (JsonObject) o = oci_state_to_json (s);
  json_object_set_string_member (o, "sandbox", s->name);
  json_object_set_int_member (o, "pid", s->pid);
  json_object_set_int_member (o, "pid_start_time", (gint64) s->pid_start_time);
  json_object_set_boolean_member (o, "started", s->started);
  if (s->address)
    json_object_set_string_member (o, "address", s->address);
  json_object_remove_member (o, "status");
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), o);
  g_autofree char *text = json_to_string (node, TRUE);
  g_autofree char *dir = oci_state_dir (root, s->id);
  g_autofree char *path = g_build_filename (dir, "state.json", NULL);
  return g_file_set_contents (path, text, -1, error);
}

OciState *
oci_state_load (const char *root, const char *id, GError **error)
{
  if (!oci_id_valid (id))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "invalid container id \"%s\" (letters, digits and _+-. only)", id);
      return NULL;
    }
  g_autofree char *dir = oci_state_dir (root, id);
  g_autofree char *path = g_build_filename (dir, "state.json", NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "container \"%s\" does not exist", id);
      return NULL;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *name = NULL, *bundle = NULL, *created = NULL, *address = NULL;
  gint64 pid = 0, start = 0;
  gboolean started = FALSE;
  JsonObject *o = NULL;
  if (json_text_check_depth (text, -1, JSON_MAX_DEPTH, error)
      && json_parser_load_from_data (parser, text, -1, error)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    o = json_node_get_object (json_parser_get_root (parser));
  if (o == NULL || !json_field_string (o, "sandbox", TRUE, &name, error)
      || !json_field_string (o, "bundle", TRUE, &bundle, error)
      || !json_field_string (o, "created", TRUE, &created, error)
      || !json_field_int (o, "pid", TRUE, 0, G_MAXINT32, &pid, error)
      || !json_field_int (o, "pid_start_time", TRUE, 0, G_MAXINT64, &start, error)
      || !json_field_bool (o, "started", TRUE, &started, error)
      || !json_field_string (o, "address", FALSE, &address, error))
    {
      if (error && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a JSON object");
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  OciState *s = g_new0 (OciState, 1);
  s->id = g_strdup (id);
  s->name = g_strdup (name);
  s->bundle = g_strdup (bundle);
  s->created = g_strdup (created);
  s->address = g_strdup (address);
  s->pid = (GPid) pid;
  s->pid_start_time = (guint64) start;
  s->started = started;
  JsonNode *a = json_object_get_member (o, "annotations");
  if (a && JSON_NODE_HOLDS_OBJECT (a))
    s->annotations = json_object_ref (json_node_get_object (a));
  return s;
}
