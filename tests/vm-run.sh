#!/bin/bash
# sandboxctl run, end to end: real QEMU microVMs with the real guest kernel.
. "$(dirname "$0")/lib.sh"

start_daemon "$TMP/d" || { echo "Bail out! sandboxd did not start"; diag <"$TMP/d.log"; exit 1; }
diag <"$TMP/d.log"
release=$GUEST_RELEASE

out=$("$SANDBOXCTL" run --rm -- uname -r 2>"$TMP/err"); rc=$?
is "$rc" 0 "run --rm -- uname -r exits 0"
is "$out" "$release" "the command ran behind the guest kernel ($release)"
[ "$out" != "$(uname -r)" ]; ok $? "... which is not the host's kernel ($(uname -r))"

"$SANDBOXCTL" run --rm -- sh -c 'echo out; echo err >&2; exit 7' >"$TMP/out" 2>"$TMP/err"; rc=$?
is "$rc" 7 "the command's exit status (7) is sandboxctl's"
is "$(cat "$TMP/out")" "out" "stdout holds only stdout"
is "$(cat "$TMP/err")" "err" "stderr holds only stderr"

"$SANDBOXCTL" run --rm -- sh -c 'kill -TERM $$' >/dev/null 2>&1; rc=$?
is "$rc" 143 "a command killed by SIGTERM exits 128+15"

out=$("$SANDBOXCTL" run --rm -e GREETING=hello -w /tmp -- sh -c 'echo "$GREETING from $(pwd)"' 2>&1)
is "$out" "hello from /tmp" "--env and --workdir reach the command"

out=$("$SANDBOXCTL" run --rm -- no-such-command 2>&1); rc=$?
is "$rc" 127 "a command that does not exist exits 127"
contains "$out" "sandboxctl: NOT_FOUND: exec no-such-command: No such file or directory" "... saying so"

out=$("$SANDBOXCTL" run --rm -- sh -c 'head -c 3000000 /dev/zero' | wc -c)
is "$out" 3000000 "3 MB of output arrive complete"

# After --rm nothing of the sandboxes is left.
left=$(ls "$TMP/d/sb" | wc -l)
is "$left" 0 "no sandbox directory is left after --rm"
qemus=$(pgrep -f -- "sandboxd:$TMP/d/" | wc -l)
is "$qemus" 0 "no QEMU process is left after --rm"
socks=$(find "$TMP/d/sb" -name '*.sock' | wc -l)
is "$socks" 0 "no QMP or agent socket is left after --rm"

# Without --rm the sandbox keeps running after its command exits.
name=keep-$$
"$SANDBOXCTL" run --name "$name" -- true; rc=$?
is "$rc" 0 "run without --rm succeeds"
[ -d "$TMP/d/sb" ] && [ "$(ls "$TMP/d/sb" | wc -l)" -eq 1 ]; ok $? "... and keeps its sandbox"
out=$("$SANDBOXCTL" run --name "$name" -- true 2>&1); rc=$?
is "$rc" 1 "a second sandbox with the same name is refused (exit 1)"
contains "$out" "sandboxctl: ALREADY_EXISTS: a sandbox named \"$name\" already exists" "... saying why"

# A guest whose init never says hello fails within the boot timeout, and
# the error carries the tail of its console.
mkdir -p "$TMP/hang/bin" "$TMP/hang/dev"
cp "$(command -v busybox)" "$TMP/hang/bin/busybox"
cat >"$TMP/hang/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev
echo "hang-marker: this init never says hello" >/dev/console
exec /bin/busybox sleep 1000
INIT
chmod +x "$TMP/hang/init"
(cd "$TMP/hang" && find . | cpio -o -H newc -R 0:0 --quiet) >"$TMP/hang.img"
start_daemon "$TMP/h" --initramfs "$TMP/hang.img" --kernel "$GUEST_KERNEL" --boot-timeout 8 ||
  { echo "Bail out! sandboxd (hang) did not start"; exit 1; }
start=$(date +%s)
out=$("$SANDBOXCTL" run --rm -- true 2>&1); rc=$?
took=$(( $(date +%s) - start ))
is "$rc" 1 "a guest that never says hello fails the run (exit 1)"
contains "$out" "sandboxctl: UNAVAILABLE: sandbox" "... as UNAVAILABLE"
contains "$out" "did not say hello within 8 s" "... naming the boot timeout"
contains "$out" "hang-marker: this init never says hello" "... with the guest console's tail"
[ "$took" -lt 30 ]; ok $? "... within a bounded time (${took}s)"
sleep 1
is "$(ls "$TMP/h/sb" | wc -l)" 0 "... and --rm removed the failed sandbox"
is "$(pgrep -f -- "sandboxd:$TMP/h/" | wc -l)" 0 "... and its QEMU"

# A file that is no kernel: sandboxd does not start, naming it.
head -c 4096 /dev/urandom >"$TMP/bad-kernel"
out=$("$SANDBOXD" --runtime-dir "$TMP/k0" --state-dir "$TMP/state" --kernel "$TMP/bad-kernel" 2>&1)
rc=$?
[ $rc -ne 0 ]; ok $? "a --kernel that is no kernel: sandboxd refuses to start (exit $rc)"
contains "$out" "kernel $TMP/bad-kernel: not a kernel" "... naming the file"
# One that looks like a kernel (of the initramfs' release) and that QEMU
# cannot boot: the error says QEMU died, with its own words.
{ printf '\177ELF'; head -c 4096 /dev/urandom; printf 'Linux version %s ' "$GUEST_RELEASE"; } >"$TMP/bad-kernel"
start_daemon "$TMP/k" --kernel "$TMP/bad-kernel" || { echo "Bail out! sandboxd (bad kernel) did not start"; exit 1; }
out=$("$SANDBOXCTL" run --rm -- true 2>&1); rc=$?
is "$rc" 1 "a kernel QEMU cannot load fails the run"
contains "$out" "QEMU exited unexpectedly" "... saying QEMU exited"

tap_done
