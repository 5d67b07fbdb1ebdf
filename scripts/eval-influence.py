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
Exits 1 when recall < --min-recall or purity < --min-purity.
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--accounts", required=True, help="accounts.csv from influence scan --out")
    p.add_argument("--authors", required=True, help="IRA authors.csv with account_category")
    p.add_argument("--tweets", required=True, help="the tweets file that was scanned (for post counts)")
    p.add_argument("--min-posts", type=int, default=20)
    p.add_argument("--min-recall", type=float, default=0.7)
    p.add_argument("--min-purity", type=float, default=0.8)
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

    print(f"IRA accounts with >= {args.min_posts} posts: {len(eligible)}")
    print(f"networks: {len(members)}; accounts placed: {placed}")
    print(f"recall: {recall:.3f} ({len(recalled)}/{len(eligible)})  [gate >= {args.min_recall}]")
    print(f"purity: {purity:.3f}  [gate >= {args.min_purity}]")
    print(f"adjusted mutual information: {score_ami:.3f}")
    for n, m in sorted(members.items(), key=lambda kv: -len(kv[1]))[:15]:
        top = Counter(m).most_common(3)
        print(f"  {n:>5} {len(m):>4} accounts  " + ", ".join(f"{c} {k}" for c, k in ((k, v) for k, v in top)))
    ok = recall >= args.min_recall and purity >= args.min_purity
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
