#!/usr/bin/env bash
# Load benchmark of `scrutineer serve`'s read APIs (issue 20, "what it must show" 4):
# with BENCH_API_FINDINGS findings in the store, `/api/findings` with filters and the
# TAXII objects of a collection, each under BENCH_API_CONNECTIONS concurrent keep-alive
# connections (wrk) for BENCH_API_SECONDS on loopback.
#
# The store: `scrutineer demo` (real findings of every engine), then copies of its
# findings under new ids (plain SQL, as in bench-server.sh) up to BENCH_API_FINDINGS,
# and a triage status on a share of them (every 5th acknowledged, 7th investigating,
# 11th escalated, 13th false_positive, 17th resolved; the rest `new`).
#
# What the clients ask for, round-robin over a list of URLs built before the run by
# following the server's own cursors:
# - /api/findings: per engine, per status and per severity floor, with a search `q`
#   within an engine and with page sizes of 50 and 200, the first pages and the pages
#   after them (`after=` the last id of the page before, as `x-next-after` gives it);
#   `q` walks the listing order until the page is full, so a rare text costs in
#   proportion to the findings it walks past (see the server's README);
# - /taxii2/api/collections/{infra,influence}/objects/: limit=100 pages, the first and
#   those after it by `added_after` (the `x-taxii-date-added-last` of the page before).
#
#   BENCH_API_FINDINGS     findings in the store (default 1000000)
#   BENCH_API_SECONDS      seconds of load per endpoint group (default 30)
#   BENCH_API_CONNECTIONS  concurrent connections (default 200)
#   BENCH_API_MAX_P99_MS   the p99 gate in ms, per group (default 50)
#   BENCH_API_SLOWEST      how many of the slowest URLs to print, timed one by one before
#                          the load (default 3)
#   SCRUTINEER_BIN         the binary to measure (default: target/release/scrutineer, built)
#   BENCH_API_STORE        a store filled by an earlier run (e.g. kept with
#                          BENCH_API_KEEP_STORE), copied instead of filled: a million
#                          findings take minutes to fill; the copy is what is served
#   BENCH_API_KEEP_STORE   copy the filled store (before the server opens it) to this path
#
# Prints per group: requests, requests/s, p50/p90/p99/max latency, non-2xx answers and
# socket errors (connect, read, write, timeout); exits 1 if any request failed or a
# group's p99 is over the gate. `uptime` is printed too: on a shared machine the figures
# depend on what else runs.
set -euo pipefail
cd "$(dirname "$0")/.."

FINDINGS="${BENCH_API_FINDINGS:-1000000}"
DURATION="${BENCH_API_SECONDS:-30}"
CONNECTIONS="${BENCH_API_CONNECTIONS:-200}"
MAX_P99_MS="${BENCH_API_MAX_P99_MS:-50}"
if [ -z "${SCRUTINEER_BIN:-}" ]; then
  cargo build --release -q -p scrutineer
  SCRUTINEER_BIN=target/release/scrutineer
fi
BIN="$(realpath "$SCRUTINEER_BIN")"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
if [ "${#missing[@]}" -gt 0 ]; then
  (apt-get update -qq && apt-get install -y -qq "${missing[@]}") >/dev/null
fi

# shellcheck source=scripts/bench_server_common.sh
. scripts/bench_server_common.sh

started=$(date +%s.%N)
if [ -n "${BENCH_API_STORE:-}" ]; then
  STORE="$WORK/store.db"
  cp "$BENCH_API_STORE" "$STORE"
  TOKEN="$("$BIN" --store "$STORE" --quiet tokens add bench --role admin)"
  base="(copied)"
else
  fill_store "$FINDINGS"
  sqlite3 -batch -bail "$STORE" <<'SQL'
.timeout 10000
BEGIN;
INSERT OR REPLACE INTO triage (finding_id, status, assignee, tlp, updated_at, updated_by)
SELECT id, CASE WHEN rowid % 17 = 0 THEN 'resolved' WHEN rowid % 13 = 0 THEN 'false_positive'
                WHEN rowid % 11 = 0 THEN 'escalated' WHEN rowid % 7 = 0 THEN 'investigating'
                ELSE 'acknowledged' END,
       'bench', NULL, '2026-11-01T00:00:00+00:00', 'bench'
FROM findings
WHERE rowid % 5 = 0 OR rowid % 7 = 0 OR rowid % 11 = 0 OR rowid % 13 = 0 OR rowid % 17 = 0;
COMMIT;
SQL
  if [ -n "${BENCH_API_KEEP_STORE:-}" ]; then
    sqlite3 "$STORE" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    cp "$STORE" "$BENCH_API_KEEP_STORE"
  fi
fi
total=$(sqlite3 "$STORE" "SELECT COUNT(*) FROM findings")
per_engine=$(sqlite3 "$STORE" "SELECT group_concat(engine || ' ' || n, ', ') FROM (SELECT engine, COUNT(*) AS n FROM findings GROUP BY engine)")
triaged=$(sqlite3 "$STORE" "SELECT COUNT(*) FROM triage")
built=$(date +%s.%N)
printf 'store:       %s findings (%s from the demo; %s), %s triaged, %.0f MB, built in %.1f s\n' \
  "$total" "$base" "$per_engine" "$triaged" "$(du -cm "$STORE"* | tail -1 | cut -f1)" \
  "$(awk -v a="$started" -v b="$built" 'BEGIN { print b - a }')"

start_server bench-server-api 300
BASE="http://$ADDR"

# GET a path with the token; the headers go to $WORK/h, the body to stdout. Any answer
# but 200 fails the script here, before the load.
get() {
  local code took
  read -r code took < <(curl -sS -o "$WORK/body" -D "$WORK/h" -w '%{http_code} %{time_total}\n' \
    -H "Authorization: Bearer $TOKEN" "$BASE$1")
  echo "$took $1" >>"$WORK/timed"
  if [ "$code" != 200 ]; then
    echo "bench-server-api: FAIL: GET $1 answered $code: $(head -c 300 "$WORK/body")" >&2
    exit 1
  fi
  cat "$WORK/body"
}
header() { sed -n "s/^$1: *//Ip" "$WORK/h" | tr -d '\r'; }

# /api/findings: a first page per filter, then up to PAGES pages after it by cursor.
PAGES=4
: >"$WORK/findings.urls"
findings_urls() {
  local url="/api/findings?$1" n=0 next
  while [ -n "$url" ] && [ "$n" -le "$PAGES" ]; do
    get "$url" >/dev/null
    echo "$url" >>"$WORK/findings.urls"
    next=$(header x-next-after)
    [ -n "$next" ] || break
    url="/api/findings?$1&after=$(jq -rn --arg v "$next" '$v|@uri')"
    n=$((n + 1))
  done
}
warm_started=$(date +%s.%N)
for engine in influence infra ballots audit hunt mail; do
  findings_urls "engine=$engine&limit=50"
done
for status in new acknowledged escalated resolved; do
  findings_urls "status=$status&limit=50"
done
findings_urls "engine=infra&status=investigating&min_severity=medium&limit=200"
findings_urls "min_severity=high&limit=200"
findings_urls "engine=infra&q=scanned&limit=50"
findings_urls "engine=ballots&q=envelope&min_severity=low&limit=50"
findings_urls "engine=influence&q=network&status=new&limit=50"

# TAXII objects: pages of 100 by the server's `next`, from the start and from the
# middle of the collection by added_after (objects of copied findings share their
# date_added, so `next` pages within a time and added_after moves past it).
: >"$WORK/taxii.urls"
taxii_urls() {
  local url="$1" n=0 next
  while [ -n "$url" ] && [ "$n" -le "$PAGES" ]; do
    get "$url" >/dev/null
    echo "$url" >>"$WORK/taxii.urls"
    next=$(jq -r '.next // empty' "$WORK/body")
    [ -n "$next" ] || break
    url="$1&next=$next"
    n=$((n + 1))
  done
}
for collection in infra influence mail; do
  taxii_urls "/taxii2/api/collections/$collection/objects/?limit=100"
  get "/taxii2/api/collections/$collection/manifest/?limit=1000" >/dev/null
  middle=$(jq -r '.objects[(length / 2 | floor)].date_added // empty' "$WORK/body")
  if [ -n "$middle" ]; then
    taxii_urls "/taxii2/api/collections/$collection/objects/?limit=100&added_after=$(jq -rn --arg v "$middle" '$v|@uri')"
  fi
done
warmed=$(date +%s.%N)
# Each URL once more, alone, now that caches are warm: the slowest ones, if any is
# much slower than the rest, are where the p99 comes from.
: >"$WORK/timed"
while read -r url; do get "$url" >/dev/null; done < <(cat "$WORK/findings.urls" "$WORK/taxii.urls")
sort -rn "$WORK/timed" >"$WORK/slowest"
head -n "${BENCH_API_SLOWEST:-3}" "$WORK/slowest" | awk '{ printf "slowest:     %.1f ms %s\n", $1 * 1000, $2 }'

printf 'urls:        %s /api/findings, %s TAXII objects, gathered (caches warmed) in %.1f s\n' \
  "$(wc -l <"$WORK/findings.urls")" "$(wc -l <"$WORK/taxii.urls")" \
  "$(awk -v a="$warm_started" -v b="$warmed" 'BEGIN { print b - a }')"

# wrk sends each URL of the list in turn (one Lua state per thread) and prints its own
# figures at the end in one parseable line.
cat >"$WORK/rotate.lua" <<'LUA'
local urls = {}
local counter = 0
function init(args)
  for line in io.lines(args[1]) do urls[#urls + 1] = line end
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  counter = math.random(#urls)
end
function request()
  counter = counter % #urls + 1
  return wrk.format("GET", urls[counter])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f p50=%.3f p90=%.3f p99=%.3f max=%.3f non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.status, e.connect, e.read, e.write, e.timeout))
end
LUA

echo "machine:     $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
run_group() {
  local name="$1" urls="$2" line requests seconds p50 p90 p99 max non2xx connect readerr writeerr timeout
  wrk -t 2 -c "$CONNECTIONS" -d "${DURATION}s" --timeout 10s -s "$WORK/rotate.lua" "$BASE/" -- "$urls" "$TOKEN" \
    >"$WORK/wrk.out" 2>&1 || { cat "$WORK/wrk.out" >&2; failed=1; return; }
  line=$(grep '^RESULT' "$WORK/wrk.out") || { cat "$WORK/wrk.out" >&2; failed=1; return; }
  eval "$(echo "${line#RESULT }" | tr ' ' '\n' | sed 's/^\(read\|write\)=/\1err=/')"
  readerr="${readerr:-0}"; writeerr="${writeerr:-0}"
  printf '%-13s %d requests in %.1f s: %.0f req/s; latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f; non-2xx %d; socket errors connect %d read %d write %d timeout %d\n' \
    "$name:" "$requests" "$seconds" "$(awk -v r="$requests" -v s="$seconds" 'BEGIN { print r / s }')" \
    "$p50" "$p90" "$p99" "$max" "$non2xx" "$connect" "$readerr" "$writeerr" "$timeout"
  if [ "$non2xx" -ne 0 ] || [ "$connect" -ne 0 ] || [ "$readerr" -ne 0 ] || [ "$writeerr" -ne 0 ] || [ "$timeout" -ne 0 ]; then
    echo "bench-server-api: FAIL: $name: requests failed"; failed=1
  fi
  if ! awk -v p="$p99" -v gate="$MAX_P99_MS" 'BEGIN { exit !(p < gate) }'; then
    echo "bench-server-api: FAIL: $name: p99 $p99 ms is not under $MAX_P99_MS ms"; failed=1
  fi
}
run_group "/api/findings" "$WORK/findings.urls"
run_group "TAXII objects" "$WORK/taxii.urls"
echo "machine:     load average after $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$failed" -ne 0 ]; then exit 1; fi
echo "bench-server-api: every request answered 2xx, p99 under $MAX_P99_MS ms: OK"
