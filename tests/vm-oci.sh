#!/bin/bash
# sandbox-runtime, the OCI runtime, as conmon drives it: create with a
# console socket (console-receiver.py receives the terminal's master, as
# conmon does), start, state, the exit status through the pid-file process;
# kill and delete; runc-style errors that leave no VM behind.
. "$(dirname "$0")/lib.sh"
bail() { echo "Bail out! $1"; diag <"$TMP/d.log"; exit 1; }
RUNTIME="$BUILD/oci/sandbox-runtime"
R=("$RUNTIME" --root "$TMP/oci" --log "$TMP/oci.log" --log-format json)
start_daemon "$TMP/d" || bail "sandboxd did not start"

bundle() { # bundle DIR TERMINAL ARGS-JSON
  mkdir -p "$1/rootfs" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$1/rootfs"
  printf '{"ociVersion": "1.0.2", "process": {"terminal": %s, "args": %s, "cwd": "/"}, "root": {"path": "rootfs"}, "hostname": "oci", "annotations": {"org.test": "yes"}}\n' \
    "$2" "$3" >"$1/config.json"
}
bundle "$TMP/b1" true '["sh"]'
out=$(python3 "$(dirname "$0")/console-receiver.py" "$TMP/console.sock" "$TMP/c1.pid" \
  'tty; stty size; exit 5\r' -- "${R[@]}" -- c1 "$TMP/b1" 2>&1); rc=$?
clean=$(printf '%s' "$out" | tr -d '\r')
contains "$clean" '"status" : "created"' "state after create: created"
contains "$clean" '"org.test" : "yes"' "... with the bundle's annotations"
contains "$clean" "/dev/pts/0" "the console socket got a working terminal: tty in the container"
contains "$clean" "24 80" "... of a size (stty size)"
is "$rc" 5 "the pid-file process exits with the container's status (5)"
contains "$("${R[@]}" state c1)" '"status" : "stopped"' "state after the exit: stopped"
"${R[@]}" delete c1; ok $? "delete"
is "$("$SANDBOXCTL" ls -q c1)" "" "... removes the sandbox"
[ ! -e "$TMP/oci/c1" ]; ok $? "... and the record"

# Without a terminal: conmon's own fds carry the stdio.
bundle "$TMP/b2" false '["sh", "-c", "echo out; echo err >&2; sleep 300"]'
"${R[@]}" create --bundle "$TMP/b2" --pid-file "$TMP/c2.pid" c2 >"$TMP/c2.out" 2>"$TMP/c2.err"
ok $? "create without a terminal"
"${R[@]}" start c2; ok $? "start"
for _ in $(seq 100); do grep -q out "$TMP/c2.out" && break; sleep 0.1; done
is "$(cat "$TMP/c2.out")" out "its stdout is the runtime caller's"
contains "$("${R[@]}" state c2)" '"status" : "running"' "state: running"
"${R[@]}" kill c2 KILL; ok $? "kill c2 KILL"
pid=$(cat "$TMP/c2.pid")
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
contains "$("${R[@]}" state c2)" '"status" : "stopped"' "... stops it"
"${R[@]}" delete c2; ok $? "delete c2"

# Errors: runc-style, non-zero, and nothing left behind.
qemus() { pgrep -f -- "sandboxd:$TMP/d/" | wc -l; }
bundle "$TMP/b3" false '["true"]'
"${R[@]}" create --bundle "$TMP/b3" c3 >/dev/null; ok $? "create c3"
out=$("${R[@]}" create --bundle "$TMP/b3" c3 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "an id in use is refused (exit $rc)"
contains "$out" 'container with id "c3" already exists' "... saying so"
"${R[@]}" delete --force c3 >/dev/null
before=$(qemus)
mkdir -p "$TMP/b4" && echo '{"ociVersion": "1.0.2", "process": {"args": ["true"]}, "root": {"path": "nope"}}' >"$TMP/b4/config.json"
out=$("${R[@]}" create --bundle "$TMP/b4" c4 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "a missing rootfs is refused (exit $rc)"
contains "$out" "nope" "... naming it"
bundle "$TMP/b5" false '["true"]'
sed -i 's/"hostname"/"linux": {"intelRdt": {}}, "hostname"/' "$TMP/b5/config.json"
out=$("${R[@]}" create --bundle "$TMP/b5" c5 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "an unsupported field is refused (exit $rc)"
contains "$out" "linux.intelRdt" "... naming the field"
grep -q '"level":"error"' "$TMP/oci.log"; ok $? "errors also go to --log as JSON, for conmon"
is "$(qemus)" "$before" "no VM is left by a refused create"
[ ! -e "$TMP/oci/c4" ] && [ ! -e "$TMP/oci/c5" ]; ok $? "... and no record"
is "$("$SANDBOXCTL" ls -q)" "" "... and no sandbox"
contains "$("$RUNTIME" --version)" "spec: 1.0.2" "--version"

# runc's own canonical config.json (runc spec), with terminal false and a
# command that prints what the process sees: it runs as it is, and gets
# exactly the capabilities, no_new_privs and rlimits it asks for, its
# masked paths and its own network namespace.
if command -v runc >/dev/null; then
  mkdir -p "$TMP/rs/rootfs" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/rs/rootfs"
  (cd "$TMP/rs" && runc spec) || bail "runc spec"
  python3 - "$TMP/rs/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "grep -E '^(CapPrm|CapEff|CapBnd|NoNewPrivs)' /proc/self/status;"
                        " echo nofile $(ulimit -n); echo kcore $(wc -c </proc/kcore);"
                        " echo links $(ls /sys/class/net)"]
json.dump(c, open(sys.argv[1], "w"))
PY
  want=$(printf 'CapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\nNoNewPrivs:\t1\nnofile 1024\nkcore 0\nlinks lo')
  is "$("$SANDBOXCTL" run --rm --bundle "$TMP/rs" 2>&1)" "$want" \
    "runc spec's bundle with sandboxctl run --bundle: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE only, no_new_privs, nofile 1024, /proc/kcore masked, a network of its own"
  "${R[@]}" create --bundle "$TMP/rs" --pid-file "$TMP/rs.pid" rs >"$TMP/rs.out" 2>&1 && "${R[@]}" start rs
  pid=$(cat "$TMP/rs.pid")
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  is "$(cat "$TMP/rs.out")" "$want" "... and with sandbox-runtime create and start"
  "${R[@]}" delete --force rs >/dev/null
else
  ok 0 "# SKIP runc is not installed (runc spec writes the canonical bundle)"
  ok 0 "# SKIP runc is not installed"
fi
tap_done
