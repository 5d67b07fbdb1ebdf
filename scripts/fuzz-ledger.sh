#!/usr/bin/env bash
# Fuzz the ledger file reader (frames, the verifier, witness checks) for a bounded time.
#   FUZZ_SECONDS=20 scripts/fuzz-ledger.sh
# Fails if cargo-fuzz fails, if it leaves any crash-, oom-, timeout- or leak- artefact, or
# if it executed no input at all. The toolchain is stable; cargo-fuzz needs nightly-only
# flags (-Zsanitizer), which RUSTC_BOOTSTRAP=1 unlocks on a stable compiler.
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
secs="${FUZZ_SECONDS:-20}"
target=read_ledger
cd "$root/crates/ledger/fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1
work="$root/target/fuzz-ledger"
corpus="$work/corpus/$target"
artifacts="$work/artifacts/$target"
mkdir -p "$corpus"
rm -rf "$artifacts"
mkdir -p "$artifacts"
# Seeds: well-formed ledgers of a few entries (mode byte 0 = the file as given), so that
# the fuzzer starts past the magic and the framing.
python3 - "$corpus" <<'PY'
import struct, sys, zlib
def frame(i, d):
    h = struct.pack("<QI", i, len(d))
    return h + struct.pack("<I", zlib.crc32(h + d) & 0xFFFFFFFF) + d
for n in (0, 1, 3, 8):
    body = b"SCRLEDG1" + b"".join(frame(i, b"record %d" % i) for i in range(n))
    for mode in (0, 6):
        open("%s/seed-%d-%d" % (sys.argv[1], n, mode), "wb").write(bytes([mode]) + body)
PY
cargo fuzz build -O "$target"
log="$work/$target.log"
echo "fuzzing $target for ${secs}s"
status=0
cargo fuzz run -O "$target" "$corpus" -- \
  -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs' "$log" || true
if [ "$status" -ne 0 ]; then
  tail -40 "$log" >&2
  echo "FAIL: cargo fuzz exited with status $status (log: $log)" >&2
  exit "$status"
fi
found="$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | head -5)"
if [ -n "$found" ]; then
  echo "FAIL: $target left artefacts:" >&2
  echo "$found" >&2
  exit 1
fi
runs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)"
if [ -z "$runs" ] || [ "$runs" -eq 0 ]; then
  echo "FAIL: $target executed no input (see $log)" >&2
  exit 1
fi
echo "OK: $target ran $runs inputs in ${secs}s without a crash"
