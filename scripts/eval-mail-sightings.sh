#!/usr/bin/env bash
# Who spreads a dump (`scrutineer mail sightings`), measured twice:
# 1. Real: the Podesta message with its archived Gmail key, against the IRA tweets of
#    September to November 2016, with the dump's hashtags (#PodestaEmails, numbered) and
#    its release (7 October 2016, about 20:32 UTC). The posts, accounts and first sighting
#    must equal what is counted from the file itself, and the detected networks among the
#    spreaders must each hold one of Linvill and Warren's hand-coded account categories
#    (90% of the placed spreaders or more).
# 2. Synthetic with real text: 200 messages whose bodies are real tweets of verified
#    accounts, and posts that quote 8 to 16 words of a message, its subject, its link or
#    its attachment name, near misses, and 1,000 real organic tweets: recall and
#    precision of each kind at least 0.99, and no sighting where nothing was quoted.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
DATA="$ROOT/../shared/data"
WORK="$ROOT/target/eval-mail-sightings"
BIN="${SCRUTINEER_BIN:-$ROOT/target/release/scrutineer}"
[[ -x "$BIN" ]] || { cargo build --quiet --release -p scrutineer; BIN="$ROOT/target/release/scrutineer"; }
PY="$ROOT/scripts/eval_mail_sightings.py"

rm -rf "$WORK" && mkdir -p "$WORK"
status=0
pem="$(tr -d '\n' < "$DATA/mail/podesta/20120113._domainkey.gmail.com.txt")"
printf 'name,record,first_seen,last_seen\n20120113._domainkey.gmail.com,"%s",,\n' "$pem" > "$WORK/keys.csv"
python3 "$PY" ira-expected "$DATA" "$WORK"
"$BIN" --quiet mail sightings "$DATA/mail/podesta/podesta-edgar-mitchell-2014-01-14.eml" \
  --posts "$DATA/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz" --format ira \
  --hashtag 'PodestaEmails*' --host wikileaks.org/podesta-emails --released 2016-10-07T20:32:00Z \
  --keys "$WORK/keys.csv" --out "$WORK/ira" --no-store >/dev/null
python3 "$PY" ira-check "$DATA" "$WORK" || status=1

python3 "$PY" build "$DATA" "$WORK/synthetic"
"$BIN" --quiet mail sightings "$WORK/synthetic/dump" --posts "$WORK/synthetic/posts.csv" --format ira \
  --no-networks --out "$WORK/synthetic/out" --no-store >/dev/null
python3 "$PY" check "$WORK/synthetic" || status=1
exit $status
