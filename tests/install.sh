#!/bin/bash
# meson install lays everything out where the unit, the D-Bus files and the
# daemon itself look for it.
. "$(dirname "$0")/lib.sh"

DEST=$TMP/inst
meson install -C "$BUILD" --destdir "$DEST" --no-rebuild --quiet >"$TMP/install.log" 2>&1
ok $? "meson install into DESTDIR succeeds"
prefix=$(meson introspect "$BUILD" --buildoptions | python3 -c "
import json,sys
print([o['value'] for o in json.load(sys.stdin) if o['name']=='prefix'][0])")
P=$DEST$prefix

for f in bin/sandboxd bin/sandboxctl bin/sandbox-runtime; do
  [ -x "$P/$f" ]; ok $? "$f is installed and executable"
done
# The runtime finds the sandboxctl installed beside it.
libdir=$(dirname "$(find "$DEST" -name 'libsandboxd-client.so*' | head -n 1)")
contains "$(LD_LIBRARY_PATH=$libdir "$P/bin/sandbox-runtime" --version)" "spec: 1.0.2" \
  "sandbox-runtime runs from the install"
unit=$(find "$DEST" -name sandboxd.service)
[ -n "$unit" ]; ok $? "the systemd unit is installed"
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$DEST$exe" ]; ok $? "the unit's ExecStart ($exe) is the installed daemon"
grep -q '^BusName=org.sandboxd.Daemon1$' "$unit"; ok $? "... and it is Type=dbus on the daemon's name"
svc=$(find "$DEST" -path '*dbus-1/system-services/org.sandboxd.Daemon1.service')
[ -n "$svc" ]; ok $? "the D-Bus activation file is installed in system-services"
exe=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$svc")
[ -x "$DEST$exe" ]; ok $? "its Exec ($exe) is the installed daemon"
grep -q '^SystemdService=sandboxd.service$' "$svc"; ok $? "... and it names the systemd unit"
[ -n "$(find "$DEST" -path '*dbus-1/system.d/org.sandboxd.Daemon1.conf')" ]; ok $? "the bus policy is installed"

# The installed daemon looks for its initramfs where meson put it: run from
# the DESTDIR (with the installed policies, which it reads first), it names
# the prefix path it wants, which must be there under DESTDIR.
pol=$P/share/sandboxd/policies
[ -f "$pol/default.json" ] && [ -f "$pol/qemu-x86_64.syscalls" ]; ok $? "the policies are installed"
out=$("$P/bin/sandboxd" --runtime-dir "$TMP/rt" --policy-dir "$pol" 2>&1)
img=$(printf '%s' "$out" | sed -n 's/.*guest initramfs \([^:]*\):.*/\1/p')
[ -n "$img" ] && [ -f "$DEST$img" ]
ok $? "the installed daemon's default initramfs (${img:-none named: $out}) is installed there"
[ -f "$(dirname "$DEST$img")/sandbox-initramfs.release" ]
ok $? "... with the release of its kernel next to it"
[ -s "$(dirname "$DEST$img")/sandbox-initramfs.kernel" ]
ok $? "... and that kernel as QEMU boots it (mkkernel.py)"
[ -x "$(dirname "$DEST$img")/sandbox-agent" ]; ok $? "the agent is installed in libexec"
if [ -f "$BUILD/kernel/sandbox-initramfs.kernel" ]; then
  own=$(dirname "$DEST$img")/kernel
  [ -s "$own/sandbox-initramfs.kernel" ] && [ -s "$own/sandbox-initramfs.img" ] &&
    [ "$(cat "$own/sandbox-initramfs.release")" = "$(cat "$BUILD/kernel/sandbox-initramfs.release")" ]
  ok $? "sandboxd's own kernel, its initramfs and release are installed in libexec/kernel"
fi

pc=$(find "$DEST" -name sandboxd-client.pc)
[ -n "$pc" ]; ok $? "the client library's pkg-config file is installed"
libs=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --define-prefix --libs sandboxd-client 2>&1)
contains "$libs" "-lsandboxd-client" "... and gives -lsandboxd-client"
[ -f "$P/include/sandboxd/rpc-client.h" ]; ok $? "the client header is installed"
[ -n "$(find "$P" -name 'libsandboxd-client.so.*')" ]; ok $? "the client library is installed"
[ -f "$P/share/man/man8/sandboxd.8" ] && [ -f "$P/share/man/man1/sandboxctl.1" ]; ok $? "man pages for sandboxd and sandboxctl"
[ -f "$P/share/bash-completion/completions/sandboxctl" ]; ok $? "bash completion for sandboxctl"
tap_done
