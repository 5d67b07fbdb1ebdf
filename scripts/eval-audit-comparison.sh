#!/usr/bin/env bash
# Ballot-comparison audits on Colorado's real files (../shared/data/rla):
#  1. Colorado 2020 general: every contest's winners, smallest margin, card universe
#     (ballot_card_count), diluted margin, risk limit, gamma and first-round sample size
#     recomputed by `scrutineer audit comparison colorado-canvass` from the published
#     canvass (tabulate.csv, contests_by_county.csv, batch_count_comparison.csv), printed
#     beside round 1's contest.csv.
#  2. Colorado 2024 presidential primary: one- and two-vote over/understatements per
#     contest counted by `audit comparison colorado-discrepancies` from the published
#     audit-board comparisons (contestComparison.csv), beside round 1's contest.csv; the
#     audited sample counts beside the published random selections (contestSelection.csv).
#  3. The Arapahoe Dominion export and manifest run through the whole workflow (start,
#     seed, draw, form, record, status, report): every drawn card's ticket and every
#     contest's sample recomputed independently with Python's hashlib from the public
#     files and seed; the report's margins and card counts against an independent
#     tabulation of the CVR file; an injected misread shows up as a discrepancy.
# The published files used: 2020 general tabulate, contests_by_county, batch_count_comparison,
# upload_status and round_1_contest; 2024 primary contestComparison, contestSelection (both)
# and round_1_contest. Exits non-zero on any difference not explained here.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
DATA="${RLA_DATA:-$ROOT/../shared/data/rla}"
OUT="$ROOT/target/eval-audit-comparison"
PROFILE="${EVAL_PROFILE:-release}"
rm -rf "$OUT"; mkdir -p "$OUT"
fail=0
need() { for f in "$@"; do [[ -f "$f" ]] || { echo "MISSING: $f" >&2; exit 2; }; done; }

if [[ "$PROFILE" == release ]]; then cargo build --quiet --release -p scrutineer; else cargo build --quiet -p scrutineer; fi
BIN="$ROOT/target/$PROFILE/scrutineer"
CO="$DATA/colorado"

echo "== 1. Colorado 2020 general: reported outcome and round-1 figures from the canvass"
need "$CO/2020_general_tabulate.csv" "$CO/2020_general_contests_by_county.csv" \
     "$CO/2020_general_batch_count_comparison.csv" "$CO/2020_general_round_1_contest.csv" \
     "$CO/2020_general_upload_status.csv"
"$BIN" --quiet audit comparison colorado-canvass --tabulate "$CO/2020_general_tabulate.csv" \
  --contests-by-county "$CO/2020_general_contests_by_county.csv" \
  --batch-counts "$CO/2020_general_batch_count_comparison.csv" \
  --contests "$CO/2020_general_round_1_contest.csv" --risk-limit 0.04 --gamma 1.03905 --out "$OUT/canvass-2020.csv"
python3 - "$OUT/canvass-2020.csv" "$CO/2020_general_round_1_contest.csv" "$CO/2020_general_upload_status.csv" \
  "$CO/2020_general_batch_count_comparison.csv" "$CO/2020_general_contests_by_county.csv" <<'PY' || fail=1
import csv, sys, collections
ours = list(csv.DictReader(open(sys.argv[1], newline='')))
pub = list(csv.DictReader(open(sys.argv[2], newline='', encoding='utf-8-sig')))
# Douglas County: ColoradoRLA's card count is the records of the CVR upload, which holds
# more records than the batches compared in batch_count_comparison.csv. The upload's line
# count (upload_status.csv approx_count) less Dominion's four header lines gives it.
uploads = [r for r in csv.DictReader(open(sys.argv[3], newline=''))
           if r['name'] == 'Douglas' and r['type'] == 'CVRs' and r['status'] == 'IMPORTED']
douglas_batches = sum(int(r['count_per_cvr_file']) for r in csv.DictReader(open(sys.argv[4], newline=''))
                      if r['county_name'] == 'Douglas')
douglas_extra = int(uploads[-1]['approx_count']) - 4 - douglas_batches
in_douglas = {r['contest_name'] for r in csv.DictReader(open(sys.argv[5], newline='')) if r['county_name'] == 'Douglas'}
assert len(ours) == len(pub), (len(ours), len(pub))
n = len(pub)
match = collections.Counter(); explained = collections.Counter(); bad = 0
for o, p in zip(ours, pub):
    assert o['contest_name'] == p['contest_name']
    name = p['contest_name']
    def check(field, ok, expl=False):
        global bad
        if ok: match[field] += 1
        elif expl: explained[field] += 1
        else:
            bad += 1
            print(f"  MISMATCH {name}: {field}: ours {o.get(field)} published {p.get(field)}", file=sys.stderr)
    names = lambda cell: sorted(next(csv.reader([cell]))) if cell else []
    check('winners', names(o['winners']) == names(p['winners']) or int(p['min_margin']) == 0 and o['min_margin'] == '0')
    check('min_margin', o['min_margin'] == p['min_margin'])
    card_expl = name in in_douglas and int(p['ballot_card_count']) - int(o['ballot_card_count']) == douglas_extra
    check('ballot_card_count', o['ballot_card_count'] == p['ballot_card_count'], card_expl)
    mu_o = int(o['min_margin']) / int(o['ballot_card_count']) if int(o['ballot_card_count']) else 0
    mu_p = int(p['min_margin']) / int(p['ballot_card_count']) if int(p['ballot_card_count']) else 0
    check('diluted_margin', abs(mu_o - mu_p) < 1e-12, card_expl)
    check('risk_limit', float(o['risk_limit']) == float(p['risk_limit']))
    check('gamma', float(o['gamma']) == float(p['gamma']))
    no_disc = all(p[k] == '0' for k in ('two_vote_over_count', 'one_vote_over_count', 'one_vote_under_count', 'two_vote_under_count'))
    if no_disc:
        check('optimistic_samples_to_audit', o['optimistic_samples_to_audit'] == p['optimistic_samples_to_audit'],
              card_expl)
print(f"  {n} contests; Douglas CVR upload holds {douglas_extra} records beyond its compared batches")
for field in ('winners', 'min_margin', 'ballot_card_count', 'diluted_margin', 'risk_limit', 'gamma', 'optimistic_samples_to_audit'):
    total = match[field] + explained[field]
    extra = f", {explained[field]} differ by the Douglas upload's {douglas_extra} extra records" if explained[field] else ""
    print(f"  {field:28s} {match[field]:4d} of {total:4d} equal{extra}")
sys.exit(1 if bad or douglas_extra <= 0 else 0)
PY

echo "== 2. Colorado 2024 presidential primary: discrepancies from the audit boards' comparisons"
need "$CO/2024_presidential_round_1_contestComparison.csv" "$CO/2024_presidential_round_1_contest.csv" \
     "$CO/2024_presidential_round_1_contestSelection.csv"
"$BIN" --quiet audit comparison colorado-discrepancies \
  --comparison "$CO/2024_presidential_round_1_contestComparison.csv" \
  --contests "$CO/2024_presidential_round_1_contest.csv" --out "$OUT/discrepancies-2024-r1.csv"
need "$CO/2024_presidential_contestSelection.csv"
"$BIN" --quiet audit replay --format colorado-contest "$CO/2024_presidential_round_1_contest.csv" \
  --out "$OUT/replay-2024-r1.csv"
python3 - "$OUT/discrepancies-2024-r1.csv" "$CO/2024_presidential_round_1_contest.csv" \
  "$CO/2024_presidential_contestSelection.csv" "$OUT/replay-2024-r1.csv" \
  "$CO/2024_presidential_round_1_contestSelection.csv" <<'PY' || fail=1
import csv, json, sys
ours = {r['contest_name']: r for r in csv.DictReader(open(sys.argv[1], newline=''))}
pub = list(csv.DictReader(open(sys.argv[2], newline='', encoding='utf-8-sig')))
sel = {r['contest_name']: json.loads(r['contest_cvr_ids']) for r in csv.DictReader(open(sys.argv[3], newline=''))}
rep = {r['contest_name']: r for r in csv.DictReader(open(sys.argv[4], newline=''))}
keys = ('two_vote_over_count', 'one_vote_over_count', 'one_vote_under_count', 'two_vote_under_count')
disc_ok = count_ok = size_ok = bad = 0
for p in pub:
    name = p['contest_name']
    o = ours.get(name, dict.fromkeys(keys, '0'))
    if all(o[k] == p[k] for k in keys): disc_ok += 1
    else:
        bad += 1; print(f"  MISMATCH {name}: ours {[o[k] for k in keys]} published {[p[k] for k in keys]}", file=sys.stderr)
    if len(sel.get(name, [])) == int(p['audited_sample_count']): count_ok += 1
    else:
        bad += 1; print(f"  MISMATCH {name}: {len(sel.get(name, []))} selected, audited {p['audited_sample_count']}", file=sys.stderr)
    r = rep[name]
    if (r['optimistic_samples_to_audit'], r['estimated_samples_to_audit']) == (p['optimistic_samples_to_audit'], p['estimated_samples_to_audit']): size_ok += 1
    else: bad += 1
    found = [k for k in keys if p[k] != '0']
    if found:
        print(f"  {name}: published {', '.join(f'{k}={p[k]}' for k in found)}; "
              f"ours {', '.join(f'{k}={o[k]}' for k in found)}; {o.get('compared_cards', 0)} cards carry it of "
              f"{p['audited_sample_count']} drawn; sizes {r['optimistic_samples_to_audit']}/{r['estimated_samples_to_audit']} "
              f"(published {p['optimistic_samples_to_audit']}/{p['estimated_samples_to_audit']})")
n = len(pub)
print(f"  discrepancy counts (o2, o1, u1, u2): {disc_ok} of {n} contests equal")
print(f"  audited_sample_count = draws in the published random selection: {count_ok} of {n}")
print(f"  optimistic/estimated samples to audit recomputed: {size_ok} of {n}")
# The file named round_1_contestSelection.csv holds the selections after round 2: it
# differs from contestSelection.csv only for Montezuma, the one contest that went on.
later = {r['contest_name']: json.loads(r['contest_cvr_ids']) for r in csv.DictReader(open(sys.argv[5], newline=''))}
for name in sorted(later):
    if later[name] != sel.get(name):
        p = next(x for x in pub if x['contest_name'] == name)
        print(f"  {name}: round 2 drew to {len(later[name])} draws ({len(later[name]) - len(sel.get(name, []))} new); "
              f"round 1 published estimated {p['estimated_samples_to_audit']} (not gated: see the README)")
print("  (the random selections themselves cannot be redrawn: the files hold neither the seed nor the manifests)")
sys.exit(1 if bad else 0)
PY

echo "== 3. Arapahoe Dominion export: the whole comparison workflow, redrawn independently"
AR="$DATA/coloradorla_test"
need "$AR/test_e-1-20170310104116_arapahoe-CVR_Export.csv" "$AR/test_e-1-20170310104116_arapahoe-manifest.csv"
printf 'jurisdiction,manifest,cvr\nArapahoe,%s,%s\n' "$AR/test_e-1-20170310104116_arapahoe-manifest.csv" \
  "$AR/test_e-1-20170310104116_arapahoe-CVR_Export.csv" > "$OUT/jurisdictions.csv"
SEED=80432587192547316408
A="$OUT/arapahoe-audit.json"
"$BIN" --quiet audit comparison start --jurisdictions "$OUT/jurisdictions.csv" --name "Arapahoe 2016 test" \
  --risk-limit 0.1 --universe card-style --out "$A"
"$BIN" --quiet audit comparison seed --audit "$A" --seed "$SEED" --rolled-by "Board member A" \
  --rolled-by "Board member B" --witness "Observer" --at 2016-11-18T10:00:00Z
"$BIN" --quiet audit comparison draw --audit "$A" --boards 2 --retrieval-dir "$OUT/retrieval"
"$BIN" --quiet audit comparison form --audit "$A" --out "$OUT/form.csv"
python3 - "$OUT/form.csv" "$AR/test_e-1-20170310104116_arapahoe-CVR_Export.csv" "$OUT/readings.csv" <<'PY'
# Fills the form from the CVR export itself, read here independently, so that the audit
# boards agree with every CVR except one card where the board sees no vote for the
# winner of the Presidential Electors contest (a one-vote overstatement if sampled).
import csv, sys
rows = list(csv.reader(open(sys.argv[2], newline='')))
contests, choices, cvr = rows[1], rows[2], {}
for r in rows[4:]:
    pos = (r[1].strip('="'), r[2].strip('="'), r[3].strip('="'))
    votes = {}
    for i in range(8, len(r)):
        if r[i] != '':
            name = contests[i].split(' (Vote For=')[0]
            votes.setdefault(name, [])
            if r[i] == '1': votes[name].append(choices[i])
    cvr[pos] = votes
form = list(csv.DictReader(open(sys.argv[1], newline='')))
w = csv.writer(open(sys.argv[3], 'w', newline=''))
w.writerow(['jurisdiction', 'audit_board', 'tabulator', 'batch', 'position', 'found', 'contest', 'choice'])
flipped = False
for f in form:
    got = cvr[(f['tabulator'], f['batch'], f['position'])][f['contest']]
    if not flipped and f['contest'] == 'Presidential Electors' and got == ['Hillary Clinton / Tim Kaine']:
        got, flipped = [], True
    for c in got or ['']:
        w.writerow([f['jurisdiction'], f['audit_board'], f['tabulator'], f['batch'], f['position'], 'yes', f['contest'], c])
PY
"$BIN" --quiet audit comparison record --audit "$A" --readings "$OUT/readings.csv"
"$BIN" --quiet audit comparison report --audit "$A" --out "$OUT/arapahoe-report.csv"
"$BIN" --quiet --json audit comparison status --audit "$A" > "$OUT/arapahoe-status.json"
"$BIN" --quiet audit replay --format colorado-contest "$OUT/arapahoe-report.csv" --out "$OUT/arapahoe-replay.csv"
python3 - "$A" "$AR/test_e-1-20170310104116_arapahoe-CVR_Export.csv" "$OUT/arapahoe-report.csv" \
  "$OUT/retrieval/round-1-retrieval.csv" "$OUT/arapahoe-replay.csv" "$SEED" <<'PY' || fail=1
import csv, hashlib, json, re, sys, collections
state = json.load(open(sys.argv[1]))
rows = list(csv.reader(open(sys.argv[2], newline='')))
seed = sys.argv[6]
contests, choices = rows[1], rows[2]
tally = collections.defaultdict(collections.Counter); carry = collections.defaultdict(list)
vote_for = {}
cards = []
for r in rows[4:]:
    tab, batch, rec = (r[1].strip('="'), r[2].strip('="'), r[3].strip('="'))
    cid = f"Arapahoe/{tab}/{batch}-{rec}"
    cards.append(cid)
    on = {}
    for i in range(8, len(r)):
        if r[i] == '': continue
        name = contests[i].split(' (Vote For=')[0]
        vote_for[name] = int(contests[i].split('Vote For=')[1].split(')')[0]) if 'Vote For=' in contests[i] else 1
        on.setdefault(name, []); tally[name][choices[i]] += 0
        if r[i] == '1': on[name].append(choices[i])
    for name, v in on.items():
        carry[name].append(cid)
        if len(v) <= vote_for[name]:
            for c in v: tally[name][c] += 1
# Rivest's consistent sampler, first tickets: sha256(hex(sha256(hex(sha256(seed)) + ":id:" + id)) + "0").
h = lambda s: hashlib.sha256(s.encode()).hexdigest()
seed_hash = h(seed)
ticket = {c: h(h(f"{seed_hash}:id:{c}") + "0") for c in cards}
drawn = {c['id']: c for c in state['cards']}
bad = 0
for cid, c in drawn.items():
    if ticket[cid] != c['ticket']:
        bad += 1; print(f"  TICKET MISMATCH {cid}", file=sys.stderr)
want = set()
for ct in state['contests']:
    n = ct['sample_size']
    mine = sorted(carry[ct['name']], key=lambda c: (ticket[c], c))[:n]
    want.update(mine)
    if ct['universe_cards'] != len(carry[ct['name']]):
        bad += 1; print(f"  UNIVERSE MISMATCH {ct['name']}", file=sys.stderr)
if want != set(drawn):
    bad += 1; print(f"  SAMPLE MISMATCH: {len(want)} independent, {len(drawn)} drawn", file=sys.stderr)
rep = list(csv.DictReader(open(sys.argv[3], newline='')))
margin_ok = 0
for r in rep:
    t = sorted(tally[r['contest_name']].items(), key=lambda x: (-x[1], x[0]))
    k = int(r['winners_allowed'])
    m = t[k - 1][1] - t[k][1] if len(t) > k else 0
    if m == int(r['min_margin']) and int(r['contest_ballot_card_count']) == len(carry[r['contest_name']]): margin_ok += 1
    else:
        bad += 1; print(f"  REPORT MISMATCH {r['contest_name']}: margin {r['min_margin']} vs {m}", file=sys.stderr)
retr = list(csv.DictReader(open(sys.argv[4], newline='')))
# Containers in natural order: runs of digits compare as numbers ("Bin 2" before "Bin 10").
natural = lambda s: [(0, int(p), '') if p.isdigit() else (1, 0, p) for p in re.findall(r'\d+|\D+', s)]
order = [(natural(r['container']), int(r['tabulator']), int(r['batch']), int(r['position'])) for r in retr]
if order != sorted(order):
    bad += 1; print("  RETRIEVAL LIST not in container, tabulator, batch, position order", file=sys.stderr)
replay = list(csv.DictReader(open(sys.argv[5], newline='')))
replay_ok = sum(1 for a, b in zip(rep, replay) if (a['optimistic_samples_to_audit'], a['estimated_samples_to_audit'])
                == (b['optimistic_samples_to_audit'], b['estimated_samples_to_audit']))
pres = next(r for r in rep if r['contest_name'] == 'Presidential Electors')
seed_rec = state['seed']
print(f"  seed ceremony: {seed_rec['seed']} rolled by {', '.join(seed_rec['rolled_by'])} at {seed_rec['at']}")
print(f"  {len(drawn)} of {len(cards)} cards drawn; tickets equal to an independent hashlib recomputation: "
      f"{sum(1 for c in drawn if ticket[c] == drawn[c]['ticket'])} of {len(drawn)}; samples per contest equal: "
      f"{'yes' if want == set(drawn) else 'NO'}")
print(f"  report: margins and contest card counts equal to an independent tabulation in {margin_ok} of {len(rep)} contests; "
      f"replayed sizes equal in {replay_ok} of {len(rep)}")
print(f"  Presidential Electors: {pres['audited_sample_count']} cards audited, o1={pres['one_vote_over_count']}, "
      f"status {pres['random_audit_status']}; retrieval list {len(retr)} cards")
sys.exit(1 if bad or replay_ok != len(rep) else 0)
PY

exit "$fail"
