#include "proc-stat.h"

#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

gboolean
proc_stat_read (GPid pid, char *state, guint64 *start_time)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  if (pid <= 0 || !g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;
  /* Fields are counted after the command name's closing parenthesis (the
   * name may hold spaces and parentheses itself). */
  const char *end = strrchr (stat, ')');
  if (end == NULL || end[1] != ' ' || end[2] == '\0')
    return FALSE;
  if (state)
    *state = end[2];
  if (start_time)
    {
      g_auto (GStrv) f = g_strsplit (end + 2, " ", 0);
      *start_time = g_strv_length (f) > 19 ? g_ascii_strtoull (f[19], NULL, 10) : 0;
    }
  return TRUE;
}

guint64
proc_stat_start_time (GPid pid)
{
  guint64 t = 0;
  return proc_stat_read (pid, NULL, &t) ? t : 0;
}

int
proc_stat_pidfd (GPid pid, guint64 start_time)
{
  if (pid <= 0 || start_time == 0 || proc_stat_start_time (pid) != start_time)
    return -1;
  int fd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (fd >= 0 && proc_stat_start_time (pid) != start_time)
    {
      close (fd);
      return -1;
    }
  return fd;
}
