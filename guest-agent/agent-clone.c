/* agent-clone.c — a guest made into a template, and each clone of it made
 * into its own machine (docs/templates.md).
 *
 * "freeze" (the template's boot, just before the host snapshots the VM):
 * the page cache is written and dropped, so the snapshot holds little of
 * it; answered "frozen". No user code ever ran in this guest.
 * "thaw" (each clone, right after its restore, before anything of the
 * user runs): the host's entropy is mixed into the kernel's pool and the
 * CRNG reseeded (clones must not share random numbers), the wall clock is
 * set (it stood still since the snapshot), the hostname is the clone's;
 * then the session starts anew with a hello that says "thawed". */
#include "agent.h"

#include "json-fields.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

void
agent_clone_handle_freeze (JsonObject *msg)
{
  sync ();
  int fd = open ("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, "3", 1) != 1)
    fprintf (stderr, "sandbox-agent: drop_caches: %s\n", g_strerror (errno));
  if (fd >= 0)
    close (fd);
  g_autoptr (JsonObject) reply = json_object_new ();
  json_object_set_string_member (reply, "type", "frozen");
  agent_port_send_control (reply);
}

/* The host's bytes into the input pool, credited, then a reseed: what
 * /dev/urandom gives from here on differs from every other clone's. */
static gboolean
add_entropy (const guchar *bytes, gsize len, GError **error)
{
  int fd = open ("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "open /dev/urandom: %s",
                   g_strerror (errno));
      return FALSE;
    }
  g_autofree struct rand_pool_info *info = g_malloc0 (sizeof *info + len);
  info->entropy_count = (int) (len * 8);
  info->buf_size = (int) len;
  memcpy (info->buf, bytes, len);
  int rc = ioctl (fd, RNDADDENTROPY, info);
  int e = errno;
  if (rc == 0)
    {
      rc = ioctl (fd, RNDRESEEDCRNG);
      e = errno;
    }
  close (fd);
  if (rc < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "reseed the kernel's RNG: %s",
                   g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

void
agent_clone_handle_thaw (JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  const char *hostname = NULL, *entropy = NULL;
  gint64 realtime_us = 0;
  if (!json_field_string (msg, "hostname", TRUE, &hostname, &error)
      || !json_field_string (msg, "entropy", TRUE, &entropy, &error)
      || !json_field_int (msg, "realtime_us", TRUE, 0, G_MAXINT64, &realtime_us, &error))
    {
      fprintf (stderr, "sandbox-agent: thaw: %s\n", error->message);
      return;
    }
  gsize len = 0;
  g_autofree guchar *bytes = g_base64_decode (entropy, &len);
  if (len < 32 || len > 512 || !add_entropy (bytes, len, &error))
    {
      fprintf (stderr, "sandbox-agent: thaw: %s\n",
               error ? error->message : "entropy must be 32 to 512 bytes");
      return; /* no hello: the host falls back to a cold boot */
    }
  struct timespec now = { realtime_us / G_USEC_PER_SEC, (realtime_us % G_USEC_PER_SEC) * 1000 };
  if (clock_settime (CLOCK_REALTIME, &now) < 0)
    fprintf (stderr, "sandbox-agent: thaw: set the clock: %s\n", g_strerror (errno));
  if (sethostname (hostname, strlen (hostname)) < 0)
    fprintf (stderr, "sandbox-agent: thaw: sethostname %s: %s\n", hostname, g_strerror (errno));
  /* Its network (and /etc/hosts with its name), before anything runs. */
  const char *net = NULL, *dns = NULL, *mac = NULL;
  if (!json_field_string (msg, "net", FALSE, &net, &error)
      || !json_field_string (msg, "dns", FALSE, &dns, &error)
      || !json_field_string (msg, "mac", FALSE, &mac, &error)
      || !agent_net_thaw (net, dns, mac, &error))
    {
      fprintf (stderr, "sandbox-agent: thaw: %s\n", error->message);
      return; /* no hello: the host boots it cold */
    }
  agent_port_new_session (TRUE);
}
