"""Who spreads a dump (scripts/eval-mail-sightings.sh).

  eval_mail_sightings.py ira-expected DATA OUT
        what the IRA tweets under DATA hold, counted here from the file itself: posts
        with a hashtag starting with PodestaEmails, their accounts, the first one
        (OUT/ira-expected.json)
  eval_mail_sightings.py ira-check DATA OUT
        the command's OUT/ira/ outputs against that count, and the detected networks
        among the spreaders against Linvill and Warren's hand coding of each account
  eval_mail_sightings.py build DATA DIR
        DIR/dump/*.eml: 200 messages whose bodies are real tweets of verified accounts
        (five each, one a line, a unique link in some, an attachment in some); DIR/posts.csv
        (IRA CSV schema): the 1,000 organic tweets of the Mueller set as they stand, and
        posts generated here that quote 8 to 16 words of a message's text, its subject,
        its link or its attachment name, and near misses (7 words, a quoted line of
        another message, a link to another path); DIR/expected.csv: post id, kind, message
  eval_mail_sightings.py check DIR
        DIR/out/sightings.csv against DIR/expected.csv: recall and precision per kind;
        exits 1 below the gates
"""
import csv, gzip, json, os, random, re, sys
from datetime import datetime, timedelta, timezone

IRA_HEADER = ["author_id", "content", "region", "language", "publish_date", "harvested_date",
              "following", "followers", "updates", "post_type", "retweet"]


def podesta_tags(text):
    return [t for t in re.findall(r"(?<![\w&])#(\w+)", text) if t.lower().startswith("podestaemails")]


def ira_expected(data, out):
    posts, accounts, first = 0, set(), None
    with gzip.open(os.path.join(data, "influence/ira/tweets-2016-09-01_2016-11-30.csv.gz"), "rt", newline="") as f:
        for r in csv.DictReader(f):
            if podesta_tags(r["content"]):
                posts += 1
                accounts.add(r["author_id"])
                t = r["publish_date"]
                first = t if first is None or t < first else first
    json.dump({"posts": posts, "accounts": len(accounts), "first": first}, open(os.path.join(out, "ira-expected.json"), "w"))


def ira_check(data, out):
    exp = json.load(open(os.path.join(out, "ira-expected.json")))
    summary = json.load(open(os.path.join(out, "ira/sightings.json")))["summary"]
    category = {r["author"].lower(): r["account_category"]
                for r in csv.DictReader(open(os.path.join(data, "influence/ira/authors.csv")))}
    spreaders = list(csv.DictReader(open(os.path.join(out, "ira/spreaders.csv"))))
    first = summary["first_sighting"]["time"]
    exp_first = datetime.strptime(exp["first"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    print(f"IRA tweets, #PodestaEmails*: {summary['posts_with_sightings']} posts by {len(spreaders)} accounts "
          f"(counted from the file: {exp['posts']} by {exp['accounts']}); first {first} "
          f"({summary['first_hours_after_release']:+.1f} h from the release), expected {exp_first.isoformat()}; "
          f"{summary['before_release']} before the release")
    nets = {}
    for s in spreaders:
        if s["network"]:
            nets.setdefault(s["network"], []).append(category.get(s["account"].lower(), "?"))
    placed = sum(len(v) for v in nets.values())
    pure = sum(max(v.count(c) for c in set(v)) for v in nets.values())
    for n, v in sorted(nets.items()):
        top = max(set(v), key=v.count)
        print(f"  network {n}: {len(v)} spreaders, {v.count(top)} of them {top}")
    print(f"  {placed} of {len(spreaders)} spreaders in detected networks; {pure} of {placed} share their "
          f"network's most common hand-coded category ({100 * pure / max(placed, 1):.1f}%)")
    ok = (summary["posts_with_sightings"] == exp["posts"] and len(spreaders) == exp["accounts"]
          and first.startswith(exp_first.strftime("%Y-%m-%dT%H:%M")) and placed > 0 and pure >= 0.9 * placed)
    if not ok:
        print("FAIL: the IRA sightings differ from the count made from the file, or the networks mix categories")
    return ok


def build(data, d):
    rnd = random.Random(18)
    tweets = []
    for name in ["real_test.csv", "real_test2.csv", "real_test3.csv", "real_test4.csv"]:
        for r in csv.DictReader(open(os.path.join(data, "influence/chuachinhon_state_trolls", name), newline="")):
            text = re.sub(r"https?://\S+", "", r["tweet_text"]).replace("\n", " ").strip()
            if len(text.split()) >= 12 and not text.startswith("RT "):
                tweets.append(text)
    tweets = sorted(set(tweets))
    rnd.shuffle(tweets)
    os.makedirs(os.path.join(d, "dump"))
    messages = []
    for i in range(200):
        lines = tweets[5 * i:5 * i + 5]
        subject = " ".join(tweets[1000 + i].split()[:rnd.randint(5, 9)])
        link = f"https://docs.example.org/d/{i:04d}x{rnd.randrange(16**6):06x}/edit" if i % 3 == 0 else None
        attachment = f"briefing_{i:04d}_final.pdf" if i % 4 == 0 else None
        body = "\n".join(lines) + (f"\nDraft: {link}" if link else "") + "\n> " + tweets[2000 + i] + "\n"
        head = (f"From: staff{i}@campaign.example.org\nTo: chair@campaign.example.org\n"
                f"Subject: {subject}\nMessage-ID: <m{i}@campaign.example.org>\n"
                f"Date: Mon, 3 Oct 2016 10:{i % 60:02d}:00 +0000\nMIME-Version: 1.0\n")
        if attachment:
            raw = (head + 'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n'
                   + body + f'--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="{attachment}"\n'
                   "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n")
        else:
            raw = head + "Content-Type: text/plain; charset=utf-8\n\n" + body
        with open(os.path.join(d, "dump", f"m{i:03d}.eml"), "w", encoding="utf-8") as f:
            f.write(raw)
        messages.append({"lines": lines, "subject": subject, "link": link, "attachment": attachment,
                         "quoted": tweets[2000 + i]})
    posts, expected = [], []
    t0 = datetime(2016, 10, 7, 21, 0, tzinfo=timezone.utc)
    n = 0

    def post(text, kind=None, message=None, account=None):
        nonlocal n
        n += 1
        pid = f"p{n:05d}"
        t = t0 + timedelta(minutes=n)
        posts.append([account or f"acct{rnd.randrange(300)}", text, "United States", "English",
                      t.strftime("%Y-%m-%d %H:%M:%S"), t.strftime("%Y-%m-%d %H:%M:%S"), 10, 10, 10, "", 0, pid])
        if kind:
            expected.append((pid, kind, message))

    def words(line):
        return line.split()

    for i, m in enumerate(messages):
        # A quote of 8 to 16 words as written, holding at least 8 words as the engine
        # counts them (a dash is none; "can't" is two).
        while True:
            w = words(rnd.choice(m["lines"]))
            k = rnd.randint(8, min(16, len(w)))
            s = rnd.randrange(len(w) - k + 1)
            quote = " ".join(w[s:s + k])
            if len(re.findall(r"[^\W_]+", quote)) >= 8:
                break
        if i % 2:
            quote = quote.upper()
        post(f"LEAKED: \"{quote}\" unbelievable", "quote", i)
        post(f"New from the dump: {m['subject']}", "subject", i)
        if m["link"]:
            post(f"They kept it here {m['link']}", "link", i)
        if m["attachment"]:
            post(f"Read {m['attachment']} yourself", "attachment", i)
        # Near misses: seven words; a line the message only quotes; the link's host alone.
        # Seven words as the engine counts them (letters and digits; "can't" is two).
        post("zqx " + " ".join(re.findall(r"[^\W_]+", m["lines"][0])[:7]) + " qxz", None)
        post(m["quoted"], None)
    post("nothing at https://docs.example.org/d/other/edit", None)
    for r in csv.DictReader(open(os.path.join(data, "influence/mueller_report_tweets/tweets.csv"), newline="")):
        post(r["text"], None, account=r["screenName"])
    with open(os.path.join(d, "posts.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(IRA_HEADER + ["tweet_id"])
        w.writerows(posts)
    with open(os.path.join(d, "expected.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["post", "kind", "message"])
        w.writerows(expected)


def check(d):
    # The posts file has no id column the IRA reader takes: a post is named by its time.
    posts = list(csv.reader(open(os.path.join(d, "posts.csv"), newline="")))[1:]
    by_time = {datetime.strptime(p[4], "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%dT%H:%M:%SZ") + "|" + p[0]: p[-1]
               for p in posts}
    want = {(r["post"], r["kind"], f"m{int(r['message'])}@campaign.example.org")
            for r in csv.DictReader(open(os.path.join(d, "expected.csv")))}
    got = set()
    for r in csv.DictReader(open(os.path.join(d, "out/sightings.csv"))):
        got.add((by_time[r["time"] + "|" + r["account"]], r["kind"], r["message_id"]))
    ok = True
    print("synthetic dump of 200 messages with real tweet texts; posts: generated quotes, subjects, links, "
          "attachment names, near misses, and 1,000 real organic tweets")
    for kind in ["quote", "subject", "link", "attachment"]:
        w = {x for x in want if x[1] == kind}
        g = {x for x in got if x[1] == kind}
        hit = len(w & g)
        recall = hit / len(w) if w else 1.0
        precision = hit / len(g) if g else 1.0
        print(f"  {kind:<10} expected {len(w):>4}  found {len(g):>4}  recall {recall:.3f}  precision {precision:.3f}")
        ok &= recall >= 0.99 and precision >= 0.99
    stray = got - want
    print(f"  sightings in posts that quote nothing (near misses, organic tweets): {len(stray)}")
    ok &= len(stray) == 0
    if not ok:
        print("FAIL: below 0.99 recall or precision, or a sighting where nothing was quoted")
    return ok


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "ira-expected":
        ira_expected(sys.argv[2], sys.argv[3])
    elif cmd == "ira-check":
        sys.exit(0 if ira_check(sys.argv[2], sys.argv[3]) else 1)
    elif cmd == "build":
        build(sys.argv[2], sys.argv[3])
    elif cmd == "check":
        sys.exit(0 if check(sys.argv[2]) else 1)
    else:
        sys.exit(__doc__)
