#!/bin/bash
# Terminals: run -it and exec -it drive a real pseudo-terminal (pty-run.py
# is the user at the keyboard): /dev/pts/N, the size, resizes, Ctrl-C to
# the guest's foreground job, the exit status, 10 MB through the terminal
# with sandboxd killed and restarted on the way, detach, and a container's
# own devpts.
. "$(dirname "$0")/lib.sh"
bail() { echo "Bail out! $1"; diag <"$TMP/d.log"; exit 1; }
PTY="python3 $(dirname "$0")/pty-run.py"
start_daemon "$TMP/d" || bail "sandboxd did not start"

$PTY --rows 33 --cols 101 --transcript "$TMP/t1" -- "$SANDBOXCTL" run --rm -it -- sh <<'S'
expect / # 
send tty; stty size\r
expect 33 101
resize 40 120
send stty size\r
expect 40 120
send echo $((6*7))-go; sleep 30\r
expect 42-go
sleep 1
send \x03
send echo "alive $?"\r
expect alive 130
send exit 3\r
S
rc=$?
out=$(tr -d '\r' <"$TMP/t1")
is "$rc" 3 "run -it -- sh: the shell's exit 3 is sandboxctl's status"
contains "$out" "/dev/pts/" "tty names a pseudo-terminal"
contains "$out" "33 101" "stty size: the size the local terminal had"
contains "$out" "40 120" "a resize while it runs reaches the guest"
contains "$out" "alive 130" "Ctrl-C killed the sleep in the guest (130), and the shell lives on"

"$SANDBOXCTL" create --name term >/dev/null || bail "create term"
# 10 MB written to the terminal, with sandboxd killed and started again
# while it flows: all of it arrives.
N=10485760
$PTY --timeout 300 --transcript "$TMP/t2" -- "$SANDBOXCTL" exec -it term -- \
  sh -c "sleep 1; head -c $N /dev/zero | tr '\\0' x; echo; echo done" <<S &
count x 200000
touch $TMP/flowing
wait-file $TMP/restarted
expect done
S
client=$!
for _ in $(seq 600); do [ -e "$TMP/flowing" ] && break; sleep 0.1; done
kill -KILL "$DAEMON_PID"
KEEP_SANDBOXES=1 start_daemon "$TMP/d" || bail "sandboxd did not start again"
touch "$TMP/restarted"
wait "$client"; rc=$?
is "$rc" 0 "10 MB through the terminal, sandboxd killed and restarted meanwhile: exit 0"
is "$(tr -cd x <"$TMP/t2" | wc -c)" "$N" "... every byte arrived, none twice"
grep -q "reattaching" "$TMP/d.log"; ok $? "... and the new sandboxd took the sandbox back"

# Ctrl-P Ctrl-Q: sandboxctl leaves, the process runs on.
$PTY --transcript "$TMP/t3" -- "$SANDBOXCTL" exec -it term -- sh -c 'echo ready; exec sleep 600' <<'S'
expect ready
send \x10\x11
S
rc=$?
is "$rc" 0 "Ctrl-P Ctrl-Q detaches (exit 0)"
contains "$(tr -d '\r' <"$TMP/t3")" "detached" "... saying so"
contains "$("$SANDBOXCTL" ps term)" "sleep 600" "... and the process runs on"
contains "$("$SANDBOXCTL" --json ps term)" '"tty" : true' "ps shows it has a terminal"

# In a container: a terminal of its own devpts.
"$SANDBOXCTL" container add term --name box >/dev/null || bail "container add"
$PTY --transcript "$TMP/t4" -- "$SANDBOXCTL" exec -it term --container box -- sh <<'S'
expect / # 
send tty; ls /dev/pts; exit 0\r
S
rc=$?
out=$(tr -d '\r' <"$TMP/t4")
is "$rc" 0 "exec -it into a container"
contains "$out" "/dev/pts/0" "... its terminal is the first of the container's own devpts"
$PTY --transcript "$TMP/t5" -- "$SANDBOXCTL" exec -it -u 1000 term --container box -- sh <<'S'
expect / \$ 
send stat -c "owner %u:%g %a" $(tty); exit 0\r
S
contains "$(tr -d '\r' <"$TMP/t5")" "owner 1000:5 620" "... owned by the process's user and group tty (5), 0620, as runc's"

# -t needs a terminal here, as docker says; nothing is created.
out=$("$SANDBOXCTL" run --rm -it --name notty -- true </dev/null 2>&1); rc=$?
is "$rc" 2 "run -t without a local terminal is a usage error (exit 2)"
contains "$out" "the input device is not a TTY" "... saying so"
is "$("$SANDBOXCTL" ls -q notty)" "" "... and creates no sandbox"
out=$("$SANDBOXCTL" exec -t term -- true </dev/null 2>&1); rc=$?
is "$rc" 2 "exec -t without a local terminal too"

# Resize is for terminals only.
"$SANDBOXCTL" exec term -- sleep 30 &
sleeper=$!
sleep 2
pid=$("$SANDBOXCTL" --json ps term | sed -n 's/.*"process_id" : \([0-9]*\).*/\1/p' | tail -1)
req=$(printf '{"id":1,"method":"sandbox.v1.Processes.Resize","params":{"sandbox_id":"term","process_id":%s,"rows":5,"cols":5}}' "$pid")
out=$(nanocat --req --connect "$SANDBOXD_ADDRESS" --data "$req" --ascii --recv-timeout 5 2>&1 | head -c 2000)
contains "$out" "has no terminal" "Resize of a process without a terminal is refused, saying why"
kill "$sleeper" 2>/dev/null
wait "$sleeper" 2>/dev/null
"$SANDBOXCTL" rm -f term >/dev/null
tap_done
