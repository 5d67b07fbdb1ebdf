#!/usr/bin/env bash
# Fuzz every infra reader (plus the detectors behind it) for a bounded time each.
#   FUZZ_SECONDS=20 scripts/fuzz-infra.sh
# The toolchain is stable; cargo-fuzz needs nightly-only flags (-Zsanitizer), which
# RUSTC_BOOTSTRAP=1 unlocks on a stable compiler. cargo-fuzz is installed if missing.
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
secs="${FUZZ_SECONDS:-20}"
cd "$root/crates/infra/fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1
targets=(read_combined read_nginx_json read_iis read_eve read_auth read_http)
cargo fuzz build -O
for t in "${targets[@]}"; do
  corpus="$root/target/fuzz-infra/corpus/$t"
  mkdir -p "$corpus"
  echo "fuzzing $t for ${secs}s"
  cargo fuzz run -O "$t" "$corpus" -- -max_total_time="$secs" -max_len=4096 -print_final_stats=1 2>&1 \
    | grep -E 'stat::number_of_executed_units|Done|ERROR|panicked' || true
  # A crash leaves an artifact and a non-zero exit; rerun the check explicitly.
  if ls "$root/crates/infra/fuzz/artifacts/$t"/crash-* >/dev/null 2>&1; then
    echo "FAIL: $t crashed; see crates/infra/fuzz/artifacts/$t" >&2
    exit 1
  fi
done
echo "OK: no reader crashed in ${secs}s each"
