"""dkimpy's verdict on every message of a dump written by `scrutineer simulate mail`
(signed by the mail engine's DkimSigner): each message truth.csv calls authentic must
verify, and every other one must fail. Usage: mail_signer_peer.py DIR. Exits non-zero on
any disagreement.

dkimpy looks keys up by name only, so a selector archived twice (its key, then revoked)
is given its key: every authentic message was signed while the key was published.
"""
import csv
import sys

import dkim


def main(d):
    records = {}
    for r in csv.DictReader(open(f"{d}/keys.csv", newline="")):
        name = r["name"].lower() + "."
        if not r["record"].replace(" ", "").endswith("p="):
            records[name] = r["record"].encode()
    truth = list(csv.DictReader(open(f"{d}/truth.csv", newline="")))
    dump = open(f"{d}/dump.mbox", "rb").read()
    bad = 0
    for i, t in enumerate(truth):
        end = int(truth[i + 1]["offset"]) if i + 1 < len(truth) else len(dump)
        raw = dump[int(t["offset"]):end]
        raw = raw.split(b"\n", 1)[1]  # the mbox From line
        # mboxrd: one '>' off each escaped From line.
        raw = b"\n".join(l[1:] if l.lstrip(b">").startswith(b"From ") and l.startswith(b">") else l for l in raw.split(b"\n"))
        raw = raw.rstrip(b"\n") + b"\n"
        raw = raw.replace(b"\n", b"\r\n")
        ok = dkim.verify(raw, dnsfunc=lambda n, timeout=5: records.get(n.decode().lower()))
        if ok != (t["kind"] == "authentic"):
            bad += 1
            print(f"disagree: {t['message_id']} {t['kind']} ({t['detail']}): dkimpy says {'pass' if ok else 'fail'}")
    print(f"dkimpy on {len(truth)} simulated messages: {len(truth) - bad} agree with truth.csv, {bad} disagree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
