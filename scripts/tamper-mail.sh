#!/usr/bin/env bash
# Tampering: authentic signed messages (the Podesta message with its archived Gmail key,
# and messages signed here with dkimpy under a key the archive dates 2019-06..2021-06) and
# every alteration of each: a body word changed, a signed header changed (Subject, From),
# a Subject added above the signed one, headers reordered, the signature stripped, the
# Date changed (and, re-signed, moved outside the key's window), forged variants with the
# same Message-ID (signed or not). Checks that each alteration gets its verdict (100%
# named), that no intact message is flagged and no altered one passes as authentic, that
# every forged variant is grouped with the message that verifies, and that the dump read
# as one gzip-compressed mbox gives the same verdicts as read as a directory of .eml files.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
DATA="$ROOT/../shared/data/mail"
VENV="$ROOT/target/mail-peers-venv"
WORK="$ROOT/target/tamper-mail"
if [[ ! -x "$VENV/bin/dkimverify" ]]; then
  python3 -m venv "$VENV" || { apt-get update && apt-get install -y python3-venv && python3 -m venv "$VENV"; }
  "$VENV/bin/pip" install --quiet dkimpy pynacl
fi
BIN="${SCRUTINEER_BIN:-$ROOT/target/release/scrutineer}"
[[ -x "$BIN" ]] || { cargo build --quiet --release -p scrutineer; BIN="$ROOT/target/release/scrutineer"; }

rm -rf "$WORK"
"$VENV/bin/python" "$ROOT/scripts/tamper_mail.py" build "$WORK" "$DATA"
"$BIN" --quiet mail verify "$WORK/dump" --keys "$WORK/keys.csv" --out "$WORK/out" --no-ledger --no-store >/dev/null
"$BIN" --quiet mail verify "$WORK/dump.mbox.gz" --keys "$WORK/keys.csv" --out "$WORK/out-mbox" --no-ledger --no-store >/dev/null
status=0
"$VENV/bin/python" "$ROOT/scripts/tamper_mail.py" same "$WORK/out/verdicts.csv" "$WORK/out-mbox/verdicts.csv" || status=1
"$VENV/bin/python" "$ROOT/scripts/tamper_mail.py" check "$WORK" "$WORK/out/verdicts.csv" "$WORK/out/summary.json" || status=1
exit $status
