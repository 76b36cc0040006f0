#!/usr/bin/env python3
"""Builds the built-in container root: a busybox userland as a tarball,
every entry owned by root and dated 0, so the same busybox always gives the
same bytes (and so the same image digest in sandboxd's cache)."""
import argparse
import io
import os
import subprocess
import tarfile


def add(tar, name, kind, mode, data=b"", target=""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, 0, 0, 0
    info.uname = info.gname = "root"
    if kind == tarfile.SYMTYPE:
        info.linkname = target
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--output", required=True)
    args = ap.parse_args()

    applets = subprocess.run([args.busybox, "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    dirs = {"bin", "dev", "etc", "proc", "root", "run", "sys", "tmp", "usr", "var"}
    dirs |= {os.path.dirname(a) for a in applets if os.path.dirname(a)}
    tmp = args.output + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as tar:
        for d in sorted(dirs):
            add(tar, d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755)
        with open(args.busybox, "rb") as f:
            add(tar, "bin/busybox", tarfile.REGTYPE, 0o755, f.read())
        for a in sorted(applets):
            if a != "bin/busybox":
                depth = a.count("/")
                add(tar, a, tarfile.SYMTYPE, 0o777, target="../" * depth + "bin/busybox")
        add(tar, "etc/passwd", tarfile.REGTYPE, 0o644,
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        add(tar, "etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\nnogroup:x:65534:\n")
    os.rename(tmp, args.output)


if __name__ == "__main__":
    main()
