#!/bin/bash
# bench/run.sh [--quick]: sandboxd's speed next to the layer beneath it,
# measured side by side in one run (see the README's "Benchmarks"). Not a
# test: it asserts only that every figure was produced. --quick: one
# repetition of each, smaller sizes (what CI runs so this cannot rot).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=()
case "${1:-}" in
  --quick) quick=(--quick) ;;
  "") ;;
  *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac
./scripts/setup.sh >/dev/null
[ -f build/bench/ga-initramfs.img ] || {
  echo "bench: build/bench/ga-initramfs.img is missing (qemu-ga not installed?)" >&2; exit 1; }

dir=$(mktemp -d /tmp/sandboxd-bench.XXXXXX)
# Cold boots: the figures measure what they always did; bench.py starts a
# second sandboxd with templates for theirs.
build/daemon/sandboxd --runtime-dir "$dir" --state-dir "$dir/state" --stop-on-exit --no-templates \
  2>"$dir.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$dir" "$dir.log" /tmp/sandboxd-bench.*' EXIT
for _ in $(seq 100); do [ -S "$dir/rpc.sock" ] && break; sleep 0.1; done
export SANDBOXD_ADDRESS="ipc://$dir/rpc.sock"

echo "bench: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB," \
  "$(build/cli/sandboxctl version | sed -n 's/.*accelerator \([a-z]*\).*/\1/p')"
out=$(python3 bench/bench.py --build build --daemon-pid "$daemon" "${quick[@]}" | tee >(cat >&2))
missing=0
for f in cold_start exec_roundtrip_p50 exec_roundtrip_p99 stream stream_head rpc_1threads rpc_16threads \
  memory concurrency burst exec_inproc_p50 rpc_tenants image_build container_start net_http net_rr \
  cold_start_net tty_echo oci_run \
  template_start density run_true warm_start volume_write volume_read volume_untar volume_start \
  $([ -f build/kernel/sandbox-initramfs.kernel ] && echo cold_start_own memory_debian); do
  grep -q "^$f: " <<<"$out" || { echo "bench: no figure for $f" >&2; missing=1; }
done
exit $missing
