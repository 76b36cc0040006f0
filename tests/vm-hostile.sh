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
esac
sleep 1000
INIT
chmod +x "$TMP/over/init" "$TMP/over/agent-real"
cp "$BUILD/guest-agent/sandbox-initramfs.img" "$TMP/hostile.img"
# The kernel unpacks concatenated archives in order: ours replaces /init.
(cd "$TMP/over" && find . | cpio -o -H newc -R 0:0 --quiet) >>"$TMP/hostile.img"
release=$(cat "$BUILD/guest-agent/sandbox-initramfs.release")

# --output-buffer 1: output nobody reads is acknowledged up to 1 MiB.
start_daemon "$TMP/d" --initramfs "$TMP/hostile.img" --kernel "/boot/vmlinuz-$release" --output-buffer 1 ||
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

out=$("$SANDBOXCTL" exec healthy -- echo after)
is "$out" "after" "the healthy sandbox still works afterwards"
"$SANDBOXCTL" version >/dev/null; ok $? "the daemon keeps serving"
is "$("$SANDBOXCTL" ls -q | wc -l)" 1 "only the healthy sandbox is left (--rm removed the failed ones)"
kill -0 "$DAEMON_PID"; ok $? "sandboxd is alive"
tap_done
