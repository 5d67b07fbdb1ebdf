#!/usr/bin/env bash
# A tour of every engine on real data (from ../shared) and a generated
# mail-ballot scenario, writing findings to the default store (scrutineer.db) and
# outputs under out/. Then the findings, most severe first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
shared="$root/../shared/data"
[ -d "$shared" ] || { echo "demo: $shared is missing: put the shared data beside the repository" >&2; exit 2; }
cargo build --release --quiet -p scrutineer
bin="$root/target/release/scrutineer"
out="$root/out"
mkdir -p "$out"
hr() { printf '\n== %s\n' "$1"; }

hr "Influence operations: the IRA's accounts in the 2016 election season"
"$bin" influence scan "$shared/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz" --format ira --out "$out/influence" --top 8

hr "Election infrastructure: learn normal traffic, then scan the CSIC 2010 test requests"
"$bin" infra learn "$shared/infra/csic2010/normalTrafficTraining.txt.gz" --format http --out "$out/infra-profile.json"
"$bin" infra scan "$shared/infra/csic2010/normalTrafficTest-even.txt.gz" "$shared/infra/csic2010/anomalousTrafficTest-even.txt.gz" \
  --format http --profile "$out/infra-profile.json" --jurisdiction webshop --out "$out/infra"
"$bin" infra scan "$shared"/infra/apache-http-logs-scans/*.txt --out "$out/infra-scanners"

hr "Mail ballots: a generated county with injected manufactured, duplicate and double ballots"
"$bin" simulate ballots --seed 2024 --voters 200000 --out "$out/ballots-scenario"
"$bin" ballots reconcile --roll "$out/ballots-scenario/roll.csv" --issued "$out/ballots-scenario/issued.csv" \
  --returns "$out/ballots-scenario/returns.csv" --checkins "$out/ballots-scenario/checkins.csv" \
  --deadline "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["deadline"])' "$out/ballots-scenario/scenario.json")" \
  --out "$out/ballots"
"$bin" ledger verify

hr "Risk-limiting audit: replay Colorado's 2020 round-1 ballot-comparison figures"
"$bin" audit replay --format colorado-contest "$shared/rla/colorado/2020_general_round_1_contest.csv" --out "$out/audit-replay.csv"
"$bin" audit estimate --margins 0.01,0.02,0.05,0.1,0.2 --risk-limits 0.05,0.1

hr "Findings in $( "$bin" --version ) store scrutineer.db"
"$bin" findings list --limit 25
