#!/bin/bash
# Installs what sandboxd needs on Debian 12 (only what is missing) and
# builds it into build/. Used by demo.sh, test.sh and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  meson ninja-build pkg-config gcc libc6-dev python3 clang-format
  libglib2.0-dev libjson-glib-dev libnanomsg-dev libseccomp-dev libssl-dev
  # build: the user network's helper (network/sandbox-slirp)
  libslirp-dev
  # run: QEMU, the guest kernel, the guest userland; containers' root
  # images (mkfs.erofs), tarballs of roots (tar)
  qemu-system-x86 linux-image-cloud-amd64 busybox-static erofs-utils tar
  # build: the guest kernel unpacked for a direct boot (Debian's is lz4)
  lz4
  # run: ip and tc for --network ns:PATH
  iproute2
  # tests: a nanomsg client we did not write, cpio for a hand-made guest,
  # pgrep, a private D-Bus bus and gdbus to call it
  nanomsg-utils cpio procps dbus-daemon libglib2.0-bin
  # tests: curl on published ports; runc's canonical config.json (runc
  # spec); podman driving sandbox-runtime
  curl runc podman
  # bench/: QEMU's own guest agent, the baseline for exec and streaming
  qemu-guest-agent
)
# sandboxd's own guest kernel (kernel/; scripts/build-kernel.sh, test.sh):
# Debian's source of the cloud kernel's release and what building it takes.
if [ "${SANDBOXD_OWN_KERNEL:-}" = 1 ]; then
  PACKAGES+=(linux-source-6.1 make bc bison flex libelf-dev xz-utils binutils)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing; run as root, or install them: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# QEMU runs as an unprivileged system user (policies/default.json), and
# the group sandboxd may call the daemon over D-Bus.
if [ "$(id -u)" -eq 0 ]; then
  getent group sandboxd >/dev/null || groupadd --system sandboxd
  getent passwd sandboxd-qemu >/dev/null ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      --user-group sandboxd-qemu
  # The admin's named volumes are served as this user and its files are
  # its (sandboxd --volume-user): never root.
  getent passwd sandboxd-volume >/dev/null ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      --user-group sandboxd-volume
fi

if [ ! -f build/build.ninja ]; then
  opts=()
  [ "${CI:-}" = true ] && opts+=(-Dwerror=true)
  meson setup build "${opts[@]}"
fi
if [ "${SANDBOXD_OWN_KERNEL:-}" = 1 ]; then
  meson configure build -Down_kernel=true
fi
ninja -C build
