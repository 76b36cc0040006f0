/* The QEMU command line of a sandbox, from a plain config: what each
 * setting puts there (no VM, no daemon). */
#include "network.h"
#include "qemu-argv.h"

#include <gio/gio.h>
#include <string.h>

/* The argument after @opt whose value starts with @prefix (there may be
 * several -device or -chardev), or NULL. */
static const char *
arg_after (GStrv argv, const char *opt, const char *prefix)
{
  for (int i = 0; argv[i] && argv[i + 1]; i++)
    if (g_str_equal (argv[i], opt) && g_str_has_prefix (argv[i + 1], prefix))
      return argv[i + 1];
  return NULL;
}

static QemuConfig
base_config (Policy *policy)
{
  return (QemuConfig){ .qemu = "/usr/bin/qemu-system-x86_64",
                       .tsc_khz = 2100000,
                       .id = "0123456789ab",
                       .dir = "/sb",
                       .memory_mb = 256,
                       .cpus = 2,
                       .policy = policy,
                       .hostname = "web",
                       .label = "/run/sandboxd/sb/a,b",
                       .kernel = "/boot/vmlinuz",
                       .initramfs = "/boot/initrd.img" };
}

static void
test_tcg (void)
{
  Policy policy = { .qemu_sandbox = TRUE };
  QemuConfig cfg = base_config (&policy);
  g_auto (GStrv) argv = qemu_build_argv (&cfg);
  g_assert_cmpstr (argv[0], ==, "/usr/bin/qemu-system-x86_64");
  g_assert_cmpstr (arg_after (argv, "-M", ""), ==, "microvm,pit=on,pic=on,rtc=on");
  g_assert_cmpstr (arg_after (argv, "-accel", ""), ==, "tcg");
  g_assert_cmpstr (arg_after (argv, "-cpu", ""), ==, "max");
  g_assert_cmpstr (arg_after (argv, "-m", ""), ==, "256");
  g_assert_cmpstr (arg_after (argv, "-smp", ""), ==, "2");
  /* ps shows the sandbox's directory; QEMU's option syntax doubles ",". */
  g_assert_cmpstr (arg_after (argv, "-name", ""), ==, "sandboxd:/run/sandboxd/sb/a,,b");
  const char *append = arg_after (argv, "-append", "");
  g_assert_nonnull (strstr (append, "tsc_early_khz=2100000"));
  g_assert_nonnull (strstr (append, "sandboxd.hostname=web"));
  g_assert_nonnull (strstr (append, "console=ttyS0"));
  g_assert_cmpstr (arg_after (argv, "-sandbox", ""), ==,
                   "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
  /* The sockets QEMU serves, in the sandbox's QEMU directory. */
  g_assert_cmpstr (arg_after (argv, "-qmp", ""), ==, "unix:/sb/qemu/qmp.sock,server=on,wait=off");
  g_assert_nonnull (arg_after (argv, "-chardev", "socket,id=agent,path=/sb/qemu/agent.sock,"));
  g_assert_nonnull (arg_after (argv, "-chardev", "socket,id=console,path=/sb/qemu/console.sock,"));
  g_assert_nonnull (arg_after (argv, "-device", "virtserialport,chardev=agent,name=org.sandboxd."));
  g_assert_nonnull (arg_after (argv, "-device", "virtio-scsi-device,id=scsi0"));
  /* No disk unless one is given. */
  g_assert_null (arg_after (argv, "-add-fd", ""));
  g_assert_null (arg_after (argv, "-blockdev", ""));
  /* A cold boot: no state to wait for, freed pages left as they are,
   * and handed back to the host by the balloon's free page reporting. */
  g_assert_null (arg_after (argv, "-incoming", ""));
  g_assert_null (strstr (append, "init_on_free"));
  g_assert_cmpstr (arg_after (argv, "-device", "virtio-balloon"), ==,
                   "virtio-balloon-device,free-page-reporting=on");
  /* The guest's kernel is locked down against its own root. */
  g_assert_nonnull (strstr (append, " lockdown=confidentiality"));
  /* TCG's code cache as configured; none given, QEMU's own. */
  cfg.tcg_cache_mb = 32;
  g_auto (GStrv) cached = qemu_build_argv (&cfg);
  g_assert_cmpstr (arg_after (cached, "-accel", ""), ==, "tcg,tb-size=32");
}

/* A template's build zeroes what its kernel frees; a clone waits for the
 * template's state; the machine is the same. */
static void
test_template_argv (void)
{
  Policy policy = { .qemu_sandbox = TRUE };
  QemuConfig cfg = base_config (&policy);
  cfg.template_build = TRUE;
  g_auto (GStrv) build = qemu_build_argv (&cfg);
  g_assert_nonnull (strstr (arg_after (build, "-append", ""), " init_on_free=1"));
  g_assert_null (arg_after (build, "-incoming", ""));
  cfg.template_build = FALSE;
  cfg.incoming = TRUE;
  g_auto (GStrv) clone = qemu_build_argv (&cfg);
  g_assert_cmpstr (arg_after (clone, "-incoming", ""), ==, "defer");
  g_assert_cmpstr (arg_after (clone, "-M", ""), ==, arg_after (build, "-M", ""));
  g_assert_cmpstr (arg_after (clone, "-m", ""), ==, arg_after (build, "-m", ""));
  /* No balloon in either: the devices must match, and a clone's RAM is
   * the template's file, where a page handed back is not a zero page. */
  g_assert_null (arg_after (build, "-device", "virtio-balloon"));
  g_assert_null (arg_after (clone, "-device", "virtio-balloon"));
  cfg.incoming = FALSE;
  cfg.ram_path = "/sb/fd/5";
  g_auto (GStrv) cold_on_file = qemu_build_argv (&cfg);
  g_assert_null (arg_after (cold_on_file, "-device", "virtio-balloon"));
}

static void
test_kvm_no_sandbox (void)
{
  Policy policy = { .qemu_sandbox = FALSE };
  QemuConfig cfg = base_config (&policy);
  cfg.kvm = TRUE;
  cfg.tcg_cache_mb = 32;
  g_auto (GStrv) argv = qemu_build_argv (&cfg);
  g_assert_cmpstr (arg_after (argv, "-accel", ""), ==, "kvm");
  g_assert_cmpstr (arg_after (argv, "-cpu", ""), ==, "host");
  /* kvm-clock needs no TSC rate; a policy without -sandbox gets none. */
  g_assert_null (strstr (arg_after (argv, "-append", ""), "tsc_early_khz"));
  g_assert_null (arg_after (argv, "-sandbox", ""));
}

static void
test_network_argv (void)
{
  Policy policy = { .qemu_sandbox = TRUE };
  QemuConfig cfg = base_config (&policy);
  cfg.net_fd = 14;
  cfg.net_mac = "52:54:00:12:34:56";
  cfg.net_args = " sandboxd.net=10.0.2.15/24,10.0.2.2,65520";
  g_auto (GStrv) argv = qemu_build_argv (&cfg);
  g_assert_cmpstr (arg_after (argv, "-netdev", ""), ==,
                   "stream,id=net0,server=off,addr.type=fd,addr.str=14");
  g_assert_cmpstr (arg_after (argv, "-device", "virtio-net"), ==,
                   "virtio-net-device,netdev=net0,mac=52:54:00:12:34:56");
  g_assert_nonnull (strstr (arg_after (argv, "-append", ""), "sandboxd.net=10.0.2.15/24"));
  cfg.net_tap = TRUE;
  g_auto (GStrv) tap = qemu_build_argv (&cfg);
  g_assert_cmpstr (arg_after (tap, "-netdev", ""), ==, "tap,id=net0,fd=14");
  /* Without a network: no NIC, nothing for the guest to configure. */
  QemuConfig none = base_config (&policy);
  none.net_args = " sandboxd.net=10.0.2.15/24,10.0.2.2,65520";
  g_auto (GStrv) plain = qemu_build_argv (&none);
  g_assert_null (arg_after (plain, "-netdev", ""));
  g_assert_null (strstr (arg_after (plain, "-append", ""), "sandboxd.net"));
}

/* network_new: docker's -p forms, and each bad one named. */
static void
test_network_parse (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_null (network_new (NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_null (network_new ("none", NULL, &error));
  g_assert_no_error (error);
  const char *ports[] = { "18080:80", "127.0.0.1:18081:81/tcp", "18082:53/udp", NULL };
  g_autoptr (Network) net = network_new (NULL, ports, &error);
  g_assert_no_error (error);
  g_assert_cmpint (net->mode, ==, NETWORK_USER);
  g_assert_cmpuint (net->ports->len, ==, 3);
  NetworkPort *p = &g_array_index (net->ports, NetworkPort, 1);
  g_assert_cmpstr (p->host_ip, ==, "127.0.0.1");
  g_assert_cmpuint (p->host_port, ==, 18081);
  g_assert_cmpuint (p->guest_port, ==, 81);
  g_assert_true (g_array_index (net->ports, NetworkPort, 2).udp);
  g_autofree char *args = network_kernel_args (net);
  g_assert_true (g_str_has_prefix (args, " sandboxd.net=10.0.2.15/24,10.0.2.2,65520"));
  /* Kept in state.json and read back the same. */
  JsonObject *o = network_to_json (net);
  g_autoptr (Network) back = network_from_json (o, &error);
  g_assert_no_error (error);
  JsonObject *o2 = network_to_json (back);
  g_autofree char *a = json_to_string (json_node_init_object (json_node_alloc (), o), FALSE);
  g_autofree char *b = json_to_string (json_node_init_object (json_node_alloc (), o2), FALSE);
  g_assert_cmpstr (a, ==, b);
  json_object_unref (o);
  json_object_unref (o2);
  g_autoptr (Network) ns = network_new ("ns:/run/netns/x", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ns->ns_path, ==, "/run/netns/x");

  const struct
  {
    const char *mode, *port, *want;
  } bad[] = {
    { "bridge", NULL, "network \"bridge\" is not none, user or ns:PATH" },
    { "ns:relative", NULL, "is not none, user or ns:PATH" },
    { "none", "18080:80", "ports are published by the user network only" },
    { NULL, "80", "is not [HOST_IP:]HOST_PORT:GUEST_PORT" },
    { NULL, "0:80", "host port \"0\" is not a number" },
    { NULL, "18080:70000", "guest port \"70000\" is not a number" },
    { NULL, "18080:80/sctp", "must be tcp or udp, not \"sctp\"" },
    { NULL, "1.2.3:18080:80", "\"1.2.3\" is not an IPv4 address" },
    { NULL, "443:443", "host port 443 is privileged" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      const char *one[] = { bad[i].port, NULL };
      g_autoptr (GError) e = NULL;
      g_assert_null (network_new (bad[i].mode, bad[i].port ? one : NULL, &e));
      g_assert_nonnull (e);
      if (!strstr (e->message, bad[i].want))
        g_error ("%s / %s: \"%s\" lacks \"%s\"", bad[i].mode, bad[i].port, e->message, bad[i].want);
    }
  const char *twice[] = { "18080:80", "18080:81", NULL };
  g_autoptr (GError) e = NULL;
  g_assert_null (network_new (NULL, twice, &e));
  g_assert_nonnull (strstr (e->message, "host port 18080/tcp is published twice"));
}

/* What ps shows of QEMU: neither the guest's size nor its name; they are
 * in the config QEMU reads, as its -m, -smp and -append would be. */
static void
test_private (void)
{
  Policy policy = { 0 };
  QemuConfig cfg = base_config (&policy);
  cfg.hostname = "secret-name";
  g_auto (GStrv) full = qemu_build_argv (&cfg);
  g_autofree char *config = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) argv = qemu_argv_private (full, "/sb/qemu/machine.cfg", &config, &error);
  g_assert_no_error (error);
  g_autofree char *shown = g_strjoinv (" ", argv);
  g_assert_null (strstr (shown, "secret-name"));
  g_assert_null (arg_after (argv, "-append", ""));
  g_assert_null (arg_after (argv, "-m", ""));
  g_assert_null (arg_after (argv, "-smp", ""));
  g_assert_cmpstr (arg_after (argv, "-readconfig", ""), ==, "/sb/qemu/machine.cfg");
  /* Everything else, in order. */
  g_assert_cmpuint (g_strv_length (argv), ==, g_strv_length (full) - 6 + 2);
  g_assert_cmpstr (arg_after (argv, "-M", ""), ==, arg_after (full, "-M", ""));
  g_autofree char *append
      = g_strdup_printf ("[machine]\n  append = \"%s\"\n", arg_after (full, "-append", ""));
  g_assert_nonnull (strstr (config, append));
  g_assert_nonnull (strstr (config, "sandboxd.hostname=secret-name"));
  g_assert_nonnull (strstr (config, "[memory]\n  size = \"256M\"\n"));
  g_assert_nonnull (strstr (config, "[smp-opts]\n  cpus = \"2\"\n"));

  /* A value QEMU's config syntax cannot hold is an error, not a cut. */
  char *bad[] = { "qemu", "-append", "a \"quoted\" word", NULL };
  g_autofree char *bad_config = NULL;
  g_assert_null (qemu_argv_private (bad, "/x", &bad_config, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "-append"));
}

/* The whole command line of @cfg as QEMU is started (one argument a
 * line) and the config file it reads, against tests/golden/qemu-argv/
 * NAME.txt: every option of every shape is reviewed in one diff when it
 * changes. SANDBOXD_GOLDEN=regenerate writes the file instead. */
static void
check_golden (const char *name, const QemuConfig *cfg)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) full = qemu_build_argv (cfg);
  g_autofree char *config = NULL;
  g_auto (GStrv) argv = qemu_argv_private (full, "/sb/qemu/machine.cfg", &config, &error);
  g_assert_no_error (error);
  g_autoptr (GString) text = g_string_new ("# argv\n");
  for (char **a = argv; *a; a++)
    g_string_append_printf (text, "%s\n", *a);
  g_string_append_printf (text, "# machine.cfg\n%s", config);
  g_autofree char *file = g_strconcat (name, ".txt", NULL);
  g_autofree char *path = g_build_filename (g_getenv ("GOLDEN_DIR"), "qemu-argv", file, NULL);
  if (g_strcmp0 (g_getenv ("SANDBOXD_GOLDEN"), "regenerate") == 0)
    {
      g_assert_true (g_file_set_contents (path, text->str, (gssize) text->len, &error));
      return;
    }
  g_autofree char *want = NULL;
  if (!g_file_get_contents (path, &want, NULL, &error))
    g_error ("%s (SANDBOXD_GOLDEN=regenerate makes it)", error->message);
  if (g_str_equal (want, text->str))
    return;
  g_auto (GStrv) a = g_strsplit (want, "\n", -1);
  g_auto (GStrv) b = g_strsplit (text->str, "\n", -1);
  guint i = 0;
  while (a[i] && b[i] && g_str_equal (a[i], b[i]))
    i++;
  g_error ("%s, line %u: golden \"%s\", now \"%s\" (if meant: SANDBOXD_GOLDEN=regenerate)", path,
           i + 1, a[i] ? a[i] : "(end)", b[i] ? b[i] : "(end)");
}

static void
test_golden (void)
{
  g_assert_nonnull (g_getenv ("GOLDEN_DIR"));
  Policy policy = { .qemu_sandbox = TRUE };
  QemuConfig cfg = base_config (&policy);
  cfg.tcg_cache_mb = 32;
  check_golden ("tcg", &cfg);

  QemuConfig kvm = cfg;
  Policy plain = { 0 };
  kvm.kvm = TRUE;
  kvm.policy = &plain;
  check_golden ("kvm-no-sandbox", &kvm);

  QemuConfig build = cfg;
  build.template_build = TRUE;
  build.ram_path = "/sb/fd/5";
  build.ram_shared = TRUE;
  check_golden ("template-build", &build);
  QemuConfig clone = build;
  clone.template_build = FALSE;
  clone.ram_shared = FALSE;
  clone.incoming = TRUE;
  clone.hostname = "clone-1";
  check_golden ("template-clone", &clone);

  QemuConfig disk = cfg;
  disk.disk_node = "disk-0";
  disk.disk_fd = 13;
  disk.disk_fdset = 1;
  check_golden ("boot-disk", &disk);

  QemuConfig user = cfg;
  user.net_fd = 14;
  user.net_mac = "52:54:00:12:34:56";
  user.net_args = " sandboxd.net=10.0.2.15/24,10.0.2.2,65520 sandboxd.dns=192.0.2.53";
  check_golden ("network-user", &user);
  QemuConfig tap = user;
  tap.net_tap = TRUE;
  check_golden ("network-tap", &tap);

  /* Volumes: RAM a shared memfd, modern virtio-mmio, a vhost-user-fs
   * device per tag on its inherited socket, the tags for the guest. */
  static const char *const tags[] = { "vfs0", "vfs1" };
  static const int fds[] = { 15, 16 };
  QemuConfig vols = cfg;
  vols.n_volumes = 2;
  vols.volume_tags = tags;
  vols.volume_fds = fds;
  vols.volume_args = " sandboxd.volumes=vfs0:rw:/data,vfs1:ro";
  check_golden ("volumes", &vols);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/qemu-argv/tcg", test_tcg);
  g_test_add_func ("/qemu-argv/kvm-no-sandbox", test_kvm_no_sandbox);
  g_test_add_func ("/qemu-argv/template", test_template_argv);
  g_test_add_func ("/qemu-argv/network", test_network_argv);
  g_test_add_func ("/qemu-argv/private", test_private);
  g_test_add_func ("/qemu-argv/golden", test_golden);
  g_test_add_func ("/network/parse", test_network_parse);
  return g_test_run ();
}
