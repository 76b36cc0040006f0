#!/bin/bash
# Builds everything with ASan and UBSan in build-asan/ and runs the tests
# that boot no VM (and the VM suite too with --all). Any sanitizer report
# fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-asan >/dev/null
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
suites=(--no-suite vm --no-suite install)
[ "${1:-}" = --all ] && suites=()
meson test -C build-asan --print-errorlogs "${suites[@]}"
