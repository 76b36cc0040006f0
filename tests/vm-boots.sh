#!/bin/bash
# Boots beyond --max-boots wait their turn: every create succeeds, the
# queued ones say so, their watchdog starts only when their boot does.
. "$(dirname "$0")/lib.sh"

# One slot: the others wait for it, one after the other.
start_daemon "$TMP/d" --accel tcg --max-boots 1 ||
  { echo "Bail out! sandboxd did not start"; diag <"$TMP/d.log"; exit 1; }
C=$SANDBOXCTL

for i in 1 2 3 4; do
  "$C" create --name q$i >"$TMP/q$i.out" 2>&1 &
  eval "pid$i=$!"
  sleep 0.2
done
# A Create with a deadline shorter than its wait for a slot: the deadline
# does not count while it waits, only from its boot's start (as the
# watchdog).
nanocat --req --connect "$SANDBOXD_ADDRESS" --ascii --recv-timeout 60 --data \
  '{"id":5,"method":"sandbox.v1.Sandboxes.Create","params":{"name":"q5"},"deadline_ms":6000}' \
  >"$TMP/q5.out" 2>&1 &
pid5=$!
queued=""
for _ in $(seq 50); do
  queued=$("$C" --json inspect q3 2>/dev/null | tr -d ' \n')
  case "$queued" in *'"boot_queued":true'*) break ;; esac
  sleep 0.1
done
contains "$queued" '"boot_queued":true' "the third create waits for a boot slot (inspect says so)"
contains "$queued" '"state":"creating"' "... in state creating"
out=$("$C" rm -f q4 2>&1)
ok $? "a queued sandbox can be removed"
wait "$pid4"; rc=$?
is "$rc" 1 "... its create fails"
contains "$(cat "$TMP/q4.out")" "deleted before its boot began" "... saying why"
contains "$(cat "$TMP/d.log")" "waits for a boot slot" "the daemon logs the wait"
for i in 1 2 3; do
  eval "wait \$pid$i"; ok $? "create q$i succeeds"
done
wait "$pid5"
contains "$(cat "$TMP/q5.out")" '"state":"running"' "a Create queued behind three boots meets its 6 s deadline (counted from its boot, not its wait)"
out=$("$C" ls --state running -q | wc -l)
is "$out" 4 "all four run"
"$C" rm -f q1 q2 q3 q5 >/dev/null

tap_done
