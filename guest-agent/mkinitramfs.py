#!/usr/bin/env python3
"""Builds the sandbox guest initramfs: sandbox-agent as /init, the shared
libraries it needs, a busybox userland, and the guest kernel's modules the
agent loads, resolved through that kernel's modules.dep.

The archive is written directly in cpio "newc" format, so every entry is
owned by root and /dev/console exists without needing mknod on the host.
"""
import argparse
import gzip
import lzma
import os
import re
import stat
import subprocess
import sys

# Modules the agent needs; their dependencies come from modules.dep.
# virtio_scsi and sd_mod: disks hot-plugged over QMP; button and evdev: the
# ACPI power button, which is how QMP system_powerdown reaches the agent;
# erofs and overlay: containers' roots (a read-only image, a tmpfs on top);
# virtio_balloon: free page reporting (pages the guest frees go back to the
# host).
MODULES = ["virtio_mmio", "virtio_console", "virtio_scsi", "sd_mod", "button", "evdev", "erofs",
           "overlay", "virtio_balloon"]
# Loaded only when the sandbox has a network (sandboxd.net= on the kernel
# command line), so a boot without one costs nothing more.
NET_MODULES = ["virtio_net"]
# Loaded only when the sandbox has volumes (sandboxd.volumes=).
VOLUME_MODULES = ["virtiofs"]


def die(msg):
    sys.stderr.write("mkinitramfs: %s\n" % msg)
    sys.exit(1)


def version_key(release):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", release)]


def discover_release(modules_root, boot):
    """The newest release that has both modules and a kernel image,
    preferring Debian's cloud flavour (built for VMs)."""
    found = []
    for rel in os.listdir(modules_root) if os.path.isdir(modules_root) else []:
        if os.path.exists(os.path.join(modules_root, rel, "modules.dep")) and os.path.exists(
            os.path.join(boot, "vmlinuz-" + rel)
        ):
            found.append(rel)
    if not found:
        die("no guest kernel found (no %s/vmlinuz-R with %s/R/modules.dep); "
            "install linux-image-cloud-amd64" % (boot, modules_root))
    cloud = [r for r in found if "cloud" in r]
    return sorted(cloud or found, key=version_key)[-1]


def mod_name(path):
    base = os.path.basename(path)
    base = re.sub(r"\.ko(\.(xz|gz|zst))?$", "", base)
    return base.replace("-", "_")


def resolve_modules(moddir, wanted, skip=()):
    deps = {}
    paths = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            if ":" not in line:
                continue
            path, rest = line.split(":", 1)
            name = mod_name(path)
            paths[name] = path
            deps[name] = [mod_name(p) for p in rest.split()]
    builtin = set()
    bpath = os.path.join(moddir, "modules.builtin")
    if os.path.exists(bpath):
        with open(bpath) as f:
            builtin = {mod_name(l.strip()) for l in f if l.strip()}

    order = []
    seen = set(mod_name(p) for p in skip)

    def visit(name, chain):
        if name in seen:
            return
        if name not in paths:
            if name in builtin:
                return
            die("module %s (needed by %s) is not in %s/modules.dep" % (name, " <- ".join(chain), moddir))
        seen.add(name)
        # modules.dep lists every (transitive) dependency; load those first,
        # deepest first, so e.g. virtio_ring comes before virtio.
        for d in reversed(deps[name]):
            visit(d, chain + [name])
        order.append(paths[name])

    for m in wanted:
        visit(m, [m])
    return order


def shared_libs(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if "not a dynamic executable" in out.stdout + out.stderr:
        return []
    if out.returncode != 0:
        die("ldd %s failed: %s" % (binary, out.stderr.strip()))
    libs = []
    for line in out.stdout.splitlines():
        line = line.strip()
        m = re.match(r"\S+ => (/\S+) \(", line) or re.match(r"(/\S+) \(", line)
        if m:
            libs.append(m.group(1))
        elif "not found" in line:
            die("%s: library %s" % (binary, line))
    return libs


class Cpio:
    def __init__(self, out):
        self.out = out
        self.ino = 1
        self.dirs = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(
            "%08X" % v
            for v in (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
        )
        self.ino += 1
        self.out.write(hdr.encode() + name_b)
        self._pad()
        self.out.write(data)
        self._pad()

    def _pad(self):
        pos = self.out.tell()
        self.out.write(b"\0" * ((4 - pos % 4) % 4))

    def mkdir(self, path):
        path = path.strip("/")
        if not path or path in self.dirs:
            return
        self.mkdir(os.path.dirname(path))
        self.dirs.add(path)
        self._entry(path, stat.S_IFDIR | 0o755)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFREG | mode, data)

    def symlink(self, path, target):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, path, major, minor, mode=0o600):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)


def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--agent", required=True, help="the agent binary: /init, unless --init")
    ap.add_argument("--init", help="a script to be /init instead (the agent is then left out)")
    ap.add_argument("--extra", action="append", default=[],
                    help="another binary to include at its own path, with its libraries")
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--release-file", help="where the release of the modules' kernel goes")
    ap.add_argument("--kernel-release", default="")
    ap.add_argument("--modules-root", default="/lib/modules")
    ap.add_argument("--boot", default="/boot")
    ap.add_argument("--no-modules", action="store_true",
                    help="for a kernel with its drivers built in (kernel/): no modules and "
                    "no module lists")
    args = ap.parse_args()

    release, moddir, modules, net_modules, volume_modules = None, None, [], [], []
    if not args.no_modules:
        if not args.release_file:
            die("--release-file is needed unless --no-modules")
        release = args.kernel_release or discover_release(args.modules_root, args.boot)
        moddir = os.path.join(args.modules_root, release)
        if not os.path.exists(os.path.join(moddir, "modules.dep")):
            die("kernel release %s has no %s/modules.dep" % (release, moddir))
        modules = resolve_modules(moddir, MODULES)
        net_modules = resolve_modules(moddir, NET_MODULES, skip=modules)
        volume_modules = resolve_modules(moddir, VOLUME_MODULES, skip=modules + net_modules)

    tmp = args.output + ".tmp"
    with open(tmp, "wb") as out:
        c = Cpio(out)
        for d in ("proc", "sys", "dev", "tmp", "run", "root", "etc", "mnt"):
            c.mkdir(d)
        c.chardev("dev/console", 5, 1)
        c.chardev("dev/null", 1, 3, 0o666)
        c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        c.file("etc/group", b"root:x:0:\n")
        with open(args.init or args.agent, "rb") as f:
            c.file("init", f.read(), 0o755)
        binaries = [args.busybox] + args.extra + ([] if args.init else [args.agent])
        for path in args.extra:
            with open(path, "rb") as f:
                c.file(path.lstrip("/"), f.read(), 0o755)
        with open(args.busybox, "rb") as f:
            c.file("bin/busybox", f.read(), 0o755)
        applets = subprocess.run([args.busybox, "--list-full"], capture_output=True, text=True,
                                 check=True).stdout.split()
        for a in applets:
            if a.strip("/") not in ("bin/busybox", "init", "linuxrc"):
                c.symlink(a, "/bin/busybox")
        for lib in sorted(set(l for b in binaries for l in shared_libs(b))):
            with open(os.path.realpath(lib), "rb") as f:
                c.file(lib, f.read(), 0o755)
        for name, mods in () if args.no_modules else (("sandbox-modules.list", modules),
                                                      ("sandbox-net-modules.list", net_modules),
                                                      ("sandbox-volume-modules.list",
                                                       volume_modules)):
            listed = []
            for rel in mods:
                dst = "lib/modules/%s/%s" % (release, re.sub(r"\.(xz|gz|zst)$", "", rel))
                c.file(dst, read_module(os.path.join(moddir, rel)))
                listed.append("/" + dst)
            c.file("lib/modules/" + name, ("\n".join(listed) + "\n").encode())
        c.finish()
    os.rename(tmp, args.output)
    if release:
        with open(args.release_file, "w") as f:
            f.write(release + "\n")


if __name__ == "__main__":
    main()
