#!/usr/bin/env python3
"""Scores `scrutineer influence scan` on real IRA tweets mixed with simulated organic traffic.

Reads DIR/accounts.csv (account,network,score), the IRA tweets file and the simulated
background posts, and prints:
  precision - share of the accounts placed in networks that are IRA accounts;
  recall    - share of IRA accounts with at least MIN_POSTS posts that were placed;
and which organic accounts were placed, with the behaviours that tied them (from
DIR/edges/*.csv), so that false networks can be traced to the organic structure behind them.
Exits 1 when precision < --min-precision, recall < --min-recall, or the share of
organic accounts placed > --max-organic-share (each given by the calling script, close to
the figures measured for the seed).
Standard library only.
"""
import argparse
import csv
import gzip
import os
import sys
from collections import Counter, defaultdict


def open_text(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", newline="", encoding="utf-8", errors="replace")
    return open(path, newline="", encoding="utf-8", errors="replace")


def count_posts(path):
    posts = Counter()
    with open_text(path) as f:
        for row in csv.DictReader(f):
            posts[row["author_id"]] += 1
    return posts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scan", required=True, help="the --out directory of influence scan")
    p.add_argument("--ira", required=True, help="the IRA tweets file that was scanned")
    p.add_argument("--background", required=True, help="the simulated posts file that was scanned")
    p.add_argument("--min-posts", type=int, default=20)
    p.add_argument("--min-precision", type=float, default=0.9)
    p.add_argument("--min-recall", type=float, default=0.7)
    p.add_argument("--max-organic-share", type=float, default=1.0,
                   help="largest share of the organic accounts that may be placed")
    p.add_argument("--want-placed", type=int, help="accounts placed as measured (gate: within 5%%)")
    p.add_argument("--want-networks", type=int, help="networks as measured (gate: within 25%%)")
    args = p.parse_args()

    ira_posts = count_posts(args.ira)
    bg_posts = count_posts(args.background)
    clash = set(ira_posts) & set(bg_posts)
    if clash:
        print(f"eval-influence-mixed: {len(clash)} simulated account ids collide with IRA ids, e.g. "
              f"{sorted(clash)[:3]}", file=sys.stderr)
        return 2

    network = {}
    with open(os.path.join(args.scan, "accounts.csv"), newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["account", "network", "score"]:
            print(f"accounts.csv: unexpected header {reader.fieldnames}", file=sys.stderr)
            return 2
        for row in reader:
            network[row["account"]] = row["network"]

    placed = set(network)
    ira_placed = {a for a in placed if a in ira_posts}
    organic_placed = {a for a in placed if a in bg_posts}
    unknown = placed - ira_placed - organic_placed
    eligible = {a for a, n in ira_posts.items() if n >= args.min_posts}
    precision = len(ira_placed) / len(placed) if placed else 0.0
    recall = len(eligible & placed) / len(eligible) if eligible else 0.0

    print(f"input: {sum(ira_posts.values()):,} IRA posts by {len(ira_posts)} accounts "
          f"({len(eligible)} with >= {args.min_posts} posts); {sum(bg_posts.values()):,} simulated "
          f"organic posts by {len(bg_posts):,} accounts")
    print(f"placed in networks: {len(placed)} accounts in {len(set(network.values()))} networks "
          f"({len(ira_placed)} IRA, {len(organic_placed)} organic"
          + (f", {len(unknown)} unknown" if unknown else "") + ")")

    # Which behaviours tied the organic accounts that were placed.
    if organic_placed:
        ties = Counter()
        edges_dir = os.path.join(args.scan, "edges")
        for name in sorted(os.listdir(edges_dir)) if os.path.isdir(edges_dir) else []:
            with open(os.path.join(edges_dir, name), newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    if row["account_a"] in organic_placed and row["account_a"] < row["account_b"]:
                        ties[(name.removesuffix(".csv"),
                              "organic" if row["account_b"] in bg_posts else "IRA")] += 1
        nets = defaultdict(lambda: [0, 0])
        for a, n in network.items():
            nets[n][0 if a in ira_posts else 1] += 1
        mixed = {n: c for n, c in nets.items() if c[1] > 0}
        print("organic accounts placed, by network (IRA, organic): "
              + ", ".join(f"{n} ({c[0]}, {c[1]})" for n, c in sorted(mixed.items(), key=lambda x: -x[1][1])[:12]))
        print("edges of placed organic accounts, by behaviour and partner: "
              + ", ".join(f"{b}->{k} {n}" for (b, k), n in ties.most_common()))
        top = sorted(organic_placed, key=lambda a: -bg_posts[a])[:5]
        print("most active organic accounts placed: " + ", ".join(f"{a} ({bg_posts[a]} posts)" for a in top))

    organic_share = len(organic_placed) / len(bg_posts) if bg_posts else 0.0
    print(f"precision (IRA share of placed accounts): {precision:.3f}  (bar {args.min_precision})")
    print(f"recall (IRA accounts >= {args.min_posts} posts placed): {recall:.3f}  (bar {args.min_recall})")
    print(f"organic accounts placed: {organic_share:.4%} ({len(organic_placed)}/{len(bg_posts)})  "
          f"(bar {args.max_organic_share:.4%})")
    ok = (precision >= args.min_precision and recall >= args.min_recall
          and organic_share <= args.max_organic_share)
    networks = len(set(network.values()))
    for name, got, want, tol in [("accounts placed", len(placed), args.want_placed, 0.05),
                                 ("networks", networks, args.want_networks, 0.25)]:
        if want is None:
            continue
        lo, hi = want * (1 - tol), want * (1 + tol)
        within = lo <= got <= hi
        print(f"{name}: {got}  (measured {want}, gate {lo:.0f}..{hi:.0f}){'' if within else '  FAIL'}")
        ok = ok and within
    if not ok:
        print("FAIL: below the bar", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
