#!/bin/bash
# The default policy around a real QEMU: seccomp, no_new_privs, its own
# user, namespaces and cgroup; limits that can be tightened, never
# loosened; a guest that eats memory hurts nobody else.
. "$(dirname "$0")/lib.sh"
bail() { echo "Bail out! $1"; diag <"$TMP/d.log"; exit 1; }
field() { sed -n "s/.*\"$2\" : \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" <<<"$1" | head -n 1; }

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP the default policy needs root"; exit 0; }
# Ceilings of the daemon's own: 2 sandboxes, 1000 MiB of guest RAM.
start_daemon "$TMP/d" --max-sandboxes 2 --max-memory 1000 || bail "sandboxd did not start"

"$SANDBOXCTL" run --name p -- true; ok $? "a sandbox boots under the default policy"
json=$("$SANDBOXCTL" --json inspect p)
contains "$json" '"policy" : "default"' "inspect names its policy"
pid=$(field "$json" qemu_pid)
id=$(field "$json" id)
status=$(cat "/proc/$pid/status")
contains "$status" "$(printf 'Seccomp:\t2')" "QEMU runs under a seccomp filter (Seccomp: 2)"
contains "$status" "$(printf 'NoNewPrivs:\t1')" "... with no_new_privs"
uid=$(awk '/^Uid:/ {print $2}' <<<"$status")
gid=$(awk '/^Gid:/ {print $2}' <<<"$status")
[ "$uid" -ge 1879048192 ] && [ "$uid" -lt $((1879048192 + 65536)) ] && [ "$gid" = "$(id -g sandboxd-qemu)" ]
ok $? "... as a uid of its own from the policy's range ($uid), in group sandboxd-qemu"
contains "$status" "$(printf 'CapBnd:\t0000000000000000')" "... with an empty capability bounding set"
is "$(awk '{print $6}' "/proc/$pid/stat")" "$pid" "... leading a session of its own (setsid)"
contains "$(cat "/proc/$pid/limits")" "Max processes             256" "... with RLIMIT_NPROC at the policy's pids"
mounts=$(awk '$5 == "/" || $5 == "/sb/qemu" || $5 == "/boot/vmlinuz" {print $5, $6}' "/proc/$pid/mountinfo")
bad=$(echo "$mounts" | grep -v "nosuid,nodev,noexec" | grep -v "^$")
[ -n "$mounts" ] && [ -z "$bad" ]; ok $? "its root, its directory and the kernel are nodev and noexec ($(echo $mounts))"
same=""
for ns in mnt net ipc uts pid; do
  [ "$(readlink "/proc/$pid/ns/$ns")" = "$(readlink "/proc/$DAEMON_PID/ns/$ns")" ] && same="$same $ns"
done
is "$same" "" "its mount, net, ipc, uts and pid namespaces differ from the daemon's"
is "$(ls "/proc/$pid/root/" | tr '\n' ' ')" "bin boot dev lib lib64 sb sbin usr " \
  "its root holds only what QEMU needs (/usr read-only, kernel, initramfs, its dir)"

mem=/sys/fs/cgroup/memory/sandboxd/$id
pids=/sys/fs/cgroup/pids/sandboxd/$id
is "$(cat "$mem/memory.limit_in_bytes")" $(((256 + 512) * 1024 * 1024)) \
  "its memory cgroup limit is guest RAM + the policy's overhead"
is "$(cat "$pids/pids.max")" 256 "its pids cgroup limit is the policy's"
grep -qx "$pid" "$mem/cgroup.procs"; ok $? "QEMU is in that cgroup"
contains "$("$SANDBOXCTL" --json stats p)" '"memory_limit_bytes"' "stats reads the cgroup"

# A guest that allocates without end: the guest kernel stops it; the host,
# QEMU and the other sandboxes carry on.
"$SANDBOXCTL" run --name q --pids 64 -- true; ok $? "a second sandbox with a tighter pids limit"
uid_q=$(awk '/^Uid:/ {print $2}' "/proc/$(field "$("$SANDBOXCTL" --json inspect q)" qemu_pid)/status")
[ -n "$uid_q" ] && [ "$uid_q" != "$uid" ]; ok $? "... whose QEMU has another uid ($uid_q, not $uid)"
is "$(cat /sys/fs/cgroup/pids/sandboxd/"$(field "$("$SANDBOXCTL" --json inspect q)" id)"/pids.max)" 64 \
  "... has it (--pids 64)"
"$SANDBOXCTL" exec p -- sh -c 'tail /dev/zero' >/dev/null 2>&1; rc=$?
is "$rc" 137 "a process eating all guest memory is killed by the guest's OOM killer (137)"
is "$("$SANDBOXCTL" exec p -- echo alive)" alive "... and its sandbox still serves"
is "$("$SANDBOXCTL" exec q -- echo alive)" alive "... and so does the other one"
peak=$(cat "$mem/memory.max_usage_in_bytes")
[ "$peak" -le "$(cat "$mem/memory.limit_in_bytes")" ]
ok $? "QEMU's memory stayed within its cgroup ($((peak >> 20)) MiB)"

out=$("$SANDBOXCTL" create --policy nope 2>&1); rc=$?
is "$rc" 1 "an unknown policy is refused"
contains "$out" 'NOT_FOUND: no policy "nope"' "... as NOT_FOUND"
out=$("$SANDBOXCTL" create --policy strict --memory 2G 2>&1); rc=$?
is "$rc" 1 "more memory than the policy allows is refused"
contains "$out" "PERMISSION_DENIED: policy strict allows at most memory_mb 1024" "... as PERMISSION_DENIED"
out=$("$SANDBOXCTL" create --pids 100000 2>&1)
contains "$out" "PERMISSION_DENIED" "a pids limit above the policy's is refused"
# unprivileged would run QEMU as root in the host's namespaces: a policy
# less strict than the daemon's default is never granted.
before=$("$SANDBOXCTL" ls -q | wc -l)
out=$("$SANDBOXCTL" create --name loose --policy unprivileged 2>&1); rc=$?
is "$rc" 1 "a policy less strict than the default is refused"
contains "$out" "PERMISSION_DENIED: policy unprivileged is less strict than sandboxd's default policy default: QEMU would run as sandboxd's own user" "... as PERMISSION_DENIED, saying how"
is "$("$SANDBOXCTL" ls -q | wc -l)" "$before" "... and no sandbox was made"
out=$("$SANDBOXCTL" create --name third 2>&1); rc=$?
is "$rc" 1 "a third sandbox past --max-sandboxes 2 is refused"
contains "$out" "RESOURCE_EXHAUSTED: sandboxd keeps at most 2 sandboxes (--max-sandboxes) and has 2" "... as RESOURCE_EXHAUSTED, with the limit and the use"

"$SANDBOXCTL" rm -f p >/dev/null; ok $? "rm of the sandbox"
[ ! -e "$mem" ] && [ ! -e "$pids" ]; ok $? "... removes its cgroups"
out=$("$SANDBOXCTL" create --name big -m 800M 2>&1); rc=$?
is "$rc" 1 "a sandbox whose memory would pass --max-memory is refused"
contains "$out" "past its limit of 1000 (--max-memory; 256 in use)" "... naming the limit and the use"
is "$("$SANDBOXCTL" ls -q | wc -l)" 1 "... and nothing was made"

# A malformed policy stops sandboxd at start, naming the file and field.
mkdir "$TMP/pol"
cp "$(dirname "$0")/../policies/"* "$TMP/pol/"
sed -i 's/"max_cpus": 8/"max_cpus": "eight"/' "$TMP/pol/default.json"
out=$("$SANDBOXD" --runtime-dir "$TMP/other" --policy-dir "$TMP/pol" 2>&1); rc=$?
is "$rc" 1 "sandboxd refuses a malformed policy"
contains "$out" "default.json" "... naming the file"
contains "$out" "max_cpus" "... and the field"

tap_done
