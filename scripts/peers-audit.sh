#!/usr/bin/env bash
# Side-by-side check against rlacalc (PyPI): BRAVO expected sample sizes (rlacalc -p) and
# Kaplan-Markov ballot-comparison sample sizes with no discrepancies (rlacalc -n) over a grid
# of margins and risk limits, against `scrutineer audit estimate --json`. Also checks the
# reference figures of ../shared/notes/rla-peers.md. Exits non-zero on any mismatch.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
VENV="$ROOT/target/audit-peers-venv"
if [[ ! -x "$VENV/bin/rlacalc" ]]; then
  python3 -m venv "$VENV" || { sudo apt-get update && sudo apt-get install -y python3-venv && python3 -m venv "$VENV"; }
  "$VENV/bin/pip" install --quiet "rlacalc==0.4.0"
fi
RLACALC="$VENV/bin/rlacalc"
cargo build --quiet --release -p scrutineer
BIN="$ROOT/target/release/scrutineer"

MARGINS=(0.01 0.02 0.05 0.1 0.2 0.3 0.5)
RISKS=(0.01 0.025 0.05 0.1 0.2)
mlist=$(IFS=,; echo "${MARGINS[*]}"); rlist=$(IFS=,; echo "${RISKS[*]}")
"$BIN" --quiet --json audit estimate --margins "$mlist" --risk-limits "$rlist" --method bravo > "$ROOT/target/peers-bravo.json"
"$BIN" --quiet --json audit estimate --margins "$mlist" --risk-limits "$rlist" --method comparison > "$ROOT/target/peers-comparison.json"

python3 - "$RLACALC" "$ROOT/target/peers-bravo.json" "$ROOT/target/peers-comparison.json" <<'PY'
import json, re, subprocess, sys
rlacalc = sys.argv[1]
ours = {}
for kind, path in (('bravo', sys.argv[2]), ('comparison', sys.argv[3])):
    for r in json.load(open(path)):
        ours[(kind, round(r['margin'], 6), round(r['risk_limit'], 6))] = r['sample_size']
def peer(kind, m, a):
    args = [rlacalc, '-m', repr(m * 100), '-r', repr(a * 100)]
    args += ['-p'] if kind == 'bravo' else ['-n']
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return int(re.search(r'Sample size = (\d+)', out).group(1))
bad = 0
print(f"{'method':<11}{'margin':>8}{'risk':>7}{'rlacalc':>10}{'scrutineer':>12}")
for (kind, m, a), n in sorted(ours.items()):
    p = peer(kind, m, a)
    flag = '' if p == n else '  MISMATCH'
    bad += p != n
    print(f"{kind:<11}{m:>8}{a:>7}{p:>10}{n:>12}{flag}")
# Reference figures (1,000,000 ballots, 10% risk limit) from ../shared/notes/rla-peers.md.
ref = {('bravo', 0.2): 119, ('bravo', 0.1): 470, ('bravo', 0.05): 1861, ('bravo', 0.02): 11562,
       ('bravo', 0.01): 46151, ('comparison', 0.2): 24, ('comparison', 0.1): 48, ('comparison', 0.05): 96,
       ('comparison', 0.02): 240, ('comparison', 0.01): 479}
for (kind, m), want in ref.items():
    got = ours[(kind, m, 0.1)]
    if got != want:
        bad += 1
        print(f"REFERENCE MISMATCH {kind} margin {m}: ours {got}, notes {want}")
total = len(ours)
print(f"rlacalc agreement: {total - min(bad, total)} of {total} grid points; reference figures checked: {len(ref)}")
sys.exit(1 if bad else 0)
PY
