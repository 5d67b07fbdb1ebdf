#!/usr/bin/env bash
# Side-by-side check of round-by-round ballot polling (Minerva and Providence) against
# r2b2 (../shared/peers/r2b2, its Minerva and Minerva2 = Providence classes, run
# unmodified) and against the figures Arlo's tests expect
# (../shared/peers/arlo-audit-math/tests/test_minerva.py and test_minerva2.py):
#  1. a grid of two-candidate contests (margins 4% to 40%), risk limits 5/10/20% and
#     round schedules (cumulative 1/2, 1, 1.5 and 2 × BRAVO's expected size), with
#     seeded samples drawn at the reported share and at a tie: every round's p-value,
#     its stopping decision and (for rounds that go on) the next round's kmin, r2b2's
#     execute_round beside `scrutineer audit rounds`;
#  2. the first round's size for stopping probabilities 0.7, 0.8 and 0.9, and the
#     second round's for 0.9 after a round that did not stop: r2b2's size, its kmin and
#     its chance beside ours at that size, and our own size;
#  3. Arlo's expected p-values (Athena's Minerva, r2b2's Providence) and first-round sizes.
# Exits non-zero when a p-value differs beyond relative 1e-9 (absolute 1e-12), a
# decision or kmin differs, the chance at a peer's size differs beyond relative 1e-9, a
# peer's size does not reach its probability by our measure, or our size is larger
# than a peer's. Sizes may be smaller than a peer's: the chance of stopping is a
# sawtooth in the round size, and each tool's search lands on another size that
# reaches the probability (see crates/audit/README.md). About 30 s (debug build).
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
PEERS="$ROOT/../shared/peers"
[[ -f "$PEERS/r2b2/src/r2b2/minerva2.py" ]] || { echo "missing $PEERS/r2b2/src/r2b2/minerva2.py" >&2; exit 1; }
VENV="$ROOT/target/audit-r2b2-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" || { sudo apt-get update && sudo apt-get install -y python3-venv && python3 -m venv "$VENV"; }
fi
if ! "$VENV/bin/python" -c "import r2b2.minerva2, numpy, scipy, click" 2>/dev/null; then
  # r2b2 imports numpy, scipy and click (its setup also lists pymongo, matplotlib and the
  # Python 2 `typing` backport, which the audit classes do not use). Its setup.py reads
  # README.md and CHANGELOG.rst, which the shared copy leaves out: install from a copy
  # under target/ with the two files empty.
  "$VENV/bin/pip" install --quiet "numpy==2.2.1" "scipy==1.15.1" "click==8.1.8"
  SRC="$ROOT/target/audit-r2b2-src"
  rm -rf "$SRC"; cp -r "$PEERS/r2b2" "$SRC"; chmod -R u+w "$SRC"; touch "$SRC/README.md" "$SRC/CHANGELOG.rst"
  "$VENV/bin/pip" install --quiet --no-deps "$SRC"
fi

cargo build --quiet -p scrutineer
BIN="$ROOT/target/debug/scrutineer"
WORK="$ROOT/target/audit-r2b2-work"
rm -rf "$WORK"; mkdir -p "$WORK"
"$VENV/bin/python" - "$BIN" "$WORK" <<'PY'
import json, math, random, subprocess, sys, time
from r2b2.contest import Contest, ContestType
from r2b2.minerva import Minerva
from r2b2.minerva2 import Minerva2

BIN, WORK = sys.argv[1], sys.argv[2]
PEER = {"minerva": Minerva, "providence": Minerva2}
TARGETS = [0.7, 0.8, 0.9]

def close(a, b, rel=1e-9):
    return abs(a - b) <= 1e-12 + rel * max(abs(a), abs(b))

def ours(questions):
    path = f"{WORK}/questions.json"
    json.dump(questions, open(path, "w"))
    r = subprocess.run([BIN, "--quiet", "audit", "rounds", "--input", path], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"scrutineer audit rounds: {r.stderr}")
    return json.loads(r.stdout)

def peer_audit(method, w, l, alpha):
    c = Contest(w + l, {"W": w, "L": l}, 1, ["W"], ContestType.PLURALITY)
    a = PEER[method](alpha, 1.0, c)
    return a, a.sub_audits["W-L"]

def asn(share, alpha):
    zw, zl = math.log(2 * share), math.log(2 - 2 * share)
    return (math.log(1 / alpha) + zw / 2) / (share * zw + (1 - share) * zl)

peer_cpu = 0.0
cases = []      # (label, kind, peer figures, question)
contests = [(700, 300), (600, 400), (5500, 4500), (5300, 4700), (5200, 4800)]
for (w, l) in contests:
    for alpha in (0.05, 0.1, 0.2):
        share = w / (w + l)
        base = asn(share, alpha)
        schedule = sorted({max(2, round(base * f)) for f in (0.5, 1.0, 1.5, 2.0)})
        for method in ("minerva", "providence"):
            for truth, seed in ((share, 1), (share, 2), (0.5, 3)):
                rng = random.Random(f"{w}-{l}-{alpha}-{method}-{seed}")
                t0 = time.process_time()
                a, sub = peer_audit(method, w, l, alpha)
                rounds, k, n = [], 0, 0
                for size in schedule:
                    k += sum(rng.random() < truth for _ in range(size - n))
                    n = size
                    rounds.append({"drawn": n, "winner": k})
                    stopped = a.execute_round(n, {"W": k, "L": n - k})
                    if stopped:
                        break
                peer = {"p": list(sub.pvalue_schedule), "stop": sub.stopped,
                        "kmin": list(sub.min_winner_ballots)}
                # The next round's size after round 1 when it did not stop.
                q2 = None
                if len(rounds) > 1:
                    b, sub2 = peer_audit(method, w, l, alpha)
                    b.execute_round(rounds[0]["drawn"], {"W": rounds[0]["winner"], "L": rounds[0]["drawn"] - rounds[0]["winner"]})
                    est = b._next_sample_size_pairwise(sub2, 0.9)
                    peer["next"] = est if est else None
                    q2 = {"method": method, "risk_limit": alpha, "winner_votes": w, "loser_votes": l,
                          "rounds": rounds[:1], "stopping_probabilities": [0.9], "max_drawn": 10**7,
                          "check_sizes": [est[0]] if est else []}
                peer_cpu += time.process_time() - t0
                q = {"method": method, "risk_limit": alpha, "winner_votes": w, "loser_votes": l, "rounds": rounds}
                cases.append((f"{method[:4]} {w}:{l} a={alpha} s{seed}", "rounds", peer, q, q2))
        # First-round sizes (the same for both methods in round 1; each tool asked).
        for method in ("minerva", "providence"):
            t0 = time.process_time()
            a, sub = peer_audit(method, w, l, alpha)
            ests = [a._next_sample_size_pairwise(sub, t) for t in TARGETS]
            peer_cpu += time.process_time() - t0
            q = {"method": method, "risk_limit": alpha, "winner_votes": w, "loser_votes": l,
                 "stopping_probabilities": TARGETS, "max_drawn": 10**7, "check_sizes": [e[0] for e in ests]}
            cases.append((f"{method[:4]} {w}:{l} a={alpha} sizes", "sizes", ests, q, None))

questions = [c[3] for c in cases] + [c[4] for c in cases if c[4]]
t0 = time.time()
answers = ours(questions)
it = iter(answers[len(cases):])

bad = 0
worst = 0.0
n_p = n_dec = n_kmin = n_sizes = n_equal = n_smaller = 0
sums = [0, 0]  # r2b2's sizes and ours, where both exist
def fail(label, what):
    global bad
    bad += 1
    print(f"MISMATCH {label}: {what}")

def check_size(label, target, peer_est, ans_next, ans_check):
    """peer_est = (size, kmin, chance) from r2b2; ours at r2b2's size and our own size."""
    global n_sizes, n_equal, n_smaller, worst
    n_sizes += 1
    if not peer_est or peer_est[0] == 0:
        if ans_next is not None:
            fail(label, f"r2b2 finds no size for {target}, we find {ans_next['drawn']}")
        return
    size, kmin, chance = peer_est
    if ans_check["kmin"] != kmin or not close(ans_check["chance"], chance):
        fail(label, f"at r2b2's size {size}: kmin {ans_check['kmin']} vs {kmin}, chance {ans_check['chance']} vs {chance}")
    worst = max(worst, abs(ans_check["chance"] - chance) / max(chance, 1e-300))
    if ans_check["chance"] < target:
        fail(label, f"r2b2's size {size} has chance {ans_check['chance']} < {target}")
    if ans_next is None or ans_next["drawn"] > size or ans_next["chance"] < target:
        fail(label, f"our size {ans_next} against r2b2's {size}")
        return
    sums[0] += size
    sums[1] += ans_next["drawn"]
    if label.endswith("round 2"):
        print(f"{label + ' 0.9':<34}{'':>6}{'r2b2 size ' + str(size):>16}{'ours ' + str(ans_next['drawn']):>16}"
              f"{'':>6}{str(kmin) + '/' + str(ans_next['kmin']):>12}")
    if ans_next["drawn"] == size:
        n_equal += 1
    else:
        n_smaller += 1

print(f"{'case':<34}{'round':>6}{'r2b2 p-value':>16}{'our p-value':>16}{'stop':>6}{'kmin':>12}")
for (label, kind, peer, q, q2), ans in zip(cases, answers):
    if kind == "rounds":
        for i, r in enumerate(ans["rounds"]):
            pp = peer["p"][i]
            n_p += 1
            if pp > 0:
                worst = max(worst, abs(pp - r["p_value"]) / pp)
            ok = close(pp, r["p_value"])
            last = i == len(ans["rounds"]) - 1
            peer_stop = peer["stop"] if last else False
            n_dec += 1
            ok_dec = peer_stop == r["stop"]
            peer_kmin = peer["kmin"][i] if i < len(peer["kmin"]) else None
            ok_kmin = r["stop"] or peer_kmin == r["kmin"]
            n_kmin += not r["stop"]
            print(f"{label:<34}{i + 1:>6}{pp:>16.10f}{r['p_value']:>16.10f}{('yes' if r['stop'] else 'no'):>6}"
                  f"{str(peer_kmin) + '/' + str(r['kmin']):>12}")
            if not (ok and ok_dec and ok_kmin):
                fail(label, f"round {i + 1}: p {pp} vs {r['p_value']}, stop {peer_stop} vs {r['stop']}, kmin {peer_kmin} vs {r['kmin']}")
        if q2:
            a2 = next(it)
            check_size(label + " round 2", 0.9, peer.get("next"), a2["next"][0], a2["checks"][0] if a2["checks"] else None)
    else:
        for t, est, nxt, chk in zip(TARGETS, peer, ans["next"], ans["checks"]):
            check_size(f"{label} {t}", t, est, nxt, chk)
            print(f"{label + ' ' + str(t):<34}{'':>6}{'r2b2 size ' + str(est[0]):>16}{'ours ' + str(nxt['drawn'] if nxt else None):>16}"
                  f"{'':>6}{str(est[1]) + '/' + str(nxt['kmin'] if nxt else None):>12}")

# 3. Arlo's test vectors. p-values: (file, test, method, winner share of the pair,
# pairwise rounds, expected p-value of the riskiest pair); sizes: (test, method, votes
# of the pair, ballots in the contest, risk limit, {probability: expected size}).
arlo_p = [
    ("test_minerva.py", "test_collect_risks", "minerva", 600, 400, [(96, 56)], 0.0933945799801079),
    ("test_minerva.py", "test_collect_risks", "minerva", 600, 400, [(80, 40)], 0.5596434615209632),
    ("test_minerva.py", "test_compute_risk_2r", "minerva", 600, 400, [(80, 40), (180, 110)], 0.006382031505998192),
    ("test_minerva.py", "test_compute_risk_2win", "minerva", 400, 200, [(58, 40)], 0.0064653703790821795),
    ("test_minerva.py", "test_compute_risk_2win_2", "minerva", 400, 200, [(60, 30)], 0.552702598296842),
    ("test_minerva.py", "test_compute_risk_2win_2_2r", "minerva", 400, 200, [(60, 30), (135, 80)], 0.083535346859948),
    ("test_minerva.py", "test_compute_risk_close_narrow", "minerva", 5100000, 4900000, [(10090, 5100)], 0.16896200607848647),
    ("test_minerva.py", "test_compute_risk_close_narrow_2", "minerva", 5100000, 4900000, [(10090, 5100), (20090, 10200)], 0.03907953348498701),
    ("test_minerva.py", "test_compute_risk_too_low", "minerva", 2453876, 2358432, [(17605, 17605)], 0.0),
    ("test_minerva.py", "test_compute_risk_delta", "minerva", 1270718, 978667, [(510, 276)], 0.039858047805999164),
    ("test_minerva2.py", "test_compute_risk_2win", "providence", 400, 200, [(58, 40)], 0.0064653703790821795),
    ("test_minerva2.py", "test_compute_risk_multi_round", "providence", 450, 400, [(100, 54), (200, 109)], 0.3614293635757271),
]
arlo_sizes = [
    ("test_get_sample_size c3", "minerva", 600, 400, 1200, 0.1, {0.7: 134, 0.8: 166, 0.9: 215}),
    ("doctest get_sample_size c3", "minerva", 600, 400, 1200, 0.2, {0.7: 87, 0.8: 110, 0.9: 156}),
    ("test_get_sample_size d1", "minerva", 600, 200, 900, 0.1, {0.7: 20, 0.8: 25, 0.9: 35}),
    ("test_get_sample_size d4", "minerva", 300, 200, 1000, 0.1, {0.7: 222, 0.8: 276, 0.9: 358}),
    ("test_get_sample_size_big", "minerva", 5076, 4925, 10001, 0.1, {0.7: 17663, 0.8: 22233, 0.9: 30319}),
    ("test_get_sample_size (providence)", "providence", 60000, 40000, 100000, 0.1, {0.9: 173}),
    ("test_get_sample_size (providence)", "providence", 51000, 49000, 100000, 0.1, {0.9: 17270}),
    ("test_get_sample_size_multi_candidate", "providence", 60000, 40000, 110000, 0.1, {0.9: 191}),
    ("test_get_sample_size_multi_candidate", "providence", 51000, 49000, 110000, 0.1, {0.9: 18997}),
]
qs = []
for (_, _, m, w, l, rounds, _) in arlo_p:
    qs.append({"method": m, "risk_limit": 0.1, "winner_votes": w, "loser_votes": l,
               "rounds": [{"drawn": n, "winner": k} for n, k in rounds]})
for (_, m, w, l, ballots, alpha, want) in arlo_sizes:
    scale = ballots / (w + l)
    # The largest pairwise size whose scaled size is Arlo's.
    pair = [max(n for n in range(1, s + 1) if math.ceil(n * scale - 1e-9) <= s) for s in want.values()]
    qs.append({"method": m, "risk_limit": alpha, "winner_votes": w, "loser_votes": l, "ballots": ballots,
               "stopping_probabilities": list(want), "max_drawn": 10**7, "check_sizes": pair})
arlo_answers = ours(qs)
our_wall = time.time() - t0
print()
print(f"{'Arlo test':<40}{'method':>11}{'Arlo':>22}{'ours':>22}")
arlo_ok = 0
for (f, name, m, w, l, rounds, want), ans in zip(arlo_p, arlo_answers):
    got = ans["rounds"][-1]["p_value"]
    ok = close(got, want)
    arlo_ok += ok
    print(f"{name:<40}{m:>11}{want:>22.15g}{got:>22.15g}" + ("" if ok else "  MISMATCH"))
    if not ok:
        fail(name, f"{got} vs Arlo's {want}")
for (name, m, w, l, ballots, alpha, want), ans in zip(arlo_sizes, arlo_answers[len(arlo_p):]):
    for (t, size), nxt, chk in zip(want.items(), ans["next"], ans["checks"]):
        got = (math.ceil(nxt["drawn"] * ballots / (w + l) - 1e-9)) if nxt else None
        ok = got is not None and got <= size and chk["chance"] >= t
        arlo_ok += ok
        print(f"{name + ' ' + str(t) + ' a=' + str(alpha):<40}{m:>11}{size:>22}{got:>22}"
              f"   chance at Arlo's {chk['chance']:.4f}" + ("" if ok else "  MISMATCH"))
        if not ok:
            fail(name, f"size {got} vs Arlo's {size}, chance at Arlo's size {chk['chance']}")
n_arlo = len(arlo_p) + sum(len(x[6]) for x in arlo_sizes)

print()
print(f"r2b2: {n_p} round p-values (largest relative difference {worst:.1e}), {n_dec} decisions, "
      f"{n_kmin} kmins; {n_sizes} round sizes: r2b2's size reaches its probability by our measure "
      f"with equal kmin and chance in every one, ours equal in {n_equal}, smaller in {n_smaller} "
      f"(ballots in all: r2b2 {sums[0]}, ours {sums[1]}, {100 * (sums[1] - sums[0]) / sums[0]:+.1f}%)")
print(f"Arlo: {arlo_ok} of {n_arlo} test figures agree (p-values to 1e-9, sizes no larger, Arlo's reaching its probability)")
print(f"time: r2b2 {peer_cpu:.1f} s CPU, scrutineer {our_wall:.1f} s wall (debug build)")
if bad:
    sys.exit(f"{bad} mismatches")
print("agreement: all figures agree")
PY
