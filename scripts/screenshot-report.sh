#!/usr/bin/env bash
# Regenerates docs/report.png, the README's picture of the demo's HTML report: runs the
# demo into a temporary directory and photographs the report in headless Chromium.
set -euo pipefail
root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
bash "$root/scripts/setup.sh" >/dev/null
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p scrutineer
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$root/target/release/scrutineer" --quiet --store "$work/store.db" demo --dir "$work/demo" >/dev/null
chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
  --user-data-dir="$work/profile" --window-size=1100,2500 \
  --screenshot="$root/docs/report.png" "file://$work/demo/report.html" 2>/dev/null
echo "wrote $root/docs/report.png"
