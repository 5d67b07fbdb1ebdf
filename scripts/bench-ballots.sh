#!/usr/bin/env bash
# Benchmark: reconcile N issued ballots with their returns (default 20 M, California 2020's
# size; target < 60 s and < 8 GiB peak RSS on 2 cores), with and without the ledger, and
# ledger appends per second at each durability setting.
# Scale: SCRUTINEER_BENCH_VOTERS (roll size; issued is about 0.79 x voters at the default
# mail share), SCRUTINEER_BENCH_LEDGER_ENTRIES.
# Disk: at the default size about 13 GB in target/bench-ballots at the peak (5.7 GB of CSV
# and a 7.4 GiB ledger); the ledger is deleted once its size is printed.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
cd "$ROOT"
VOTERS="${SCRUTINEER_BENCH_VOTERS:-25300000}"
LEDGER_N="${SCRUTINEER_BENCH_LEDGER_ENTRIES:-200000}"
cargo build --release -q -p scrutineer
BIN="$ROOT/target/release/scrutineer"
WORK="$ROOT/target/bench-ballots"
rm -rf "$WORK"; mkdir -p "$WORK"
echo "cores: $(nproc)"
/usr/bin/time -f "generate: %e s, peak RSS %M KB" "$BIN" --quiet simulate ballots --seed 1 --voters "$VOTERS" --mail-share 0.9 --out "$WORK/in"
issued=$(($(wc -l < "$WORK/in/issued.csv") - 1)); receipts=$(($(wc -l < "$WORK/in/returns.csv") - 1))
echo "issued envelopes: $issued, receipts: $receipts, roll: $(($(wc -l < "$WORK/in/roll.csv") - 1))"
run() {
  local label="$1"; shift
  /usr/bin/time -v "$BIN" --quiet --store "$WORK/s.db" ballots reconcile --roll "$WORK/in/roll.csv" --issued "$WORK/in/issued.csv" \
    --returns "$WORK/in/returns.csv" --checkins "$WORK/in/checkins.csv" --deadline 2020-11-03T19:30:00 --out "$WORK/out" "$@" \
    > "$WORK/$label.out" 2> "$WORK/$label.time"
  local secs rss
  secs=$(grep "Elapsed (wall clock)" "$WORK/$label.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$WORK/$label.time" | awk '{print $NF}')
  echo "reconcile $label: wall $secs, peak RSS $((rss / 1024)) MiB ($issued issued)"
}
run "without-ledger" --no-ledger
run "with-ledger" --ledger "$WORK/bench.ledger" --ledger-key "$WORK/keys/bench.key" --fsync commit
ls -l "$WORK/bench.ledger" | awk '{printf "ledger file: %.1f GiB\n", $5/1073741824}'
rm -f "$WORK/bench.ledger"*
for mode in never commit always; do
  n="$LEDGER_N"; [ "$mode" = always ] && n=$((LEDGER_N / 20))
  "$BIN" --quiet ledger bench --ledger "$WORK/scratch.ledger" --entries "$n" --fsync "$mode" --batch 1000
done
