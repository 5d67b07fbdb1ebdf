"""Tampering with authentic signed mail (scripts/tamper-mail.sh).

  tamper_mail.py build DIR DATA    DIR/dump/*.eml: authentic messages (the Podesta message
                                   under DATA with its archived Gmail key, and messages
                                   signed here with dkimpy) and every alteration of each;
                                   DIR/keys.csv with the dates each key was published;
                                   DIR/expected.csv: file, alteration, expected verdict
                                   DIR/dump.mbox.gz: the same messages as one mboxrd file
  tamper_mail.py same CSV CSV      the verdicts of the two forms of the dump agree
  tamper_mail.py check DIR CSV SUMMARY
                                   every alteration named with its verdict, no intact
                                   message flagged, every forged variant grouped with the
                                   message that verifies; exits 1 otherwise
"""
import base64, csv, json, os, re, subprocess, sys

import dkim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mail_peer import BASES  # noqa: E402

SIGNED = [b"From", b"To", b"Cc", b"Subject", b"Date", b"Message-ID", b"MIME-Version", b"Content-Type"]
DOMAIN = b"tamper.example.org"


def sub1(pattern, repl, data):
    out, n = re.subn(pattern, repl, data, count=1)
    assert n == 1, pattern
    return out


def alterations(signed, resign):
    head, sep, body = signed.partition(b"\r\n\r\n") if b"\r\n\r\n" in signed else signed.partition(b"\n\n")
    nl = b"\r\n" if b"\r\n" in head else b"\n"
    word = re.findall(rb"[A-Za-z]{5,}", body)[0]
    out = [
        ("intact", signed, "authentic"),
        ("body-word-changed", head + sep + body.replace(word, word.upper(), 1), "body_altered"),
        ("signed-subject-changed", sub1(rb"(?mi)^Subject:", b"Subject: FW:", signed), "headers_altered"),
        ("signed-from-changed", sub1(rb"(?mi)^(From:[^\r\n@]*?)[A-Za-z0-9._-]+@", rb"\1treasurer@", signed), "headers_altered"),
        ("unsigned-subject-added-on-top", b"Subject: Wire the money tonight" + nl + signed, "unsigned_header_changed"),
        ("headers-reordered", reorder(signed, nl), "authentic"),
        ("signature-stripped", strip_signature(signed, nl), "unsigned"),
        ("redated-not-resigned", sub1(rb"(?mi)^Date:[^\r\n]*", b"Date: Mon, 3 Nov 2025 09:00:00 -0500", signed), "headers_altered"),
        ("forged-variant-same-message-id", head + sep + b"Send the files to the journalist tonight." + nl, "body_altered"),
        ("forged-variant-unsigned", strip_signature(head, nl) + sep + b"Delete everything after reading." + nl, "unsigned"),
    ]
    if len(re.findall(rb"[A-Za-z]+", body)) >= 40:
        # A forgery under a new Message-ID that copies the text and changes a word: found
        # as a near-duplicate of the authentic message (texts of 12 words and more).
        new_id = sub1(rb"(?mi)^Message-ID:[^\r\n]*", b"Message-ID: <forged-copy@example.net>", strip_signature(head, nl))
        out.append(("forged-near-copy-new-message-id", new_id + sep + body.replace(word, b"Fabricated", 1), "unsigned"))
    if resign is not None:
        out += resign
    return out


def reorder(signed, nl):
    """Swaps the To: and Date: fields (DKIM signs header fields by name, not position)."""
    head, sep, body = signed.partition(nl + nl)
    fields = re.split(rb"(?=" + re.escape(nl) + rb"[^ \t])", head)
    idx = {f.strip().split(b":")[0].lower(): i for i, f in enumerate(fields)}
    i, j = idx[b"to"], idx[b"date"]
    fields[i], fields[j] = fields[j], fields[i]
    joined = b"".join(fields)
    if not joined.startswith(b"Delivered") and joined.startswith(nl):
        joined = joined[len(nl):]
    return joined + sep + body


def strip_signature(message, nl):
    return re.sub(rb"(?msi)^DKIM-Signature:.*?" + re.escape(nl) + rb"(?=[^ \t])", b"", message, count=1)


def build(out, data):
    os.makedirs(os.path.join(out, "dump"), exist_ok=True)
    rows, expected = [], []
    pod = os.path.join(data, "podesta")
    rows.append(("20120113._domainkey.gmail.com", open(os.path.join(pod, "20120113._domainkey.gmail.com.txt")).read().strip(), "2012-01-13", "2016-12-31"))
    bases = [("podesta", open(os.path.join(pod, "podesta-edgar-mitchell-2014-01-14.eml"), "rb").read(), None)]
    pem = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout
    pub = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=pem, capture_output=True, check=True).stdout
    rows.append(("t1._domainkey." + DOMAIN.decode(), "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode(), "2019-06-01", "2021-06-30"))
    def sign(msg, headers=SIGNED):
        return dkim.sign(msg, b"t1", DOMAIN, pem, canonicalize=(b"relaxed", b"relaxed"), include_headers=headers) + msg
    # The bases with a body (a body word is one of the alterations).
    for i, base in enumerate(BASES[:3]):
        msg = base.replace(b"{d}", DOMAIN).replace(b"{n}", b"t%d" % i)
        no_subject = [h for h in SIGNED if h != b"Subject"]
        redated = sub1(rb"(?m)^Date:[^\r\n]*", b"Date: Mon, 3 Nov 2025 09:00:00 -0500", msg)
        resign = [
            ("unsigned-subject-changed", sub1(rb"(?m)^Subject:", b"Subject: URGENT", sign(msg, no_subject)), "unsigned_header_changed"),
            ("redated-outside-key-window-resigned", sign(redated), "expired"),
        ]
        bases.append(("dkimpy-%d" % i, sign(msg), resign))
    for name, signed, resign in bases:
        for what, m, verdict in alterations(signed, resign):
            f = "%s-%s.eml" % (name, what)
            open(os.path.join(out, "dump", f), "wb").write(m)
            expected.append((f, name, what, verdict))
    with open(os.path.join(out, "keys.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "record", "first_seen", "last_seen"])
        w.writerows(rows)
    with open(os.path.join(out, "expected.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "base", "alteration", "verdict"])
        w.writerows(expected)
    print("tamper: %d authentic messages, %d altered copies" % (len(bases), len(expected) - len(bases)))


def check(out, verdicts_csv, summary_json):
    first = {}
    for row in csv.DictReader(open(verdicts_csv)):
        first.setdefault(os.path.basename(row["file"]), row)
    bad = 0
    per_kind = {}
    intact_flagged = altered_authentic = 0
    for row in csv.DictReader(open(os.path.join(out, "expected.csv"))):
        got = first.get(row["file"], {}).get("verdict", "(missing)")
        ok = got == row["verdict"]
        tally = per_kind.setdefault(row["alteration"], [0, 0, row["verdict"]])
        tally[0] += ok
        tally[1] += 1
        if row["alteration"] == "intact" and got != "authentic":
            intact_flagged += 1
        if row["verdict"] != "authentic" and got == "authentic":
            altered_authentic += 1
        if not ok:
            bad += 1
            print("MISSED %s: expected %s, got %s (%s)" % (row["file"], row["verdict"], got, first.get(row["file"], {}).get("detail", "")))
    print("%-38s %-24s %s" % ("alteration", "expected verdict", "named"))
    for kind, (ok, n, verdict) in per_kind.items():
        print("%-38s %-24s %d/%d" % (kind, verdict, ok, n))
    # Forged variants: each base's Message-ID groups its copies, and the group names the
    # intact message as the one that verifies (and no altered copy of its content).
    summary = json.load(open(summary_json))["summary"]
    groups = {g["message_id"]: g for g in summary["variant_groups"]}
    grouped = 0
    bases = sorted({r["base"] for r in csv.DictReader(open(os.path.join(out, "expected.csv")))})
    rows = list(csv.DictReader(open(os.path.join(out, "expected.csv"))))
    # The copies of a base that must verify (its intact message and the reordered one: the
    # same text and verdict, so one version of the group with two copies).
    genuine = {b: {r["file"] for r in rows if r["base"] == b and r["verdict"] == "authentic"} for b in bases}
    for base in bases:
        intact = "%s-intact.eml" % base
        mid = first[intact]["message_id"]
        g = groups.get(mid)
        verified = [os.path.basename(v["at"].rsplit(":", 1)[0]) for v in (g or {}).get("variants", []) if v["verdict"] == "authentic"]
        if g and verified and set(verified) <= genuine[base]:
            grouped += 1
        else:
            bad += 1
            print("VARIANTS %s: group %s, verified %s" % (base, "missing" if g is None else "found", verified))
    near = summary["near_duplicates"]
    near_found = 0
    for row in csv.DictReader(open(os.path.join(out, "expected.csv"))):
        if row["alteration"] != "forged-near-copy-new-message-id":
            continue
        intact = "%s-intact.eml" % row["base"]
        hit = any(os.path.basename(n["suspect"]["at"].rsplit(":", 1)[0]) == row["file"]
                  and os.path.basename(n["authentic"]["at"].rsplit(":", 1)[0]) in genuine[row["base"]] for n in near)
        near_found += hit
        if not hit:
            bad += 1
            print("NEAR %s: not paired with %s" % (row["file"], intact))
    print("tamper: near-copies under a new Message-ID paired with the authentic message: %d" % near_found)
    if near_found == 0:
        bad += 1
    named = sum(v[0] for v in per_kind.values())
    total = sum(v[1] for v in per_kind.values())
    print("tamper: %d of %d verdicts as expected (%.1f%%); intact messages flagged: %d; altered messages passed as authentic: %d; forged-variant groups naming the authentic message: %d of %d"
          % (named, total, 100.0 * named / total, intact_flagged, altered_authentic, grouped, len(bases)))
    return 1 if bad or intact_flagged or altered_authentic else 0


def mbox(out):
    """The same dump as one gzip-compressed mboxrd file, in the order the directory is read."""
    import gzip
    with gzip.open(os.path.join(out, "dump.mbox.gz"), "wb") as fh:
        for name in sorted(os.listdir(os.path.join(out, "dump"))):
            m = open(os.path.join(out, "dump", name), "rb").read()
            m = re.sub(rb"(?m)^(>*From )", rb">\1", m)
            fh.write(b"From tamper@example.org Mon Jan  1 00:00:00 2024\n" + m.rstrip(b"\r\n") + b"\n\n")


def same(a, b):
    """The two runs gave the same verdicts, message for message."""
    key = lambda r: (r["message_id"], r["signing_domain"], r["selector"], r["verdict"])
    ra = [key(r) for r in csv.DictReader(open(a))]
    rb = [key(r) for r in csv.DictReader(open(b))]
    print("tamper: the mbox.gz copy of the dump gives %s verdicts (%d rows)" % ("the same" if ra == rb else "DIFFERENT", len(rb)))
    return 0 if ra == rb else 1


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3])
        mbox(sys.argv[2])
    elif sys.argv[1] == "same":
        sys.exit(same(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4]))
