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
qemus() { pgrep -f -- "sandboxd:$TMP/d/" | wc -l; }

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
# The terminal's settings are the receiver's, as runc leaves them: a new
# terminal turns \n into \r\n; one the receiver put in raw mode (conmon
# does) passes \n alone.
bundle "$TMP/b3" true '["sh", "-c", "echo one; echo two"]'
newlines() { # what the output's lines end with: crlf, lf, or its tail
  python3 -c 'import sys; d = sys.stdin.buffer.read()
print("crlf" if b"one\r\ntwo\r\n" in d else "lf" if b"one\ntwo\n" in d else repr(d[-120:]))'
}
out=$(python3 "$(dirname "$0")/console-receiver.py" "$TMP/console3.sock" "$TMP/c3.pid" '' \
  -- "${R[@]}" -- c3 "$TMP/b3" 2>&1 | newlines)
is "$out" crlf "a console receiver's new terminal ends lines with CR LF, as a terminal does"
"${R[@]}" delete --force c3 >/dev/null 2>&1
out=$(RECEIVER_RAW=1 python3 "$(dirname "$0")/console-receiver.py" "$TMP/console4.sock" "$TMP/c4.pid" '' \
  -- "${R[@]}" -- c4 "$TMP/b3" 2>&1 | newlines)
is "$out" lf "a receiver that set raw mode (conmon does) gets LF alone"
"${R[@]}" delete --force c4 >/dev/null 2>&1

# Without a terminal: conmon's own fds carry the stdio.
bundle "$TMP/b2" false '["sh", "-c", "echo out; echo err >&2; sleep 300"]'
CG="sbxtest-$$/c2" # linux.cgroupsPath: QEMU's cgroup goes there
sed -i "s#\"hostname\"#\"linux\": {\"cgroupsPath\": \"/$CG\"}, \"hostname\"#" "$TMP/b2/config.json"
"${R[@]}" create --bundle "$TMP/b2" --pid-file "$TMP/c2.pid" c2 >"$TMP/c2.out" 2>"$TMP/c2.err"
ok $? "create without a terminal"
cg=$("$SANDBOXCTL" --json inspect c2 | python3 -c 'import json,sys
d = json.load(sys.stdin); d = d[0] if isinstance(d, list) else d
print(d["cgroups"][0], d["qemu_pid"])')
case "${cg%% *}" in */"$CG") ok 0 "linux.cgroupsPath is QEMU's cgroup (${cg%% *})" ;; *) ok 1 "linux.cgroupsPath is QEMU's cgroup (${cg%% *})" ;; esac
grep -qx "${cg##* }" "${cg%% *}/cgroup.procs"; ok $? "... QEMU (pid ${cg##* }) is in it"
bundle "$TMP/b2b" false '["true"]'
sed -i "s#\"hostname\"#\"linux\": {\"cgroupsPath\": \"/$CG\"}, \"hostname\"#" "$TMP/b2b/config.json"
out=$("${R[@]}" create --bundle "$TMP/b2b" c2b 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "another container may not take that cgroup (exit $rc)"
[ $rc -ne 0 ] || "${R[@]}" delete --force c2b >/dev/null
contains "$out" "cgroup path /$CG exists" "... saying so"
"${R[@]}" start c2 && "${R[@]}" kill c2 CONT; ok $? "start, and a kill right after finds its process (SIGCONT)"
for _ in $(seq 100); do grep -q out "$TMP/c2.out" && break; sleep 0.1; done
is "$(cat "$TMP/c2.out")" out "its stdout is the runtime caller's"
contains "$("${R[@]}" state c2)" '"status" : "running"' "state: running"
is "$("${R[@]}" list -q)" "c2" "list -q: the ids"
contains "$("${R[@]}" list)" "c2           $(cat "$TMP/c2.pid")" "list: a table with each pid"
contains "$("${R[@]}" list --format json)" '"id":"c2"' "list --format json"
is "$("${R[@]}" exec c2 sh -c 'echo $0 $1' -u x 2>&1)" "-u x" "exec ID CMD ARGS: the command's options are its own, not exec's"
is "$("${R[@]}" exec c2 -- echo after-dashes 2>&1)" "after-dashes" "exec ID -- CMD runs CMD"
"${R[@]}" kill c2 0; ok $? "kill ID 0 (is it there?) succeeds on a running container"
ev=$("${R[@]}" events --stats c2 2>&1)
python3 -c 'import json, sys
e = json.loads(sys.argv[1]); d = e["data"]
assert e["type"] == "stats" and e["id"] == "c2", e
assert d["memory"]["usage"]["usage"] > 0 and d["memory"]["usage"]["limit"] > d["memory"]["usage"]["usage"], d
assert d["cpu"]["usage"]["total"] > 0 and d["pids"]["current"] > 0, d' "$ev"
ok $? "events --stats: one runc stats event, its memory use under the limit, CPU and pids ($ev)"
out=$("${R[@]}" events --interval 100ms c2 2>&1 & sleep 1.5; kill $! 2>/dev/null)
[ "$(grep -c '"type":"stats"' <<<"$out")" -ge 2 ]; ok $? "events --interval 100ms: a stats event each interval"
contains "$("${R[@]}" ps c2 2>&1)" "sleep 300" "ps: the container's processes, from ps in it"
out=$("${R[@]}" ps c2 -- -o pid,comm 2>&1)
case "$out" in "PID"*"COMMAND"*sleep*) ok 0 "ps ID -- ARGS: the arguments are ps's" ;; *) ok 1 "ps ID -- ARGS: the arguments are ps's ($out)" ;; esac
is "$("${R[@]}" ps --format json c2)" "[$(cat "$TMP/c2.pid")]" "ps --format json: the host process's pid"
out=$(echo '{"blockIO": {"weight": 10}}' | "${R[@]}" update -r - c2 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "update of what a VM's container cannot change fails (exit $rc)"
contains "$out" "blockIO cannot be updated" "... naming it"
out=$("${R[@]}" update --memory 1000 c2 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "update --memory 1000 (below 1 MiB) fails (exit $rc)"
contains "$out" "memory_bytes" "... naming the limit"
"${R[@]}" kill c2 KILL; ok $? "kill c2 KILL"
pid=$(cat "$TMP/c2.pid")
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
contains "$("${R[@]}" state c2)" '"status" : "stopped"' "... stops it"
"${R[@]}" delete c2; ok $? "delete c2"
[ ! -e "${cg%% *}" ]; ok $? "... its cgroup is removed with it"
rmdir /sys/fs/cgroup/*/"${CG%/*}" /sys/fs/cgroup/"${CG%/*}" 2>/dev/null

# Errors: runc-style, non-zero, and nothing left behind.
bundle "$TMP/b3" false '["true"]'
"${R[@]}" create --bundle "$TMP/b3" --pid-file "$TMP/c3.pid" c3 >/dev/null 7>"$TMP/leaked-fd"; ok $? "create c3"
is "$(ls "/proc/$(cat "$TMP/c3.pid")/fd" | sort -n | tr '\n' ' ')" "0 1 2 " "... its host process keeps stdio only, not the fds its caller leaked (7)"
out=$("${R[@]}" create --bundle "$TMP/b3" c3 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "an id in use is refused (exit $rc)"
contains "$out" 'container with id "c3" already exists' "... saying so"
is "$("${R[@]}" exec c3 echo in-created 2>&1)" "in-created" "exec into a created (not started) container, as runc allows"
out=$("${R[@]}" delete c3 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "delete of a created container without --force is an error, as the spec says (exit $rc)"
contains "$out" "that is created, not stopped" "... naming its state"
"${R[@]}" delete --force c3 >/dev/null; ok $? "... and with --force it goes"

# exec --process: its env is the whole environment (runc's rule), -e adds
# to the container's; HOME, when the env gives none or an empty one, is the
# user's in the container's /etc/passwd, else /.
bundle "$TMP/bh" false '["sleep", "300"]'
echo "u:x:2000:2000:u:/home/u:/bin/sh" >>"$TMP/bh/rootfs/etc/passwd"
sed -i 's#"cwd": "/"#"cwd": "/", "env": ["FROM_CONFIG=1", "PATH=/bin:/usr/bin"]#; s#"hostname"#"domainname": "example.org", "hostname"#' "$TMP/bh/config.json"
sed -i 's#"hostname"#"linux": {"devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 384, "uid": 1000, "gid": 100}, {"path": "/dev/my/null", "type": "c", "major": 1, "minor": 3}]}, "hostname"#' "$TMP/bh/config.json"
"${R[@]}" create --bundle "$TMP/bh" ch >/dev/null && "${R[@]}" start ch; ok $? "create and start ch"
printf '{"args": ["sh", "-c", "echo from_config=${FROM_CONFIG:-unset} mine=$MINE home=$HOME"], "env": ["MINE=2", "HOME="], "cwd": "/", "user": {"uid": 2000, "gid": 2000}}' >"$TMP/proc.json"
is "$("${R[@]}" exec --process "$TMP/proc.json" ch 2>&1)" "from_config=unset mine=2 home=/home/u" \
  "exec --process: its env replaces the container's; an empty HOME is the user's from /etc/passwd"
is "$("${R[@]}" exec -e MINE=3 -u 3000 ch sh -c 'echo from_config=$FROM_CONFIG mine=$MINE home=$HOME' 2>&1)" \
  "from_config=1 mine=3 home=/" "exec -e adds to the container's env; a user without a passwd entry gets HOME=/"
is "$("${R[@]}" exec ch cat /proc/sys/kernel/domainname 2>&1)" "example.org" "config.json's domainname is the container's"
printf '{"args": ["id", "-G"], "cwd": "/", "user": {"uid": 2000, "gid": 2000, "additionalGids": [10, 20]}}' >"$TMP/proc2.json"
is "$("${R[@]}" exec --process "$TMP/proc2.json" ch 2>&1)" "2000 10 20" "exec --process: user.additionalGids are its groups"
is "$("${R[@]}" exec -u 2000:2000 -g 30 ch id -G 2>&1)" "2000 30" "exec --additional-gids (-g) likewise"
is "$("${R[@]}" exec ch stat -c '%t:%T %a %u:%g %F' /dev/fuse /dev/my/null 2>&1)" \
  "$(printf 'a:e5 600 1000:100 character special file\n1:3 666 0:0 character special file')" \
  "linux.devices: the nodes are made in the container's /dev, with their mode and owner"
is "$("${R[@]}" exec ch sh -c 'echo x >/dev/my/null && echo wrote' 2>&1)" "wrote" "... and work (the guest's own devices)"
# exec -t without a console socket: the caller's own terminal, as runc's.
printf 'expect / # \nsend tty; stty size; exit 3\\r\n' | python3 "$(dirname "$0")/pty-run.py" \
  --rows 33 --cols 101 --transcript "$TMP/exec-t" -- "${R[@]}" exec -t ch sh
is "$?" 3 "exec -t without --console-socket: a terminal on the caller's own, exit status 3"
contains "$(tr -d '\r' <"$TMP/exec-t")" "33 101" "... of the caller's terminal's size"
out=$("${R[@]}" exec -t ch true </dev/null 2>&1); rc=$?
[ "$rc" -ne 0 ]; ok $? "... and refused without a terminal to use (exit $rc)"
contains "$out" "not a TTY" "... saying so"
"${R[@]}" delete --force ch >/dev/null

# run: create and start, its output and status, deleted after (unless -d).
bundle "$TMP/br" false '["sh", "-c", "echo ran in $(hostname); exit 3"]'
out=$("${R[@]}" run --bundle "$TMP/br" r1 2>&1); rc=$?
is "$rc" 3 "run exits with the process's status (3)"
is "$out" "ran in oci" "... its output is the caller's"
out=$("${R[@]}" state r1 2>&1); rc=$?
[ $rc -ne 0 ] && [ -z "$("$SANDBOXCTL" ls -q r1)" ]; ok $? "... and the container is deleted after it ($out)"
bundle "$TMP/brd" false '["sleep", "300"]'
"${R[@]}" run -d --bundle "$TMP/brd" --pid-file "$TMP/r2.pid" r2; ok $? "run -d returns once it runs"
contains "$("${R[@]}" state r2)" '"status" : "running"' "... state: running"
"${R[@]}" --debug --log "$TMP/debug.log" delete --force r2 2>"$TMP/debug.err"; ok $? "... and delete --force removes it"
contains "$(cat "$TMP/debug.err")" 'level=debug msg="sandbox.v1.Sandboxes.Delete at' "--debug names each call to sandboxd on stderr, in runc's form"
contains "$(cat "$TMP/debug.log")" '"level":"debug","msg":"sandbox.v1.Sandboxes.Delete: ok"' "... and in --log, with its outcome"
before=$(qemus)
mkdir -p "$TMP/b4" && echo '{"ociVersion": "1.0.2", "process": {"args": ["true"]}, "root": {"path": "nope"}}' >"$TMP/b4/config.json"
out=$("${R[@]}" create --bundle "$TMP/b4" c4 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "a missing rootfs is refused (exit $rc)"
contains "$out" "nope" "... naming it"
bundle "$TMP/b5" false '["true"]'
sed -i 's/"hostname"/"linux": {"intelRdt": {"closID": "x"}}, "hostname"/' "$TMP/b5/config.json"
out=$("${R[@]}" create --bundle "$TMP/b5" c5 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "an unsupported field is refused (exit $rc)"
contains "$out" "linux.intelRdt" "... naming the field"
grep -q '"level":"error"' "$TMP/oci.log"; ok $? "errors also go to --log as JSON, for conmon"
is "$(qemus)" "$before" "no VM is left by a refused create"
[ ! -e "$TMP/oci/c4" ] && [ ! -e "$TMP/oci/c5" ]; ok $? "... and no record"
is "$("$SANDBOXCTL" ls -q)" "" "... and no sandbox"
contains "$("$RUNTIME" --version)" "spec: 1.0.2" "--version"
contains "$("$RUNTIME" --version)" "commit: " "... with runc's commit line"

# runc's own canonical config.json (runc spec), with terminal false and a
# command that prints what the process sees: it runs as it is, and gets
# exactly the capabilities, no_new_privs and rlimits it asks for, its
# masked paths and its own network namespace.
probe_bundle() { # probe_bundle CONFIG: no terminal, a command that prints what it sees
  python3 - "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "grep -E '^(CapPrm|CapEff|CapBnd|NoNewPrivs)' /proc/self/status;"
                        " echo nofile $(ulimit -n); echo firmware $(ls /sys/firmware | wc -l);"
                        " echo links $(ls /sys/class/net)"]
json.dump(c, open(sys.argv[1], "w"))
PY
}
want=$(printf 'CapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\nNoNewPrivs:\t1\nnofile 1024\nfirmware 0\nlinks lo')
# sandbox-runtime spec writes the same defaults (never over a config.json).
mkdir -p "$TMP/ss/rootfs" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/ss/rootfs"
"${R[@]}" spec --bundle "$TMP/ss"; ok $? "spec writes a config.json"
contains "$("${R[@]}" spec --bundle "$TMP/ss" 2>&1)" "config.json exists" "... and never over one"
probe_bundle "$TMP/ss/config.json"
is "$("$SANDBOXCTL" run --rm --bundle "$TMP/ss" 2>&1)" "$want" \
  "spec's bundle runs with runc spec's capabilities, no_new_privs, nofile, masked paths and network"
# exec --cap: a capability beyond the container's, in its bounding,
# effective and permitted sets (CAP_NET_ADMIN is bit 12), as runc's.
"${R[@]}" create --bundle "$TMP/ss" capx >/dev/null 2>&1 || bail "create capx"
is "$("${R[@]}" exec capx grep CapEff /proc/self/status)" "$(printf 'CapEff:\t0000000020000420')" \
  "exec runs with the container's capabilities"
is "$("${R[@]}" exec --cap CAP_NET_ADMIN capx grep -E 'Cap(Eff|Bnd)' /proc/self/status)" \
  "$(printf 'CapEff:\t0000000020001420\nCapBnd:\t0000000020001420')" "exec --cap CAP_NET_ADMIN adds it"
out=$("${R[@]}" exec --cap CAP_NOPE capx true 2>&1)
rc=$?
[ $rc -ne 0 ]; ok $? "exec --cap of no capability fails (exit $rc)"
contains "$out" '"CAP_NOPE" is not a capability' "... naming it"
"${R[@]}" delete --force capx >/dev/null
if command -v runc >/dev/null; then
  mkdir -p "$TMP/rs/rootfs" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/rs/rootfs"
  (cd "$TMP/rs" && runc spec) || bail "runc spec"
  probe_bundle "$TMP/rs/config.json"
  is "$("$SANDBOXCTL" run --rm --bundle "$TMP/rs" 2>&1)" "$want" \
    "runc spec's bundle with sandboxctl run --bundle: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE only, no_new_privs, nofile 1024, /sys/firmware masked, a network of its own"
  "${R[@]}" create --bundle "$TMP/rs" --pid-file "$TMP/rs.pid" rs >"$TMP/rs.out" 2>&1 && "${R[@]}" start rs
  pid=$(cat "$TMP/rs.pid")
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  is "$(cat "$TMP/rs.out")" "$want" "... and with sandbox-runtime create and start"
  "${R[@]}" delete --force rs >/dev/null
else
  ok 0 "# SKIP runc is not installed (runc spec writes the canonical bundle)"
  ok 0 "# SKIP runc is not installed"
fi

# config.json's mounts are applied in its order (the spec's MUST), its own
# /dev with its options among them; a tmpfs without mode= takes its mount
# point's; a /proc that is a symlink in the root is refused.
mkdir -p "$TMP/mo/rootfs/data" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/mo/rootfs"
chmod 1770 "$TMP/mo/rootfs/data"
"${R[@]}" spec --bundle "$TMP/mo"
python3 - "$TMP/mo/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
for m in c["mounts"]:
    if m["destination"] == "/dev":
        m["options"] = [o for o in m["options"] if not o.startswith("size=")] + ["size=2048k"]
c["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]})
c["process"]["args"] = ["sh", "-c", "awk '{print $5}' /proc/self/mountinfo; df -k /dev | awk 'NR==2 {print \"dev\", $2}';"
                        " echo data $(stat -c %a /data)"]
json.dump(c, open(sys.argv[1], "w"))
open(sys.argv[1] + ".order", "w").write("\n".join(m["destination"] for m in c["mounts"]) + "\n")
PY
out=$("$SANDBOXCTL" run --rm --bundle "$TMP/mo" 2>&1)
is "$(grep -x -F -f "$TMP/mo/config.json.order" <<<"$out" | awk '!seen[$0]++' | tr '\n' ' ')" \
  "$(tr '\n' ' ' <"$TMP/mo/config.json.order")" "config.json's mounts are mounted in its order (runc spec's: /dev/mqueue before /sys; /data last)"
contains "$out" "dev 2048" "... its /dev with its own options (size=2048k)"
contains "$out" "data 1770" "... a tmpfs without mode= takes its mount point's (1770)"
# A read-only root (runc spec's default) still gets mount points its image
# lacks, made before the root turns read-only.
mkdir -p "$TMP/ro/rootfs" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/ro/rootfs"
"${R[@]}" spec --bundle "$TMP/ro"
python3 - "$TMP/ro/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["mounts"].append({"destination": "/not/in/image", "type": "tmpfs", "source": "tmpfs"})
c["process"]["args"] = ["sh", "-c", "ls -d /not/in/image; touch /x"]
json.dump(c, open(sys.argv[1], "w"))
PY
is "$("$SANDBOXCTL" run --rm --bundle "$TMP/ro" 2>&1)" "/not/in/image
touch: /x: Read-only file system" "a read-only root gets a mount point its image lacks, and stays read-only"
# tmpcopyup (what podman writes for its tmpfs mounts): the tmpfs starts as
# a copy of what it covers, files, links and modes, writable over a
# read-only root.
mkdir -p "$TMP/cu/rootfs" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/cu/rootfs"
mkdir -p "$TMP/cu/rootfs/seed/sub" && echo seeded >"$TMP/cu/rootfs/seed/sub/f"
chmod 640 "$TMP/cu/rootfs/seed/sub/f" && ln -s sub/f "$TMP/cu/rootfs/seed/link"
"${R[@]}" spec --bundle "$TMP/cu"
python3 - "$TMP/cu/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["mounts"].append({"destination": "/seed", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "nosuid"]})
c["process"]["args"] = ["sh", "-c", "cat /seed/link; stat -c %a /seed/sub/f; echo more >/seed/new && cat /seed/new"]
json.dump(c, open(sys.argv[1], "w"))
PY
is "$("$SANDBOXCTL" run --rm --bundle "$TMP/cu" 2>&1)" "seeded
640
more" "tmpcopyup: a tmpfs that starts as a copy of what it covers (link, mode), writable over a read-only root"
rm -rf "$TMP/mo/rootfs/proc" && ln -s /tmp "$TMP/mo/rootfs/proc"
out=$("$SANDBOXCTL" run --rm --bundle "$TMP/mo" 2>&1); rc=$?
[ "$rc" -ne 0 ]; ok $? "a root whose /proc is a symlink is refused (exit $rc)"
contains "$out" "/proc" "... naming /proc: $out"

# Hooks run on the host, with the state on stdin: createRuntime and
# prestart at create (a failing one fails it, leaving nothing), poststart
# after start, poststop at delete.
bundle "$TMP/b7" false '["true"]'
python3 - "$TMP/b7/config.json" "$TMP" <<'PY'
import json, sys
c, t = json.load(open(sys.argv[1])), sys.argv[2]
sh = lambda cmd: {"path": "/bin/sh", "args": ["sh", "-c", cmd]}
c["hooks"] = {"prestart": [sh("cat > %s/hook-prestart.json" % t)],
              "poststart": [sh("touch %s/hook-poststart" % t)],
              "poststop": [sh("touch %s/hook-poststop" % t)]}
json.dump(c, open(sys.argv[1], "w"))
PY
"${R[@]}" create --bundle "$TMP/b7" c7 >/dev/null 2>&1; ok $? "create with hooks"
contains "$(cat "$TMP/hook-prestart.json" 2>/dev/null)" '"id":"c7"' "the prestart hook ran on the host with the state on stdin"
contains "$(cat "$TMP/hook-prestart.json" 2>/dev/null)" '"status":"created"' "... created"
"${R[@]}" start c7 && sleep 0.5
[ -e "$TMP/hook-poststart" ]; ok $? "the poststart hook ran after start"
"${R[@]}" delete --force c7
[ -e "$TMP/hook-poststop" ]; ok $? "the poststop hook ran at delete"
python3 - "$TMP/b7/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["hooks"] = {"prestart": [{"path": "/bin/false"}]}
json.dump(c, open(sys.argv[1], "w"))
PY
before=$(qemus)
out=$("${R[@]}" create --bundle "$TMP/b7" c8 2>&1); rc=$?
[ $rc -ne 0 ]; ok $? "a failing prestart hook fails create (exit $rc)"
contains "$out" "prestart hook /bin/false: exit status 1" "... naming the hook"
is "$(qemus),$("$SANDBOXCTL" ls -q c8)" "$before," "... and leaves no VM and no sandbox"

# linux.seccomp: the guest builds the filter (libseccomp) and loads it.
bundle "$TMP/b6" false '["sh", "-c", "mkdir /tmp/x; echo mkdir=$?; grep Seccomp: /proc/self/status"]'
python3 - "$TMP/b6/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("linux", {})["seccomp"] = {
    "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
json.dump(c, open(sys.argv[1], "w"))
PY
out=$("$SANDBOXCTL" run --rm --bundle "$TMP/b6" 2>&1)
contains "$out" "mkdir: can't create directory '/tmp/x': Operation not permitted" "linux.seccomp: a denied call fails with the errno it names"
contains "$out" "Seccomp:	2" "... the process runs under a filter"

# podman, with sandbox-runtime as its runtime (a private storage; this
# host needs the cgroupfs manager): every container in its own microVM.
if command -v podman >/dev/null; then
  P=(podman --root "$TMP/pstore" --runroot "$TMP/prun" --tmpdir "$TMP/ptmp" --cgroup-manager cgroupfs
     --storage-driver vfs
     --runtime "$RUNTIME" --runtime-flag "address=$SANDBOXD_ADDRESS")
  "${P[@]}" import "$BUILD/guest-agent/sandbox-rootfs.tar" localhost/sbx >/dev/null 2>&1
  ok $? "podman import of a root"
  is "$("${P[@]}" run --rm --network none localhost/sbx uname -r 2>&1)" "$GUEST_RELEASE" \
    "podman run --rm prints the guest kernel's release (host: $(uname -r))"
  "${P[@]}" run --rm --network none localhost/sbx sh -c 'exit 7'
  is "$?" 7 "... its exit status is podman's"
  is "$("${P[@]}" run --rm --network none -e GREETING=hi -w /tmp --user 1000:1000 localhost/sbx sh -c 'echo $GREETING $(pwd) $(id -u):$(id -g)' 2>&1)" \
    "hi /tmp 1000:1000" "... -e, -w and --user are honoured"
  is "$("${P[@]}" run --rm --network none localhost/sbx grep -c Seccomp:.2 /proc/self/status 2>&1)" 1 \
    "... under podman's default seccomp profile"
  mkdir -p "$TMP/shared/sub"; echo from-the-host >"$TMP/shared/sub/f"
  is "$("${P[@]}" run --rm --network none -v "$TMP/shared:/data:ro" localhost/sbx sh -c 'cat /data/sub/f; touch /data/x' 2>&1)" \
    "from-the-host
touch: /data/x: Read-only file system" "podman run -v DIR:/data:ro: the host directory, read-only (an image of its own)"
  # Read-write: a volume (virtio-fs), served as the directory's owner.
  mkdir -p "$TMP/rw" && chown 4242:4242 "$TMP/rw"
  sum=$("${P[@]}" run --rm --network none -v "$TMP/rw:/data" localhost/sbx sh -c 'head -c 2097152 /dev/urandom >/data/f && md5sum </data/f' 2>&1)
  is "$(md5sum <"$TMP/rw/f" 2>&1)" "$sum" "podman run -v DIR:/data (read-write): 2 MiB written in the container reach the host"
  is "$(stat -c %u "$TMP/rw/f")" 4242 "... owned by the directory's owner"
  out=$("${P[@]}" run --rm --network none -v "$TMP/shared:/data" localhost/sbx true 2>&1)
  is "$?" 126 "podman run -v of a root-owned directory (read-write) fails (podman's 126: the runtime refused)"
  contains "$out" "is root's: a volume is served as its directory's owner, never as root" "... saying why"
  printf 'expect / # \nsend tty; stty size; exit 4\\r\n' | python3 "$(dirname "$0")/pty-run.py" \
    --rows 30 --cols 90 --transcript "$TMP/pod-it" -- "${P[@]}" run --rm -it --network none localhost/sbx sh
  is "$?" 4 "podman run -it: a terminal through the console socket, exit status 4"
  out=$(tr -d '\r' <"$TMP/pod-it")
  contains "$out" "/dev/pts/0" "... tty in the container"
  contains "$out" "30 90" "... the size of podman's terminal"
  HP=$(( 31000 + $$ % 2000 ))
  cid=$("${P[@]}" run -d -p "$HP:80" localhost/sbx sh -c \
    'mkdir -p /www; echo podman-page >/www/index.html; echo serving; exec httpd -f -p 80 -h /www' 2>&1)
  ok $? "podman run -d -p $HP:80"
  page=""
  for _ in $(seq 50); do page=$(curl -s -m 5 "http://127.0.0.1:$HP/") && [ -n "$page" ] && break; sleep 0.2; done
  is "$page" "podman-page" "... curl on the host gets the page (podman's network namespace, attached with ns:)"
  is "$("${P[@]}" logs "$cid" 2>&1)" "serving" "podman logs"
  out=$("${P[@]}" exec -e WHO=exec -w /www -u 1000:1000 "$cid" sh -c 'echo $WHO $(pwd) $(id -u); exit 3' 2>&1)
  is "$?/$out" "3/exec /www 1000" "podman exec: its output, -e, -w, -u, and its exit status"
  out=$("${P[@]}" update --memory 64m --cpu-quota 50000 "$cid" 2>&1)
  ok $? "podman update --memory 64m --cpu-quota 50000 ($out)"
  is "$("${P[@]}" exec "$cid" sh -c 'd=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); cat $d/memory.max $d/cpu.max' 2>&1)" \
    "67108864
50000 100000" "... the container's cgroup in the guest has the new limits"
  "${P[@]}" pause "$cid" >/dev/null; ok $? "podman pause (the VM's vCPUs stop)"
  is "$("${P[@]}" inspect -f '{{.State.Status}}' "$cid")" paused "... podman sees it paused"
  curl -s -m 3 "http://127.0.0.1:$HP/" >/dev/null; [ $? -ne 0 ]; ok $? "... and a paused guest answers nothing"
  "${P[@]}" unpause "$cid" >/dev/null; ok $? "podman unpause"
  is "$(curl -s -m 10 "http://127.0.0.1:$HP/")" "podman-page" "... it serves again"
  "${P[@]}" stop -t 3 "$cid" >/dev/null; ok $? "podman stop"
  "${P[@]}" rm "$cid" >/dev/null; ok $? "podman rm"
  is "$("$SANDBOXCTL" ls -q)" "" "no sandbox is left"
  "${P[@]}" rmi -f localhost/sbx >/dev/null 2>&1
else
  for i in $(seq 25); do ok 0 "# SKIP podman is not installed"; done
fi
tap_done
