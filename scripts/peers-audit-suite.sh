#!/usr/bin/env bash
# Side-by-side check of hybrid (SUITE) audits against Arlo's own implementation
# (../shared/peers/arlo-audit-math/audit_math/suite.py, run unmodified from there):
#  1. the strata of Arlo's tests/test_suite.py, and generated strata (two to six
#     candidates, one or two winners, samples with over- and understatements), given to
#     `scrutineer audit hybrid calc`: the combined risk (compute_risk) and the next
#     round's sizes of both strata (get_sample_size) compared;
#  2. generated elections run through `scrutineer audit hybrid start|draw|record|status`
#     for two rounds: Arlo is given the same strata, its misstatements counted by its own
#     `misstatements` from the CVRs and the boards' readings, and its risk and sizes
#     compared with the status.
# Arlo refuses a risk once a stratum is sampled in full and a size that would count one
# in full (ValueError): those are compared as "full hand count". SUITE_FULL=1 runs more
# generated strata and elections, and two slow test cases of Arlo's (a few minutes of
# CPU: Arlo's size search is slow in Python); the default run takes about 25 s of CPU. Exits non-zero on any
# risk differing beyond relative 1e-9 (absolute 1e-12) or any size differing.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
PEERS="$ROOT/../shared/peers/arlo-audit-math"
[[ -f "$PEERS/audit_math/suite.py" ]] || { echo "missing $PEERS/audit_math/suite.py" >&2; exit 1; }
VENV="$ROOT/target/audit-suite-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" || { sudo apt-get update && sudo apt-get install -y python3-venv && python3 -m venv "$VENV"; }
fi
# suite.py imports numpy and scipy; tests/test_suite.py imports pytest.
"$VENV/bin/python" -c "import numpy, scipy, pytest" 2>/dev/null \
  || "$VENV/bin/pip" install --quiet "numpy==2.2.1" "scipy==1.15.1" "pytest==8.3.4"

# Harness package: Arlo's module sits in server/audit_math (relative imports);
# suite.py needs only sampler_contest, bravo and supersimple, whose imports of the
# application (config, models) the harness supplies.
H="$ROOT/target/audit-suite-harness"
rm -rf "$H"; mkdir -p "$H/server/tests"
touch "$H/server/__init__.py" "$H/server/tests/__init__.py"
echo "MINERVA_MULTIPLE = 1.5" > "$H/server/config.py"
cat > "$H/server/models.py" <<'PYEOF'
import enum
class AuditMathType(str, enum.Enum):
    BRAVO = "BRAVO"
    MINERVA = "MINERVA"
    PROVIDENCE = "PROVIDENCE"
    SUPERSIMPLE = "SUPERSIMPLE"
    MACRO = "MACRO"
    SUITE = "SUITE"
PYEOF
ln -s "$PEERS/audit_math" "$H/server/audit_math"
ln -s "$PEERS/tests" "$H/server/tests/audit_math"

cargo build --quiet -p scrutineer
BIN="$ROOT/target/debug/scrutineer"
WORK="$ROOT/target/audit-suite-work"
rm -rf "$WORK"; mkdir -p "$WORK"
PYTHONPATH="$H" "$VENV/bin/python" - "$BIN" "$WORK" <<'PY'
import json, math, os, random, subprocess, sys, time
from itertools import product
from server.audit_math import suite
from server.audit_math.sampler_contest import Contest

BIN, WORK = sys.argv[1], sys.argv[2]
FULL = os.environ.get("SUITE_FULL") == "1"

def sh(args, cwd):
    r = subprocess.run([BIN, "--quiet", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"scrutineer {' '.join(args)}: {r.stderr}")
    return r.stdout

def close(a, b):
    return abs(a - b) <= 1e-12 + 1e-9 * max(abs(a), abs(b))

compared = bad = 0
worst_rel = 0.0
arlo_cpu = 0.0

def arlo(risk_pct, totals, winners, ballots, cvr, bp):
    info = dict(totals); info.update(ballots=ballots, numWinners=winners, votesAllowed=winners)
    contest = Contest("c", info)
    mis = {}
    for w, l in product(contest.winners, contest.losers):
        mis[(w, l)] = {**dict(o1=0, o2=0, u1=0, u2=0), **cvr.get("mis", {}).get((w, l), {})}
    cs = suite.BallotComparisonStratum(cvr["ballots"], cvr["totals"], mis, cvr["sample_size"])
    bs = suite.BallotPollingStratum(bp["ballots"], bp["totals"], {"r": dict(bp["sample"])}, bp["sample_size"])
    try:
        risk = float(suite.compute_risk(risk_pct, contest, bs, cs)[0])
    except ValueError:
        risk = None
    try:
        s = suite.get_sample_size(risk_pct, contest, bs, cs)
        size = (s.cvr, s.non_cvr, False)
    except ValueError:
        size = (None, None, True)
    return risk, size

def question(name, risk_pct, totals, winners, ballots, cvr, bp):
    mis = {}
    for (w, l), m in cvr.get("mis", {}).items():
        mis.setdefault(w, {})[l] = {**dict(o1=0, o2=0, u1=0, u2=0), **m}
    q = {"version": 1, "risk_limit": risk_pct / 100, "contest": name, "totals": totals, "winners": winners,
         "ballots": ballots,
         "cvr": {"ballots": cvr["ballots"], "totals": cvr["totals"], "sample_size": cvr["sample_size"], "misstatements": mis},
         "no_cvr": {"ballots": bp["ballots"], "totals": bp["totals"], "sample_size": bp["sample_size"], "sample": bp["sample"]}}
    p = os.path.join(WORK, f"{name}.json")
    json.dump(q, open(p, "w"))
    return json.loads(sh(["--json", "audit", "hybrid", "calc", "--input", p], WORK))

def report(name, a_risk, a_size, o_risk, o_size, refused_risk_ok=True):
    global compared, bad, worst_rel
    ok_risk = a_risk is None or close(a_risk, o_risk)
    if o_size is None:
        # The audit stopped: no next round to compare.
        ok_size = True
    elif a_size[2]:
        ok_size = o_size[2]
    else:
        ok_size = (not o_size[2]) and a_size[0] == o_size[0] and a_size[1] == o_size[1]
    if a_risk is not None and max(abs(a_risk), abs(o_risk)) > 0:
        worst_rel = max(worst_rel, abs(a_risk - o_risk) / max(abs(a_risk), abs(o_risk)))
    compared += 1
    bad += not (ok_risk and ok_size)
    fmt = lambda s: "stop" if s is None else "full" if s[2] else f"{s[0]}+{s[1]}"
    ar = "refused" if a_risk is None else f"{a_risk:.10f}"
    print(f"{name:<28}{ar:>14}{o_risk:>14.10f}{fmt(a_size):>12}{fmt(o_size):>12}{arlo_cpu:>8.1f}" + ("" if ok_risk and ok_size else "  MISMATCH"))

def case(name, risk_pct, totals, winners, ballots, cvr, bp):
    t0 = time.process_time()
    a_risk, a_size = arlo(risk_pct, totals, winners, ballots, cvr, bp)
    global arlo_cpu
    arlo_cpu = time.process_time() - t0
    o = question(name, risk_pct, totals, winners, ballots, cvr, bp)
    report(name, a_risk, a_size, o["risk"], (o["next"]["cvr"], o["next"]["no_cvr"], o["next"]["full_hand_count"]))

print(f"{'case':<28}{'arlo risk':>14}{'our risk':>14}{'arlo size':>12}{'our size':>12}{'arlo s':>8}")

# 1. The strata of Arlo's tests (tests/test_suite.py), with the samples they measure.
W, L = "winner", "loser"
def mis0(**kw):
    return {(W, L): kw} if kw else {}
tests = [
    ("fishers-combined", 5, {W: 5300, L: 5100}, 1, 11000,
     dict(ballots=10000, totals={W: 4550, L: 4950}, sample_size=500),
     dict(ballots=1000, totals={W: 750, L: 150}, sample={W: 187, L: 37}, sample_size=250)),
    ("get-sample-size", 5, {W: 1011000, L: 989000}, 1, 2000000,
     dict(ballots=1900000, totals={W: 960000, L: 940000}, sample_size=0),
     dict(ballots=100000, totals={W: 51000, L: 49000}, sample={W: 0, L: 0}, sample_size=0)),
    ("winner-loses-no-cvr", 5, {W: 5300, L: 5100}, 1, 11000,
     dict(ballots=1000, totals={W: 750, L: 150}, sample_size=250),
     dict(ballots=10000, totals={W: 4550, L: 4950}, sample={W: 227, L: 247}, sample_size=500)),
    ("close-many-undervotes", 5, {W: 2200, L: 2150}, 1, 11000,
     dict(ballots=10000, totals={W: 1750, L: 1750}, sample_size=500),
     dict(ballots=1000, totals={W: 450, L: 400}, sample={W: 112, L: 100}, sample_size=250)),
    ("wide-margin-start", 5, {W: 990, L: 10}, 1, 1000,
     dict(ballots=950, totals={W: 940, L: 10}, sample_size=0),
     dict(ballots=50, totals={W: 50, L: 0}, sample={}, sample_size=0)),
    ("wide-margin-sampled", 5, {W: 990, L: 10}, 1, 1000,
     dict(ballots=950, totals={W: 940, L: 10}, sample_size=500),
     dict(ballots=50, totals={W: 50, L: 0}, sample={W: 49, L: 0}, sample_size=49)),
    ("wrong-outcome", 5, {W: 990, L: 10}, 1, 1000,
     dict(ballots=950, totals={W: 940, L: 10}, sample_size=500, mis=mis0(o2=100)),
     dict(ballots=50, totals={W: 50, L: 0}, sample={W: 0, L: 49}, sample_size=49)),
    ("escalation-start", 5, {W: 600, L: 400}, 1, 1000,
     dict(ballots=700, totals={W: 400, L: 300}, sample_size=0),
     dict(ballots=300, totals={W: 200, L: 100}, sample={}, sample_size=0)),
    ("escalation-round-1", 5, {W: 600, L: 400}, 1, 1000,
     dict(ballots=700, totals={W: 400, L: 300}, sample_size=56),
     dict(ballots=300, totals={W: 200, L: 100}, sample={W: 14, L: 10}, sample_size=24)),
    ("really-close-start", 5, {W: 502, L: 498}, 1, 1000,
     dict(ballots=700, totals={W: 351, L: 349}, sample_size=0),
     dict(ballots=300, totals={W: 151, L: 149}, sample={}, sample_size=0)),
    ("really-close-sampled", 5, {W: 502, L: 498}, 1, 1000,
     dict(ballots=700, totals={W: 351, L: 349}, sample_size=699),
     dict(ballots=300, totals={W: 151, L: 149}, sample={W: 151, L: 148}, sample_size=299)),
    ("multi-candidate-start", 5, {W: 600, L: 300, "loser2": 100}, 1, 1000,
     dict(ballots=700, totals={W: 400, L: 200, "loser2": 100}, sample_size=0),
     dict(ballots=300, totals={W: 200, L: 100, "loser2": 0}, sample={}, sample_size=0)),
    ("multi-candidate-sampled", 5, {W: 600, L: 300, "loser2": 100}, 1, 1000,
     dict(ballots=700, totals={W: 400, L: 200, "loser2": 100}, sample_size=33),
     dict(ballots=300, totals={W: 200, L: 100, "loser2": 0}, sample={W: 10, L: 4, "loser2": 0}, sample_size=14)),
    ("tiny-election", 5, {W: 10, L: 0}, 1, 10,
     dict(ballots=4, totals={W: 4, L: 0}, sample_size=0),
     dict(ballots=6, totals={W: 6, L: 0}, sample={}, sample_size=0)),
]
mw_total = {"Bageman": 500, "Booth": 125, "Bullen": 2625, "Clinton": 1789, "Cummings": 123, "Deaver": 3051,
            "Fox": 2088, "Foutz": 127, "Guccione": 1680, "Hoskins": 150, "Jorgensen": 2112, "Turner": 468, "Vece": 127}
mw_cvr = {"Bageman": 396, "Booth": 3, "Bullen": 2484, "Clinton": 1580, "Cummings": 50, "Deaver": 2519, "Fox": 1978,
          "Foutz": 16, "Guccione": 1580, "Hoskins": 50, "Jorgensen": 2012, "Turner": 358, "Vece": 16}
tests.append(("multi-winner-start", 5, mw_total, 2, 8402, dict(ballots=6542, totals=mw_cvr, sample_size=0),
              dict(ballots=1860, totals={k: mw_total[k] - mw_cvr[k] for k in mw_total}, sample={}, sample_size=0)))
# Arlo's search takes about a minute of CPU on these two (large samples): SUITE_FULL=1.
SLOW = {"winner-loses-no-cvr", "close-many-undervotes"}
for t in tests:
    if FULL or t[0] not in SLOW:
        case(*t)

# 2. Generated strata.
rng = random.Random(20261202)
for k in range(24 if FULL else 6):
    ncand = rng.choice([2, 2, 3, 4, 6])
    winners = 2 if ncand >= 4 and rng.random() < 0.4 else 1
    cands = [f"c{i}" for i in range(ncand)]
    # Arlo's size search is slow in Python on large strata with close margins: the
    # default run keeps them moderate.
    n1, n2 = (rng.randint(300, 40000), rng.randint(100, 20000)) if FULL else (rng.randint(300, 6000), rng.randint(100, 2500))
    def split(n, lead):
        w = [rng.random() ** 1.5 for _ in cands]; w[0] += lead
        s = sum(w); share = [x / s * (0.97 if winners == 1 else 1.9) for x in w]
        v = [int(n * x) for x in share]
        return {c: x for c, x in zip(cands, v)}
    lead = rng.uniform(0.05, 0.6) if FULL else rng.uniform(0.2, 0.8)
    ct, bt = split(n1, lead), split(n2, lead * rng.uniform(0.3, 1.5))
    totals = {c: ct[c] + bt[c] for c in cands}
    if len(set(totals.values())) < len(totals):
        continue
    order = sorted(cands, key=lambda c: -totals[c])
    if any(totals[w] <= totals[l] for w in order[:winners] for l in order[winners:]):
        continue
    stage = rng.choice(["start", "sampled", "sampled", "errors"])
    cvr = dict(ballots=n1, totals=ct, sample_size=0)
    bp = dict(ballots=n2, totals=bt, sample={c: 0 for c in cands}, sample_size=0)
    if stage != "start":
        cvr["sample_size"] = rng.randint(20, min(n1 - 1, 300))
        m = bp["sample_size"] = rng.randint(10, min(n2 - 1, 150))
        picks = rng.choices(cands + ["_none"], weights=[bt[c] + 1 for c in cands] + [max(1, n2 * winners - sum(bt.values()))], k=m * winners)
        for p in picks[:m * winners]:
            if p != "_none" and bp["sample"][p] < bt[p]:
                bp["sample"][p] += 1
        # At most one vote a card for one winner, two for two; never more votes for a
        # pair than cards.
        def too_many():
            v = sorted(bp["sample"].values(), reverse=True)
            return sum(bp["sample"].values()) > m * winners or v[0] + v[1] > m
        while too_many():
            c = max(bp["sample"], key=bp["sample"].get); bp["sample"][c] -= 1
        if stage == "errors":
            cvr["mis"] = {(w, l): dict(o1=rng.randint(0, 3), o2=rng.randint(0, 1), u1=rng.randint(0, 2), u2=rng.randint(0, 1))
                          for w in order[:winners] for l in order[winners:]}
    case(f"generated-{k:02d}-{stage}", rng.choice([5, 10]), totals, winners, n1 + n2, cvr, bp)

# 3. Generated elections through start / draw / record / status.
def election(seed, cands, shares, n_cvr_batches, n_bp_batches, error_rate, risk_pct):
    rng = random.Random(seed)
    d = os.path.join(WORK, f"election-{seed}"); os.makedirs(d)
    cards = {"cvr": {}, "no-cvr": {}}
    for stratum, nb in (("cvr", n_cvr_batches), ("no-cvr", n_bp_batches)):
        for b in range(nb):
            for p in range(1, rng.randint(50, 250) + 1):
                r = rng.random()
                choice = rng.choices(cands, weights=shares)[0] if r < 0.96 else None
                cards[stratum][(f"{stratum[0].upper()}{b:03d}", p)] = choice
    for stratum, fname in (("cvr", "cvr-manifest.csv"), ("no-cvr", "no-cvr-manifest.csv")):
        counts = {}
        for (b, p) in cards[stratum]:
            counts[b] = max(counts.get(b, 0), p)
        with open(os.path.join(d, fname), "w") as f:
            f.write("batch,ballots\n")
            for b, n in counts.items():
                f.write(f"{b},{n}\n")
    totals = {c: sum(1 for s in cards.values() for v in s.values() if v == c) for c in cands}
    with open(os.path.join(d, "results.csv"), "w") as f:
        f.write("contest,candidate,votes,winners\n")
        for c in cands:
            f.write(f"Mayor,{c},{totals[c]},1\n")
    with open(os.path.join(d, "cvrs.csv"), "w") as f:
        f.write("batch,position,contest,choice\n")
        for (b, p), v in cards["cvr"].items():
            f.write(f"{b},{p},Mayor,{v or ''}\n")
    # The truth differs from the CVRs on some cards (the board reads the truth).
    truth = {k: (rng.choice(cands + [None]) if rng.random() < error_rate else v) for k, v in cards["cvr"].items()}
    sh(["audit", "hybrid", "start", "--results", "results.csv", "--cvrs", "cvrs.csv", "--cvr-manifest", "cvr-manifest.csv",
        "--no-cvr-manifest", "no-cvr-manifest.csv", "--seed", str(seed), "--risk-limit", str(risk_pct / 100), "--out", "audit.json"], d)
    info = dict(totals); info.update(ballots=len(cards["cvr"]) + len(cards["no-cvr"]), numWinners=1, votesAllowed=1)
    contest = Contest("Mayor", info)
    read = {"cvr": [], "no-cvr": []}
    for rnd in (1, 2):
        st = json.loads(sh(["--json", "audit", "hybrid", "status", "--audit", "audit.json"], d))["contests"][0]
        if st["decision"] != "continue":
            break
        sh(["audit", "hybrid", "draw", "--audit", "audit.json", "--out", f"round{rnd}.csv"], d)
        rows = [l.rstrip("\n").split(",") for l in open(os.path.join(d, f"round{rnd}.csv"))][1:]
        with open(os.path.join(d, f"read{rnd}.csv"), "w") as f:
            f.write("stratum,batch,position,contest,choice\n")
            for _, stratum, b, p, _ in rows:
                key = (b, int(p))
                v = truth[key] if stratum == "cvr" else cards["no-cvr"][key]
                f.write(f"{stratum},{b},{p},Mayor,{v or ''}\n")
                read[stratum].append(key)
        sh(["audit", "hybrid", "record", "--audit", "audit.json", "--readings", f"read{rnd}.csv"], d)
        st = json.loads(sh(["--json", "audit", "hybrid", "status", "--audit", "audit.json"], d))["contests"][0]
        # Arlo's strata from the same cards: its own misstatement count from CVRs and readings.
        cvr_totals = {c: sum(1 for v in cards["cvr"].values() if v == c) for c in cands}
        reported = {f"{b}-{p}": {"Mayor": {c: ("1" if cards["cvr"][(b, p)] == c else "0") for c in cands}} for (b, p) in read["cvr"]}
        audited = {f"{b}-{p}": {"cvr": {"Mayor": {c: ("1" if truth[(b, p)] == c else "0") for c in cands}}} for (b, p) in read["cvr"]}
        mis = suite.misstatements(contest, reported, audited)
        cs = suite.BallotComparisonStratum(len(cards["cvr"]), cvr_totals, mis, len(read["cvr"]))
        bt = {c: totals[c] - cvr_totals[c] for c in cands}
        sample = {c: sum(1 for k in read["no-cvr"] if cards["no-cvr"][k] == c) for c in cands}
        bs = suite.BallotPollingStratum(len(cards["no-cvr"]), bt, {"r": sample}, len(read["no-cvr"]))
        a_risk = float(suite.compute_risk(risk_pct, contest, bs, cs)[0])
        try:
            s = suite.get_sample_size(risk_pct, contest, bs, cs); a_size = (s.cvr, s.non_cvr, False)
        except ValueError:
            a_size = (None, None, True)
        if st["decision"] == "risk_limit_met":
            # Our status gives no next round once the limit is met; Arlo still sizes one.
            o_size = None
        else:
            o_size = (st["next"]["cvr"], st["next"]["no_cvr"], st["next"]["full_hand_count"])
        report(f"election-{seed}-round{rnd}", a_risk, a_size, st["risk"], o_size)

election(11, ["ann", "bob"], [0.55, 0.45], 30, 12, 0.01, 10)
if FULL:
    election(12, ["ann", "bob", "cy"], [0.45, 0.38, 0.17], 40, 20, 0.02, 5)
    election(13, ["ann", "bob"], [0.52, 0.48], 60, 30, 0.005, 10)
if FULL:
  election(14, ["ann", "bob", "cy", "dee"], [0.4, 0.3, 0.2, 0.1], 25, 25, 0.03, 10)

print(f"Arlo SUITE agreement: {compared - bad} of {compared} cases equal (combined risk to relative 1e-9, both strata's next sizes exactly, where the audit goes on); largest relative risk difference {worst_rel:.2e}")
sys.exit(1 if bad else 0)
PY
