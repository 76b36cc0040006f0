/* A hostile guest agent for vm-hostile.sh: PID 1's stand-in, libc only (it
 * runs from the test's initramfs overlay). It speaks the agent protocol
 * well enough to be trusted (hello, then "started" for the first exec),
 * then breaks it in the way argv[1] names:
 *   flood   64 MiB of stdout at once, ignoring flow control
 *   replay  a "replay" message outside a new session's start
 *   deaf    nothing: it never reads its port again
 * and then sleeps. argv[2] is the agent port's device. */
#include "agent-protocol-version.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERSION_TEXT_(n) #n
#define VERSION_TEXT(n) VERSION_TEXT_ (n)

#define MAX_PAYLOAD 65536

static int port;

static void
write_all (const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = write (port, p, len);
      if (n <= 0)
        {
          perror ("hostile-agent: write");
          exit (1);
        }
      p += n;
      len -= (size_t) n;
    }
}

static void
send_frame (uint8_t type, uint32_t stream, const void *payload, uint32_t len)
{
  uint8_t header[12] = { type, 0, 0, 0 };
  uint32_t be_stream = htonl (stream), be_len = htonl (len);
  memcpy (header + 4, &be_stream, 4);
  memcpy (header + 8, &be_len, 4);
  write_all (header, sizeof header);
  write_all (payload, len);
}

static void
send_control (const char *json)
{
  send_frame (1, 0, json, (uint32_t) strlen (json));
}

static void
read_all (void *data, size_t len)
{
  char *p = data;
  while (len > 0)
    {
      ssize_t n = read (port, p, len);
      if (n <= 0)
        {
          usleep (10000); /* the host is away (HUP) */
          continue;
        }
      p += n;
      len -= (size_t) n;
    }
}

/* The id of the first "exec" the host sends. */
static long
wait_for_exec (void)
{
  static char payload[MAX_PAYLOAD + 1];
  for (;;)
    {
      uint8_t header[12];
      uint32_t len;
      read_all (header, sizeof header);
      memcpy (&len, header + 8, 4);
      len = ntohl (len);
      if (len > MAX_PAYLOAD)
        exit (2);
      read_all (payload, len);
      payload[len] = '\0';
      const char *id = strstr (payload, "\"id\":");
      if (header[0] == 1 && strstr (payload, "\"type\":\"exec\"") && id)
        return strtol (id + 5, NULL, 10);
    }
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    return 2;
  port = open (argv[2], O_RDWR);
  if (port < 0)
    {
      perror (argv[2]);
      return 1;
    }
  /* The host has connected when the port stops reporting HUP. */
  for (;;)
    {
      struct pollfd p = { .fd = port, .events = POLLIN | POLLOUT };
      if (poll (&p, 1, 0) >= 0 && !(p.revents & POLLHUP))
        break;
      usleep (10000);
    }
  send_control ("{\"type\":\"hello\",\"protocol\":" VERSION_TEXT (
      AGENT_PROTOCOL_VERSION) ",\"agent_version\":\"hostile\","
                              "\"kernel_release\":\"hostile\",\"uptime_ms\":1}");
  long id = wait_for_exec ();
  char msg[256];
  snprintf (msg, sizeof msg, "{\"type\":\"started\",\"id\":%ld,\"pid\":2}", id);
  send_control (msg);
  if (strcmp (argv[1], "flood") == 0)
    {
      static char chunk[MAX_PAYLOAD];
      memset (chunk, 'x', sizeof chunk);
      for (int i = 0; i < 1024; i++)
        send_frame (3, (uint32_t) id, chunk, sizeof chunk);
    }
  else if (strcmp (argv[1], "replay") == 0)
    {
      snprintf (msg, sizeof msg,
                "{\"type\":\"replay\",\"id\":%ld,\"pid\":2,\"stdout\":0,\"stderr\":0,"
                "\"stdin_received\":0,\"stdin_written\":0}",
                id);
      send_control (msg);
    }
  for (;;)
    pause ();
}
