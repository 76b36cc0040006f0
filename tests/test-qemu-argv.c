/* The QEMU command line of a sandbox, from a plain config: what each
 * setting puts there (no VM, no daemon). */
#include "qemu-argv.h"

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
}

static void
test_kvm_no_sandbox (void)
{
  Policy policy = { .qemu_sandbox = FALSE };
  QemuConfig cfg = base_config (&policy);
  cfg.kvm = TRUE;
  g_auto (GStrv) argv = qemu_build_argv (&cfg);
  g_assert_cmpstr (arg_after (argv, "-accel", ""), ==, "kvm");
  g_assert_cmpstr (arg_after (argv, "-cpu", ""), ==, "host");
  /* kvm-clock needs no TSC rate; a policy without -sandbox gets none. */
  g_assert_null (strstr (arg_after (argv, "-append", ""), "tsc_early_khz"));
  g_assert_null (arg_after (argv, "-sandbox", ""));
}

static void
test_boot_disk (void)
{
  Policy policy = { .qemu_sandbox = TRUE };
  QemuConfig cfg = base_config (&policy);
  cfg.disk_node = "disk-0";
  cfg.disk_fd = 13;
  cfg.disk_fdset = 1;
  cfg.disk_scsi_id = 0;
  g_auto (GStrv) argv = qemu_build_argv (&cfg);
  g_assert_cmpstr (arg_after (argv, "-add-fd", ""), ==, "fd=13,set=1");
  g_assert_cmpstr (arg_after (argv, "-blockdev", ""), ==,
                   "driver=raw,node-name=disk-0,read-only=on,file.driver=file,"
                   "file.filename=/dev/fdset/1");
  g_assert_cmpstr (arg_after (argv, "-device", "scsi-hd"), ==,
                   "scsi-hd,bus=scsi0.0,scsi-id=0,lun=0,drive=disk-0,id=dev-disk-0");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/qemu-argv/tcg", test_tcg);
  g_test_add_func ("/qemu-argv/kvm-no-sandbox", test_kvm_no_sandbox);
  g_test_add_func ("/qemu-argv/boot-disk", test_boot_disk);
  return g_test_run ();
}
