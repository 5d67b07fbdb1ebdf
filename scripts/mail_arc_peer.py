"""The ARC part of scripts/peers-mail.sh: Scrutineer's ARC verdicts against dkimpy's
`arc_verify` (the library behind `arcverify`) and against the expected results of the
ARC test suite (../shared/data/mail/arc-test-suite, its chain-validation scenarios).

  mail_arc_peer.py corpus DIR DATA     DIR/<set>/msgs/*.eml and DIR/<set>/keys.csv for each
                                       key set: one per scenario group of the suite (each
                                       has its own keys), and `dkimpy`: real messages sealed
                                       here with dkimpy's arc_sign over one and two hops,
                                       with altered copies
  mail_arc_peer.py compare DIR         reads DIR/<set>/out/verdicts.csv, runs arc_verify on
                                       every message, prints the agreement, exits 1 on any
                                       difference
"""
import base64, csv, glob, json, os, re, subprocess, sys

import dkim
import yaml


def write_keys(path, records):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "record", "first_seen", "last_seen"])
        for name, record in sorted(records.items()):
            w.writerow([name.lower().rstrip("."), record, "", ""])


def suite(out, data):
    expected = {}
    docs = list(yaml.safe_load_all(open(os.path.join(data, "arc-test-suite", "arc-draft-validation-tests.yml"))))
    for n, doc in enumerate(docs):
        d = os.path.join(out, "suite-%02d" % n)
        os.makedirs(os.path.join(d, "msgs"), exist_ok=True)
        write_keys(os.path.join(d, "keys.csv"), {k: v.replace(" ", "") if "p=" in v else v for k, v in doc.get("txt-records", {}).items()})
        for name, t in doc["tests"].items():
            msg = (t.get("message") or "").encode()
            if not msg.strip():
                continue  # an empty message is no message to either tool
            f = os.path.join(d, "msgs", "%s.eml" % name)
            open(f, "wb").write(msg)
            cv = str(t.get("cv") or "").lower()
            expected[os.path.relpath(f, out)] = cv or None
    return expected


def arc_seal(msg, hop, domain, pem):
    """One hop: an Authentication-Results from `domain`, then its ARC set."""
    msg = b"Authentication-Results: %s; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org\r\n" % domain + msg
    lines = dkim.arc_sign(msg, b"arc", domain, pem, domain, timestamp=1500000000 + hop)
    return b"".join(lines) + msg


def real_messages(data):
    out = [open(f, "rb").read() for f in sorted(glob.glob(os.path.join(data, "podesta", "*.eml")))]
    for f in sorted(glob.glob(os.path.join(data, "mail-auth-vectors", "dkim", "*.txt"))):
        out.append(open(f, "rb").read().partition(b"\n\n")[2])
    clean = []
    for m in out:
        m = m.replace(b"\r\n", b"\n")
        m = re.sub(rb"(?msi)^(ARC-[A-Za-z-]+|Authentication-Results):.*?\n(?=[^ \t])", b"", m)
        clean.append(m.replace(b"\n", b"\r\n"))
    return clean


def dkimpy_set(out, data):
    d = os.path.join(out, "dkimpy")
    os.makedirs(os.path.join(d, "msgs"), exist_ok=True)
    keys, pems = {}, {}
    for domain in (b"lists.example.net", b"forward.example.com"):
        pem = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout
        pub = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=pem, capture_output=True, check=True).stdout
        keys["arc._domainkey." + domain.decode()] = "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()
        pems[domain] = pem
    write_keys(os.path.join(d, "keys.csv"), keys)
    for i, m in enumerate(real_messages(data)):
        one = arc_seal(m, 1, b"lists.example.net", pems[b"lists.example.net"])
        two = arc_seal(one, 2, b"forward.example.com", pems[b"forward.example.com"])
        head, _, body = two.partition(b"\r\n\r\n")
        variants = {
            "one-hop": one,
            "two-hops": two,
            # The body changed after the last hop.
            "body-word": head + b"\r\n\r\n" + re.sub(rb"[A-Za-z]{4,}", b"XXXX", body, count=1),
            # The first hop's results rewritten (both seals cover them).
            "aar-rewritten": two.replace(b"i=1; lists.example.net; dkim=pass", b"i=1; lists.example.net; dkim=fail", 1),
            # The first hop's seal removed: a gap in the numbering.
            "seal-removed": re.sub(rb"(?ms)^ARC-Seal: i=1;.*?\r\n(?=[^ \t])", b"", two, count=1),
            # A signed header changed after the last hop.
            "subject-changed": re.sub(rb"(?mi)^Subject:", b"Subject: Re:", two, count=1),
        }
        for name, v in variants.items():
            open(os.path.join(d, "msgs", "%02d-%s.eml" % (i, name)), "wb").write(v)


def corpus(out, data):
    expected = suite(out, data)
    dkimpy_set(out, data)
    json.dump(expected, open(os.path.join(out, "expected.json"), "w"), indent=1)


def compare(out):
    expected = json.load(open(os.path.join(out, "expected.json")))
    total = agree_peer = suite_n = agree_suite = 0
    bad = []
    for d in sorted(glob.glob(os.path.join(out, "*", ""))):
        txt = {}
        for row in csv.DictReader(open(os.path.join(d, "keys.csv"))):
            txt[row["name"]] = row["record"].encode()
        dnsfunc = lambda name, timeout=5: txt.get(name.decode().lower().rstrip("."))
        ours = {}
        for row in csv.DictReader(open(os.path.join(d, "out", "verdicts.csv"))):
            if row["verdict"].startswith("arc_"):
                ours[os.path.basename(row["file"])] = row
        for f in sorted(glob.glob(os.path.join(d, "msgs", "*.eml"))):
            rel = os.path.relpath(f, out)
            cv, _, reason = dkim.arc_verify(open(f, "rb").read(), dnsfunc=dnsfunc)
            peer = (cv or b"fail").decode().lower()
            row = ours.get(os.path.basename(f))
            mine = "none" if row is None else ("pass" if row["verdict"] == "arc_pass" else "fail")
            total += 1
            if mine == peer:
                agree_peer += 1
            else:
                bad.append("%s: scrutineer %s (%s), dkimpy %s (%s)" % (rel, mine, row and row["detail"], peer, reason))
            want = expected.get(rel)
            if want:
                suite_n += 1
                if mine == want:
                    agree_suite += 1
                else:
                    bad.append("%s: scrutineer %s, the test suite expects %s" % (rel, mine, want))
    print("arc: %d of %d messages agree with dkimpy's arc_verify; %d of %d with the ARC test suite's expected cv" % (agree_peer, total, agree_suite, suite_n))
    for b in bad:
        print("arc difference: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "corpus":
        corpus(sys.argv[2], sys.argv[3])
    else:
        sys.exit(compare(sys.argv[2]))
