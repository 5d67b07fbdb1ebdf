#!/usr/bin/env python3
"""Scores Scrutineer's influence networks on the IRA file against Linvill and Warren's
hand-coded roles.

Reads DIR/accounts.csv (account,network,score) written by `scrutineer influence scan`
and the IRA authors file, and prints:
  recall  - share of accounts with at least MIN_POSTS posts in the input that were
            placed in a network;
  purity  - size-weighted share of each network's majority account_category;
  AMI     - adjusted mutual information between networks and categories (placed
            accounts only).
Every figure printed is gated close to the figure measured at the default settings
(MEASURED below): the counts within a stated relative tolerance either way (a change in
either direction is a change of behaviour to look at, and to record here when it is
meant), recall, purity and AMI no more than a stated margin below. Exits 1 when a
figure is outside its gate.
Standard library only, so CI needs nothing installed for it.
"""
import argparse
import csv
import gzip
import math
import sys
from collections import Counter, defaultdict


def ami(labels_true, labels_pred):
    """Adjusted mutual information (max normalisation is sklearn's default 'arithmetic';
    we use arithmetic mean as sklearn does), with the exact expected MI under the
    hypergeometric permutation model (Vinh, Epps and Bailey 2010)."""
    n = len(labels_true)
    if n == 0:
        return 0.0
    a = Counter(labels_true)
    b = Counter(labels_pred)
    cont = Counter(zip(labels_true, labels_pred))
    mi = 0.0
    for (i, j), nij in cont.items():
        mi += nij / n * math.log(n * nij / (a[i] * b[j]))
    h_a = -sum(c / n * math.log(c / n) for c in a.values())
    h_b = -sum(c / n * math.log(c / n) for c in b.values())
    lg = math.lgamma
    emi = 0.0
    for ai in a.values():
        for bj in b.values():
            lo = max(1, ai + bj - n)
            hi = min(ai, bj)
            for nij in range(lo, hi + 1):
                term = nij / n * math.log(n * nij / (ai * bj))
                logp = (lg(ai + 1) + lg(bj + 1) + lg(n - ai + 1) + lg(n - bj + 1)
                        - lg(n + 1) - lg(nij + 1) - lg(ai - nij + 1) - lg(bj - nij + 1)
                        - lg(n - ai - bj + nij + 1))
                emi += term * math.exp(logp)
    denom = (h_a + h_b) / 2 - emi
    if abs(denom) < 1e-12:
        return 1.0 if abs(mi - emi) < 1e-12 else 0.0
    return (mi - emi) / denom


# Measured with the release build at the default settings on the IRA 2016-09..11 file.
# name: (measured, tolerance, how): "floor" fails below measured - tolerance; "near"
# fails outside measured * (1 -/+ tolerance).
MEASURED = {
    "eligible": (441, 0.0, "near"),   # a property of the input file: exact
    "networks": (11, 0.2, "near"),   # 9..13
    "placed": (382, 0.04, "near"),    # 367..397
    "recall": (0.769, 0.016, "floor"),
    "purity": (0.995, 0.01, "floor"),
    "ami": (0.799, 0.03, "floor"),
}


def gate(name, value):
    """The gate's text and whether `value` passes it."""
    measured, tol, how = MEASURED[name]
    if how == "floor":
        bar = measured - tol
        return f"[measured {measured}, gate >= {bar:.3f}]", value >= bar - 1e-9
    lo, hi = measured * (1 - tol), measured * (1 + tol)
    if tol == 0:
        return f"[measured {measured}, gate == {measured}]", value == measured
    return f"[measured {measured}, gate {lo:.0f}..{hi:.0f}]", lo <= value <= hi


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--accounts", required=True, help="accounts.csv from influence scan --out")
    p.add_argument("--authors", required=True, help="IRA authors.csv with account_category")
    p.add_argument("--tweets", required=True, help="the tweets file that was scanned (for post counts)")
    p.add_argument("--min-posts", type=int, default=20)
    args = p.parse_args()

    category = {}
    with open(args.authors, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            category[row["author_id"]] = row["account_category"]

    posts = Counter()
    opener = gzip.open if args.tweets.endswith(".gz") else open
    with opener(args.tweets, "rt", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            posts[row["author_id"]] += 1

    network = {}
    with open(args.accounts, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["account", "network", "score"]:
            sys.exit(f"accounts.csv header is {reader.fieldnames}, expected account,network,score")
        for row in reader:
            network[row["account"]] = row["network"]

    eligible = [a for a, c in posts.items() if c >= args.min_posts]
    recalled = [a for a in eligible if a in network]
    recall = len(recalled) / len(eligible) if eligible else 0.0

    members = defaultdict(list)
    for a, n in network.items():
        members[n].append(category.get(a, "Unknown"))
    placed = sum(len(m) for m in members.values())
    majority = sum(Counter(m).most_common(1)[0][1] for m in members.values())
    purity = majority / placed if placed else 0.0
    accounts = sorted(network)
    score_ami = ami([category.get(a, "Unknown") for a in accounts], [network[a] for a in accounts])

    results = []

    def show(name, text, value):
        bar, ok = gate(name, value)
        results.append((name, ok))
        print(f"{text}  {bar}{'' if ok else '  FAIL'}")

    show("eligible", f"IRA accounts with >= {args.min_posts} posts: {len(eligible)}", len(eligible))
    show("networks", f"networks: {len(members)}", len(members))
    show("placed", f"accounts placed: {placed}", placed)
    show("recall", f"recall: {recall:.3f} ({len(recalled)}/{len(eligible)})", recall)
    show("purity", f"purity: {purity:.3f}", purity)
    show("ami", f"adjusted mutual information: {score_ami:.3f}", score_ami)
    for n, m in sorted(members.items(), key=lambda kv: -len(kv[1]))[:15]:
        top = Counter(m).most_common(3)
        print(f"  {n:>5} {len(m):>4} accounts  " + ", ".join(f"{c} {k}" for c, k in ((k, v) for k, v in top)))
    ok = all(passed for _, passed in results)
    print("PASS" if ok else "FAIL: " + ", ".join(name for name, passed in results if not passed))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
