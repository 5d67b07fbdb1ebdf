#!/usr/bin/env bash
# Reader benchmark (prints figures; never fails on speed, prints "below target").
#
# MB/s of each reader alone (every post collected, owned, no detection; best of three
# runs), per byte of plain input, against today's IRA CSV reader on the real IRA
# election-season file (decompressed once, so that every format is read from a plain
# file). The platform inputs are synthetic exports of BENCH_READER_MB megabytes each
# (default 50), written by scripts/bench_readers_gen.py in each export's layout. Target:
# every reader at least as fast per byte as the IRA reader.
#
# Environment: BENCH_READER_MB, BENCH_REPEAT (default 3).
set -euo pipefail
root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
ira_gz="$root/../shared/data/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz"
mb="${BENCH_READER_MB:-50}"
repeat="${BENCH_REPEAT:-3}"
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

run() { # format file -> prints the line, sets $speed
  local line
  line="$("$bin" "$1" "$2" "$repeat")"
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
done
[ "$below" = 0 ] && echo "bench-readers: every reader at least as fast per byte as the IRA reader" || true
