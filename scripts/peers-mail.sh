#!/usr/bin/env bash
# DKIM verdicts against dkimpy's (PyPI `dkimpy`, the library behind `dkimverify`) on the
# same messages with the same keys: the real signed mail and published test vectors under
# ../shared/data/mail, messages signed here with dkimpy and with OpenDKIM's
# opendkim-testmsg (Debian's opendkim-tools) in every canonicalisation, algorithm and l=
# setting, and altered copies of each (a body word, an appended line, whitespace, a
# changed or added Subject, reordered headers, LF line ends). dkimpy is given the keys
# through its dnsfunc argument, as `dkimverify` would get them from DNS.
# A signature "passes" for Scrutineer when its verdict is authentic or
# unsigned_header_changed (the signature verifies either way). Exits non-zero on any
# difference that is not one of the kinds explained in crates/mail/README.md.
set -euo pipefail
ROOT="$(git rev-parse --show-toplevel)"
DATA="$ROOT/../shared/data/mail"
VENV="$ROOT/target/mail-peers-venv"
WORK="$ROOT/target/peers-mail"
if [[ ! -x "$VENV/bin/dkimverify" ]]; then
  python3 -m venv "$VENV" || { apt-get update && apt-get install -y python3-venv && python3 -m venv "$VENV"; }
  "$VENV/bin/pip" install --quiet dkimpy pynacl
fi
if ! command -v opendkim-testmsg >/dev/null 2>&1 && [[ ! -x /usr/sbin/opendkim-testmsg ]]; then
  apt-get update -qq && apt-get install -y -qq opendkim-tools >/dev/null
fi
export PATH="$PATH:/usr/sbin"
BIN="${SCRUTINEER_BIN:-$ROOT/target/release/scrutineer}"
[[ -x "$BIN" ]] || { cargo build --quiet --release -p scrutineer; BIN="$ROOT/target/release/scrutineer"; }

rm -rf "$WORK"
"$VENV/bin/python" "$ROOT/scripts/mail_peer.py" corpus "$WORK" "$DATA"
"$VENV/bin/python" "$ROOT/scripts/mail_peer.py" verify "$WORK"
"$BIN" --quiet mail verify "$WORK/msgs" --keys "$WORK/keys.csv" --out "$WORK/out" --no-ledger --no-store >/dev/null
"$VENV/bin/python" "$ROOT/scripts/mail_peer.py" compare "$WORK" "$WORK/out/verdicts.csv" | grep -v '^explained ' 
