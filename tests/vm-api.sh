#!/bin/bash
# The sandboxctl verbs and the API behind them, in one shared microVM.
. "$(dirname "$0")/lib.sh"

start_daemon "$TMP/d" || { echo "Bail out! sandboxd did not start"; diag <"$TMP/d.log"; exit 1; }
C=$SANDBOXCTL

# Every verb explains itself.
bad=""
for v in run create exec ls inspect logs ps stop kill rm stats events info version; do
  "$C" "$v" --help >"$TMP/help" 2>&1 && grep -q "sandboxctl $v" "$TMP/help" || bad="$bad $v"
done
is "$bad" "" "every verb has --help naming its usage"
"$C" frobnicate >/dev/null 2>&1; is "$?" 2 "an unknown verb is a usage error (2)"

# A subscriber to the live events, started before anything happens.
events_addr="ipc://$TMP/d/events.sock"
timeout 60 nanocat --sub --connect "$events_addr" --ascii >"$TMP/live" 2>&1 &
sleep 0.3

id=$("$C" create --name web --memory 192M); rc=$?
is "$rc" 0 "create exits 0"
[[ "$id" =~ ^[0-9a-f]{12}$ ]]; ok $? "... and prints the new id ($id)"
out=$("$C" ls)
contains "$out" "web" "ls lists it"
contains "$out" "running" "... as running"
contains "$out" "192M" "... with its memory"
is "$("$C" ls -q)" "$id" "ls -q prints ids only"
is "$("$C" --json ls --state stopped | tr -d " \n")" "[]" "ls --state stopped is empty"

sum_in=$(head -c 5000000 /dev/urandom | tee "$TMP/rand" | md5sum | cut -d' ' -f1)
sum_out=$("$C" exec -i web -- cat <"$TMP/rand" | md5sum | cut -d' ' -f1)
is "$sum_out" "$sum_in" "5 MB of random bytes through exec -i ... cat come back intact"
out=$(printf 'a\nb\nc\n' | "$C" exec -i web -- wc -l)
is "$(echo $out)" "3" "exec -i: the command reads stdin to its end"
is "$("$C" exec web -- hostname)" "web" "the guest's hostname is the sandbox's name"
out=$("$C" exec -e A=1 -e B=two -w /proc web -- sh -c 'echo $A $B $(pwd)')
is "$out" "1 two /proc" "exec -e -e -w"
"$C" exec web -- sh -c 'exit 3'; is "$?" 3 "exec exits with the command's status"
"$C" exec web -- sh -c 'kill -KILL $$'; is "$?" 137 "... 128+9 when killed by SIGKILL"

# Exec with wait_ms: the exit and the output in the same answer.
out=$(nanocat --req --connect "$SANDBOXD_ADDRESS" --ascii --data \
  '{"id":3,"method":"sandbox.v1.Processes.Exec","params":{"sandbox_id":"web","args":["sh","-c","echo hi; echo oh >&2; exit 4"],"wait_ms":5000}}' 2>&1)
contains "$out" '"exit_code":4,"status":4' "Exec with wait_ms answers with the exit"
contains "$out" '"exited":true' "... saying it exited"
contains "$out" '"stdout":{"data":"aGkK","offset":3,"eof":true}' "... and stdout inline"
contains "$out" '"stderr":{"data":"b2gK","offset":3,"eof":true}' "... and stderr"
out=$(nanocat --req --connect "$SANDBOXD_ADDRESS" --ascii --data \
  '{"id":4,"method":"sandbox.v1.Processes.Exec","params":{"sandbox_id":"web","args":["sleep","1"],"wait_ms":100}}' 2>&1)
contains "$out" '"exited":false' "... or, still running at wait_ms, as a plain Exec"
"$C" exec web -- sh -c 'head -c 100000 /dev/zero; echo tail' | tail -c 5 >"$TMP/long"
is "$(cat "$TMP/long")" "tail" "exec: output past what comes inline is read on from its offset"

# Signals through the API reach the process (and its group).
"$C" exec web -- sh -c 'sleep 30 & wait' >/dev/null 2>&1 &
execer=$!
sleep 1.5
# Process ids count up from 1 per sandbox: this is the tenth exec.
pid=10
out=$(nanocat --req --connect "$SANDBOXD_ADDRESS" --ascii --data \
  "{\"id\":2,\"method\":\"sandbox.v1.Processes.Signal\",\"params\":{\"sandbox_id\":\"web\",\"process_id\":$pid,\"signal\":15,\"group\":true}}" 2>&1)
contains "$out" '"code":"OK"' "Processes.Signal (to the group) is accepted"
wait $execer; rc=$?
is "$rc" 143 "... and the process ends by SIGTERM (143)"

"$C" exec web -- sh -c 'echo to-out; echo to-err >&2' >/dev/null 2>&1
last=$((pid + 1))
is "$("$C" logs -p $last web 2>/dev/null)" "to-out" "logs shows a finished process's stdout"
is "$("$C" logs -p $last web 2>&1 >/dev/null)" "to-err" "... and its stderr, apart"

# Like docker run, sandboxctl passes Ctrl-C (SIGINT) and SIGTERM on.
"$C" exec web -- sh -c 'trap "echo interrupted; exit 9" INT; while true; do sleep 0.1; done' >"$TMP/int" 2>&1 &
execer=$!
sleep 1.5
kill -INT $execer
wait $execer; rc=$?
is "$rc" 9 "SIGINT to sandboxctl exec reaches the process (its trap exits 9)"
contains "$(cat "$TMP/int")" "interrupted" "... and the trap's output arrives"

out=$("$C" stats web)
contains "$out" "rss" "stats shows QEMU's resident memory"
json=$("$C" --json stats web)
contains "$json" '"qemu_rss_bytes"' "stats --json has qemu_rss_bytes"
contains "$json" '"memory_total_kb"' "... and the guest's own memory"
contains "$json" '"load1"' "... and load"

# Free page reporting: memory the guest has freed goes back to the host.
rss() { "$C" --json stats web | sed -n 's/.*"qemu_rss_bytes" : \([0-9]*\).*/\1/p'; }
"$C" exec web -- sh -c 'mkdir -p /tmp/fill && mount -t tmpfs fill /tmp/fill &&
  dd if=/dev/zero of=/tmp/fill/f bs=1M count=96 2>/dev/null'
full=$(rss)
"$C" exec web -- sh -c 'rm /tmp/fill/f && umount /tmp/fill'
freed=0
for _ in $(seq 100); do
  freed=$(((full - $(rss)) >> 20))
  [ "$freed" -ge 48 ] && break
  sleep 0.2
done
ok "$([ "$freed" -ge 48 ]; echo $?)" "96 MiB the guest used and freed go back to the host (QEMU's RSS fell by $freed MiB)"
# The last 100 exited processes are kept with their output; older ones are
# forgotten, so a sandbox can run one process after another for ever.
first=$(( $(echo "$("$C" ps web)" | awk 'NR > 1 {print $1}' | sort -n | tail -1) + 1 ))
for i in $(seq 101); do "$C" exec web -- echo "run $i" >/dev/null; done
ids=$("$C" ps web | awk 'NR > 1 {print $1}' | sort -n)
is "$(echo "$ids" | wc -l)" 100 "ps lists the last 100 exited processes (101 more ran)"
is "$(echo "$ids" | tail -1)" $((first + 100)) "... the newest among them"
is "$("$C" logs -p $((first + 100)) web 2>/dev/null)" "run 101" "... with its output"
out=$("$C" logs -p $first web 2>&1); rc=$?
is "$rc" 1 "logs of a process forgotten fails"
contains "$out" "NOT_FOUND" "... as NOT_FOUND"
dir=$("$C" --json inspect web | sed -n 's/.*"dir" : "\(.*\)".*/\1/p')
is "$(ls "$dir/proc" | wc -l)" 200 "... and its output files are removed (200 left: stdout and stderr of 100)"
# The guest's kernel is locked down (its root cannot read kernel memory):
# the lockdown LSM says so in securityfs.
out=$("$C" exec web -- sh -c 'mount -t securityfs securityfs /sys/kernel/security 2>/dev/null;
  cat /sys/kernel/security/lockdown' 2>&1)
contains "$out" "[confidentiality]" "the guest's kernel is locked down: confidentiality ($out)"

out=$("$C" rm web 2>&1); rc=$?
is "$rc" 1 "rm of a running sandbox without -f is refused"
contains "$out" "FAILED_PRECONDITION" "... as FAILED_PRECONDITION"
"$C" kill web >/dev/null; is "$?" 0 "kill exits 0"
contains "$("$C" inspect web)" '"state" : "stopped"' "... and the sandbox is stopped"

all=$("$C" events); rc=$?
is "$rc" 0 "events exits 0"
contains "$all" "sandbox.state web booting" "events: the boot"
contains "$all" "sandbox.state web running" "... running"
contains "$all" "process.exited web process $last status 0" "... a process's exit"
contains "$all" "sandbox.state web stopped" "... the kill"
lastseq=$(echo "$all" | tail -1 | cut -d' ' -f1)
is "$("$C" events --since "$lastseq")" "" "events --since the last seq prints nothing new"
"$C" rm web >/dev/null; is "$?" 0 "rm of a stopped sandbox exits 0"
more=$("$C" events --since "$lastseq")
contains "$more" "sandbox.deleted web" "... and --since resumes with what came after"
contains "$(cat "$TMP/live")" '"state":"running"' "the live PUB socket carried the events too"
is "$("$C" ls -q)" "" "no sandbox is left"

# Bash completion offers the verbs, and the names of sandboxes.
"$C" create --name compl-test >/dev/null
PATH="$(dirname "$C"):$PATH"
. "$(dirname "$0")/../data/sandboxctl.bash-completion"
COMP_WORDS=(sandboxctl st); COMP_CWORD=1; _sandboxctl
is "${COMPREPLY[*]}" "stop stats" "completion: 'st' offers stop and stats"
COMP_WORDS=(sandboxctl stop comp); COMP_CWORD=2; _sandboxctl
contains "${COMPREPLY[*]}" "compl-test" "completion: stop offers sandbox names"

# The guest's console is the daemon's copy, capped: a guest printing 3 MB
# to it leaves at most 1 MiB + its rotated 1 MiB on the host, and QEMU's
# own directory has no console file it could point elsewhere.
"$C" exec compl-test -- sh -c 'head -c 3000000 /dev/zero | tr "\0" x >/dev/console; echo console-end >/dev/console'
sbdir=$TMP/d/sb/$("$C" ls -q)
for _ in $(seq 100); do grep -q console-end "$sbdir/console.log" 2>/dev/null && break; sleep 0.1; done
grep -q console-end "$sbdir/console.log"; ok $? "the guest console reaches the daemon's log (sb/ID/console.log)"
total=$(cat "$sbdir"/console.log* | wc -c)
[ "$total" -le $((2 * 1024 * 1024)) ] && [ -f "$sbdir/console.log.1" ]
ok $? "... capped: 3 MB printed, $total bytes kept (rotated once at 1 MiB)"
is "$(stat -c %U "$sbdir/console.log")" root "... in a file QEMU's user does not own"
[ ! -e "$sbdir/qemu/console.log" ]; ok $? "... and no console file in QEMU's writable directory"

tap_done
