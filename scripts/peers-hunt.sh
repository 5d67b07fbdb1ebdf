#!/usr/bin/env bash
# Agreement of `scrutineer hunt evtx` with a peer Sigma engine: Zircolite's pipeline on
# PyPI (`evtx` flattens the records into SQLite, pySigma with pysigma-backend-sqlite runs
# the same rules as SQL). Hayabusa and Chainsaw are on none of the registries this
# project installs from (crates.io's `hayabusa` and `chainsaw` are other projects).
#
# Routing: Zircolite ships two rule sets, one converted with pySigma's Sysmon and Windows
# log-source pipelines (process_creation on Sysmon event 1) and a generic one converted
# with the windows_audit and Windows log-source pipelines (process_creation on Security
# event 4688, NewProcessName for Image, ParentProcessName for ParentImage). scrutineer
# routes a process_creation rule to both logs, so the peer converts such a rule with both
# and takes the matches of both queries (scripts/peers_hunt.py).
#
# Both engines run SigmaHQ's Windows rules over the EVTX-to-MITRE samples and the
# SigmaHQ regression samples; for every rule that matches anything in either engine, the
# sets of (file, EventRecordID) are compared. Every difference is printed and listed in
# target/peers-hunt/comparison.json; crates/hunt/README.md explains them. Measured: of
# the 295 rules that match anything, 293 give identical sets and 2 differ (the peer's
# EVTX library writes GUIDs without their braces). Gated at 291 agreeing (AGREE_MIN)
# and at most 4 differing (DIFFER_MAX): two rules of slack either way.
# Both engines' detection share on the EVTX-to-MITRE samples (Sigma rules only) and their
# records per second are printed from the same run.
set -euo pipefail

root="$(git rev-parse --show-toplevel)"
data="$root/../shared/data/hunt"
rules="$data/sigma-rules/rules/windows"
inputs=("$data/evtx-to-mitre" "$data/sigma-regression-even/regression_data")
agree_min="${AGREE_MIN:-291}"
differ_max="${DIFFER_MAX:-4}"

for d in "$rules" "${inputs[@]}"; do
  if [ ! -d "$d" ]; then
    echo "peers-hunt: missing data directory $d" >&2
    exit 2
  fi
done

cd "$root"
# shellcheck source=scripts/hunt_peer_common.sh
. scripts/hunt_peer_common.sh
hunt_peer_setup
work="$root/target/peers-hunt"
rm -rf "$work"
mkdir -p "$work"

"$bin" --quiet --json hunt evtx "${inputs[@]}" --sigma "$rules" --no-builtin --no-store --out "$work/scrutineer" \
  > "$work/scrutineer.json"
python3 - "$work/scrutineer.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"scrutineer: {s['totals']['records']} records, {s['rules']['rules']} rules, {s['seconds']:.2f} s "
      f"({s['records_per_second']:.0f} records/s, {s['bytes_per_second'] / 1e6:.1f} MB/s)")
PY
"$venv/bin/python" scripts/peers_hunt.py "$rules" "$work/scrutineer/hits.csv" "$work/comparison.json" \
  "$work/peer-hits.csv" "${inputs[@]}"

# The detection share of scripts/eval-hunt.sh, Sigma rules only, for both engines on the
# same files (eval-hunt.sh's figure adds the built-in detections).
echo "detection share on EVTX-to-MITRE, SigmaHQ rules only: scrutineer"
python3 scripts/eval_hunt.py coverage "${inputs[0]}" "$work/scrutineer/hits.csv" 0 | tail -1
echo "detection share on EVTX-to-MITRE, SigmaHQ rules only: peer"
python3 scripts/eval_hunt.py coverage "${inputs[0]}" "$work/peer-hits.csv" 0 | tail -1

python3 - "$work/comparison.json" "$agree_min" "$differ_max" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
agree_min, differ_max = int(sys.argv[2]), int(sys.argv[3])
ok = c["rules_agreeing"] >= agree_min and c["rules_differing"] <= differ_max
print(f"peers-hunt: {c['rules_agreeing']} rules agree (bar {agree_min}), {c['rules_differing']} differ (bar {differ_max})")
sys.exit(0 if ok else 1)
PY
