#!/usr/bin/env bash
# Run the benchmark suite with a hard overall time limit.
#   bash bench/run.sh [run.mjs options]      e.g.  bash bench/run.sh --quick
# Expects dist/ to be built (`npm run bench` runs `npm run build` first).
# BENCH_TIMEOUT_S bounds the whole run (default 465 s, 55 s with --quick); run.mjs
# also stops scheduling new runs after --budget-s (430 s, 45 s with --quick) and
# still writes what it measured.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
limit=465
for arg in "$@"; do
  if [ "$arg" = "--quick" ]; then limit=55; fi
done
# The memory scenario needs ~5,200 descriptors per process; raise the soft limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
exec timeout -k 5 "${BENCH_TIMEOUT_S:-$limit}" node "$here/run.mjs" "$@"
