#!/usr/bin/env python3
"""What conmon does with an OCI runtime's --console-socket, for the tests:
listens on SOCKET, runs the runtime's create with --console-socket SOCKET
(and --pid-file), receives the terminal's master over SCM_RIGHTS, runs
start, types TYPE (Python escapes) into the terminal, copies what comes out
to stdout, and as a subreaper (conmon is one) waits for the pid in the
pid file: exits with its status. With RECEIVER_RAW=1 in its environment it
puts the terminal in raw mode before start, as conmon does.
usage: console-receiver.py SOCKET PIDFILE TYPE -- RUNTIME [GLOBAL...] -- ID BUNDLE"""
import array
import ctypes
import os
import select
import socket
import subprocess
import sys
import time


def main():
    sock_path, pid_file, typed = sys.argv[1:4]
    rest = sys.argv[5:]
    split = rest.index("--")
    runtime, cid, bundle = rest[:split], rest[split + 1], rest[split + 2]
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    create = subprocess.Popen(runtime + ["create", "--bundle", bundle, "--pid-file", pid_file,
                                         "--console-socket", sock_path, cid])
    conn, _ = srv.accept()
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(256, socket.CMSG_LEN(fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    if create.wait() != 0 or not fds:
        print("console-receiver: create failed or sent no fd", file=sys.stderr)
        return 90
    master = fds[0]
    if os.environ.get("RECEIVER_RAW") == "1":
        import tty
        tty.setraw(master)
    pid = int(open(pid_file).read())
    print("state-before-start:", subprocess.run(runtime + ["state", cid], capture_output=True,
                                                  text=True).stdout.replace("\n", " "), flush=True)
    if subprocess.run(runtime + ["start", cid]).returncode != 0:
        return 91
    time.sleep(0.5)
    os.write(master, typed.encode().decode("unicode_escape").encode("latin-1"))
    end = time.monotonic() + 120
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
