/* runtime-exec.c — exec and ps: another process in the container, and
 * ps(1) in it. */
#include "config.h"
#include "json-fields.h"
#include "runtime.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* runc exec: a process in a running container. --process gives it as
 * config.json's process object (what podman exec writes); else the
 * command line. The pid in --pid-file is its host process; with
 * --detach we return once it runs, else we wait and exit with its status. */
int
cmd_exec (int argc, char **argv)
{
  g_autofree char *process = NULL, *pid_file = NULL, *console_socket = NULL, *cwd = NULL;
  g_autofree char *user = NULL;
  g_auto (GStrv) env = NULL;
  g_auto (GStrv) groups = NULL;
  g_auto (GStrv) caps = NULL;
  gboolean detach = FALSE, tty = FALSE;
  GOptionEntry entries[] = {
    { "process", 'p', 0, G_OPTION_ARG_FILENAME, &process, "The process, as JSON", "FILE" },
    { "pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file, "Write its pid here", "FILE" },
    { "console-socket", 0, 0, G_OPTION_ARG_FILENAME, &console_socket,
      "Send its terminal's master here", "PATH" },
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &detach, "Return once it runs", NULL },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &tty, "A terminal", NULL },
    { "cwd", 0, 0, G_OPTION_ARG_STRING, &cwd, "Its working directory", "DIR" },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, "An environment variable", "K=V" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, "UID[:GID]", "UID[:GID]" },
    { "additional-gids", 'g', 0, G_OPTION_ARG_STRING_ARRAY, &groups,
      "A supplementary group (repeatable)", "GID" },
    { "cap", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &caps,
      "A capability beyond the container's (repeatable)", "CAP" },
    { NULL },
  };
  int code = 1;
  g_autoptr (GError) error = NULL;
  if (!parse_options ("exec", "ID [COMMAND...]", entries, &argc, &argv, &code))
    return code;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "exec", &code);
  if (s == NULL)
    return code;
  /* A created container is there in its VM already (its own process
   * waits for start): exec runs beside it, as runc's does. */
  const char *state = oci_state_status (s);
  if (!g_str_equal (state, "running") && !g_str_equal (state, "created"))
    return fail ("exec: container %s is %s, not created or running", s->id, state);
  /* exec ID -- CMD: the "--" only ends options. */
  int first = argc > 2 && g_str_equal (argv[2], "--") ? 3 : 2;
  g_auto (GStrv) args = argc > first ? g_strdupv (argv + first) : NULL;
  g_autofree char *user_text = g_strdup (user);
  const char *dir = cwd;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (process)
    {
      JsonObject *p = NULL, *u = NULL;
      g_autofree char *text = NULL;
      if (!g_file_get_contents (process, &text, NULL, &error)
          || !json_text_check_depth (text, -1, JSON_MAX_DEPTH, &error)
          || !json_parser_load_from_data (parser, text, -1, &error))
        return fail ("exec: %s", error->message);
      JsonNode *top = json_parser_get_root (parser);
      p = top && JSON_NODE_HOLDS_OBJECT (top) ? json_node_get_object (top) : NULL;
      g_clear_pointer (&args, g_strfreev);
      g_clear_pointer (&env, g_strfreev);
      if (p == NULL || !json_field_strv (p, "args", TRUE, &args, &error)
          || !json_field_strv (p, "env", FALSE, &env, &error)
          || !json_field_string (p, "cwd", FALSE, &dir, &error)
          || !json_field_bool (p, "terminal", FALSE, &tty, &error)
          || !json_field_object (p, "user", FALSE, &u, &error))
        return fail ("exec: %s: %s", process, error ? error->message : "not a JSON object");
      if (u)
        {
          g_free (user_text);
          user_text = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                                       json_object_get_int_member_with_default (u, "uid", 0),
                                       json_object_get_int_member_with_default (u, "gid", 0));
          /* user.additionalGids: its groups instead of the container's. */
          JsonNode *gn = json_object_get_member (u, "additionalGids");
          JsonArray *gids = gn && JSON_NODE_HOLDS_ARRAY (gn) ? json_node_get_array (gn) : NULL;
          if (gids)
            {
              g_strfreev (groups);
              groups = g_new0 (char *, json_array_get_length (gids) + 1);
              for (guint i = 0; i < json_array_get_length (gids); i++)
                {
                  JsonNode *g = json_array_get_element (gids, i);
                  if (!JSON_NODE_HOLDS_VALUE (g) || json_node_get_value_type (g) != G_TYPE_INT64)
                    return fail ("exec: %s: user.additionalGids[%u] is not a group id", process, i);
                  groups[i] = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (g));
                }
            }
        }
    }
  if (args == NULL || args[0] == NULL)
    return fail ("exec: no command given");
  if (console_socket && !tty)
    return fail ("exec: --console-socket is for a terminal (-t, or process.terminal)");
  if (tty && !console_socket && detach)
    return fail ("exec: a terminal with --detach needs --console-socket (nobody would hold it)");
  g_autofree char *sandboxctl = find_sandboxctl ();
  if (sandboxctl == NULL)
    return fail ("exec: sandboxctl is not installed beside sandbox-runtime");
  /* --process is the whole process: its env replaces the container's
   * (runc's rule); -e adds to it. */
  g_auto (GStrv) xargv = exec_argv (sandboxctl, s->name,
                                    &(HostExec){ .args = args,
                                                 .terminal = tty,
                                                 .env = env,
                                                 .env_only = process != NULL,
                                                 .cwd = dir,
                                                 .user = user_text,
                                                 .groups = groups,
                                                 .caps = caps });
  /* -t without a console socket: the caller's own terminal, as runc's
   * (sandboxctl exec -t puts it in raw mode; without one it says so). */
  if (tty && !console_socket)
    {
      if (pid_file && !write_pid_file (pid_file, getpid (), &error))
        return fail ("exec: %s", error->message);
      execv (xargv[0], xargv);
      return fail ("exec: %s: %s", xargv[0], g_strerror (errno));
    }
  int console = console_socket ? send_console (console_socket, &error) : -1;
  if (console_socket && console < 0)
    return fail ("exec: %s", error->message);
  GPid pid = fork ();
  if (pid == 0)
    host_process (NULL, console, xargv);
  if (console >= 0)
    close (console);
  if (pid < 0)
    return fail ("exec: fork: %s", g_strerror (errno));
  if (pid_file && !write_pid_file (pid_file, pid, &error))
    {
      kill (pid, SIGKILL);
      return fail ("exec: %s", error->message);
    }
  if (detach)
    return 0;
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* The container's host processes (its processes run in the VM, not here). */
int
cmd_ps (int argc, char **argv)
{
  g_autofree char *format = NULL;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "table or json", "FORMAT" },
    { NULL },
  };
  int code = 1;
  if (!parse_options ("ps", "ID [-- PS-ARGS...]", entries, &argc, &argv, &code))
    return code;
  g_autoptr (OciState) s = load_or_fail (argc, argv, "ps", &code);
  if (s == NULL)
    return code;
  gboolean alive = !g_str_equal (oci_state_status (s), "stopped");
  /* JSON: pids a caller may signal on this host, so the host process's
   * (the container's processes have guest pids, in another kernel). */
  if (format && g_str_equal (format, "json"))
    {
      printf (alive ? "[%d]\n" : "[]\n", (int) s->pid);
      return 0;
    }
  if (format && !g_str_equal (format, "table"))
    return fail ("ps: --format %s: table or json", format);
  if (!alive)
    {
      printf ("PID\n");
      return 0;
    }
  /* The table: ps(1) in the container, with the arguments after the id
   * (runc passes them to ps), default -ef. */
  int first = argc > 2 && g_str_equal (argv[2], "--") ? 3 : 2;
  g_autoptr (GPtrArray) ps = g_ptr_array_new ();
  g_ptr_array_add (ps, (gpointer) "ps");
  if (argc > first)
    for (int i = first; i < argc; i++)
      g_ptr_array_add (ps, argv[i]);
  else
    g_ptr_array_add (ps, (gpointer) "-ef");
  g_ptr_array_add (ps, NULL);
  g_autofree char *sandboxctl = find_sandboxctl ();
  if (sandboxctl == NULL)
    return fail ("ps: sandboxctl is not installed beside sandbox-runtime");
  g_auto (GStrv) xargv
      = exec_argv (sandboxctl, s->name, &(HostExec){ .args = (char **) ps->pdata });
  g_autoptr (GError) error = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, xargv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL,
                     &status, &error))
    return fail ("ps: %s", error->message);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    return fail ("ps: the container %s has no ps(1) to list its processes", s->id);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 1;
}
