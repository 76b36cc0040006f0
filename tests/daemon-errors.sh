#!/bin/bash
# sandboxd refuses bad configuration at start, saying what is wrong.
. "$(dirname "$0")/lib.sh"

out=$("$SANDBOXD" --runtime-dir "$TMP/a" --kernel "$TMP/no-such-kernel" 2>&1); rc=$?
is "$rc" 1 "a missing kernel makes sandboxd exit 1"
contains "$out" "guest kernel $TMP/no-such-kernel: No such file or directory" "... and says which kernel"

out=$("$SANDBOXD" --runtime-dir "$TMP/a" --initramfs "$TMP/no-such.img" 2>&1); rc=$?
is "$rc" 1 "a missing initramfs makes sandboxd exit 1"
contains "$out" "guest initramfs $TMP/no-such.img: No such file or directory" "... and says which initramfs"

touch "$TMP/a-file"
out=$("$SANDBOXD" --runtime-dir "$TMP/a-file/sub" 2>&1); rc=$?
is "$rc" 1 "a runtime dir that cannot be created makes sandboxd exit 1"
contains "$out" "runtime dir $TMP/a-file/sub is not writable" "... and names it"

mkdir -p "$TMP/ro"
mount -t tmpfs -o ro tmpfs "$TMP/ro" 2>/dev/null && {
  out=$("$SANDBOXD" --runtime-dir "$TMP/ro/rt" 2>&1); rc=$?
  is "$rc" 1 "a read-only runtime dir makes sandboxd exit 1"
  contains "$out" "runtime dir $TMP/ro/rt is not writable" "... and names it"
  umount "$TMP/ro"
}

long=$TMP/$(printf 'x%.0s' $(seq 100))
out=$("$SANDBOXD" --runtime-dir "$long" 2>&1); rc=$?
is "$rc" 1 "a runtime dir too long for its sockets is refused"
contains "$out" "is too long" "... with the reason"

# A runtime dir someone else could change is refused: the daemon writes
# sandbox dirs and state.json there as root, and signals the pids it reads.
mkdir -m 0777 "$TMP/open"
out=$("$SANDBOXD" --runtime-dir "$TMP/open" --accel tcg 2>&1); rc=$?
is "$rc" 1 "a runtime dir writable by others is refused"
contains "$out" "runtime dir $TMP/open is not safe: it is writable by group or others (owner uid 0, mode 0777" "... saying why"
mkdir -m 0700 "$TMP/theirs"; chown 65534 "$TMP/theirs"
out=$("$SANDBOXD" --runtime-dir "$TMP/theirs" --accel tcg 2>&1); rc=$?
is "$rc" 1 "a runtime dir owned by another user is refused"
contains "$out" "it is owned by another user (owner uid 65534" "... saying why"
mkdir -m 0700 "$TMP/real"; ln -s "$TMP/real" "$TMP/link"
out=$("$SANDBOXD" --runtime-dir "$TMP/link" --accel tcg 2>&1); rc=$?
is "$rc" 1 "a runtime dir reached through a symlink is refused"
contains "$out" "its path goes through a symbolic link" "... saying why"
mkdir -m 0700 "$TMP/swapped" "$TMP/elsewhere"; ln -s "$TMP/elsewhere" "$TMP/swapped/sb"
out=$("$SANDBOXD" --runtime-dir "$TMP/swapped" --accel tcg 2>&1); rc=$?
is "$rc" 1 "a runtime dir whose sb/ is a symlink is refused"
contains "$out" "runtime dir $TMP/swapped/sb is not safe" "... naming it"
[ -z "$(ls -A "$TMP/elsewhere")" ]; ok $? "... and nothing was written where the link points"

out=$("$SANDBOXD" --runtime-dir "$TMP/a" --qemu no-such-qemu 2>&1); rc=$?
is "$rc" 1 "a missing QEMU makes sandboxd exit 1"
contains "$out" "QEMU no-such-qemu not found" "... and names it"

out=$("$SANDBOXD" --runtime-dir "$TMP/a" --accel warp 2>&1); rc=$?
is "$rc" 1 "an unknown accelerator is refused"
contains "$out" '--accel must be auto, kvm or tcg, not "warp"' "... naming the value"

# A QEMU that starts (even answers QMP while paused) but whose guest never
# gets anywhere under KVM, as on a PVM host: KVM is not usable.
if [ -c /dev/kvm ]; then
  cat >"$TMP/hung-qemu" <<'EOF'
#!/bin/sh
case " $* " in *" -S "*) cat >/dev/null; exit 0 ;; esac
while :; do sleep 1; done
EOF
  chmod +x "$TMP/hung-qemu"
  start=$(date +%s)
  out=$("$SANDBOXD" --runtime-dir "$TMP/k" --state-dir "$TMP/k-state" --qemu "$TMP/hung-qemu" \
    --accel kvm 2>&1); rc=$?
  is "$rc" 1 "--accel kvm with a KVM whose guests hang is refused"
  contains "$out" "did not power off within 5 s" "... saying the probe's guest never finished"
  [ $(( $(date +%s) - start )) -lt 30 ]; ok $? "... within the probe's timeout"
  out=$("$SANDBOXD" --runtime-dir "$TMP/k" --state-dir "$TMP/k-state" --qemu "$TMP/hung-qemu" \
    --accel kvm 2>&1)
  contains "$out" "remembered from an earlier start" "a second start reuses the probe's verdict"
  # A sandboxd killed while it probes leaves no probe behind.
  "$SANDBOXD" --runtime-dir "$TMP/k2" --state-dir "$TMP/k2-state" --qemu "$TMP/hung-qemu" \
    --accel kvm >/dev/null 2>&1 &
  probing=$!
  for _ in $(seq 50); do pgrep -f -- "$TMP/hung-qemu" >/dev/null && break; sleep 0.1; done
  kill -KILL "$probing"; wait "$probing" 2>/dev/null
  sleep 0.5
  is "$(pgrep -f -- "$TMP/hung-qemu" | wc -l)" 0 "a sandboxd killed mid-probe leaves no probing QEMU"
else
  for _ in 1 2 3 4 5; do ok 0 "# SKIP no /dev/kvm"; done
fi

out=$("$SANDBOXD" --bogus 2>&1); rc=$?
is "$rc" 2 "an unknown option is a usage error (exit 2)"
if [ "$(id -u)" = 0 ]; then
  out=$("$SANDBOXD" --runtime-dir "$TMP/nd" --accel tcg --net-deny 10.0.0.0/8 --net-deny 10.1.2.0/33 2>&1); rc=$?
  is "$rc" 1 "a bad --net-deny address stops sandboxd (exit 1)"
  contains "$out" '--net-deny: "10.1.2.0/33" is not an address or ADDRESS/PREFIX' "... naming it"
else
  for _ in 1 2; do ok 0 "# SKIP --net-deny needs root"; done
fi

deny=""
[ "$(id -u)" = 0 ] && deny="--net-deny 192.0.2.0/24"
start_daemon "$TMP/d1" --accel tcg $deny
ok $? "sandboxd starts with a good configuration"
out=$("$SANDBOXCTL" info)
contains "$out" "agent_backlog_bytes 16777216" "sandboxctl info shows what may wait for a guest"
contains "$out" "ports_per_sandbox 32" "... the ports a sandbox may publish"
if [ -n "$deny" ]; then contains "$out" "net_deny 192.0.2.0/24" "... and the admin's --net-deny list"
else ok 0 "# SKIP --net-deny needs root"; fi
out=$("$SANDBOXD" --runtime-dir "$TMP/d1" --accel tcg 2>&1); rc=$?
is "$rc" 1 "a second sandboxd on the same runtime dir is refused"
contains "$out" "runtime dir $TMP/d1: another sandboxd serves it" "... saying why"

perm=$(stat -c %a "$TMP/d1/rpc.sock")
is "$perm" 600 "the RPC socket is private to its owner (0600)"

kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; rc=$?
is "$rc" 0 "SIGTERM stops sandboxd cleanly (exit 0)"
[ ! -e "$TMP/d1/rpc.sock" ]; ok $? "... and removes its socket"

out=$(SANDBOXD_ADDRESS="ipc://$TMP/d1/rpc.sock" "$SANDBOXCTL" version 2>&1); rc=$?
is "$rc" 1 "sandboxctl without a daemon exits 1"
contains "$out" "sandboxctl: UNAVAILABLE: cannot reach sandboxd at ipc://$TMP/d1/rpc.sock" "... and says it cannot reach it"

# The runtime dir is locked, not just its socket: a deleted socket does not
# let a second sandboxd take the first one's sandboxes.
start_daemon "$TMP/d2" --accel tcg
rm -f "$TMP/d2/rpc.sock"
out=$("$SANDBOXD" --runtime-dir "$TMP/d2" --accel tcg 2>&1); rc=$?
is "$rc" 1 "a second sandboxd is refused even when the first one's socket was deleted"
contains "$out" "runtime dir $TMP/d2: another sandboxd serves it" "... saying why"

# sandbox-runtime's container ids are directory names under --root: one
# that leaves it is refused before anything is made or removed.
RT=$BUILD/oci/sandbox-runtime
mkdir -p "$TMP/ociroot" "$TMP/outside/victim"
for id in ../outside/victim .. "a/b" ""; do
  out=$("$RT" --root "$TMP/ociroot" create --bundle "$TMP" "$id" 2>&1); rc=$?
  [ "$rc" -ne 0 ]; ok $? "sandbox-runtime create refuses the id \"$id\" (exit $rc)"
done
contains "$out" 'invalid container id' "... saying so"
out=$("$RT" --root "$TMP/ociroot" delete --force ../outside/victim 2>&1); rc=$?
[ "$rc" -ne 0 ] && [ -d "$TMP/outside/victim" ]; ok $? "delete --force ../outside/victim is refused and removes nothing"
contains "$out" 'invalid container id "../outside/victim"' "... saying so"

# One client's idle connections must not starve everyone else of fds: under
# systemd's default soft limit (1024) sandboxd raises its own to the hard.
rm -f "$TMP/d3/rpc.sock"
prlimit --nofile=1024:8192 "$SANDBOXD" --runtime-dir "$TMP/d3" --state-dir "$TMP/state" --accel tcg \
  >"$TMP/d3.log" 2>&1 &
d3=$!
daemon_pids="$daemon_pids $d3"
for _ in $(seq 100); do [ -S "$TMP/d3/rpc.sock" ] && break; sleep 0.05; done
is "$(awk '/Max open files/ {print $4}' "/proc/$d3/limits")" 8192 "sandboxd raises its open files limit to the hard one"
python3 - "$TMP/d3/rpc.sock" <<'PY' &
import socket, sys, time
# As a nanomsg REQ client would: connect (again while the backlog is full),
# say the SP header, then hold the connection idle.
conns = []
end = time.time() + 20
while len(conns) < 1100 and time.time() < end:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1])
        s.sendall(b"\x00SP\x00\x00\x30\x00\x00")
        conns.append(s)
    except BlockingIOError:
        s.close()
        time.sleep(0.002)
open(sys.argv[1] + ".held", "w").write("%d" % len(conns))
time.sleep(40)
PY
holder=$!
for _ in $(seq 250); do [ -e "$TMP/d3/rpc.sock.held" ] && break; sleep 0.1; done
is "$(cat "$TMP/d3/rpc.sock.held" 2>/dev/null)" 1100 "one client holds 1,100 connections"
sleep 1
out=$(SANDBOXD_ADDRESS="ipc://$TMP/d3/rpc.sock" timeout 20 "$SANDBOXCTL" version 2>&1); rc=$?
is "$rc" 0 "with 1,100 idle connections held by one client, another is still served"
kill "$holder" 2>/dev/null

tap_done
