#!/bin/bash
# Sets up like demo.sh, then runs every test (the "vm" suite boots real
# microVMs). Extra arguments go to meson test, e.g. --suite unit.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
meson test -C build --print-errorlogs "$@"
