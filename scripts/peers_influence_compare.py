#!/usr/bin/env python3
"""Diffs Scrutineer's directed co_retweet / co_link / co_tweet edges against those of
coordination-network-toolkit (CNT) on one CNT-format CSV, and explains every difference.

How a difference is explained: the edges are recomputed here, from the CSV, by a small
reference implementation of the shared definition (directed weight w(a->b) = number of
distinct posts of a for which b has a post with the same item within +-window seconds;
self-pairs dropped; w >= min weight). The reference is run first with CNT's item rules
and must reproduce CNT's export exactly. Then Scrutineer's documented rules are switched
on one at a time (each a "difference kind"); every edge whose weight changes at a step is
attributed to that kind. With all rules on, the reference must reproduce Scrutineer's
edges exactly. Any edge left over on either side is unexplained and fails the check.

Difference kinds (the rules Scrutineer applies and CNT does not):
  rt_prefix      a post without repost id whose text starts `RT @handle:` is read as a
                 retweet (the Twitter v1.1 convention): it leaves co_link and co_tweet
                 and joins co_retweet keyed on handle + text.
  null_id        a repost id written `NA`, `null`, `None`, `nan`, ... is read as missing.
  url_normalised links compared after normalisation (scheme and host lower-cased,
                 default port, fragment and tracking parameters removed, `host/` = `host`;
                 known shorteners kept as they are).
  empty_text     posts whose normalised text is empty (only mentions) are not matched
                 (CNT matches them all with each other).
  whitespace     the text rule splits words on Unicode White_Space; CNT's final
                 str.split() also splits on the ASCII separators U+001C..U+001F, so
                 `a\\x1fb` is `a b` there and one word here.
Handled before comparing (CNT bugs, not difference kinds):
  - the CSV export of CNT crashes: edges are read from its GraphML export;
  - an empty urls field becomes the URL '' in CNT, joining every link-less post: the
    peers script deletes url = '' rows from CNT's message_url table before co_link, and
    the reference does the same;
  - CNT's export drops self-loops; Scrutineer never produces them.
"""

import argparse
import csv
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from urllib.parse import parse_qsl, urlencode, urlsplit

csv.field_size_limit(1 << 30)

BEHAVIOURS = ["co_retweet", "co_link", "co_tweet"]

# ---------------------------------------------------------------- item rules

NULL_TOKENS = {"", "NA", "N/A", "NaN", "nan", "None", "null", "NULL", "<NA>"}
RT_PREFIX = re.compile(r"RT @([A-Za-z0-9_]+):")
# Rust's char::is_whitespace (Unicode White_Space).
RUST_WS = re.compile("[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")

TRACKING = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src",
    "ref_url", "_ga", "_gl", "yclid", "twclid", "s_cid", "cmpid", "mkt_tok", "spm", "smid", "soc_src",
    "soc_trk",
}
SHORTENERS = {
    "t.co", "bit.ly", "bitly.com", "goo.gl", "ow.ly", "tinyurl.com", "buff.ly", "dlvr.it", "ift.tt", "is.gd",
    "trib.al", "fb.me", "youtu.be", "wp.me", "amp.gs", "lnkd.in", "shorturl.at", "rebrand.ly", "cutt.ly",
    "tiny.cc", "j.mp", "po.st", "sco.lt", "ln.is", "dld.bz",
}
DEFAULT_PORT = {"http": 80, "https": 443}


try:
    # CNT's own text rule, when run with the toolkit's Python (the peers script does).
    from coordination_network_toolkit.similarity import message_preprocessor as cnt_text
except ImportError:  # pragma: no cover - the same rule, written out

    def cnt_text(text):
        """CNT's message_preprocessor (similarity.py): its regex is the `regex` module's,
        whose \\s is Unicode White_Space; str.split() also splits on U+001C..U+001F."""
        import regex

        return " ".join(regex.sub(r"@.*?(?=(?:\s|$))", "", text.lower()).split())


def scrutineer_text(text):
    """Scrutineer's normalize_text: lower-case, split on Unicode White_Space, cut every
    word at its first '@', drop empty words, join with single spaces."""
    out = []
    for word in RUST_WS.split(text.lower()):
        word = word.split("@", 1)[0]
        if word:
            out.append(word)
    return " ".join(out)


def scrutineer_url(raw):
    """A replica of Scrutineer's normalize_url for the URLs seen in practice."""
    raw = raw.strip()
    cand = raw if "://" in raw else "http://" + raw
    try:
        parts = urlsplit(cand)
        port = parts.port
    except ValueError:
        return raw
    host = (parts.hostname or "").lower()
    if not host or any(c in host for c in " <>\"{}|\\^`"):
        return raw
    scheme = parts.scheme.lower()
    netloc = host
    if parts.username is not None:
        auth = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{auth}@{host}"
    if port is not None and port != DEFAULT_PORT.get(scheme):
        netloc += f":{port}"
    path = parts.path or "/"
    query = parts.query if "?" in cand.split("#", 1)[0] else None
    if query is not None and host.removeprefix("www.") not in SHORTENERS:
        kept = [
            (k, v)
            for k, v in parse_qsl(query, keep_blank_values=True)
            if not k.lower().startswith("utm_") and k.lower() not in TRACKING
        ]
        query = urlencode(kept) if kept else None
    s = f"{scheme}://{netloc}{path}" + (f"?{query}" if query is not None else "")
    if path == "/" and query is None and s.endswith("/"):
        s = s[:-1]
    return s


# ---------------------------------------------------------------- reference edges


def actions(rows, rules):
    """(behaviour -> list of (item, time, user, post)) under the given rule set."""
    out = {b: [] for b in BEHAVIOURS}
    for post, (user, repost, message, t, urls) in enumerate(rows):
        if "null_id" in rules:
            repost = repost.strip()
            if repost in NULL_TOKENS:
                repost = ""
        retweet_key = repost or None
        if retweet_key is None and "rt_prefix" in rules:
            m = RT_PREFIX.match(message)
            if m:
                retweet_key = "text:@" + m.group(1) + ":" + message[m.end():].lstrip()
        if retweet_key is not None:
            out["co_retweet"].append((retweet_key, t, user, post))
            continue
        links = [u for u in urls.split(" ") if u != ""]  # url = '' rows deleted from CNT
        if "url_normalised" in rules:
            links = [scrutineer_url(u) for u in links if u.strip()]
        for u in set(links):
            out["co_link"].append((u, t, user, post))
        text = scrutineer_text(message) if "whitespace" in rules else cnt_text(message)
        if text or "empty_text" not in rules:
            out["co_tweet"].append((text, t, user, post))
    return out


def weights(acts, window, min_weight):
    groups = defaultdict(list)
    for item, t, user, post in acts:
        groups[item].append((t, user, post))
    matched = defaultdict(set)
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort()
        lo = hi = 0
        n = len(group)
        for t, user, post in group:
            while group[lo][0] < t - window:
                lo += 1
            while hi < n and group[hi][0] <= t + window:
                hi += 1
            for j in range(lo, hi):
                other = group[j][1]
                if other != user:
                    matched[(user, other)].add(post)
    return {k: len(v) for k, v in matched.items() if len(v) >= min_weight}


# ---------------------------------------------------------------- inputs


def read_rows(path):
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[:8] != ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp",
                          "urls"]:
            sys.exit(f"{path}: not the CNT 8-column layout: {header}")
        seen = set()
        for line, r in enumerate(reader, start=2):
            if len(r) != 8:
                sys.exit(f"{path}: line {line}: {len(r)} fields, expected 8")
            if r[0] in seen:  # CNT keeps the first row of a message id
                continue
            seen.add(r[0])
            rows.append((r[1], r[3], r[5].replace("\r\n", "\n").replace("\r", "\n"), float(r[6]), r[7]))
    return rows


def read_graphml(path):
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(path).getroot()
    key = next(k.get("id") for k in root.findall("g:key", ns) if k.get("attr.name") == "weight")
    edges = {}
    for e in root.iter("{http://graphml.graphdrawing.org/xmlns}edge"):
        w = next(d.text for d in e.findall("g:data", ns) if d.get("key") == key)
        edges[(e.get("source"), e.get("target"))] = int(w)
    return edges


def read_edges_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != ["account_a", "account_b", "weight"]:
            sys.exit(f"{path}: header {header}, expected account_a,account_b,weight")
        return {(a, b): int(w) for a, b, w in reader}


def diff(x, y):
    both = x.keys() & y.keys()
    return {
        "both": len(both),
        "only_x": sorted(x.keys() - y.keys()),
        "only_y": sorted(y.keys() - x.keys()),
        "weight": sorted(k for k in both if x[k] != y[k]),
    }


def changed(x, y):
    return {k for k in x.keys() | y.keys() if x.get(k) != y.get(k)}


STEPS = {
    "co_retweet": ["null_id", "rt_prefix"],
    "co_link": ["null_id", "rt_prefix", "url_normalised"],
    "co_tweet": ["null_id", "rt_prefix", "empty_text", "whitespace"],
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--csv", required=True, help="the CNT-format input both tools read")
    p.add_argument("--cnt", required=True, help="directory with CNT's <behaviour>.graphml exports")
    p.add_argument("--scrutineer", required=True, help="Scrutineer's --out directory (edges/<behaviour>.csv)")
    p.add_argument("--window", type=float, default=60)
    p.add_argument("--min-weight", type=int, default=2)
    p.add_argument("--label", default="sample")
    p.add_argument("--examples", type=int, default=3)
    p.add_argument("--require-edges", action="store_true", help="fail when a behaviour has no edge on either side")
    args = p.parse_args()

    rows = read_rows(args.csv)
    print(f"== {args.label}: {len(rows)} posts, window {args.window:g} s, min weight {args.min_weight}")
    unexplained = 0
    cache = {}

    def ref(rules, behaviour):
        key = frozenset(rules)
        if key not in cache:
            cache[key] = actions(rows, key)
        return weights(cache[key][behaviour], args.window, args.min_weight)

    header = f"{'behaviour':<11}{'CNT':>8}{'Scrut.':>8}{'both':>8}{'only CNT':>10}{'only Scr.':>10}{'weight':>8}"
    lines = [header]
    explained_lines = []
    for b in BEHAVIOURS:
        cnt = read_graphml(f"{args.cnt}/{b}.graphml")
        ours = read_edges_csv(f"{args.scrutineer}/edges/{b}.csv")
        d = diff(cnt, ours)
        lines.append(
            f"{b:<11}{len(cnt):>8}{len(ours):>8}{d['both']:>8}{len(d['only_x']):>10}{len(d['only_y']):>10}"
            f"{len(d['weight']):>8}"
        )
        if args.require_edges and not cnt and not ours:
            unexplained += 1
            explained_lines.append(f"  {b}: no edges on either side: the comparison would prove nothing")
        differing = set(d["only_x"]) | set(d["only_y"]) | set(d["weight"])

        # The reference with CNT's rules must reproduce CNT.
        rules = set()
        prev = ref(rules, b)
        base = changed(prev, cnt)
        if base:
            unexplained += len(base)
            explained_lines.append(
                f"  {b}: UNEXPLAINED: {len(base)} CNT edges differ from the reference with CNT's rules, "
                f"e.g. {[(k, cnt.get(k), prev.get(k)) for k in sorted(base)[: args.examples]]}"
            )
        kinds = defaultdict(set)
        for step in STEPS[b]:
            rules.add(step)
            cur = ref(rules, b)
            for k in changed(prev, cur):
                kinds[step].add(k)
            prev = cur
        rest = changed(prev, ours)
        if rest:
            unexplained += len(rest)
            explained_lines.append(
                f"  {b}: UNEXPLAINED: {len(rest)} Scrutineer edges differ from the reference with Scrutineer's "
                f"rules (account_a, account_b, Scrutineer, reference): "
                f"{[(k, ours.get(k), prev.get(k)) for k in sorted(rest)[: args.examples]]}"
            )
        for step in STEPS[b]:
            hit = kinds[step] & differing
            if hit:
                ex = [(k, cnt.get(k, 0), ours.get(k, 0)) for k in sorted(hit)[: args.examples]]
                explained_lines.append(
                    f"  {b}: {len(hit)} edge(s) differ by {step} (account_a, account_b, CNT, Scrutineer): {ex}"
                )
        lost = differing - set().union(*kinds.values()) - base - rest
        if lost:
            unexplained += len(lost)
            explained_lines.append(f"  {b}: UNEXPLAINED: {len(lost)} differing edges no rule accounts for")
    print("\n".join(lines))
    if explained_lines:
        print("differences:")
        print("\n".join(explained_lines))
    else:
        print("differences: none")
    if unexplained:
        print(f"FAIL: {unexplained} unexplained edge difference(s)")
        sys.exit(1)
    print("OK: every edge equals CNT's or differs by an explained kind")


if __name__ == "__main__":
    main()
