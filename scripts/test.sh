#!/bin/bash
# Sets up like demo.sh, then runs every test (the "vm" suite boots real
# microVMs). Extra arguments go to meson test, e.g. --suite unit.
set -euo pipefail
cd "$(dirname "$0")/.."
# The suites boot sandboxd's own guest kernel (built once, then cached);
# vm-run and vm-containers run on Debian's kernel too.
SANDBOXD_OWN_KERNEL=1 ./scripts/setup.sh
meson test -C build --print-errorlogs "$@"
