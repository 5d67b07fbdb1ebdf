"""Speed of `scrutineer hunt evtx` against the Zircolite pipeline (evtx flattening the
records into SQLite, pySigma's SQLite backend running the same SigmaHQ rules), measured
in the same run, REPS times each.

Scrutineer is timed as a whole process (reading the rules, every file, writing hits.csv
and summary.json). The peer is timed by scripts/peers_hunt.py's `bench` mode phase by
phase: loading the records into SQLite and running the queries count; converting the
rules to SQL does not (Zircolite ships its rules converted; it is done once for all the
repetitions and printed apart), nor does the interpreter's start-up. CPU seconds are user + system of the process (the peer's own process time
for its phases). Prints records/s and MB/s for both, min/median/max over the
repetitions, the ratio of the medians of wall and of CPU seconds, and fails when
Scrutineer is not MIN_CPU_RATIO times faster per CPU-second.

usage: bench_hunt.py BIN PEER_PYTHON RULES REPS MIN_CPU_RATIO WORK INPUT...
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_scrutineer(binary, rules, inputs, work):
    out = os.path.join(work, "scrutineer")
    cmd = [binary, "--quiet", "--json", "hunt", "evtx", *inputs, "--sigma", rules, "--no-builtin",
           "--no-store", "--out", out]
    cpu, wall = children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"bench-hunt: scrutineer failed ({done.returncode}): {done.stderr.strip()}")
    summary = json.loads(done.stdout)
    return {"wall": wall, "cpu": cpu, "records": summary["totals"]["records"],
            "bytes": sum(f["bytes"] for f in summary["files"]), "rules": summary["rules"]["rules"]}


def run_peer(python, rules, reps, inputs, work):
    """The peer's repetitions, in one process that converts the rules once."""
    out = os.path.join(work, "peer.json")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers_hunt.py")
    done = subprocess.run([python, script, "bench", rules, out, str(reps), *inputs], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench-hunt: the peer failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    with open(out) as fh:
        p = json.load(fh)
    runs = [{"wall": r["load_seconds"] + r["query_seconds"], "cpu": r["load_cpu_seconds"] + r["query_cpu_seconds"],
             "records": r["records"], "bytes": p["bytes"], "rules": p["rules"]} for r in p["runs"]]
    return runs, p["convert_seconds"]


def spread(values):
    return min(values), statistics.median(values), max(values)


def main():
    binary, python, rules, reps, min_cpu_ratio, work = sys.argv[1:7]
    inputs = sys.argv[7:]
    reps, min_cpu_ratio = int(reps), float(min_cpu_ratio)
    os.makedirs(work, exist_ok=True)
    # Scrutineer runs before and after the peer's repetitions, so that neither engine
    # always finds the files cached by the other's run.
    ours = [run_scrutineer(binary, rules, inputs, work) for _ in range((reps + 1) // 2)]
    peer, convert_seconds = run_peer(python, rules, reps, inputs, work)
    ours += [run_scrutineer(binary, rules, inputs, work) for _ in range(reps // 2)]
    o, p = ours[0], peer[0]
    if o["records"] != p["records"]:
        sys.exit(f"bench-hunt: the engines read different record counts: scrutineer {o['records']}, peer {p['records']}")
    records, size = o["records"], o["bytes"]
    print(f"input: {len(inputs)} path(s), {records} records, {size / 1e6:.1f} MB of EVTX; "
          f"rules: scrutineer {o['rules']}, peer {p['rules']} converted to SQL; {reps} repetitions")
    print(f"{'engine':<12} {'wall s min/med/max':>22} {'cpu s min/med/max':>22} {'records/s (med)':>16} "
          f"{'MB/s (med)':>11} {'records/cpu-s':>14}")
    medians = {}
    for name, runs in (("scrutineer", ours), ("peer", peer)):
        w, c = spread([r["wall"] for r in runs]), spread([r["cpu"] for r in runs])
        medians[name] = (w[1], c[1])
        print(f"{name:<12} {w[0]:6.2f} {w[1]:6.2f} {w[2]:6.2f}   {c[0]:6.2f} {c[1]:6.2f} {c[2]:6.2f}   "
              f"{records / w[1]:>14.0f} {size / 1e6 / w[1]:>11.2f} {records / c[1]:>14.0f}")
    print(f"peer rule conversion to SQL, once (not counted above): {convert_seconds:.2f} s")
    wall_ratio = medians["peer"][0] / medians["scrutineer"][0]
    cpu_ratio = medians["peer"][1] / medians["scrutineer"][1]
    print(f"scrutineer is {wall_ratio:.1f}x the peer's speed in wall time and {cpu_ratio:.1f}x per CPU-second "
          f"(gate: {min_cpu_ratio}x per CPU-second)")
    if cpu_ratio < min_cpu_ratio:
        sys.exit(f"bench-hunt: FAILED: {cpu_ratio:.1f}x per CPU-second is below the gate of {min_cpu_ratio}x")


if __name__ == "__main__":
    main()
