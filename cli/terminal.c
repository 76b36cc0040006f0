/* terminal.c — sandboxctl's own terminal while a process runs with -t:
 * raw mode (every key goes to the guest's terminal, Ctrl-C included, as
 * bytes), restored on every way out (exit, a fatal signal), its size, and
 * docker's detach keys. */
#include "cli.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_P 0x10
#define CTRL_Q 0x11

static struct termios saved;
static volatile sig_atomic_t is_raw;

static void
restore (void)
{
  if (is_raw)
    {
      tcsetattr (STDIN_FILENO, TCSADRAIN, &saved);
      is_raw = 0;
    }
}

static void
on_fatal (int sig)
{
  restore ();
  signal (sig, SIG_DFL);
  raise (sig);
}

gboolean
cli_terminal_available (void)
{
  return isatty (STDIN_FILENO) == 1;
}

void
cli_terminal_size (guint *rows, guint *cols)
{
  struct winsize ws = { 0 };
  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
    ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
  *rows = ws.ws_row;
  *cols = ws.ws_col;
}

gboolean
cli_terminal_onlcr (void)
{
  struct termios t;
  if (is_raw)
    t = saved;
  else if (tcgetattr (STDIN_FILENO, &t) < 0)
    return TRUE;
  return (t.c_oflag & OPOST) && (t.c_oflag & ONLCR);
}

gboolean
cli_terminal_raw (void)
{
  if (tcgetattr (STDIN_FILENO, &saved) < 0)
    return FALSE;
  struct termios raw = saved;
  cfmakeraw (&raw);
  atexit (restore);
  int fatal[] = { SIGABRT, SIGSEGV, SIGBUS, SIGQUIT, SIGFPE };
  for (gsize i = 0; i < G_N_ELEMENTS (fatal); i++)
    signal (fatal[i], on_fatal);
  if (tcsetattr (STDIN_FILENO, TCSADRAIN, &raw) < 0)
    return FALSE;
  is_raw = 1;
  return TRUE;
}

void
cli_terminal_restore (void)
{
  restore ();
}

gsize
cli_terminal_scan_detach (const guint8 *buf, gsize len, gboolean *held, gboolean *detach)
{
  *detach = FALSE;
  for (gsize i = 0; i + 1 < len; i++)
    if (buf[i] == CTRL_P && buf[i + 1] == CTRL_Q)
      {
        *detach = TRUE;
        return i;
      }
  /* A Ctrl-P at the end waits for what follows. */
  *held = len > 0 && buf[len - 1] == CTRL_P;
  return *held ? len - 1 : len;
}
