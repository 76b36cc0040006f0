#!/bin/bash
# Builds the libFuzzer targets with clang, ASan and UBSan in build-fuzz/
# and runs each for SECONDS (default 30), starting from tests/fuzz/corpus.
# Any crash, leak or sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
if ! command -v clang >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "fuzz: clang is missing (apt-get install clang)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang libclang-rt-dev >/dev/null
fi
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dvm_tests=disabled >/dev/null
fi
targets=(qmp-client rpc-request agent-frames container-spec guest-text)
ninja -C build-fuzz $(printf 'tests/fuzz/fuzz-%s ' "${targets[@]}") >/dev/null
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  cp tests/fuzz/corpus/"$t"/* "$work"/
  echo "fuzz: $t for ${seconds}s"
  if ! build-fuzz/tests/fuzz/fuzz-"$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -print_final_stats=1 "$work" >"$work.log" 2>&1; then
    tail -50 "$work.log"
    echo "fuzz: $t FAILED"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|Done" "$work.log" | sed "s/^/fuzz: $t: /"
  rm -rf "$work" "$work.log"
done
echo "fuzz: all targets ran clean"
