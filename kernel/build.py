#!/usr/bin/env python3
"""Builds sandboxd's guest kernel from Debian's linux-source package.

tinyconfig, then the fragment (kernel/sandbox.config) merged over it and
olddefconfig; every option the fragment sets is then checked in the result,
so an option whose dependencies are unmet fails the build by name. The
kernel is built without modules as vmlinux: an ELF with a PVH entry, which
QEMU boots directly (see guest-agent/mkkernel.py).

Cached by (source package version, fragment digest): a kernel built once is
copied, not built, the next time (under $SANDBOXD_KERNEL_CACHE, else
~/.cache/sandboxd/kernel: 22 MB a kernel). The unpacked source (1.5 GB) and
the object tree are removed after a build: a changed fragment rebuilt
nearly every object anyway (tinyconfig rewrites the whole .config).
"""
import argparse
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Bumped when this script's way of building changes what it builds.
RECIPE = "1"
XEN_ELFNOTE_PHYS32_ENTRY = 18


def say(msg):
    sys.stderr.write("build-kernel: %s\n" % msg)


def die(msg):
    say(msg)
    sys.exit(1)


def source_version(tarball):
    """The Debian version of the package that installed the tarball, or its
    size and time when no package owns it."""
    try:
        owner = subprocess.run(["dpkg-query", "-S", tarball], capture_output=True, text=True,
                               check=True).stdout.split(":")[0].strip()
        return owner + "=" + subprocess.run(["dpkg-query", "-W", "-f=${Version}", owner],
                                            capture_output=True, text=True,
                                            check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        st = os.stat(tarball)
        return "%s:%d:%d" % (os.path.basename(tarball), st.st_size, int(st.st_mtime))


def cache_key(version, fragment):
    with open(fragment, "rb") as f:
        return hashlib.sha256(("%s\0%s\0" % (RECIPE, version)).encode() + f.read()).hexdigest()[:16]


def wanted_options(fragment):
    """{CONFIG_X: value or None (not set)} from the fragment's lines."""
    wanted = {}
    with open(fragment) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            m = re.match(r"^# (CONFIG_\w+) is not set$", line)
            if m:
                wanted[m.group(1)] = None
                continue
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^(CONFIG_\w+)=(.+)$", line)
            if not m:
                die("%s:%d: not an option line: %s" % (fragment, n, line))
            wanted[m.group(1)] = m.group(2)
    return wanted


def check_config(config, wanted):
    have = {}
    with open(config) as f:
        for line in f:
            m = re.match(r"^(CONFIG_\w+)=(.+)$", line.strip())
            if m:
                have[m.group(1)] = m.group(2)
    wrong = ["%s=%s (wanted %s)" % (k, have.get(k, "unset"), "unset" if v is None else v)
             for k, v in sorted(wanted.items()) if have.get(k) != v]
    if wrong:
        die("the fragment did not hold (unmet dependencies or misspelt names):\n  "
            + "\n  ".join(wrong))


def has_pvh_note(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return "Xen" in out and ("PHYS32_ENTRY" in out or "0x00000012" in out)


def unpack(tarball, srcroot):
    if os.path.isfile(os.path.join(srcroot, "Makefile")):
        return
    say("unpacking %s" % tarball)
    parent = os.path.dirname(srcroot)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".unpack-")
    subprocess.run(["tar", "-xf", tarball, "-C", tmp, "--strip-components=1"], check=True)
    os.rename(tmp, srcroot)


def build(src, obj, fragment, wanted, jobs):
    os.makedirs(obj, exist_ok=True)
    make = ["make", "-C", src, "O=" + obj, "-s"]
    subprocess.run(make + ["tinyconfig"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([os.path.join(src, "scripts/kconfig/merge_config.sh"), "-m", "-O", obj,
                    os.path.join(obj, ".config"), fragment], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(make + ["olddefconfig"], check=True, stdout=subprocess.DEVNULL)
    check_config(os.path.join(obj, ".config"), wanted)
    say("building vmlinux with %d jobs (a few minutes; cached after)" % jobs)
    subprocess.run(make + ["-j%d" % jobs, "vmlinux"], check=True)
    return subprocess.run(make + ["kernelrelease"], capture_output=True, text=True,
                          check=True).stdout.strip()


def copy_out(src, dst):
    tmp = dst + ".tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fragment", required=True)
    ap.add_argument("--output", required=True, help="where the kernel (vmlinux) goes")
    ap.add_argument("--release-file", required=True, help="where its release goes")
    ap.add_argument("--source", default="/usr/src/linux-source-6.1.tar.xz")
    ap.add_argument("--cache", default=os.environ.get("SANDBOXD_KERNEL_CACHE") or
                    os.path.join(os.path.expanduser("~"), ".cache", "sandboxd", "kernel"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    if not os.path.isfile(args.source):
        die("%s: no such file (install linux-source-6.1)" % args.source)
    wanted = wanted_options(args.fragment)
    version = source_version(args.source)
    key = cache_key(version, args.fragment)
    os.makedirs(args.cache, exist_ok=True)
    done = os.path.join(args.cache, "kernel-" + key)

    # One builder at a time per cache (two ninjas, two checkouts).
    with open(os.path.join(args.cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isfile(os.path.join(done, "release")):
            tree = re.sub(r"[^\w.+-]", "_", version)
            src = os.path.join(args.cache, "src-" + tree)
            obj = os.path.join(args.cache, "obj-" + tree)
            shutil.rmtree(obj, ignore_errors=True)
            unpack(args.source, src)
            release = build(src, obj, args.fragment, wanted, args.jobs)
            vmlinux = os.path.join(obj, "vmlinux")
            if not has_pvh_note(vmlinux):
                die("%s has no PVH entry (CONFIG_PVH)" % vmlinux)
            os.makedirs(done, exist_ok=True)
            copy_out(os.path.join(obj, ".config"), os.path.join(done, "config"))
            copy_out(vmlinux, os.path.join(done, "vmlinux"))
            with open(os.path.join(done, "release.tmp"), "w") as f:
                f.write(release + "\n")
            os.replace(os.path.join(done, "release.tmp"), os.path.join(done, "release"))
            shutil.rmtree(obj)
            shutil.rmtree(src)
        else:
            say("%s: built before (%s)" % (key, done))
    copy_out(os.path.join(done, "vmlinux"), args.output)
    copy_out(os.path.join(done, "release"), args.release_file)


if __name__ == "__main__":
    main()
