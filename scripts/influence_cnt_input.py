#!/usr/bin/env python3
"""Writes posts in the 8-column CSV layout of coordination-network-toolkit (QUT):
message_id,user_id,username,repost_id,reply_id,message,timestamp,urls

Two sources:
  ira  -- the Clemson/FiveThirtyEight IRA CSV (plain or .gz). message_id is the row
          number; user_id and username are author_id; retweets (post_type R) get as
          repost_id a stable id of the retweeted post: a hash of its content (the file
          has no tweet ids, and two retweets of one post carry the same text and the
          same t.co links); timestamp is publish_date read as UTC; urls are the links in
          the content, space-separated.
  edgecases -- a small generated file in which each rule where the two tools differ
          (empty normalised text, link normalisation, `RT @handle:` texts without repost
          id, `NA` repost ids, an ASCII separator between words) decides some edges, beside
          coordination both read alike (retweet rings, copied text, shared links, times
          exactly at and just past the window).
  synthetic -- generated posts: heavy-tailed account activity, retweet rings that
          retweet the same posts within seconds, copy-paste teams, link pushers and
          background traffic. Deterministic for a given --seed.

Both tools read the same file, so it must satisfy the toolkit's reader: the urls column
last, split on single spaces.
"""

import argparse
import bisect
import calendar
import csv
import gzip
import hashlib
import io
import itertools
import math
import random
import re
import sys

HEADER = ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"]
URL = re.compile(r"https?://\S+")


def open_text(path):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def unix(ts):
    """`YYYY-MM-DD HH:MM:SS`, read as UTC, to Unix seconds."""
    if len(ts) != 19 or ts[4] != "-" or ts[7] != "-" or ts[10] != " " or ts[13] != ":" or ts[16] != ":":
        raise ValueError(ts)
    parts = (int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]), int(ts[14:16]), int(ts[17:19]))
    return calendar.timegm(parts + (0, 0, 0))


def ira(args, writer):
    since = unix(args.since + " 00:00:00") if args.since else None
    until = unix(args.until + " 00:00:00") if args.until else None
    n = 0
    with open_text(args.input) as f:
        reader = csv.DictReader(f)
        missing = {"author_id", "content", "publish_date", "post_type"} - set(reader.fieldnames or [])
        if missing:
            sys.exit(f"{args.input}: not an IRA CSV, missing columns {sorted(missing)}")
        for i, row in enumerate(reader, start=1):
            try:
                t = unix(row["publish_date"].strip())
            except ValueError:
                sys.exit(f"{args.input}: line {i + 1}: bad publish_date {row['publish_date']!r}")
            if (since is not None and t < since) or (until is not None and t >= until):
                continue
            text = row["content"]
            repost = ""
            if row["post_type"].strip() == "R":
                repost = "rt" + hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
            urls = " ".join(URL.findall(text))
            author = row["author_id"]
            writer.writerow([i, author, author, repost, "", text, t, urls])
            n += 1
            if args.limit and n >= args.limit:
                break
    return n


WORDS = (
    "vote election ballot fraud rigged candidate debate news media fake truth people america "
    "state county poll count early mail border economy jobs tax police freedom rally watch "
    "share breaking today tonight never again must stop support win lose crowd video live"
).split()
DOMAINS = ["example-news.com", "daily-report.net", "patriot-wire.org", "rt.com", "sputniknews.com",
           "youtube.com", "t.co", "bit.ly", "local-herald.com", "blog-spot.net"]


def synthetic(args, writer):
    rng = random.Random(args.seed)
    rand, randrange = rng.random, rng.randrange
    n_posts = args.posts
    n_accounts = max(50, n_posts // 25)
    start = 1_475_280_000  # 2016-10-01 UTC
    span = 30 * 86_400
    # Phrases to build texts from (texts themselves stay mostly distinct).
    phrases = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) for _ in range(4096)]
    # Heavy-tailed activity: account k posts in proportion to 1 / (k + 1)^0.9.
    cum = list(itertools.accumulate(1.0 / (k + 1) ** 0.9 for k in range(n_accounts)))
    total_w = cum[-1]
    # Coordinated teams of 5..40 accounts (about 3% of all accounts).
    teams = []
    pool = list(range(n_accounts))
    rng.shuffle(pool)
    used = 0
    while used < n_accounts * 0.03:
        size = rng.randint(5, 40)
        teams.append(pool[used:used + size])
        used += size
    log_posts = math.log(max(n_posts, 2))
    rows = 0
    out = []
    while rows < n_posts:
        if rand() < 0.12:
            # A team acts together within two minutes: all retweet one post, post one
            # text (with different mentions), or push one link.
            team = teams[randrange(len(teams))]
            t0 = start + randrange(span)
            what = rand()
            tag = randrange(1 << 40)
            text = f"{phrases[tag & 4095]} #{WORDS[tag % len(WORDS)]}"
            link = f"https://{DOMAINS[tag % len(DOMAINS)]}/story/{tag:x}"
            for m in team:
                if rand() < 0.2 or rows >= n_posts:
                    continue
                rows += 1
                t = t0 + randrange(120)
                if what < 0.5:
                    out.append((rows, f"u{m}", f"user_{m}", f"p{tag}", "", text, t, ""))
                elif what < 0.8:
                    out.append((rows, f"u{m}", f"user_{m}", "", "", f"@u{team[0]} {text}", t, ""))
                else:
                    out.append((rows, f"u{m}", f"user_{m}", "", "", f"{phrases[m & 4095]} {link}", t, link))
        else:
            rows += 1
            user = bisect.bisect_left(cum, rand() * total_w)
            t = start + randrange(span)
            kind = rand()
            if kind < 0.45:
                # Retweet of a post whose popularity is heavy-tailed.
                post = int(math.exp(rand() * log_posts))
                out.append((rows, f"u{user}", f"user_{user}", f"p{post}", "", f"{phrases[post & 4095]} {post}", t, ""))
            elif kind < 0.65:
                link = f"https://{DOMAINS[user % len(DOMAINS)]}/a/{int(math.exp(rand() * 12))}?utm_source=tw"
                out.append((rows, f"u{user}", f"user_{user}", "", "", f"{phrases[randrange(4096)]} {link}", t, link))
            else:
                text = f"{phrases[randrange(4096)]} {randrange(1 << 30)}"
                out.append((rows, f"u{user}", f"user_{user}", "", "", text, t, ""))
        if len(out) >= 100_000:
            writer.writerows(out)
            out.clear()
    writer.writerows(out)
    return rows


def edgecases(args, writer):
    rng = random.Random(args.seed)
    t0 = 1_475_280_000
    rows = []

    def post(user, repost, text, t, urls=""):
        rows.append([len(rows) + 1, f"e{user}", f"edge_{user}", repost, "", text, t, urls])

    def team(members, times, make):
        for k, t in enumerate(times):
            for j, m in enumerate(members):
                repost, text, urls = make(k, j)
                post(m, repost, text, t + j * 7, urls)

    times = [t0 + 3600 * k for k in range(4)]
    # Read alike by both tools.
    team(range(0, 5), times, lambda k, j: (f"ring{k}", f"retweeted text {k}", ""))
    team(range(5, 9), times, lambda k, j: ("", f"Same COPY  text {k} @e{j}", ""))
    team(range(9, 12), times, lambda k, j: ("", f"look https://news.example.org/{k}", f"https://news.example.org/{k}"))
    # Window boundary: exactly 60 s apart counts, 61 s does not.
    for k in range(3):
        post(12, f"edge{k}", "x", t0 + 9000 * k)
        post(13, f"edge{k}", "x", t0 + 9000 * k + 60)
        post(14, f"edge{k}", "x", t0 + 9000 * k + 121)
    # empty_text: posts that are only mentions.
    team(range(20, 24), times, lambda k, j: ("", f"@e{(j + 1) % 4} @e{(j + 2) % 4}", ""))
    # url_normalised: one page written several ways.
    variants = [
        "HTTP://WWW.Example.COM/story/{k}?utm_source=tw",
        "http://www.example.com/story/{k}",
        "http://www.example.com/story/{k}#comments",
        "http://www.example.com:80/story/{k}?fbclid=abc",
    ]
    team(range(24, 28), times, lambda k, j: ("", "read " + variants[j].format(k=k), variants[j].format(k=k)))
    # rt_prefix: manual retweets with no repost id, with a link.
    team(
        range(28, 32),
        times,
        lambda k, j: ("", f"RT @source_{k}: breaking https://t.co/rt{k}", f"https://t.co/rt{k}"),
    )
    # null_id: a pandas-style NA in the repost id column.
    team(range(32, 35), times, lambda k, j: ("NA", f"na text {k}", ""))
    # whitespace: an ASCII unit separator after a mention.
    team(range(36, 38), times, lambda k, j: ("", [f"hello\x1fworld {k}", f"hello world {k}"][j], ""))
    team(range(38, 40), times, lambda k, j: ("", [f"bye @e{k}\x1fthen {k}", f"bye {k}"][j], ""))
    # Background: independent accounts, no coordination intended.
    for i in range(2000):
        user = 100 + int(rng.paretovariate(1.2)) % 300
        t = t0 + rng.randrange(86_400)
        r = rng.random()
        if r < 0.4:
            post(user, f"pop{int(rng.paretovariate(1.0)) % 50}", "popular", t)
        elif r < 0.6:
            u = f"https://site{rng.randrange(20)}.example/{rng.randrange(30)}"
            post(user, "", f"see {u}", t, u)
        else:
            post(user, "", " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))), t)
    rows.sort(key=lambda r: r[6])
    for i, r in enumerate(rows, start=1):
        r[0] = i
    writer.writerows(rows)
    return len(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", choices=["ira", "edgecases", "synthetic"])
    p.add_argument("--input", help="IRA CSV (ira)")
    p.add_argument("--out", required=True)
    p.add_argument("--since", help="ira: first day kept, YYYY-MM-DD (UTC)")
    p.add_argument("--until", help="ira: first day no longer kept, YYYY-MM-DD (UTC)")
    p.add_argument("--limit", type=int, default=0, help="ira: at most this many rows")
    p.add_argument("--posts", type=int, default=1_000_000, help="synthetic: rows")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        if args.source == "ira":
            if not args.input:
                sys.exit("--input is required for ira")
            n = ira(args, writer)
        elif args.source == "edgecases":
            n = edgecases(args, writer)
        else:
            n = synthetic(args, writer)
    print(f"wrote {n} rows to {args.out}")


if __name__ == "__main__":
    main()
