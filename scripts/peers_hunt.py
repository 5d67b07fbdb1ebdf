"""The peer Sigma engine for scripts/peers-hunt.sh: Zircolite's pipeline on PyPI packages.

EVTX records are read by `evtx` (the Python binding of the same parser family Zircolite
uses), flattened as Zircolite does (System children by name, attributes as
Parent_Attribute, EventData/UserData leaves by their own name), and loaded into an
SQLite table of case-insensitive text columns. Each Sigma rule is converted to SQL by
pySigma's SQLite backend with the Sysmon and Windows log-source pipelines (Zircolite's
Sysmon rule set) and run on that table; a `process_creation` rule is converted a second
time with the `windows_audit` and Windows log-source pipelines (Zircolite's generic rule
set: Security 4688, NewProcessName for Image, ...) and its matches are those of both
queries. Zircolite runs one rule set or the other; scrutineer routes such a rule to both
logs, so the peer runs both. The matched (file, EventRecordID) sets are compared per rule with the
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
from sigma.pipelines.windows import windows_audit_pipeline, windows_logsource_pipeline


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


def attack_techniques(rule):
    """ATT&CK technique ids of a rule's attack.tNNNN tags, as scrutineer reads them."""
    out = []
    for tag in rule.tags or []:
        if tag.namespace == "attack" and re.fullmatch(r"t\d{4}(\.\d{3})?", tag.name.lower()):
            t = tag.name.upper()
            if t not in out:
                out.append(t)
    return out


def rule_files(root):
    for r, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if f.endswith((".yml", ".yaml")):
                yield os.path.join(r, f)


class Conversion:
    """Every Windows rule under a directory converted to SQL, and what could not be."""

    def __init__(self, rules_dir):
        backend = sqliteBackend(processing_pipeline=sysmon_pipeline() + windows_logsource_pipeline())
        audit_backend = sqliteBackend(processing_pipeline=windows_audit_pipeline() + windows_logsource_pipeline())
        self.queries, self.unconverted, self.rule_ids = [], [], set()
        self.audit_converted, self.techniques = set(), {}
        for path in rule_files(rules_dir):
            try:
                text = open(path).read()
                collection = SigmaCollection.from_yaml(text)
            except Exception as e:
                self.unconverted.append((path, f"parse: {e}"))
                continue
            for index, rule in enumerate(collection.rules):
                if not rule.logsource or (rule.logsource.product or "").lower() != "windows":
                    continue
                rid = str(rule.id) if rule.id else rule.title
                self.rule_ids.add(rid)
                self.techniques[rid] = attack_techniques(rule)
                audit = (rule.logsource.category or "").lower() == "process_creation"
                try:
                    queries = list(backend.convert_rule(rule))
                    if audit:
                        # A pipeline rewrites the rule it converts: a fresh copy for the second.
                        fresh = SigmaCollection.from_yaml(text).rules[index]
                        queries += audit_backend.convert_rule(fresh)
                        self.audit_converted.add(rid)
                except Exception as e:
                    self.unconverted.append((path, str(e).splitlines()[0] if str(e) else type(e).__name__))
                    continue
                sql = [re.sub(r"^SELECT \* FROM", 'SELECT "_file", "_record" FROM', q) for q in queries]
                self.queries.append((path, rid, sql))


def run_queries(db, conversion, unconverted):
    """The (file, record) set each converted rule matches in the `logs` table."""
    peer = {}
    for path, rid, queries in conversion.queries:
        matched = set()
        for sql in queries:
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
    return peer


def new_db():
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, regexp, deterministic=True)
    return db


def bench(rules_dir, out_json, reps, paths):
    """Timed runs of the peer as Zircolite runs it: rules converted once (Zircolite ships
    them converted, so this is timed apart), then `reps` times records loaded into a new
    SQLite database and the queries run. Each phase's wall-clock and CPU seconds are
    written to `out_json`, one entry per repetition."""

    def timed(phases, name, f):
        wall, cpu = time.perf_counter(), time.process_time()
        out = f()
        phases[f"{name}_seconds"] = time.perf_counter() - wall
        phases[f"{name}_cpu_seconds"] = time.process_time() - cpu
        return out

    converted = {}
    conversion = timed(converted, "convert", lambda: Conversion(rules_dir))
    runs = []
    for _ in range(reps):
        phases = {}
        db = new_db()
        records, _ = timed(phases, "load", lambda: load(paths, db))
        peer = timed(phases, "query", lambda: run_queries(db, conversion, []))
        db.close()
        runs.append({"records": records, "matches": sum(len(v) for v in peer.values()), **phases})
    with open(out_json, "w") as fh:
        json.dump({
            "bytes": sum(os.path.getsize(p) for p in evtx_files(paths)),
            "rules": len(conversion.queries),
            **converted,
            "runs": runs,
        }, fh)


def main():
    if sys.argv[1] == "bench":
        bench(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
        return
    rules_dir, hits_csv, out_json, peer_hits_csv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    paths = sys.argv[5:]
    db = new_db()
    started = time.time()
    records, columns = load(paths, db)
    load_seconds = time.time() - started
    started = time.time()
    conversion = Conversion(rules_dir)
    unconverted, rule_ids, techniques = conversion.unconverted, conversion.rule_ids, conversion.techniques
    audit_converted = conversion.audit_converted
    peer = run_queries(db, conversion, unconverted)
    match_seconds = time.time() - started
    # The peer's matches in the layout of scrutineer's hits.csv, for the detection share.
    with open(peer_hits_csv, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "record", "rule", "source", "technique", "severity"])
        for rid in sorted(peer):
            for f, r in sorted(peer[rid]):
                w.writerow([f, r, rid, "", ";".join(techniques.get(rid, [])), ""])
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
        "peer_rules_also_on_4688": len(audit_converted),
        "rules_matching_in_either": active,
        "rules_agreeing": agree,
        "rules_differing": len(differing),
        "differing": differing,
        "scrutineer_hits_on_rules_the_peer_cannot_convert": ours_unconverted,
        "unconverted": unconverted,
    }
    with open(out_json, "w") as fh:
        json.dump(report, fh, indent=1)
    print(f"records: {records}; rules: {len(rule_ids)} ({len(unconverted)} the peer cannot convert, "
          f"{len(audit_converted)} process_creation rules also converted for Security 4688)")
    print(f"rules matching in either engine: {active}; identical record sets: {agree}; differing: {len(differing)}")
    for d in differing:
        print(f"  differs: {d['rule']}: scrutineer {d['scrutineer']}, peer {d['peer']}")
    print(f"peer: {load_seconds:.1f} s loading, {match_seconds:.1f} s matching ({report['peer_records_per_second']} records/s)")


if __name__ == "__main__":
    main()
