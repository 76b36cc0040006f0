#!/bin/bash
# Hostile guests: their /init breaks the agent protocol. Each such sandbox
# fails with the cause and stores no more than it may; the daemon and a
# healthy sandbox beside it carry on. The guest picks its behaviour by the
# sandbox's name (sandboxd.hostname= on its kernel command line).
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/over"
cp "$BUILD/guest-agent/sandbox-agent" "$TMP/over/agent-real"
cp "$BUILD/tests/hostile-agent" "$TMP/over/hostile-agent"
cat >"$TMP/over/init" <<'INIT'
#!/bin/sh
[ -e /proc/cmdline ] || mount -t proc proc /proc
name=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^sandboxd.hostname=//p')
case "$name" in hostile-*) ;; *) exec /agent-real ;; esac
mount -t devtmpfs dev /dev; mount -t sysfs sys /sys
for m in $(cat /lib/modules/sandbox-modules.list); do insmod "$m"; done
dev=""
for i in $(seq 200); do
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = org.sandboxd.agent.0 ] && dev=/dev/${p##*/}
  done
  [ -n "$dev" ] && [ -e "$dev" ] && break
  sleep 0.05
done
echo "hostile guest ($name): $dev" >/dev/console
case "$name" in
  hostile-oversize) # A stdout frame claiming 2 GiB.
    printf '\003\000\000\000\000\000\000\001\177\377\377\377' >"$dev" ;;
  hostile-notjson) # A control frame of 5 bytes that are not JSON.
    printf '\001\000\000\000\000\000\000\000\000\000\000\005{nope' >"$dev" ;;
  hostile-flood) exec /hostile-agent flood "$dev" ;;
  hostile-replay) exec /hostile-agent replay "$dev" ;;
  hostile-deaf) exec /hostile-agent deaf "$dev" ;;
esac
sleep 1000
INIT
chmod +x "$TMP/over/init" "$TMP/over/agent-real"
cp "$INITRAMFS" "$TMP/hostile.img"
# The kernel unpacks concatenated archives in order: ours replaces /init.
(cd "$TMP/over" && find . | cpio -o -H newc -R 0:0 --quiet) >>"$TMP/hostile.img"

# --output-buffer 1: output nobody reads is acknowledged up to 1 MiB.
start_daemon "$TMP/d" --initramfs "$TMP/hostile.img" --kernel "$GUEST_KERNEL" --output-buffer 1 ||
  { echo "Bail out! sandboxd did not start"; exit 1; }

"$SANDBOXCTL" create --name healthy >/dev/null; ok $? "a healthy sandbox boots (the guest runs the real agent)"
"$SANDBOXCTL" run --rm --name hostile-oversize -- true >"$TMP/out1" 2>&1 &
a=$!
"$SANDBOXCTL" run --rm --name hostile-notjson -- true >"$TMP/out2" 2>&1 &
b=$!
out=$("$SANDBOXCTL" exec healthy -- sh -c 'echo still here')
is "$out" "still here" "the healthy sandbox serves while hostile ones boot"
wait $a; rc=$?
is "$rc" 1 "a guest sending an oversized frame fails its sandbox (exit 1)"
contains "$(cat "$TMP/out1")" "bad frame: stdout payload of 2147483647 bytes exceeds the maximum of 65536" "... naming the cause"
wait $b; rc=$?
is "$rc" 1 "a guest sending a control frame that is not JSON fails its sandbox"
contains "$(cat "$TMP/out2")" "bad control frame: not JSON" "... naming the cause"

# An Exec nobody reads the output of (sandboxctl exec would read it).
exec_unread() { # exec_unread SANDBOX
  nanocat --req --connect "$SANDBOXD_ADDRESS" --recv-timeout 5 --ascii \
    --data "{\"id\": 1, \"method\": \"sandbox.v1.Processes.Exec\", \"params\": {\"sandbox_id\": \"$1\", \"args\": [\"true\"]}}" >/dev/null 2>&1
}

# A guest that ignores flow control: 64 MiB of stdout nobody reads.
"$SANDBOXCTL" create --name hostile-flood >/dev/null; ok $? "a flooding guest says hello like any other"
exec_unread hostile-flood
for _ in $(seq 100); do
  state=$("$SANDBOXCTL" inspect hostile-flood | sed -n 's/.*"state" *: *"\([a-z]*\)".*/\1/p' | head -1)
  [ "$state" = failed ] && break; sleep 0.1
done
is "$state" failed "a guest that sends past its window fails its sandbox"
info=$("$SANDBOXCTL" inspect hostile-flood)
contains "$info" "ignored flow control" "... naming the cause"
# What was acknowledged (at most the 1 MiB output buffer, nothing being read)
# plus the 1 MiB window and a frame: no more.
limit=$((2 * 1024 * 1024 + 65536))
stored=$(echo "$info" | sed -n 's/.*"output_bytes" *: *\([0-9]*\).*/\1/p' | head -1)
[ -n "$stored" ] && [ "$stored" -le $limit ]
ok $? "... having stored no more than was acknowledged plus its window (${stored:-?} bytes of 64 MiB sent)"
files=$(du -cb "$TMP/d/sb"/*/proc/* 2>/dev/null | tail -1 | cut -f1)
[ "${files:-0}" -le $limit ]
ok $? "... on disk too (${files:-0} bytes)"

"$SANDBOXCTL" create --name hostile-replay >/dev/null; ok $? "a replaying guest says hello like any other"
exec_unread hostile-replay
for _ in $(seq 100); do
  info=$("$SANDBOXCTL" inspect hostile-replay)
  case "$info" in *'"failed"'*) break ;; esac; sleep 0.1
done
contains "$info" "a replay outside the start of a new session" "a replay outside a resumed session fails the sandbox, naming it"
"$SANDBOXCTL" rm -f hostile-flood hostile-replay >/dev/null; ok $? "both are removed"

# A guest that stops reading its port while a caller queues 30 MiB of Exec
# requests for it (500 of 60 KB; a control message holds 64 KiB at most):
# past 16 MiB waiting the sandbox fails (unbounded, the queue grew with
# every call), and every call is answered.
"$SANDBOXCTL" create --name hostile-deaf >/dev/null; ok $? "a deaf guest says hello like any other"
exec_unread hostile-deaf
python3 - "${SANDBOXD_ADDRESS#ipc://}" hostile-deaf "$TMP/answered" <<'PY' &
import json, socket, struct, sys, time
arg = "x" * 60000
conns = []
for i in range(500):  # as nanomsg REQ clients: the SP header, then one request each
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b"\x00SP\x00\x00\x30\x00\x00")
    s.recv(8)
    body = json.dumps({"id": i, "method": "sandbox.v1.Processes.Exec",
                       "params": {"sandbox_id": sys.argv[2], "args": ["true", arg]}}).encode()
    msg = struct.pack(">I", 0x80000000 | i) + body
    s.sendall(b"\x01" + struct.pack(">Q", len(msg)) + msg)
    conns.append(s)
answered, end = 0, time.time() + 40
for s in conns:  # each gets an answer (an error, once the sandbox failed)
    try:
        s.settimeout(max(0.01, end - time.time()))
        answered += len(s.recv(9)) == 9
    except OSError:
        pass
open(sys.argv[3], "w").write("%d\n" % answered)
PY
sender=$!
for _ in $(seq 300); do
  info=$("$SANDBOXCTL" inspect hostile-deaf)
  case "$info" in *'"failed"'*) break ;; esac; sleep 0.1
done
contains "$info" "the guest does not read its agent port: more than 16 MiB sent to it are waiting" \
  "a guest that stops reading fails its sandbox once 16 MiB wait for it"
wait "$sender"
is "$(cat "$TMP/answered")" 500 "... and each of the 500 Exec calls is answered"
"$SANDBOXCTL" rm -f hostile-deaf >/dev/null

out=$("$SANDBOXCTL" exec healthy -- echo after)
is "$out" "after" "the healthy sandbox still works afterwards"
"$SANDBOXCTL" version >/dev/null; ok $? "the daemon keeps serving"
is "$("$SANDBOXCTL" ls -q | wc -l)" 1 "only the healthy sandbox is left (--rm removed the failed ones)"
kill -0 "$DAEMON_PID"; ok $? "sandboxd is alive"
tap_done
