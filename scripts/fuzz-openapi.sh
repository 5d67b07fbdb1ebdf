#!/usr/bin/env bash
# Fuzzes `scrutineer serve` through its own OpenAPI 3.1 document with schemathesis
# (PyPI, installed into a venv under target/): every documented operation, with an
# admin's token, FUZZ_OPENAPI_EXAMPLES generated requests each (30 by default); fails
# on any 5xx answer. The live stream (/api/events) never ends, so it is left out of the
# generated requests and probed here instead: it must answer 200 with its media type and
# the hello event, and refuse a bad Last-Event-ID without failing.
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
cd "$root"
bin="${SCRUTINEER_BIN:-$root/target/release/scrutineer}"
if [ -z "${SCRUTINEER_BIN:-}" ]; then
  cargo build --release -p scrutineer --quiet
fi
venv="$root/target/venv-schemathesis"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis
fi
work="$root/target/fuzz-openapi"
rm -rf "$work"; mkdir -p "$work"
# A directory of its own each run: the demo's ledger key remembers the paths it signed for.
run=$(mktemp -d "$work/run.XXXXXX")
"$bin" --quiet --store "$run/s.db" demo --scale 0.1 --dir "$run/demo" > /dev/null
token=$("$bin" --quiet --store "$run/s.db" tokens add fuzz --role admin)
"$bin" --store "$run/s.db" serve --listen 127.0.0.1:0 > "$run/serve.out" 2> "$run/serve.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$run/serve.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's|^listening on http://||p' "$run/serve.out" | head -n 1)
[ -n "$addr" ] || { cat "$run/serve.err" >&2; echo "FAIL: the server did not start" >&2; exit 1; }
curl -sS -f -H "Authorization: Bearer $token" "http://$addr/api/openapi.json" > "$work/openapi.json"
events=$(curl -sS -N --max-time 3 -H "Authorization: Bearer $token" -H "Last-Event-ID: x'<>" \
  -D "$work/events.headers" "http://$addr/api/events" 2>/dev/null || true)
grep -qi '^content-type: text/event-stream' "$work/events.headers" && grep -q '^event: hello' <<< "$events" \
  || { echo "FAIL: /api/events did not stream its hello event"; cat "$work/events.headers"; exit 1; }
echo "OK: /api/events streams (probed apart from the generated requests)"
# From the work directory: schemathesis keeps a cache in the directory it runs in.
cd "$work"
if "$venv/bin/schemathesis" run "$work/openapi.json" --url "http://$addr" -H "Authorization: Bearer $token" \
    -c not_a_server_error -n "${FUZZ_OPENAPI_EXAMPLES:-30}" --workers 2 --exclude-path /api/events > "$work/report.txt" 2>&1; then
  grep -E "generated|Tested:" "$work/report.txt" || true
  echo "OK: no 5xx answer to any generated request"
else
  tail -n 60 "$work/report.txt"
  echo "FAIL: schemathesis found 5xx answers (report in $work/report.txt)"
  exit 1
fi
