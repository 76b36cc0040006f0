#!/bin/bash
# 20 run --rm cycles leave nothing behind: the daemon's fds, its memory and
# the runtime dir return to where they started; no QEMU is left.
. "$(dirname "$0")/lib.sh"

start_daemon "$TMP/d" || { echo "Bail out! sandboxd did not start"; exit 1; }
fds() { ls /proc/"$DAEMON_PID"/fd | wc -l; }
# Once every --rm sandbox is gone (run returns before its removal ends)
# and the count holds still for half a second.
settled_fds() {
  for _ in $(seq 100); do [ -z "$("$SANDBOXCTL" ls -q)" ] && break; sleep 0.1; done
  local a b
  for _ in $(seq 20); do a=$(fds); sleep 0.5; b=$(fds); [ "$a" = "$b" ] && break; done
  echo "$b"
}
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/"$DAEMON_PID"/status; }
files() { find "$TMP/d" | sort; }

# One cycle first, so that one-time allocations (GLib's thread pool, the
# main context's sources) are in the baseline.
"$SANDBOXCTL" run --rm -- true || { echo "Bail out! run failed"; exit 1; }
fd0=$(settled_fds); rss0=$(rss_kb); files0=$(files)
failed=0
for i in $(seq 20); do
  "$SANDBOXCTL" run --rm -- sh -c "echo cycle $i; echo err >&2" >/dev/null 2>&1 || failed=$((failed + 1))
done
is "$failed" 0 "20 run --rm cycles succeed"
is "$(settled_fds)" "$fd0" "the daemon's open fds are back to $fd0"
is "$(files)" "$files0" "the runtime dir holds what it held before"
is "$(pgrep -f -- "sandboxd:$TMP/d/" | wc -l)" 0 "no QEMU process is left"
rss1=$(rss_kb)
# Allocator caches make RSS move a little; a leak of a sandbox's worth per
# cycle (output logs, JSON, channel buffers) would show as megabytes.
if ldd "$SANDBOXD" | grep -q libasan; then
  # ASan holds freed memory in quarantine; LeakSanitizer checks at exit instead.
  echo "ok $((tap_n + 1)) # SKIP RSS under AddressSanitizer (${rss0} kB -> ${rss1} kB)"
  tap_n=$((tap_n + 1))
else
  [ "$rss1" -lt $((rss0 + 2048)) ]; ok $? "the daemon's RSS stays put (${rss0} kB -> ${rss1} kB)"
fi

# A process that exited is kept (its exit and output stay readable) but
# holds no fd: 100 of them in one sandbox took 200 of the daemon's; nor
# does one that runs (4,096 may, in each sandbox).
"$SANDBOXCTL" create --name keep >/dev/null || { echo "Bail out! create failed"; exit 1; }
"$SANDBOXCTL" exec keep -- true
fd1=$(fds)
for i in $(seq 60); do "$SANDBOXCTL" exec keep -- echo "kept $i" >/dev/null; done
fd2=$(fds)
[ "$fd2" -le $((fd1 + 2)) ]; ok $? "60 exited processes kept: the daemon's fds $fd1 -> $fd2"
is "$("$SANDBOXCTL" --json ps keep | grep -c '"exited"')" 61 "... and all 61 are listed"
is "$("$SANDBOXCTL" logs -p 31 keep 2>&1)" "kept 30" "... with their output readable"
# Nor does a live one: 30 processes running in it.
for _ in $(seq 30); do
  nanocat --req --connect "$SANDBOXD_ADDRESS" --recv-timeout 10 --ascii \
    --data '{"id": 1, "method": "sandbox.v1.Processes.Exec", "params": {"sandbox_id": "keep", "args": ["sleep", "600"]}}' >/dev/null 2>&1
done
fd3=$(fds)
is "$("$SANDBOXCTL" ps keep | grep -c running)" 30 "30 processes run in it"
[ "$fd3" -le $((fd1 + 2)) ]; ok $? "... and the daemon's fds stay put: $fd1 -> $fd3"
"$SANDBOXCTL" rm -f keep >/dev/null
tap_done
