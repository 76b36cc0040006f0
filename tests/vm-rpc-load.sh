#!/bin/bash
# Many clients while a sandbox boots (see rpc-load.c).
. "$(dirname "$0")/lib.sh"
start_daemon "$TMP/d" || { echo "Bail out! sandboxd did not start"; exit 1; }
"$BUILD/tests/rpc-load" "$SANDBOXD_ADDRESS"
