#!/usr/bin/env bash
# Peak memory of each engine's reader on an input holding one 200 MB line among ordinary
# ones, and what the skip report echoes of it. Prints, per engine: the exit status, the
# peak resident set (KB), the bytes written to stderr and to the malformed-row list.
#   scripts/bench-long-line.sh                      # target/release/scrutineer
#   SCRUTINEER_BIN=path/to/scrutineer LINE_MB=200 scripts/bench-long-line.sh
# With the default --max-line-bytes (16M) no reader holds the line: peak memory stays
# within a few tens of MB of the same input without it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${SCRUTINEER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/scrutineer}"
MB="${LINE_MB:-200}"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p scrutineer (or set SCRUTINEER_BIN)" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

long() { head -c "$((MB << 20))" /dev/zero | tr '\0' "$1"; }

# influence: an IRA CSV, the long line in the middle (auto format).
{
  echo "author_id,content,region,language,publish_date,harvested_date,following,followers,updates,post_type,retweet"
  for i in $(seq 1 500); do echo "acct$((i % 40)),post $i,United States,English,2016-10-05 20:00:00,2016-10-05 20:00:00,1,1,1,,0"; done
  printf 'acct1,'; long Z; echo ",United States,English,2016-10-05 20:00:00,x,1,1,1,,0"
  for i in $(seq 501 1000); do echo "acct$((i % 40)),post $i,United States,English,2016-10-05 20:00:00,2016-10-05 20:00:00,1,1,1,,0"; done
} > "$WORK/posts.csv"

# influence: Twitter v1.1 JSON lines, the long line a text field.
{
  for i in $(seq 1 500); do echo "{\"id_str\":\"$i\",\"created_at\":\"Wed Oct 05 20:00:00 +0000 2016\",\"text\":\"post $i\",\"user\":{\"id_str\":\"u$((i % 40))\"}}"; done
  printf '{"id_str":"0","created_at":"Wed Oct 05 20:00:00 +0000 2016","text":"'; long Z; echo '","user":{"id_str":"u1"}}'
  for i in $(seq 501 1000); do echo "{\"id_str\":\"$i\",\"created_at\":\"Wed Oct 05 20:00:00 +0000 2016\",\"text\":\"post $i\",\"user\":{\"id_str\":\"u$((i % 40))\"}}"; done
} > "$WORK/tweets.jsonl"

# ballots: the long value is a voter status on the roll.
{
  echo "voter_id,status,precinct,ballot_style,address"
  for i in $(seq 1 1000); do echo "V$i,active,P$((i % 5)),S1,$i Main St 27601"; done
  printf 'HUGE,'; long X; echo ",P1,S1,1 Main St 27601"
} > "$WORK/roll.csv"
{
  echo "envelope_id,voter_id,ballot_style,issue_date,address"
  for i in $(seq 1 1000); do echo "E$i,V$i,S1,2020-10-01,$i Main St 27601"; done
} > "$WORK/issued.csv"
{
  echo "envelope_id,returned_at,channel,outcome,reason"
  for i in $(seq 1 2 1000); do echo "E$i,2020-10-20T10:00:00,mail,accepted,"; done
} > "$WORK/returns.csv"

# infra: an access log.
{
  for i in $(seq 1 1000); do echo "10.0.0.$((i % 250)) - - [17/May/2015:10:05:03 +0000] \"GET /p$i HTTP/1.1\" 200 5"; done
  long A; echo
  for i in $(seq 1 1000); do echo "10.0.0.$((i % 250)) - - [17/May/2015:10:05:03 +0000] \"GET /q$i HTTP/1.1\" 200 5"; done
} > "$WORK/access.log"

measure() { # name, malformed list (or -), command...
  local name="$1" listed="$2"; shift 2
  local status=0
  /usr/bin/time -f "%M" -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/stderr" || status=$?
  local rss; rss="$(tail -1 "$WORK/rss")"
  local err; err="$(wc -c < "$WORK/stderr")"
  local listed_bytes="-"
  [ "$listed" != "-" ] && [ -f "$listed" ] && listed_bytes="$(wc -c < "$listed")"
  printf '%-14s exit %-3s peak RSS %8s KB   stderr %10s bytes   malformed list %10s bytes\n' \
    "$name" "$status" "$rss" "$err" "$listed_bytes"
}

echo "one line of $MB MB; $BIN"
measure influence - "$BIN" --store "$WORK/s.db" influence scan "$WORK/posts.csv"
measure influence-json - "$BIN" --store "$WORK/s.db" influence scan "$WORK/tweets.jsonl"
measure ballots "$WORK/b/malformed.csv" "$BIN" --store "$WORK/s.db" ballots reconcile --no-ledger \
  --roll "$WORK/roll.csv" --issued "$WORK/issued.csv" --returns "$WORK/returns.csv" \
  --deadline 2020-11-03T19:30:00 --out "$WORK/b"
measure infra "$WORK/i/malformed.csv" "$BIN" --store "$WORK/s.db" infra scan --no-store --out "$WORK/i" "$WORK/access.log"
