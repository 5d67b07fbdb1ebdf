#!/usr/bin/env bash
# Agreement of `scrutineer audit raire-assertions` with raire-rs
# (../shared/peers/raire-rs/raire, built unmodified into target/ through a small harness
# crate that calls its RaireProblem::solve) on the ranked-choice files of
# ../shared/data/rla: every NSW 2021 mayoral contest in nsw2021_irv (also against its
# expected.csv winners and difficulties), the RAIRE files of shangrla_cvrs and the USIRV
# contests. Both sides get the same ballots with the same candidate numbering (a Python
# converter writes raire-rs's problem JSON) and the MinimizeTree trim, under each
# difficulty measure: 1 / diluted margin over all ballots (raire-rs's OneOnMargin, the
# one expected.csv states), its square (OneOnMarginSq) and BRAVO's ASN at α = 5% (BRAVO).
# Per contest it prints the winner, the number of assertions, the difficulty and the
# smallest margin of each, and whether the assertion sets are equal. Exits non-zero when
# a winner or a difficulty (relative 1e-9) differs, an expected.csv figure differs, or
# the assertion sets differ other than as explained in crates/audit/README.md: a set
# that differs must prove the same winner, have the same difficulty, and every
# assertion of either set must have a counterpart of equal difficulty in the other
# (ties between equally hard assertions, which each search breaks in its own order).
# 26 contests × 3 measures, under a second each on either side; building the harness the first time
# takes about 40 s.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
PEERS="$ROOT/../shared/peers/raire-rs/raire"
DATA="$ROOT/../shared/data/rla"
[[ -f "$PEERS/src/lib.rs" ]] || { echo "missing $PEERS/src/lib.rs" >&2; exit 1; }
for d in nsw2021_irv shangrla_cvrs usirv/USIRV; do
  [[ -d "$DATA/$d" ]] || { echo "missing $DATA/$d" >&2; exit 1; }
done
H="$ROOT/target/raire-peer-harness"
mkdir -p "$H/src"
cat > "$H/Cargo.toml" <<TOML
[package]
name = "raire-peer-harness"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
raire = { path = "$PEERS" }
serde_json = "1"
TOML
cat > "$H/src/main.rs" <<'RS'
// Reads raire-rs problem JSON files and prints one solution JSON per line.
fn main() {
    for f in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&f).expect("problem file");
        let p: raire::RaireProblem = serde_json::from_str(&text).expect("problem JSON");
        let start = std::time::Instant::now();
        let s = p.solve();
        let mut v = serde_json::to_value(&s).expect("solution JSON");
        v["seconds"] = start.elapsed().as_secs_f64().into();
        println!("{}", v);
    }
}
RS
cargo build --quiet --release --offline --manifest-path "$H/Cargo.toml" --target-dir "$ROOT/target/raire-peer-harness/target" 2>/dev/null \
  || cargo build --quiet --release --manifest-path "$H/Cargo.toml" --target-dir "$ROOT/target/raire-peer-harness/target"
cargo build --quiet -p scrutineer
BIN="$ROOT/target/debug/scrutineer"
PEER="$H/target/release/raire-peer-harness"
WORK="$ROOT/target/raire-peer-work"
rm -rf "$WORK"; mkdir -p "$WORK"

# The contests: format, file, contest id (empty: the file's only contest).
LIST="$WORK/contests.tsv"
: > "$LIST"
for f in "$DATA"/nsw2021_irv/*_cvr_contest_info.sql; do printf 'nsw-sql\t%s\t\n' "$f" >> "$LIST"; done
printf 'raire\t%s\t1\n' "$DATA/shangrla_cvrs/tests_raire_data_Oakland_2010_Mayor.raire" >> "$LIST"
printf 'raire\t%s\t1\n' "$DATA/shangrla_cvrs/tests_raire_data_Pierce_2008_CountyAuditor.raire" >> "$LIST"
for f in "$DATA"/usirv/USIRV/*.txt; do
  printf 'usirv\t%s\t\n' "$f" >> "$LIST"
done
for f in "$DATA"/shangrla_cvrs/examples_data_SFDA2019_*.raire; do
  printf 'raire\t%s\t339\n' "$f" >> "$LIST"
done

python3 - "$LIST" "$WORK" "$BIN" "$PEER" "$DATA/nsw2021_irv/expected.csv" <<'PY'
import csv, json, os, re, subprocess, sys, time
lst, work, binp, peer, expected = sys.argv[1:]

def read_raire(path, cid):
    lines = open(path).read().splitlines()
    n = int(lines[0]); cands = None; ballots = []
    heads = {}
    for l in lines[1:1 + n]:
        f = [x.strip() for x in l.split(',')]
        heads[f[1]] = f[3:3 + int(f[2])]
    cands = heads[cid]
    for l in lines[1 + n:]:
        f = [x.strip() for x in l.split(',')]
        if not l.strip() or f[0] != cid: continue
        r = []
        for c in f[2:]:
            if c and cands.index(c) not in r: r.append(cands.index(c))
        ballots.append(r)
    return cands, ballots

def read_nsw(path):
    cands = []; ballots = []
    for l in open(path, encoding='utf-8'):
        t = l.strip()
        if not t.startswith('('): continue
        a = t.index("'"); b = t.rindex("'")
        names = json.loads(t[a + 1:b].replace("''", "'"))
        r = []
        for nm in names:
            if nm not in cands: cands.append(nm)
            i = cands.index(nm)
            if i not in r: r.append(i)
        ballots.append(r)
    return cands, ballots

def read_usirv(path):
    lines = open(path).read().splitlines()
    cands = [x.strip() for x in lines[0].split(',') if x.strip()]
    ballots = []
    for l in lines[1:]:
        t = l.strip()
        if not t or t.startswith('-+'): continue
        r, k = t.rsplit(':', 1)
        r = [x.strip() for x in r.strip().strip('()').split(',') if x.strip()]
        rr = []
        for c in r:
            if cands.index(c) not in rr: rr.append(cands.index(c))
        ballots.extend([rr] * int(k))
    return cands, ballots

exp = {}
for row in csv.DictReader(open(expected, encoding='utf-8')):
    exp[row['sql_file'].replace('.sql', '_cvr_contest_info.sql')] = row

def key(a, names):
    t = a['type']
    if t in ('NEB', 'NotEliminatedBefore'):
        return ('NEB', names[a['winner']], names[a['loser']], ())
    return ('NEN', names[a['winner']], names[a['loser']], tuple(sorted(names[c] for c in a['continuing'])))

fails = []; n = same_sets = explained = 0
MEASURES = [('margin', [], lambda n: {'type': 'OneOnMargin', 'total_auditable_ballots': n}),
            ('margin-squared', [], lambda n: {'type': 'OneOnMarginSq', 'total_auditable_ballots': n}),
            ('bravo', ['--risk-limit', '0.05'], lambda n: {'type': 'BRAVO', 'confidence': 0.05, 'total_auditable_ballots': n})]
rows = [l.rstrip('\n').split('\t') + [m] for m in MEASURES for l in open(lst)]
print(f"{'contest':44} {'cands':>5} {'ballots':>7} {'winner':>22} {'ours':>5} {'peer':>5} {'difficulty':>20} {'margin':>6} {'ours s':>7} {'peer s':>7}  sets")
last = None
for fmt, path, cid, (mname, margs, maudit) in rows:
    if mname != last:
        print(f"-- measure {mname}"); last = mname
    base = os.path.basename(path)
    label = (base + (':' + cid if cid else ''))[:44]
    cands, ballots = {'raire': lambda: read_raire(path, cid), 'nsw-sql': lambda: read_nsw(path), 'usirv': lambda: read_usirv(path)}[fmt]()
    out = os.path.join(work, f"{len(os.listdir(work))}-ours.json")
    args = [binp, 'audit', 'raire-assertions', '--cvrs', path, '--format', fmt, '--out', out, '--measure', mname] + margs
    if cid: args += ['--contest', cid]
    t0 = time.time(); r = subprocess.run(args, capture_output=True, text=True); ours_s = time.time() - t0
    if r.returncode != 0:
        fails.append(f"{label} [{mname}]: scrutineer failed: {r.stderr.strip()}"); continue
    ours = json.load(open(out))
    if ours['candidates'] != cands:
        fails.append(f"{label} [{mname}]: candidate numbering differs from the converter's"); continue
    merged = {}
    for b in ballots: merged[tuple(b)] = merged.get(tuple(b), 0) + 1
    prob = {'metadata': {'candidates': cands}, 'num_candidates': len(cands),
            'votes': [{'n': k, 'prefs': list(p)} for p, k in merged.items()],
            'audit': maudit(len(ballots)),
            'trim_algorithm': 'MinimizeTree', 'time_limit_seconds': 120.0}
    pf = out.replace('-ours.json', '-problem.json'); json.dump(prob, open(pf, 'w'))
    pr = subprocess.run([peer, pf], capture_output=True, text=True, check=True)
    sol = json.loads(pr.stdout)
    if 'Err' in sol['solution']:
        fails.append(f"{label} ({mname}): raire-rs: {sol['solution']['Err']}"); continue
    ps = sol['solution']['Ok']
    n += 1
    pw = cands[ps['winner']]
    if pw != ours['winner_name']: fails.append(f"{label} [{mname}]: winner ours {ours['winner_name']} raire-rs {pw}")
    if abs(ps['difficulty'] - ours['difficulty']) > 1e-9 * max(1.0, abs(ps['difficulty'])):
        fails.append(f"{label} [{mname}]: difficulty ours {ours['difficulty']} raire-rs {ps['difficulty']}")
    if ps['margin'] != ours['margin']: fails.append(f"{label} [{mname}]: margin ours {ours['margin']} raire-rs {ps['margin']}")
    ok = {key(a['assertion'], cands): a['difficulty'] for a in ours['assertions']}
    pk = {key(a['assertion'], cands): a['difficulty'] for a in ps['assertions']}
    for k in set(ok) & set(pk):
        if abs(ok[k] - pk[k]) > 1e-9 * max(1.0, abs(pk[k])): fails.append(f"{label} [{mname}]: difficulty of {k} ours {ok[k]} raire-rs {pk[k]}")
    if set(ok) == set(pk):
        sets = 'equal'; same_sets += 1
    else:
        od = sorted(ok[k] for k in set(ok) - set(pk)); pd = sorted(pk[k] for k in set(pk) - set(ok))
        match = all(any(abs(x - y) <= 1e-9 * max(1, y) for y in pk.values()) for x in od) and \
                all(any(abs(x - y) <= 1e-9 * max(1, y) for y in ok.values()) for x in pd)
        sets = f"differ ({len(od)} ours only, {len(pd)} raire-rs only)"
        if match: sets += ': equal-difficulty ties'; explained += 1
        else: fails.append(f"{label} [{mname}]: assertion sets differ beyond ties: ours only {sorted(set(ok)-set(pk))} raire-rs only {sorted(set(pk)-set(ok))}")
    e = exp.get(base) if mname == 'margin' else None
    if e is not None:
        if e['winner'] != ours['winner_name']: fails.append(f"{label} [{mname}]: expected.csv winner {e['winner']}, ours {ours['winner_name']}")
        if abs(float(e['raire_difficulty']) - ours['difficulty']) > 1e-9 * float(e['raire_difficulty']):
            fails.append(f"{label} [{mname}]: expected.csv difficulty {e['raire_difficulty']}, ours {ours['difficulty']}")
        if int(e['ballot_count']) != ours['ballots']: fails.append(f"{label} [{mname}]: expected.csv ballots {e['ballot_count']}, ours {ours['ballots']}")
        sets += '; expected.csv equal'
    print(f"{label:44} {len(cands):5} {len(ballots):7} {ours['winner_name'][:22]:>22} {len(ok):5} {len(pk):5} {ours['difficulty']:20.12f} {ours['margin']:6} {ours_s:7.2f} {sol['seconds']:7.2f}  {sets}")
print(f"summary: {n} contest × measure runs compared ({len(rows) // len(MEASURES)} contests, {len(MEASURES)} measures); winners, difficulties and margins equal in all but {len(fails)} differences; assertion sets equal in {same_sets}, equal-difficulty ties in {explained}; expected.csv: {sum(1 for r in rows if os.path.basename(r[1]) in exp and r[3][0] == 'margin')} of {len(exp)} contests checked")
for f in fails: print("DIFFERENCE:", f)
sys.exit(1 if fails else 0)
PY
