# Sourced by the server benchmarks (bench-server.sh, bench-server-api.sh): a scratch folder
# WORK, removed on exit with the server stopped; a store of findings at the size asked
# for, and a server on loopback. Expects BIN (the scrutineer executable); sets STORE,
# TOKEN (an admin API token), base (findings the demo wrote), SERVER_PID and ADDR.

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# fill_store FINDINGS: the demo's store at scale 0.2, its findings copied under new ids
# (plain SQL, as fast as SQLite inserts) up to FINDINGS.
fill_store() {
  local findings="$1"
  STORE="$WORK/store.db"
  "$BIN" --store "$STORE" --quiet demo --scale 0.2 --dir "$WORK/demo" >/dev/null
  TOKEN="$("$BIN" --store "$STORE" --quiet tokens add bench --role admin)"
  base=$(sqlite3 "$STORE" "SELECT COUNT(*) FROM findings")
  local copies=$(( (findings - base + base - 1) / base ))
  if [ "$findings" -gt "$base" ]; then
    sqlite3 -batch -bail "$STORE" <<SQL
.timeout 10000
BEGIN;
WITH RECURSIVE copy(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM copy WHERE i < $copies)
INSERT INTO findings (id, run_id, engine, kind, title, summary, severity, severity_rank, confidence,
                      span_start, span_end, scope, techniques, evidence, recorded_at)
SELECT f.id || '-copy' || copy.i, f.run_id, f.engine, f.kind, f.title || ' (copy ' || copy.i || ')',
       f.summary, f.severity, f.severity_rank, f.confidence, f.span_start, f.span_end, f.scope,
       f.techniques, f.evidence, f.recorded_at
FROM copy CROSS JOIN (SELECT * FROM findings ORDER BY id) AS f
LIMIT $((findings - base));
COMMIT;
SQL
  fi
}

# start_server NAME TRIES: `serve` on a free loopback port, waited for up to TRIES tenths
# of a second; NAME labels the error when it does not start.
start_server() {
  local name="$1" tries="$2"
  "$BIN" --store "$STORE" --quiet serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER_PID=$!
  for _ in $(seq 1 "$tries"); do
    grep -q '^listening on' "$WORK/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  ADDR="$(sed -n 's|^listening on http://||p' "$WORK/serve.out")"
  [ -n "$ADDR" ] || { echo "$name: the server did not start:" >&2; cat "$WORK/serve.err" >&2; exit 1; }
}
