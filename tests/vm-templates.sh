#!/bin/bash
# VM templates: the default shape's template is built at start, sandboxes
# are its clones (each its own machine: random numbers, clock, hostname),
# containers and streams work in them, a template that does not restore
# falls back to a cold boot, a new initramfs means a new template, and
# --no-templates boots cold.
. "$(dirname "$0")/lib.sh"
bail() { echo "Bail out! $1"; diag <"$TMP/d.log"; exit 1; }
C="$SANDBOXCTL"
TEMPLATES=1 start_daemon "$TMP/d" || bail "sandboxd did not start"
tdir="$TMP/state/templates"
field() { # field SANDBOX KEY: a top-level member of inspect's JSON
  "$C" --json inspect "$1" | python3 -c 'import json,sys
d = json.load(sys.stdin); d = d[0] if isinstance(d, list) else d
print(d.get(sys.argv[1], ""))' "$2"
}
wait_template() { # wait_template N: until sandboxd said "ready" of N templates (its log is kept)
  for _ in $(seq 600); do
    [ "$(grep -c 'template .*: ready (' "$TMP/d.log")" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

wait_template 1; ok $? "the default shape's template is built at start"
first=$(ls "$tdir" | grep '\.vmstate$')
is "$(stat -c '%U %a' "$tdir/$first")" "root 600" "... root's alone (a clone's QEMU gets a read-only fd)"
contains "$(cat "$TMP/d.log")" "template ${first%.vmstate}: ready" "... and sandboxd says so"

for i in 1 2 3 4 5; do "$C" create --name "t$i" >/dev/null || bail "create t$i"; done
boots=$(for i in 1 2 3 4 5; do field "t$i" boot; done | sort | uniq -c | awk '{print $1, $2}')
is "$boots" "5 template" "5 sandboxes are clones of the template (inspect: boot template)"
rand=$(for i in 1 2 3 4 5; do "$C" exec "t$i" -- sh -c 'head -c 16 /dev/urandom | od -An -tx1'; done)
is "$(printf '%s\n' "$rand" | sort -u | wc -l)" 5 "... each /dev/urandom gives its own bytes"
names=$(for i in 1 2 3 4 5; do "$C" exec "t$i" -- hostname; done | tr '\n' ' ')
is "$names" "t1 t2 t3 t4 t5 " "... each has its own hostname"
skew=$(for i in 1 2 3 4 5; do g=$("$C" exec "t$i" -- date +%s); echo $(( g - $(date +%s) )); done | tr -d - | sort -n | tail -1)
[ "$skew" -le 1 ]; ok $? "... and a clock within 1 s of the host's (worst: $skew s)"
qpid=$(field t1 qemu_pid)
grep 'memfd:sandboxd-template ' "/proc/$qpid/maps" | grep -q ' rw-p '
ok $? "a clone maps the template's RAM private (copy on write; the rest shared)"
out=$(python3 - "$qpid" <<'PY'
import os, sys
d = "/proc/%s/fd" % sys.argv[1]
for n in os.listdir(d):
    if os.readlink(os.path.join(d, n)).startswith("/memfd:sandboxd-template "):
        fd = os.open(os.path.join(d, n), os.O_RDWR)
        try:
            os.pwrite(fd, b"x", 0)
            print("written")
        except PermissionError:
            print("refused")
        break
PY
)
is "$out" "refused" "... which is sealed: even root, through QEMU's fd, cannot write it"
is "$("$C" exec t1 -- sh -c 'head -c 3000000 /dev/zero' | wc -c)" 3000000 "exec streams 3 MB out of a clone"
is "$("$C" exec t2 -- sh -c 'exit 7'; echo $?)" 7 "... and an exit status"

mkdir -p "$TMP/root" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$TMP/root"
echo from-the-root >"$TMP/root/marker"
is "$("$C" run --rm --rootfs "$TMP/root" -- cat /marker)" "from-the-root" "a container in a clone (its root hot-plugged after the restore)"
"$C" rm -f t2 t3 t4 t5 >/dev/null

# A clone is taken back by a restarted sandboxd like any sandbox.
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
TEMPLATES=1 start_daemon "$TMP/d" || bail "restart after SIGKILL"
is "$("$C" exec t1 -- hostname 2>&1)" "t1" "a clone lives on through a SIGKILL of sandboxd and is taken back"
"$C" rm -f t1 >/dev/null

# Another shape: cold; a template only once the shape recurs (templates
# are the host's memory, charged to no tenant: one-off shapes get none).
templates() { "$C" --json info | python3 -c 'import json,sys
t = json.load(sys.stdin).get("templates", {})
print(" ".join(sorted("%s:%s" % (e["memory_mb"], e["state"]) for e in t.get("templates", []))))'; }
"$C" create --name big --memory 320 >/dev/null
is "$(field big boot)" "cold" "a shape without a template boots cold"
sleep 1
is "$(templates)" "256:ready" "... and seen once, gets no template (info lists only the default shape's)"
"$C" create --name big2 --memory 320 >/dev/null
is "$(field big2 boot)" "cold" "its second sandbox boots cold too"
wait_template 2; ok $? "... and its template is built"
"$C" create --name big3 --memory 320 >/dev/null
is "$(field big3 boot)" "template" "... which the next sandbox of that shape is a clone of"
out=$("$C" info)
contains "$out" "Templates:     2 of at most 8" "sandboxctl info shows the templates and their bound"
ram=$("$C" --json info | python3 -c 'import json,sys; print(json.load(sys.stdin)["templates"]["ram_bytes"] >> 20)')
[ "$ram" -gt 0 ] && [ "$ram" -lt 640 ]; ok $? "... and the RAM they hold in sandboxd ($ram MiB)"
"$C" rm -f big big2 big3 >/dev/null

# With a network: a template with a NIC, the clone's eth0 set up at thaw.
HP=$(( 32000 + $$ % 2000 ))
"$C" create --name net0 -p "$((HP + 2)):80" >/dev/null
"$C" create --name net1 -p "$HP:80" >/dev/null
is "$(field net1 boot)" "cold" "a sandbox with a network, before its shape has a template: cold"
wait_template 3; ok $? "... and once it recurs, a template with a NIC is built"
"$C" rm -f net0 >/dev/null
"$C" create --name net2 -p "$((HP + 1)):80" >/dev/null
is "$(field net2 boot)" "template" "the next one with a network is a clone"
"$C" exec net2 -- sh -c 'mkdir -p /www; echo clone-page >/www/index.html; httpd -p 80 -h /www'
page=""
for _ in $(seq 50); do page=$(curl -s -m 5 "http://127.0.0.1:$((HP + 1))/") && [ -n "$page" ] && break; sleep 0.2; done
is "$page" "clone-page" "... its published port answers (eth0 configured at thaw)"
"$C" rm -f net1 net2 >/dev/null

# A template that does not restore: cold, saying why; it is built again.
head -c 100000 /dev/urandom >"$tdir/$first"
"$C" create --name broken >/dev/null; rc=$?
is "$rc" 0 "a corrupt template does not fail a create"
is "$(field broken boot)" "cold" "... the sandbox boots cold"
why=$(field broken cold_reason)
[ -n "$why" ]; ok $? "... and inspect says why (cold_reason: ${why:0:80})"
is "$("$C" exec broken -- echo alive)" "alive" "... and works"
"$C" rm -f broken >/dev/null
wait_template 4; ok $? "the dropped template is built again"
"$C" create --name again >/dev/null
is "$(field again boot)" "template" "... and cloned"
"$C" rm -f again >/dev/null

# A new initramfs (the same with padding: the kernel skips zeros) is a new
# kernel of the catalog ("custom", the default now) with templates of its
# own; a kernel that leaves the catalog has its templates removed at start.
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
custom() { # custom FILE PAD: the guest's initramfs with PAD zeros, its release and kernel beside
  cp "$INITRAMFS" "$1.img" && head -c "$2" /dev/zero >>"$1.img"
  cp "$GUEST.release" "$1.release" && cp "$GUEST_KERNEL" "$1.kernel"
}
custom "$TMP/initramfs" 512
TEMPLATES=1 start_daemon "$TMP/d" --initramfs "$TMP/initramfs.img" || bail "restart"
old=${first%%-*}
wait_template 5
new=$(ls "$tdir" | grep '\.vmstate$' | grep -v "^$old")
[ -n "$new" ]; ok $? "a new initramfs: the default shape's template is built anew for it ($new)"
ls "$tdir" | grep -q "^$old"; ok $? "... while the built-in kernel's stay (it is still in the catalog)"
"$C" create --name new >/dev/null
is "$(field new boot)" "template" "... and cloned"
"$C" rm -f new >/dev/null
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
custom "$TMP/initramfs2" 1024
TEMPLATES=1 start_daemon "$TMP/d" --initramfs "$TMP/initramfs2.img" || bail "restart again"
gone=${new%%-*}
for _ in $(seq 600); do
  ls "$tdir" | grep -q "^$gone" || break
  sleep 0.1
done
ls "$tdir" | grep -q "^$gone"; ok $((!$?)) "a kernel that left the catalog: its templates are removed at start"
wait_template 6

# A warm pool: clones restored ahead, taken by a create at once.
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
TEMPLATES=1 start_daemon "$TMP/d" --warm 2 --initramfs "$TMP/initramfs2.img" || bail "restart --warm"
warm_lines() { grep -c ': 2 warm$' "$TMP/d.log"; }
for _ in $(seq 300); do [ "$(warm_lines)" -ge 1 ] && break; sleep 0.1; done
is "$(warm_lines)" 1 "--warm 2: two clones are kept ready"
is "$("$C" ls -q | wc -l)" 0 "... and are not listed as sandboxes"
"$C" create --name hot >/dev/null
is "$(field hot boot)" "warm" "a create takes one (inspect: boot warm, in $(field hot boot_ms) ms)"
is "$("$C" exec hot -- hostname)" "hot" "... which is made the caller's (hostname)"
for _ in $(seq 300); do [ "$(warm_lines)" -ge 2 ] && break; sleep 0.1; done
is "$(warm_lines)" 2 "... and the pool refills"
"$C" rm -f hot >/dev/null
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
sleep 0.5
is "$(pgrep -f -- "sandboxd:$TMP/d/pool/" | wc -l)" 0 "the warm clones go when sandboxd stops"

# --warm clones are admitted against --max-memory like any sandbox (the
# template's RAM counted with them).
mark=$(wc -l <"$TMP/d.log")
since() { tail -n "+$((mark + 1))" "$TMP/d.log"; }
TEMPLATES=1 start_daemon "$TMP/d" --warm 2 --max-memory 540 --initramfs "$TMP/initramfs2.img" \
  || bail "restart --warm 2 --max-memory 540"
for _ in $(seq 300); do since | grep -q ': 1 warm$' && break; sleep 0.1; done
sleep 3
is "$(since | grep -c ': 1 warm$') $(since | grep -c ': 2 warm$')" "1 0" \
  "--warm 2 under --max-memory 540: one warm clone (256 MiB and the template's RAM), not two"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null

# Bounded: --max-templates 1 keeps one; a recurring shape's template takes
# the place of the least recently used.
TEMPLATES=1 start_daemon "$TMP/d" --max-templates 1 --initramfs "$TMP/initramfs2.img" \
  || bail "restart --max-templates 1"
"$C" create --name m1 --memory 288 >/dev/null && "$C" create --name m2 --memory 288 >/dev/null
for _ in $(seq 600); do grep -q "dropped for" "$TMP/d.log" && break; sleep 0.1; done
contains "$(grep 'dropped for' "$TMP/d.log")" "(--max-templates 1" "a recurring shape's template takes the default's place"
wait_template 7
is "$(ls "$tdir" | grep -c '\.vmstate$')" 1 "... one template's files are left"
is "$(templates)" "288:ready" "... and info lists it alone"
"$C" rm -f m1 m2 >/dev/null
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null

start_daemon "$TMP/d" || bail "restart"
"$C" create --name cold >/dev/null
is "$(field cold boot)" "cold" "--no-templates: cold boots"
tap_done
