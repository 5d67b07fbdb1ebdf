#!/usr/bin/env bash
# Fuzz every target of every fuzz crate (crates/*/fuzz) for a bounded time each.
#   FUZZ_SECONDS=15 scripts/fuzz.sh            # every crate
#   FUZZ_SECONDS=15 scripts/fuzz.sh infra ballots   # only these crates
# A target fails when libFuzzer exits non-zero, leaves any artefact (crash-, oom-,
# timeout-, leak-, slow-unit- or any other file), or never executed an input (a run
# that did not start). Each target prints its executed-input count.
#
# The toolchain is stable; cargo-fuzz needs nightly-only flags (-Zsanitizer), which
# RUSTC_BOOTSTRAP=1 unlocks on a stable compiler. cargo-fuzz is installed if missing.
# A single allocation may pass the 2 GiB resident limit by a little: the zstd reader
# accepts the 2 GiB window of `zstd --long=31` (crates/core/src/input.rs) and reserves it
# as address space when a frame declares it; resident memory stays bounded by 2 GiB.
# All fuzz crates build into one target directory, so the engines' shared dependencies
# are compiled once.
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
secs="${FUZZ_SECONDS:-15}"
max_len="${FUZZ_MAX_LEN:-4096}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1
target_dir="$root/target/fuzz"
work="$root/target/fuzz-runs"
mkdir -p "$work"

crates=()
for dir in "$root"/crates/*/fuzz; do
  [ -f "$dir/Cargo.toml" ] || continue
  crate="$(basename "$(dirname "$dir")")"
  if [ "$#" -gt 0 ]; then
    wanted=0
    for c in "$@"; do [ "$c" = "$crate" ] && wanted=1; done
    [ "$wanted" = 1 ] || continue
  fi
  crates+=("$crate")
done
if [ "${#crates[@]}" -eq 0 ]; then
  echo "FAIL: no fuzz crate matched (${*:-crates/*/fuzz})" >&2
  exit 1
fi

failed=0
ran=0
for crate in "${crates[@]}"; do
  dir="$root/crates/$crate/fuzz"
  echo "== $crate: building the fuzz targets"
  (cd "$dir" && cargo fuzz build -O --target-dir "$target_dir")
  mapfile -t targets < <(cd "$dir" && cargo fuzz list)
  if [ "${#targets[@]}" -eq 0 ]; then
    echo "FAIL: $crate: crates/$crate/fuzz has no targets" >&2
    failed=1
    continue
  fi
  for t in "${targets[@]}"; do
    corpus="$work/corpus/$crate/$t"
    artifacts="$dir/artifacts/$t"
    log="$work/$crate-$t.log"
    mkdir -p "$corpus"
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    status=0
    (cd "$dir" && cargo fuzz run -O --target-dir "$target_dir" "$t" "$corpus" -- \
      -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2304 \
      -print_final_stats=1) >"$log" 2>&1 || status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)"
    execs="${execs:-0}"
    found="$(find "$artifacts" -type f | wc -l)"
    ran=$((ran + 1))
    if [ "$status" -ne 0 ] || [ "$found" -ne 0 ] || [ "$execs" -eq 0 ]; then
      failed=1
      echo "FAIL: $crate/$t: exit status $status, $found artefact(s), $execs inputs executed (log: $log)" >&2
      find "$artifacts" -type f | sed 's/^/  artefact: /' >&2
      grep -E 'ERROR|panicked|SUMMARY|Killed|deadly signal' "$log" | head -20 | sed 's/^/  /' >&2 || true
    else
      echo "ok: $crate/$t: $execs inputs in ${secs}s, no artefact"
    fi
  done
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: FAIL" >&2
  exit 1
fi
echo "fuzz: OK: $ran targets in ${#crates[@]} crates, ${secs}s each, none crashed, leaked, timed out or ran out of memory"
