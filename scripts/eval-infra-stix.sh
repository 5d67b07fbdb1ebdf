#!/usr/bin/env bash
# Scan real scanner logs as three offices, export the findings as a STIX 2.1 bundle,
# and validate it against the STIX 2.1 JSON schemas with OASIS's stix2-validator
# (installed from PyPI into a venv under target/). Fails if the bundle is invalid.
#
# The printed figures are gated against those measured on these three logs: findings
# exported 7; objects per type attack-pattern 8, campaign 1, indicator 4, relationship
# 29, sighting 6, each within 10% (at least 1) of that; exactly one identity and one
# report; and every exported indicator comes back from `infra import`.
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
data="$root/../shared/data/infra/apache-http-logs-scans"
for f in acunetix.txt netsparker.txt w3af.txt; do
  [ -f "$data/$f" ] || { echo "eval-infra-stix: missing data file $data/$f" >&2; exit 2; }
done
cd "$root"
cargo build --release -p scrutineer --quiet
bin="$root/target/release/scrutineer"
work="$root/target/eval-infra-stix"
rm -rf "$work"; mkdir -p "$work"
venv="$root/target/venv-stix"
if [ ! -x "$venv/bin/stix2_validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet stix2-validator
fi
"$bin" --quiet --store "$work/s.db" infra scan "$data/acunetix.txt" "$data/netsparker.txt" "$data/w3af.txt" \
  --jurisdiction office-a --jurisdiction office-b --jurisdiction office-c --out "$work/scan" > "$work/scan.txt"
"$bin" --quiet --store "$work/s.db" infra export --identity "Office A Elections" --stix "$work/bundle.json" \
  | tee "$work/export.txt"
python3 - "$work/bundle.json" "$work/export.txt" <<'PY'
import json, re, sys, collections
b = json.load(open(sys.argv[1]))
c = collections.Counter(o["type"] for o in b["objects"])
print("bundle:", ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
m = re.match(r"(\d+) findings -> (\d+) STIX", open(sys.argv[2]).read())
if not m:
    sys.exit("FAIL: `infra export` printed no '<n> findings -> <m> STIX 2.1 objects' line")
findings, objects = int(m[1]), int(m[2])
expected = {"attack-pattern": 8, "campaign": 1, "indicator": 4, "relationship": 29, "sighting": 6}
bad = []
def near(name, got, want):
    if abs(got - want) > max(1, round(0.1 * want)):
        bad.append(f"{name} {got} (measured {want})")
near("findings", findings, 7)
for t, want in expected.items():
    near(t, c.get(t, 0), want)
for t in ("identity", "report"):
    if c.get(t, 0) != 1:
        bad.append(f"{t} {c.get(t, 0)} (expected exactly 1)")
if objects != sum(c.values()):
    bad.append(f"export said {objects} objects, the bundle holds {sum(c.values())}")
unknown = sorted(set(c) - set(expected) - {"identity", "report"})
if unknown:
    bad.append("object types never exported before: " + ", ".join(unknown))
if bad:
    sys.exit("FAIL: " + "; ".join(bad))
print(f"OK: {findings} findings, object counts within 10% (at least 1) of the measured ones")
PY
"$venv/bin/stix2_validator" --version 2>/dev/null || true
if "$venv/bin/stix2_validator" --strict-types "$work/bundle.json" > "$work/validate.txt" 2>&1; then
  grep -E "^\[[A-Z]" "$work/validate.txt" | head -n 5 || true
  echo "OK: STIX 2.1 bundle validates ($work/bundle.json)"
else
  cat "$work/validate.txt" | head -n 40
  echo "FAIL: the STIX bundle does not validate"
  exit 1
fi
"$bin" --quiet infra import "$work/bundle.json" --out "$work/indicators.csv" > /dev/null
reimported=$(($(wc -l < "$work/indicators.csv") - 1))
exported=$(python3 -c 'import json, sys; print(sum(o["type"] == "indicator" for o in json.load(open(sys.argv[1]))["objects"]))' "$work/bundle.json")
echo "re-imported $reimported indicators"
if [ "$reimported" -ne "$exported" ]; then
  echo "FAIL: the bundle holds $exported indicators, \`infra import\` read back $reimported"
  exit 1
fi
