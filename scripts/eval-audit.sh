#!/usr/bin/env bash
# Evaluation of the audit engine on real audits (../shared/data/rla):
#  1. Colorado ballot-comparison round reports: every row's optimistic and estimated
#     samples-to-audit recomputed by `scrutineer audit replay` must equal the published ones.
#  2. Georgia 2020 (Arlo export): per-county audited totals against output.csv, and the
#     audit's conclusion.
#  3. Cast-vote records read without loss and checked against their manifests.
# Prints the figures; exits non-zero on any mismatch or missing file.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
DATA="${RLA_DATA:-$ROOT/../shared/data/rla}"
OUT="$ROOT/target/eval-audit"
mkdir -p "$OUT"
fail=0

need() { for f in "$@"; do [[ -f "$f" ]] || { echo "MISSING: $f" >&2; exit 2; }; done; }

cargo build --quiet --release -p scrutineer
BIN="$ROOT/target/release/scrutineer"

echo "== 1. Colorado round reports (ballot comparison, ColoradoRLA formula)"
shopt -s nullglob
rounds=("$DATA"/colorado/*_round_*_contest.csv)
need "$DATA/colorado/2020_general_round_1_contest.csv" "$DATA/colorado/2020_general_round_2_contest.csv" \
     "$DATA/colorado/2020_general_round_3_contest.csv"
total_rows=0; total_match=0
for f in "${rounds[@]}"; do
  out="$OUT/replay-$(basename "$f")"
  "$BIN" --quiet audit replay --format colorado-contest "$f" --out "$out"
  read -r rows match < <(python3 - "$f" "$out" <<'PY'
import csv, sys
src = list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8-sig')))
with open(sys.argv[2], newline='') as fh:
    r = csv.reader(fh)
    header = next(r)
    out = list(r)
assert header == ['contest_name', 'optimistic_samples_to_audit', 'estimated_samples_to_audit'], header
assert len(out) == len(src), (len(out), len(src))
match = 0
for i, (s, o) in enumerate(zip(src, out), start=2):
    ok = (o[0] == s['contest_name'] and o[1] == s['optimistic_samples_to_audit']
          and o[2] == s['estimated_samples_to_audit'])
    if ok:
        match += 1
    else:
        print(f"MISMATCH {sys.argv[1]}:{i}: {s['contest_name']}: ours {o[1]}/{o[2]} "
              f"published {s['optimistic_samples_to_audit']}/{s['estimated_samples_to_audit']}",
              file=sys.stderr)
print(len(src), match)
PY
)
  printf '  %-45s %5d rows, %5d match\n' "$(basename "$f")" "$rows" "$match"
  total_rows=$((total_rows + rows)); total_match=$((total_match + match))
done
pct=$(python3 -c "print(f'{100*$total_match/$total_rows:.2f}')")
echo "  replay: ${pct}% of ${total_rows} rows match (optimistic and estimated)"
[[ "$total_match" -eq "$total_rows" ]] || fail=1

echo "== 2. Georgia 2020 presidential audit (Arlo export, BRAVO 10%, full hand tally)"
GA="$DATA/ga2020_rla"
need "$GA/input-data_audit-report-November-3-2020-General-Election-2020-11-19.csv" "$GA/output.csv"
"$BIN" --quiet --json audit arlo "$GA/input-data_audit-report-November-3-2020-General-Election-2020-11-19.csv" \
  --totals "$OUT/ga-totals.csv" > "$OUT/ga-conclusion.json"
python3 - "$OUT/ga-totals.csv" "$GA/output.csv" "$OUT/ga-conclusion.json" <<'PY' || fail=1
import csv, json, sys
ours = {r['jurisdiction'].upper(): r for r in csv.DictReader(open(sys.argv[1], newline=''))}
ref = list(csv.DictReader(open(sys.argv[2], newline='', encoding='utf-8-sig')))
# output.csv (cjerdonek/georgia-2020-presidential-election) subtracts 119,461 second-sheet
# cards from Gwinnett's RLA undervotes and ballots: its author's documented correction,
# not part of Arlo's export. We check that the difference is exactly that and nothing else.
ADJUST = {'GWINNETT': 119461}
def fig(r):
    g = lambda k: int(r[k])
    tbj = g('Donald J. Trump') + g('Joseph R. Biden') + g('Jo Jorgensen')
    inv, val = g('Invalid Write-In'), g('Valid Write-iin')
    return {'RLA-TBJ': tbj, 'RLA-Und': g('Blank/Undervote'), 'RLA-Ovr': g('Overvote'), 'RLA-Oth': inv + val,
            'RLA-BC': g('total'), 'RLA-InvW': inv, 'RLA-ValW': val}
total = {k: 0 for k in ['RLA-TBJ','RLA-Und','RLA-Ovr','RLA-Oth','RLA-BC','RLA-InvW','RLA-ValW']}
exact = adjusted = bad = 0
for row in ref:
    name = row['County'].upper()
    if name == 'ALL':
        continue
    f = fig(ours[name])
    for k in total: total[k] += f[k]
    adj = ADJUST.get(name, 0)
    f2 = dict(f, **{'RLA-Und': f['RLA-Und'] - adj, 'RLA-BC': f['RLA-BC'] - adj})
    if all(f[k] == int(row[k]) for k in f):
        exact += 1
    elif adj and all(f2[k] == int(row[k]) for k in f2):
        adjusted += 1
    else:
        bad += 1
        print(f"  MISMATCH {name}: ours {f} reference { {k: row[k] for k in f} }", file=sys.stderr)
allrow = next(r for r in ref if r['County'] == 'ALL')
adj = sum(ADJUST.values())
all_ok = all(total[k] - (adj if k in ('RLA-Und', 'RLA-BC') else 0) == int(allrow[k]) for k in total)
n = len(ref) - 1
print(f"  counties: {exact} of {n} match exactly, {adjusted} match after the documented Gwinnett "
      f"second-sheet adjustment (119,461 cards), {bad} mismatched; statewide ALL row {'matches' if all_ok else 'DIFFERS'}")
c = json.load(open(sys.argv[3]))['conclusions'][0]
print(f"  conclusion: reported winner {c['reported_winners']}, hand-tally winner {c['audited_winners']}, "
      f"margin {c['audited_margin']} votes, full hand count {c['full_hand_count']}, confirmed {c['outcome_confirmed']}")
ok = bad == 0 and all_ok and exact + adjusted == n == 159 and c['outcome_confirmed'] and c['full_hand_count'] \
     and c['audited_winners'] == ['Joseph R. Biden']
sys.exit(0 if ok else 1)
PY

echo "== 3. Cast-vote records against their manifests"
SF="$DATA/sf2024_cvr"
need "$SF/cases_src_test_data_SF2024_CvrExport_0.json" "$SF/cases_src_test_data_SF2024_CvrExport_15.json" \
     "$SF/cases_src_test_data_SF2024_manifests_ContestManifest.json" "$SF/cases_src_test_data_SF2024_manifests_CandidateManifest.json"
"$BIN" --quiet --json audit cvr --format dominion-json "$SF"/cases_src_test_data_SF2024_CvrExport_*.json \
  --manifest "$SF" > "$OUT/sf2024.json"
python3 - "$OUT/sf2024.json" "$SF" <<'PY' || fail=1
import json, sys, glob
r = json.load(open(sys.argv[1]))
# Independent count with Python's json module.
cards = votes = 0
files = sorted(glob.glob(sys.argv[2] + '/*CvrExport_*.json'))
for f in files:
    for s in json.load(open(f))['Sessions']:
        cur = s['Modified'] if s.get('Modified') and s['Modified'].get('IsCurrent') else s['Original']
        for c in cur['Cards']:
            cards += 1
            votes += sum(1 for ct in c['Contests'] for m in ct['Marks'] if m['IsVote'])
print(f"  SF 2024 Dominion JSON: {r['files']} files ({r['lossless_files']} lossless), {r['cards']} cards "
      f"(independent count {cards}), {r['votes']} votes (independent {votes}), {len(r['problems'])} manifest problems")
sys.exit(0 if r['cards'] == cards == 169 and r['votes'] == votes and r['lossless_files'] == len(files)
         and not r['problems'] else 1)
PY
CO="$DATA/coloradorla_test"
need "$CO/test_e-1-20170310104116_arapahoe-CVR_Export.csv" "$CO/test_e-1-20170310104116_arapahoe-manifest.csv"
"$BIN" --quiet --json audit cvr --format dominion-csv "$CO/test_e-1-20170310104116_arapahoe-CVR_Export.csv" \
  --manifest "$CO/test_e-1-20170310104116_arapahoe-manifest.csv" \
  --hash "$CO/test_e-1-20170310104116_CVR-hash.txt" --hash "$CO/test_e-1-20170310104116_manifest-hash.txt" > "$OUT/arapahoe.json"
python3 - "$OUT/arapahoe.json" "$CO/test_e-1-20170310104116_arapahoe-CVR_Export.csv" <<'PY' || fail=1
import csv, json, sys
r = json.load(open(sys.argv[1]))
rows = list(csv.reader(open(sys.argv[2], newline='')))[4:]
ones = sum(1 for row in rows for v in row[8:] if v == '1')
hashes = ', '.join(f"{h['hash_file'].rsplit('/',1)[-1]}: {h['status']}" for h in r['hash_checks'])
print(f"  Arapahoe 2016 Dominion CSV: {r['records']} records vs manifest {r['manifest_ballots']} ballots, "
      f"{r['batches_matching']}/{r['batches_in_manifest']} batches match, {r['votes']} votes (independent {ones}); {hashes}")
sys.exit(0 if r['records'] == r['manifest_ballots'] == 165 and r['batches_matching'] == r['batches_in_manifest']
         and r['votes'] == ones and not r['problems'] else 1)
PY
RA="$DATA/shangrla_cvrs"
need "$RA/tests_raire_data_Oakland_2010_Mayor.raire" "$RA/tests_raire_data_Pierce_2008_CountyAuditor.raire"
"$BIN" --quiet --json audit cvr --format raire "$RA"/*.raire > "$OUT/raire.json"
# The peer: RAIRE in Rust (../shared/peers/raire-rs), built here into target/ behind a
# small harness that reads one RaireProblem (JSON) on stdin and prints its solution.
PEERS="${PEERS:-$ROOT/../shared/peers}"
need "$PEERS/raire-rs/raire/Cargo.toml"
PEER_SRC="$OUT/raire-peer"
mkdir -p "$PEER_SRC/src"
cat > "$PEER_SRC/Cargo.toml" <<TOML
[package]
name = "raire-peer"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
raire = { path = "$PEERS/raire-rs/raire" }
serde_json = "1"

[workspace]
TOML
cat > "$PEER_SRC/src/main.rs" <<'RS'
fn main() {
    let problem: raire::RaireProblem = serde_json::from_reader(std::io::stdin().lock()).expect("a RaireProblem");
    println!("{}", serde_json::to_string(&problem.solve()).expect("JSON"));
}
RS
cargo build --quiet --release --manifest-path "$PEER_SRC/Cargo.toml" --target-dir "$ROOT/target/raire-peer"
PEER_BIN="$ROOT/target/raire-peer/release/raire-peer"
python3 - "$OUT/raire.json" "$PEER_BIN" <<'PY' || fail=1
import json, subprocess, sys
r = json.load(open(sys.argv[1]))
ok = len(r) >= 4
for c in r:
    # The file, read independently: the candidates and rankings of this contest.
    lines = [l for l in open(c['file']).read().splitlines() if l.strip()]
    header = next(l.split(',') for l in lines[1:] if l.lower().startswith('contest,') and l.split(',')[1].strip() == c['contest'])
    n = int(header[2]); names = [x.strip() for x in header[3:3 + n]]
    ballots = [[x.strip() for x in l.split(',')[2:] if x.strip()] for l in lines[1:]
               if not l.lower().startswith('contest,') and l.split(',')[0].strip() == c['contest']]
    ranks = sum(len(b) for b in ballots)
    tally = {}
    for b in ballots:
        seen = []
        for x in b:
            if x not in seen:
                seen.append(x)
        key = tuple(names.index(x) for x in seen)
        tally[key] = tally.get(key, 0) + 1
    problem = {"metadata": {"contest": c['contest']}, "num_candidates": n,
               "votes": [{"n": k, "prefs": list(p)} for p, k in sorted(tally.items())],
               "audit": {"type": "OneOnMargin", "total_auditable_ballots": len(ballots)}}
    peer = json.loads(subprocess.run([sys.argv[2]], input=json.dumps(problem), capture_output=True, text=True,
                                     check=True).stdout)["solution"]
    name = c['file'].rsplit('/', 1)[-1]
    if 'Ok' not in peer:
        print(f"  {name}: RAIRE peer found no assertions: {peer}", file=sys.stderr); ok = False; continue
    peer = peer['Ok']
    peer_winner = names[peer['winner']]
    ours_difficulty = 1 / c['smallest_assorter_margin'] if c['smallest_assorter_margin'] > 0 else float('inf')
    print(f"  {name}: {c['ballots']} ballots (file lines {len(ballots)}), {c['rankings']} rankings "
          f"(independent {ranks}); IRV winner {c['winner']}, RAIRE peer {peer_winner}, declared {c.get('declared_winner')}; "
          f"assertions {c['assertions']} (peer's {len(peer['assertions'])}), smallest assorter margin "
          f"{c['smallest_assorter_margin']:.4f} = difficulty {ours_difficulty:.2f} (peer {peer['difficulty']:.2f}, "
          f"margin {peer['margin']} votes = {peer['margin'] / len(ballots):.4f})")
    # Every figure is compared: the counts with the file, the winner with the peer's
    # count (and the declaration, where there is one), and the assertion set with the
    # peer's: ours proves the same winner, so it holds on the reported ballots (margin
    # > 0) and cannot be easier to audit than the set RAIRE finds, which minimises the
    # difficulty (1 / the smallest diluted margin; ours at least the peer's). The counts
    # of assertions are printed, not compared: RAIRE trims for difficulty, not for
    # number, and a valid set may be smaller or larger than its.
    agree = c.get('winner_agrees')
    checks = {
        'ballots': c['ballots'] == len(ballots),
        'rankings': c['rankings'] == ranks,
        'winner vs peer': c['winner'] == peer_winner,
        'winner vs declared': agree is not False and (c.get('declared_winner') is None or agree is True),
        'assertions hold': c['smallest_assorter_margin'] > 0,
        'difficulty >= optimum': ours_difficulty >= peer['difficulty'] * (1 - 1e-9),
    }
    for what, passed in checks.items():
        if not passed:
            print(f"  MISMATCH {name}: {what}", file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
PY

if [[ "$fail" -ne 0 ]]; then echo "FAIL"; exit 1; fi
echo "PASS"
