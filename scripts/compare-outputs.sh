#!/usr/bin/env bash
# Runs the same commands with two builds of scrutineer and compares every output file
# byte for byte: the demo (plain and --evasive, every engine), the influence scan of the
# real IRA file, the infra learn and scan of the real CSIC 2010 files, and the findings
# exports of each demo's store. A restructuring must leave all of them identical.
#
#   scripts/compare-outputs.sh BEFORE_BIN AFTER_BIN [WORK_DIR]
#
# Left out of the comparison, because they differ from one run to the next whatever the
# build: the stores themselves (SQLite pages, run times), the ledger's signed heads and
# keys, the logs folder (durations), and the report's generation time line.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -ge 2 ] || { echo "usage: $0 BEFORE_BIN AFTER_BIN [WORK_DIR]" >&2; exit 2; }
before="$(realpath "$1")"
after="$(realpath "$2")"
work="${3:-$(mktemp -d)}"
for b in "$before" "$after"; do
  [ -x "$b" ] || { echo "compare-outputs: $b is not an executable" >&2; exit 2; }
done
shared="$root/../shared/data"
ira="$shared/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz"
csic="$shared/infra/csic2010"
for f in "$ira" "$csic/normalTrafficTraining.txt.gz" "$csic/normalTrafficTest-even.txt.gz" \
  "$csic/anomalousTrafficTest-even.txt.gz"; do
  [ -f "$f" ] || { echo "compare-outputs: missing data file $f" >&2; exit 2; }
done

run_all() {
  local bin="$1" out="$2"
  rm -rf "$out"
  mkdir -p "$out"
  (
    cd "$out"
    export SCRUTINEER_LEDGER_KEY="$out/keys/ledger.key" XDG_CONFIG_HOME="$out/config"
    "$bin" --quiet demo --seed 2020 --dir plain --store plain.db > plain.txt
    "$bin" --quiet demo --seed 3 --evasive --dir evasive --store evasive.db > evasive.txt
    for s in plain evasive; do
      "$bin" --quiet --store "$s.db" findings list --json --limit 1000000 > "$s-findings.json"
    done
    "$bin" --quiet --store ira.db influence scan "$ira" --format ira --out ira --top 10 > ira.txt
    "$bin" --quiet infra learn "$csic/normalTrafficTraining.txt.gz" --format http --out profile.json
    "$bin" --quiet --store csic.db infra scan "$csic/normalTrafficTest-even.txt.gz" \
      "$csic/anomalousTrafficTest-even.txt.gz" --format http --profile profile.json --out csic --no-store > csic.txt
    rm -rf keys config ./*.db ./*.db-* plain/logs evasive/logs
    find . \( -name '*.sth' -o -name '*.key' -o -name '*.state' -o -name '*.pub' -o -name '*.db' -o -name '*.db-*' \) -delete
    # Times of the run itself (STIX created/modified, the report's generation time,
    # findings' store times): the clock now, with fractional seconds or a UTC mark.
    find . -type f \( -name '*.html' -o -name '*.json' -o -name '*.csv' \) -exec sed -i -E \
      's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+Z?/TIME/g; s/[Gg]enerated [0-9-]+ [0-9:]+ UTC/Generated TIME/g' {} +
    # Durations in the demo's summary, and STIX ids derived from the export time.
    find . -type f -name '*.json' -exec sed -i -E \
      's/"seconds": [0-9.e+-]+/"seconds": DURATION/g; s/"(bundle|report)--[0-9a-f-]+"/"\1--ID"/g' {} +
    # Printed run times and rates ("finished in 2.3 s", "(38045/s)").
    find . -maxdepth 1 -name '*.txt' -exec sed -i -E 's/[0-9]+(\.[0-9]+)? ?(s|ms)\b/DURATION/g; s/\([0-9]+\/s\)/(RATE)/g' {} +
  )
}

echo "== before: $before"
run_all "$before" "$work/before"
echo "== after:  $after"
run_all "$after" "$work/after"
files=$(cd "$work/after" && find . -type f | wc -l)
if diff -r "$work/before" "$work/after" > "$work/diff.txt"; then
  echo "compare-outputs: $files output files identical"
else
  echo "compare-outputs: outputs differ (full diff: $work/diff.txt):" >&2
  diff -rq "$work/before" "$work/after" >&2 || true
  cut -c1-200 "$work/diff.txt" | head -n 40 >&2
  exit 1
fi
