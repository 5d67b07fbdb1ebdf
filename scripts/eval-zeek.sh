#!/usr/bin/env bash
# Network-sensor detection on the labelled Zeek captures of the Stratosphere laboratory
# (../shared/data/infra/zeek-stratosphere): each scenario's logs are scanned with the
# default thresholds by `scrutineer infra scan --format auto`, and scripts/eval-zeek.py
# scores the findings against the labels (the per-connection `label` column, or the
# scenario's README where it has none): precision and recall of malicious hosts and of
# malicious connections, per scenario and pooled.
#
# The defaults are not fitted to these captures (they follow RITA's published method
# and thresholds and the character statistics of English); the same defaults are meant
# for other Zeek captures, which can be scored the same way with ZEEK_DATA=DIR (one
# folder per scenario, holding Zeek logs with a `label` column).
#
# Gates: every figure in ZEEK_GATES below is the measured value minus a tolerance of
# 0.05. Set ZEEK_NO_GATES=1 to print the figures only (other data, ZEEK_DATA, is never
# gated).
set -euo pipefail

root="$(git rev-parse --show-toplevel)"
data="${ZEEK_DATA:-$root/../shared/data/infra/zeek-stratosphere}"
if [ ! -d "$data" ]; then
  echo "eval-zeek: missing data directory $data" >&2
  exit 2
fi
cd "$root"
if [ -z "${SCRUTINEER_BIN:-}" ]; then
  cargo build --release -p scrutineer --quiet
  bin="$root/target/release/scrutineer"
else
  bin="$SCRUTINEER_BIN"
fi
work="$root/target/eval-zeek"
rm -rf "$work"
mkdir -p "$work"

# A scenario's logs: the labelled files when there are any, else every Zeek log.
scenario_files() {
  local dir="$1"
  local labelled
  labelled=$(find "$dir" -type f \( -name '*.labeled' -o -name 'labeled-*.log' \) | sort)
  if [ -n "$labelled" ]; then
    echo "$labelled"
  else
    find "$dir" -type f -name '*.log' | sort
  fi
}

printf '[' > "$work/scenarios.json"
first=1
for dir in "$data"/*/; do
  name=$(basename "$dir")
  mapfile -t files < <(scenario_files "$dir")
  [ "${#files[@]}" -gt 0 ] || continue
  # Scenarios with no label column and no README rule in eval-zeek.py are not scored.
  if ! grep -q -l -E '(^|	|")label("|	|$)' "${files[@]}" 2>/dev/null \
     && ! grep -q "\"$name\"" "$root/scripts/eval-zeek.py"; then
    continue
  fi
  "$bin" --quiet infra scan "${files[@]}" --format auto --jurisdiction "$name" \
    --out "$work/$name" --no-store > "$work/$name.txt"
  [ $first -eq 1 ] || printf ',' >> "$work/scenarios.json"
  first=0
  python3 -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "files": sys.argv[2:]}), end="")' \
    "$name" "${files[@]}" >> "$work/scenarios.json"
done
printf ']\n' >> "$work/scenarios.json"

# Measured (debug and release builds give the same findings):
#   pooled   hosts P 0.9998 R 0.9960   connections P 0.9936 R 0.9965
#   001 (NjRAT, beaconing)       hosts 1/1, connections R 0.9713
#   002 (Nmap scans)             hosts 1/1, connections P 1 R 1
#   008 (attacked Windows host)  hosts P 0.9994 R 0.9858, connections P 0.9680 R 0.9867
#   009 (Kovter, no conn.log)    hosts 1/1, connections P 0.9991 R 1
#   010-012 (attacked hosts)     all figures >= 0.999
#   003 (AndroidTester RAT on port 1337) is missed: 12 connections, none regular
#   or an hour long; it is reported but not gated.
# Each gate is the measured figure minus 0.05.
if [ "${ZEEK_NO_GATES:-0}" = 1 ] || [ -n "${ZEEK_DATA:-}" ]; then
  export ZEEK_GATES='{}'
else
  export ZEEK_GATES='{
    "pooled": {"host_precision": 0.9498, "host_recall": 0.9460, "conn_precision": 0.9436, "conn_recall": 0.9465},
    "001-zeek-scenario-malicious": {"host_precision": 0.95, "host_recall": 0.95, "conn_precision": 0.95, "conn_recall": 0.9213},
    "002-zeek-scenario-port-scanning": {"host_precision": 0.95, "host_recall": 0.95, "conn_precision": 0.95, "conn_recall": 0.95},
    "008-zeek-mixed": {"host_precision": 0.9494, "host_recall": 0.9358, "conn_precision": 0.9180, "conn_recall": 0.9367},
    "009-zeek-malicious": {"host_precision": 0.95, "host_recall": 0.95, "conn_precision": 0.9491, "conn_recall": 0.95},
    "010-zeek-mixed": {"host_precision": 0.949, "host_recall": 0.949, "conn_precision": 0.949, "conn_recall": 0.949},
    "011-zeek-mixed": {"host_precision": 0.949, "host_recall": 0.949, "conn_precision": 0.949, "conn_recall": 0.949},
    "012-zeek-mixed": {"host_precision": 0.949, "host_recall": 0.949, "conn_precision": 0.949, "conn_recall": 0.949}
  }'
fi
python3 "$root/scripts/eval-zeek.py" "$work"
