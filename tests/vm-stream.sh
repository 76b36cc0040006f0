#!/bin/bash
# Streams through the agent channel: big stdin and stdout, a slow reader,
# many processes at once, users, the process list.
. "$(dirname "$0")/lib.sh"

# --output-quota: the streams below store ~240 MiB; the last test fills it.
start_daemon "$TMP/d" --output-quota 280 || { echo "Bail out! sandboxd did not start"; exit 1; }
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

# stdin waiting for a guest that does not read is capped: concurrent
# WriteStdin calls of 1 MiB each to a process that never reads.
call() { # call JSON-FILE
  nanocat --req --connect "$SANDBOXD_ADDRESS" --recv-timeout 4 --ascii -F "$1" 2>/dev/null
}
echo '{"id": 1, "method": "sandbox.v1.Processes.Exec", "params": {"sandbox_id": "s", "args": ["sleep", "300"], "stdin": true}}' >"$TMP/exec.json"
proc=$(call "$TMP/exec.json" | sed -n 's/.*"process_id":\([0-9]*\).*/\1/p')
data=$(head -c 1048576 /dev/zero | base64 -w0)
printf '{"id": 2, "method": "sandbox.v1.Processes.WriteStdin", "params": {"sandbox_id": "s", "process_id": %s, "data": "%s"}}' "$proc" "$data" >"$TMP/write.json"
for i in $(seq 6); do call "$TMP/write.json" >"$TMP/w$i" & done
wait $(jobs -p | grep -v "^$DAEMON_PID$") 2>/dev/null
refused=$(cat "$TMP"/w[1-6] | grep -c RESOURCE_EXHAUSTED)
[ "$refused" -ge 1 ]; ok $? "WriteStdin past 4 MiB waiting for the guest is RESOURCE_EXHAUSTED ($refused of 6 refused)"
contains "$(cat "$TMP"/w[1-6])" "bytes of stdin the guest has not written yet" "... saying why"
is "$("$C" exec s -- echo fine)" fine "... and the sandbox serves on"

# The output quota: a stream that fills it blocks (nothing is lost, nothing
# more is stored) and the sandbox says so; short processes still finish.
"$C" exec s -- head -c 100000000 /dev/zero >"$TMP/big" &
big=$!
for _ in $(seq 300); do
  info=$("$C" inspect s)
  case "$info" in *'"output_quota_reached" : true'*) break ;; esac; sleep 0.1
done
contains "$info" '"output_quota_reached" : true' "a sandbox that stored its output quota says so"
stored=$(echo "$info" | sed -n 's/.*"output_bytes" *: *\([0-9]*\).*/\1/p' | head -1)
[ "$stored" -ge $((280 << 20)) ] && [ "$stored" -le $(((280 + 32) << 20)) ]
ok $? "... having stored the quota and little more ($((stored >> 20)) MiB of 280)"
sleep 2
later=$("$C" inspect s | sed -n 's/.*"output_bytes" *: *\([0-9]*\).*/\1/p' | head -1)
[ "$later" -le $((stored + (2 << 20))) ]
ok $? "... and stores no more two seconds later ($((later >> 20)) MiB)"
kill -0 $big 2>/dev/null; ok $? "... the process filling it is held, not failed"
is "$("$C" exec s -- echo short)" short "... and short processes still run and report"
kill $big 2>/dev/null
tap_done
