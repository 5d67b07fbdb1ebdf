#!/usr/bin/env bash
# Influence evaluation on real organic traffic: the IRA file mixed with each real, mostly
# organic collection in ../shared/data/influence (times moved into the IRA period, rows in
# the IRA file's own schema; see scripts/eval_influence_organic.py), scanned at the default
# settings, then all of them at once ("pooled"). Prints per set and pooled: precision (IRA
# share of placed accounts), the share of organic accounts placed, and IRA recall (accounts
# with >= 20 posts placed). Fails when a set is missing or a figure passes a gate:
#   precision >= MIN_PRECISION (0.95), organic placed <= MAX_ORGANIC (0.002), recall >= MIN_RECALL (0.7).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="$root/../shared/data/influence"
tweets="$shared/ira/tweets-2016-09-01_2016-11-30.csv.gz"
[ -f "$tweets" ] || { echo "eval-influence-organic: missing $tweets (the shared data must sit beside the repository)" >&2; exit 2; }
bin="${SCRUTINEER_BIN:-$root/target/release/scrutineer}"
[ -x "$bin" ] || cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p scrutineer
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
py="$root/scripts/eval_influence_organic.py"
gates=(--min-precision "${MIN_PRECISION:-0.95}" --max-organic "${MAX_ORGANIC:-0.002}" --min-recall "${MIN_RECALL:-0.7}")
sets=(german voterfraud mueller verified)
status=0
scan() { # label, files...
  local label="$1"; shift
  /usr/bin/env time -f "$label: scan $(printf '%s' "%e") s wall, %M KiB peak RSS" \
    "$bin" --quiet --store "$out/$label.db" influence scan "$tweets" "$@" --format ira --out "$out/scan-$label" --top 10 >"$out/$label.log"
}
for s in "${sets[@]}"; do
  python3 "$py" build --set "$s" --shared "$shared" --out "$out/$s.csv"
done
echo "== influence: IRA 2016-09..11 mixed with real organic collections, default settings"
for s in "${sets[@]}"; do
  scan "$s" "$out/$s.csv"
  python3 "$py" score --label "$s" --scan "$out/scan-$s" --ira "$tweets" --organic "$out/$s.csv" "${gates[@]}" || status=1
done
pooled=()
for s in "${sets[@]}"; do pooled+=("$out/$s.csv"); done
scan pooled "${pooled[@]}"
organic_args=()
for f in "${pooled[@]}"; do organic_args+=(--organic "$f"); done
python3 "$py" score --label pooled --scan "$out/scan-pooled" --ira "$tweets" "${organic_args[@]}" "${gates[@]}" || status=1
[ "$status" = 0 ] && echo "eval-influence-organic: every set within the gates" || echo "eval-influence-organic: FAIL" >&2
exit "$status"
