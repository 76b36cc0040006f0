#!/bin/bash
# Guest kernels by name: the catalog (sandboxctl kernels), two sandboxes on
# two kernel releases at once, an OCI bundle's annotations choosing one and
# its oldest release, and the wrong names, releases and files, each refused
# saying which. Registered when sandboxd's own kernel is built (two kernels).
. "$(dirname "$0")/lib.sh"
bail() { echo "Bail out! $1"; diag <"$TMP/d.log"; exit 1; }
RUNTIME="$BUILD/oci/sandbox-runtime"
OWN="$BUILD/kernel/sandbox-initramfs"
DEB="$BUILD/guest-agent/sandbox-initramfs"
OWN_RELEASE=$(cat "$OWN.release")
DEB_RELEASE=$(cat "$DEB.release")
start_daemon "$TMP/d" || bail "sandboxd did not start"

out=$("$SANDBOXCTL" kernels)
contains "$out" "sandboxd         $OWN_RELEASE" "kernels lists sandboxd's own kernel with its release"
contains "$out" "debian           $DEB_RELEASE" "... and Debian's"
is "$("$SANDBOXCTL" kernels | awk '$NF == "yes" {print $1}')" "sandboxd" "... sandboxd's own is the default"
json=$("$SANDBOXCTL" --json kernels)
contains "$json" "\"initramfs\" : \"$DEB.img\"" "--json names each kernel's files"
out=$("$SANDBOXCTL" version)
contains "$out" "guest kernel sandboxd $OWN_RELEASE)" "version names the default kernel and its release"
contains "$out" "guest kernels: sandboxd debian" "... and the kernels there are"

# Two sandboxes, two kernels, at once.
"$SANDBOXCTL" create --name k-own >/dev/null || bail "create k-own"
"$SANDBOXCTL" create --name k-deb --kernel debian >/dev/null || bail "create k-deb"
is "$("$SANDBOXCTL" exec k-own -- uname -r)" "$OWN_RELEASE" "a sandbox boots the default kernel"
is "$("$SANDBOXCTL" exec k-deb -- uname -r)" "$DEB_RELEASE" "--kernel debian boots Debian's, alongside"
info=$("$SANDBOXCTL" inspect k-deb)
contains "$info" '"kernel" : "debian"' "inspect names its kernel"
contains "$info" "\"kernel_release\" : \"$DEB_RELEASE\"" "... and the release its guest reports"
"$SANDBOXCTL" rm -f k-own k-deb >/dev/null

out=$("$SANDBOXCTL" run --rm --name k-none --kernel nope -- true 2>&1)
rc=$?
[ $rc -ne 0 ]; ok $? "an unknown kernel is an error (exit $rc)"
contains "$out" 'no guest kernel named "nope" (there are: sandboxd, debian' "... naming the kernels there are"
is "$("$SANDBOXCTL" ls -q k-none)" "" "... and nothing is created"

api() { # api JSON-PARAMS: Sandboxes.Create's answer
  nanocat --req --connect "$SANDBOXD_ADDRESS" --ascii --recv-timeout 60 \
    --data "{\"id\":1,\"method\":\"sandbox.v1.Sandboxes.Create\",\"params\":$1}" 2>&1 | head -c 2000
}
out=$(api '{"name":"k-min","kernel_min":"99.1"}')
contains "$out" "FAILED_PRECONDITION" "kernel_min newer than the kernel: FAILED_PRECONDITION"
contains "$out" "guest kernel sandboxd is release $OWN_RELEASE, older than the 99.1 asked for" "... naming both"
out=$(api '{"name":"k-min","kernel_min":"six"}')
contains "$out" "INVALID_ARGUMENT" "a kernel_min that is no release: INVALID_ARGUMENT"

# An OCI bundle chooses by annotation.
bundle() { # bundle DIR ANNOTATIONS-JSON
  mkdir -p "$1/rootfs" && tar -xf "$BUILD/guest-agent/sandbox-rootfs.tar" -C "$1/rootfs"
  printf '{"ociVersion": "1.0.2", "process": {"args": ["uname", "-r"], "cwd": "/"}, "root": {"path": "rootfs"}, "annotations": %s}\n' \
    "$2" >"$1/config.json"
}
R=("$RUNTIME" --root "$TMP/oci" --log "$TMP/oci.log")
bundle "$TMP/b1" '{"org.sandboxd.kernel": "debian", "org.sandboxd.kernel.min": "6.1"}'
out=$("${R[@]}" run --bundle "$TMP/b1" oci-deb 2>&1)
is "$out" "$DEB_RELEASE" "a bundle's org.sandboxd.kernel chooses its kernel (min 6.1 met)"
bundle "$TMP/b2" '{"org.sandboxd.kernel.min": "7.0"}'
out=$("${R[@]}" run --bundle "$TMP/b2" oci-new 2>&1)
rc=$?
[ $rc -ne 0 ]; ok $? "org.sandboxd.kernel.min above the kernel's release: the create fails (exit $rc)"
contains "$out" "older than the 7.0 asked for" "... saying why"

# Templates are kept per kernel: a shape on Debian's kernel that recurs
# gets a template of its own, and its clones boot that kernel.
TEMPLATES=1 start_daemon "$TMP/t" || bail "sandboxd with templates"
for i in 1 2; do "$SANDBOXCTL" create --name "kt$i" --kernel debian >/dev/null || bail "create kt$i"; done
for _ in $(seq 600); do
  [ "$(grep -c 'template .*: ready (' "$TMP/t.log")" -ge 2 ] && break
  sleep 0.1
done
"$SANDBOXCTL" create --name kt3 --kernel debian >/dev/null || bail "create kt3"
info=$("$SANDBOXCTL" inspect kt3)
contains "$info" '"boot" : "template"' "a recurring shape on another kernel gets a template: its next sandbox is a clone"
is "$("$SANDBOXCTL" exec kt3 -- uname -r)" "$DEB_RELEASE" "... of that kernel"
"$SANDBOXCTL" create --name kt4 >/dev/null || bail "create kt4"
is "$("$SANDBOXCTL" exec kt4 -- uname -r)" "$OWN_RELEASE" "... while the default kernel's template still gives its own"
is "$(ls "$TMP/state/templates" | grep -c '\.vmstate$')" 2 "... two templates, one per kernel"
"$SANDBOXCTL" rm -f kt1 kt2 kt3 kt4 >/dev/null
export SANDBOXD_ADDRESS="ipc://$TMP/d/rpc.sock"

# The operator's kernels: DIR/NAME/{kernel,initramfs.img,release}.
kdir() { # kdir DIR NAME KERNEL INITRAMFS RELEASE
  mkdir -p "$1/$2" && cp "$3" "$1/$2/kernel" && cp "$4" "$1/$2/initramfs.img" && echo "$5" >"$1/$2/release"
}
kdir "$TMP/kd" mine "$DEB.kernel" "$DEB.img" "$DEB_RELEASE"
start_daemon "$TMP/d2" --kernels-dir "$TMP/kd" --default-kernel mine || bail "sandboxd --kernels-dir"
out=$("$SANDBOXCTL" kernels)
contains "$out" "mine             $DEB_RELEASE" "--kernels-dir adds the operator's kernels"
is "$("$SANDBOXCTL" kernels | awk '$NF == "yes" {print $1}')" "mine" "--default-kernel makes one the default"
export SANDBOXD_ADDRESS="ipc://$TMP/d/rpc.sock"

refused() { # refused DESCRIPTION NEEDLE sandboxd-options...: sandboxd will not start
  local what=$1 needle=$2
  shift 2
  out=$(timeout 30 "$SANDBOXD" --runtime-dir "$TMP/bad" --state-dir "$TMP/state" "$@" 2>&1)
  local rc=$?
  [ $rc -ne 0 ] && [ $rc -ne 124 ]
  ok $? "$what: sandboxd refuses to start (exit $rc)"
  contains "$out" "$needle" "... saying which file and why"
}
kdir "$TMP/k1" junk /etc/hostname "$DEB.img" "$DEB_RELEASE"
refused "a kernel that is no kernel" "guest kernel junk: kernel $TMP/k1/junk/kernel: not a kernel" \
  --kernels-dir "$TMP/k1"
kdir "$TMP/k2" other "$DEB.kernel" "$DEB.img" "$OWN_RELEASE"
refused "a kernel of another release than its initramfs' modules" \
  "is not release $OWN_RELEASE" --kernels-dir "$TMP/k2"
kdir "$TMP/k3" noinit "$DEB.kernel" "$DEB.img" "$DEB_RELEASE"
rm "$TMP/k3/noinit/initramfs.img"
refused "a missing initramfs" "initramfs $TMP/k3/noinit/initramfs.img: no such file" \
  --kernels-dir "$TMP/k3"
kdir "$TMP/k4" Bad "$DEB.kernel" "$DEB.img" "$DEB_RELEASE"
refused "a name with capitals" 'guest kernel name "Bad"' --kernels-dir "$TMP/k4"
refused "an unknown --default-kernel" "--default-kernel nope: no such guest kernel (there are: sandboxd, debian)" \
  --default-kernel nope
tap_done
