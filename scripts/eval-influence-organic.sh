#!/usr/bin/env bash
# Influence evaluation on real organic traffic: the IRA file mixed with each real, mostly
# organic collection in ../shared/data/influence (times moved into the IRA period, rows in
# the IRA file's own schema; see scripts/eval_influence_organic.py), scanned at the default
# settings, then all of them at once ("pooled"). Prints per set and pooled: precision (IRA
# share of placed accounts), the share of organic accounts placed, and IRA recall (accounts
# with >= 20 posts placed). Fails when a set is missing or a figure passes its gate.
#
# Gates, per set: the issue's bar (precision >= 0.95, organic placed <= 0.2%, recall >= 0.7)
# where it is met, tightened to follow the measured figure; where the bar is not met yet
# (precision on the German 2021 collection, and so on the pooled run), a regression gate
# just below the measured figure. Measured (default settings; see crates/influence/README.md):
#   set         precision  organic placed  recall
#   german      0.642      0.367%          0.771
#   voterfraud  0.960      0.009%          0.769
#   mueller     1.000      0.000%          0.769
#   verified    1.000      0.000%          0.769
#   pooled      0.624      0.094%          0.771
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
# set: min precision, max organic share, min recall
declare -A gate=(
  [german]="0.61 0.0040 0.75"
  [voterfraud]="0.95 0.0005 0.75"
  [mueller]="0.99 0 0.75"
  [verified]="0.99 0 0.75"
  [pooled]="0.595 0.0011 0.75"
)
gates() { read -r p o r <<<"${gate[$1]}"; echo --min-precision "$p" --max-organic "$o" --min-recall "$r"; }
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
  # shellcheck disable=SC2046
  python3 "$py" score --label "$s" --scan "$out/scan-$s" --ira "$tweets" --organic "$out/$s.csv" $(gates "$s") || status=1
done
pooled=()
for s in "${sets[@]}"; do pooled+=("$out/$s.csv"); done
scan pooled "${pooled[@]}"
organic_args=()
for f in "${pooled[@]}"; do organic_args+=(--organic "$f"); done
# shellcheck disable=SC2046
python3 "$py" score --label pooled --scan "$out/scan-pooled" --ira "$tweets" "${organic_args[@]}" $(gates pooled) || status=1
[ "$status" = 0 ] && echo "eval-influence-organic: every set within the gates" || echo "eval-influence-organic: FAIL" >&2
exit "$status"
