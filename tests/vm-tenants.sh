#!/bin/bash
# Tenants (sandboxd --tenants): two throwaway users, each on its own
# sockets, each seeing and touching only its own sandboxes, reading host
# paths only with its own rights, within its quotas; D-Bus and SIGHUP too.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP makes two users: needs root"; exit 0; }
for tool in nanocat setpriv useradd dbus-daemon gdbus; do
  command -v $tool >/dev/null || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done
SUBSCRIBER="$BUILD/tests/dbus-subscriber"

# The users (in group sandboxd, which the bus policy lets call the daemon).
UA=sbxt-a$$
UB=sbxt-b$$
groups=
getent group sandboxd >/dev/null && groups="-G sandboxd"
useradd --system --no-create-home --shell /usr/sbin/nologin $groups "$UA" || exit 1
useradd --system --no-create-home --shell /usr/sbin/nologin $groups "$UB" || exit 1
trap 'cleanup; userdel "$UA"; userdel "$UB"' EXIT
A=$(id -u "$UA")
B=$(id -u "$UB")
as_a() { setpriv --reuid="$UA" --regid="$(id -g "$UA")" --init-groups "$@"; }
as_b() { setpriv --reuid="$UB" --regid="$(id -g "$UB")" --init-groups "$@"; }
chmod 0711 "$TMP"

cat >"$TMP/tenants.json" <<EOF
{"tenants": [
  {"name": "alice", "uid": $A,
   "quota": {"sandboxes": 2, "memory_mb": 640, "cpus": 2, "image_mb": 3, "output_mb": 1}},
  {"name": "bob", "uid": $B, "policies": ["strict"]}
]}
EOF

# A private bus with the policy sandboxd installs.
mkdir -p "$TMP/pub"
chmod 0755 "$TMP/pub"
cat >"$TMP/bus.conf" <<CONF
<busconfig>
  <type>session</type>
  <listen>unix:path=$TMP/pub/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
  <include>$(cd "$(dirname "$0")/.." && pwd)/data/org.sandboxd.Daemon1.conf</include>
</busconfig>
CONF
bus_pid=$(dbus-daemon --config-file="$TMP/bus.conf" --fork --print-pid)
daemon_pids="$daemon_pids $bus_pid"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$TMP/pub/bus"

RT=$TMP/rt
start_daemon "$RT" --accel tcg --tenants "$TMP/tenants.json" --dbus session --tenant-connections 64 ||
  { echo "Bail out! sandboxd did not start"; diag <"$RT.log"; exit 1; }
ADMIN=$SANDBOXD_ADDRESS
SA=ipc://$RT/tenants/alice/rpc.sock
SB=ipc://$RT/tenants/bob/rpc.sock
for _ in $(seq 50); do timeout 2 gdbus introspect --session --dest org.sandboxd.Daemon1 \
  --object-path /org/sandboxd/Daemon1 >/dev/null 2>&1 && break; sleep 0.1; done

# raw SOCKET JSON-PARAMS METHOD [as_a|as_b]: one request through nanocat.
raw() {
  local sock=$1 params=$2 method=$3; shift 3
  "$@" nanocat --req --connect "$sock" --ascii --recv-timeout 20 \
    --data "{\"id\": 1, \"method\": \"sandbox.v1.$method\", \"params\": $params}" 2>&1 | head -c 4000
}
qemus() { pgrep -f -- "sandboxd:$RT/" | wc -l; }

# ---- sockets
is "$(stat -c '%U %a' "$RT/tenants/alice/rpc.sock")" "$UA 600" "alice's API socket is hers, 0600"
is "$(stat -c '%U %a' "$RT/tenants/alice")" "$UA 700" "... in her own 0700 directory"
is "$(stat -c '%U %a' "$RT/tenants")" "root 711" "... under a 0711 parent"
is "$(stat -c '%U %a' "$RT/rpc.sock")" "root 600" "rpc.sock stays root's admin API"
out=$(as_b env -u SANDBOXD_ADDRESS "$SANDBOXCTL" -a "$SA" ls 2>&1); rc=$?
is "$rc" 1 "bob cannot connect to alice's socket"
contains "$out" "PERMISSION_DENIED" "... refused, not left hanging"
out=$(as_a env -u SANDBOXD_ADDRESS SANDBOXD_RUNTIME_DIR="$RT" "$SANDBOXCTL" info 2>&1)
contains "$out" "Tenant:        alice" "sandboxctl run by alice with no address finds her own socket"

# ---- a tenant's connections are capped (--tenant-connections 64): past it
# all of its socket's are closed; the socket is hers again, bob unaffected.
: >"$TMP/held" && chown "$UA" "$TMP/held"
as_a /usr/bin/python3 - "$RT/tenants/alice/rpc.sock" "$TMP/held" <<'PY' &
import socket, sys, time
conns = []
for _ in range(150):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1])
        s.sendall(b"\x00SP\x00\x00\x30\x00\x00")  # a REQ's SP header
        conns.append(s)
    except OSError:
        s.close()
        time.sleep(0.01)
open(sys.argv[2], "w").write("%d\n" % len(conns))
closed = 0
end = time.time() + 10
for s in conns:  # the server's SP header, then the end
    try:
        while True:
            s.settimeout(max(0.01, end - time.time()))
            if s.recv(64) == b"":
                closed += 1
                break
    except (socket.timeout, OSError):
        pass
open(sys.argv[2], "a").write("%d\n" % closed)
PY
holder=$!
for _ in $(seq 100); do [ -s "$TMP/held" ] && break; sleep 0.1; done
is "$(as_b env -u SANDBOXD_ADDRESS "$SANDBOXCTL" -a "$SB" ls -q 2>&1; echo $?)" 0 "while alice floods her socket, bob is served"
wait "$holder"
held=$(sed -n 1p "$TMP/held"); closed=$(sed -n 2p "$TMP/held")
[ "$held" -gt 64 ] && [ "$closed" -ge "$held" ]; ok $? "alice's $held connections (cap 64) are all closed ($closed)"
for _ in $(seq 50); do grep -q "tenant alice: more than 64" "$RT.log" && break; sleep 0.1; done
contains "$(cat "$RT.log")" "tenant alice: more than 64 connections" "... and the log says whose"
is "$(stat -c '%U %a' "$RT/tenants/alice/rpc.sock")" "$UA 600" "... her socket, made anew, is hers, 0600"
is "$(stat -c '%U %a' "$RT/tenants/alice")" "$UA 700" "... in her directory again"
out=$(as_a env -u SANDBOXD_ADDRESS "$SANDBOXCTL" -a "$SA" info 2>&1)
contains "$out" "Tenant:        alice" "... and serves her again"
contains "$out" "connections_per_socket 64" "... sandboxctl info tells her the cap"

# ---- D-Bus subscribers: root, alice and bob (before anything happens)
"$SUBSCRIBER" 120 >"$TMP/sub-root" 2>&1 &
as_a "$SUBSCRIBER" 120 >"$TMP/sub-a" 2>&1 &
as_b "$SUBSCRIBER" 120 >"$TMP/sub-b" 2>&1 &
for _ in $(seq 50); do
  [ "$(cat "$TMP/sub-root" "$TMP/sub-a" "$TMP/sub-b" | grep -c subscribed)" = 3 ] && break
  sleep 0.1
done
is "$(cat "$TMP/sub-root" "$TMP/sub-a" "$TMP/sub-b" | grep -c subscribed)" 3 "root, alice and bob subscribe on D-Bus"

# ---- alice's sandbox, from a directory of hers
mkdir "$TMP/aroot" "$TMP/aroot2"
tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/aroot"
tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/aroot2"
echo alice >"$TMP/aroot2/whose"
chown -R "$UA:" "$TMP/aroot" "$TMP/aroot2"
AID=$(as_a "$SANDBOXCTL" -a "$SA" create --name a1 --rootfs "$TMP/aroot" 2>&1)
ok $? "alice creates a1 from her own directory"
BID=$(as_b "$SANDBOXCTL" -a "$SB" create --name a1 2>&1)
ok $? "bob creates a sandbox of the same name: names are per tenant"
out=$(ls "$TMP/state/tenants/alice/images" 2>&1)
contains "$out" "sha256-" "alice's image is in her own cache"
ls "$TMP/state/images" 2>/dev/null | grep -q sha256-; is "$?" 1 "... not in the admin's"

# ---- the isolation matrix: every method of bob on alice's sandbox
for m in \
  'Sandboxes.Get {"id":"ID"}' 'Sandboxes.Stop {"id":"ID"}' 'Sandboxes.Kill {"id":"ID"}' \
  'Sandboxes.Pause {"id":"ID"}' 'Sandboxes.Resume {"id":"ID"}' 'Sandboxes.Stats {"id":"ID"}' \
  'Sandboxes.Delete {"id":"ID","force":true}' \
  'Sandboxes.AttachDisk {"id":"ID","path":"/tmp"}' \
  'Sandboxes.DetachDisk {"id":"ID","disk_id":"disk-0"}' \
  'Containers.Add {"sandbox_id":"ID","name":"c"}' 'Containers.Remove {"sandbox_id":"ID","name":"main"}' \
  'Containers.List {"sandbox_id":"ID"}' 'Containers.Update {"sandbox_id":"ID","pids":100}' \
  'Processes.Exec {"sandbox_id":"ID","args":["true"]}' 'Processes.List {"sandbox_id":"ID"}' \
  'Processes.Wait {"sandbox_id":"ID","process_id":1}' \
  'Processes.Signal {"sandbox_id":"ID","process_id":1,"signal":9}' \
  'Processes.WriteStdin {"sandbox_id":"ID","process_id":1,"data":"eA=="}' \
  'Processes.CloseStdin {"sandbox_id":"ID","process_id":1}' \
  'Processes.Resize {"sandbox_id":"ID","process_id":1,"rows":5,"cols":5}' \
  'Processes.ReadOutput {"sandbox_id":"ID","process_id":1,"stream":"stdout"}'; do
  method=${m%% *}
  params=${m#* }
  out=$(raw "$SB" "${params//ID/$AID}" "$method" as_b)
  contains "$out" '"code":"NOT_FOUND"' "bob's $method on alice's sandbox: NOT_FOUND"
done
out=$(raw "$SB" "{\"id\":\"$AID\"}" Sandboxes.Get as_b)
contains "$out" "no sandbox with id or name \\\"$AID\\\"" "... the same answer as a sandbox that does not exist"
out=$(as_a "$SANDBOXCTL" -a "$SA" exec a1 echo still-here 2>&1)
is "$out" "still-here" "alice's sandbox survived all of it"
out=$(raw "$SB" '{"id":"a1"}' Sandboxes.Get as_b)
contains "$out" "\"id\":\"$BID\"" "bob's a1 is his own sandbox"
out=$(as_b "$SANDBOXCTL" -a "$SB" ls -q)
is "$out" "$BID" "bob's List: his sandbox only"
out=$("$SANDBOXCTL" -a "$ADMIN" --json ls | tr -d ' \n')
contains "$out" "\"tenant\":\"alice\"" "the admin sees alice's sandbox, with its tenant"
contains "$out" "\"tenant\":\"bob\"" "... and bob's"
out=$("$SANDBOXCTL" -a "$ADMIN" exec a1 true 2>&1)
contains "$out" "2 sandboxes of different tenants are named \"a1\"" "the admin must name one of two a1s by id"

# ---- events
out=$(raw "$SB" '{"since_seq":0}' Events.Read as_b)
contains "$out" "$BID" "bob's events carry his sandbox"
case "$out" in *"$AID"* | *aroot*) ok 1 "... and none of alice's" ;; *) ok 0 "... and none of alice's" ;; esac
out=$(raw "$SA" '{"since_seq":0}' Events.Read as_a)
contains "$out" "$AID" "alice's events carry hers (and her image build)"
case "$out" in *"$BID"*) ok 1 "... none of bob's" ;; *) ok 0 "... none of bob's" ;; esac
out=$(raw "$ADMIN" '{"since_seq":0}' Events.Read)
contains "$out" "\"tenant\":\"bob\"" "the admin's events carry both, with their tenant"
contains "$(cat "$TMP/sub-a")" "$AID a1 running" "D-Bus: alice got her sandbox's signals"
grep -q "$BID" "$TMP/sub-a"; is "$?" 1 "... and none of bob's"
contains "$(cat "$TMP/sub-b")" "$BID a1 running" "D-Bus: bob got his"
grep -q "$AID" "$TMP/sub-b"; is "$?" 1 "... and none of alice's"
out=$(cat "$TMP/sub-root")
contains "$out" "$AID a1 running" "D-Bus: root got alice's"
contains "$out" "$BID a1 running" "... and bob's"
out=$(as_a gdbus call --session --dest org.sandboxd.Daemon1 --object-path /org/sandboxd/Daemon1 \
  --method org.sandboxd.Daemon1.ListSandboxes 2>&1)
contains "$out" "$AID" "D-Bus ListSandboxes as alice: hers"
case "$out" in *"$BID"*) ok 1 "... not bob's" ;; *) ok 0 "... not bob's" ;; esac
out=$(as_a gdbus call --session --dest org.sandboxd.Daemon1 --object-path /org/sandboxd/Daemon1 \
  --method org.freedesktop.DBus.Properties.Get org.sandboxd.Daemon1 RpcAddress 2>&1)
contains "$out" "$SA" "D-Bus RpcAddress as alice: her own socket"

# ---- host paths are read as the tenant
mkdir -m 0700 "$TMP/secret"
tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/secret"
# (bob's: alice's image quota is full)
out=$(as_b "$SANDBOXCTL" -a "$SB" create --rootfs "$TMP/secret" 2>&1); rc=$?
is "$rc" 1 "bob: --rootfs of a directory he cannot read is refused"
contains "$out" "PERMISSION_DENIED: root $TMP/secret: Permission denied" "... PERMISSION_DENIED"
is "$(ls "$TMP/state/tenants/bob/images" 2>/dev/null | grep -c sha256-)" 0 "... and no image was built"
mkdir -m 0700 "$TMP/locked"
cp "$BUILD/guest-agent/sandbox-rootfs.tar" "$TMP/locked/root.tar"
chmod 0644 "$TMP/locked/root.tar"
out=$(as_b "$SANDBOXCTL" -a "$SB" create --image "$TMP/locked/root.tar" 2>&1); rc=$?
is "$rc" 1 "a tarball she could read, behind a directory she cannot enter, is refused"
contains "$out" "PERMISSION_DENIED" "... PERMISSION_DENIED"
truncate -s 1M "$TMP/root-disk.img"
chmod 0644 "$TMP/root-disk.img"
out=$(raw "$SA" "{\"id\":\"$AID\",\"path\":\"$TMP/root-disk.img\",\"read_only\":false}" Sandboxes.AttachDisk as_a)
contains "$out" '"code":"PERMISSION_DENIED"' "AttachDisk of a file she cannot write: PERMISSION_DENIED"
out=$(raw "$SA" "{\"id\":\"$AID\",\"path\":\"/dev/null\"}" Sandboxes.AttachDisk as_a)
contains "$out" "regular files only, not devices" "AttachDisk of a device (one she may write) is refused"
truncate -s 1M "$TMP/alice-disk.img"
chown "$UA" "$TMP/alice-disk.img"
out=$(raw "$SA" "{\"id\":\"$AID\",\"path\":\"$TMP/alice-disk.img\"}" Sandboxes.AttachDisk as_a)
contains "$out" '"disk_id":"' "AttachDisk of her own file works (read-only, through the file she opened)"
# A disk image anyone may write, but inside a root process's private mount
# namespace: alice cannot reach it herself (/proc/PID/root needs ptrace
# rights), so sandboxd acting for her must not either.
mkdir -p "$TMP/privmnt"
unshare -m --propagation private sh -c "mount -t tmpfs tmpfs '$TMP/privmnt' &&
  truncate -s 1M '$TMP/privmnt/d.img' && chmod 0666 '$TMP/privmnt/d.img' && exec sleep 300" &
priv_pid=$!
for _ in $(seq 50); do [ -e "/proc/$priv_pid/root$TMP/privmnt/d.img" ] && break; sleep 0.1; done
as_a test -r "/proc/$priv_pid/root$TMP/privmnt/d.img"; is $? 1 "alice herself cannot reach a file in another process's mounts"
out=$(raw "$SA" "{\"id\":\"$AID\",\"path\":\"/proc/$priv_pid/root$TMP/privmnt/d.img\"}" Sandboxes.AttachDisk as_a)
contains "$out" '"code":"PERMISSION_DENIED"' "AttachDisk through /proc/PID/root is refused"
contains "$out" "Permission denied (opened for writing as tenant alice" "... as alice would be"
kill "$priv_pid" 2>/dev/null

# ---- policies
out=$(as_a "$SANDBOXCTL" -a "$SA" create --policy strict 2>&1); rc=$?
is "$rc" 1 "alice may not choose a policy not hers"
contains "$out" "tenant alice may not choose policy strict" "... saying so"
out=$(as_b "$SANDBOXCTL" -a "$SB" create --policy unprivileged 2>&1)
contains "$out" "PERMISSION_DENIED" "bob may not choose unprivileged (weaker than the default)"

out=$(as_a "$SANDBOXCTL" -a "$SA" create --network ns:/proc/1/ns/net 2>&1)
contains "$out" "tenant alice may not join a network namespace by path" "a tenant may not join a network namespace by path"

# ---- quotas: each exceeded once, nothing started
before=$(qemus)
# A 1 GiB sparse file in a root: its image may grow only to what is left of
# her 3 MiB (her first image holds the rest); nothing of it is kept.
truncate -s 1G "$TMP/aroot2/sparse" && chown "$UA:" "$TMP/aroot2/sparse"
images_before=$(ls "$TMP/state/tenants/alice/images" | grep -c '^sha256-')
out=$(as_a "$SANDBOXCTL" -a "$SA" create --rootfs "$TMP/aroot2" 2>&1)
contains "$out" "RESOURCE_EXHAUSTED" "image_mb: a root whose image would outgrow the quota is refused"
contains "$out" "bytes left of the image quota" "... while it is built, saying why"
is "$(ls "$TMP/state/tenants/alice/images" | grep -c '^sha256-')" "$images_before" "... and no image of it is kept"
ls "$TMP/state/tenants/alice/images" | grep -q '^tmp-'; is $? 1 "... nor any part of one"
out=$(as_a "$SANDBOXCTL" -a "$SA" create -m 512M 2>&1)
contains "$out" "quota memory_mb is 640; in use: 256, asked for 512 more" "memory_mb: names the quota, limit and use"
out=$(as_a "$SANDBOXCTL" -a "$SA" create --cpus 2 2>&1)
contains "$out" "quota cpus is 2; in use: 1, asked for 2 more" "cpus"
as_a "$SANDBOXCTL" -a "$SA" exec a1 head -c 1200000 /dev/zero | wc -c >/dev/null
out=$(as_a "$SANDBOXCTL" -a "$SA" exec a1 true 2>&1)
contains "$out" "quota output_mb is 1; in use: 2" "output_mb: no process once its output is stored"
is "$(qemus)" "$before" "... and none of these started a QEMU"
as_a "$SANDBOXCTL" -a "$SA" create --name a2 >/dev/null
ok $? "alice's second sandbox"
out=$(as_a "$SANDBOXCTL" -a "$SA" create --name a3 2>&1)
contains "$out" "quota sandboxes is 2; in use: 2, asked for 1 more" "sandboxes: the third is refused"
out=$(as_a "$SANDBOXCTL" -a "$SA" --json info | tr -d ' \n')
contains "$out" '"quota":{"sandboxes":2,"memory_mb":640,"cpus":2,"image_mb":3,"output_mb":1,"volume_mb":null}' "info shows alice her limits (null: none)"
contains "$out" '"use":{"sandboxes":2,"memory_mb":512,"cpus":2' "... and her use"

# ---- the file: checked at start, errors name the field
echo '{"tenants": [{"name": "x", "uid": 5000, "quota": {"memroy_mb": 1}}]}' >"$TMP/bad.json"
out=$(timeout 20 "$SANDBOXD" --runtime-dir "$TMP/rt2" --state-dir "$TMP/state" --tenants "$TMP/bad.json" --accel tcg 2>&1); rc=$?
is "$rc" 1 "a misspelt quota stops sandboxd at start"
contains "$out" "tenants[0].quota.memroy_mb: unknown field" "... naming it"
echo "{\"tenants\": [{\"name\": \"x\", \"uid\": 5000, \"policies\": [\"unprivileged\"]}]}" >"$TMP/bad.json"
out=$("$SANDBOXD" --runtime-dir "$TMP/rt2" --state-dir "$TMP/state" --tenants "$TMP/bad.json" --accel tcg 2>&1)
contains "$out" "tenant x: policies: policy unprivileged is less strict" "a tenant's policy weaker than the default is refused"
echo '{"tenants": [{"name": "by-uid", "uid": 5000}]}' >"$TMP/bad.json"
out=$(timeout 20 "$SANDBOXD" --runtime-dir "$TMP/rt2" --state-dir "$TMP/state" --tenants "$TMP/bad.json" --accel tcg 2>&1); rc=$?
is "$rc" 1 "a tenant named by-uid is refused"
contains "$out" '"by-uid" is reserved' "... the name being the directory of every tenant's socket link"

# ---- SIGHUP: bob removed; his sandbox stays for the admin
ino=$(stat -c %i "$RT/tenants/alice/rpc.sock")
cat >"$TMP/tenants.json" <<EOF
{"tenants": [{"name": "alice", "uid": $A, "quota": {"sandboxes": 3}}]}
EOF
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do [ -e "$RT/tenants/bob" ] || break; sleep 0.1; done
[ -e "$RT/tenants/bob" ]; is "$?" 1 "SIGHUP without bob: his sockets are gone"
out=$("$SANDBOXCTL" -a "$ADMIN" ls)
contains "$out" "$BID" "... his sandbox stays, and the admin sees it"
is "$(stat -c %i "$RT/tenants/alice/rpc.sock")" "$ino" "alice keeps her socket"
out=$(as_a "$SANDBOXCTL" -a "$SA" create --name a3 2>&1)
ok $? "... and her new quota holds (a third sandbox)"
echo '{"tenants": [' >"$TMP/tenants.json"
kill -HUP "$DAEMON_PID"
sleep 0.5
contains "$(cat "$RT.log")" "the tenants stay as they were" "a broken file on SIGHUP changes nothing"
out=$(as_a "$SANDBOXCTL" -a "$SA" ls -q | wc -l)
is "$out" 3 "... alice is still served"

# ---- a restart keeps whose each sandbox is
echo "{\"tenants\": [{\"name\": \"alice\", \"uid\": $A}, {\"name\": \"bob\", \"uid\": $B}]}" >"$TMP/tenants.json"
kill -KILL "$DAEMON_PID"
start_daemon "$RT" --accel tcg --tenants "$TMP/tenants.json" --max-sandboxes 4 ||
  { echo "Bail out! sandboxd did not start again"; diag <"$RT.log"; exit 1; }
is "$(as_a "$SANDBOXCTL" -a "$SA" ls -q | wc -l)" 3 "after SIGKILL and a new sandboxd, alice has her three sandboxes back"
is "$(as_b "$SANDBOXCTL" -a "$SB" ls -q)" "$BID" "... bob his one"
# --max-sandboxes 4 is full (alice's three, bob's one): bob is told so,
# not how many the daemon holds for everyone.
out=$(as_b "$SANDBOXCTL" -a "$SB" create --name b9 2>&1)
contains "$out" "RESOURCE_EXHAUSTED: sandboxd has as many sandboxes as it keeps" "a tenant past --max-sandboxes is refused"
case "$out" in *4*) ok 1 "... without the daemon's figures"; echo "$out" | diag ;; *) ok 0 "... without the daemon's figures" ;; esac

tap_done
