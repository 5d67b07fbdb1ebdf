#!/usr/bin/env bash
# Benchmark: a ballot-comparison audit at state scale (default 10 million cards, 50
# contests, 64 counties, card-style data): start (manifest checks and tabulation), the
# first round drawn with Colorado's sizes (a consistent-sampler ticket for every card),
# retrieval lists written (CSV and printable HTML), every drawn card read and the risk of
# every contest measured. Prints the seconds of each step and the peak memory.
# Scale: SCRUTINEER_BENCH_CARDS, SCRUTINEER_BENCH_CONTESTS, SCRUTINEER_BENCH_JURISDICTIONS.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
cd "$ROOT"
CARDS="${SCRUTINEER_BENCH_CARDS:-10000000}"
CONTESTS="${SCRUTINEER_BENCH_CONTESTS:-50}"
JURISDICTIONS="${SCRUTINEER_BENCH_JURISDICTIONS:-64}"
WORK="$ROOT/target/bench-audit-comparison"
rm -rf "$WORK"; mkdir -p "$WORK"
cargo build --release -q -p scrutineer-audit --example bench_comparison
/usr/bin/time -f "peak RSS %M KB (CVRs held in memory), wall %e s" \
  "$ROOT/target/release/examples/bench_comparison" "$CARDS" "$CONTESTS" "$JURISDICTIONS" "$WORK"
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
