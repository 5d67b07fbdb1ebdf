#!/usr/bin/env bash
# Reader benchmark (prints figures and "below target"; fails on speed only with BENCH_READER_GATE=1).
#
# MB/s of each reader alone (every post collected, owned, no detection; the best of at
# least BENCH_REPEAT runs, read again until BENCH_MIN_SECONDS have been spent on the file),
# per byte of plain input, against today's IRA CSV reader on the real IRA election-season
# file (decompressed once, so that every format is read from a plain
# file). The platform inputs are synthetic exports of BENCH_READER_MB megabytes each
# (default 50), written by scripts/bench_readers_gen.py in each export's layout. Target:
# every reader at least as fast per byte as the IRA reader.
#
# Environment: BENCH_READER_MB, BENCH_REPEAT (default 5), BENCH_MIN_SECONDS (default 2),
# BENCH_READER_GATE=1 (fail when a format's ratio to the IRA reader falls below its floor in
# `floor` below).
set -euo pipefail
root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
ira_gz="$root/../shared/data/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz"
mb="${BENCH_READER_MB:-50}"
repeat="${BENCH_REPEAT:-5}"
min_seconds="${BENCH_MIN_SECONDS:-2}"
work="$root/target/bench/readers"
mkdir -p "$work"
if [ ! -f "$ira_gz" ]; then
  echo "bench-readers: missing $ira_gz (the shared data must sit beside the repository)" >&2
  exit 2
fi
command -v python3 >/dev/null || { apt-get update && apt-get install -y python3; }
[ -f "$work/ira.csv" ] || gzip -dc "$ira_gz" >"$work/ira.csv"
# The exports are regenerated when the size asked for, or the generator, is not what made
# the files on disk.
stamp="$work/.generated"
want="$mb $(sha256sum "$root/scripts/bench_readers_gen.py" | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 "$root/scripts/bench_readers_gen.py" "$work" "$mb"
  echo "$want" >"$stamp"
fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p scrutineer-influence --example read_speed
bin="$root/target/release/examples/read_speed"

# Each format's floor: 0.6 of its ratio to the IRA reader measured at 5 MB (the CI size) on
# the 2-core build machine, a 40% tolerance for run-to-run noise on that shared machine
# (figures moved by up to ±30% between runs). telegram-html measured 0.74: below the target
# of 1, its floor only keeps it from falling further. The best of three runs of a 5 MB file
# (20 to 40 ms each) once fell to 0.6 of the reader's speed on a busy machine; the best of
# every run within BENCH_MIN_SECONDS filters out such stalls.
floor() {
  case "$1" in
    telegram) echo 0.76 ;;
    telegram-html) echo 0.44 ;;
    telethon) echo 0.78 ;;
    reddit) echo 0.75 ;;
    reddit-export) echo 0.96 ;;
    bluesky) echo 0.88 ;;
    bluesky-car) echo 0.70 ;;
    bluesky-firehose) echo 1.54 ;;
    meta) echo 0.83 ;;
    crowdtangle) echo 1.09 ;;
    tiktok) echo 0.69 ;;
    youtube) echo 1.33 ;;
    4cat:4cat.csv) echo 0.62 ;;
    4cat:4cat.ndjson) echo 0.69 ;;
    *) echo 0 ;;
  esac
}
failed=""

run() { # format file -> prints the line, sets $speed
  local line
  line="$("$bin" "$1" "$2" "$repeat" "$min_seconds")"
  speed="${line##*mb_per_s=}"
  printf '%-12s %-20s %s\n' "$1" "$(basename "$2")" "$line"
}

run ira "$work/ira.csv"
ira_speed="$speed"
below=0
for pair in telegram:result.json telegram-html:messages.html telethon:telethon.jsonl reddit:RC_2024-10.ndjson \
  reddit-export:reddit-export/comments.csv bluesky:jetstream.jsonl bluesky-car:repo.car bluesky-firehose:firehose.bin \
  meta:meta.csv crowdtangle:crowdtangle.csv tiktok:tiktok.jsonl youtube:youtube.jsonl \
  4cat:4cat.csv 4cat:4cat.ndjson; do
  run "${pair%%:*}" "$work/${pair#*:}"
  ratio=$(awk -v a="$speed" -v b="$ira_speed" 'BEGIN { printf "%.2f", a / b }')
  if awk -v r="$ratio" 'BEGIN { exit !(r < 1) }'; then
    echo "  ${pair%%:*}: ${ratio}x the IRA reader's MB/s: below target"
    below=1
  else
    echo "  ${pair%%:*}: ${ratio}x the IRA reader's MB/s"
  fi
  case "$pair" in 4cat:*) key="$pair" ;; *) key="${pair%%:*}" ;; esac
  min="$(floor "$key")"
  if awk -v r="$ratio" -v m="$min" 'BEGIN { exit !(r < m) }'; then
    failed="$failed ${key}(${ratio}x < ${min}x)"
  fi
done
if [ -n "$failed" ]; then
  echo "bench-readers: below the floor:$failed"
  [ "${BENCH_READER_GATE:-0}" = 1 ] && exit 1
fi
[ "$below" = 0 ] && echo "bench-readers: every reader at least as fast per byte as the IRA reader" || true
