#!/usr/bin/env bash
# Side-by-side check of batch-comparison audits (MACRO per contest) against Arlo's own
# implementation (../shared/peers/arlo-audit-math/audit_math/macro.py, run unmodified from
# there): Arlo's test election of tests/test_macro.py with its rounds of samples, and a few
# generated elections (vote for 1 and 2, pending and unauditable ballots, majority and
# no-majority thresholds, over- and understatements). For each contest and stage it compares
# U, the risk and the next round's size of `scrutineer audit batch status` with Arlo's
# compute_U, compute_risk and get_sample_sizes; the draws of each stage are written into the
# audit's state file so that both see the same sample. Exits non-zero on any difference
# beyond float rounding (relative 1e-9).
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
PEERS="$ROOT/../shared/peers/arlo-audit-math"
[[ -f "$PEERS/audit_math/macro.py" ]] || { echo "missing $PEERS/audit_math/macro.py" >&2; exit 1; }
VENV="$ROOT/target/audit-macro-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" || { sudo apt-get update && sudo apt-get install -y python3-venv && python3 -m venv "$VENV"; }
fi
# pytest: tests/test_macro.py imports it (its election is a pytest fixture).
"$VENV/bin/python" -c "import pytest" 2>/dev/null || "$VENV/bin/pip" install --quiet "pytest==8.3.4"

# Harness package: Arlo's module sits in server/audit_math and its tests in
# server/tests/audit_math (relative imports); macro.py needs nothing of the application.
H="$ROOT/target/audit-macro-harness"
rm -rf "$H"; mkdir -p "$H/server/tests"
touch "$H/server/__init__.py" "$H/server/tests/__init__.py"
ln -s "$PEERS/audit_math" "$H/server/audit_math"
ln -s "$PEERS/tests" "$H/server/tests/audit_math"

cargo build --quiet -p scrutineer
BIN="$ROOT/target/debug/scrutineer"
WORK="$ROOT/target/audit-macro-work"
rm -rf "$WORK"; mkdir -p "$WORK"
PYTHONPATH="$H" "$VENV/bin/python" - "$BIN" "$WORK" <<'PY'
import copy, json, math, os, random, shutil, subprocess, sys
from decimal import Decimal
from server.audit_math import macro
from server.audit_math.sampler_contest import Contest
from server.tests.audit_math import test_macro

BIN, WORK = sys.argv[1], sys.argv[2]

def fixture(f):
    for attr in ("_get_wrapped_function",):
        if hasattr(f, attr):
            return getattr(f, attr)()
    return getattr(f, "__wrapped__", getattr(getattr(f, "__pytest_wrapped__", None), "obj", f))

def sh(args, cwd):
    r = subprocess.run([BIN, "--quiet", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"scrutineer {' '.join(args)}: {r.stderr}")
    return r.stdout

def close(a, b):
    if a is None or b is None or math.isinf(a) or math.isinf(b):
        return (a is None or math.isinf(a)) and (b is None or math.isinf(b))
    return abs(a - b) <= 1e-12 + 1e-9 * max(abs(a), abs(b))

compared = bad = 0

def run_case(name, contests, reported, stages, risk_pct):
    """contests: {name: dict as Arlo's Contest takes (choices first)}; reported: {batch:
    {contest: {choice: votes, 'ballots': n}}}; stages: list of samples, each a list of
    (batch, {contest: {choice: votes}}) in ticket order."""
    global compared, bad
    d = os.path.join(WORK, name); os.makedirs(d)
    choices = {c: [k for k in info if k not in ("ballots", "numWinners", "votesAllowed", "pendingBallots", "isSubjectToRunoff")] for c, info in contests.items()}
    with open(os.path.join(d, "reported.csv"), "w") as f:
        f.write("batch,contest,choice,votes\n")
        for b, cs in reported.items():
            for c, v in cs.items():
                for ch in choices[c]:
                    f.write(f"{b},{c},{ch},{v[ch]}\n")
    ballots = {}
    for b, cs in reported.items():
        ballots[b] = max(v["ballots"] for v in cs.values())
    with open(os.path.join(d, "manifest.csv"), "w") as f:
        f.write("batch,ballots\n")
        for b, n in ballots.items():
            f.write(f"{b},{n}\n")
    with open(os.path.join(d, "results.csv"), "w") as f:
        f.write("contest,candidate,votes,winners\n")
        for c, info in contests.items():
            for ch in choices[c]:
                f.write(f"{c},{ch},{info[ch]},{info['numWinners']}\n")
    args = ["audit", "batch", "start", "--tallies", "reported.csv", "--manifest", "manifest.csv",
            "--results", "results.csv", "--seed", "1", "--risk-limit", str(risk_pct / 100), "--out", "base.json"]
    for c, info in contests.items():
        args += ["--votes-allowed", f"{c}={info['votesAllowed']}"]
        if info.get("pendingBallots"):
            args += ["--pending", f"{c}={info['pendingBallots']}"]
        if info.get("isSubjectToRunoff"):
            args += ["--runoff", c]
    sh(args, d)
    arlo_contests = {c: Contest(c, info) for c, info in contests.items()}
    for k, sample in enumerate([[]] + stages):
        state = json.load(open(os.path.join(d, "base.json")))
        state["rounds"] = 1 if sample else 0
        state["draws"] = {}
        for i, (b, res) in enumerate(sample):
            for c in res:
                state["draws"].setdefault(c, []).append({"index": i, "batch": b, "ticket_number": f"{i:08d}", "round": 1})
        json.dump(state, open(os.path.join(d, "audit.json"), "w"))
        if sample:
            with open(os.path.join(d, "hand.csv"), "w") as f:
                f.write("batch,contest,choice,votes\n")
                seen = {}
                for b, res in sample:
                    seen.setdefault(b, {}).update(res)
                for b, res in seen.items():
                    for c, v in reported[b].items():
                        hv = res.get(c, v)
                        for ch in choices[c]:
                            f.write(f"{b},{c},{ch},{hv.get(ch, 0)}\n")
            sh(["audit", "batch", "record", "--audit", "audit.json", "--tallies", "hand.csv"], d)
        ours = {s["contest"]: s for s in json.loads(sh(["--json", "audit", "batch", "status", "--audit", "audit.json"], d))["contests"]}
        sample_results = {}
        tickets = {}
        for i, (b, res) in enumerate(sample):
            sample_results.setdefault(b, {}).update(copy.deepcopy(res))
            tickets[f"{i:08d}"] = b
        for c, contest in arlo_contests.items():
            o = ours[c]
            U = float(macro.compute_U(reported, contest))
            risk, _ = macro.compute_risk(risk_pct, contest, reported, sample_results, tickets, [])
            size = macro.get_sample_sizes(risk_pct, contest, reported, sample_results, tickets, [])
            # Arlo caps a round at all batches of the audit, Scrutineer at the contest's.
            size = min(size, o["batches"])
            ok = close(U, o["total_error_bound"]) and close(float(risk), o["risk"]) and size == o["next_round"]
            compared += 1
            bad += not ok
            print(f"{name:<26}{k:>6} {c:<12}{U:>12.6f}{float(risk):>14.8f}{o['risk']:>14.8f}{size:>6}{o['next_round']:>6}" + ("" if ok else "  MISMATCH"))

print(f"{'case':<26}{'stage':>6} {'contest':<12}{'U':>12}{'arlo risk':>14}{'our risk':>14}{'arlo':>6}{'ours':>6}")

# 1. Arlo's test election (tests/test_macro.py: macro_contests and the batches fixture) with
#    the samples of test_get_sample_sizes and test_compute_risk.
batches = fixture(test_macro.batches)()
for b in batches.values():
    for v in b.values():
        v.pop("numWinners", None)
contests = copy.deepcopy(test_macro.macro_contests)
def clean(i):
    out = {}
    for c, (w, l) in (("Contest A", (200, 180)), ("Contest B", (200, 160)), ("Contest C", (200, 140))):
        if c in batches[f"Batch {i}"]:
            out[c] = {"winner": w, "loser": l}
    return out
s1 = [(f"Batch {i}", clean(i)) for i in range(4)]
s2 = s1 + [(f"Batch {i}", {"Contest A": {"winner": 190, "loser": 190}, "Contest C": {"winner": 200, "loser": 140}}) for i in range(4, 9)]
s3 = s2 + [("Batch 9", {"Contest C": {"winner": 200, "loser": 140}})]
run_case("arlo-get-sample-sizes", contests, batches, [s1, s2, s3], test_macro.RISK_LIMIT)
r1 = [(f"Batch {i}", clean(i)) for i in range(30)]
r1 += [(f"Batch {i}", {"Contest A": {"winner": 190, "loser": 190}, "Contest C": {"winner": 200, "loser": 140}}) for i in range(100, 106)]
r2 = r1 + [(f"Batch {i}", {"Contest A": {"winner": 190, "loser": 190}, "Contest C": {"winner": 200, "loser": 140}}) for i in range(100, 103)]
run_case("arlo-compute-risk", contests, batches, [r1, r2], test_macro.RISK_LIMIT)

# 2. Generated elections.
def generate(seed, cands, shares, n_batches, winners=1, votes_allowed=1, pending=0, unauditable=0,
             runoff=False, second=False):
    rng = random.Random(seed)
    reported, totals = {}, {}
    for i in range(n_batches):
        ballots = rng.randint(40, 400)
        b = f"P{i:03d}"
        reported[b] = {}
        for c in (["Main"] + (["Local"] if second and i % 3 == 0 else [])):
            cs = cands if c == "Main" else ["yes", "no"]
            sh_ = shares if c == "Main" else [0.58, 0.42]
            v = {ch: 0 for ch in cs}
            for _ in range(ballots * (votes_allowed if c == "Main" else 1)):
                if rng.random() < 0.97:
                    v[rng.choices(cs, weights=sh_)[0]] += 1
            v["ballots"] = ballots
            reported[b][c] = v
    contests = {}
    for c in ["Main"] + (["Local"] if second else []):
        cs = cands if c == "Main" else ["yes", "no"]
        info = {ch: sum(b[c][ch] for b in reported.values() if c in b) for ch in cs}
        loser = sorted(cs, key=lambda x: -info[x])[-1]
        if c == "Main":
            info[loser] += unauditable  # votes in the totals that no batch holds
        info.update({"ballots": sum(b[c]["ballots"] for b in reported.values() if c in b),
                     "numWinners": winners if c == "Main" else 1,
                     "votesAllowed": votes_allowed if c == "Main" else 1})
        if c == "Main":
            info["pendingBallots"] = pending
            info["isSubjectToRunoff"] = runoff
        contests[c] = info
    # Two stages: 8 draws, then 8 more, from the batches (repeats allowed), with small errors.
    keys = list(reported)
    sample = []
    for _ in range(16):
        b = rng.choice(keys)
        res = {}
        for c, v in reported[b].items():
            h = {ch: n for ch, n in v.items() if ch != "ballots"}
            if rng.random() < 0.4:
                a, z = rng.sample(list(h), 2)
                move = min(rng.randint(1, 4), h[a])
                h[a] -= move; h[z] += move
            res[c] = h
        # A batch drawn again was hand counted once: the same figures.
        prev = next((r for bb, r in sample if bb == b), None)
        sample.append((b, prev if prev is not None else res))
    return contests, reported, [sample[:8], sample]

for name, kw in [
    ("two-candidates", dict(seed=1, cands=["ann", "bob"], shares=[0.54, 0.46], n_batches=60)),
    ("vote-for-two-pending", dict(seed=2, cands=["a", "b", "c", "d"], shares=[0.34, 0.31, 0.2, 0.15], n_batches=50,
                                  winners=2, votes_allowed=2, pending=150, unauditable=90, second=True)),
    ("majority-threshold", dict(seed=3, cands=["x", "y", "z"], shares=[0.6, 0.25, 0.15], n_batches=60, runoff=True)),
    ("no-majority-threshold", dict(seed=4, cands=["x", "y", "z", "w"], shares=[0.4, 0.3, 0.2, 0.1], n_batches=60, runoff=True)),
    ("close-with-unauditable", dict(seed=5, cands=["p", "q"], shares=[0.51, 0.49], n_batches=80, unauditable=40, pending=30)),
]:
    contests, reported, stages = generate(**kw)
    run_case(name, contests, reported, stages, 10)

print(f"Arlo MACRO agreement: {compared - bad} of {compared} (contest, stage) figures equal (U, risk, next round's size)")
sys.exit(1 if bad else 0)
PY
