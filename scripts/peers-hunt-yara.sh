#!/usr/bin/env bash
# Agreement of `scrutineer hunt files` (yara-x) with Debian's `yara` command (libyara)
# on the same rules and the same files: every (file, rule) match of one must be a match
# of the other. Rules: ReversingLabs' public set (274 files, 1,204 rules, ../shared).
# Files: the shared hunt data (EVTX samples, rule files, indicator files, zipped test
# inputs), the Windows binaries the evtx crate ships as samples (real PE files), and
# /usr/bin (ELF). Archives are scanned as plain files on both sides (--no-archives),
# links not followed (yara -N).
#
# Builds scrutineer with `--features yara` (debug profile, like the test step) itself;
# the time that takes is printed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="$root/../shared/data/hunt"
work="$root/target/peers-hunt-yara"
rules="$shared/yara-reversinglabs/yara"
[ -d "$rules" ] || { echo "missing $rules (see ../shared/data/README.md)" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"

if ! command -v yara >/dev/null; then
  echo "installing Debian's yara (libyara) ..."
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq yara >/dev/null
fi
echo "peer: $(yara --version 2>&1 | head -1) (libyara, Debian package $(dpkg-query -W -f='${Version}' yara 2>/dev/null || echo '?'))"

start=$SECONDS
cargo build -q -p scrutineer --features yara
echo "build with --features yara: $((SECONDS - start)) s"
bin="$root/target/debug/scrutineer"

# The evtx crate's sample Windows binaries, from the registry sources cargo fetched.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
pe_dir="$(ls -d "$cargo_home"/registry/src/*/evtx-0.15.1/samples 2>/dev/null | head -1 || true)"
[ -n "$pe_dir" ] || { echo "evtx-0.15.1 sources not found under $cargo_home/registry (cargo fetch)" >&2; exit 1; }
inputs=("$shared" "$pe_dir" /usr/bin)

# One rule file for the peer: `yara` takes one source per namespace argument, and
# scrutineer puts every file into the default namespace as well.
find "$rules" -name '*.yara' -o -name '*.yar' | sort > "$work/rule-files.txt"
echo "rules: $(wc -l < "$work/rule-files.txt") files"

start=$SECONDS
# -N: links not followed; -w: warnings off; -r: recursive. Errors (unreadable files)
# go to stderr and are counted below.
peer_rc=0
{
  for d in "${inputs[@]}"; do
    # shellcheck disable=SC2046
    yara -N -w -r -p 2 $(cat "$work/rule-files.txt") "$d" 2>>"$work/peer-errors.txt" || peer_rc=$?
  done
} | sort -u > "$work/peer.txt"
peer_s=$((SECONDS - start))
[ "$peer_rc" = 0 ] || { echo "yara failed (rc $peer_rc):"; head "$work/peer-errors.txt"; exit 1; }

start=$SECONDS
"$bin" -q hunt files "${inputs[@]}" --rules "$rules" --out "$work/out" --no-archives --no-store \
  --max-size 4G >/dev/null
ours_s=$((SECONDS - start))

python3 - "$work" "$peer_s" "$ours_s" <<'EOF'
import csv, json, sys
work, peer_s, ours_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
peer = set()
for line in open(f"{work}/peer.txt"):
    line = line.rstrip("\n")
    if not line:
        continue
    rule, path = line.split(" ", 1)
    peer.add((path, rule))
ours = set()
with open(f"{work}/out/hits.csv", newline="") as f:
    for row in csv.DictReader(f):
        if not row["rule"].startswith("ioc:"):
            ours.add((row["file"], row["rule"]))
summary = json.load(open(f"{work}/out/summary.json"))
skipped = {}
with open(f"{work}/out/skipped.csv", newline="") as f:
    for row in csv.DictReader(f):
        skipped.setdefault(row["reason"], []).append(row["file"])
peer_errors = [l for l in open(f"{work}/peer-errors.txt") if l.strip()]
both = peer & ours
only_peer = sorted(peer - ours)
only_ours = sorted(ours - peer)
rules = sorted({r for _, r in peer | ours})
print(f"files scanned by scrutineer: {summary['scanned']} ({summary['bytes']/1e6:.1f} MB); skipped: "
      + (", ".join(f"{len(v)} {k}" for k, v in sorted(skipped.items())) or "none"))
print(f"peer errors (files it could not scan): {len(peer_errors)}")
print(f"rules compiled by scrutineer: {summary['yara']['rules']} in {summary['yara']['compile_seconds']:.2f} s")
print(f"(file, rule) matches: peer {len(peer)}, scrutineer {len(ours)}, both {len(both)}; "
      f"{len(rules)} rules match anything in either")
print(f"only the peer: {len(only_peer)}, only scrutineer: {len(only_ours)}")
for p, r in only_peer[:20]:
    print(f"  only peer:       {r}  {p}")
for p, r in only_ours[:20]:
    print(f"  only scrutineer: {r}  {p}")
print(f"time: peer {peer_s} s (2 threads), scrutineer {ours_s} s (debug build, compile included)")
# Gate: no disagreement, and something to agree on.
if only_peer or only_ours:
    sys.exit("FAIL: the engines disagree on the matches above")
if len(both) < 10:
    sys.exit(f"FAIL: only {len(both)} matches to compare; the corpus no longer exercises the rules")
print("agreement: identical (file, rule) match sets")
EOF
