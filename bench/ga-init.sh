#!/bin/sh
# /init of the baseline guest for bench/: QEMU's own agent (qemu-ga) with
# the same kernel and modules as a sandbox, and a second port, bench.0, for
# raw virtio-serial throughput.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
while read -r m; do insmod "$m"; done </lib/modules/sandbox-modules.list
# The network sandboxd would give it (sandboxd.net=ADDRESS/PREFIX,GATEWAY,MTU).
for w in $(cat /proc/cmdline); do case $w in sandboxd.net=*) net=${w#sandboxd.net=} ;; esac; done
if [ -n "${net:-}" ]; then
  while read -r m; do insmod "$m"; done </lib/modules/sandbox-net-modules.list
  set -- $(echo "$net" | tr , ' ')
  ip link set lo up
  ip addr add "$1" dev eth0
  ip link set eth0 mtu "$3" up
  ip route add default via "$2"
fi
mkdir -p /dev/virtio-ports
i=0
while [ $i -lt 200 ]; do
  for p in /sys/class/virtio-ports/*; do
    [ -e "$p/name" ] && ln -sf "/dev/${p##*/}" "/dev/virtio-ports/$(cat "$p/name")"
  done
  [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ] && [ -e /dev/virtio-ports/bench.0 ] && break
  i=$((i + 1))
  sleep 0.05
done
exec /usr/sbin/qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 \
  -t /tmp -f /tmp/qemu-ga.pid
