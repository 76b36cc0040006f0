#!/usr/bin/env python3
"""mkkernel.py: a bzImage whose payload is an ELF with a PVH entry gives
that ELF; one without the entry, or without a payload it can unpack, is
copied as is. TAP output."""
import gzip
import lzma
import os
import random
import struct
import subprocess
import sys
import tempfile

from tap import done, ok, skip

MKKERNEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest-agent",
                        "mkkernel.py")
RELEASE = "9.9.9-test"


def elf(note_type):
    """A little ELF64: a PT_NOTE with a Xen note of @note_type, and a
    PT_LOAD of 64 KiB of (incompressible) text after it."""
    name, desc = b"Xen\0", struct.pack("<I", 0x1000000)
    note = struct.pack("<III", len(name), len(desc), note_type) + name + desc
    text = random.Random(7).randbytes(65536)
    phoff = 64
    notes_at = phoff + 2 * 56
    text_at = notes_at + len(note)
    header = (b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
              + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x1000000, phoff, 0, 0, 64, 56, 2, 64, 0, 0))
    ph = (struct.pack("<IIQQQQQQ", 4, 4, notes_at, 0, 0, len(note), len(note), 4)
          + struct.pack("<IIQQQQQQ", 1, 5, text_at, 0, 0x1000000, len(text), len(text), 4096))
    return header + ph + note + text


def run(image):
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "vmlinuz-" + RELEASE), "wb") as f:
        f.write(image)
    with open(os.path.join(d, "release"), "w") as f:
        f.write(RELEASE + "\n")
    out = os.path.join(d, "out")
    r = subprocess.run([sys.executable, MKKERNEL, "--release-file", os.path.join(d, "release"),
                        "--boot", d, "--output", out], capture_output=True, text=True)
    with open(out, "rb") as f:
        return r.returncode, f.read(), r.stderr


setup = b"MZ setup code \x1f\x8b not a payload" * 50
trailer = b"\0" * 100 + b"trailer"

pvh = elf(18)
for fmt, packed in (("gzip", gzip.compress(pvh)), ("xz", lzma.compress(pvh))):
    rc, out, err = run(setup + packed + trailer)
    ok(rc == 0 and out == pvh, "a %s payload with a PVH entry comes out as that ELF" % fmt)

image = setup + gzip.compress(elf(17)) + trailer
rc, out, err = run(image)
ok(rc == 0 and out == image, "an ELF without a PVH entry: the bzImage is copied as is")
ok("no PVH entry" in err, "... saying why (%s)" % err.strip())

image = setup + gzip.compress(pvh)[:-30000] + trailer
rc, out, err = run(image)
ok(rc == 0 and out == image, "a payload cut short (an ELF whose segments end past it): copied as is")

image = setup + trailer
rc, out, err = run(image)
ok(rc == 0 and out == image and "no compressed payload" in err,
   "no payload found: copied as is, saying so")

# The machine's own guest kernel, when there is one.
boot = [f for f in os.listdir("/boot") if f.startswith("vmlinuz-")] if os.path.isdir("/boot") else []
if boot:
    src = os.path.join("/boot", sorted(boot)[-1])
    with open(src, "rb") as f:
        real = f.read()
    config = src.replace("vmlinuz-", "config-")
    pvh_built = os.path.exists(config) and "CONFIG_PVH=y\n" in open(config).read()
    rc, out, err = run(real)
    if pvh_built:
        ok(rc == 0 and out[:4] == b"\x7fELF" and len(out) > len(real),
           "%s (CONFIG_PVH=y) comes out as its ELF (%d bytes)" % (src, len(out)))
    else:
        ok(rc == 0 and out == real, "%s (no CONFIG_PVH): copied as is" % src)
else:
    skip("no /boot/vmlinuz-*")
done()
