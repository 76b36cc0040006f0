#!/bin/bash
# The main job, from a fresh Debian 12 machine: set up, start a private
# sandboxd, run `uname -a` in a fresh microVM, show the guest's kernel next
# to the host's, stop the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null

dir=$(mktemp -d /tmp/sandboxd-demo.XXXXXX)
build/daemon/sandboxd --runtime-dir "$dir" --stop-on-exit 2>"$dir.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$dir" "$dir.log"' EXIT
for _ in $(seq 100); do [ -S "$dir/rpc.sock" ] && break; sleep 0.1; done
export SANDBOXD_ADDRESS="ipc://$dir/rpc.sock"
sed 's/^/  /' "$dir.log"

echo "\$ sandboxctl run --rm -- uname -a"
start=$(date +%s.%N)
guest=$(build/cli/sandboxctl run --rm -- uname -a)
took=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $start}")
echo "$guest"
echo
echo "guest kernel: $(echo "$guest" | awk '{print $3}')   (its own microVM, ${took}s from start to exit)"
echo "host kernel:  $(uname -r)"
