#!/usr/bin/env python3
"""Scores `scrutineer infra scan` findings on the labelled Zeek captures against their
labels: precision and recall of malicious hosts and of malicious connections, per
scenario and pooled. Called by scripts/eval-zeek.sh, which runs the scans.

Truth:
- Files with a `label` column (Stratosphere NetflowLabeler): a record labelled
  `Malicious` is malicious, `Benign` benign; `Background` and unlabelled records are
  unknown and left out of both figures. A host (the originator of a record) is malicious
  when any of its records is, benign when it has benign records and no malicious one.
- Scenarios described only in their README: a rule per scenario, written in SCENARIOS.

Predictions: a finding names hosts by its source-address evidence; pair findings
(beaconing) also name a destination (address or server name). A connection is predicted
malicious when its originator is named by a host finding, or its originator and
destination by a pair finding. Finding kinds that are context rather than an accusation
(long connections, rare destinations) and aggregates (campaigns, ramp-ups) are counted
separately and not scored.

Connections: conn.log records where the scenario has them, else the http and ssl
records (one per connection's application exchange).
"""
import json
import os
import sys

CONTEXT = {"long_connection", "rare_destination"}
AGGREGATE = {"campaign", "ramp_up"}
PAIR_KINDS = {"beaconing"}


def read_zeek(path):
    """Yields dicts of one Zeek log (TSV with #fields, or JSON lines)."""
    fields = None
    sep = "\t"
    unset = "-"
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("{"):
                try:
                    yield json.loads(line)
                except ValueError:
                    pass
                continue
            if line.startswith("#separator"):
                sep = line.split(" ", 1)[1].encode().decode("unicode_escape")
                continue
            if line.startswith("#"):
                parts = line.split(sep)
                if parts[0] == "#fields":
                    fields = parts[1:]
                elif parts[0] == "#unset_field":
                    unset = parts[1]
                continue
            if fields is None:
                continue
            values = line.split(sep)
            if len(values) != len(fields):
                continue
            yield {k: (None if v == unset else v) for k, v in zip(fields, values)}


def log_kind(path):
    base = os.path.basename(path)
    if base.startswith("labeled-"):
        base = base[len("labeled-"):]
    return base.split(".")[0]


def port_1337(r):
    return "1337" in (str(r.get("id.resp_p")), str(r.get("id.orig_p")))


# Scenarios whose truth is in their README, not in a label column.
SCENARIOS = {
    "002-zeek-scenario-port-scanning": lambda r: r.get("id.orig_h") == "172.16.1.11",
    "003-zeek-scenario-malicious": port_1337,
}


def truth_of(scenario, files):
    """(connections, hosts): connections as (key, label) and hosts as label by address;
    labels are True (malicious), False (benign), None (unknown)."""
    kinds = {log_kind(f) for f in files}
    unit = {"conn"} if "conn" in kinds else {"http", "ssl"}
    rule = SCENARIOS.get(scenario)
    conns = []
    hosts = {}
    for f in files:
        for r in read_zeek(f):
            src = r.get("id.orig_h")
            if rule is not None:
                label = rule(r)
            else:
                raw = r.get("label")
                label = True if raw == "Malicious" else False if raw == "Benign" else None
            if src:
                if label is True:
                    hosts[src] = True
                elif label is False and hosts.get(src) is not True:
                    hosts[src] = False
                else:
                    hosts.setdefault(src, None)
            if log_kind(f) in unit:
                name = (r.get("host") or r.get("server_name") or "").lower()
                conns.append(((src, r.get("id.resp_h"), name), label))
    return conns, hosts


def predictions(findings_path):
    with open(findings_path) as f:
        findings = json.load(f)
    host_flags, pair_flags, counts = set(), set(), {}
    for fd in findings:
        kind = fd["kind"]
        counts[kind] = counts.get(kind, 0) + 1
        if kind in CONTEXT or kind in AGGREGATE:
            continue
        srcs = [e["data"]["value"] for e in fd.get("evidence", [])
                if e["kind"] == "observable" and e["description"].startswith("source address ")]
        for e in fd.get("evidence", []):
            if e["kind"] == "sources":
                listed = e["data"] if isinstance(e["data"], list) else e["data"].get("sources", [])
                srcs.extend(listed)
        dsts = [e["data"]["value"] for e in fd.get("evidence", [])
                if e["kind"] == "observable" and e["description"].startswith("destination ")]
        if kind in PAIR_KINDS and dsts:
            for s in srcs:
                for d in dsts:
                    pair_flags.add((s, d))
        else:
            host_flags.update(srcs)
    return host_flags, pair_flags, counts


def pr(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r


def main():
    out = sys.argv[1]
    scenarios = json.load(open(os.path.join(out, "scenarios.json")))
    pooled = {"host": [0, 0, 0], "conn": [0, 0, 0]}
    rows = []
    for sc in scenarios:
        conns, hosts = truth_of(sc["name"], sc["files"])
        host_flags, pair_flags, counts = predictions(os.path.join(out, sc["name"], "findings.json"))
        flagged_hosts = host_flags | {s for s, _ in pair_flags}
        h = [0, 0, 0]
        for ip, label in hosts.items():
            if label is None:
                continue
            pred = ip in flagged_hosts
            if label and pred:
                h[0] += 1
            elif pred:
                h[1] += 1
            elif label:
                h[2] += 1
        c = [0, 0, 0]
        for (src, dst, name), label in conns:
            if label is None:
                continue
            pred = src in host_flags or (src, dst) in pair_flags or (name and (src, name) in pair_flags)
            if label and pred:
                c[0] += 1
            elif pred:
                c[1] += 1
            elif label:
                c[2] += 1
        for k, v in (("host", h), ("conn", c)):
            for i in range(3):
                pooled[k][i] += v[i]
        rows.append((sc["name"], h, c, counts))
    print(f"{'scenario':34} {'hosts TP/FP/FN':>15} {'P':>6} {'R':>6} {'conns TP/FP/FN':>20} {'P':>6} {'R':>6}  findings")
    figures = {}
    for name, h, c, counts in rows + [("pooled", pooled["host"], pooled["conn"], {})]:
        hp, hr = pr(*h)
        cp, cr = pr(*c)
        figures[name] = {"host_precision": hp, "host_recall": hr, "conn_precision": cp, "conn_recall": cr}
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        print(f"{name:34} {'/'.join(map(str, h)):>15} {hp:6.4f} {hr:6.4f} {'/'.join(map(str, c)):>20} {cp:6.4f} {cr:6.4f}  {kinds}")
    json.dump(figures, open(os.path.join(out, "figures.json"), "w"), indent=1)
    gates = json.loads(os.environ.get("ZEEK_GATES", "{}"))
    failed = 0
    for name, bars in sorted(gates.items()):
        for figure, bar in sorted(bars.items()):
            got = figures.get(name, {}).get(figure)
            if got is None or got < bar:
                print(f"FAIL: {name} {figure} {got} is below {bar}")
                failed += 1
    if gates and not failed:
        print(f"OK: {sum(len(b) for b in gates.values())} figures at or above their gates")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
