#!/bin/bash
# The sandbox state machine, every transition, in seconds and without a VM:
# tests/fake-qemu.c stands in for QEMU and behaves as each sandbox's name
# asks (boots, never boots, crashes, dies, ignores the power button).
#   creating -> booting -> running -> stopping -> stopped
#   booting -> failed (QEMU exits; no hello in time)  running -> failed
#   running -> stopped (kill)  stopping -> stopped (escalated: quit, SIGKILL)
#   any -> deleted
. "$(dirname "$0")/lib.sh"
C=$SANDBOXCTL
FAKE=$BUILD/tests/fake-qemu
state() { "$C" --json inspect "$1" 2>/dev/null | sed -n 's/.*"state" : "\([a-z]*\)".*/\1/p' | head -1; }
fakes() { pgrep -c -f -- "sandboxd:$TMP/d/" || true; }
# QEMU's allow-list, plus what the orphan-* fake needs to kill its parent.
mkdir "$TMP/pol"
cp "$(dirname "$0")/../policies/"* "$TMP/pol/"
printf 'kill\ngetppid\n' >>"$TMP/pol/qemu-x86_64.syscalls"
OPTS=(--qemu "$FAKE" --accel tcg --policy-dir "$TMP/pol" --default-policy unprivileged --boot-timeout 2)
start_daemon "$TMP/d" "${OPTS[@]}" || { echo "Bail out! sandboxd did not start"; diag <"$TMP/d.log"; exit 1; }

"$C" create --name ok-a >/dev/null; is "$?" 0 "create: creating -> booting -> running (hello)"
is "$(state ok-a)" running "... and inspect says running"
# state.json, whole, against tests/golden/state/running.json (what a
# restarted sandboxd reads back): ids, times, pids, paths and the default
# kernel's name (what was built) as <KEY>.
# SANDBOXD_GOLDEN=regenerate writes it anew.
golden="$(dirname "$0")/golden/state/running.json"
id_a=$("$C" --json inspect ok-a | sed -n 's/.*"id" : "\([0-9a-f]*\)".*/\1/p' | head -1)
norm=$(python3 - "$TMP/d/sb/$id_a/state.json" "$TMP" <<'PY'
import json, sys
varying = {"id", "dir", "created", "qemu_pid", "qemu_start_time", "start_real_us", "qemu_uid",
           "boot_ms", "cgroup", "kernel"}
def norm(v, key=None):
    if key in varying:
        return "<%s>" % key
    if isinstance(v, dict):
        return {k: norm(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, str):
        return v.replace(sys.argv[2], "<TMP>")
    return v
print(json.dumps(norm(json.load(open(sys.argv[1]))), indent=1))
PY
)
if [ "${SANDBOXD_GOLDEN:-}" = regenerate ]; then mkdir -p "${golden%/*}"; printf '%s\n' "$norm" >"$golden"; fi
is "$norm" "$(cat "$golden" 2>/dev/null)" "state.json of a running sandbox is as tests/golden/state/running.json has it"
ev=$("$C" events)
contains "$ev" "sandbox.state ok-a booting" "... through booting (events)"
contains "$ev" "sandbox.state ok-a running" "... to running"

"$C" stop ok-a >/dev/null; is "$?" 0 "stop: running -> stopping -> stopped (the guest honours the power button)"
is "$(state ok-a)" stopped "... and inspect says stopped"
contains "$("$C" events)" "sandbox.state ok-a stopping" "... through stopping"

"$C" create --name deaf-b >/dev/null
"$C" stop -t 1 deaf-b >/dev/null; is "$?" 0 "stop of a guest that ignores the power button and quit"
is "$(state deaf-b)" stopped "... ends stopped all the same"
grep -q "sandbox deaf-b: the guest did not power off in time; quitting QEMU" "$TMP/d.log"
ok $? "... after asking QEMU to quit"
grep -q "sandbox deaf-b: QEMU did not quit within" "$TMP/d.log"; ok $? "... and then killing it"

# A QEMU whose QMP greets after the guest's hello: running waits for QMP,
# so a stop right away still asks the guest first.
"$C" create --name late-b2 >/dev/null; is "$?" 0 "create of a sandbox whose QMP comes up after the hello"
"$C" stop -t 1 late-b2 >/dev/null
grep -q "sandbox late-b2: the guest did not power off in time; quitting QEMU" "$TMP/d.log"
ok $? "... a stop right after it still presses the power button first"

"$C" create --name ok-c >/dev/null
"$C" kill ok-c >/dev/null; is "$?" 0 "kill: running -> stopped at once"
is "$(state ok-c)" stopped "... and inspect says stopped"

out=$("$C" create --name crash-d 2>&1); rc=$?
is "$rc" 1 "a QEMU that exits while booting: booting -> failed (exit 1)"
contains "$out" "QEMU exited unexpectedly (exit status 1)" "... with QEMU's exit status"
contains "$out" "fake-qemu: crashing while booting" "... and its last words"
is "$(state crash-d)" failed "... and inspect says failed"

out=$("$C" create --name mute-e 2>&1); rc=$?
is "$rc" 1 "a guest that never says hello: booting -> failed"
contains "$out" "the guest agent did not say hello within 2 s" "... by the boot watchdog"
is "$(state mute-e)" failed "... and inspect says failed"

"$C" create --name die-f >/dev/null; is "$?" 0 "a sandbox that runs"
for _ in $(seq 50); do [ "$(state die-f)" = failed ] && break; sleep 0.1; done
is "$(state die-f)" failed "... whose QEMU dies: running -> failed"
contains "$("$C" inspect die-f)" "QEMU exited unexpectedly (exit status 3)" "... saying how"

"$C" create --name mute-g >/dev/null 2>&1 &
creator=$!
for _ in $(seq 50); do [ "$(state mute-g)" = booting ] && break; sleep 0.05; done
is "$(state mute-g)" booting "a sandbox stays booting while its guest is silent"
"$C" rm -f mute-g >/dev/null; is "$?" 0 "rm -f while booting: booting -> deleted"
wait $creator; is "$?" 1 "... and its create fails"

# sandboxd killed the instant QEMU starts: its state.json names that QEMU
# already, so the next sandboxd stops it and says why.
"$C" create --name orphan-h >/dev/null 2>&1 &
creator=$!
for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
kill $creator 2>/dev/null; wait $creator 2>/dev/null
kill -0 "$DAEMON_PID" 2>/dev/null; is "$?" 1 "sandboxd killed the moment a QEMU starts"
start_daemon "$TMP/d" "${OPTS[@]}" || { echo "Bail out! sandboxd did not start again"; exit 1; }
is "$(state orphan-h)" failed "... the next sandboxd takes the booting sandbox back as failed"
contains "$("$C" inspect orphan-h)" "sandboxd restarted while the sandbox was booting" "... saying why"
for _ in $(seq 50); do [ "$(fakes)" = 0 ] && break; sleep 0.1; done
is "$(fakes)" 0 "... and stops its QEMU"

# A guest that reports exits and never reads its port: the acknowledgements
# queue up to a bound, then that sandbox fails and the daemon lives on.
rss() { awk '/VmRSS/ {print $2}' "/proc/$DAEMON_PID/status"; }
rss_before=$(rss)
"$C" create --name flood-i >/dev/null; is "$?" 0 "a sandbox whose guest will flood exit reports"
timeout 20 "$C" exec flood-i -- true >/dev/null 2>&1
for _ in $(seq 300); do [ "$(state flood-i)" = failed ] && break; sleep 0.1; done
is "$(state flood-i)" failed "... fails once too much waits for it to read"
contains "$("$C" inspect flood-i)" "the guest does not read its agent port: more than 16 MiB" "... saying why"
rss_after=$(rss)
if [ -n "${ASAN_OPTIONS:-}" ]; then
  ok 0 "# SKIP under ASan (its quarantine keeps what was freed: RSS says nothing)"
else
  [ "$rss_after" -lt $(( rss_before + 65536 )) ]
  ok $? "... and sandboxd grew by less than 64 MiB (${rss_before} -> ${rss_after} KiB)"
fi
"$C" create --name ok-j >/dev/null; is "$?" 0 "... while it serves everyone else"
"$C" kill ok-j >/dev/null
# A guest that floods the log with long, escaped message types.
log_before=$(stat -c %s "$TMP/d.log")
"$C" create --name noisy-k >/dev/null; is "$?" 0 "a sandbox whose guest sends 2,000 unknown 60 KB messages"
for _ in $(seq 100); do grep -q "noisy-k: its guest's messages are logged no more" "$TMP/d.log" && break; sleep 0.1; done
grep -q "noisy-k: its guest's messages are logged no more this minute" "$TMP/d.log"; ok $? "... is logged 20 times a minute at most"
[ $(( $(stat -c %s "$TMP/d.log") - log_before )) -lt 20000 ]; ok $? "... and the log grew by less than 20 KB ($(( $(stat -c %s "$TMP/d.log") - log_before )) bytes)"
grep -q 'ignoring agent message "\\x1b\[2JAAAA' "$TMP/d.log"; ok $? "... each cut and its escape shown, not sent to the terminal"
! grep -q "$(printf '\033')" "$TMP/d.log"; ok $? "... no raw escape byte in the log"
"$C" kill noisy-k >/dev/null
# A QEMU that writes without end (a guest can make it complain): its log is
# cut back to its command line, a note and its last 64 KiB.
"$C" create --name chatty-m >/dev/null; is "$?" 0 "a sandbox whose QEMU writes 8 MiB to its log"
qlog=$(sed -n 's/.*"dir" *: *"\([^"]*\)".*/\1/p' <<<"$("$C" --json inspect chatty-m)" | head -1)/qemu.log
for _ in $(seq 150); do [ "$(stat -c %s "$qlog")" -le 1048576 ] && break; sleep 0.1; done
size=$(stat -c %s "$qlog")
[ "$size" -le 1048576 ]; ok $? "... the log is cut back within seconds ($size bytes)"
head -1 "$qlog" | grep -q "^# policy .*fake-qemu"; ok $? "... keeping QEMU's command line"
contains "$(cat "$qlog")" "bytes before its last 65536 were dropped" "... and saying what went"
is "$("$C" inspect chatty-m | sed -n 's/.*"state" *: *"\([a-z]*\)".*/\1/p' | head -1)" running "... the sandbox runs on"
"$C" kill chatty-m >/dev/null
# A tarball named with a terminal escape that does not unpack: its image
# event names it, and sandboxctl events shows the escape, not sends it.
bad="$TMP/$(printf 'bad\033]0;pwned\007').tar"
echo "not a tarball" >"$bad"
"$C" create --name esc-l --image "$bad" >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "a tarball that does not unpack is refused"
ev=$("$C" events 2>&1)
contains "$ev" 'bad\x1b]0;pwned\x07.tar' "sandboxctl events shows a path's escape as \\xNN"
case "$ev" in *"$(printf '\033')"*) ok 1 "... and never the raw byte" ;; *) ok 0 "... and never the raw byte" ;; esac
"$C" rm ok-a deaf-b late-b2 ok-c crash-d mute-e die-f orphan-h flood-i ok-j noisy-k chatty-m >/dev/null; is "$?" 0 "rm of stopped and failed sandboxes"
is "$("$C" ls -q | wc -l)" 0 "... leaves none"
is "$(fakes)" 0 "... and no QEMU"
kill -0 "$DAEMON_PID"; ok $? "sandboxd is alive"
tap_done
