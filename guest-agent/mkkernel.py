#!/usr/bin/env python3
"""Writes the guest kernel as QEMU boots it fastest and shares best.

A bzImage (/boot/vmlinuz-R) carries the kernel compressed: QEMU reads the
whole file into its own memory (kept for the VM's life: 13.5 MiB per
sandbox), and the guest unpacks it under TCG, touching low memory the guest
never gives back. The uncompressed ELF inside, when it has a PVH entry
(CONFIG_PVH; the Xen PHYS32_ENTRY note), is booted directly: QEMU maps the
file (page cache shared by every sandbox) and the guest starts unpacked.

Writes that ELF when the kernel has one, else a copy of the bzImage as is
(and says why), so sandboxd always finds a kernel beside the initramfs.
"""
import argparse
import lzma
import os
import shutil
import struct
import subprocess
import sys
import zlib

ELF_MAGIC = b"\x7fELF"
XEN_ELFNOTE_PHYS32_ENTRY = 18

# Compressed payload formats, by the magic they start with; the tools for
# lz4 and zstd come from their Debian packages.
FORMATS = [
    ("lz4", b"\x02\x21\x4c\x18"),
    ("zstd", b"\x28\xb5\x2f\xfd"),
    ("gzip", b"\x1f\x8b\x08"),
    ("xz", b"\xfd7zXZ\x00"),
]


def say(msg):
    sys.stderr.write("mkkernel: %s\n" % msg)


def decompress(fmt, data):
    if fmt == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    if fmt == "xz":
        return lzma.LZMADecompressor().decompress(data)
    tool = shutil.which(fmt)
    if tool is None:
        raise OSError("%s is not installed" % fmt)
    # Bytes after the payload are the bzImage's trailer: lz4 stops at the
    # end of its stream; zstd reports them, and what it wrote is checked.
    r = subprocess.run([tool, "-dc"], input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    return r.stdout


def pvh_entry(elf):
    """The PVH entry point of a whole little-endian ELF64 (every segment
    within the file: a payload unpacked only in part is refused), or None."""
    if len(elf) < 64 or elf[:4] != ELF_MAGIC or elf[4] != 2 or elf[5] != 1:
        return None
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    headers = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + 56 > len(elf):
            return None
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, at)
        if p_offset + p_filesz > len(elf):
            return None
        headers.append((p_type, p_offset, p_filesz))
    for p_type, p_offset, p_filesz in headers:
        if p_type != 4:  # PT_NOTE
            continue
        pos, end = p_offset, min(p_offset + p_filesz, len(elf))
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            desc_at = pos + 12 + ((namesz + 3) & ~3)
            if name == b"Xen" and ntype == XEN_ELFNOTE_PHYS32_ENTRY and descsz >= 4:
                return struct.unpack_from("<I", elf, desc_at)[0]
            pos = desc_at + ((descsz + 3) & ~3)
    return None


def extract(image):
    """The ELF inside @image with a PVH entry, or (None, why not)."""
    why = "no compressed payload found"
    for fmt, magic in FORMATS:
        at = image.find(magic)
        while at >= 0:
            try:
                elf = decompress(fmt, image[at:])
            except (OSError, zlib.error, lzma.LZMAError) as e:
                elf, why = b"", "%s payload at %d: %s" % (fmt, at, e)
            if elf[:4] == ELF_MAGIC:
                if pvh_entry(elf) is not None:
                    return elf, None
                return None, "its ELF is cut short or has no PVH entry (CONFIG_PVH)"
            at = image.find(magic, at + 1)
    return None, why


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--release-file", required=True, help="the initramfs' kernel release")
    ap.add_argument("--boot", default="/boot")
    ap.add_argument("--output", required=True)
    a = ap.parse_args()
    with open(a.release_file) as f:
        release = f.read().strip()
    src = os.path.join(a.boot, "vmlinuz-" + release)
    with open(src, "rb") as f:
        image = f.read()
    elf, why = extract(image)
    tmp = a.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(elf if elf is not None else image)
    os.replace(tmp, a.output)
    if elf is None:
        say("%s: %s; the bzImage is used as is" % (src, why))


if __name__ == "__main__":
    main()
