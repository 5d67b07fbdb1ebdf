"""The peer Sigma engine for scripts/peers-hunt.sh: Zircolite's pipeline on PyPI packages.

EVTX records are read by `evtx` (the Python binding of the same parser family Zircolite
uses), flattened as Zircolite does (System children by name, attributes as
Parent_Attribute, EventData/UserData leaves by their own name), and loaded into an
SQLite table of case-insensitive text columns. Each Sigma rule is converted to SQL by
pySigma's SQLite backend with the Sysmon and Windows log-source pipelines and run on
that table. The matched (file, EventRecordID) sets are compared per rule with the
`rule` column of scrutineer's hits.csv.
"""

import csv
import json
import os
import re
import sqlite3
import sys
import time

import evtx
from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.pipelines.sysmon import sysmon_pipeline
from sigma.pipelines.windows import windows_logsource_pipeline


def flatten_system(key, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "#attributes":
                for a, av in (v or {}).items():
                    out[f"{key}_{a}"] = av
            elif k == "#text":
                out[key] = v
            else:
                flatten_system(f"{key}_{k}", v, out)
    elif value is not None:
        out[key] = value


def flatten_data(key, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "#attributes":
                continue
            if k == "#text":
                leaf(key, v, out)
            else:
                flatten_data(k, v, out)
    elif isinstance(value, list) and any(isinstance(i, dict) for i in value):
        for i in value:
            flatten_data(key, i, out)
    else:
        leaf(key, value, out)


def leaf(key, value, out):
    if key in ("EventData", "UserData"):
        key = "Data"
    out.setdefault(key, value)


def text(v):
    if v is None:
        return None
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def evtx_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in sorted(os.walk(p)):
                for f in sorted(files):
                    if f.lower().endswith(".evtx"):
                        yield os.path.join(root, f)
        else:
            yield p


def load(paths, db):
    rows, columns = [], {"_file", "_record"}
    for path in evtx_files(paths):
        try:
            parser = evtx.PyEvtxParser(path)
            for rec in parser.records_json():
                event = json.loads(rec["data"]).get("Event", {})
                flat = {}
                for k, v in (event.get("System") or {}).items():
                    flatten_system(k, v, flat)
                for section in ("EventData", "UserData"):
                    if section in event:
                        flatten_data(section, event[section], flat)
                # SQLite column names ignore case: "Payload" and "payload" are one column.
                lowered = {}
                for k, v in flat.items():
                    lowered.setdefault(k.lower(), text(v))
                flat = lowered
                flat["_file"] = os.path.realpath(path)
                flat["_record"] = flat.get("eventrecordid") or str(rec["event_record_id"])
                columns.update(flat)
                rows.append(flat)
        except Exception as e:  # a file the peer cannot read is reported, not fatal
            print(f"peers-hunt: peer could not read {path}: {e}", file=sys.stderr)
    cols = sorted(columns)
    db.execute("CREATE TABLE logs (" + ", ".join(f'"{c}" TEXT COLLATE NOCASE' for c in cols) + ")")
    q = "INSERT INTO logs (" + ", ".join(f'"{c}"' for c in cols) + ") VALUES (" + ", ".join("?" * len(cols)) + ")"
    db.executemany(q, [[r.get(c) for c in cols] for r in rows])
    return len(rows), set(cols)


def regexp(pattern, value):
    if value is None:
        return False
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False


def rule_files(root):
    for r, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if f.endswith((".yml", ".yaml")):
                yield os.path.join(r, f)


def main():
    rules_dir, hits_csv, out_json = sys.argv[1], sys.argv[2], sys.argv[3]
    paths = sys.argv[4:]
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, regexp, deterministic=True)
    started = time.time()
    records, columns = load(paths, db)
    load_seconds = time.time() - started
    backend = sqliteBackend(processing_pipeline=sysmon_pipeline() + windows_logsource_pipeline())
    peer, unconverted, rule_ids = {}, [], set()
    started = time.time()
    for path in rule_files(rules_dir):
        try:
            collection = SigmaCollection.from_yaml(open(path).read())
        except Exception as e:
            unconverted.append((path, f"parse: {e}"))
            continue
        for rule in collection.rules:
            if not rule.logsource or (rule.logsource.product or "").lower() != "windows":
                continue
            rid = str(rule.id) if rule.id else rule.title
            rule_ids.add(rid)
            try:
                queries = backend.convert_rule(rule)
            except Exception as e:
                unconverted.append((path, str(e).splitlines()[0] if str(e) else type(e).__name__))
                continue
            matched = set()
            for query in queries:
                sql = re.sub(r"^SELECT \* FROM", 'SELECT "_file", "_record" FROM', query)
                for _ in range(20):
                    try:
                        matched.update(db.execute(sql).fetchall())
                        break
                    except sqlite3.OperationalError as e:
                        m = re.match(r"no such column: (.+)", str(e))
                        if not m:
                            unconverted.append((path, f"sql: {e}"))
                            break
                        # A field no record has: added empty, as a record without it reads.
                        db.execute(f'ALTER TABLE logs ADD COLUMN "{m.group(1)}" TEXT COLLATE NOCASE')
            peer[rid] = matched
    match_seconds = time.time() - started
    ours = {}
    with open(hits_csv, newline="") as fh:
        for h in csv.DictReader(fh):
            ours.setdefault(h["rule"], set()).add((os.path.realpath(h["file"]), h["record"]))
    differing = []
    agree = active = 0
    for rid in sorted(peer):
        a, b = ours.get(rid, set()), peer[rid]
        if not a and not b:
            continue
        active += 1
        if a == b:
            agree += 1
        else:
            differing.append({
                "rule": rid,
                "scrutineer": len(a),
                "peer": len(b),
                "only_scrutineer": sorted(a - b)[:5],
                "only_peer": sorted(b - a)[:5],
            })
    ours_unconverted = sorted(r for r in ours if r in rule_ids and r not in peer)
    report = {
        "records": records,
        "peer_load_seconds": round(load_seconds, 2),
        "peer_match_seconds": round(match_seconds, 2),
        "peer_records_per_second": round(records / (load_seconds + match_seconds), 1) if records else 0,
        "rules": len(rule_ids),
        "peer_unconverted": len(unconverted),
        "rules_matching_in_either": active,
        "rules_agreeing": agree,
        "rules_differing": len(differing),
        "differing": differing,
        "scrutineer_hits_on_rules_the_peer_cannot_convert": ours_unconverted,
        "unconverted": unconverted,
    }
    with open(out_json, "w") as fh:
        json.dump(report, fh, indent=1)
    print(f"records: {records}; rules: {len(rule_ids)} ({len(unconverted)} the peer cannot convert)")
    print(f"rules matching in either engine: {active}; identical record sets: {agree}; differing: {len(differing)}")
    for d in differing:
        print(f"  differs: {d['rule']}: scrutineer {d['scrutineer']}, peer {d['peer']}")
    print(f"peer: {load_seconds:.1f} s loading, {match_seconds:.1f} s matching ({report['peer_records_per_second']} records/s)")


if __name__ == "__main__":
    main()
