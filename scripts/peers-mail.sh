#!/usr/bin/env bash
# DKIM verdicts against dkimpy's (PyPI `dkimpy`, the library behind `dkimverify`) on the
# same messages with the same keys: the real signed mail and published test vectors under
# ../shared/data/mail, messages signed here with dkimpy and with OpenDKIM's
# opendkim-testmsg (Debian's opendkim-tools) in every canonicalisation, algorithm and l=
# setting, and altered copies of each (a body word, an appended line, whitespace, a
# changed or added Subject, reordered headers, LF line ends). dkimpy is given the keys
# through its dnsfunc argument, as `dkimverify` would get them from DNS. ARC chains are
# compared with dkimpy's arc_verify and the ARC test suite (scripts/mail_arc_peer.py).
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
# arc_sign needs authres; the ARC test suite is YAML.
"$VENV/bin/python" -c 'import authres, yaml' 2>/dev/null || "$VENV/bin/python" -m pip install --quiet authres pyyaml
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

# ARC chains: the ARC test suite's chain-validation scenarios (each group with its own
# keys) and real messages sealed here with dkimpy's arc_sign over one and two hops, with
# altered copies; Scrutineer's ARC row against dkimpy's arc_verify and the suite's cv.
ARC="$ROOT/target/peers-mail-arc"
rm -rf "$ARC"
"$VENV/bin/python" "$ROOT/scripts/mail_arc_peer.py" corpus "$ARC" "$DATA"
for set in "$ARC"/*/; do
  "$BIN" --quiet mail verify "$set/msgs" --keys "$set/keys.csv" --out "$set/out" --no-ledger --no-store \
    --max-unreadable 100% >/dev/null
done
"$VENV/bin/python" "$ROOT/scripts/mail_arc_peer.py" compare "$ARC"

# The signer: dkimpy on a simulated dump signed by the mail engine's DkimSigner (every
# message truth.csv calls authentic must pass, every altered, forged or unsigned one fail).
SIM="$ROOT/target/peers-mail-signer"
rm -rf "$SIM"
"$BIN" --quiet simulate mail --seed 1 --out "$SIM" >/dev/null
"$VENV/bin/python" "$ROOT/scripts/mail_signer_peer.py" "$SIM"
