"""Scores `scrutineer hunt evtx` runs for scripts/eval-hunt.sh.

regression: the SigmaHQ regression tests (an info.yml naming a rule id and an EVTX file
per test); every test whose rule is in the rule set must have its file matched by its
rule, and where the test states match_count, by exactly that many records.

coverage: the EVTX-to-MITRE samples, each file under TAxxxx-<tactic>/Txxxx[.yyy]-<name>/;
a file is detected when a hit on it carries its technique, its parent technique, or one
of its sub-techniques. Prints the share per tactic and overall.
"""

import csv
import os
import re
import sys


def rule_ids(rules_dir):
    ids = {}
    for root, _, files in os.walk(rules_dir):
        for f in files:
            if f.endswith((".yml", ".yaml")):
                p = os.path.join(root, f)
                with open(p, errors="replace") as fh:
                    for line in fh:
                        if line.startswith("id:"):
                            ids[line.split(":", 1)[1].strip()] = p
                            break
    return ids


def regression_tests(data_dir):
    """(rule id, evtx path, match_count or None) for every EVTX test."""
    tests = []
    for root, _, files in os.walk(data_dir):
        if "info.yml" not in files:
            continue
        text = open(os.path.join(root, "info.yml")).read()
        m = re.search(r"rule_metadata:\s*\n\s*-\s*id:\s*(\S+)", text)
        if not m:
            continue
        for block in re.split(r"\n\s*-\s*name:", text)[1:]:
            if not re.search(r"^\s*type:\s*evtx\s*$", block, re.M):
                continue
            path = re.search(r"^\s*path:\s*(\S+)", block, re.M)
            count = re.search(r"^\s*match_count:\s*(\d+)", block, re.M)
            evtx = os.path.join(os.path.dirname(data_dir.rstrip("/")), path.group(1)) if path else None
            tests.append((m.group(1), evtx, int(count.group(1)) if count else None))
    return sorted(tests)


def hits(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def cmd_list(data_dir, rules_dir, out_rules, out_files):
    ids = rule_ids(rules_dir)
    tests = regression_tests(data_dir)
    with open(out_rules, "w") as r, open(out_files, "w") as f:
        for rid, evtx, _ in tests:
            if rid in ids:
                r.write(ids[rid] + "\n")
                f.write(evtx + "\n")


def cmd_regression(data_dir, rules_dir, hits_csv, min_counts):
    ids = rule_ids(rules_dir)
    matched = {}
    for h in hits(hits_csv):
        key = (os.path.realpath(h["file"]), h["rule"])
        matched[key] = matched.get(key, 0) + 1
    passed = failed = no_rule = count_checked = count_equal = 0
    for rid, evtx, count in regression_tests(data_dir):
        if rid not in ids:
            no_rule += 1
            continue
        n = matched.get((os.path.realpath(evtx), rid), 0)
        if n > 0:
            passed += 1
        else:
            failed += 1
            print(f"eval-hunt: MISS {rid} on {evtx}")
        if count is not None:
            count_checked += 1
            if n == count:
                count_equal += 1
            else:
                print(f"eval-hunt: count {rid}: {n} records matched, the test expects {count}")
    print(f"regression tests passed: {passed} of {passed + failed} (rule missing from the rule set: {no_rule})")
    print(f"stated match counts equal: {count_equal} of {count_checked}")
    if count_equal < min_counts:
        print(f"eval-hunt: {count_equal} stated match counts equal, below the bar {min_counts}", file=sys.stderr)
    return failed == 0 and count_equal >= min_counts


def technique_matches(hit, want):
    return hit == want or want.startswith(hit + ".") or hit.startswith(want + ".")


def cmd_coverage(data_dir, hits_csv, min_share):
    found = {}
    for h in hits(hits_csv):
        for t in filter(None, h["technique"].split(";")):
            found.setdefault(os.path.realpath(h["file"]), set()).add(t)
    per_tactic = {}
    for root, _, files in os.walk(data_dir):
        parts = os.path.relpath(root, data_dir).split(os.sep)
        if len(parts) != 2 or not re.match(r"TA\d{4}", parts[0]):
            continue
        tm = re.match(r"(T\d{4}(?:\.\d{3})?)", parts[1])
        if not tm:
            continue
        for f in files:
            if not f.endswith(".evtx"):
                continue
            got = found.get(os.path.realpath(os.path.join(root, f)), set())
            ok = any(technique_matches(t, tm.group(1)) for t in got)
            d = per_tactic.setdefault(parts[0], [0, 0])
            d[0] += ok
            d[1] += 1
    total = [sum(v[0] for v in per_tactic.values()), sum(v[1] for v in per_tactic.values())]
    print(f"{'tactic':<32} {'detected':>8} {'files':>6} {'share':>6}")
    for tactic in sorted(per_tactic):
        d, n = per_tactic[tactic]
        print(f"{tactic:<32} {d:>8} {n:>6} {d / n:>6.3f}")
    share = total[0] / total[1] if total[1] else 0.0
    print(f"{'all tactics':<32} {total[0]:>8} {total[1]:>6} {share:>6.3f}")
    if share < min_share:
        print(f"eval-hunt: detection share {share:.3f} is below the bar {min_share:.3f}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "list":
        cmd_list(*sys.argv[2:6])
        ok = True
    elif what == "regression":
        ok = cmd_regression(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif what == "coverage":
        ok = cmd_coverage(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit(f"unknown command {what}")
    sys.exit(0 if ok else 1)
