#!/bin/bash
# Volumes: host directories shared live with a guest (virtio-fs, one
# virtiofsd each). Both directions at MiB sizes, checksummed; what the
# guest's root makes belongs on the host to the directory's owner, and a
# root-only file there stays closed to it; fsync'ed data is there after
# QEMU is SIGKILLed; the guest's links, hard links and device nodes reach
# nothing of the host's; a read-only volume; two sandboxes on one
# directory; a container's -v and an OCI bundle's read-write bind; a
# tenant shares only what it owns; a file server that dies fails its
# sandbox alone; a volume through a restart of sandboxd; bad input, each
# named.
. "$(dirname "$0")/lib.sh"
bail() { echo "Bail out! $1"; diag <"$TMP/d.log"; exit 1; }

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP volumes are served as their owner: needs root"; exit 0; }
[ -x /usr/lib/qemu/virtiofsd ] || { echo "1..0 # SKIP QEMU's virtiofsd not installed"; exit 0; }
OWNER=4242 # the directories' owner: no account needed
TENANT=4243
chmod 0711 "$TMP"
mkdir -p "$TMP/vol" "$TMP/ro" "$TMP/alice" "$TMP/bob" "$TMP/rootdir"
chown "$OWNER:$OWNER" "$TMP/vol" "$TMP/ro" "$TMP/bob"
chown "$TENANT:$TENANT" "$TMP/alice"
cat >"$TMP/tenants.json" <<EOF
{"tenants": [{"name": "alice", "uid": $TENANT, "quota": {"volume_mb": 1}}]}
EOF
KEEP_SANDBOXES=1 start_daemon "$TMP/d" --tenants "$TMP/tenants.json" || bail "sandboxd did not start"
ADMIN=$SANDBOXD_ADDRESS

"$SANDBOXCTL" create --name v1 -v "$TMP/vol:/data" >/dev/null || bail "create with a volume"
x() { "$SANDBOXCTL" exec v1 -- sh -c "$1" 2>&1; }

# Guest to host: 16 MiB, checksummed on both sides.
sum=$(x 'head -c 16777216 /dev/urandom >/data/g2h && md5sum </data/g2h')
is "$(md5sum <"$TMP/vol/g2h")" "$sum" "16 MiB written in the guest arrive on the host intact"
is "$(stat -c %u:%g "$TMP/vol/g2h")" "$OWNER:$OWNER" "... owned by the directory's owner, not root"
is "$(x 'stat -c %u /data/g2h')" "0" "... and the guest's root's in the guest"

# Host to guest: 16 MiB, and a change after the guest read it once.
head -c 16777216 /dev/urandom >"$TMP/vol/h2g"
chown "$OWNER" "$TMP/vol/h2g"
is "$(x 'md5sum </data/h2g')" "$(md5sum <"$TMP/vol/h2g")" "16 MiB written on the host reach the guest intact"
echo changed >"$TMP/vol/h2g"
is "$(x 'cat /data/h2g')" "changed" "... and a rewrite on the host is seen at the guest's next open"

# The server is the owner, never root: a root-only file stays closed.
echo secret >"$TMP/vol/root-only"
chmod 0600 "$TMP/vol/root-only"
out=$(x 'cat /data/root-only; echo rc=$?')
contains "$out" "rc=1" "the guest's root cannot read a host root's 0600 file in the volume"
case "$out" in *secret*) ok 1 "... nor any of its bytes" ;; *) ok 0 "... nor any of its bytes" ;; esac

# Escapes: links and nodes made in the guest resolve in the guest.
out=$(x 'ln -s /etc/shadow /data/shadow; cat /data/shadow 2>&1; ln -s ../../.. /data/up; ls /data/up/ | head -50')
case "$out" in *"root:"*) ok 1 "a link to /etc/shadow reads no host secret" ;; *) ok 0 "a link to /etc/shadow reads no host secret" ;; esac
is "$(readlink "$TMP/vol/shadow")" "/etc/shadow" "... it is a plain link on the host, owned by the owner"
case "$out" in *tests*|*sbxtest*) ok 1 "a link up the tree lists the guest's root, not the host's" ;; *) ok 0 "a link up the tree lists the guest's root, not the host's" ;; esac
out=$(x 'ln /etc/passwd /data/pw; echo rc=$?')
contains "$out" "rc=1" "a hard link from outside the volume into it is refused"
out=$(x 'mknod /data/disk b 8 0; echo rc=$?; mknod /data/mem c 1 1; echo rc=$?')
is "$(echo "$out" | grep -c 'rc=1')" "2" "device nodes cannot be made in a volume"
[ ! -e "$TMP/vol/disk" ] && [ ! -e "$TMP/vol/mem" ]
ok $? "... none is on the host"
ls "$TMP/vol/.." >/dev/null
is "$(x 'cd /data/.. && pwd')" "/" "/data/.. is the guest's /"

# fsync'ed data survives QEMU's SIGKILL.
pid=$("$SANDBOXCTL" inspect v1 | sed -n 's/.*"qemu_pid" : \([0-9]*\).*/\1/p' | head -1)
spid=$("$SANDBOXCTL" inspect v1 | sed -n 's/.*"server_pid" : \([0-9]*\).*/\1/p')
[ -n "$spid" ] && kill -0 "$spid"
ok $? "its file server runs (pid $spid)"
sum=$(x 'head -c 4194304 /dev/urandom >/data/synced && sync /data/synced && md5sum </data/synced')
kill -KILL "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
is "$(md5sum <"$TMP/vol/synced")" "$sum" "4 MiB fsync'ed by the guest are on the host after QEMU is SIGKILLed"
for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$spid" 2>/dev/null
ok $((!$?)) "... and its file server went with it"
"$SANDBOXCTL" rm -f v1 >/dev/null

# Read-only, and two sandboxes on one directory.
echo there >"$TMP/ro/file"
"$SANDBOXCTL" create --name v2 -v "$TMP/ro:/ro:ro" -v "$TMP/vol:/data" >/dev/null || bail "create v2"
"$SANDBOXCTL" create --name v3 --mount "type=bind,source=$TMP/vol,target=/shared" >/dev/null || bail "create v3"
out=$("$SANDBOXCTL" exec v2 -- sh -c 'cat /ro/file; echo x >/ro/new; echo rc=$?' 2>&1)
contains "$out" "there" "a read-only volume is read"
contains "$out" "Read-only file system" "... and not written"
"$SANDBOXCTL" exec v2 -- sh -c 'head -c 1048576 /dev/urandom >/data/from-v2'
is "$("$SANDBOXCTL" exec v3 -- md5sum </dev/null /shared/from-v2 | cut -d' ' -f1)" \
  "$(md5sum "$TMP/vol/from-v2" | cut -d' ' -f1)" "two sandboxes on one directory see each other's writes (--mount)"
info=$("$SANDBOXCTL" inspect v2)
contains "$info" "\"source\" : \"$TMP/ro\"" "inspect lists the volumes"
contains "$info" '"readonly" : true' "... which are read-only"
contains "$info" "\"uid\" : $OWNER" "... and whom they are served as"
contains "$(cat "$TMP/d/sb/"*/volumes.log)" "virtiofsd --fd=" "volumes.log has each server's command line"
"$SANDBOXCTL" rm -f v2 v3 >/dev/null

# A container's -v, and an OCI bundle's read-write bind (what podman and
# docker write for -v DIR:PATH).
mkdir -p "$TMP/root" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/root"
out=$("$SANDBOXCTL" run --rm --rootfs "$TMP/root" -v "$TMP/vol:/srv/app" -- sh -c 'echo in-container >/srv/app/c && cat /srv/app/c' 2>&1)
is "$out" "in-container" "a container's -v is its own path"
is "$(cat "$TMP/vol/c")" "in-container" "... shared with the host"
mkdir -p "$TMP/bundle/rootfs" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/bundle/rootfs"
cat >"$TMP/bundle/config.json" <<EOF
{"ociVersion": "1.0.2", "root": {"path": "rootfs"},
 "process": {"args": ["sh", "-c", "head -c 2097152 /dev/urandom >/data/oci && md5sum </data/oci"], "cwd": "/"},
 "mounts": [{"destination": "/data", "type": "bind", "source": "$TMP/vol", "options": ["rbind", "rw"]}]}
EOF
R=("$BUILD/oci/sandbox-runtime" --root "$TMP/oci" --log "$TMP/oci.log")
out=$("${R[@]}" run --bundle "$TMP/bundle" oci-vol 2>&1)
is "$out" "$(md5sum <"$TMP/vol/oci")" "an OCI bundle's read-write bind is a volume: 2 MiB reach the host"
"${R[@]}" delete -f oci-vol >/dev/null 2>&1

# Tenants share only their own directories, served as themselves.
as_alice() { SANDBOXD_ADDRESS="ipc://$TMP/d/tenants/alice/rpc.sock" setpriv --reuid=$TENANT --regid=$TENANT --clear-groups "$@"; }
out=$(as_alice "$SANDBOXCTL" run --rm -v "$TMP/alice:/mine" -- sh -c 'echo mine >/mine/f' 2>&1)
is "$(stat -c %u "$TMP/alice/f" 2>/dev/null)" "$TENANT" "a tenant's volume is served as the tenant: its files are the tenant's"
out=$(as_alice "$SANDBOXCTL" run --rm -v "$TMP/bob:/theirs" -- true 2>&1)
contains "$out" "PERMISSION_DENIED" "a tenant cannot share another user's directory"
contains "$out" "tenant alice (uid $TENANT) may share only its own directories" "... and is told why"
mkdir -p "$TMP/closed/in" && chmod 0700 "$TMP/closed" && chown "$TENANT" "$TMP/closed/in"
out=$(as_alice "$SANDBOXCTL" run --rm -v "$TMP/closed/in:/x" -- true 2>&1)
contains "$out" "PERMISSION_DENIED: volume /x: host directory $TMP/closed/in: Permission denied (opened as tenant alice)" \
  "a directory the tenant may not reach is refused, though it owns it"

# A guest that fills its volume gets a write error (EIO or ENOSPC, as the
# FUSE write comes back short); the sandbox, and sandboxd, go on (a 16 MiB
# tmpfs stands for a full host file system).
mkdir -p "$TMP/small" && mount -t tmpfs -o size=16m,uid=$OWNER,gid=$OWNER tmpfs "$TMP/small"
out=$("$SANDBOXCTL" run --rm -v "$TMP/small:/s" -- sh -c 'head -c 67108864 /dev/zero >/s/flood; echo rc=$?; rm /s/flood; echo ok >/s/after; cat /s/after' 2>&1)
contains "$out" "rc=1" "a guest flooding its volume gets a write error (the host's file system is full)"
contains "$out" "ok" "... and the volume works again once it frees the space"
umount "$TMP/small"

# Named volumes: kept by sandboxd, outliving the sandboxes that use them.
VUSER=$(id -u sandboxd-volume 2>/dev/null)
is "$("$SANDBOXCTL" volume create db)" "db" "volume create makes a named volume"
sum=$("$SANDBOXCTL" run --rm -v db:/db -- sh -c 'head -c 1048576 /dev/urandom >/db/f && md5sum </db/f' 2>&1)
is "$("$SANDBOXCTL" run --rm -v db:/again:ro -- md5sum </dev/null /again/f | cut -d' ' -f1)" \
  "${sum%% *}" "a named volume keeps its data for the next sandbox (1 MiB, checksummed)"
is "$(stat -c %u "$TMP/state/volumes/db/data/f")" "$VUSER" "... its files are sandboxd-volume's, not root's"
"$SANDBOXCTL" run --rm -v made:/m -- true
contains "$("$SANDBOXCTL" volume ls -q)" "made" "-v NAME:PATH makes a volume that is not there"
"$SANDBOXCTL" create --name holder -v db:/db >/dev/null || bail "create holder"
out=$("$SANDBOXCTL" volume rm db 2>&1)
contains "$out" "volume \"db\" is in use by sandbox holder" "a volume in use is not removed, naming its user"
contains "$("$SANDBOXCTL" volume ls)" "holder" "volume ls lists who uses each"
is "$("$SANDBOXCTL" volume prune | head -1)" "made" "volume prune removes the unused ones only"
out=$("$SANDBOXCTL" volume create a/b 2>&1)
contains "$out" "\"a/b\" is not a valid name" "a volume name with / is refused"
out=$("$SANDBOXCTL" volume create db 2>&1)
contains "$out" "ALREADY_EXISTS" "a name taken is ALREADY_EXISTS"
out=$("$SANDBOXCTL" volume inspect nope 2>&1)
contains "$out" "no volume named \"nope\"" "an unknown volume is named"
"$SANDBOXCTL" rm -f holder >/dev/null
# A tenant's are its own, served as it, counted in its volume_mb.
out=$(as_alice "$SANDBOXCTL" run --rm -v hers:/h -- sh -c 'head -c 2097152 /dev/zero >/h/big' 2>&1)
is "$(stat -c %u "$TMP/state/tenants/alice/volumes/hers/data/big" 2>/dev/null)" "$TENANT" \
  "a tenant's named volume is served as the tenant"
is "$(as_alice "$SANDBOXCTL" volume ls -q)" "hers" "a tenant sees its own volumes only"
# Sizes are measured off the main loop, at most 2 s old when asked again.
for _ in $(seq 20); do
  out=$(as_alice "$SANDBOXCTL" volume create more 2>&1)
  case "$out" in *"quota volume_mb"*) break ;; esac
  sleep 0.5
done
contains "$out" "tenant alice's quota volume_mb is 1; in use: 2" "its volume_mb quota, once full, refuses another"

# A file server that dies fails its sandbox, and only it.
"$SANDBOXCTL" create --name v4 -v "$TMP/vol:/data" >/dev/null || bail "create v4"
"$SANDBOXCTL" create --name v5 >/dev/null || bail "create v5"
spid=$("$SANDBOXCTL" inspect v4 | sed -n 's/.*"server_pid" : \([0-9]*\).*/\1/p')
kill -KILL "$spid"
for _ in $(seq 50); do [ "$("$SANDBOXCTL" inspect v4 | grep -c '"state" : "failed"')" = 1 ] && break; sleep 0.2; done
info=$("$SANDBOXCTL" inspect v4)
contains "$info" '"state" : "failed"' "a sandbox whose file server dies fails"
contains "$info" "volume /data: its file server (virtiofsd) was killed by signal 9" "... saying which and how"
is "$("$SANDBOXCTL" exec v5 -- echo fine)" "fine" "... and the others go on"
"$SANDBOXCTL" rm -f v4 v5 >/dev/null

# Through a restart of sandboxd: the volume is still served, watched (a
# server that dies then still fails its sandbox), and ends with its
# sandbox.
"$SANDBOXCTL" create --name v6 -v "$TMP/vol:/data" >/dev/null || bail "create v6"
"$SANDBOXCTL" create --name v7 -v "$TMP/ro:/data" >/dev/null || bail "create v7"
kill -TERM $daemon_pids
for p in $daemon_pids; do for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
daemon_pids=
KEEP_SANDBOXES=1 start_daemon "$TMP/d" --tenants "$TMP/tenants.json" || bail "sandboxd did not restart"
sum=$("$SANDBOXCTL" exec v6 -- sh -c 'head -c 1048576 /dev/urandom >/data/after && md5sum </data/after' 2>&1)
is "$(md5sum <"$TMP/vol/after")" "$sum" "a volume is still served after sandboxd restarts"
is "$("$SANDBOXCTL" run --rm -v db:/db -- md5sum </dev/null /db/f | cut -d' ' -f1)" "$(md5sum <"$TMP/state/volumes/db/data/f" | cut -d' ' -f1)" \
  "... and a named volume is still there, its data with it"
spid=$("$SANDBOXCTL" inspect v6 | sed -n 's/.*"server_pid" : \([0-9]*\).*/\1/p')
"$SANDBOXCTL" rm -f v6 >/dev/null
for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$spid" 2>/dev/null
ok $((!$?)) "... and its server ends with its sandbox"
spid=$("$SANDBOXCTL" inspect v7 | sed -n 's/.*"server_pid" : \([0-9]*\).*/\1/p')
kill -KILL "$spid"
for _ in $(seq 50); do [ "$("$SANDBOXCTL" inspect v7 | grep -c '"state" : "failed"')" = 1 ] && break; sleep 0.2; done
contains "$("$SANDBOXCTL" inspect v7)" "volume /data: its file server (virtiofsd) exited" \
  "a server found again after the restart fails its sandbox when it dies"
"$SANDBOXCTL" rm -f v7 >/dev/null

# Bad input, each named; nothing is created.
bad() { # bad WANT DESCRIPTION ARGS...
  local want=$1 what=$2; shift 2
  local out
  out=$("$SANDBOXCTL" run --rm --name bad "$@" -- true 2>&1)
  contains "$out" "$want" "$what"
}
bad "host directory $TMP/none: No such file or directory" "a missing directory is named" -v "$TMP/none:/data"
touch "$TMP/file"; chown $OWNER "$TMP/file"
bad "host directory $TMP/file: not a directory" "a file is not a directory" -v "$TMP/file:/data"
bad "is root's: a volume is served as its directory's owner, never as root" "a root-owned directory is refused" -v "$TMP/rootdir:/data"
bad "volume /proc/x: /proc is the kernel's" "a destination under /proc is refused" -v "$TMP/vol:/proc/x"
bad "volume /sys: /sys is the kernel's" "... and /sys" -v "$TMP/vol:/sys"
bad "host directory $TMP/vol is volume /a already" "the same directory twice is refused" -v "$TMP/vol:/a" -v "$TMP/vol:/b"
bad "volume /a/: two volumes have this destination" "the same destination twice is refused" -v "$TMP/vol:/a" -v "$TMP/ro:/a/"
bad "expected HOST_DIR:PATH[:ro|:rw] or NAME:PATH" "a -v without a path is a usage error" -v "data"
"$SANDBOXCTL" run --rm -v "data" -- true >/dev/null 2>&1
is "$?" "2" "... exit status 2"
is "$("$SANDBOXCTL" ls -q bad)" "" "nothing was created by any of them"

tap_done
