#!/bin/bash
# Graceful stop through QMP, and inspect, in real microVMs.
. "$(dirname "$0")/lib.sh"

start_daemon "$TMP/d" || { echo "Bail out! sandboxd did not start"; diag <"$TMP/d.log"; exit 1; }
rpc() { nanocat --req --connect "$SANDBOXD_ADDRESS" --ascii --recv-timeout "${2:-30}" --data "$1" 2>&1; }

"$SANDBOXCTL" run --name s1 -- true; ok $? "a sandbox runs and stays after its command"
out=$(rpc '{"id":1,"method":"sandbox.v1.Processes.Exec","params":{"sandbox_id":"s1","args":["sh","-c","trap \"echo got-term; exit 3\" TERM; while true; do sleep 0.1; done"]}}')
contains "$out" '"process_id":2' "a process that traps SIGTERM starts in it"
rpc '{"id":2,"method":"sandbox.v1.Processes.Wait","params":{"sandbox_id":"s1","process_id":2}}' 60 >"$TMP/wait" &
waiter=$!
sleep 1

out=$("$SANDBOXCTL" stop s1); rc=$?
is "$rc" 0 "sandboxctl stop exits 0"
is "$out" "s1" "... and prints the sandbox's name"
wait $waiter
contains "$(cat "$TMP/wait")" '"exit_code":3' "the process got SIGTERM and exited by its trap (3)"
out=$(rpc '{"id":3,"method":"sandbox.v1.Processes.ReadOutput","params":{"sandbox_id":"s1","process_id":2,"stream":"stdout"}}')
contains "$out" "\"data\":\"$(printf 'got-term\n' | base64)\"" "... and its last output was kept"

json=$("$SANDBOXCTL" --json inspect s1); rc=$?
is "$rc" 0 "inspect of a stopped sandbox exits 0"
contains "$json" '"state" : "stopped"' 'inspect shows "state": "stopped"'
case "$json" in *qemu_pid*) ok 1 "... and no QEMU pid" ;; *) ok 0 "... and no QEMU pid" ;; esac
is "$(pgrep -f -- "sandboxd:$TMP/d/" | wc -l)" 0 "no QEMU process is left"
grep -q "shutting down: power button" "$TMP"/d/sb/*/console.log
ok $? "the guest powered off through its power button (console says so)"

out=$("$SANDBOXCTL" stop s1); rc=$?
is "$rc" 0 "stopping a stopped sandbox is fine"

# A guest whose process ignores SIGTERM does not power off within -t 1:
# QEMU is told to quit instead.
"$SANDBOXCTL" run --name s2 -- true
rpc '{"id":4,"method":"sandbox.v1.Processes.Exec","params":{"sandbox_id":"s2","args":["sh","-c","trap \"\" TERM; while true; do sleep 0.1; done"]}}' >/dev/null
rpc '{"id":5,"method":"sandbox.v1.Processes.Wait","params":{"sandbox_id":"s2","process_id":2}}' 60 >"$TMP/wait2" &
waiter=$!
sleep 1
"$SANDBOXCTL" stop -t 1 s2 >/dev/null; rc=$?
is "$rc" 0 "stop -t 1 of a guest that does not power off in time exits 0"
wait $waiter
contains "$(cat "$TMP/wait2")" 'sandbox s2 was stopped' "... a waiter learns its sandbox was stopped"
contains "$("$SANDBOXCTL" inspect s2)" '"state" : "stopped"' "... and the sandbox is stopped"
grep -q "the guest did not power off in time" "$TMP/d.log"
ok $? "... because QEMU was told to quit (the daemon log says so)"

out=$("$SANDBOXCTL" stop nope 2>&1); rc=$?
is "$rc" 1 "stop of an unknown sandbox exits 1"
contains "$out" 'sandboxctl: NOT_FOUND: no sandbox with id or name "nope"' "... saying so"
out=$("$SANDBOXCTL" inspect s1 nope 2>&1); rc=$?
is "$rc" 1 "inspect with an unknown name exits 1"
contains "$out" '"name" : "s1"' "... after printing the ones it found"

tap_done
