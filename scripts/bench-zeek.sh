#!/usr/bin/env bash
# Zeek conn.log throughput and memory of `scrutineer infra scan` (reading + every
# detector: beaconing, scans, probes, long connections, rare destinations): a conn.log
# is built by replaying the real labelled captures of ../shared (008 and 011, shifted in
# time and address so that every copy is new traffic from the same number of hosts), at
# LINES lines and at 4 x LINES lines. Prints lines per second and peak RSS of both runs;
# fails when the longer log's peak RSS exceeds the shorter one's by more than 1.5 x
# (memory must be flat in the log's length: per-pair state is bounded) plus 16 MiB.
#   LINES=250000 scripts/bench-zeek.sh      # the CI size; LINES=2000000 for a long run
set -euo pipefail

root="$(git rev-parse --show-toplevel)"
data="$root/../shared/data/infra/zeek-stratosphere"
lines="${LINES:-250000}"
src1="$data/008-zeek-mixed/data/conn.log.labeled"
src2="$data/011-zeek-mixed/data/conn.log.labeled"
for f in "$src1" "$src2"; do
  [ -f "$f" ] || { echo "bench-zeek: missing data file $f" >&2; exit 2; }
done
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi

cd "$root"
if [ -z "${SCRUTINEER_BIN:-}" ]; then
  cargo build --release -p scrutineer --quiet
  bin="$root/target/release/scrutineer"
else
  bin="$SCRUTINEER_BIN"
fi
work="$root/target/bench-zeek"
rm -rf "$work"
mkdir -p "$work"

# Copy k of the real connections keeps its hosts (so the number of pairs stays that of
# the captures) and moves its times on by k days: the log grows in length only.
make_log() {
  local n="$1" out="$2"
  awk -F'\t' -v OFS='\t' -v n="$n" '
    FNR == 1 { file++ }
    /^#/ { if (file == 1 && !done_header) print; next }
    { done_header = 1; rows[++m] = $0 }
    END {
      for (i = 0; i < n; i++) {
        split(rows[(i % m) + 1], f, "\t")
        k = int(i / m)
        f[1] = sprintf("%.6f", f[1] + k * 86400)
        line = f[1]
        for (j = 2; j <= length(f); j++) line = line "\t" f[j]
        print line
      }
    }' "$src1" "$src2" > "$out"
}

run() {
  local log="$1" out="$2"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v "$bin" --quiet infra scan "$log" --format zeek --no-store --out "$out" \
    > "$out.txt" 2> "$out.time"
  t1=$(date +%s.%N)
  local rss
  rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$out.time")
  echo "$(echo "$t1 - $t0" | bc -l) $rss"
}

small=$lines
large=$((lines * 4))
make_log "$small" "$work/small.log"
make_log "$large" "$work/large.log"
read -r ts rs < <(run "$work/small.log" "$work/small")
read -r tl rl < <(run "$work/large.log" "$work/large")
rows_small=$(($(wc -l < "$work/small/events.csv") - 1))
rows_large=$(($(wc -l < "$work/large/events.csv") - 1))
[ "$rows_small" -eq "$small" ] || { echo "bench-zeek: $rows_small rows for $small lines" >&2; exit 1; }
[ "$rows_large" -eq "$large" ] || { echo "bench-zeek: $rows_large rows for $large lines" >&2; exit 1; }
printf 'conn.log %9d lines: %6.2f s, %9.0f lines/s, peak RSS %7.1f MiB\n' "$small" "$ts" "$(echo "$small / $ts" | bc -l)" "$(echo "$rs / 1024" | bc -l)"
printf 'conn.log %9d lines: %6.2f s, %9.0f lines/s, peak RSS %7.1f MiB\n' "$large" "$tl" "$(echo "$large / $tl" | bc -l)" "$(echo "$rl / 1024" | bc -l)"
limit=$(echo "$rs * 1.5 + 16384" | bc -l)
if [ "$(echo "$rl > $limit" | bc -l)" = 1 ]; then
  echo "FAIL: peak RSS grew from $rs KiB to $rl KiB for 4 x the lines (limit $limit KiB)"
  exit 1
fi
echo "OK: peak RSS for 4 x the lines is $(echo "scale=2; $rl / $rs" | bc -l) x (limit 1.5 x + 16 MiB)"
