#!/usr/bin/env python3
"""kernel/: the fragment is options under comments; build.py names every
option of the fragment that did not hold in the built config, copies a
cached kernel instead of building it, and names a missing source. TAP."""
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
from contextlib import redirect_stderr

from tap import done, ok

KERNEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernel")
BUILD_PY = os.path.join(KERNEL, "build.py")
FRAGMENT = os.path.join(KERNEL, "sandbox.config")
spec = importlib.util.spec_from_file_location("kbuild", BUILD_PY)
kbuild = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kbuild)


# Each group of options (lines between blank lines) says why, first.
with open(FRAGMENT) as f:
    blocks = [b.strip().splitlines() for b in f.read().split("\n\n") if b.strip()]
bare = [b[0] for b in blocks if not b[0].startswith("#")]
ok(not bare, "every group of options in sandbox.config starts with its reason %s" % bare)
wanted = kbuild.wanted_options(FRAGMENT)
ok(wanted.get("CONFIG_PVH") == "y" and "CONFIG_MODULES" in wanted
   and wanted["CONFIG_MODULES"] is None,
   "the fragment's options are read, `is not set` lines as unset (%d options)" % len(wanted))

with tempfile.TemporaryDirectory() as d:
    config = os.path.join(d, ".config")
    with open(config, "w") as f:
        f.write("CONFIG_PVH=y\nCONFIG_VIRTIO_FS=m\nCONFIG_MODULES=y\n")
    err = io.StringIO()
    try:
        with redirect_stderr(err):
            kbuild.check_config(config, {"CONFIG_PVH": "y", "CONFIG_VIRTIO_FS": "y",
                                         "CONFIG_EROFS_FS": "y", "CONFIG_MODULES": None})
        died = False
    except SystemExit:
        died = True
    msg = err.getvalue()
    ok(died and "CONFIG_VIRTIO_FS=m (wanted y)" in msg and "CONFIG_EROFS_FS=unset (wanted y)" in msg
       and "CONFIG_MODULES=y (wanted unset)" in msg and "CONFIG_PVH" not in msg,
       "a config where the fragment did not hold fails, naming each option: %r" % msg)

    # A kernel in the cache is copied, not built.
    source = os.path.join(d, "linux-source-test.tar.xz")
    with open(source, "wb") as f:
        f.write(b"not a tarball: never unpacked when the kernel is cached")
    cache = os.path.join(d, "cache")
    key = kbuild.cache_key(kbuild.source_version(source), FRAGMENT)
    os.makedirs(os.path.join(cache, "kernel-" + key))
    with open(os.path.join(cache, "kernel-" + key, "vmlinux"), "wb") as f:
        f.write(b"\x7fELF cached")
    with open(os.path.join(cache, "kernel-" + key, "release"), "w") as f:
        f.write("6.1.0-cached\n")
    out, rel = os.path.join(d, "out.kernel"), os.path.join(d, "out.release")
    r = subprocess.run([sys.executable, BUILD_PY, "--fragment", FRAGMENT, "--source", source,
                        "--cache", cache, "--output", out, "--release-file", rel],
                       capture_output=True, text=True)
    got = open(out, "rb").read() if os.path.exists(out) else b""
    ok(r.returncode == 0 and got == b"\x7fELF cached" and "built before" in r.stderr
       and open(rel).read() == "6.1.0-cached\n",
       "a kernel built before with the same source and fragment is copied (%s)" % r.stderr.strip())

    # Another fragment is another kernel: not the cached one.
    other = os.path.join(d, "other.config")
    with open(other, "w") as f:
        f.write("# test\nCONFIG_PVH=y\n")
    ok(kbuild.cache_key(kbuild.source_version(source), other) != key,
       "another fragment has another cache key")

    r = subprocess.run([sys.executable, BUILD_PY, "--fragment", FRAGMENT, "--source",
                        os.path.join(d, "nope.tar.xz"), "--cache", cache, "--output", out,
                        "--release-file", rel], capture_output=True, text=True)
    ok(r.returncode == 1 and "nope.tar.xz: no such file (install linux-source-6.1)" in r.stderr,
       "a missing source is named: %s" % r.stderr.strip())

done()
