#include "qemu-argv.h"

#include "agent-protocol.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>

static void
add (GPtrArray *a, ...)
{
  va_list ap;
  va_start (ap, a);
  const char *s;
  while ((s = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (a, g_strdup (s));
  va_end (ap);
}

static void G_GNUC_PRINTF (2, 3) addf (GPtrArray *a, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_ptr_array_add (a, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

GStrv
qemu_build_argv (const QemuConfig *cfg)
{
  GPtrArray *a = g_ptr_array_new ();
  g_autofree char *qmp = g_build_filename (cfg->dir, QEMU_QMP_SOCKET, NULL);
  g_autofree char *agent = g_build_filename (cfg->dir, QEMU_AGENT_SOCKET, NULL);
  g_autofree char *console = g_build_filename (cfg->dir, QEMU_CONSOLE_SOCKET, NULL);
  gboolean kvm = cfg->kvm;

  /* pit/pic/rtc: without them a TCG guest can wait for a timer forever. */
  add (a, cfg->qemu, "-M", NULL);
  addf (a, "microvm,pit=on,pic=on,rtc=on%s",
        cfg->ram_path || cfg->n_volumes ? ",memory-backend=ram" : "");
  /* TCG's code cache is memory QEMU keeps: a boot translates ~48 MiB into
   * QEMU's default 1 GiB and holds it while idle. A full cache is flushed
   * and filled again: at 32 MiB that cost a boot nothing measurable, at
   * 16 MiB 13 %. */
  add (a, "-accel", NULL);
  if (kvm || !cfg->tcg_cache_mb)
    add (a, kvm ? "kvm" : "tcg", NULL);
  else
    addf (a, "tcg,tb-size=%u", cfg->tcg_cache_mb);
  add (a, "-cpu", kvm ? "host" : "max", NULL);
  if (cfg->ram_path)
    {
      add (a, "-object", NULL);
      addf (a, "memory-backend-file,id=ram,size=%uM,mem-path=%s,share=%s", cfg->memory_mb,
            cfg->ram_path, cfg->ram_shared ? "on" : "off");
    }
  else if (cfg->n_volumes)
    {
      add (a, "-object", NULL);
      addf (a, "memory-backend-memfd,id=ram,size=%uM,share=on", cfg->memory_mb);
      add (a, "-global", "virtio-mmio.force-legacy=false", NULL);
    }
  /* Names the sandbox in ps (QEMU never opens this path); "," doubled. */
  g_auto (GStrv) parts = g_strsplit (cfg->label, ",", -1);
  g_autofree char *label = g_strjoinv (",,", parts);
  add (a, "-name", NULL);
  addf (a, "sandboxd:%s", label);
  add (a, "-m", NULL);
  addf (a, "%u", cfg->memory_mb);
  add (a, "-smp", NULL);
  addf (a, "%u", cfg->cpus);
  add (a, "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-kernel", cfg->kernel,
       "-initrd", cfg->initramfs, NULL);
  /* QEMU's own filter, inside ours: no obsolete calls, no setuid, no fork
   * or exec, no scheduler or affinity changes. */
  if (cfg->policy && cfg->policy->qemu_sandbox)
    add (a, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
         NULL);

  /* Under TCG the kernel cannot calibrate the TSC against the PIT reliably
   * (about one boot in five hangs); tell it the rate instead. */
  /* sandboxd.hostname is read by the agent (names are [A-Za-z0-9._-]). */
  g_autofree char *tsc
      = !kvm && cfg->tsc_khz ? g_strdup_printf (" tsc_early_khz=%u", cfg->tsc_khz) : g_strdup ("");
  /* lockdown: the guest's kernel keeps its own memory from its root
   * (no /dev/mem, kcore, kprobes or unsigned modules), and tracefs, with
   * its ten thousand inodes (~10 MiB), is never set up. */
  add (a, "-append", NULL);
  addf (a, "console=ttyS0 quiet panic=-1 lockdown=confidentiality%s%s sandboxd.hostname=%s%s%s",
        tsc, cfg->template_build ? " init_on_free=1" : "", cfg->hostname,
        cfg->net_fd > 0 && cfg->net_args ? cfg->net_args : "",
        cfg->n_volumes && cfg->volume_args ? cfg->volume_args : "");

  /* The daemon reads the console and keeps it (capped) where QEMU cannot
   * write; unread while no daemon is connected, it is dropped. */
  add (a, "-chardev", NULL);
  addf (a, "socket,id=console,path=%s,server=on,wait=off", console);
  add (a, "-serial", "chardev:console", "-qmp", NULL);
  addf (a, "unix:%s,server=on,wait=off", qmp);

  /* Disks come and go on this controller (hot-plugged over QMP). */
  add (a, "-device", "virtio-scsi-device,id=scsi0", NULL);
  if (cfg->disk_node)
    {
      add (a, "-add-fd", NULL);
      addf (a, "fd=%d,set=%" G_GINT64_FORMAT, cfg->disk_fd, cfg->disk_fdset);
      add (a, "-blockdev", NULL);
      addf (a,
            "driver=raw,node-name=%s,read-only=on,file.driver=file,"
            "file.filename=/dev/fdset/%" G_GINT64_FORMAT,
            cfg->disk_node, cfg->disk_fdset);
      add (a, "-device", NULL);
      addf (a, "scsi-hd,bus=" QEMU_SCSI_BUS ",scsi-id=%u,lun=0,drive=%s,id=dev-%s",
            cfg->disk_scsi_id, cfg->disk_node, cfg->disk_node);
    }

  if (cfg->net_fd > 0)
    {
      add (a, "-netdev", NULL);
      if (cfg->net_tap)
        addf (a, "tap,id=net0,fd=%d", cfg->net_fd);
      else
        addf (a, "stream,id=net0,server=off,addr.type=fd,addr.str=%d", cfg->net_fd);
      add (a, "-device", NULL);
      addf (a, "virtio-net-device,netdev=net0%s%s", cfg->net_mac ? ",mac=" : "",
            cfg->net_mac ? cfg->net_mac : "");
    }

  for (guint i = 0; i < cfg->n_volumes; i++)
    {
      add (a, "-chardev", NULL);
      addf (a, "socket,id=%s,fd=%d", cfg->volume_tags[i], cfg->volume_fds[i]);
      add (a, "-device", NULL);
      addf (a, "vhost-user-fs-device,chardev=%s,tag=%s", cfg->volume_tags[i], cfg->volume_tags[i]);
    }

  /* Free page reporting: the guest hands back what it frees (2 MiB at a
   * time), and QEMU drops it from its RSS. Cold boots only: a template's
   * devices must be its clones', and a clone's RAM is a private mapping of
   * the template's file, where a dropped page would come back as the
   * template's, not as the zeroes its guest (init_on_free) counts on. */
  if (!cfg->incoming && !cfg->template_build && !cfg->ram_path)
    add (a, "-device", "virtio-balloon-device,free-page-reporting=on", NULL);

  /* QEMU serves the agent socket, so the daemon can reconnect to it. */
  add (a, "-device", "virtio-serial-device", "-chardev", NULL);
  addf (a, "socket,id=agent,path=%s,server=on,wait=off", agent);
  add (a, "-device", "virtserialport,chardev=agent,name=" AGENT_PORT_NAME, NULL);
  if (cfg->incoming)
    add (a, "-incoming", "defer", NULL);
  g_ptr_array_add (a, NULL);
  return (GStrv) g_ptr_array_free (a, FALSE);
}

/* Options QEMU also takes from a config file, as its group and key: what
 * they say (a guest's size, its name and address on its kernel's command
 * line) is no one else's, and any local user can read a command line. */
static const struct
{
  const char *option, *group, *key, *suffix;
} private_options[] = {
  { "-m", "memory", "size", "M" },
  { "-smp", "smp-opts", "cpus", "" },
  { "-append", "machine", "append", "" },
};

GStrv
qemu_argv_private (GStrv argv, const char *path, char **config, GError **error)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) text = g_string_new ("# sandboxd: what ps must not show\n");
  g_ptr_array_add (a, g_strdup (argv[0]));
  g_ptr_array_add (a, g_strdup ("-readconfig"));
  g_ptr_array_add (a, g_strdup (path));
  for (guint i = 1; argv[i]; i++)
    {
      guint k = 0;
      while (k < G_N_ELEMENTS (private_options)
             && !g_str_equal (argv[i], private_options[k].option))
        k++;
      if (k == G_N_ELEMENTS (private_options) || argv[i + 1] == NULL)
        {
          g_ptr_array_add (a, g_strdup (argv[i]));
          continue;
        }
      /* QEMU reads a value up to its first quote, 1023 bytes at most. */
      const char *value = argv[++i];
      if (strchr (value, '"') || strchr (value, '\n') || strlen (value) > 1000)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "QEMU's %s cannot go in its config file (a quote, a newline, or over "
                       "1000 bytes)",
                       private_options[k].option);
          g_ptr_array_free (a, TRUE);
          return NULL;
        }
      g_string_append_printf (text, "[%s]\n  %s = \"%s%s\"\n", private_options[k].group,
                              private_options[k].key, value, private_options[k].suffix);
    }
  g_ptr_array_add (a, NULL);
  *config = g_string_free (g_steal_pointer (&text), FALSE);
  return (GStrv) g_ptr_array_free (a, FALSE);
}
