# lib.sh — TAP output and a private sandboxd for the shell tests.
# Sourced by tests/*.sh; meson passes the build directory as $1.

set -u
BUILD=${1:?usage: $0 BUILD_DIR}
SANDBOXD="$BUILD/daemon/sandboxd"
SANDBOXCTL="$BUILD/cli/sandboxctl"
# The guest sandboxd boots by default: its own kernel (kernel/) when that was
# built, else Debian's; SANDBOXD_TEST_GUEST=debian makes start_daemon pass
# Debian's (meson runs some suites a second time so).
if [ "${SANDBOXD_TEST_GUEST:-}" != debian ] && [ -f "$BUILD/kernel/sandbox-initramfs.kernel" ]; then
  GUEST="$BUILD/kernel/sandbox-initramfs"
else
  GUEST="$BUILD/guest-agent/sandbox-initramfs"
fi
INITRAMFS="$GUEST.img"
GUEST_KERNEL="$GUEST.kernel"
GUEST_RELEASE=$(cat "$GUEST.release")

tap_n=0
tap_failed=0
ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION
  tap_n=$((tap_n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $tap_n - $2"
  else
    echo "not ok $tap_n - $2"
    tap_failed=$((tap_failed + 1))
  fi
}
diag() { sed 's/^/# /' ; }
tap_done() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# Compares two strings; shows both on failure.
is() { # is GOT WANT DESCRIPTION
  if [ "$1" = "$2" ]; then ok 0 "$3"; else
    ok 1 "$3"
    printf 'got:  %s\nwant: %s\n' "$1" "$2" | diag
  fi
}

# contains HAYSTACK NEEDLE DESCRIPTION
contains() {
  case "$1" in
    *"$2"*) ok 0 "$3" ;;
    *) ok 1 "$3"; printf 'missing "%s" in:\n%s\n' "$2" "$1" | diag ;;
  esac
}

TMP=$(mktemp -d /tmp/sbxtest.XXXXXX)
daemon_pids=""
cleanup() {
  for p in $daemon_pids; do kill -TERM "$p" 2>/dev/null; done
  for p in $daemon_pids; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  # A test that killed its sandboxd may leave QEMUs behind: not ours to keep.
  pkill -KILL -f -- "sandboxd:$TMP/" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

# start_daemon DIR [sandboxd options...]: starts sandboxd (which stops its
# sandboxes on SIGTERM, unless KEEP_SANDBOXES=1), waits for its socket,
# exports SANDBOXD_ADDRESS. Its log is DIR.log (later starts append to it);
# its state dir (root images, templates) is $TMP/state, shared by every
# start. Sandboxes boot cold (--no-templates) unless TEMPLATES=1:
# vm-templates tests the clones, the other suites what they are about.
start_daemon() {
  local dir=$1; shift
  local opts=--stop-on-exit
  [ "${KEEP_SANDBOXES:-}" = 1 ] && opts=
  [ "${TEMPLATES:-}" = 1 ] || opts="$opts --no-templates"
  # A socket left by a sandboxd killed earlier would pass for the new one's
  # before it listens: wait for the new one's own.
  rm -f "$dir/rpc.sock"
  [ "${SANDBOXD_TEST_GUEST:-}" = debian ] && set -- --initramfs "$INITRAMFS" "$@"
  "$SANDBOXD" --runtime-dir "$dir" --state-dir "$TMP/state" $opts "$@" >>"$dir.log" 2>&1 &
  daemon_pids="$daemon_pids $!"
  DAEMON_PID=$!
  for _ in $(seq 200); do
    [ -S "$dir/rpc.sock" ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  export SANDBOXD_ADDRESS="ipc://$dir/rpc.sock"
  [ -S "$dir/rpc.sock" ]
}
