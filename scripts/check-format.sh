#!/bin/bash
# Fails if any C file is not as clang-format (.clang-format) writes it.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
for f in $(git ls-files '*.c' '*.h'); do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "not formatted: $f (clang-format -i $f)"; bad=1; }
done
exit $bad
