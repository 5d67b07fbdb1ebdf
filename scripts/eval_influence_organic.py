#!/usr/bin/env python3
"""Real organic traffic mixed into the IRA file: does the influence engine accuse ordinary people?

Two subcommands, standard library only:

  build --set NAME --shared DIR --out FILE
      Writes one real organic collection from ../shared/data/influence as rows of the IRA
      file's own schema (author_id,content,region,language,publish_date,harvested_date,
      following,followers,updates,post_type,retweet), its times moved into the IRA file's
      period (1 September - 30 November 2016), so that it can be scanned together with the
      IRA file exactly as an analyst would mix a background into a collection.

  score --scan DIR --ira FILE --organic FILE [--organic FILE ...]
      Reads DIR/accounts.csv and prints precision (IRA share of placed accounts), the share
      of organic accounts placed, and IRA recall (accounts with >= 20 posts placed).

The sets (see ../shared/data/README.md):
  german       coortweet/german_elections.csv.gz: 218,971 Facebook and Twitter posts of the
               2021 German federal election, ids only (URL, hashtag, domain and image-hash ids).
               Rows of one post_id are one post; a URL becomes https://d<domain>.example/u<url>,
               an image hash https://img.example/<phash> (an image shared is an item like a
               link), a hashtag #h<id>. The text is not in the file: each post gets its own
               id as text, so no text coincidence is invented that the data does not hold.
  voterfraud   voterfraud2020_partial/retweets: 423,238 retweets (retweeted_id, user_id) of the
               2020 US "voter fraud" narrative, day resolution (the day is the file's name). A
               retweet's minute is drawn deterministically inside its day, never before the
               retweeted tweet was posted (its Twitter id holds its creation time).
  mueller      mueller_report_tweets/tweets.csv: 1,000 organic tweets by 897 users, with text.
  verified     chuachinhon_state_trolls/real_test*.csv: 4,000 tweets of 35 verified real
               accounts, with text, 2012-2019; the span is scaled linearly into the period
               (closer in time than they were, which only makes chance coincidences likelier).
"""
import argparse
import csv
import datetime as dt
import glob
import gzip
import hashlib
import os
import sys
from collections import Counter

PERIOD_START = dt.datetime(2016, 9, 1)
PERIOD_END = dt.datetime(2016, 11, 30, 23, 59)
HEADER = ["author_id", "content", "region", "language", "publish_date", "harvested_date",
          "following", "followers", "updates", "post_type", "retweet"]
SETS = ("german", "voterfraud", "mueller", "verified")
# Twitter ids carry their creation time in milliseconds since this epoch (snowflake ids).
TWITTER_EPOCH_MS = 1288834974657


def die(msg):
    print(f"eval-influence-organic: {msg}", file=sys.stderr)
    sys.exit(2)


def need(path):
    if not os.path.exists(path):
        die(f"missing {path} (the shared data must sit beside the repository)")
    return path


def open_text(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", newline="", encoding="utf-8", errors="replace")
    return open(path, newline="", encoding="utf-8", errors="replace")


def unit(*parts):
    """A deterministic number in [0, 1) from the parts (no global random state)."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


class TimeMap:
    """Moves a set's times into the IRA period: shifted to start on 1 September 2016, and
    scaled down linearly when the set spans more than the period."""

    def __init__(self, times, offset_days=0.0):
        lo, hi = min(times), max(times)
        span = (hi - lo).total_seconds()
        room = (PERIOD_END - PERIOD_START).total_seconds() - offset_days * 86400
        self.lo = lo
        self.scale = min(1.0, room / span) if span > 0 else 1.0
        self.start = PERIOD_START + dt.timedelta(days=offset_days)

    def __call__(self, t):
        return self.start + dt.timedelta(seconds=(t - self.lo).total_seconds() * self.scale)


def fmt(t):
    # The IRA file is to the minute.
    return t.strftime("%Y-%m-%d %H:%M:00")


def row(author, content, when, post_type="", language="English"):
    return [author, content, "United States", language, fmt(when), fmt(when), "", "", "",
            post_type, "1" if post_type == "R" else "0"]


def build_german(shared):
    path = need(os.path.join(shared, "coortweet", "german_elections.csv.gz"))
    posts = {}
    with open_text(path) as f:
        for r in csv.DictReader(f):
            key = (r["account_id"], r["post_id"])
            p = posts.setdefault(key, {"t": float(r["timestamp"]), "urls": [], "tags": []})
            if r["url_id"]:
                p["urls"].append(f"https://d{r['domain_id'] or 'x'}.example/u{r['url_id']}")
            if r["phash_id"]:
                p["urls"].append(f"https://img.example/{r['phash_id']}")
            if r["hashtag_id"]:
                p["tags"].append(f"#h{r['hashtag_id']}")
    times = [dt.datetime.fromtimestamp(p["t"], dt.UTC).replace(tzinfo=None) for p in posts.values()]
    tm = TimeMap(times, offset_days=20)
    for ((account, post_id), p), t in zip(posts.items(), times):
        words = [f"post{post_id}"] + sorted(set(p["tags"])) + sorted(set(p["urls"]))
        yield row(f"org-de-{account}", " ".join(words), tm(t), language="German")


def build_voterfraud(shared):
    files = sorted(glob.glob(os.path.join(shared, "voterfraud2020_partial", "retweets", "*", "retweets-*.csv")))
    if not files:
        die(f"missing {shared}/voterfraud2020_partial/retweets/*/retweets-*.csv")
    rows = []
    for path in files:
        day = dt.datetime.strptime(os.path.basename(path)[len("retweets-"):-len(".csv")], "%Y-%m-%d")
        with open_text(path) as f:
            for r in csv.DictReader(f):
                tid, user = r["retweeted_id"], r["user_id"]
                earliest = day
                if tid.isdigit():
                    created = dt.datetime(1970, 1, 1) + dt.timedelta(
                        milliseconds=(int(tid) >> 22) + TWITTER_EPOCH_MS)
                    if created.date() == day.date():
                        earliest = created
                room = (day + dt.timedelta(days=1) - earliest).total_seconds()
                t = earliest + dt.timedelta(seconds=unit(tid, user) * max(room - 60, 0))
                rows.append((t, user, tid))
    tm = TimeMap([t for t, _, _ in rows], offset_days=30)
    for t, user, tid in rows:
        yield row(f"org-vf-{user}", f"RT @a{tid}: tweet {tid}", tm(t), post_type="R")


def build_mueller(shared):
    path = need(os.path.join(shared, "mueller_report_tweets", "tweets.csv"))
    with open_text(path) as f:
        recs = list(csv.DictReader(f))
    times = [dt.datetime.strptime(r["created"], "%Y-%m-%dT%H:%M:%SZ") for r in recs]
    tm = TimeMap(times, offset_days=40)
    for r, t in zip(recs, times):
        rt = r["isRetweet"].upper() == "TRUE" or r["text"].startswith("RT @")
        yield row(f"org-mu-{r['screenName']}", r["text"], tm(t), post_type="R" if rt else "")


def build_verified(shared):
    paths = sorted(glob.glob(os.path.join(shared, "chuachinhon_state_trolls", "real_test*.csv")))
    if len(paths) < 4:
        die(f"missing {shared}/chuachinhon_state_trolls/real_test*.csv (expected 4 files)")
    seen, recs = set(), []
    for path in paths:
        with open_text(path) as f:
            for r in csv.DictReader(f):
                if r["tweetid"] in seen:
                    continue
                seen.add(r["tweetid"])
                recs.append(r)
    times = [dt.datetime.strptime(r["tweet_time"][:16], "%Y-%m-%d %H:%M") for r in recs]
    tm = TimeMap(times)
    for r, t in zip(recs, times):
        rt = r["tweet_text"].startswith("RT @")
        yield row(f"org-ve-{r['user_screen_name']}", r["tweet_text"], tm(t), post_type="R" if rt else "")


BUILDERS = {"german": build_german, "voterfraud": build_voterfraud, "mueller": build_mueller,
            "verified": build_verified}


def cmd_build(args):
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        n = 0
        for r in BUILDERS[args.set](args.shared):
            w.writerow(r)
            n += 1
    print(f"{args.set}: {n:,} organic posts written to {args.out}", file=sys.stderr)
    return 0


def count_posts(path):
    posts = Counter()
    with open_text(path) as f:
        for r in csv.DictReader(f):
            posts[r["author_id"]] += 1
    return posts


def cmd_score(args):
    ira = count_posts(args.ira)
    organic = Counter()
    for path in args.organic:
        organic.update(count_posts(path))
    clash = set(ira) & set(organic)
    if clash:
        die(f"{len(clash)} organic account ids collide with IRA ids, e.g. {sorted(clash)[:3]}")
    network = {}
    with open(os.path.join(args.scan, "accounts.csv"), newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["account", "network", "score"]:
            die(f"accounts.csv: unexpected header {reader.fieldnames}")
        for r in reader:
            network[r["account"]] = r["network"]
    placed = set(network)
    ira_placed = placed & set(ira)
    org_placed = placed & set(organic)
    eligible = {a for a, n in ira.items() if n >= args.min_posts}
    precision = len(ira_placed) / len(placed) if placed else 0.0
    organic_share = len(org_placed) / len(organic) if organic else 0.0
    recall = len(eligible & placed) / len(eligible) if eligible else 0.0
    label = args.label
    print(f"{label}: {sum(organic.values()):,} organic posts by {len(organic):,} accounts; "
          f"placed {len(placed)} accounts in {len(set(network.values()))} networks "
          f"({len(ira_placed)} IRA, {len(org_placed)} organic)")
    if org_placed:
        nets = Counter(network[a] for a in org_placed)
        top = sorted(org_placed, key=lambda a: -organic[a])[:5]
        print(f"{label}:   organic accounts by network: "
              + ", ".join(f"{n}: {c}" for n, c in nets.most_common(8))
              + "; most active: " + ", ".join(f"{a} ({organic[a]} posts)" for a in top))
    bar = "meets" if precision >= 0.95 and organic_share <= 0.002 and recall >= 0.7 else "BELOW"
    print(f"{label}: precision {precision:.3f} (gate {args.min_precision}), organic placed "
          f"{100 * organic_share:.3f}% (gate {100 * args.max_organic:.2f}%), recall {recall:.3f} "
          f"(gate {args.min_recall}); {bar} the issue's bar (0.95, 0.2%, 0.7)")
    ok = precision >= args.min_precision and organic_share <= args.max_organic and recall >= args.min_recall
    if not ok:
        print(f"FAIL {label}: outside a gate", file=sys.stderr)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--set", choices=SETS, required=True)
    b.add_argument("--shared", required=True, help="../shared/data/influence")
    b.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("--scan", required=True)
    s.add_argument("--ira", required=True)
    s.add_argument("--organic", action="append", required=True)
    s.add_argument("--label", default="mixed")
    s.add_argument("--min-posts", type=int, default=20)
    s.add_argument("--min-precision", type=float, default=0.95)
    s.add_argument("--max-organic", type=float, default=0.002)
    s.add_argument("--min-recall", type=float, default=0.7)
    args = p.parse_args()
    return cmd_build(args) if args.cmd == "build" else cmd_score(args)


if __name__ == "__main__":
    sys.exit(main())
