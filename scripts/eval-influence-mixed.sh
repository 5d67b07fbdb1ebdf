#!/usr/bin/env bash
# Influence evaluation on real IRA tweets mixed with simulated organic traffic: precision
# (share of accounts placed in networks that are IRA accounts) and recall (share of IRA
# accounts with at least 20 posts placed), at the default scan settings.
# Fails when precision < 0.9 or recall < 0.7, or when the shared data is missing.
# SEED (default 1) and ACCOUNTS (default: the simulator's --background-only default) vary
# the background.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tweets="$root/../shared/data/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz"
[ -f "$tweets" ] || { echo "eval-influence-mixed: missing $tweets (the shared data must sit beside the repository)" >&2; exit 2; }
bin="${SCRUTINEER_BIN:-$root/target/release/scrutineer}"
[ -x "$bin" ] || cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p scrutineer
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
seed="${SEED:-1}"
accounts=()
[ -n "${ACCOUNTS:-}" ] && accounts=(--accounts "$ACCOUNTS")
echo "== influence: IRA 2016-09..11 mixed with simulated organic background (seed $seed)"
"$bin" --quiet simulate social --background-only --seed "$seed" "${accounts[@]}" --out "$out/bg"
/usr/bin/env time -f "scan: %e s wall, %M KiB peak RSS" \
  "$bin" --quiet --store "$out/store.db" influence scan "$out/bg/posts.csv" "$tweets" --format ira \
  --out "$out/scan" --top 10
python3 "$root/scripts/eval-influence-mixed.py" --scan "$out/scan" --ira "$tweets" --background "$out/bg/posts.csv"
