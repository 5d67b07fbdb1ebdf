#!/usr/bin/env bash
# Evaluation of the mail-ballot engine (issue: independent totals and detection).
#  1. A state-sized scenario in the North Carolina State Board of Elections layouts
#     (ncvoter roll + absentee file; default 7.4 M voters, NC's 2020 size): the per-county,
#     per-status totals Scrutineer prints must equal an independent sqlite3 GROUP BY over
#     the same CSV, and the per-precinct totals of `ballots reconcile` (generic layout)
#     must equal a SQL computation of the issue's definitions.
#  2. Detection on a generic scenario: every injected item found, zero false findings.
# Scale: SCRUTINEER_EVAL_VOTERS (NC scenario), SCRUTINEER_EVAL_GENERIC_VOTERS.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
cd "$ROOT"
DATA="$ROOT/../shared/data/ballots"
for f in nc2020_absentee_daily_agg/versions_absentee_20201103_aggregated_20201102.csv eavs_merlin/data_eavs_final_e_july23.csv; do
  [ -f "$DATA/$f" ] || { echo "missing calibration file $DATA/$f" >&2; exit 2; }
done
if ! command -v sqlite3 >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq sqlite3) >/dev/null
fi
VOTERS="${SCRUTINEER_EVAL_VOTERS:-7400000}"
GVOTERS="${SCRUTINEER_EVAL_GENERIC_VOTERS:-200000}"
cargo build --release -q -p scrutineer
BIN="$ROOT/target/release/scrutineer"
WORK="$ROOT/target/eval-ballots"
rm -rf "$WORK"; mkdir -p "$WORK"
fail=0

echo "== calibration check: NC 2020 mail statuses on 2 Nov (real file) vs the generator's shares"
awk -F, 'NR>1 && $4=="MAIL"{t+=$7; s[$6]+=$7} END{printf "real: %d mail ballots, ACCEPTED %.2f%%, SPOILED %.2f%%, ACCEPTED - CURED %.2f%%\n", t, 100*s["ACCEPTED"]/t, 100*s["SPOILED"]/t, 100*s["ACCEPTED - CURED"]/t}' \
  "$DATA/nc2020_absentee_daily_agg/versions_absentee_20201103_aggregated_20201102.csv"

echo "== 1. NC layout, $VOTERS voters"
/usr/bin/time -f "generate: %e s, peak RSS %M KB" "$BIN" --quiet simulate ballots --layout nc --seed 2020 --voters "$VOTERS" --out "$WORK/nc"
/usr/bin/time -f "scrutineer totals: %e s, peak RSS %M KB" "$BIN" --quiet ballots totals --layout nc --by county,status "$WORK/nc/absentee.csv" --out "$WORK/nc_totals_scrutineer.csv"
sqlite3 -batch "$WORK/nc.sqlite" <<SQL
.mode csv
.import $WORK/nc/absentee.csv absentee
.mode list
.separator ,
.headers on
.output $WORK/nc_totals_sql.csv
SELECT county_desc AS county, ballot_rtn_status AS status, COUNT(*) AS records FROM absentee GROUP BY 1, 2 ORDER BY 1, 2;
SQL
rows=$(($(wc -l < "$WORK/nc/absentee.csv") - 1))
groups=$(($(wc -l < "$WORK/nc_totals_sql.csv") - 1))
if diff <(sort "$WORK/nc_totals_scrutineer.csv") <(sort "$WORK/nc_totals_sql.csv") >/dev/null; then
  echo "county x status totals: EQUAL to sqlite3 ($rows absentee rows, $groups groups)"
else
  echo "county x status totals: DIFFER from sqlite3"; diff <(sort "$WORK/nc_totals_scrutineer.csv") <(sort "$WORK/nc_totals_sql.csv") | head; fail=1
fi
/usr/bin/time -f "reconcile (nc): %e s, peak RSS %M KB" "$BIN" --quiet --store "$WORK/s.db" ballots reconcile --layout nc \
  --roll "$WORK/nc/ncvoter.txt" --issued "$WORK/nc/absentee.csv" --returns "$WORK/nc/absentee.csv" \
  --deadline 2020-11-03T19:30:00 --out "$WORK/nc_out" --ledger "$WORK/nc.ledger" >/dev/null
grep -E "^ALL|Every row closes" "$WORK/nc_out/reconciliation.txt"
nf=$(($(wc -l < "$WORK/nc_out/findings.csv") - 1))
echo "NC scenario rule findings (nothing injected): $nf"; [ "$nf" -eq 0 ] || fail=1
"$BIN" --quiet --store "$WORK/s.db" ledger verify --ledger "$WORK/nc.ledger" | tail -1

echo "== 2. generic layout, $GVOTERS voters: detection and per-precinct totals"
"$BIN" --quiet simulate ballots --seed 7 --voters "$GVOTERS" --inject 25 --lookalikes 25 --out "$WORK/g" >/dev/null
"$BIN" --quiet --store "$WORK/s.db" ballots reconcile --roll "$WORK/g/roll.csv" --issued "$WORK/g/issued.csv" \
  --returns "$WORK/g/returns.csv" --checkins "$WORK/g/checkins.csv" --deadline 2020-11-03T19:30:00 \
  --out "$WORK/g_out" --ledger "$WORK/g.ledger" >/dev/null
sqlite3 -batch "$WORK/g.sqlite" <<SQL
.mode csv
.import $WORK/g/roll.csv roll
CREATE INDEX roll_id ON roll(voter_id);
.import $WORK/g/issued.csv issued
.import $WORK/g/returns.csv returns
.import $WORK/g_out/findings.csv findings
.import $WORK/g/truth.csv truth
.mode list
.separator ,
.headers on
.output $WORK/g_totals_sql.csv
WITH r AS (
  SELECT envelope_id, COUNT(*) AS n, SUM(outcome IN ('accepted','cured')) AS acc, SUM(outcome = 'rejected') AS rej
  FROM returns GROUP BY envelope_id),
env AS (
  SELECT i.envelope_id, COALESCE(v.precinct, 'UNKNOWN') AS precinct,
         COALESCE(r.n, 0) AS n, COALESCE(r.acc, 0) AS acc, COALESCE(r.rej, 0) AS rej
  FROM issued i LEFT JOIN roll v ON v.voter_id = i.voter_id LEFT JOIN r ON r.envelope_id = i.envelope_id)
SELECT precinct, COUNT(*) AS issued, SUM(n > 0) AS returned, SUM(acc > 0) AS accepted,
       SUM(n > 0 AND acc = 0 AND rej > 0) AS rejected, SUM(n = 0) AS outstanding
FROM env GROUP BY precinct ORDER BY precinct;
.output $WORK/g_detect.txt
.headers off
SELECT 'found', COUNT(*) FROM truth t WHERE EXISTS (SELECT 1 FROM findings f WHERE f.kind = t.kind AND f.envelope_id = t.envelope_id AND f.voter_id = t.voter_id);
SELECT 'false', COUNT(*) FROM findings f WHERE NOT EXISTS (SELECT 1 FROM truth t WHERE f.kind = t.kind AND f.envelope_id = t.envelope_id AND f.voter_id = t.voter_id);
SELECT 'injected', COUNT(*) FROM truth;
SQL
if diff <(sort "$WORK/g_out/totals.csv") <(sort "$WORK/g_totals_sql.csv") >/dev/null; then
  echo "per-precinct totals.csv: EQUAL to sqlite3 ($(($(wc -l < "$WORK/g_totals_sql.csv") - 1)) precincts)"
else
  echo "per-precinct totals.csv: DIFFER from sqlite3"; diff <(sort "$WORK/g_out/totals.csv") <(sort "$WORK/g_totals_sql.csv") | head; fail=1
fi
found=$(awk -F, '$1=="found"{print $2}' "$WORK/g_detect.txt")
false_f=$(awk -F, '$1=="false"{print $2}' "$WORK/g_detect.txt")
injected=$(awk -F, '$1=="injected"{print $2}' "$WORK/g_detect.txt")
echo "detection: $found of $injected injected items found, $false_f false findings"
[ "$found" = "$injected" ] && [ "$false_f" = 0 ] || fail=1
"$BIN" --quiet --store "$WORK/s.db" ledger verify --ledger "$WORK/g.ledger" | tail -1
if [ "$fail" -ne 0 ]; then echo "eval-ballots: FAIL"; exit 1; fi
echo "eval-ballots: PASS"
