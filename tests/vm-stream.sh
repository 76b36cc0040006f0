#!/bin/bash
# Streams through the agent channel: big stdin and stdout, a slow reader,
# many processes at once, users, the process list.
. "$(dirname "$0")/lib.sh"

start_daemon "$TMP/d" || { echo "Bail out! sandboxd did not start"; exit 1; }
C=$SANDBOXCTL
"$C" create --name s >/dev/null || { echo "Bail out! no sandbox"; exit 1; }

head -c 50000000 /dev/urandom >"$TMP/rand"
want=$(md5sum <"$TMP/rand" | cut -d' ' -f1)
got=$("$C" exec -i s -- cat <"$TMP/rand" | md5sum | cut -d' ' -f1)
is "$got" "$want" "50 MB of random bytes through exec -i s -- cat come back with the same checksum"

# 200 MB to a reader that starts late and reads slowly, while a second
# process samples the agent's (PID 1) memory.
"$C" exec s -- sh -c 'm=0; for i in $(seq 40); do r=$(awk "/VmRSS/ {print \$2}" /proc/1/status); [ "$r" -gt "$m" ] && m=$r; sleep 0.25; done; echo $m' >"$TMP/rss" &
sampler=$!
n=$("$C" exec s -- head -c 200000000 /dev/zero | { sleep 3; dd bs=65536 2>/dev/null | wc -c; })
is "$n" 200000000 "200 MB streamed to a slow reader arrive complete"
wait $sampler
rss=$(cat "$TMP/rss")
[ -n "$rss" ] && [ "$rss" -lt 20000 ]; ok $? "... while the agent's memory stayed bounded (max VmRSS ${rss} kB)"

# 30 processes at once, each with its own output.
pids=""
for i in $(seq 30); do
  "$C" exec s -- sh -c "echo out-$i; sleep 0.5; echo err-$i >&2; echo done-$i" >"$TMP/o$i" 2>"$TMP/e$i" &
  pids="$pids $!"
done
wait $pids # (not a bare wait: the daemon is a background job too)
bad=""
for i in $(seq 30); do
  [ "$(cat "$TMP/o$i")" = "out-$i
done-$i" ] && [ "$(cat "$TMP/e$i")" = "err-$i" ] || bad="$bad $i"
done
is "$bad" "" "30 concurrent execs each return their own stdout and stderr"

is "$("$C" exec -u 1000:1001 s -- sh -c 'echo $(id -u) $(id -g)')" "1000 1001" "exec -u UID:GID runs as that user and group"
is "$("$C" exec -u 1234 s -- id -g)" "1234" "... and -u UID uses the uid as gid"
"$C" exec -u abc s -- true 2>/dev/null; is "$?" 2 "-u takes numbers only (usage error)"
out=$("$C" exec -u 1000 s -- sh -c 'echo x > /root/x' 2>&1); rc=$?
[ "$rc" -ne 0 ]; ok $? "an unprivileged process cannot write to /root"

out=$("$C" ps s)
contains "$out" "exited" "ps lists the processes with their state"
contains "$out" "head -c 200000000 /dev/zero" "... and their commands"
n=$("$C" --json ps s | grep -c '"process_id"')
[ "$n" -ge 35 ]; ok $? "ps --json has every process ($n)"
tap_done
