#!/bin/bash
# sandboxd killed or stopped and started again: QEMUs live on, the new
# sandboxd takes them back, and clients streaming output notice nothing but
# a pause. A QEMU that dies is noticed at once and cleaned up.
. "$(dirname "$0")/lib.sh"
bail() { echo "Bail out! $1"; diag <"$TMP/d.log"; exit 1; }
qemu_pid() { "$SANDBOXCTL" --json inspect "$1" | sed -n 's/.*"qemu_pid" : \([0-9]*\).*/\1/p'; }
state() { "$SANDBOXCTL" --json inspect "$1" | sed -n 's/.*"state" : "\([a-z]*\)".*/\1/p'; }

start_daemon "$TMP/d" --auto-remove-grace 3 || bail "sandboxd did not start"
"$SANDBOXCTL" run --name a -- true; ok $? "sandbox a runs"
"$SANDBOXCTL" run --name b -- true; ok $? "sandbox b runs"
pid_a=$(qemu_pid a)
pid_b=$(qemu_pid b)

# 300 lines over about 6 s, some stderr, and a status of its own.
"$SANDBOXCTL" exec a -- sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "line $i"; sleep 0.02; done; echo done >&2; exit 7' \
  >"$TMP/out" 2>"$TMP/err" &
client=$!
sleep 2
kill -KILL "$DAEMON_PID"
sleep 1
kill -0 "$pid_a" && kill -0 "$pid_b"
ok $? "both QEMUs live on after SIGKILL of sandboxd"

KEEP_SANDBOXES=1 start_daemon "$TMP/d" --auto-remove-grace 3 || bail "sandboxd did not start again"
wait "$client"; rc=$?
is "$rc" 7 "the streaming exec rode through the restart and exits with the process's status"
is "$(cat "$TMP/out")" "$(seq 300 | sed 's/^/line /')" "... with all 300 lines, in order, none twice"
is "$(cat "$TMP/err")" "done" "... and its stderr"
is "$(state a),$(state b)" "running,running" "the new sandboxd lists both sandboxes as running"
is "$(qemu_pid a),$(qemu_pid b)" "$pid_a,$pid_b" "... with the same QEMUs"
is "$("$SANDBOXCTL" exec a -- echo hi)" "hi" "a new exec works in a"
is "$("$SANDBOXCTL" exec b -- hostname)" "b" "a new exec works in b"
grep -q "reattaching to its QEMU (pid $pid_a)" "$TMP/d.log"
ok $? "the daemon log says it reattached"

# SIGTERM leaves sandboxes running unless --stop-on-exit.
kill -TERM "$DAEMON_PID"
for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DAEMON_PID" 2>/dev/null; is "$?" 1 "SIGTERM ends sandboxd"
kill -0 "$pid_a"; ok $? "... and leaves the QEMUs running"
KEEP_SANDBOXES=1 start_daemon "$TMP/d" --auto-remove-grace 3 || bail "sandboxd did not start a third time"
is "$("$SANDBOXCTL" logs --process 2 a | tail -n 1)" "line 300" "output from before both restarts is still there"
is "$("$SANDBOXCTL" exec a -- echo again)" "again" "a sandbox survives two restarts"

# A QEMU killed under us: failed within a second or two, sockets gone.
id_b=$("$SANDBOXCTL" --json inspect b | sed -n 's/.*"id" : "\([0-9a-f]*\)".*/\1/p')
kill -KILL "$pid_b"
for _ in $(seq 20); do [ "$(state b)" = failed ] && break; sleep 0.1; done
is "$(state b)" failed "a SIGKILLed QEMU makes its sandbox failed within 2 s"
contains "$("$SANDBOXCTL" inspect b)" "QEMU exited unexpectedly" "... with the reason"
[ -n "$id_b" ] && [ -d "$TMP/d/sb/$id_b/qemu" ] && ! ls "$TMP/d/sb/$id_b/qemu/"*.sock >/dev/null 2>&1
ok $? "... and its sockets are gone (its directory $id_b stays, for inspect)"

# A sandbox still booting when sandboxd dies is stopped and reported.
"$SANDBOXCTL" create --name c >/dev/null 2>&1 &
for _ in $(seq 50); do pgrep -f -- "sandboxd:$TMP/d/" | wc -l | grep -q 2 && break; sleep 0.1; done
kill -KILL "$DAEMON_PID"
start_daemon "$TMP/d" --auto-remove-grace 3 || bail "sandboxd did not start a fourth time"
is "$(state c)" failed "a sandbox that was booting when sandboxd died is failed"
contains "$("$SANDBOXCTL" inspect c)" "sandboxd restarted while the sandbox was booting" "... saying why"
for _ in $(seq 50); do [ "$(pgrep -f -- "sandboxd:$TMP/d/" | wc -l)" = 1 ] && break; sleep 0.1; done
is "$(pgrep -f -- "sandboxd:$TMP/d/" | wc -l)" 1 "... and its QEMU is gone (only a's is left)"

# run --rm is the daemon's job (auto_remove): clients that die, and a
# sandboxd killed meanwhile, leave nothing behind. rm-c's client dies while
# it boots (it never gets a process); rm-a's and rm-b's while their
# processes run. Three boots wait for two slots (--max-boots, the cores):
# rm-a's and rm-b's processes sleep long enough for rm-c to boot after them.
"$SANDBOXCTL" run --rm --name rm-a -- sh -c 'echo x; sleep 12' >/dev/null 2>&1 &
ca=$!
"$SANDBOXCTL" run --rm --name rm-b -- sh -c 'echo y; sleep 12' >/dev/null 2>&1 &
cb=$!
# rm-c comes third, so it waits for a slot (creating) and then boots.
for _ in $(seq 100); do [ -n "$(state rm-a)" ] && [ -n "$(state rm-b)" ] && break; sleep 0.1; done 2>/dev/null
"$SANDBOXCTL" run --rm --name rm-c -- true >/dev/null 2>&1 &
cc=$!
for _ in $(seq 100); do case "$(state rm-c)" in creating | booting) break ;; esac; sleep 0.1; done 2>/dev/null
kill -KILL $cc
for _ in $(seq 300); do
  "$SANDBOXCTL" ps rm-a 2>/dev/null | grep -q running && "$SANDBOXCTL" ps rm-b 2>/dev/null | grep -q running &&
    [ "$(state rm-c)" = running ] && break
  sleep 0.1
done
kill -KILL $ca $cb
is "$(state rm-a),$(state rm-c)" "running,running" "run --rm sandboxes whose clients were killed run on meanwhile"
[ "$(state rm-c)" = running ] || tail -40 "$TMP/d.log" | diag
kill -KILL "$DAEMON_PID"
start_daemon "$TMP/d" --auto-remove-grace 3 || bail "sandboxd did not start a fifth time"
is "$(state rm-b)" running "... and are taken back by a new sandboxd"
for _ in $(seq 300); do [ -z "$("$SANDBOXCTL" ls -q rm-)" ] && break; sleep 0.1; done
is "$("$SANDBOXCTL" ls -q rm-)" "" "... which removes them once their processes exit (or, with none, after the grace)"
for _ in $(seq 50); do [ "$(pgrep -f -- "sandboxd:$TMP/d/" | wc -l)" = 1 ] && break; sleep 0.1; done
is "$(pgrep -f -- "sandboxd:$TMP/d/" | wc -l)" 1 "... and their QEMUs are gone"

tap_done
