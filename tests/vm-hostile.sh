#!/bin/bash
# A hostile guest: its /init writes garbage down the agent port. That
# sandbox fails with the cause; the daemon and a healthy sandbox beside it
# carry on. The guest picks its behaviour by its memory size.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/over"
cp "$BUILD/guest-agent/sandbox-agent" "$TMP/over/agent-real"
cat >"$TMP/over/init" <<'INIT'
#!/bin/sh
mem=$(awk '/MemTotal/ {print $2}' /proc/meminfo 2>/dev/null)
[ -n "$mem" ] || { mount -t proc proc /proc; mem=$(awk '/MemTotal/ {print $2}' /proc/meminfo); }
[ "$mem" -gt 210000 ] && exec /agent-real
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
echo "hostile guest ($mem kB): garbage to $dev" >/dev/console
if [ "$mem" -lt 150000 ]; then
  # A stdout frame claiming 2 GiB.
  printf '\003\000\000\000\000\000\000\001\177\377\377\377' >"$dev"
else
  # A control frame of 5 bytes that are not JSON.
  printf '\001\000\000\000\000\000\000\000\000\000\000\005{nope' >"$dev"
fi
sleep 1000
INIT
chmod +x "$TMP/over/init" "$TMP/over/agent-real"
cp "$BUILD/guest-agent/sandbox-initramfs.img" "$TMP/hostile.img"
# The kernel unpacks concatenated archives in order: ours replaces /init.
(cd "$TMP/over" && find . | cpio -o -H newc -R 0:0 --quiet) >>"$TMP/hostile.img"
release=$(cat "$BUILD/guest-agent/sandbox-initramfs.release")

start_daemon "$TMP/d" --initramfs "$TMP/hostile.img" --kernel "/boot/vmlinuz-$release" ||
  { echo "Bail out! sandboxd did not start"; exit 1; }

"$SANDBOXCTL" create --name healthy >/dev/null; ok $? "a healthy sandbox boots (the guest runs the real agent)"
"$SANDBOXCTL" run --rm -m 128M -- true >"$TMP/out1" 2>&1 &
a=$!
"$SANDBOXCTL" run --rm -m 192M -- true >"$TMP/out2" 2>&1 &
b=$!
out=$("$SANDBOXCTL" exec healthy -- sh -c 'echo still here')
is "$out" "still here" "the healthy sandbox serves while hostile ones boot"
wait $a; rc=$?
is "$rc" 1 "a guest sending an oversized frame fails its sandbox (exit 1)"
contains "$(cat "$TMP/out1")" "bad frame: stdout payload of 2147483647 bytes exceeds the maximum of 65536" "... naming the cause"
wait $b; rc=$?
is "$rc" 1 "a guest sending a control frame that is not JSON fails its sandbox"
contains "$(cat "$TMP/out2")" "bad control frame: not JSON" "... naming the cause"
out=$("$SANDBOXCTL" exec healthy -- echo after)
is "$out" "after" "the healthy sandbox still works afterwards"
"$SANDBOXCTL" version >/dev/null; ok $? "the daemon keeps serving"
is "$("$SANDBOXCTL" ls -q | wc -l)" 1 "only the healthy sandbox is left (--rm removed the failed ones)"
kill -0 "$DAEMON_PID"; ok $? "sandboxd is alive"
tap_done
