#!/usr/bin/env python3
"""Drives a command on a pseudo-terminal the way a user at a keyboard does,
for the terminal tests. The script comes on stdin, one action a line:
  expect REGEX       wait until the output so far matches (--timeout)
  send TEXT          type TEXT (Python escapes: \\r, \\x03 for Ctrl-C)
  resize ROWS COLS   change the terminal's size (the command gets SIGWINCH)
  count CHAR N       wait until the output holds N copies of CHAR
  touch PATH         create PATH (tells the shell test where we are)
  sleep SECONDS      wait, reading what comes meanwhile
  wait-file PATH     wait until PATH exists (the shell test did its part)
The whole output goes to --transcript. Exits with the command's status,
124 when an expectation times out (the transcript's tail on stderr)."""
import argparse
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--transcript", required=True)
    ap.add_argument("command", nargs="+")
    a = ap.parse_args()
    script = [l.rstrip("\n") for l in sys.stdin if l.strip()]

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(a.command[0], a.command)
    set_size(fd, a.rows, a.cols)
    out = bytearray()
    closed = False

    def pump(seconds):
        nonlocal closed
        r, _, _ = select.select([fd], [], [], seconds)
        if r:
            try:
                data = os.read(fd, 1 << 16)
            except OSError:
                data = b""
            if not data:
                closed = True
            out.extend(data)

    def wait_until(done, what):
        end = time.monotonic() + a.timeout
        while not done():
            if closed or time.monotonic() > end:
                sys.stderr.write("pty-run: gave up waiting for %s; output ends with:\n%r\n"
                                 % (what, bytes(out[-400:])))
                return False
            pump(0.1)
        return True

    ok = True
    for line in script:
        verb, _, arg = line.partition(" ")
        if verb == "expect":
            rx = re.compile(arg.encode())
            ok = wait_until(lambda: rx.search(out), "/%s/" % arg)
        elif verb == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif verb == "resize":
            rows, cols = map(int, arg.split())
            set_size(fd, rows, cols)
        elif verb == "count":
            ch, n = arg.split()
            ok = wait_until(lambda: out.count(ch.encode()) >= int(n), "%s x %s" % (n, ch))
        elif verb == "sleep":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end and not closed:
                pump(0.05)
        elif verb == "touch":
            open(arg, "w").close()
        elif verb == "wait-file":
            ok = wait_until(lambda: os.path.exists(arg), arg)
        else:
            sys.stderr.write("pty-run: unknown action %r\n" % line)
            ok = False
        if not ok:
            break
    if ok:  # the rest of the output, until the command ends
        end = time.monotonic() + a.timeout
        while not closed and time.monotonic() < end:
            pump(0.2)
    with open(a.transcript, "wb") as f:
        f.write(out)
    if not ok or not closed:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return 124
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
