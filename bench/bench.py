#!/usr/bin/env python3
"""The figures of bench/run.sh, each next to a baseline measured in the same
run: see the README's "Benchmarks". Prints one line a figure,
  <figure>: <ours> <unit> (baseline <theirs> <unit>, ratio <r>)
and writes a markdown table."""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def median_spread(xs):
    return statistics.median(xs), (max(xs) - min(xs))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def wait_for(path, timeout=30):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise RuntimeError("%s did not appear" % path)
        time.sleep(0.002)


def connect(path, timeout=30):
    end = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.002)


class GuestAgent:
    """qemu-ga over its virtio-serial socket: JSON in, JSON lines out."""

    def __init__(self, path):
        self.sock = connect(path)
        self.buf = b""

    def _line(self, timeout):
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("qemu-ga closed its port")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, command, arguments=None, timeout=30):
        msg = {"execute": command}
        if arguments is not None:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        reply = self._line(timeout)
        if "error" in reply:
            raise RuntimeError("qemu-ga %s: %s" % (command, reply["error"]))
        return reply["return"]

    def sync(self, timeout=60):
        end = time.monotonic() + timeout
        n = 1
        while time.monotonic() < end:
            n += 1
            self.sock.sendall(json.dumps({"execute": "guest-sync", "arguments": {"id": n}}).encode()
                              + b"\n")
            try:
                while True:
                    reply = self._line(0.5)
                    if reply.get("return") == n:
                        return
            except (socket.timeout, ValueError):
                self.buf = b""
        raise RuntimeError("qemu-ga did not answer")

    def exec_wait(self, path, args):
        pid = self.call("guest-exec", {"path": path, "arg": args})["pid"]
        while True:  # polling is qemu-ga's way; as fast as it answers
            st = self.call("guest-exec-status", {"pid": pid})
            if st["exited"]:
                return st


class Bench:
    def __init__(self, a):
        self.a = a
        self.ctl = os.path.join(a.build, "cli", "sandboxctl")
        self.rows = []
        self.tmp = tempfile.mkdtemp(prefix="sandboxd-bench.")

    def sandboxctl(self, *args, **kw):
        return subprocess.run([self.ctl, *args], check=True, text=True, capture_output=True,
                              **kw).stdout

    def timed(self, cmd, env=None):
        t = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env)
        return time.monotonic() - t

    def report(self, figure, ours, theirs, unit, ratio, goal, note=""):
        print("%s: %.4g %s (baseline %.4g %s, ratio %.2f)" % (figure, ours, unit, theirs, unit,
                                                              ratio), flush=True)
        self.rows.append((figure, "%.4g %s" % (ours, unit), "%.4g %s" % (theirs, unit),
                          "%.2f" % ratio, goal, note))

    def inspect(self, name):
        return json.loads(self.sandboxctl("--json", "inspect", name))[0]

    # The bare QEMU: our own command line (from qemu.log), without the jail.
    def bare_argv(self, name, initrd=None, ports=None):
        sb = self.inspect(name)
        with open(os.path.join(sb["dir"], "qemu.log")) as f:
            cmd = f.readline().split(": ", 1)[1].strip()
        m = re.match(r"(.*) -append (.*?) (-chardev .*)", cmd)
        head, append, tail = m.group(1).split(), m.group(2), m.group(3).split()
        version = json.loads(self.sandboxctl("--json", "version"))
        sub = {"/boot/vmlinuz": version["server"]["kernel"],
               "/boot/initrd.img": initrd or version["server"]["initramfs"]}
        head = [sub.get(x, x) for x in head]
        d = tempfile.mkdtemp(dir=self.tmp)
        tail = [x.replace("/sb/qemu/", d + "/") for x in tail]
        if ports is not None:  # replace the agent port with @ports
            tail = tail[:tail.index("-device", tail.index("virtio-serial-device"))]
            for pname, sock in ports:
                tail += ["-chardev", "socket,id=%s,path=%s/%s.sock,server=on,wait=off" % (sock, d, sock),
                         "-device", "virtserialport,chardev=%s,name=%s" % (sock, pname)]
        return head + ["-append", append] + tail, d

    def cold_start(self):
        ours, bare = [], []
        argv, d = self.bare_argv("bench")
        for _ in range(self.a.reps):
            ours.append(self.timed([self.ctl, "run", "--rm", "--", "true"]))
            t = time.monotonic()
            q = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            s = connect(os.path.join(d, "agent.sock"))
            s.recv(1)
            bare.append(time.monotonic() - t)
            s.close()
            q.kill()
            q.wait()
        o, os_ = median_spread(ours)
        b, _ = median_spread(bare)
        self.report("cold_start", o, b, "s", o / b, "ours/bare <= 1.05", "spread %.2f s" % os_)

    def start_ga_vm(self, name="bench", rewrite=None):
        initrd = os.path.join(self.a.build, "bench", "ga-initramfs.img")
        argv, d = self.bare_argv(name, initrd,
                                 [("org.qemu.guest_agent.0", "ga"), ("bench.0", "raw")])
        if rewrite:
            argv = rewrite(argv)
        log = open(os.path.join(d, "qemu.log"), "w")
        q = subprocess.Popen(argv, stdout=log, stderr=log)
        time.sleep(0.5)
        if q.poll() is not None:
            raise RuntimeError("the qemu-ga VM did not start: %s: %s"
                               % (" ".join(argv), open(log.name).read()))
        try:
            ga = GuestAgent(os.path.join(d, "ga.sock"))
            ga.sync()
        except (OSError, RuntimeError) as e:
            q.kill()
            console = open(os.path.join(d, "console.log"), errors="replace").read()[-2000:]
            raise RuntimeError("qemu-ga in its VM: %s; guest console:\n%s" % (e, console))
        return q, ga, d

    def exec_and_stream(self):
        """exec and streams in sandbox "bench" beside qemu-ga in a bare QEMU."""
        q, ga, d = self.start_ga_vm()
        try:
            self.exec_roundtrip(ga)
            mb = self.a.stream_mb
            self.stream(ga, d, "stream", "dd if=/dev/zero bs=65536 count=%d 2>/dev/null" % (mb * 16),
                        "ours/raw >= 0.8")
            self.stream(ga, d, "stream_head", "head -c %d /dev/zero" % (mb << 20), "ours/raw >= 1")
        finally:
            q.kill()
            q.wait()

    def exec_roundtrip(self, ga):
        n = self.a.execs
        ours = [self.timed([self.ctl, "exec", "bench", "--", "true"]) for _ in range(n)]
        theirs = []
        for _ in range(n):
            t = time.monotonic()
            ga.exec_wait("/bin/true", [])
            theirs.append(time.monotonic() - t)
        for p in (50, 99):
            o, b = pct(ours, p) * 1000, pct(theirs, p) * 1000
            self.report("exec_roundtrip_p%d" % p, o, b, "ms", b / o, "theirs/ours >= 1",
                        "%d execs each: `sandboxctl exec` (a process) vs qemu-ga in-process"
                        % n)
        # The same in-process on our side: libsandboxd-client, one connection.
        tool = os.path.join(self.a.build, "bench", "exec-bench")
        out = subprocess.run([tool, os.environ["SANDBOXD_ADDRESS"], "bench", str(n)], check=True,
                             text=True, capture_output=True).stdout
        inproc = [float(x) / 1000 for x in out.split()]
        o, b = pct(inproc, 50) * 1000, pct(theirs, 50) * 1000
        self.report("exec_inproc_p50", o, b, "ms", b / o, "theirs/ours >= 2",
                    "%d execs each: Exec with wait_ms through libsandboxd-client vs qemu-ga" % n)

    def stream(self, ga, d, figure, producer, goal):
        """@producer (a shell command writing stream_mb MiB to stdout) through
        exec to the client, vs the same producer writing into a raw
        virtio-serial port of the qemu-ga VM that the host reads."""
        size = self.a.stream_mb << 20
        t = time.monotonic()
        subprocess.run([self.ctl, "exec", "bench", "--", "sh", "-c", producer], check=True,
                       stdout=subprocess.DEVNULL)
        ours = self.a.stream_mb / (time.monotonic() - t)
        raw = connect(os.path.join(d, "raw.sock"))
        got = [0]

        def drain():
            while got[0] < size:
                chunk = raw.recv(1 << 20)
                if not chunk:
                    break
                got[0] += len(chunk)

        reader = threading.Thread(target=drain)
        reader.start()
        t = time.monotonic()
        ga.exec_wait("/bin/sh", ["-c", producer + " > /dev/virtio-ports/bench.0"])
        reader.join(300)
        theirs = self.a.stream_mb / (time.monotonic() - t)
        raw.close()
        if got[0] != size:
            raise RuntimeError("raw stream: %d of %d bytes" % (got[0], size))
        self.report(figure, ours, theirs, "MiB/s", ours / theirs, goal,
                    "%d MiB: %s" % (self.a.stream_mb, producer))

    def rpc(self):
        tool = os.path.join(self.a.build, "bench", "rpc-bench")
        echo_addr = "ipc://%s/echo.sock" % self.tmp
        echo = subprocess.Popen([tool, "echo", echo_addr])
        req = json.dumps({"id": 1, "method": "sandbox.v1.System.Version", "params": {}})
        addr = os.environ["SANDBOXD_ADDRESS"]
        try:
            for threads in (1, 16):
                args = [str(threads), str(self.a.rpc_seconds), req]
                ours = float(subprocess.run([tool, "call", addr] + args, check=True, text=True,
                                            capture_output=True).stdout)
                raw = float(subprocess.run([tool, "call", echo_addr] + args, check=True,
                                           text=True, capture_output=True).stdout)
                self.report("rpc_%dthreads" % threads, ours, raw, "calls/s", ours / raw,
                            "ours/raw >= 0.5", "System.Version")
        finally:
            echo.kill()

    def tenants(self):
        """rpc_tenants: four clients of four tenants at once against four
        clients of one tenant, on a second sandboxd of their own (the same
        calls, the same number of processes)."""
        tool = os.path.join(self.a.build, "bench", "rpc-bench")
        d = tempfile.mkdtemp(dir=self.tmp)
        os.chmod(self.tmp, 0o711)
        os.chmod(d, 0o711)
        tenants = [{"name": "t%d" % i, "uid": 61000 + i} for i in range(4)]
        with open(os.path.join(d, "tenants.json"), "w") as f:
            json.dump({"tenants": tenants}, f)
        rt = os.path.join(d, "rt")
        daemon = subprocess.Popen([os.path.join(self.a.build, "daemon", "sandboxd"),
                                   "--runtime-dir", rt, "--state-dir", os.path.join(d, "state"),
                                   "--no-templates", "--tenants", os.path.join(d, "tenants.json")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        req = json.dumps({"id": 1, "method": "sandbox.v1.Sandboxes.List", "params": {}})
        sock = lambda t: "ipc://%s/tenants/%s/rpc.sock" % (rt, t["name"])

        def together(addresses):
            procs = [subprocess.Popen([tool, "call", a, "1", str(self.a.rpc_seconds), req],
                                      stdout=subprocess.PIPE, text=True) for a in addresses]
            return sum(float(p.communicate()[0]) for p in procs)
        try:
            for t in tenants:
                wait_for(sock(t)[len("ipc://"):])
            # Side by side, in turns (the machine's noise falls on both).
            ones, fours = [], []
            for i in range(self.a.reps):
                runs = [(ones, [sock(tenants[0])] * 4), (fours, [sock(t) for t in tenants])]
                for out, addresses in (runs if i % 2 == 0 else runs[::-1]):
                    out.append(together(addresses))
            one, four = statistics.median(ones), statistics.median(fours)
            self.report("rpc_tenants", four, one, "calls/s", four / one,
                        "four tenants/one >= 0.95",
                        "Sandboxes.List, 4 clients; median of %d" % self.a.reps)
        finally:
            daemon.terminate()
            daemon.wait()

    def rss_kb(self, pid):
        with open("/proc/%d/status" % pid) as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def pss_kb(self, pid):
        with open("/proc/%d/smaps_rollup" % pid) as f:
            return int(re.search(r"^Pss:\s+(\d+)", f.read(), re.M).group(1))

    def memory(self, figure="memory", daemon_pid=None, env=None):
        """Host PSS per idle cold sandbox: its QEMU's (shared pages, the
        binary and the initramfs, counted in shares) and what the daemon
        grew by, after idle_seconds."""
        n = self.a.idle
        daemon_pid = daemon_pid or self.a.daemon_pid
        ctl = lambda *args: subprocess.run([self.ctl, *args], env=env, check=True, text=True,
                                           capture_output=True).stdout
        inspect = lambda name: json.loads(ctl("--json", "inspect", name))[0]
        before = self.rss_kb(daemon_pid)
        names = ["idle%d" % i for i in range(n)]
        for name in names:
            ctl("create", "--name", name)
        time.sleep(self.a.idle_seconds)
        qemu = sum(self.pss_kb(inspect(x)["qemu_pid"]) for x in names)
        daemon = max(0, self.rss_kb(daemon_pid) - before)
        per = (qemu + daemon) / n / 1024
        guest = inspect(names[0])["memory_mb"]
        release = json.loads(ctl("--json", "version"))["server"].get("guest_kernel_release", "?")
        with open("/proc/meminfo") as f:
            total = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1)) / 1024
        ctl("rm", "-f", *names)
        self.report(figure, per, guest, "MiB", per / guest, "<= 0.40",
                    "host PSS per idle sandbox vs guest RAM, %d sandboxes, %d s idle, kernel %s: "
                    "about %d fit in this machine's %d MiB"
                    % (n, self.a.idle_seconds, release, total // per, total))

    def kernels(self):
        """sandboxd's own guest kernel (kernel/) against Debian's, each on a
        sandboxd of its own: cold_start_own, `run --rm -- true`, in turns;
        memory_debian, the memory figure on Debian's kernel."""
        debian = os.path.join(self.a.build, "guest-agent", "sandbox-initramfs.img")
        version = json.loads(self.sandboxctl("--json", "version"))["server"]
        if version["initramfs"] == os.path.realpath(debian):
            print("cold_start_own: skipped (sandboxd's own kernel is not built: "
                  "scripts/build-kernel.sh)", flush=True)
            return
        d = tempfile.mkdtemp(dir=self.tmp, prefix="k")
        log = open(os.path.join(d, "sandboxd.log"), "w")
        daemon = subprocess.Popen([os.path.join(self.a.build, "daemon", "sandboxd"),
                                   "--runtime-dir", os.path.join(d, "rt"),
                                   "--state-dir", os.path.join(d, "state"), "--stop-on-exit",
                                   "--no-templates", "--initramfs", debian], stderr=log)
        env = dict(os.environ, SANDBOXD_ADDRESS="ipc://%s/rt/rpc.sock" % d)
        try:
            wait_for(os.path.join(d, "rt", "rpc.sock"))
            own, theirs = [], []
            for i in range(max(3, self.a.reps)):
                runs = [(own, None), (theirs, env)]
                for out, e in (runs if i % 2 == 0 else runs[::-1]):
                    out.append(self.timed([self.ctl, "run", "--rm", "--", "true"], e))
            o, os_ = median_spread(own)
            t, ts = median_spread(theirs)
            self.report("cold_start_own", o, t, "s", o / t, "(report)",
                        "`run --rm -- true`, kernel %s vs Debian's; spreads %.2f / %.2f s"
                        % (version.get("guest_kernel_release", "?"), os_, ts))
            self.memory("memory_debian", daemon.pid, env)
        finally:
            daemon.terminate()
            daemon.wait()

    @staticmethod
    def cores_speedup():
        """How much faster the cores run CPU-bound loops side by side than
        one after the other (os.cpu_count() for perfect cores): what the
        ideal of concurrency and burst assumes."""
        loop = [sys.executable, "-c", "for i in range(10**7): pass"]
        t = time.monotonic()
        subprocess.run(loop, check=True)
        one = time.monotonic() - t
        n = os.cpu_count()
        t = time.monotonic()
        for p in [subprocess.Popen(loop) for _ in range(n)]:
            p.wait()
        return n * one / (time.monotonic() - t)

    def concurrency(self):
        """concurrency (8 at once) and burst (30 at once): every create must
        succeed (the daemon queues cold boots beyond its slots), in about
        the time the cores need for them one after the other."""
        # One boot alone, the median of three (a single first one after
        # sandboxd starts measured up to 1.5x the others).
        times = []
        for _ in range(3):
            times.append(self.timed([self.ctl, "create", "--name", "alone"]))
            self.sandboxctl("rm", "-f", "alone")
        alone = sorted(times)[1]
        speedup = self.cores_speedup()
        for figure, m in (("concurrency", self.a.concurrent), ("burst", self.a.burst)):
            t = time.monotonic()
            procs = [subprocess.Popen([self.ctl, "create", "--name", "c%d" % i],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True) for i in range(m)]
            errors = [p.communicate()[1] for p in procs if p.wait() != 0]
            total = time.monotonic() - t
            self.sandboxctl("rm", "-f", *["c%d" % i for i in range(m)])
            if errors:
                raise RuntimeError("%s: %d of %d concurrent creates failed: %s"
                                   % (figure, len(errors), m, errors[0].strip()))
            ideal = m * alone / os.cpu_count()
            self.report(figure, total, ideal, "s", total / ideal, "<= 1.2",
                        "%d at once, all succeeded; baseline %d x alone (%.2f s) / %d cores; "
                        "the cores' own speed-up: %.2f" % (m, m, alone, os.cpu_count(), speedup))

    # A container's root: busybox, and (full run) Python's library as bulk.
    def make_root(self):
        root = os.path.join(self.tmp, "root")
        for d in ("bin", "etc", "proc", "sys", "dev", "tmp"):
            os.makedirs(os.path.join(root, d))
        shutil.copy(shutil.which("busybox"), os.path.join(root, "bin", "busybox"))
        for applet in ("sh", "true", "cat"):
            os.symlink("busybox", os.path.join(root, "bin", applet))
        lib = "/usr/lib/python3.11"
        if not self.a.quick and os.path.isdir(lib):
            shutil.copytree(lib, root + lib, symlinks=True)
        return root

    def containers(self):
        root = self.make_root()
        note = "%d MiB root" % (int(subprocess.run(["du", "-sm", root], capture_output=True,
                                                    text=True).stdout.split()[0]))
        # image_build: sandboxd's first build (hashing, then mkfs.erofs) next
        # to mkfs.erofs alone on the same tree.
        self.sandboxctl("container", "add", "bench", "--name", "c0", "--rootfs", root)
        events = json.loads("[" + ",".join(
            self.sandboxctl("--json", "events").strip().splitlines()) + "]")
        built = [e for e in events if e.get("type") == "image.ready" and e.get("source") == root]
        ours = built[-1]["build_ms"] / 1000.0
        out = os.path.join(self.tmp, "plain.erofs")
        plain = self.timed(["mkfs.erofs", "-T0", "--quiet", out, root])
        self.report("image_build", ours, plain, "s", ours / plain, "ours/mkfs.erofs <= 2", note)
        # container_start: a run in a container (image cached) next to a run
        # in the guest's own userland.
        with_c, without = [], []
        for _ in range(self.a.reps):
            with_c.append(self.timed([self.ctl, "run", "--rm", "--rootfs", root, "--", "true"]))
            without.append(self.timed([self.ctl, "run", "--rm", "--", "true"]))
        w, ws = median_spread(with_c)
        n, _ = median_spread(without)
        self.report("container_start", w, n, "s", w / n, "<= 1.10", "image cached; spread %.2f s" % ws)

    # ---- networking ----
    def fetch_rate(self, port, path="/big"):
        """Median MB/s of fetching @path over loopback."""
        rates = []
        for _ in range(self.a.reps):
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{speed_download}",
                                  "-m", "120", "http://127.0.0.1:%d%s" % (port, path)],
                                 check=True, capture_output=True, text=True).stdout
            rates.append(float(out) / 1e6)
        return statistics.median(rates)

    def request_times(self, port, n):
        """Each of @n sequential HTTP/1.0 requests for /small (a new
        connection each, as busybox httpd closes it)."""
        times = []
        for _ in range(n):
            t = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
                c.sendall(b"GET /small HTTP/1.0\r\n\r\n")
                while c.recv(65536):
                    pass
            times.append(time.monotonic() - t)
        return times

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def serve_script(self):
        return ("mkdir -p /www && head -c %d /dev/zero >/www/big && echo hi >/www/small"
                % (self.a.net_mb << 20))

    def network(self):
        """net_http and net_rr: a published port of ours (sandbox-slirp) next to bare
        QEMU's -netdev user,hostfwd= on the same guest; podman + runc (a
        shared-kernel container behind its own port forwarder) as a note."""
        hp = self.free_port()
        self.sandboxctl("create", "--name", "netb", "-m", "512", "-p", "%d:80" % hp)
        self.sandboxctl("exec", "netb", "--", "sh", "-c", self.serve_script()
                        + " && httpd -p 80 -h /www")
        ours_bw = self.fetch_rate(hp)
        ours_rr = self.request_times(hp, self.a.requests)

        bp = self.free_port()

        def user_net(argv):
            i = argv.index("-netdev")
            argv[i + 1] = "user,id=net0,hostfwd=tcp:127.0.0.1:%d-:80" % bp
            # QEMU's slirp at its default MTU, not ours
            return [re.sub(r"(sandboxd\.net=[^ ]*),65520", r"\1,1500", x) for x in argv]
        q, ga, _ = self.start_ga_vm("netb", user_net)
        try:
            ga.exec_wait("/bin/sh", ["-c", self.serve_script() + " && httpd -p 80 -h /www"])
            bare_bw = self.fetch_rate(bp)
            bare_rr = self.request_times(bp, self.a.requests)
        finally:
            q.kill()
            q.wait()
        self.sandboxctl("rm", "-f", "netb")
        note = "%d MiB, median of %d" % (self.a.net_mb, self.a.reps)
        podman = self.podman_rate()
        if podman:
            note += "; podman+runc %.4g MB/s, p50 %.3g ms" % podman
        self.report("net_http", ours_bw, bare_bw, "MB/s", ours_bw / bare_bw, ">= 0.9", note)
        o, b = pct(ours_rr, 50) * 1000, pct(bare_rr, 50) * 1000
        self.report("net_rr", o, b, "ms", o / b, "<= 1.1", "p50 of %d requests" % self.a.requests)

    SINK = """
import socket, sys, time
port, want, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(4)
while True:
    c, _ = s.accept()
    got, first = 0, None
    while got < want:
        b = c.recv(1 << 20)
        if not b:
            break
        first = first or time.monotonic()
        got += len(b)
    last = time.monotonic()
    c.close()
    with open(out, "a") as f:
        f.write("%d %f\\n" % (got, last - first if first else 0))
"""

    def test_host(self):
        """A test host in a network namespace of ours (a veth pair): HTTP
        on :8000 serving /big, and a sink on :9000 that times what it
        receives. Returns (address, sink log, cleanup)."""
        ns, veth = "sbxb%d" % os.getpid(), "sbxbh%d" % os.getpid()
        net = "10.%d.79" % (os.getpid() % 200 + 20)
        www = tempfile.mkdtemp(dir=self.tmp)
        with open(os.path.join(www, "big"), "wb") as f:
            f.write(os.urandom(self.a.net_mb << 20))
        sink_log = os.path.join(self.tmp, "sink.log")
        cmds = [["ip", "netns", "add", ns],
                ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns],
                ["ip", "addr", "add", net + ".1/24", "dev", veth], ["ip", "link", "set", veth, "up"],
                ["ip", "-n", ns, "addr", "add", net + ".2/24", "dev", "eth0"],
                ["ip", "-n", ns, "link", "set", "eth0", "up"],
                ["ip", "-n", ns, "link", "set", "lo", "up"]]
        for c in cmds:
            subprocess.run(c, check=True, capture_output=True)
        procs = [subprocess.Popen(["ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p",
                                   "8000", "-h", www]),
                 subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", self.SINK,
                                   "9000", str(min(self.a.net_mb, 16) << 20), sink_log])]
        time.sleep(0.5)

        def cleanup():
            for p in procs:
                p.kill()
                p.wait()
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["ip", "link", "del", veth], capture_output=True)
        return net + ".2", sink_log, cleanup

    def transfers(self, run, host, sink_log):
        """Median MB/s of the guest fetching /big from @host (timed around
        @run, which runs a shell command in the guest), and of it sending
        as much to the sink (timed by the sink, first byte to last)."""
        size = self.a.net_mb << 20
        # busybox nc sends in a few KiB at a time, which the guest's CPU
        # bounds under TCG (~3 MB/s, ours and bare alike): a smaller upload.
        up_size = min(size, 16 << 20)
        down, up = [], []
        get = "printf 'GET /big HTTP/1.0\\r\\n\\r\\n' | nc %s 8000 > /dev/null" % host
        send = "head -c %d /dev/zero | nc %s 9000" % (up_size, host)
        for _ in range(self.a.reps):
            t = time.monotonic()
            run(get)
            down.append(size / (time.monotonic() - t) / 1e6)
            open(sink_log, "w").close()
            run(send)
            for _ in range(100):
                lines = open(sink_log).read().split()
                if lines:
                    break
                time.sleep(0.1)
            got, secs = int(lines[0]), float(lines[1])
            up.append(got / secs / 1e6 if got == up_size and secs > 0 else 0.0)
        return statistics.median(down), statistics.median(up)

    def net_transfers(self):
        """net_download and net_upload: the guest fetching from and sending
        to a test host in a network namespace, through our user network
        next to bare QEMU's -netdev user (libslirp inside QEMU)."""
        host, sink_log, cleanup = self.test_host()
        try:
            self.sandboxctl("create", "--name", "netd", "-m", "512", "--network", "user")
            ours = self.transfers(
                lambda cmd: self.sandboxctl("exec", "netd", "--", "sh", "-c", cmd), host, sink_log)

            def user_net(argv):
                i = argv.index("-netdev")
                argv[i + 1] = "user,id=net0"
                return [re.sub(r"(sandboxd\.net=[^ ]*),65520", r"\1,1500", x) for x in argv]
            q, ga, _ = self.start_ga_vm("netd", user_net)  # netd's command line, bare
            self.sandboxctl("rm", "-f", "netd")
            try:
                bare = self.transfers(lambda cmd: ga.exec_wait("/bin/sh", ["-c", cmd]), host,
                                      sink_log)
            finally:
                q.kill()
                q.wait()
        finally:
            cleanup()
        note = "%d MiB from, %d MiB to a test host in a netns, median of %d" % (
            self.a.net_mb, min(self.a.net_mb, 16), self.a.reps)
        self.report("net_download", ours[0], bare[0], "MB/s", ours[0] / bare[0], ">= 0.9", note)
        self.report("net_upload", ours[1], bare[1], "MB/s", ours[1] / bare[1] if bare[1] else 0,
                    ">= 0.9", note)

    def podman_rate(self):
        """podman + runc serving the same files from the built-in busybox root
        (imported offline), or None without podman."""
        if not shutil.which("podman") or not shutil.which("runc"):
            return None
        tar = os.path.join(self.a.build, "guest-agent", "sandbox-rootfs.tar")
        pp = self.free_port()
        try:
            subprocess.run(["podman", "import", tar, "localhost/sandboxd-bench"], check=True,
                           capture_output=True)
            cid = subprocess.run(
                ["podman", "--runtime", "runc", "run", "-d", "--rm", "--ulimit", "nofile=1024:1024",
                 "--ulimit", "nproc=1024:1024", "-p", "127.0.0.1:%d:80" % pp,
                 "localhost/sandboxd-bench", "sh", "-c",
                 self.serve_script() + " && exec httpd -f -p 80 -h /www"],
                check=True, capture_output=True, text=True).stdout.strip()
        except subprocess.CalledProcessError as e:
            print("bench: podman: %s" % e.stderr, file=sys.stderr)
            return None
        try:
            for _ in range(100):
                try:
                    self.request_times(pp, 1)
                    break
                except OSError:
                    time.sleep(0.1)
            rate = self.fetch_rate(pp)
            rr = pct(self.request_times(pp, self.a.requests), 50) * 1000
            return rate, rr
        finally:
            subprocess.run(["podman", "rm", "-f", cid], capture_output=True)

    def cold_start_network(self):
        """A boot with --network user next to one without, interleaved."""
        with_net, without = [], []
        for _ in range(self.a.reps):
            with_net.append(self.timed([self.ctl, "run", "--rm", "--network", "user", "--", "true"]))
            without.append(self.timed([self.ctl, "run", "--rm", "--", "true"]))
        w, ws = median_spread(with_net)
        n, _ = median_spread(without)
        self.report("cold_start_net", w, n, "s", w / n, "<= 1.05", "spread %.2f s" % ws)

    # ---- the OCI runtime ----
    def oci_run(self):
        """podman run --rm IMG true with sandbox-runtime vs sandboxctl run
        --rm --rootfs on the same root; podman + runc as a note."""
        if not shutil.which("podman"):
            print("bench: podman is not installed: no oci_run", file=sys.stderr)
            return
        d = tempfile.mkdtemp(dir=self.tmp)
        root = os.path.join(d, "root")
        os.mkdir(root)
        tar = os.path.join(self.a.build, "guest-agent", "sandbox-rootfs.tar")
        subprocess.run(["tar", "-xf", tar, "-C", root], check=True)
        # vfs: no overlay mounts left behind in the bench's temporary dir.
        podman = ["podman", "--root", os.path.join(d, "store"), "--runroot", os.path.join(d, "run"),
                  "--tmpdir", os.path.join(d, "tmp"), "--cgroup-manager", "cgroupfs",
                  "--storage-driver", "vfs"]
        subprocess.run(podman + ["import", tar, "localhost/bench"], check=True, capture_output=True)
        # conmon runs it from elsewhere: an absolute path.
        ours = podman + ["--runtime", os.path.abspath(os.path.join(self.a.build, "oci",
                                                                   "sandbox-runtime")),
                         "--runtime-flag", "address=" + os.environ["SANDBOXD_ADDRESS"],
                         "run", "--rm", "--network", "none", "localhost/bench", "true"]
        runc = podman + ["--runtime", "runc", "run", "--rm", "--network", "none",
                         "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                         "localhost/bench", "true"]
        direct = [self.ctl, "run", "--rm", "--rootfs", root, "--", "true"]
        self.timed(direct)  # the image into the cache first
        o, b, r = [], [], []
        for _ in range(self.a.reps):
            o.append(self.timed(ours))
            b.append(self.timed(direct))
            if shutil.which("runc"):
                r.append(self.timed(runc))
        om, os_ = median_spread(o)
        bm, _ = median_spread(b)
        note = "spread %.2f s" % os_
        if r:
            note += "; podman+runc %.3g s" % statistics.median(r)
        self.report("oci_run", om, bm, "s", om / bm, "<= 1.15", note)

    # ---- templates ----
    def templates(self):
        """A second sandboxd with templates (the main one boots cold):
        template_start, p50 create -> running of clones vs cold creates;
        run_true, run --rm true from a template vs podman + runc; density,
        PSS per idle clone vs its guest RAM."""
        d = tempfile.mkdtemp(dir=self.tmp, prefix="t")
        log = open(os.path.join(d, "sandboxd.log"), "w")
        sandboxd = os.path.join(self.a.build, "daemon", "sandboxd")
        daemon = subprocess.Popen([sandboxd, "--runtime-dir", os.path.join(d, "rt"), "--state-dir",
                                   os.path.join(d, "state"), "--stop-on-exit"], stderr=log)
        env = dict(os.environ, SANDBOXD_ADDRESS="ipc://%s/rt/rpc.sock" % d)
        tdir = os.path.join(d, "state", "templates")
        try:
            deadline = time.monotonic() + 120
            while not (os.path.isdir(tdir) and any(f.endswith(".vmstate")
                                                   for f in os.listdir(tdir))):
                if time.monotonic() > deadline:
                    raise RuntimeError("no template within 120 s")
                time.sleep(0.2)
            n = 2 if self.a.quick else 10
            clones = []
            for i in range(n):
                clones.append(self.timed([self.ctl, "create", "--name", "tpl%d" % i], env))
            cold = []
            for i in range(self.a.reps):
                cold.append(self.timed([self.ctl, "create", "--name", "cold%d" % i]))
            self.sandboxctl("rm", "-f", *["cold%d" % i for i in range(self.a.reps)])
            c, b = statistics.median(clones), statistics.median(cold)
            self.report("template_start", c, b, "s", c / b, "<= 0.15",
                        "p50 of %d creates of clones vs %d cold" % (n, self.a.reps))
            time.sleep(self.a.idle_seconds)
            pss = 0
            for i in range(n):
                sb = json.loads(subprocess.run([self.ctl, "--json", "inspect", "tpl%d" % i],
                                               env=env, check=True, capture_output=True,
                                               text=True).stdout)[0]
                with open("/proc/%d/smaps_rollup" % sb["qemu_pid"]) as f:
                    pss += int(re.search(r"Pss:\s+(\d+)", f.read()).group(1))
            per = pss / n / 1024
            self.report("density", per, sb["memory_mb"], "MiB", per / sb["memory_mb"], "<= 0.35",
                        "PSS per idle clone, %d clones, %d s idle" % (n, self.a.idle_seconds))
            subprocess.run([self.ctl, "rm", "-f", *["tpl%d" % i for i in range(n)]], env=env,
                           check=True, capture_output=True)
            ours = [self.timed([self.ctl, "run", "--rm", "--", "true"], env)
                    for _ in range(self.a.reps)]
            o = statistics.median(ours)
            theirs = self.podman_runc_true()
            if theirs:
                self.report("run_true", o, theirs, "s", o / theirs, "(report)",
                            "`sandboxctl run --rm -- true` from a template vs podman + runc")
        finally:
            daemon.terminate()
            daemon.wait()
            log.close()
        self.warm_start(d, b)

    def warm_start(self, d, cold):
        """warm_start: p50 create -> running taken from a warm pool (the
        pool refilled between creates) vs the cold creates' p50."""
        logpath = os.path.join(d, "warm.log")
        log = open(logpath, "w")
        sandboxd = os.path.join(self.a.build, "daemon", "sandboxd")
        daemon = subprocess.Popen([sandboxd, "--runtime-dir", os.path.join(d, "wrt"), "--state-dir",
                                   os.path.join(d, "state"), "--stop-on-exit", "--warm", "1"],
                                  stderr=log)
        env = dict(os.environ, SANDBOXD_ADDRESS="ipc://%s/wrt/rpc.sock" % d)

        def warm_lines():
            with open(logpath) as f:
                return f.read().count(": 1 warm")
        try:
            times, inner = [], []
            for i in range(2 if self.a.quick else 10):
                deadline = time.monotonic() + 120
                while warm_lines() < i + 1:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the warm pool did not refill within 120 s")
                    time.sleep(0.05)
                name = "warm%d" % i
                times.append(self.timed([self.ctl, "create", "--name", name], env))
                sb = json.loads(subprocess.run([self.ctl, "--json", "inspect", name], env=env,
                                               check=True, capture_output=True,
                                               text=True).stdout)[0]
                if sb.get("boot") != "warm":
                    raise RuntimeError("%s was not taken from the pool" % name)
                inner.append(sb["boot_ms"])
                subprocess.run([self.ctl, "rm", "-f", name], env=env, check=True,
                               capture_output=True)
            w = statistics.median(times)
            self.report("warm_start", w, cold, "s", w / cold, "<= 0.03",
                        "p50 of %d `sandboxctl create` from a pool of 1 vs the cold ones; in "
                        "sandboxd (boot_ms) p50 %d ms" % (len(times), statistics.median(inner)))
        finally:
            daemon.terminate()
            daemon.wait()
            log.close()

    def podman_runc_true(self):
        if not (shutil.which("podman") and shutil.which("runc")):
            return None
        d = tempfile.mkdtemp(dir=self.tmp)
        podman = ["podman", "--root", os.path.join(d, "store"), "--runroot", os.path.join(d, "run"),
                  "--tmpdir", os.path.join(d, "tmp"), "--cgroup-manager", "cgroupfs",
                  "--storage-driver", "vfs"]
        tar = os.path.join(self.a.build, "guest-agent", "sandbox-rootfs.tar")
        subprocess.run(podman + ["import", tar, "localhost/bench"], check=True, capture_output=True)
        argv = podman + ["--runtime", "runc", "run", "--rm", "--network", "none", "--ulimit",
                         "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "localhost/bench",
                         "true"]
        return statistics.median([self.timed(argv) for _ in range(self.a.reps)])

    # ---- terminals ----
    @staticmethod
    def echo_times(write, read_until, n, key, echoed):
        times = []
        for _ in range(n):
            t = time.monotonic()
            write(key)
            read_until(echoed)
            times.append(time.monotonic() - t)
        return times

    def tty_echo(self):
        """One keystroke echoed through exec -it cat (the guest's terminal
        echoes it) vs a line through exec -i cat (pipes)."""
        import pty
        self.sandboxctl("create", "--name", "ttyb")
        n = self.a.execs
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(self.ctl, [self.ctl, "exec", "-it", "ttyb", "--", "cat"])
        import tty
        tty.setraw(fd)  # no echo on our side: every echo is the guest's
        buf = bytearray()

        def tty_read(want):
            while want not in buf:
                buf.extend(os.read(fd, 4096))
            del buf[:buf.index(want) + len(want)]
        os.write(fd, b"w")  # the first one starts everything
        tty_read(b"w")
        ours = self.echo_times(lambda k: os.write(fd, k), tty_read, n, b"k", b"k")
        os.write(fd, b"\x04")
        os.kill(pid, 9)
        os.waitpid(pid, 0)

        p = subprocess.Popen([self.ctl, "exec", "-i", "ttyb", "--", "cat"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, bufsize=0)
        pbuf = bytearray()

        def pipe_read(want):
            while want not in pbuf:
                pbuf.extend(p.stdout.read1(4096) if hasattr(p.stdout, "read1")
                            else os.read(p.stdout.fileno(), 4096))
            del pbuf[:pbuf.index(want) + len(want)]

        def pipe_write(k):
            p.stdin.write(k)
            p.stdin.flush()
        pipe_write(b"w\n")
        pipe_read(b"w\n")
        pipes = self.echo_times(pipe_write, pipe_read, n, b"k\n", b"k\n")
        p.stdin.close()
        p.wait()
        self.sandboxctl("rm", "-f", "ttyb")
        o, b = pct(ours, 50) * 1000, pct(pipes, 50) * 1000
        self.report("tty_echo", o, b, "ms", o / b, "<= 1.2", "p50 of %d keystrokes; pipes: exec -i cat" % n)

    def volumes(self):
        """A volume (virtio-fs, virtiofsd) vs the sandbox's own virtio-scsi
        disk (a raw image on the same host file system, ext4) in one
        sandbox: volume_write and volume_read, sequential dd with
        conv=fsync (reads after dropping the guest's cache), volume_untar,
        2,000 small files; and volume_start, a cold create with one volume
        vs one without."""
        mb = self.a.volume_mb
        vol = tempfile.mkdtemp(dir=self.tmp, prefix="vol")
        os.chown(vol, 4242, 4242)  # a volume is served as its owner, never root
        img = os.path.join(self.tmp, "disk.img")
        with open(img, "wb") as f:
            f.truncate((2 * mb + 256) << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True)
        files = tempfile.mkdtemp(dir=self.tmp, prefix="files")
        for i in range(2000):
            with open(os.path.join(files, "f%04d" % i), "wb") as f:
                f.write(os.urandom(1024 + (i % 4) * 1024))
        tarball = os.path.join(self.tmp, "files.tar")
        subprocess.run(["tar", "-cf", tarball, "-C", files, "."], check=True)
        self.sandboxctl("create", "--name", "volb", "-m", "512M", "-v", vol + ":/vol")
        try:
            req = {"id": 1, "method": "sandbox.v1.Sandboxes.AttachDisk",
                   "params": {"id": "volb", "path": img, "read_only": False}}
            out = subprocess.run(["nanocat", "--req", "--connect", os.environ["SANDBOXD_ADDRESS"],
                                  "--ascii", "--recv-timeout", "30", "--data", json.dumps(req)],
                                 check=True, capture_output=True, text=True).stdout
            if '"disk_id"' not in out:
                raise RuntimeError("AttachDisk: %s" % out)

            def guest(cmd, stdin=None):
                opts = ["-i"] if stdin else []
                return subprocess.run([self.ctl, "exec", *opts, "volb", "--", "sh", "-c", cmd],
                                      check=True, stdin=stdin, capture_output=True).stdout

            guest("for _ in $(seq 50); do ls /dev/sd? >/dev/null 2>&1 && break; sleep 0.1; done; "
                  "mkdir -p /disk && mount -t ext4 $(ls /dev/sd? | tail -1) /disk")
            with open(tarball, "rb") as f:
                guest("cat >/tmp/files.tar", stdin=f)

            def timed_guest(cmd):
                t = time.monotonic()
                guest(cmd)
                return time.monotonic() - t
            res = {}
            for name, cmd in [
                    ("write", "dd if=/dev/zero of=%%s/w bs=1M count=%d conv=fsync 2>/dev/null" % mb),
                    ("read", "echo 3 >/proc/sys/vm/drop_caches; dd if=%s/w of=/dev/null bs=1M "
                     "2>/dev/null"),
                    ("untar", "rm -rf %s/u; mkdir %s/u && tar -xf /tmp/files.tar -C %s/u && sync")]:
                for where in ("/vol", "/disk"):
                    res[(name, where)] = []
                for _ in range(self.a.reps):
                    for where in ("/vol", "/disk"):
                        res[(name, where)].append(timed_guest(cmd.replace("%s", where)))
            for name in ("write", "read"):
                v, _ = median_spread(res[(name, "/vol")])
                dk, _ = median_spread(res[(name, "/disk")])
                self.report("volume_" + name, mb / v, mb / dk, "MiB/s", dk / v,
                            "volume/disk >= 0.7", "%d MiB sequential, dd conv=fsync" % mb)
            v, _ = median_spread(res[("untar", "/vol")])
            dk, _ = median_spread(res[("untar", "/disk")])
            self.report("volume_untar", v, dk, "s", dk / v, "disk/volume >= 0.5",
                        "2,000 files of 1-4 KiB, then sync")
        finally:
            self.sandboxctl("rm", "-f", "volb")
        with_v, without = [], []
        for i in range(self.a.reps):
            with_v.append(self.timed([self.ctl, "create", "--name", "vs%d" % i, "-v", vol + ":/v"]))
            without.append(self.timed([self.ctl, "create", "--name", "ns%d" % i]))
            self.sandboxctl("rm", "-f", "vs%d" % i, "ns%d" % i)
        w, ws = median_spread(with_v)
        n, _ = median_spread(without)
        self.report("volume_start", w, n, "s", w / n, "<= 1.2",
                    "cold create with one volume vs none; spread %.2f s" % ws)

    def write_table(self):
        out = os.path.join(self.a.build, "bench", "results.md")
        with open(out, "w") as f:
            f.write("| figure | ours | baseline | ratio | goal | note |\n|---|---|---|---|---|---|\n")
            for r in self.rows:
                f.write("| %s |\n" % " | ".join(r))
        print("table: %s" % out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", required=True)
    ap.add_argument("--daemon-pid", type=int, required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=["network", "tty", "oci", "templates", "tenants", "exec",
                                       "boots", "memory", "kernels", "volumes"],
                    help="just these figures (for development)")
    a = ap.parse_args()
    a.reps, a.execs, a.stream_mb, a.rpc_seconds = (1, 10, 32, 1) if a.quick else (5, 50, 256, 3)
    a.idle, a.idle_seconds, a.concurrent = (2, 2, 2) if a.quick else (10, 30, 8)
    a.burst = 4 if a.quick else 30
    a.net_mb, a.requests = (8, 20) if a.quick else (100, 200)
    a.volume_mb = 32 if a.quick else 256
    b = Bench(a)
    if a.only == "network":
        b.network()
        b.net_transfers()
        b.cold_start_network()
    elif a.only == "tty":
        b.tty_echo()
    elif a.only == "oci":
        b.oci_run()
    elif a.only == "templates":
        b.templates()
    elif a.only == "tenants":
        b.tenants()
    elif a.only == "exec":
        b.sandboxctl("create", "--name", "bench")
        b.exec_and_stream()
        b.sandboxctl("rm", "-f", "bench")
    elif a.only == "boots":
        b.concurrency()
    elif a.only == "memory":
        b.memory()
    elif a.only == "kernels":
        b.kernels()
    elif a.only == "volumes":
        b.volumes()
    if a.only:
        b.write_table()
        return 0
    b.sandboxctl("create", "--name", "bench")
    b.cold_start()
    b.exec_and_stream()
    b.rpc()
    b.tenants()
    b.network()
    b.net_transfers()
    b.cold_start_network()
    b.tty_echo()
    b.oci_run()
    b.templates()
    b.containers()
    b.volumes()
    b.sandboxctl("rm", "-f", "bench")
    b.memory()
    b.kernels()
    b.concurrency()
    b.write_table()


if __name__ == "__main__":
    sys.exit(main())
