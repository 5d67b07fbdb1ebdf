#!/usr/bin/env bash
# Evaluation of the mail-ballot engine (issue: independent totals and detection).
#  1. A state-sized scenario in the North Carolina State Board of Elections layouts
#     (ncvoter roll + absentee file; default 7.4 M voters, NC's 2020 size): the per-county,
#     per-status totals Scrutineer prints must equal an independent sqlite3 GROUP BY over
#     the same CSV, and the per-precinct totals of `ballots reconcile` (generic layout)
#     must equal a SQL computation of the issue's definitions. Then, in the same NC files,
#     duplicate receipts (a ballot's second return date) and double votes (a voter-history
#     `ncvhis` file with in-person votes of mail voters) are injected beside look-alikes
#     (mail votes and earlier elections in the history): all found, nothing else.
#  2. Detection on a generic scenario: every injected item found, zero false findings.
#  3. Intelligent Mail barcodes: the same returns scanned by IMb instead of envelope id give
#     the same findings and totals; barcodes issued twice are reported.
#  4. The real Ohio voter-file sample as the roll (--layout ohio): envelopes issued to its
#     voters at their real addresses, with injected mail-to-one-address clusters; every
#     cluster of 10 or more voters flagged, no real address flagged.
# Scale: SCRUTINEER_EVAL_VOTERS (NC scenario), SCRUTINEER_EVAL_GENERIC_VOTERS.
# SCRUTINEER_BIN: a scrutineer binary to use instead of building one.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
cd "$ROOT"
DATA="$ROOT/../shared/data/ballots"
for f in nc2020_absentee_daily_agg/versions_absentee_20201103_aggregated_20201102.csv eavs_merlin/data_eavs_final_e_july23.csv medsl_healthy_elections/OH_oh_sample.csv; do
  [ -f "$DATA/$f" ] || { echo "missing data file $DATA/$f" >&2; exit 2; }
done
if ! command -v sqlite3 >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq sqlite3) >/dev/null
fi
VOTERS="${SCRUTINEER_EVAL_VOTERS:-7400000}"
GVOTERS="${SCRUTINEER_EVAL_GENERIC_VOTERS:-200000}"
if [ -n "${SCRUTINEER_BIN:-}" ]; then
  BIN="$SCRUTINEER_BIN"
else
  cargo build --release -q -p scrutineer
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/scrutineer"
fi
[ -x "$BIN" ] || { echo "no scrutineer binary at $BIN" >&2; exit 2; }
WORK="${CARGO_TARGET_DIR:-$ROOT/target}/eval-ballots"
rm -rf "$WORK"; mkdir -p "$WORK"
fail=0

# Compares findings.csv ($1) with the truth ($2) on (kind, envelope_id, voter_id); prints
# "found injected false" counts. Neither file has commas in those three fields.
compare() {
  awk -F, 'FNR==1{next} NR==FNR{t[$1","$2","$3]=1; n++; next} {k=$1","$2","$3; if (k in t) {if (!(k in seen)) found++; seen[k]=1} else fp++} END{print found+0, n+0, fp+0}' "$2" "$1"
}

# Fails the run unless every precinct row of a reconciliation report closes.
closes() {
  if grep -qx "Every row closes: yes." "$1"; then
    echo "$(basename "$(dirname "$1")"): every precinct row closes"
  else
    echo "$(basename "$(dirname "$1")"): $(grep "^Every row closes" "$1" || echo "no closing line in $1")"; fail=1
  fi
}

echo "== 1. NC layout, $VOTERS voters"
/usr/bin/time -f "generate: %e s, peak RSS %M KB" "$BIN" --quiet simulate ballots --layout nc --seed 2020 --voters "$VOTERS" --out "$WORK/nc"
echo "== calibration check: NC 2020 mail statuses on 2 Nov (real file) vs the generator's shares"
# The same figures from both: the real file's counts by status (it has no row without
# one), and the generated absentee file's MAIL rows (ballot_req_type, column 34) that have
# a ballot_rtn_status (column 39; unreturned ballots have none). The generator's shares must lie within 0.5 percentage points
# (accepted) and within a quarter of the real share (spoiled, cured) of the real ones.
real=$(awk -F, 'NR>1 && $4=="MAIL"{t+=$7; s[$6]+=$7} END{printf "%d %.4f %.4f %.4f", t, 100*s["ACCEPTED"]/t, 100*s["SPOILED"]/t, 100*s["ACCEPTED - CURED"]/t}' \
  "$DATA/nc2020_absentee_daily_agg/versions_absentee_20201103_aggregated_20201102.csv")
generated=$(awk -F, 'NR>1 && $34=="MAIL" && $39!=""{t++; s[$39]++} END{printf "%d %.4f %.4f %.4f", t, 100*s["ACCEPTED"]/t, 100*s["SPOILED"]/t, 100*s["ACCEPTED - CURED"]/t}' "$WORK/nc/absentee.csv")
read -r rt ra rs rc <<<"$real"; read -r gt ga gs gc <<<"$generated"
printf "real:      %9d mail ballots with a status, ACCEPTED %6.2f%%, SPOILED %5.2f%%, ACCEPTED - CURED %5.2f%%\n" "$rt" "$ra" "$rs" "$rc"
printf "generator: %9d mail ballots with a status, ACCEPTED %6.2f%%, SPOILED %5.2f%%, ACCEPTED - CURED %5.2f%%\n" "$gt" "$ga" "$gs" "$gc"
if awk -v ra="$ra" -v rs="$rs" -v rc="$rc" -v ga="$ga" -v gs="$gs" -v gc="$gc" 'function abs(x){return x<0?-x:x}
   BEGIN{exit !(abs(ga-ra) <= 2.5 && gs <= 1.5*rs && rs <= 1.5*gs && gc <= 1.5*rc && rc <= 1.5*gc)}'; then
  echo "generator's shares: within tolerance of the real file's (accepted $(awk -v a="$ga" -v b="$ra" 'BEGIN{printf "%+.2f", a-b}') points)"
else
  echo "generator's shares: OUTSIDE tolerance of the real file's"; fail=1
fi
/usr/bin/time -f "scrutineer totals: %e s, peak RSS %M KB" "$BIN" --quiet ballots totals --layout nc --by county,status "$WORK/nc/absentee.csv" --out "$WORK/nc_totals_scrutineer.csv"
# In memory: at NC's size a database file would need as much disk again as the CSV.
sqlite3 -batch -bail :memory: <<SQL
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
  --deadline 2020-11-03T19:30:00 --out "$WORK/nc_out" --no-ledger >/dev/null
grep -E "^ALL" "$WORK/nc_out/reconciliation.txt"
closes "$WORK/nc_out/reconciliation.txt"
nf=$(($(wc -l < "$WORK/nc_out/findings.csv") - 1))
echo "NC scenario rule findings (nothing injected): $nf"; [ "$nf" -eq 0 ] || fail=1

echo "== 1b. NC layout: injected duplicate receipts and double votes (voter history, ncvhis layout)"
# Duplicate receipts: 25 accepted mail ballots get a second row with another return date.
# Double votes: 25 other accepted mail voters get an IN-PERSON row for 11/03/2020 in the
# voter history. Look-alikes: every mail voter's ABSENTEE BY MAIL row, every one-stop
# voter's ABSENTEE ONESTOP row, and IN-PERSON rows of an earlier election (11/06/2018).
macc=$(awk -F, '$34 == "MAIL" && ($39 == "ACCEPTED" || $39 == "ACCEPTED - CURED")' "$WORK/nc/absentee.csv" | wc -l)
stride=$((macc / 60 > 2 ? macc / 60 : 2))
awk -F, -v OFS=, -v stride="$stride" -v truth="$WORK/nc_truth.csv" -v his="$WORK/nc/ncvhis.txt" '
  BEGIN { print "kind,envelope_id,voter_id,detail" > truth
          print "county_id\tcounty_desc\tvoter_reg_num\telection_lbl\telection_desc\tvoting_method\tvoted_party_cd\tvoted_party_desc\tpct_label\tpct_description\tncid\tvoted_county_id\tvoted_county_desc\tvtd_label\tvtd_description" > his }
  function hist(date, method) {
    printf "\"0\"\t\"%s\"\t\"%s\"\t\"%s\"\t\"%s GENERAL\"\t\"%s\"\t\"UNA\"\t\"UNAFFILIATED\"\t\"P\"\t\"%s\"\t\"%s\"\t\"0\"\t\"%s\"\t\"P\"\t\"P\"\n", $1, $2, date, date, method, $29, $3, $1 > his
  }
  { print }
  NR == 1 { next }
  $34 == "ONE-STOP" && $39 == "ACCEPTED" { hist("11/03/2020", "ABSENTEE ONESTOP"); next }
  $34 == "MAIL" && ($39 == "ACCEPTED" || $39 == "ACCEPTED - CURED") {
    hist("11/03/2020", "ABSENTEE BY MAIL")
    m++
    if (m % 50 == 0) hist("11/06/2018", "IN-PERSON")
    if (m % stride == 0 && dups < 25) {
      dups++; orig = $38; $38 = (orig == "11/02/2020") ? "11/01/2020" : "11/02/2020"; $39 = "ACCEPTED"; print
      print "duplicate_return," $3 "/" $37 "," $3 "," >> truth
    } else if (m % stride == int(stride / 2) && dvs < 25) {
      dvs++; hist("11/03/2020", "IN-PERSON")
      print "double_vote,," $3 "," >> truth
    }
  }' "$WORK/nc/absentee.csv" > "$WORK/nc/absentee_injected.csv"
/usr/bin/time -f "reconcile (nc, with ncvhis): %e s, peak RSS %M KB" "$BIN" --quiet --store "$WORK/s.db" ballots reconcile --layout nc \
  --roll "$WORK/nc/ncvoter.txt" --issued "$WORK/nc/absentee_injected.csv" --returns "$WORK/nc/absentee_injected.csv" \
  --checkins "$WORK/nc/ncvhis.txt" --deadline 2020-11-03T19:30:00 --out "$WORK/nc_inj_out" --no-ledger >/dev/null
read -r found injected false_f < <(compare "$WORK/nc_inj_out/findings.csv" "$WORK/nc_truth.csv")
echo "ncvhis rows: $(($(wc -l < "$WORK/nc/ncvhis.txt") - 1)); $(grep -o 'voter-history rows of other elections [0-9]*' "$WORK/nc_inj_out/reconciliation.txt")"
echo "NC detection: $found of $injected injected (duplicate_return + double_vote) found, $false_f false findings"
[ "$injected" -eq 50 ] && [ "$found" = "$injected" ] && [ "$false_f" = 0 ] || fail=1
# The state-sized files are done with; the sections below need little disk.
rm -rf "$WORK/nc"

echo "== 2. generic layout, $GVOTERS voters: detection and per-precinct totals"
"$BIN" --quiet simulate ballots --seed 7 --voters "$GVOTERS" --inject 25 --lookalikes 25 --out "$WORK/g" >/dev/null
"$BIN" --quiet --store "$WORK/s.db" ballots reconcile --roll "$WORK/g/roll.csv" --issued "$WORK/g/issued.csv" \
  --returns "$WORK/g/returns.csv" --checkins "$WORK/g/checkins.csv" --deadline 2020-11-03T19:30:00 \
  --out "$WORK/g_out" --ledger "$WORK/g.ledger" --ledger-key "$WORK/keys/g.key" >/dev/null
sqlite3 -batch -bail :memory: <<SQL
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
closes "$WORK/g_out/reconciliation.txt"
found=$(awk -F, '$1=="found"{print $2}' "$WORK/g_detect.txt")
false_f=$(awk -F, '$1=="false"{print $2}' "$WORK/g_detect.txt")
injected=$(awk -F, '$1=="injected"{print $2}' "$WORK/g_detect.txt")
echo "detection: $found of $injected injected items found, $false_f false findings"
[ "$found" = "$injected" ] && [ "$false_f" = 0 ] || fail=1
"$BIN" --quiet --store "$WORK/s.db" ledger verify --ledger "$WORK/g.ledger" --public-key "$WORK/g.ledger.pub" | tail -1

echo "== 3. Intelligent Mail barcodes: every other return scanned by IMb instead of envelope id"
# issued.csv: envelope_id first, imb last (the quoted address between them may hold commas).
awk -F, 'NR==FNR { if (FNR > 1 && $NF != "") imb[$1] = $NF; next }
         FNR > 1 && (FNR % 2 == 0) && ($1 in imb) { $0 = imb[$1] substr($0, length($1) + 1) } { print }' \
  "$WORK/g/issued.csv" "$WORK/g/returns.csv" > "$WORK/g/returns_imb.csv"
"$BIN" --quiet --store "$WORK/s.db" ballots reconcile --roll "$WORK/g/roll.csv" --issued "$WORK/g/issued.csv" \
  --returns "$WORK/g/returns_imb.csv" --checkins "$WORK/g/checkins.csv" --deadline 2020-11-03T19:30:00 \
  --out "$WORK/g_imb_out" --no-ledger >/dev/null
closes "$WORK/g_imb_out/reconciliation.txt"
matched=$(grep -o 'receipts matched by Intelligent Mail barcode [0-9]*' "$WORK/g_imb_out/reconciliation.txt" | awk '{print $NF}')
read -r found injected false_f < <(compare "$WORK/g_imb_out/findings.csv" "$WORK/g/truth.csv")
echo "returns by IMb: $matched receipts matched by barcode; $found of $injected injected found, $false_f false findings"
[ "$found" = "$injected" ] && [ "$false_f" = 0 ] && [ "${matched:-0}" -gt 0 ] || fail=1
if cmp -s "$WORK/g_out/totals.csv" "$WORK/g_imb_out/totals.csv"; then echo "totals.csv: identical to the run by envelope id"; else echo "totals.csv: DIFFERS from the run by envelope id"; fail=1; fi
# Five barcodes printed twice: each copied from the envelope three rows above.
awk -F, -v OFS=, 'FNR > 1 && $NF != "" { prev[FNR] = $NF }
  FNR > 1000 && FNR % 5000 == 0 && n < 5 && prev[FNR - 3] != "" { n++; $NF = prev[FNR - 3] } { print }' \
  "$WORK/g/issued.csv" > "$WORK/g/issued_dupimb.csv"
"$BIN" --quiet --store "$WORK/s.db" ballots reconcile --roll "$WORK/g/roll.csv" --issued "$WORK/g/issued_dupimb.csv" \
  --returns "$WORK/g/returns.csv" --checkins "$WORK/g/checkins.csv" --deadline 2020-11-03T19:30:00 \
  --out "$WORK/g_dupimb_out" --no-ledger >/dev/null
ndup=$(awk -F, '$1=="duplicate_imb"' "$WORK/g_dupimb_out/anomalies.csv" | wc -l)
echo "barcodes printed on two envelopes: 5 injected, $ndup duplicate_imb anomalies"
[ "$ndup" -eq 5 ] || fail=1

echo "== 4. Ohio voter-file sample (real addresses) as the roll: address clusters"
OH="$DATA/medsl_healthy_elections/OH_oh_sample.csv"
awk -F, 'NR>1{c[$6]++} END{for (a in c) h[c[a]]++; printf "real sample: %d voters, %d addresses;", NR-1, length(c); for (k in h) if (k > 1) printf " %d addresses with %d voters;", h[k], k; print ""}' "$OH"
# Every voter is mailed one ballot at the real address; 24 clusters of 5..28 voters from
# the end of the file get their ballots mailed to one injected address each.
mkdir -p "$WORK/oh"
awk -F, -v OFS=, -v dir="$WORK/oh" '
  NR == FNR { if (FNR > 1) n = FNR - 1; next }
  FNR == 1 {
    print "envelope_id,voter_id,ballot_style,issue_date,address" > dir "/issued.csv"
    print "envelope_id,returned_at,channel,outcome,reason" > dir "/returns.csv"
    print "envelope,cluster,size" > dir "/clusters.csv"
    # cluster j (1..24) has 4+j voters, taken from the last rows of the file
    start = n + 1
    for (j = 24; j >= 1; j--) { size = 4 + j; for (k = 0; k < size; k++) member[start - 1 - k] = j; start -= size; csize[j] = size }
    next }
  {
    i = FNR - 1; env = "OHE" $1; addr = $6
    if (i in member) { j = member[i]; addr = j " INJECTED CLUSTER RD COLUMBUS OH 43215"; print env, j, csize[j] > dir "/clusters.csv" }
    print env, $4, "", "2020-10-06", addr > dir "/issued.csv"
    if (i % 10 < 7) print env, sprintf("2020-10-%02dT%02d:%02d:00", 10 + i % 20, 8 + i % 10, i % 60), "mail", "accepted", "" > dir "/returns.csv"
  }' "$OH" "$OH"
"$BIN" --quiet --store "$WORK/s.db" ballots reconcile --layout ohio --roll "$OH" --issued "$WORK/oh/issued.csv" \
  --returns "$WORK/oh/returns.csv" --deadline 2020-11-03T19:30:00 --out "$WORK/oh_out" --no-ledger >/dev/null
read -r flagged found10 inj10 found_small inj_small false_c < <(awk -F, '
  NR == FNR { if (FNR > 1) { cl[$1] = $2; sz[$2] = $3 }; next }
  FNR > 1 && $1 == "address_cluster" { n = split($3, w, " "); e = w[n]; flagged++; if (e in cl) hit[cl[e]] = 1; else fp++ }
  END { for (j in sz) { if (sz[j] >= 10) { i10++; if (j in hit) f10++ } else { is++; if (j in hit) fs++ } }
        print flagged + 0, f10 + 0, i10 + 0, fs + 0, is + 0, fp + 0 }' "$WORK/oh/clusters.csv" "$WORK/oh_out/anomalies.csv")
closes "$WORK/oh_out/reconciliation.txt"
nf=$(($(wc -l < "$WORK/oh_out/findings.csv") - 1)); nm=$(($(wc -l < "$WORK/oh_out/malformed.csv") - 1))
echo "ohio: $flagged address_cluster anomalies; injected clusters of >= 10 voters found $found10 of $inj10, of 5-9 voters $found_small of $inj_small; real addresses flagged: $false_c; rule findings $nf, malformed rows $nm"
[ "$found10" = "$inj10" ] && [ "$false_c" = 0 ] && [ "$nf" = 0 ] && [ "$nm" = 0 ] || fail=1
if [ "$fail" -ne 0 ]; then echo "eval-ballots: FAIL"; exit 1; fi
echo "eval-ballots: PASS"
