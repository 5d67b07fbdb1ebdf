"""Hostile inputs for scripts/browser-workspace.sh: the demo's own files, with markup in
every field an attacker controls, for the engines to read as they would read a real
feed, log or return file.

Usage: xss_seed.py DEMO_DIR OUT_DIR

Writes OUT_DIR/posts.csv (the demo's posts; the accounts of the injected operations
renamed to handles holding markup, their posts' text starting with a script and an
image with an error handler), OUT_DIR/logs/OFFICE/NAME.log (the demo's logs, and in the
first office's portal log an attacker whose request paths and user agent hold markup),
and OUT_DIR/returns.csv (the demo's returns, and one for a ballot envelope never issued
whose id holds markup). Prints the payloads, one per line, as `name<TAB>text`, for the
browser to look for as text.
"""

import csv
import pathlib
import shutil
import sys

PAYLOADS = {
    "post": "<script>alert('xss-post')</script><img src=x onerror=alert('xss-post-img')>",
    "account": "<svg onload=alert('xss-account')>",
    "path": "<script>alert('xss-path')</script>",
    "agent": "<img src=x onerror=alert('xss-agent')>",
    "ballot": "X\"><script>alert('xss-ballot')</script>",
}


def posts(demo, out):
    truth = demo / "social" / "truth.csv"
    with truth.open(newline="") as f:
        operation = {row["account"] for row in csv.DictReader(f)}
    if not operation:
        sys.exit(f"xss_seed: {truth} names no operation account")
    renamed = {a: f"{a}{PAYLOADS['account']}" for a in sorted(operation)}
    src = demo / "social" / "posts.csv"
    changed = 0
    with src.open(newline="") as f, (out / "posts.csv").open("w", newline="") as g:
        reader = csv.DictReader(f)
        writer = csv.DictWriter(g, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            if row["author_id"] in renamed:
                row["author_id"] = renamed[row["author_id"]]
                row["content"] = f"{PAYLOADS['post']} {row['content']}"
                changed += 1
            writer.writerow(row)
    if changed == 0:
        sys.exit(f"xss_seed: no post of an operation account in {src}")


def logs(demo, out):
    offices = sorted(p for p in (demo / "infra").iterdir() if p.is_dir())
    if not offices:
        sys.exit(f"xss_seed: no office logs under {demo / 'infra'}")
    for office in offices:
        (out / "logs" / office.name).mkdir(parents=True, exist_ok=True)
        for log in ("portal.log", "results.log"):
            shutil.copy(office / log, out / "logs" / office.name / log)
    portal = out / "logs" / offices[0].name / "portal.log"
    first = portal.open().readline()
    # The attack is dated on the log's first day, so it falls inside the scanned period.
    stamp = first.split("[", 1)[1].split("]", 1)[0]
    day, rest = stamp.split(":", 1)
    zone = rest.split(" ")[1]
    with portal.open("a") as f:
        # Distinct paths, mostly answered 404: a scan (whose finding lists the user
        # agents) as well as attacks (whose finding lists the requests).
        for i in range(120):
            path = [
                f"/search{i}?q={PAYLOADS['path']}",
                f"/login{i}.php?user=admin'%20OR%201=1--",
                f"/files{i}/../../etc/passwd",
                f"/wp-admin{i}/{PAYLOADS['path']}",
            ][i % 4]
            f.write(
                f'203.0.113.66 - - [{day}:03:{i // 60:02d}:{i % 60:02d} {zone}] "GET {path} HTTP/1.1" 404 0 "-" "{PAYLOADS["agent"]}"\n'
            )


def returns(demo, out):
    src = demo / "ballots" / "returns.csv"
    with src.open(newline="") as f, (out / "returns.csv").open("w", newline="") as g:
        reader = csv.DictReader(f)
        writer = csv.DictWriter(g, fieldnames=reader.fieldnames)
        writer.writeheader()
        first = None
        for row in reader:
            first = first or row
            writer.writerow(row)
        if first is None:
            sys.exit(f"xss_seed: {src} holds no return")
        hostile = dict(first)
        hostile["envelope_id"] = PAYLOADS["ballot"]
        hostile["outcome"] = "accepted"
        hostile["reason"] = ""
        writer.writerow(hostile)


def main():
    demo, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    posts(demo, out)
    logs(demo, out)
    returns(demo, out)
    for name, text in PAYLOADS.items():
        print(f"{name}\t{text}")


if __name__ == "__main__":
    main()
