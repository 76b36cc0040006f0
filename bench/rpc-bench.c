/* rpc-bench: calls per second over nanomsg REQ/REP, for bench/run.sh.
 *   rpc-bench echo ADDRESS                       a raw REP server that echoes
 *   rpc-bench call ADDRESS THREADS SECONDS JSON  REQ clients in a loop
 * "call" prints the number of calls answered per second. Run against
 * sandboxd with a System.Version request, and against "echo" with the same
 * bytes: the baseline is nanomsg itself. */
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *address, *request;
static double seconds;

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
client (void *data)
{
  long *count = data;
  int s = nn_socket (AF_SP, NN_REQ);
  int timeout = 10000;
  nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof timeout);
  nn_connect (s, address);
  double end = now () + seconds;
  while (now () < end)
    {
      void *buf = NULL;
      if (nn_send (s, request, strlen (request), 0) < 0 || nn_recv (s, &buf, NN_MSG, 0) < 0)
        {
          fprintf (stderr, "rpc-bench: %s\n", nn_strerror (nn_errno ()));
          exit (1);
        }
      nn_freemsg (buf);
      (*count)++;
    }
  nn_close (s);
  return NULL;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "echo") == 0)
    {
      /* Raw REP (AF_SP_RAW) answers many REQ clients at once, as sandboxd does. */
      int s = nn_socket (AF_SP_RAW, NN_REP);
      if (s < 0 || nn_bind (s, argv[2]) < 0)
        {
          fprintf (stderr, "rpc-bench: %s\n", nn_strerror (nn_errno ()));
          return 1;
        }
      for (;;)
        {
          struct nn_msghdr hdr = { 0 };
          struct nn_iovec iov;
          void *body = NULL, *ctrl = NULL;
          iov.iov_base = &body;
          iov.iov_len = NN_MSG;
          hdr.msg_iov = &iov;
          hdr.msg_iovlen = 1;
          hdr.msg_control = &ctrl;
          hdr.msg_controllen = NN_MSG;
          int n = nn_recvmsg (s, &hdr, 0);
          if (n < 0)
            continue;
          iov.iov_len = NN_MSG;
          nn_sendmsg (s, &hdr, 0);
        }
    }
  if (argc != 6 || strcmp (argv[1], "call") != 0)
    {
      fprintf (stderr,
               "usage: rpc-bench echo ADDRESS | rpc-bench call ADDRESS THREADS SECONDS JSON\n");
      return 2;
    }
  address = argv[2];
  int threads = atoi (argv[3]);
  seconds = atof (argv[4]);
  request = argv[5];
  pthread_t t[256];
  long counts[256] = { 0 };
  if (threads < 1 || threads > 256)
    return 2;
  for (int i = 0; i < threads; i++)
    pthread_create (&t[i], NULL, client, &counts[i]);
  long total = 0;
  for (int i = 0; i < threads; i++)
    {
      pthread_join (t[i], NULL);
      total += counts[i];
    }
  printf ("%.0f\n", total / seconds);
  return 0;
}
