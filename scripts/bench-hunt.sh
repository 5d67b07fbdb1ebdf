#!/usr/bin/env bash
# Speed of `scrutineer hunt evtx` with SigmaHQ's Windows rules against the Zircolite
# pipeline on PyPI (`evtx` flattens the records into SQLite, pySigma with
# pysigma-backend-sqlite runs the same rules as SQL; scripts/peers-hunt.sh checks that
# both match the same records), on the public EVTX attack samples in ../shared/data/hunt:
# EVTX records and file bytes per second, wall and CPU seconds, min/median/max over
# BENCH_HUNT_REPS runs (default 3) alternating the two engines, measured in one run.
# Fails when Scrutineer is not BENCH_HUNT_MIN_CPU_RATIO times faster per CPU-second
# (default 6: measured 8.4 and 9.6 on all 10,015 records of the EVTX-to-MITRE samples,
# see crates/hunt/README.md; on fewer records Scrutineer's fixed cost of reading the
# rules weighs more, so a subset needs a lower bar, as .ci/run sets).
#   BENCH_HUNT_REPS=5 scripts/bench-hunt.sh
# BENCH_HUNT_TACTICS=TA0002,TA0006 keeps those tactics' folders of the EVTX-to-MITRE
# samples (default: every file); BENCH_HUNT_REGRESSION=1 adds the SigmaHQ regression
# samples.
set -euo pipefail

root="$(git rev-parse --show-toplevel)"
data="$root/../shared/data/hunt"
rules="$data/sigma-rules/rules/windows"
reps="${BENCH_HUNT_REPS:-3}"
min_cpu_ratio="${BENCH_HUNT_MIN_CPU_RATIO:-6}"
mitre="$data/evtx-to-mitre"
for d in "$rules" "$mitre"; do
  if [ ! -d "$d" ]; then
    echo "bench-hunt: missing data directory $d (see ../shared/data/README.md)" >&2
    exit 2
  fi
done
inputs=()
if [ -n "${BENCH_HUNT_TACTICS:-}" ]; then
  IFS=, read -r -a tactics <<< "$BENCH_HUNT_TACTICS"
  for t in "${tactics[@]}"; do
    found=("$mitre/$t"-*)
    if [ ! -d "${found[0]}" ]; then
      echo "bench-hunt: no tactic folder $mitre/$t-*" >&2
      exit 2
    fi
    inputs+=("${found[@]}")
  done
else
  inputs=("$mitre")
fi
if [ "${BENCH_HUNT_REGRESSION:-0}" = 1 ]; then
  inputs+=("$data/sigma-regression-even/regression_data")
fi
for d in "${inputs[@]}"; do
  if [ ! -d "$d" ]; then
    echo "bench-hunt: missing data directory $d (see ../shared/data/README.md)" >&2
    exit 2
  fi
done
if ! find "${inputs[@]}" -name '*.evtx' -print -quit | grep -q .; then
  echo "bench-hunt: no .evtx files under ${inputs[*]}" >&2
  exit 2
fi

cd "$root"
# shellcheck source=scripts/hunt_peer_common.sh
. scripts/hunt_peer_common.sh
hunt_peer_setup
work="$root/target/bench-hunt"
rm -rf "$work"
mkdir -p "$work"
python3 scripts/bench_hunt.py "$bin" "$venv/bin/python" "$rules" "$reps" "$min_cpu_ratio" "$work" "${inputs[@]}"
