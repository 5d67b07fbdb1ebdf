#!/usr/bin/env bash
# Messages verified per second: `scrutineer mail verify` on an mbox of BENCH_MAIL_MESSAGES
# messages (default 100,000; the full run is BENCH_MAIL_MESSAGES=1000000), made by
# re-signing the real messages under ../shared/data/mail with dkimpy (RSA-2048 and
# Ed25519, 400 distinct messages, each copy a full verification), against dkimpy's own
# verification loop (the library behind `dkimverify`, messages already in memory, for
# 10 s) in the same run; and the peak memory of a run on a quarter of the dump against
# the whole, which must stay flat. Fails when Scrutineer is not at least
# BENCH_MAIL_MIN_RATIO times dkimpy's rate (default 5: 6.2 to 12.9 measured at 100,000
# messages on a machine shared with other builds, load average 7 to 14, less a margin
# for load), when it does not verify BENCH_MAIL_MIN_CPU_RATIO times as many messages
# per CPU-second as dkimpy (default 6.5: 7.7 to 8.5 measured, steadier than the rates
# under load), or when the whole dump takes more than 1.5 times the quarter's memory.
# The issue's target of 50 is not reached, see crates/mail/README.md.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
DATA="$ROOT/../shared/data/mail"
VENV="$ROOT/target/mail-peers-venv"
WORK="$ROOT/target/bench-mail"
N="${BENCH_MAIL_MESSAGES:-100000}"
MIN_RATIO="${BENCH_MAIL_MIN_RATIO:-5}"
MIN_CPU_RATIO="${BENCH_MAIL_MIN_CPU_RATIO:-6.5}"
if [[ ! -x "$VENV/bin/dkimverify" ]]; then
  python3 -m venv "$VENV" || { apt-get update && apt-get install -y python3-venv && python3 -m venv "$VENV"; }
  "$VENV/bin/pip" install --quiet dkimpy pynacl
fi
BIN="${SCRUTINEER_BIN:-$ROOT/target/release/scrutineer}"
[[ -x "$BIN" ]] || { cargo build --quiet --release -p scrutineer; BIN="$ROOT/target/release/scrutineer"; }

rm -rf "$WORK"
"$VENV/bin/python" "$ROOT/scripts/bench_mail.py" build "$WORK" "$DATA" "$N"
# A quarter of the dump: the same messages, for the memory comparison.
quarter=$((N / 4))
awk -v n="$quarter" '/^From bench@/{c++} c>n{exit} {print}' "$WORK/bench.mbox" > "$WORK/quarter.mbox"

run() {  # run NAME MBOX: prints "seconds peak_kb messages_per_second authentic messages cpu_seconds"
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/$1.time" "$BIN" --quiet mail verify "$2" --keys "$WORK/keys.csv" \
    --out "$WORK/$1" --no-ledger --no-store >/dev/null
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; t=open(sys.argv[2]).read().split(); print(t[0], t[1], s["messages_per_second"], s["verdicts"]["authentic"], s["read"]["messages"], float(t[2]) + float(t[3]))' \
    "$WORK/$1/summary.json" "$WORK/$1.time"
}
read -r q_secs q_kb q_rate q_ok q_n q_cpu < <(run quarter "$WORK/quarter.mbox")
read -r secs kb rate ok n cpu < <(run whole "$WORK/bench.mbox")
peer="$("$VENV/bin/python" "$ROOT/scripts/bench_mail.py" peer "$WORK")"
python3 - "$peer" "$secs" "$kb" "$rate" "$ok" "$n" "$q_kb" "$q_n" "$MIN_RATIO" "$cpu" "$MIN_CPU_RATIO" <<'PY'
import json, sys
peer = json.loads(sys.argv[1])
secs, kb, rate, ok, n, q_kb, q_n, min_ratio = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), float(sys.argv[9])
cpu, min_cpu_ratio = float(sys.argv[10]), float(sys.argv[11])
ratio = rate / peer["messages_per_second"]
print("scrutineer: %d messages in %.1f s, %.0f messages/s (%d authentic), peak %.0f MB" % (n, secs, rate, ok, kb / 1024))
# Per CPU-second (user + system): what each side costs whatever else shares the machine.
cpu_rate, peer_cpu_rate = n / max(cpu, 1e-9), peer["messages"] / max(peer["cpu_seconds"], 1e-9)
cpu_ratio = cpu_rate / peer_cpu_rate
print("per CPU-second: scrutineer %.0f messages, dkimpy %.0f: %.1fx (bar %.1fx)" % (cpu_rate, peer_cpu_rate, cpu_ratio, min_cpu_ratio))
print("scrutineer on a quarter of the dump (%d messages): peak %.0f MB" % (q_n, q_kb / 1024))
print("dkimpy: %d verifications in %.1f s, %.0f messages/s (%d valid)" % (peer["messages"], peer["seconds"], peer["messages_per_second"], peer["valid"]))
print("bench-mail: %.1fx dkimpy (bar %.0fx); memory whole/quarter %.2f (bar 1.5)" % (ratio, min_ratio, kb / q_kb))
bad = ratio < min_ratio or cpu_ratio < min_cpu_ratio or kb > 1.5 * q_kb or ok != n or peer["valid"] != peer["messages"]
sys.exit(1 if bad else 0)
PY
