"""The corpus and the dkimpy side of scripts/bench-mail.sh.

  bench_mail.py build DIR DATA N   DIR/bench.mbox: N messages made by re-signing the real
                                   messages under DATA (their own signatures removed, each
                                   copy with its own Message-ID) with dkimpy, RSA-2048 and
                                   Ed25519; DIR/keys.csv; DIR/sample/*.eml for the peer
  bench_mail.py peer DIR N         dkimpy's messages per second verifying the dump's first N
                                   messages (DIR/sample, round after round; verification only:
                                   the messages are already in memory)
"""
import base64, csv, glob, json, os, re, subprocess, sys, time

import dkim
import nacl.signing

DISTINCT = 400


def real_messages(data):
    out = [open(f, "rb").read() for f in glob.glob(os.path.join(data, "podesta", "*.eml"))]
    for f in sorted(glob.glob(os.path.join(data, "mail-auth-vectors", "dkim", "*.txt"))):
        out.append(open(f, "rb").read().partition(b"\n\n")[2])
    for f in sorted(glob.glob(os.path.join(data, "mail-auth-vectors", "dkim2", "emails", "*.eml"))):
        out.append(open(f, "rb").read())
    clean = []
    for m in out:
        m = m.replace(b"\r\n", b"\n")
        m = re.sub(rb"(?msi)^(DKIM-Signature|ARC-[A-Za-z-]+|DKIM2-Signature|Message-Instance):.*?\n(?=[^ \t])", b"", m)
        clean.append(m.replace(b"\n", b"\r\n"))
    return clean


def build(out, data, n):
    os.makedirs(os.path.join(out, "sample"), exist_ok=True)
    pem = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout
    pub = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=pem, capture_output=True, check=True).stdout
    sk = nacl.signing.SigningKey.generate()
    domain = b"bench.example.org"
    with open(os.path.join(out, "keys.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "record", "first_seen", "last_seen"])
        w.writerow(["rsa._domainkey.bench.example.org", "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode(), "", ""])
        w.writerow(["ed._domainkey.bench.example.org", "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key)).decode(), "", ""])
    bases = real_messages(data)
    signed = []
    for i in range(DISTINCT):
        m = bases[i % len(bases)]
        mid = b"Message-ID: <bench-%d@bench.example.org>\r\n" % i
        m = re.sub(rb"(?mi)^Message-ID:[^\r\n]*\r\n", b"", m)
        m = mid + m
        if i % 4 == 3:
            sig = dkim.sign(m, b"ed", domain, base64.b64encode(bytes(sk)), signature_algorithm=b"ed25519-sha256", canonicalize=(b"relaxed", b"relaxed"))
        else:
            sig = dkim.sign(m, b"rsa", domain, pem, canonicalize=(b"relaxed", b"relaxed"))
        signed.append(sig + m)
        open(os.path.join(out, "sample", "%04d.eml" % i), "wb").write(sig + m)
    total = 0
    with open(os.path.join(out, "bench.mbox"), "wb", buffering=1 << 20) as f:
        for i in range(n):
            m = signed[i % DISTINCT].replace(b"\r\n", b"\n")
            m = re.sub(rb"(?m)^(>*From )", rb">\1", m) if b"\nFrom " in m else m
            f.write(b"From bench@bench.example.org Mon Jan  1 00:00:00 2024\n")
            f.write(m)
            f.write(b"\n")
            total += len(m)
    print("bench: %d messages (%d distinct, re-signed from %d real ones), %.0f MB" % (n, DISTINCT, len(bases), total / 1e6))


def peer(out, count):
    txt = {}
    for row in csv.DictReader(open(os.path.join(out, "keys.csv"))):
        txt[row["name"]] = row["record"].encode()
    dnsfunc = lambda name, timeout=5: txt.get(name.decode().lower().rstrip("."))
    msgs = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(out, "sample", "*.eml")))]
    start = time.perf_counter()
    cpu_start = time.process_time()
    ok = 0
    # The dump is the sample repeated: its first `count` messages, in order.
    for i in range(count):
        ok += bool(dkim.verify(msgs[i % len(msgs)], dnsfunc=dnsfunc))
    secs = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    n = count
    print(json.dumps({"messages": n, "valid": ok, "seconds": secs, "messages_per_second": n / secs, "cpu_seconds": cpu}))


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        peer(sys.argv[2], int(sys.argv[3]))
