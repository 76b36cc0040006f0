#!/bin/bash
# Disks hot-plugged into a running microVM over QMP (blockdev-add +
# device_add scsi-hd; device_del, DEVICE_DELETED, blockdev-del).
. "$(dirname "$0")/lib.sh"

start_daemon "$TMP/d" || { echo "Bail out! sandboxd did not start"; diag <"$TMP/d.log"; exit 1; }
rpc() { nanocat --req --connect "$SANDBOXD_ADDRESS" --ascii --recv-timeout 30 --data "$1" 2>&1; }
n=0
# guest SCRIPT: runs SCRIPT in sandbox hp, prints its stdout.
guest() {
  n=$((n + 1))
  local args
  args=$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')
  out=$(rpc "{\"id\":$n,\"method\":\"sandbox.v1.Processes.Exec\",\"params\":{\"sandbox_id\":\"hp\",\"args\":[\"sh\",\"-c\",\"$args\"]}}")
  local pid
  pid=$(printf '%s' "$out" | sed -n 's/.*"process_id":\([0-9]*\).*/\1/p')
  rpc "{\"id\":$n,\"method\":\"sandbox.v1.Processes.Wait\",\"params\":{\"sandbox_id\":\"hp\",\"process_id\":$pid}}" >/dev/null
  rpc "{\"id\":$n,\"method\":\"sandbox.v1.Processes.ReadOutput\",\"params\":{\"sandbox_id\":\"hp\",\"process_id\":$pid,\"stream\":\"stdout\"}}" |
    sed -n 's/.*"data":"\([^"]*\)".*/\1/p' | base64 -d
}
# Prefix of a guest script that waits for SCSI target T (append "T:0/block/ ...").
find_disk='for i in $(seq 100); do d=$(ls /sys/bus/scsi/devices/*:0:'

"$SANDBOXCTL" run --name hp -- true || { echo "Bail out! no sandbox"; exit 1; }
(printf 'DISK-MARKER-42\n'; head -c 1048560 /dev/zero) >"$TMP/disk.img"

out=$(rpc "{\"id\":1,\"method\":\"sandbox.v1.Sandboxes.AttachDisk\",\"params\":{\"id\":\"hp\",\"path\":\"$TMP/disk.img\"}}")
contains "$out" '"disk_id":"disk-0"' "AttachDisk hot-plugs a raw image as disk-0"
contains "$out" '"read_only":true' "... read-only by default"
contains "$out" '"scsi_id":0' "... at SCSI target 0"

got=$(guest "${find_disk}0:0/block/ 2>/dev/null) && break; sleep 0.1; done; head -c 14 /dev/\$d")
is "$got" "DISK-MARKER-42" "the guest reads the image's bytes from its new SCSI disk"
got=$(guest "${find_disk}0:0/block/ 2>/dev/null) && break; sleep 0.1; done; [ -n \"\$d\" ] || { echo no-disk; exit; }; echo ro=\$(cat /sys/block/\$d/ro); echo x | dd of=/dev/\$d 2>/dev/null && echo wrote || echo refused")
is "$got" "ro=1
refused" "... and cannot write to it (the guest sees it read-only)"
contains "$(rpc '{"id":9,"method":"sandbox.v1.Sandboxes.Get","params":{"id":"hp"}}')" '"path":"'"$TMP"'/disk.img"' "Get lists the disk"

out=$(rpc '{"id":2,"method":"sandbox.v1.Sandboxes.DetachDisk","params":{"id":"hp","disk_id":"disk-0"}}')
contains "$out" '"code":"OK"' "DetachDisk removes it (after DEVICE_DELETED)"
got=$(guest 'for i in $(seq 50); do ls /sys/bus/scsi/devices/ | grep -q ":0:0:0" || break; sleep 0.1; done; ls /sys/block | grep sd || echo none')
is "$got" "none" "... and the guest no longer has it"
contains "$(rpc '{"id":9,"method":"sandbox.v1.Sandboxes.Get","params":{"id":"hp"}}')" '"disks":[]' "... nor does Get"

out=$(rpc "{\"id\":3,\"method\":\"sandbox.v1.Sandboxes.AttachDisk\",\"params\":{\"id\":\"hp\",\"path\":\"$TMP/disk.img\",\"read_only\":false}}")
contains "$out" '"scsi_id":0' "a disk attached again reuses the free SCSI target"
got=$(guest "${find_disk}0:0/block/ 2>/dev/null) && break; sleep 0.1; done; printf CHANGED | dd of=/dev/\$d conv=notrunc 2>/dev/null; sync; echo done")
is "$got" "done" "a writable disk takes the guest's writes"
is "$(head -c 7 "$TMP/disk.img")" "CHANGED" "... which reach the image on the host"

out=$(rpc "{\"id\":4,\"method\":\"sandbox.v1.Sandboxes.AttachDisk\",\"params\":{\"id\":\"hp\",\"path\":\"$TMP/no-such.img\"}}")
contains "$out" '"code":"NOT_FOUND"' "attaching a missing image is NOT_FOUND"
contains "$out" "disk image $TMP/no-such.img: No such file or directory" "... naming it"
out=$(rpc '{"id":5,"method":"sandbox.v1.Sandboxes.DetachDisk","params":{"id":"hp","disk_id":"disk-9"}}')
contains "$out" 'sandbox hp has no disk \"disk-9\"' "detaching an unknown disk is refused by name"
out=$(rpc "{\"id\":6,\"method\":\"sandbox.v1.Sandboxes.AttachDisk\",\"params\":{\"id\":\"hp\",\"path\":\"$TMP\"}}")
contains "$out" 'is not a regular file or block device' "a directory is not a disk image"
# Named files are opened once, without blocking and through no final link.
mkfifo "$TMP/fifo.img"
out=$(rpc "{\"id\":7,\"method\":\"sandbox.v1.Sandboxes.AttachDisk\",\"params\":{\"id\":\"hp\",\"path\":\"$TMP/fifo.img\",\"read_only\":true}}")
contains "$out" 'is not a regular file or block device' "a FIFO is refused at once, not waited on"
ln -s "$TMP/disk.img" "$TMP/link.img"
out=$(rpc "{\"id\":8,\"method\":\"sandbox.v1.Sandboxes.AttachDisk\",\"params\":{\"id\":\"hp\",\"path\":\"$TMP/link.img\"}}")
contains "$out" 'a symbolic link (refused' "a symlink is refused, naming why"
contains "$(rpc '{"id":9,"method":"sandbox.v1.System.Ping","params":{}}')" '"code":"OK"' "... and sandboxd still answers"

tap_done
