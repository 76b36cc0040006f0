#!/bin/bash
# Containers inside sandboxes: a root directory, an OCI bundle or a tarball
# becomes a read-only EROFS disk (built once per content), and the guest
# agent runs it in namespaces of its own with a tmpfs writable layer.
. "$(dirname "$0")/lib.sh"

start_daemon "$TMP/d" || { echo "Bail out! sandboxd did not start"; diag <"$TMP/d.log"; exit 1; }
C="$SANDBOXCTL"
BUSYBOX=$(command -v busybox)

# make_root DIR MARKER: a busybox userland with /MARKER in it.
make_root() {
  mkdir -p "$1/bin" "$1/etc" "$1/proc" "$1/sys" "$1/dev" "$1/tmp"
  cp "$BUSYBOX" "$1/bin/busybox"
  for a in sh cat echo hostname id pwd ls ps sleep dd test seq mkdir; do ln -s busybox "$1/bin/$a"; done
  echo "root:x:0:0:root:/:/bin/sh" >"$1/etc/passwd"
  echo "$2" >"$1/$2"
}
make_root "$TMP/rootA" marker-a
make_root "$TMP/rootC" marker-c
tar -C "$TMP/rootC" -cf "$TMP/rootC.tar" .
mkdir -p "$TMP/bundle"
make_root "$TMP/bundle/rootfs" marker-b
cat >"$TMP/bundle/config.json" <<'EOF'
{
  "ociVersion": "1.0.2",
  "process": {
    "args": ["sh", "-c", "cat /marker-b; echo \"$GREETING\"; hostname; id -u; pwd; ls -d /scratch; (for i in $(seq 40); do sleep 30 & done) 2>&1 | grep -q fork && echo limited; exit 3"],
    "env": ["GREETING=hello from the bundle"],
    "cwd": "/tmp",
    "user": {"uid": 1000, "gid": 1000}
  },
  "root": {"path": "rootfs"},
  "hostname": "bundlehost",
  "mounts": [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}],
  "linux": {"resources": {"pids": {"limit": 16}}},
  "annotations": {"org.example.test": "yes"}
}
EOF

# --- run --rootfs, run --bundle ---
out=$("$C" run --rm --rootfs "$TMP/rootA" -- sh -c 'cat /marker-a; test -e /init && echo sees-the-guest || echo own-root; hostname' 2>"$TMP/err")
is "$out" "marker-a
own-root
main" "run --rootfs runs in that root (its marker, not the guest's files), hostname = the container's name"
is "$(ls "$TMP/state/images" | grep -c '^sha256-.*\.erofs$')" 1 "... whose EROFS image is in the state dir, named by its digest"
ev=$("$C" events)
contains "$ev" "image.progress $TMP/rootA building" "the build is told as events (image.progress)"
contains "$ev" "image.ready $TMP/rootA sha256:" "... and its end (image.ready, with the digest)"

out=$("$C" run --rm --bundle "$TMP/bundle" 2>&1)
code=$?
is "$out" "marker-b
hello from the bundle
bundlehost
1000
/tmp
/scratch
limited" "run --bundle runs the bundle's args with its env, hostname, user, cwd, mounts and pids limit"
is "$code" 3 "... and exits with its status"
images=$(ls "$TMP/state/images")

# --- a pod: two containers in one sandbox ---
"$C" --json create --name pod --rootfs "$TMP/rootA" >"$TMP/pod.json"
is "$?" 0 "create --rootfs boots a sandbox with its first container"
contains "$(cat "$TMP/pod.json")" '"image_built" : false' "... reusing the image built for the first run (same root)"
is "$(ls "$TMP/state/images")" "$images" "... nothing new in the image cache"
grep -q "image of $TMP/rootA: reused" "$TMP/d.log"
ok $? "... and sandboxd says it reused it"

out=$("$C" container add pod --name c2 --image "$TMP/rootC.tar" --writable 4M)
is "$out" "c2" "container add --image hot-plugs a second container from a tarball"
is "$(pgrep -c -f -- "sandboxd:$TMP/d/")" 1 "... into the same QEMU"
out=$("$C" --json container ls pod)
contains "$out" '"name" : "main"' "container ls lists the first container"
contains "$out" '"name" : "c2"' "... and the second"

is "$("$C" exec pod -- cat /marker-a)" "marker-a" "exec without --container runs in the first container"
is "$("$C" exec pod --container c2 -- sh -c 'cat /marker-c; ls /marker-a 2>&1 >/dev/null | wc -l')" "marker-c
1" "exec --container c2 sees its own root, not the other's"
"$C" exec pod -- sh -c 'echo secret >/tmp/written'
is "$("$C" exec pod -c c2 -- sh -c 'test -e /tmp/written && echo visible || echo invisible')" "invisible" \
  "a write in one container is invisible in the other"
is "$("$C" exec pod -- cat /tmp/written)" "secret" "... and kept in its own"
is "$("$C" exec pod -c c2 -- hostname)" "c2" "each container has its own hostname (uts namespace)"
"$C" exec pod -- sh -c 'sleep 300 >/dev/null 2>&1 &'
contains "$("$C" exec pod -- ps)" "sleep 300" "a process left running in the first container"
out=$("$C" exec pod -c c2 -- ps)
# The second sees its own processes (ps itself), and not the sleep.
case "$out" in *"sleep 300"*|"") ok 1 "... is not seen from the second (pid namespace)" ;;
  *ps*) ok 0 "... is not seen from the second (pid namespace)" ;;
  *) ok 1 "... is not seen from the second (pid namespace)"; echo "$out" | diag ;; esac
out=$("$C" exec pod -c c2 -- dd if=/dev/zero of=/big bs=1M count=8 2>&1)
contains "$out" "No space left on device" "the writable layer is limited (--writable 4M)"
contains "$("$C" ps pod)" "c2           exited" "ps shows which container each process ran in"
is "$("$C" container add pod --name bb)" "bb" "container add without a root uses the built-in busybox root"
is "$("$C" exec pod -c bb -- sh -c 'test -x /bin/busybox && test ! -e /marker-a && awk "BEGIN { print \"built-in\" }"')" "built-in" \
  "... a busybox userland (meson's sandbox-rootfs.tar), none of the others' files"
"$C" container rm pod bb >/dev/null
"$C" exec pod -c nope -- true 2>"$TMP/err"
contains "$(cat "$TMP/err")" 'NOT_FOUND: sandbox pod has no container "nope"' "exec in an unknown container is NOT_FOUND, naming it"

contains "$("$C" --json inspect pod)" '"disk_id" : "disk-0"' "the first container's disk (disk-0) came with the boot"
err=$(nanocat --req --connect "$SANDBOXD_ADDRESS" --ascii --recv-timeout 30 \
  --data '{"id":1,"method":"sandbox.v1.Sandboxes.DetachDisk","params":{"id":"pod","disk_id":"disk-0"}}' 2>&1)
contains "$err" "holds container main's root" "DetachDisk refuses a container's disk, naming the container"

out=$("$C" container rm pod c2); rc=$?
is "$rc,$out" "0,c2" "container rm removes the second container (and prints its name)"
out=$("$C" --json container ls pod)
case "$out" in *'"c2"'*) ok 1 "... which is no longer listed" ;; *) ok 0 "... which is no longer listed" ;; esac
got=$("$C" exec pod -- sh -c 'for i in $(seq 50); do [ "$(ls /sys/block | grep -c sd)" = 1 ] && break; sleep 0.1; done; ls /sys/block | grep -c sd')
is "$got" 1 "... and whose disk is gone from the guest"
"$C" exec pod -c c2 -- true 2>"$TMP/err"; rc=$?
[ "$rc" -eq 127 ] && grep -qF 'NOT_FOUND: sandbox pod has no container "c2"' "$TMP/err"
ok $? "... and exec in it is NOT_FOUND (exit $rc: $(cat "$TMP/err"))"
is "$("$C" exec pod -- cat /tmp/written)" "secret" "the first container lives on"

# --- a read-only host directory, bound: an image and a disk of its own ---
mkdir -p "$TMP/hostdir/sub" "$TMP/robundle"
echo from-the-host >"$TMP/hostdir/sub/f"
cat >"$TMP/robundle/config.json" <<EOF
{"ociVersion": "1.0.2", "process": {"args": ["true"]}, "root": {"path": "$TMP/bundle/rootfs"},
 "mounts": [{"destination": "/data", "type": "bind", "source": "$TMP/hostdir", "options": ["rbind", "ro"]}]}
EOF
is "$("$C" container add pod --name ro --bundle "$TMP/robundle" 2>&1)" "ro" "container add with a read-only bind of a host directory"
is "$("$C" exec pod -c ro -- sh -c 'cat /data/sub/f; touch /data/x' 2>&1)" "from-the-host
touch: /data/x: Read-only file system" "... which the container reads, and cannot write"
is "$("$C" exec pod -- sh -c 'ls /sys/block | grep -c sd')" 3 "... on a disk of its own (the pod's root, its root, the directory)"
mdisk=$("$C" --json inspect pod | python3 -c 'import json,sys
d = json.load(sys.stdin); d = d[0] if isinstance(d, list) else d
print([m for c in d["containers"] if c["name"] == "ro" for m in c["spec"]["mounts"]][0]["disk_id"])')
err=$(nanocat --req --connect "$SANDBOXD_ADDRESS" --ascii --recv-timeout 30 \
  --data "{\"id\":1,\"method\":\"sandbox.v1.Sandboxes.DetachDisk\",\"params\":{\"id\":\"pod\",\"disk_id\":\"$mdisk\"}}" 2>&1)
contains "$err" "holds container ro's root or a mount" "DetachDisk refuses the mount's disk ($mdisk)"
"$C" container rm pod ro >/dev/null
got=$("$C" exec pod -- sh -c 'for i in $(seq 50); do [ "$(ls /sys/block | grep -c sd)" = 1 ] && break; sleep 0.1; done; ls /sys/block | grep -c sd')
is "$got" 1 "container rm takes both its disks away"
sed -i 's/"rbind", "ro"/"rbind"/' "$TMP/robundle/config.json"
err=$("$C" container add pod --name rw --bundle "$TMP/robundle" 2>&1); rc=$?
[ "$rc" -ne 0 ]; ok $? "a read-write bind of a host directory in a later container is refused (exit $rc)"
contains "$err" "FAILED_PRECONDITION: mounts[0] ($TMP/hostdir on /data): a read-write host directory is shared with a sandbox when it is created" \
  "... naming the mount and why (a volume is a device, and nothing is hot-plugged on virtio-mmio)"

# The image cache as users see it: the pod's image is in use, c2's (removed)
# no longer; prune removes only unused images (those not used in the last
# minute are kept as well, so age c2's first).
list=$("$C" images)
contains "$list" "pod" "images lists the cached roots with the sandboxes using them"
n_before=$("$C" images -q | wc -l)
for f in "$TMP"/state/images/sha256-*.erofs; do touch -d '2 hours ago' "$f"; done
out=$("$C" images prune); rc=$?
is "$rc" 0 "images prune exits 0"
contains "$out" "freed" "... saying what it freed"
n_after=$("$C" images -q | wc -l)
[ "$n_after" -ge 1 ] && [ "$n_after" -lt "$n_before" ]
ok $? "... removing unused images ($n_before -> $n_after) and keeping the pod's"
is "$("$C" exec pod -- cat /marker-a)" "marker-a" "... whose container still works"

# A sandboxd that dies and comes back takes the pod back with its container.
kill -KILL "$DAEMON_PID"
start_daemon "$TMP/d" || { echo "Bail out! sandboxd did not start again"; exit 1; }
is "$("$C" exec pod -- cat /tmp/written)" "secret" "after a restart of sandboxd, exec still reaches the container and its files"
contains "$("$C" --json container ls pod)" '"state" : "running"' "... which is listed as running"

# --- bad input: named, and sandboxd keeps serving ---
mk_bundle() { # mk_bundle NAME CONFIG
  mkdir -p "$TMP/$1"
  ln -sfn "$TMP/bundle/rootfs" "$TMP/$1/rootfs"
  printf '%s' "$2" >"$TMP/$1/config.json"
}
mk_bundle bad-json '{"process": {"args": ["sh"'
mk_bundle bad-args '{"process": {"args": "sh"}, "root": {"path": "rootfs"}}'
mk_bundle bad-field '{"process": {"args": ["sh"]}, "root": {"path": "rootfs"}, "linux": {"intelRdt": {"closID": "x"}}}'
mk_bundle bad-root '{"process": {"args": ["sh"]}, "root": {"path": "not-there"}}'
expect_error() { # expect_error DESCRIPTION NEEDLE sandboxctl-args...
  local what=$1 needle=$2
  shift 2
  "$C" "$@" >/dev/null 2>"$TMP/err"
  local code=$?
  [ "$code" -eq 1 ] && grep -qF -- "$needle" "$TMP/err"
  ok $? "$what"
  [ "$code" -eq 1 ] || echo "exit $code" | diag
  diag <"$TMP/err"
}
expect_error "a malformed config.json is refused, naming the file" "bad-json/config.json:1" \
  run --rm --bundle "$TMP/bad-json"
expect_error "a wrongly typed field is refused by name" "config.json: process.args must be an array" \
  run --rm --bundle "$TMP/bad-args"
expect_error "a field sandboxd cannot honour is refused by name" "linux.intelRdt is not supported" \
  run --rm --bundle "$TMP/bad-field"
expect_error "a bundle whose root is missing is NOT_FOUND, naming root.path" "NOT_FOUND: config.json: root.path" \
  run --rm --bundle "$TMP/bad-root"
expect_error "a missing rootfs is NOT_FOUND" "root $TMP/nope: No such file or directory" \
  run --rm --rootfs "$TMP/nope" -- true
"$C" run --rootfs "$TMP/rootA" --image "$TMP/rootC.tar" -- true 2>"$TMP/err"
is "$?" 2 "a root given twice is a usage error (exit 2)"
is "$(pgrep -c -f -- "sandboxd:$TMP/d/")" 1 "no sandbox was started for any of them"
is "$("$C" exec pod -- cat /marker-a)" "marker-a" "sandboxd still serves the running sandbox"

# A sandbox deleted while a container is being added to it.
"$C" container add pod --name late --rootfs "$TMP/rootC" >/dev/null 2>"$TMP/late.err" &
adder=$!
sleep 0.05
"$C" rm -f pod >/dev/null
wait "$adder"
"$C" ls >/dev/null
ok $? "deleting a sandbox while a container is being added leaves sandboxd serving"
is "$(pgrep -c -f -- "sandboxd:$TMP/d/")" 0 "... and no QEMU behind"

tap_done
