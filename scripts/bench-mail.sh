#!/usr/bin/env bash
# Messages verified per second: `scrutineer mail verify` on an mbox of BENCH_MAIL_MESSAGES
# messages (default 100,000; the full run is BENCH_MAIL_MESSAGES=1000000, 4.7 GB under
# target/bench-mail), made by re-signing the real messages under ../shared/data/mail with
# dkimpy (RSA-2048 and Ed25519, 400 distinct messages, each copy a full verification),
# against dkimpy's verification (the library behind `dkimverify`, messages already in
# memory) of the dump's first BENCH_MAIL_PEER_MESSAGES (default 2,000) in the same run.
# BENCH_MAIL_RUNS (default 3) runs of both, one after the other, give the ratio's spread.
# Peak memory: a run on the dump's first 100,000 messages (a quarter of the dump when it
# is smaller) against the whole, which must stay flat.
# Fails when Scrutineer's median rate is not BENCH_MAIL_MIN_RATIO times dkimpy's (default 5:
# 6.2 to 12.9 measured at 100,000 messages on a machine shared with other builds, load
# average 7 to 14, less a margin for load), when its median messages per CPU-second are not
# BENCH_MAIL_MIN_CPU_RATIO times dkimpy's (default 5.5: 6.0 to 7.5 measured, steadier than
# the rates under load), or when the whole dump takes more than 1.5 times the smaller
# run's memory. The issue's target of 50 is not reached, see crates/mail/README.md.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
DATA="$ROOT/../shared/data/mail"
VENV="$ROOT/target/mail-peers-venv"
WORK="$ROOT/target/bench-mail"
N="${BENCH_MAIL_MESSAGES:-100000}"
RUNS="${BENCH_MAIL_RUNS:-3}"
PEER_N="${BENCH_MAIL_PEER_MESSAGES:-2000}"
MIN_RATIO="${BENCH_MAIL_MIN_RATIO:-5}"
MIN_CPU_RATIO="${BENCH_MAIL_MIN_CPU_RATIO:-5.5}"
if [[ ! -x "$VENV/bin/dkimverify" ]]; then
  python3 -m venv "$VENV" || { apt-get update && apt-get install -y python3-venv && python3 -m venv "$VENV"; }
  "$VENV/bin/pip" install --quiet dkimpy pynacl
fi
BIN="${SCRUTINEER_BIN:-$ROOT/target/release/scrutineer}"
[[ -x "$BIN" ]] || { cargo build --quiet --release -p scrutineer; BIN="$ROOT/target/release/scrutineer"; }

rm -rf "$WORK"
"$VENV/bin/python" "$ROOT/scripts/bench_mail.py" build "$WORK" "$DATA" "$N"
# The dump's first 100,000 messages (a quarter when it is smaller), for the memory comparison.
small=$((N / 4))
if (( N > 100000 )); then small=100000; fi
awk -v n="$small" '/^From bench@/{c++} c>n{exit} {print}' "$WORK/bench.mbox" > "$WORK/small.mbox"

run() {  # run NAME MBOX: prints "seconds peak_kb messages_per_second authentic messages cpu_seconds"
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/$1.time" "$BIN" --quiet mail verify "$2" --keys "$WORK/keys.csv" \
    --out "$WORK/$1" --no-ledger --no-store >/dev/null
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; t=open(sys.argv[2]).read().split(); print(t[0], t[1], s["messages_per_second"], s["verdicts"]["authentic"], s["read"]["messages"], float(t[2]) + float(t[3]))' \
    "$WORK/$1/summary.json" "$WORK/$1.time"
}
small_line="$(run small "$WORK/small.mbox")"
: > "$WORK/runs.txt"
for ((r = 1; r <= RUNS; r++)); do
  whole="$(run whole "$WORK/bench.mbox")"
  peer="$("$VENV/bin/python" "$ROOT/scripts/bench_mail.py" peer "$WORK" "$PEER_N")"
  echo "$whole $(uptime | sed 's/.*average: //; s/,.*//') $peer" >> "$WORK/runs.txt"
done
python3 - "$WORK/runs.txt" "$small_line" "$MIN_RATIO" "$MIN_CPU_RATIO" <<'PY'
import json, statistics, sys
runs = []
for line in open(sys.argv[1]):
    secs, kb, rate, ok, n, cpu, load, peer = line.split(maxsplit=7)
    runs.append(dict(secs=float(secs), kb=int(kb), rate=float(rate), ok=int(ok), n=int(n), cpu=float(cpu), load=load, peer=json.loads(peer)))
s_secs, s_kb, s_rate, s_ok, s_n, s_cpu = sys.argv[2].split()
min_ratio, min_cpu_ratio = float(sys.argv[3]), float(sys.argv[4])
ratios, cpu_ratios = [], []
for i, r in enumerate(runs, 1):
    p = r["peer"]
    ratio = r["rate"] / p["messages_per_second"]
    # Per CPU-second (user + system): what each side costs whatever else shares the machine.
    cpu_ratio = (r["n"] / max(r["cpu"], 1e-9)) / (p["messages"] / max(p["cpu_seconds"], 1e-9))
    ratios.append(ratio); cpu_ratios.append(cpu_ratio)
    print("run %d (load %s): scrutineer %d messages in %.1f s, %.0f messages/s (%.0f us each, %.0f us of CPU), %d authentic, peak %.0f MB;"
          " dkimpy %d messages in %.1f s, %.0f messages/s (%.0f us each, %.0f us of CPU), %d valid: %.1fx, %.1fx per CPU-second"
          % (i, r["load"], r["n"], r["secs"], r["rate"], 1e6 / r["rate"], 1e6 * r["cpu"] / r["n"], r["ok"], r["kb"] / 1024,
             p["messages"], p["seconds"], p["messages_per_second"], 1e6 / p["messages_per_second"], 1e6 * p["cpu_seconds"] / p["messages"],
             p["valid"], ratio, cpu_ratio))
kb = max(r["kb"] for r in runs)
print("peak memory: %.0f MB on the first %d messages, %.0f MB on all %d (whole/small %.2f, bar 1.5)" % (int(s_kb) / 1024, int(s_n), kb / 1024, runs[0]["n"], kb / int(s_kb)))
med, med_cpu = statistics.median(ratios), statistics.median(cpu_ratios)
print("bench-mail: %.1fx dkimpy's rate (median of %d runs, %.1f to %.1f; bar %.1fx), %.1fx per CPU-second (%.1f to %.1f; bar %.1fx); the issue's target is 50x"
      % (med, len(runs), min(ratios), max(ratios), min_ratio, med_cpu, min(cpu_ratios), max(cpu_ratios), min_cpu_ratio))
bad = med < min_ratio or med_cpu < min_cpu_ratio or kb > 1.5 * int(s_kb) or int(s_ok) != int(s_n)
bad = bad or any(r["ok"] != r["n"] or r["peer"]["valid"] != r["peer"]["messages"] for r in runs)
sys.exit(1 if bad else 0)
PY
