#!/bin/bash
# Networking with real QEMU, the real helper (sandbox-slirp), real curl: published ports, a
# guest reaching a test host (in a network namespace made here, never
# beyond this machine), and what it must not reach: the host's loopback,
# another sandbox, anything without a network. Errors leave nothing behind;
# ports keep answering while sandboxd is killed and restarted.
. "$(dirname "$0")/lib.sh"
bail() { echo "Bail out! $1"; diag <"$TMP/d.log"; exit 1; }
field() { "$SANDBOXCTL" --json inspect "$1" | sed -n "s/.*\"$2\" : \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -n 1; }
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (network namespaces, cgroups)"; exit 0; }
[ -x "$BUILD/network/sandbox-slirp" ] || { echo "1..0 # SKIP sandbox-slirp is not built (libslirp-dev)"; exit 0; }

# The test host: a namespace with one end of a veth pair, serving HTTP.
NS=sbxt$$
VH=sbxh$$
HOSTNET=10.$(( $$ % 200 + 20 )).77
ip netns add "$NS" || bail "ip netns add"
trap 'ip netns del "$NS" 2>/dev/null; ip link del "$VH" 2>/dev/null; cleanup' EXIT
ip link add "$VH" type veth peer name eth0 netns "$NS"
ip addr add "$HOSTNET.1/24" dev "$VH" && ip link set "$VH" up
ip -n "$NS" addr add "$HOSTNET.2/24" dev eth0 && ip -n "$NS" link set eth0 up && ip -n "$NS" link set lo up
mkdir -p "$TMP/www" "$TMP/secret"
echo "test host page" >"$TMP/www/index.html"
echo "host loopback secret" >"$TMP/secret/index.html"
ip netns exec "$NS" busybox httpd -f -p 8000 -h "$TMP/www" &
testhost_pid=$!
# A service on the host's loopback only: no guest may reach it.
LOPORT=$(( 20000 + $$ % 10000 ))
busybox httpd -f -p "127.0.0.1:$LOPORT" -h "$TMP/secret" &
lo_pid=$!
trap 'kill $testhost_pid $lo_pid 2>/dev/null; ip netns del "$NS" 2>/dev/null; ip link del "$VH" 2>/dev/null; cleanup' EXIT
sleep 0.3
is "$(curl -s -m 5 "http://127.0.0.1:$LOPORT/")" "host loopback secret" "the loopback service answers on the host"

start_daemon "$TMP/d" || bail "sandboxd did not start"
HP=$(( 30000 + $$ % 10000 ))
"$SANDBOXCTL" create --name web -p "$HP:80" >/dev/null; ok $? "create -p $HP:80 boots a sandbox"
is "$(field web mode)" user "-p implies --network user (inspect: network.mode)"
is "$(field web address)" 10.0.2.15/24 "inspect shows the guest's address"
is "$(field web host_port),$(field web guest_port),$(field web protocol)" "$HP,80,tcp" "... and the published port"
helper=$(field web helper_pid)
[ -n "$helper" ] && kill -0 "$helper"; ok $? "the network helper runs, pid $helper"
id_web=$(field web id)
grep -qx "$helper" /sys/fs/cgroup/memory/sandboxd/"$id_web"/cgroup.procs 2>/dev/null \
  || grep -qx "$helper" /sys/fs/cgroup/sandboxd/"$id_web"/cgroup.procs 2>/dev/null
ok $? "... in the sandbox's cgroup"
[ "$(stat -c %u /proc/"$helper")" != 0 ]; ok $? "... not as root (uid $(stat -c %u /proc/"$helper"))"
is "$(awk '/^Seccomp:/ {print $2}' /proc/"$helper"/status)" 2 "... under its own seccomp filter"
contains "$("$SANDBOXCTL" --json stats web)" network_helper_rss_bytes "stats counts the helper"

"$SANDBOXCTL" exec web -- sh -c 'mkdir -p /www && echo "guest page" >/www/index.html && httpd -p 80 -h /www'
is "$(curl -s -m 10 "http://127.0.0.1:$HP/")" "guest page" "curl on the host gets the guest's page through the published port"

get() { printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 nc -w 3 "$1" "$2" 2>&1; }
out=$("$SANDBOXCTL" exec web -- sh -c "$(declare -f get); get $HOSTNET.2 8000")
contains "$out" "test host page" "the guest reaches a test host in another namespace"
contains "$("$SANDBOXCTL" exec web -- cat /etc/hosts)" "10.0.2.15	web" "/etc/hosts names the guest"
# What every user of the host reads (ps, /proc/PID/cmdline) names neither
# the sandbox, nor its size, nor the ports it publishes.
qemu_cmd=$(tr '\0' ' ' </proc/"$(pgrep -f "^[^ ]*qemu.* sandboxd:$(field web dir)( |$)" | head -1)"/cmdline)
contains "$qemu_cmd" "-readconfig" "QEMU runs ($(echo "$qemu_cmd" | cut -c1-60)...)"
case "$qemu_cmd" in *hostname=*|*" -m "*|*" -append "*) ok 1 "QEMU's command line shows no name, size or kernel command line"; echo "$qemu_cmd" | diag ;;
  *) ok 0 "QEMU's command line shows no name, size or kernel command line" ;; esac
helper_cmd=$(tr '\0' ' ' </proc/"$helper"/cmdline)
case "$helper_cmd" in *"$HP"*) ok 1 "the helper's command line shows no published port"; echo "$helper_cmd" | diag ;;
  *) ok 0 "the helper's command line shows no published port ($helper_cmd)" ;; esac

# Real sizes, both ways, checksummed (a guest's downloads once stalled after
# 64-128 KiB while every small payload passed).
download() { # download SANDBOX FILE: the md5 of FILE as the guest fetched it from the test host
  "$SANDBOXCTL" exec "$1" -- sh -c "printf 'GET /$2 HTTP/1.0\r\n\r\n' | timeout 120 nc $HOSTNET.2 8000 |
    tail -c $(stat -c %s "$TMP/www/$2") | md5sum" | cut -d' ' -f1
}
head -c 1048576 /dev/urandom >"$TMP/www/1m"
head -c 104857600 /dev/urandom >"$TMP/www/100m"
for f in 1m 100m; do
  is "$(download web "$f")" "$(md5sum <"$TMP/www/$f" | cut -d' ' -f1)" "the guest downloads $f from the test host, whole"
done
"$SANDBOXCTL" exec web -- sh -c 'head -c 104857600 /dev/urandom >/www/100m; head -c 1048576 /www/100m >/www/1m'
for f in 1m 100m; do
  is "$(curl -s -m 120 "http://127.0.0.1:$HP/$f" | md5sum | cut -d' ' -f1)" \
    "$("$SANDBOXCTL" exec web -- md5sum "/www/$f" | cut -d' ' -f1)" "the host gets $f from the guest's published port, whole"
done
"$SANDBOXCTL" exec web -- rm -f /www/100m /www/1m

# The same through a template's clone (its NIC set up after the thaw), on a
# second sandboxd with templates.
main_pid=$DAEMON_PID
TEMPLATES=1 start_daemon "$TMP/tpl" || bail "sandboxd with templates did not start"
CP=$(( HP + 1 ))
boot_of() { "$SANDBOXCTL" --json inspect "$1" | sed -n 's/.*"boot" : "\([a-z]*\)".*/\1/p' | head -1; }
# The template for this shape may still be building: a create meanwhile
# boots cold; the next one, once it is ready, is a clone.
for _ in 1 2 3 4 5 6; do
  "$SANDBOXCTL" create --name clone -p "$CP:80" >/dev/null || break
  [ "$(boot_of clone)" = template ] && break
  "$SANDBOXCTL" rm -f clone >/dev/null
  sleep 5
done
is "$(boot_of clone)" template "a sandbox with a published port, booted from a template"
for f in 1m 100m; do
  is "$(download clone "$f")" "$(md5sum <"$TMP/www/$f" | cut -d' ' -f1)" "the clone downloads $f from the test host, whole"
done
"$SANDBOXCTL" exec clone -- sh -c 'mkdir -p /www; head -c 104857600 /dev/urandom >/www/100m;
  head -c 1048576 /www/100m >/www/1m; httpd -p 80 -h /www'
for f in 1m 100m; do
  is "$(curl -s -m 120 "http://127.0.0.1:$CP/$f" | md5sum | cut -d' ' -f1)" \
    "$("$SANDBOXCTL" exec clone -- md5sum "/www/$f" | cut -d' ' -f1)" "the host gets $f from the clone's published port, whole"
done
"$SANDBOXCTL" rm -f clone >/dev/null
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=$main_pid
export SANDBOXD_ADDRESS="ipc://$TMP/d/rpc.sock"
rm -f "$TMP/www/100m"

out=$("$SANDBOXCTL" exec web -- sh -c "$(declare -f get); get 10.0.2.2 $LOPORT")
case "$out" in *secret*) ok 1 "the gateway does not lead to the host's loopback"; echo "$out" | diag ;;
  *) ok 0 "the gateway does not lead to the host's loopback" ;; esac
# A hostile guest routes 127.0.0.0/8 out of eth0: the helper would connect to the
# host's 127.0.0.1 (the guest's kernel then drops the answer as a martian,
# so only the host side can tell): a watcher on loopback counts accepts.
WATCH=$(( LOPORT + 1 ))
python3 - "$WATCH" "$TMP/accepted" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("accepted\n")
    c.close()
PY
watch_pid=$!
for _ in $(seq 50); do
  curl -s -m 2 "http://127.0.0.1:$WATCH/" >/dev/null
  [ -s "$TMP/accepted" ] && break
  sleep 0.1
done
is "$(cat "$TMP/accepted" 2>/dev/null)" accepted "the loopback watcher counts a connection from the host"
: >"$TMP/accepted"
"$SANDBOXCTL" exec web -- sh -c "sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1
  ip route del local 127.0.0.0/8 dev lo table local; ip route add 127.0.0.0/8 via 10.0.2.2 dev eth0
  $(declare -f get); get 127.0.0.1 $WATCH; ip route add local 127.0.0.0/8 dev lo table local" >/dev/null
out=$("$SANDBOXCTL" exec web -- sh -c "$(declare -f get); get 10.0.2.2 $WATCH")
is "$(cat "$TMP/accepted")" "" "frames crafted for 127.0.0.1 (and the gateway) open no connection on the host's loopback"
kill "$watch_pid" 2>/dev/null

# The host's other addresses (here the test's veth end, $HOSTNET.1): a
# service there is the host's, never a guest's to reach; nor one on an
# address the host gains while the sandbox runs.
OWNPORT=$(( LOPORT + 2 ))
busybox httpd -f -p "$HOSTNET.1:$OWNPORT" -h "$TMP/secret" &
own_pid=$!
ip addr add "$HOSTNET.99/32" dev "$VH"
busybox httpd -f -p "$HOSTNET.99:$OWNPORT" -h "$TMP/secret" &
new_pid=$!
sleep 0.5
is "$(curl -s -m 5 "http://$HOSTNET.1:$OWNPORT/")" "host loopback secret" "a host service on the host's address $HOSTNET.1 answers the host"
is "$(curl -s -m 5 "http://$HOSTNET.99:$OWNPORT/")" "host loopback secret" "... and on $HOSTNET.99, added while the sandbox runs"
for a in "$HOSTNET.1" "$HOSTNET.99"; do
  out=$("$SANDBOXCTL" exec web -- sh -c "$(declare -f get); get $a $OWNPORT")
  case "$out" in *secret*) ok 1 "the guest does not reach the host's service on $a"; echo "$out" | diag ;;
    *) ok 0 "the guest does not reach the host's service on $a" ;; esac
done
kill "$own_pid" "$new_pid" 2>/dev/null
ip addr del "$HOSTNET.99/32" dev "$VH"

# Two sandboxes: the same guest address, each its own; no path between them.
"$SANDBOXCTL" create --name other --network user >/dev/null; ok $? "a second sandbox on the user network"
out=$("$SANDBOXCTL" exec other -- sh -c "$(declare -f get); get 10.0.2.15 80")
case "$out" in *"guest page"*) ok 1 "a sandbox cannot reach another's guest"; echo "$out" | diag ;;
  *) ok 0 "a sandbox cannot reach another's guest" ;; esac

"$SANDBOXCTL" create --name offline >/dev/null; ok $? "a sandbox without --network"
is "$("$SANDBOXCTL" exec offline -- sh -c 'ip route; ls /sys/class/net')" "lo" "--network none: no NIC, no route, only lo"
is "$(field offline mode)" "" "... and inspect shows no network"

# Bad input: a clear error, no sandbox, no QEMU.
qemus() { pgrep -f -- "sandboxd:$TMP/d/" | wc -l; }
before=$(qemus)
out=$("$SANDBOXCTL" create --name clash -p "$HP:80" 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "a host port in use is refused (exit $rc)"
contains "$out" "host port 0.0.0.0:$HP/tcp: already in use" "... naming the port"
is "$("$SANDBOXCTL" ls -q clash)" "" "... no sandbox left"
is "$(qemus)" "$before" "... and no QEMU started"
for bad in 80 "x:80" "$HP:99999" "$HP:80/sctp" "1.2.3:$HP:80" "80:80"; do
  out=$("$SANDBOXCTL" create -p "$bad" 2>&1); rc=$?
  [ $rc -eq 2 ] || [ $rc -eq 1 ]; ok $? "-p $bad is refused (exit $rc): ${out##*: }"
done
contains "$("$SANDBOXCTL" create --network bridge 2>&1)" 'network "bridge" is not none, user or ns:PATH' "an unknown network mode is named"
contains "$("$SANDBOXCTL" create --network ns:/nonexistent 2>&1)" "/nonexistent" "a netns path that does not exist is named"
contains "$("$SANDBOXCTL" create --network ns:/etc/hostname 2>&1)" "not a network namespace" "a path that is not a netns is refused"
is "$(qemus)" "$before" "none of these started a QEMU"
main_pid=$DAEMON_PID
start_daemon "$TMP/nohelper" --net-helper /nonexistent/sandbox-slirp || bail "second sandboxd did not start"
contains "$("$SANDBOXCTL" create --network user 2>&1)" "needs its helper sandbox-slirp, which is not installed" "without its helper, --network user says what is missing"
kill -TERM "$DAEMON_PID"
DAEMON_PID=$main_pid
export SANDBOXD_ADDRESS="ipc://$TMP/d/rpc.sock"

# ns: the guest takes over a namespace's interface (as for CNI): it answers
# pings and HTTP on the address the namespace's veth had.
NS2=sbxn$$
VH2=sbxv$$
NSNET=10.$(( $$ % 200 + 20 )).78
ip netns add "$NS2" && ip link add "$VH2" type veth peer name eth0 netns "$NS2"
ip addr add "$NSNET.1/24" dev "$VH2" && ip link set "$VH2" up
ip -n "$NS2" addr add "$NSNET.2/24" dev eth0 && ip -n "$NS2" link set eth0 up
ip -n "$NS2" route add default via "$NSNET.1"
mac=$(ip -n "$NS2" -br link show eth0 | awk '{print $3}')
"$SANDBOXCTL" create --name cni --network "ns:/run/netns/$NS2" >/dev/null; ok $? "create --network ns:/run/netns/$NS2"
is "$(field cni mode),$(field cni address),$(field cni gateway),$(field cni mac)" "ns,$NSNET.2/24,$NSNET.1,$mac" \
  "inspect: the namespace's address, gateway and MAC"
is "$("$SANDBOXCTL" exec cni -- cat /sys/class/net/eth0/address)" "$mac" "the guest's eth0 has the interface's MAC"
busybox ping -c 2 -W 3 "$NSNET.2" >/dev/null; ok $? "the guest answers pings on $NSNET.2"
"$SANDBOXCTL" exec cni -- sh -c 'mkdir -p /www && echo "cni guest" >/www/index.html && httpd -p 80 -h /www'
is "$(curl -s -m 10 "http://$NSNET.2/")" "cni guest" "... and HTTP"
"$SANDBOXCTL" rm -f cni >/dev/null; ok $? "rm -f the ns sandbox"
is "$(tc -n "$NS2" qdisc show dev eth0 ingress 2>/dev/null)" "" "the redirect on the namespace's interface is gone"
contains "$("$SANDBOXCTL" create --network "ns:/proc/$$/ns/net" 2>&1)" "sandboxd's own network namespace" "the host's own namespace is refused"
ip netns del "$NS2"; ip link del "$VH2" 2>/dev/null

# sandboxd killed: the published port goes on answering; a new sandboxd
# finds the helper again, and removing the sandbox ends it.
kill -KILL "$DAEMON_PID"
sleep 0.5
is "$(curl -s -m 10 "http://127.0.0.1:$HP/")" "guest page" "the port answers while sandboxd is dead"
KEEP_SANDBOXES=1 start_daemon "$TMP/d" || bail "sandboxd did not start again"
is "$(curl -s -m 10 "http://127.0.0.1:$HP/")" "guest page" "... and after it restarted"
is "$(field web helper_pid)" "$helper" "the new sandboxd knows the same helper"
# The guard is the new sandboxd's: an address added now is refused too.
ip addr add "$HOSTNET.98/32" dev "$VH"
busybox httpd -f -p "$HOSTNET.98:$OWNPORT" -h "$TMP/secret" &
new_pid=$!
sleep 0.5
out=$("$SANDBOXCTL" exec web -- sh -c "$(declare -f get); get $HOSTNET.98 $OWNPORT")
case "$out" in *secret*) ok 1 "after the restart, the guest does not reach an address the host gained"; echo "$out" | diag ;;
  *) ok 0 "after the restart, the guest does not reach an address the host gained" ;; esac
kill "$new_pid" 2>/dev/null
ip addr del "$HOSTNET.98/32" dev "$VH"
"$SANDBOXCTL" rm -f web other offline >/dev/null; rc=$?
ok $rc "rm -f the sandboxes"
[ $rc -eq 0 ] || { ls -laR "$TMP/d/sb" | diag; tail -20 "$TMP/d.log" | diag; }
sleep 0.5
# (An orphan's zombie waits for this machine's init to reap it: gone enough.)
state=$(awk '{print $3}' /proc/"$helper"/stat 2>/dev/null)
[ -z "$state" ] || [ "$state" = Z ]; ok $? "the helper is gone with its sandbox (state: ${state:-none})"
curl -s -m 3 "http://127.0.0.1:$HP/" >/dev/null; [ $? -ne 0 ]; ok $? "... and the port is closed"
tap_done
