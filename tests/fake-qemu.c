/* fake-qemu: stands in for qemu-system-x86_64 in tests/sandbox-states.sh,
 * so the sandbox state machine can be driven through every transition in
 * seconds and without a VM, including what a real QEMU cannot be made to
 * do on cue: never boot, die mid-run, ignore the power button or quit.
 *
 * It serves the sockets sandboxd's command line names (-qmp unix:P, the
 * agent and console chardevs), answers QMP commands, and speaks just
 * enough of the agent protocol to say hello. Its behaviour comes from the
 * sandbox's name (sandboxd.hostname= in the kernel command line of its
 * -readconfig file):
 *   ok-*     hello; power button: exits 0 soon after; quit: exits 0
 *   deaf-*   hello; ignores the power button and quit (killed at last)
 *   late-*   as deaf-*, but greets on QMP only 0.5 s after the hello
 *   mute-*   never says hello (the boot watchdog fails it)
 *   crash-*  exits 1 while booting
 *   die-*    hello, then exits 3 a moment later
 *   chatty-* as ok-*, after writing 8 MiB to its stderr (qemu.log)
 *   noisy-*  hello, then 2,000 messages of an unknown type 60 KB long
 *            (with a terminal escape in it), as a guest flooding the log
 *   flood-*  hello; once the daemon sends the agent anything, reports
 *            process 1 started and then its exit, again and again, and
 *            never reads the agent port again (each report is acknowledged)
 *   orphan-* SIGKILLs its parent, sandboxd, the moment it starts, and then
 *            serves on (its policy must allow kill and getppid)
 * libc only, so QEMU's seccomp allow-list admits it. */
#include "agent-protocol-version.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VERSION_TEXT_(n) #n
#define VERSION_TEXT(n) VERSION_TEXT_ (n)

#define MAX_FDS 16

#define QMP_GREETING                                                                               \
  "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}}, "               \
  "\"capabilities\": []}}\r\n"

static int
listen_on (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strncpy (addr.sun_path, path, sizeof addr.sun_path - 1);
  unlink (path);
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 4) < 0)
    {
      perror (path);
      exit (1);
    }
  return fd;
}

/* "unix:/p,server=on,..." or "socket,id=x,path=/p,..." -> "/p" */
static char *
socket_path (const char *spec, const char *key)
{
  const char *p = strstr (spec, key);
  if (p == NULL)
    return NULL;
  p += strlen (key);
  return strndup (p, strcspn (p, ","));
}

static void
write_all (int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n <= 0)
        return;
      p += n;
      len -= (size_t) n;
    }
}

static void
send_control (int fd, const char *json)
{
  unsigned char header[12] = { 1, 0, 0, 0 };
  uint32_t len = htonl ((uint32_t) strlen (json));
  memcpy (header + 8, &len, 4);
  write_all (fd, header, sizeof header);
  write_all (fd, json, strlen (json));
}

static void
send_hello (int fd)
{
  const char *json = "{\"type\":\"hello\",\"protocol\":" VERSION_TEXT (
      AGENT_PROTOCOL_VERSION) ",\"agent_version\":\"fake\","
                              "\"kernel_release\":\"fake\",\"uptime_ms\":1}";
  send_control (fd, json);
}

static void
send_noise (int fd)
{
  static char json[61500];
  int len = snprintf (json, sizeof json, "{\"type\":\"\\u001b[2J");
  memset (json + len, 'A', 60000);
  snprintf (json + len + 60000, sizeof json - (size_t) len - 60000, "\"}");
  for (int i = 0; i < 2000; i++)
    send_control (fd, json);
}

/* The sandbox's name, as its guest's kernel would get it: on the command
 * line QEMU reads from its -readconfig file. */
static const char *
config_hostname (const char *path, const char *fallback)
{
  static char text[4096];
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return fallback;
  size_t len = fread (text, 1, sizeof text - 1, f);
  fclose (f);
  text[len] = 0;
  char *at = strstr (text, "sandboxd.hostname=");
  if (at == NULL)
    return fallback;
  at += strlen ("sandboxd.hostname=");
  at[strcspn (at, " \"")] = 0;
  return at;
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  const char *qmp = NULL, *agent = NULL, *console = NULL, *name = "ok-";
  for (int i = 1; i + 1 < argc; i++)
    {
      if (strcmp (argv[i], "-qmp") == 0)
        qmp = socket_path (argv[i + 1], "unix:");
      else if (strcmp (argv[i], "-chardev") == 0 && strstr (argv[i + 1], "id=agent"))
        agent = socket_path (argv[i + 1], "path=");
      else if (strcmp (argv[i], "-chardev") == 0 && strstr (argv[i + 1], "id=console"))
        console = socket_path (argv[i + 1], "path=");
      else if (strcmp (argv[i], "-readconfig") == 0)
        name = config_hostname (argv[i + 1], name);
    }
  if (qmp == NULL || agent == NULL || console == NULL)
    {
      fprintf (stderr, "fake-qemu: no -qmp, agent or console socket\n");
      return 2;
    }
  int late = strncmp (name, "late-", 5) == 0;
  int deaf = late || strncmp (name, "deaf-", 5) == 0, mute = strncmp (name, "mute-", 5) == 0;
  int flood = strncmp (name, "flood-", 6) == 0, flood_fd = -1;
  struct pollfd fds[MAX_FDS];
  int kinds[MAX_FDS]; /* 0 QMP listener, 1 agent listener, 2 console listener, 3 QMP, 4 console,
                       * 5 agent */
  int n = 0;
  const char *paths[] = { qmp, agent, console };
  for (int k = 0; k < 3; k++)
    {
      fds[n] = (struct pollfd){ .fd = listen_on (paths[k]), .events = POLLIN };
      kinds[n++] = k;
    }
  if (strncmp (name, "orphan-", 7) == 0)
    kill (getppid (), SIGKILL);
  if (strncmp (name, "chatty-", 7) == 0)
    {
      /* 8 MiB on stderr, as a QEMU a guest makes complain without end. */
      static char line[1024];
      memset (line, 'w', sizeof line - 1);
      line[sizeof line - 1] = '\n';
      for (int i = 0; i < 8192; i++)
        (void) !write (2, line, sizeof line);
    }
  if (strncmp (name, "crash-", 6) == 0)
    {
      usleep (200 * 1000);
      fprintf (stderr, "fake-qemu: crashing while booting, as asked\n");
      return 1;
    }
  double exit_at = 0, greet_at = 0;
  int exit_code = 0, greet_fd = -1;
  char buf[65536];
  for (;;)
    {
      if (exit_at > 0 && now () >= exit_at)
        return exit_code;
      if (greet_fd >= 0 && now () >= greet_at)
        {
          write_all (greet_fd, QMP_GREETING, strlen (QMP_GREETING));
          greet_fd = -1;
        }
      for (int k = 0; flood_fd >= 0 && k < 64; k++)
        send_control (flood_fd, "{\"type\":\"exit\",\"id\":1,\"exit_code\":0}");
      if (poll (fds, (nfds_t) n, flood_fd >= 0 ? 1 : 50) < 0 && errno != EINTR)
        return 1;
      for (int i = 0; i < n; i++)
        {
          if (!(fds[i].revents & (POLLIN | POLLHUP)))
            continue;
          if (kinds[i] <= 2)
            {
              int c = accept4 (fds[i].fd, NULL, NULL, SOCK_CLOEXEC);
              if (c < 0 || n == MAX_FDS)
                continue;
              fds[n] = (struct pollfd){ .fd = c, .events = POLLIN };
              kinds[n++] = kinds[i] == 0 ? 3 : kinds[i] == 1 ? 5 : 4;
              if (kinds[i] == 0 && late)
                greet_fd = c, greet_at = now () + 0.5;
              else if (kinds[i] == 0)
                write_all (c, QMP_GREETING, strlen (QMP_GREETING));
              if (kinds[i] == 1 && !mute)
                {
                  send_hello (c);
                  if (strncmp (name, "noisy-", 6) == 0)
                    send_noise (c);
                  if (strncmp (name, "die-", 4) == 0)
                    exit_at = now () + 0.5, exit_code = 3;
                }
              continue;
            }
          ssize_t got = read (fds[i].fd, buf, sizeof buf - 1);
          if (got <= 0)
            {
              close (fds[i].fd);
              fds[i] = fds[--n];
              kinds[i] = kinds[n];
              i--;
              continue;
            }
          if (kinds[i] == 5 && flood && flood_fd < 0)
            {
              flood_fd = fds[i].fd;
              fds[i].events = 0; /* never read again */
              send_control (flood_fd, "{\"type\":\"started\",\"id\":1,\"pid\":7}");
            }
          if (kinds[i] != 3)
            continue; /* what the daemon sends the agent or the console */
          buf[got] = '\0';
          /* A command a line; the reply names its id ("id": "N"). */
          for (char *line = strtok (buf, "\n"); line; line = strtok (NULL, "\n"))
            {
              if (strstr (line, "\"execute\"") == NULL)
                continue;
              char *id = strstr (line, "\"id\"");
              char reply[256];
              int len = id ? snprintf (reply, sizeof reply, "{\"return\": {}, %.*s}\r\n",
                                       (int) strcspn (id, "}"), id)
                           : snprintf (reply, sizeof reply, "{\"return\": {}}\r\n");
              write_all (fds[i].fd, reply, (size_t) len);
              if (deaf)
                continue;
              if (strstr (line, "\"quit\""))
                return 0;
              if (strstr (line, "\"system_powerdown\""))
                exit_at = now () + 0.3, exit_code = 0;
            }
        }
    }
}
