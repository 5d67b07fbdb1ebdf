"""The DKIM peer comparison's corpus and dkimpy's side of it (scripts/peers-mail.sh).

  mail_peer.py corpus DIR DATA     messages (DIR/msgs/*.eml) and their keys (DIR/keys.csv):
                                   the real signed mail under DATA (../shared/data/mail),
                                   messages signed here with dkimpy and with OpenDKIM's
                                   opendkim-testmsg, and altered copies of each
  mail_peer.py verify DIR          dkimpy's verdict on every signature (DIR/peer.json), with
                                   the keys of DIR/keys.csv as its DNS (dnsfunc)
  mail_peer.py compare DIR CSV     the verdicts side by side; exits 1 on a difference that
                                   is not one of the explained kinds (crates/mail/README.md)
"""
import base64, csv, glob, json, os, re, subprocess, sys, tempfile, time

import dkim
import nacl.encoding
import nacl.signing

BASES = [
    b"From: Ana Lopez <ana@{d}>\r\nTo: Bo <bo@example.net>\r\nCc: Campaign <team@example.net>\r\nSubject: Budget for the rally\r\nDate: Tue, 14 Jan 2020 06:29:55 -0500\r\nMessage-ID: <{n}.budget@{d}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe  budget is\t final. \r\nWe spend 40,000 on ads.\r\n\r\n\r\n",
    b"From: \"Ops\" <ops@{d}>\r\nTo: all@example.net\r\nSubject: =?utf-8?q?R=C3=A9union_demain?=\r\nDate: Wed, 15 Jan 2020 10:00:00 +0100\r\nMessage-ID: <{n}.reunion@{d}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A9union =C3=A0 9h.\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+UsOpdW5pb24gw6AgOWguPC9wPg==\r\n--b1--\r\n",
    b"From: press@{d}\r\nTo: editor@example.net\r\nSubject: Statement\r\n  on the leak\r\nDate: Thu, 16 Jan 2020 23:59:59 -0800\r\nMessage-ID: <{n}.statement@{d}>\r\nX-Mailer: test\r\n\r\nFrom the office:\r\n>quoted line\r\ntrailing spaces   \r\n\r\n",
    b"From: empty@{d}\r\nTo: x@example.net\r\nSubject: (no body)\r\nDate: Fri, 17 Jan 2020 08:00:00 +0000\r\nMessage-ID: <{n}.empty@{d}>\r\n\r\n",
]

CANONS = [(b"relaxed", b"relaxed"), (b"relaxed", b"simple"), (b"simple", b"relaxed"), (b"simple", b"simple")]


def write_key_row(rows, name, record):
    rows.append((name.lower().rstrip("."), record))


def real_corpus(msgs, rows, data):
    podesta = os.path.join(data, "podesta")
    write_key_row(rows, "20120113._domainkey.gmail.com", open(os.path.join(podesta, "20120113._domainkey.gmail.com.txt")).read().strip())
    for f in glob.glob(os.path.join(podesta, "*.eml")):
        msgs["real-podesta.eml"] = open(f, "rb").read()
    for f in sorted(glob.glob(os.path.join(data, "mail-auth-vectors", "dkim", "*.txt")) + glob.glob(os.path.join(data, "mail-auth-vectors", "arc", "*.txt"))):
        raw = open(f, "rb").read()
        head, _, message = raw.partition(b"\n\n")
        for line in head.decode().splitlines():
            name, _, record = line.partition(" ")
            write_key_row(rows, name, record.strip())
        msgs["real-mail-auth-%s-%s.eml" % (os.path.basename(os.path.dirname(f)), os.path.basename(f)[:-4])] = message
    dkim2 = os.path.join(data, "mail-auth-vectors", "dkim2")
    dns = json.load(open(os.path.join(dkim2, "dns.json")))
    for domain, names in dns.items():
        for label, answers in names.items():
            for kind, value in answers:
                if kind.lower() == "txt" and "_domainkey" in label:
                    write_key_row(rows, label + "." + domain, value)
    for f in sorted(glob.glob(os.path.join(dkim2, "expected", "*.eml"))):
        raw = open(f, "rb").read()
        if re.search(rb"(?mi)^DKIM-Signature:", raw):
            msgs["real-dkim2-" + os.path.basename(f)] = raw


def alterations(signed):
    """Altered copies of a signed message: what each does to DKIM is the point."""
    head, sep, body = signed.partition(b"\r\n\r\n")
    out = {"intact": signed}
    words = re.findall(rb"[A-Za-z]{4,}", body)
    if words:
        out["body-word"] = head + sep + body.replace(words[0], words[0][::-1], 1)
    out["body-appended"] = signed + b"P.S. wire the money tonight.\r\n"
    out["body-whitespace"] = head + sep + body.replace(b" ", b"  ", 1).replace(b"\r\n", b" \r\n", 1)
    out["subject-changed"] = re.sub(rb"(?m)^Subject:([^\r]*)", rb"Subject:\1 (revised)", signed, count=1)
    out["subject-added-on-top"] = b"Subject: Urgent: resign now\r\n" + signed
    out["header-whitespace"] = re.sub(rb"(?m)^To: ", b"To:    ", signed, count=1)
    out["lf-line-ends"] = signed.replace(b"\r\n", b"\n")
    lines = head.split(b"\r\n")
    to = [i for i, l in enumerate(lines) if l.lower().startswith(b"to:")]
    date = [i for i, l in enumerate(lines) if l.lower().startswith(b"date:")]
    if to and date:
        lines[to[0]], lines[date[0]] = lines[date[0]], lines[to[0]]
        out["headers-reordered"] = b"\r\n".join(lines) + sep + body
    return out


def dkimpy_corpus(msgs, rows, work):
    keys = {}
    for bits in (1024, 2048):
        pem = subprocess.run(["openssl", "genrsa", str(bits)], capture_output=True, check=True).stdout
        pub = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=pem, capture_output=True, check=True).stdout
        keys["rsa%d" % bits] = (pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode())
    sk = nacl.signing.SigningKey.generate()
    keys["ed"] = (base64.b64encode(bytes(sk)), "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key)).decode())
    domain = "py.example.org"
    for sel, (_, record) in keys.items():
        write_key_row(rows, "%s._domainkey.%s" % (sel, domain), record)
    n = 0
    for bi, base in enumerate(BASES):
        for canon in CANONS:
            for sel, alg in (("rsa2048", b"rsa-sha256"), ("rsa1024", b"rsa-sha1"), ("ed", b"ed25519-sha256"), ("rsa1024", b"rsa-sha256")):
                for length in (False, True):
                    n += 1
                    msg = base.replace(b"{d}", domain.encode()).replace(b"{n}", str(n).encode())
                    sig = dkim.sign(msg, sel.encode(), domain.encode(), keys[sel][0], canonicalize=canon,
                                    signature_algorithm=alg, length=length)
                    tag = "py-b%d-%s-%s-%s-%s%s" % (bi, canon[0].decode(), canon[1].decode(), sel, alg.decode(), "-l" if length else "")
                    for what, m in alterations(sig + msg).items():
                        msgs["%s-%s.eml" % (tag, what)] = m


def opendkim_corpus(msgs, rows, work):
    domain = "od.example.org"
    keydir = os.path.join(work, "opendkim")
    os.makedirs(keydir, exist_ok=True)
    for sel, hashes in (("od1", "sha256"), ("od2", "sha1:sha256")):
        subprocess.run(["opendkim-genkey", "-b", "2048", "-d", domain, "-s", sel, "-D", keydir,
                        "--hash-algorithms=" + hashes], check=True)
        zone = open(os.path.join(keydir, sel + ".txt")).read()
        write_key_row(rows, "%s._domainkey.%s" % (sel, domain), "".join(re.findall(r'"([^"]*)"', zone)))
        for bi, base in enumerate(BASES):
            msg = base.replace(b"{d}", domain.encode()).replace(b"{n}", ("od%s%d" % (sel, bi)).encode())
            signed = subprocess.run(["opendkim-testmsg", "-C", "-d", domain, "-s", sel, "-k",
                                     os.path.join(keydir, sel + ".private")], input=msg, capture_output=True, check=True).stdout
            for what, m in alterations(signed).items():
                msgs["od-b%d-%s-%s.eml" % (bi, sel, what)] = m


def corpus(out, data):
    msgs, rows = {}, []
    os.makedirs(os.path.join(out, "msgs"), exist_ok=True)
    real_corpus(msgs, rows, data)
    dkimpy_corpus(msgs, rows, out)
    opendkim_corpus(msgs, rows, out)
    for name, m in msgs.items():
        open(os.path.join(out, "msgs", name), "wb").write(m)
    with open(os.path.join(out, "keys.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "record", "first_seen", "last_seen"])
        for name, record in rows:
            w.writerow([name, record, "", ""])
    print("corpus: %d messages, %d key records" % (len(msgs), len(rows)))


def verify(out):
    txt = {}
    for row in csv.DictReader(open(os.path.join(out, "keys.csv"))):
        txt.setdefault(row["name"], row["record"].encode())
    def dnsfunc(name, timeout=5):
        return txt.get(name.decode().lower().rstrip("."))
    result = {}
    for path in sorted(glob.glob(os.path.join(out, "msgs", "*.eml"))):
        raw = open(path, "rb").read()
        sigs = []
        try:
            d = dkim.DKIM(raw, minkey=1024)
            count = sum(1 for h in d.headers if h[0].lower() == b"dkim-signature")
        except Exception as e:  # a message dkimpy cannot parse
            result[os.path.basename(path)] = [{"pass": False, "reason": "parse: %s" % e}]
            continue
        for i in range(count):
            try:
                ok = bool(d.verify(idx=i, dnsfunc=dnsfunc))
                sigs.append({"pass": ok, "reason": "" if ok else "verify returned False"})
            except Exception as e:
                sigs.append({"pass": False, "reason": "%s: %s" % (type(e).__name__, e)})
        result[os.path.basename(path)] = sigs or [{"pass": False, "reason": "unsigned"}]
    json.dump(result, open(os.path.join(out, "peer.json"), "w"), indent=1)
    return result


PASS = {"authentic", "unsigned_header_changed"}


def compare(out, verdicts_csv):
    peer = json.load(open(os.path.join(out, "peer.json")))
    ours = {}
    for row in csv.DictReader(open(verdicts_csv)):
        if row["verdict"].startswith("arc_"):
            continue  # ARC chains are compared by mail_arc_peer.py
        ours.setdefault(os.path.basename(row["file"]), []).append(row)
    same = explained = unexplained = 0
    kinds = {}
    by_source = {}
    now = int(time.time())
    for name in sorted(peer):
        mine = ours.get(name, [])
        theirs = peer[name]
        if len(mine) != len(theirs):
            unexplained += 1
            print("DIFF %s: %d signatures here, %d for dkimpy" % (name, len(mine), len(theirs)))
            continue
        source = {"real": "real mail and published vectors", "py": "signed with dkimpy", "od": "signed with OpenDKIM"}[name.split("-")[0]]
        for i, (m, t) in enumerate(zip(mine, theirs)):
            tally = by_source.setdefault(source, [0, 0])
            tally[1] += 1
            tally[0] += (m["verdict"] in PASS) == t["pass"]
            if (m["verdict"] in PASS) == t["pass"]:
                same += 1
                continue
            reason = None
            if m["verdict"] in PASS and "x= value is past" in t["reason"]:
                reason = "x= passed by today but not at the message's date"
            elif m["verdict"] == "malformed_signature" and "the key allows only h=" in m["detail"] and t["pass"]:
                reason = "the key's h= excludes the signature's hash (RFC 6376 6.1.2: permfail); dkimpy ignores h="
            if reason:
                explained += 1
                kinds[reason] = kinds.get(reason, 0) + 1
                print("explained %s #%d: ours %s, dkimpy %s (%s)" % (name, i, m["verdict"], t["pass"], reason))
            else:
                unexplained += 1
                print("DIFF %s #%d: ours %s (%s), dkimpy %s (%s)" % (name, i, m["verdict"], m["detail"], t["pass"], t["reason"]))
    total = same + explained + unexplained
    print("dkimpy agreement: %d of %d signatures agree, %d differ for an explained reason, %d unexplained" % (same, total, explained, unexplained))
    for k, v in sorted(by_source.items()):
        print("  %-32s %5d of %5d signatures agree" % (k, v[0], v[1]))
    for k, v in kinds.items():
        print("  explained: %d x %s" % (v, k))
    return 1 if unexplained else 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "corpus":
        corpus(sys.argv[2], sys.argv[3])
    elif cmd == "verify":
        r = verify(sys.argv[2])
        print("dkimpy: %d messages, %d signatures valid" % (len(r), sum(s["pass"] for v in r.values() for s in v)))
    elif cmd == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
