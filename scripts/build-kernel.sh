#!/bin/bash
# Sets up like demo.sh, plus sandboxd's own guest kernel (kernel/): Debian's
# linux-source-6.1 built with kernel/sandbox.config, a few minutes the first
# time, cached after (~/.cache/sandboxd/kernel). sandboxd then boots it.
set -euo pipefail
cd "$(dirname "$0")/.."
SANDBOXD_OWN_KERNEL=1 ./scripts/setup.sh
cat build/kernel/sandbox-initramfs.release
