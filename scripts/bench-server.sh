#!/usr/bin/env bash
# Load and starvation benchmark for `scrutineer serve` (issue 16, item 10 and "what it
# must show" 4): while several dashboard clients hammer `/` on a store of a million
# findings, `/healthz` must keep answering, p99 under 10 ms.
#
# The store: `scrutineer demo` (real runs, summaries and findings of every engine), then
# copies of its findings under new ids, inserted with plain SQL until the store holds
# BENCH_SERVER_FINDINGS findings, so that every row has a real finding's shape.
#
#   BENCH_SERVER_FINDINGS  findings in the store (default 1000000)
#   BENCH_SERVER_CLIENTS   dashboard clients (default 3)
#   BENCH_SERVER_SECONDS   how long they hammer once the page is cached (default 20)
#   BENCH_SERVER_P99_MS    the /healthz p99 gate in ms (default 10)
#   SCRUTINEER_BIN         the binary to measure (default: target/release/scrutineer, built)
#
# Prints the store's size and build time, then /healthz p50/p95/p99 while the clients
# wait for the first render (a store change), while they get the cached page, and over
# the whole run; exits 1 if the whole run's p99 is over the gate or any request failed.
# `uptime` is printed too: on a shared machine the figures depend on what else runs.
set -euo pipefail
cd "$(dirname "$0")/.."

FINDINGS="${BENCH_SERVER_FINDINGS:-1000000}"
CLIENTS="${BENCH_SERVER_CLIENTS:-3}"
DURATION="${BENCH_SERVER_SECONDS:-20}"
P99_MS="${BENCH_SERVER_P99_MS:-10}"
if [ -z "${SCRUTINEER_BIN:-}" ]; then
  cargo build --release -q -p scrutineer
  SCRUTINEER_BIN=target/release/scrutineer
fi
BIN="$(realpath "$SCRUTINEER_BIN")"
if ! command -v sqlite3 >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq sqlite3) >/dev/null
fi
command -v python3 >/dev/null || { echo "bench-server: python3 is needed" >&2; exit 1; }

# shellcheck source=scripts/bench_server_common.sh
. scripts/bench_server_common.sh

started=$(date +%s.%N)
fill_store "$FINDINGS"
total=$(sqlite3 "$STORE" "SELECT COUNT(*) FROM findings")
built=$(date +%s.%N)
printf 'store:                 %s findings (%s from the demo), %.0f MB, built in %.1f s\n' \
  "$total" "$base" "$(du -cm "$STORE"* | tail -1 | cut -f1)" "$(awk -v a="$started" -v b="$built" 'BEGIN { print b - a }')"

echo "machine:               $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start_server bench-server 100

set +e
python3 scripts/bench_server_load.py "$ADDR" "$TOKEN" "$CLIENTS" "$DURATION" | tee "$WORK/load.txt"
load_status=${PIPESTATUS[0]}
set -e
p99=$(sed -n 's/^\/healthz ms, whole run: .* p99 *\([0-9.]*\).*/\1/p' "$WORK/load.txt")
if [ "$load_status" -ne 0 ] || [ -z "$p99" ]; then
  echo "bench-server: FAIL: requests failed or no page was served"; exit 1
fi
if awk -v p="$p99" -v gate="$P99_MS" 'BEGIN { exit !(p < gate) }'; then
  echo "bench-server: /healthz p99 ${p99} ms < ${P99_MS} ms: OK"
else
  echo "bench-server: FAIL: /healthz p99 ${p99} ms is not under ${P99_MS} ms"; exit 1
fi
