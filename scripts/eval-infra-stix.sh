#!/usr/bin/env bash
# Scan real scanner logs as three offices, export the findings as a STIX 2.1 bundle,
# and validate it against the STIX 2.1 JSON schemas with OASIS's stix2-validator
# (installed from PyPI into a venv under target/). Fails if the bundle is invalid.
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
"$bin" --quiet --store "$work/s.db" infra export --identity "Office A Elections" --stix "$work/bundle.json"
python3 - "$work/bundle.json" <<'PY'
import json, sys, collections
b = json.load(open(sys.argv[1]))
c = collections.Counter(o["type"] for o in b["objects"])
print("bundle:", ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
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
echo "re-imported $(($(wc -l < "$work/indicators.csv") - 1)) indicators"
