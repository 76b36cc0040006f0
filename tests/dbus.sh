#!/bin/bash
# D-Bus activation on a private bus: a call to org.sandboxd.Daemon1 starts
# sandboxd, which then serves sandboxctl over nanomsg as usual.
. "$(dirname "$0")/lib.sh"

for tool in dbus-daemon gdbus; do
  command -v $tool >/dev/null || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done
# The bus: open to every user (a throwaway one listens below), with the
# policy sandboxd installs for the system bus on top.
mkdir -p "$TMP/services" "$TMP/pub"
chmod 0755 "$TMP" "$TMP/pub"
cat >"$TMP/bus.conf" <<CONF
<busconfig>
  <type>session</type>
  <listen>unix:path=$TMP/pub/bus</listen>
  <servicedir>$TMP/services</servicedir>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <include>$(cd "$(dirname "$0")/.." && pwd)/data/org.sandboxd.Daemon1.conf</include>
</busconfig>
CONF
cat >"$TMP/services/org.sandboxd.Daemon1.service" <<SERVICE
[D-BUS Service]
Name=org.sandboxd.Daemon1
Exec=$SANDBOXD --dbus session --runtime-dir $TMP/rt --state-dir $TMP/state --no-templates --idle-exit 3
SERVICE
bus_pid=$(dbus-daemon --config-file="$TMP/bus.conf" --fork --print-pid)
daemon_pids="$daemon_pids $bus_pid"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$TMP/pub/bus"
call() { gdbus call --session --dest org.sandboxd.Daemon1 --object-path /org/sandboxd/Daemon1 "$@" 2>&1; }
running() { pgrep -f -- "--runtime-dir $TMP/rt" >/dev/null; }

running; is "$?" 1 "no sandboxd runs before the first call"
out=$(call --method org.freedesktop.DBus.Properties.Get org.sandboxd.Daemon1 RpcAddress)
is "$out" "(<'ipc://$TMP/rt/rpc.sock'>,)" "a D-Bus call activates sandboxd and gets its RPC address"
running; ok $? "... sandboxd now runs"
out=$(call --method org.freedesktop.DBus.Properties.Get org.sandboxd.Daemon1 Version)
contains "$out" "$("$SANDBOXCTL" --version | head -1 | cut -d' ' -f2)" "the Version property is the daemon's version"
is "$(call --method org.sandboxd.Daemon1.ListSandboxes)" "(@a(sss) [],)" "ListSandboxes: none yet"

export SANDBOXD_ADDRESS="ipc://$TMP/rt/rpc.sock"
out=$("$SANDBOXCTL" version 2>&1); rc=$?
is "$rc" 0 "sandboxctl reaches the activated daemon over nanomsg"
contains "$out" "sandboxd   " "... and it answers"

# State changes are D-Bus signals too, received by root (and the sandboxd
# group) only: a user outside them listens in vain.
timeout 20 gdbus monitor --session --dest org.sandboxd.Daemon1 >"$TMP/monitor" 2>&1 &
timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups \
  gdbus monitor --session --dest org.sandboxd.Daemon1 >"$TMP/monitor-other" 2>&1 &
sleep 0.5
"$SANDBOXCTL" create --name dbus-probe >/dev/null 2>&1 &
creator=$!
for _ in $(seq 50); do grep -q booting "$TMP/monitor" && break; sleep 0.1; done
out=$(call --method org.sandboxd.Daemon1.ListSandboxes)
contains "$out" "'dbus-probe', 'booting'" "ListSandboxes shows the booting sandbox"
"$SANDBOXCTL" rm -f dbus-probe >/dev/null 2>&1
wait $creator
sleep 0.5
contains "$(cat "$TMP/monitor")" "SandboxStateChanged ('" "a SandboxStateChanged signal is sent"
contains "$(cat "$TMP/monitor")" "'dbus-probe', 'booting')" "... for the boot"
contains "$(cat "$TMP/monitor")" "'dbus-probe', 'deleted')" "... and for the deletion"
contains "$(cat "$TMP/monitor-other")" "Monitoring signals" "another user could subscribe"
grep -q "dbus-probe" "$TMP/monitor-other"; is "$?" 1 "... but received none of the sandbox's signals"

# --idle-exit: with nothing to do it leaves; the next call brings it back.
for _ in $(seq 100); do running || break; sleep 0.1; done
running; is "$?" 1 "the activated daemon exits when idle (--idle-exit 3)"
out=$(call --method org.freedesktop.DBus.Properties.Get org.sandboxd.Daemon1 RpcAddress)
contains "$out" "ipc://$TMP/rt/rpc.sock" "the next call activates it again"

# Only one daemon owns the name.
out=$("$SANDBOXD" --dbus session --runtime-dir "$TMP/rt2" --state-dir "$TMP/state" --no-templates 2>&1); rc=$?
is "$rc" 1 "a second daemon on the same bus exits 1"
contains "$out" "org.sandboxd.Daemon1 is owned by another process" "... saying why"
out=$("$SANDBOXD" --dbus bus 2>&1); rc=$?
is "$rc" 2 "--dbus takes session, system or none"

pkill -f -- "--runtime-dir $TMP/rt" 2>/dev/null
tap_done
