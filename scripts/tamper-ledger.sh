#!/usr/bin/env bash
# Tampers with ledgers the way an attacker or a crash would, and checks the ledger's
# Certificate-Transparency-style guarantees: every tampering case fails `ledger verify` and
# names the first bad entry; every crash case loses no acknowledged entry.
#   scripts/tamper-ledger.sh            (uses target/release/scrutineer, building it if missing)
#   BIN=target/debug/scrutineer scripts/tamper-ledger.sh
# One line per case; exits non-zero if any case fails.
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
BIN="${BIN:-$root/target/release/scrutineer}"
if [ ! -x "$BIN" ]; then
  cargo build --release -p scrutineer --quiet
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
unset SCRUTINEER_LEDGER_KEY

# Byte surgery on the documented layout: magic SCRLEDG1, then per entry
# index u64 LE | len u32 LE | crc32 u32 LE (over index, len, data) | data.
cat >"$WORK/tamper.py" <<'EOF'
import struct, sys, zlib

def frames(b):
    assert b[:8] == b"SCRLEDG1", "not a ledger"
    out, off = [], 8
    while off + 16 <= len(b):
        n = struct.unpack_from("<I", b, off + 8)[0]
        out.append((off, off + 16 + n))
        off += 16 + n
    return out

def frame(index, data):
    head = struct.pack("<QI", index, len(data))
    return head + struct.pack("<I", zlib.crc32(head + data) & 0xFFFFFFFF) + data

op, path = sys.argv[1], sys.argv[2]
b = bytearray(open(path, "rb").read())
f = frames(b)
if op == "flip":            # one bit of entry K's data
    s, e = f[int(sys.argv[3])]
    b[s + 16 + (e - s - 16) // 2] ^= 0x01
elif op == "rewrite":       # entry K's data changed, its CRC recomputed
    k = int(sys.argv[3]); s, e = f[k]
    b[s:e] = frame(k, b"rewritten: " + bytes(b[s + 16:e]))
elif op == "drop":          # entry K removed, the rest left as they are
    s, e = f[int(sys.argv[3])]
    del b[s:e]
elif op == "renumber":      # entry K removed and the later ones renumbered, CRCs recomputed
    k = int(sys.argv[3])
    tail = [bytes(b[s + 16:e]) for s, e in f[k + 1:]]
    del b[f[k][0]:]
    for i, d in enumerate(tail):
        b += frame(k + i, d)
elif op == "forge":         # N well-formed frames appended after the last entry
    n = int(sys.argv[3])
    for i in range(n):
        b += frame(len(f) + i, b"forged entry %d" % i)
elif op == "garbage":       # bytes that are no entry at all
    b += bytes((i * 37 + 11) % 256 for i in range(300))
else:
    sys.exit("unknown operation " + op)
open(path, "wb").write(bytes(b))
EOF

failures=0
report() { printf '%-58s %s\n' "$1" "$2"; }
fail() { report "$1" "FAIL: $2"; failures=$((failures + 1)); }

# A fresh ledger for one case: $d/ledger/s.ledger, its key in the case's own
# configuration folder $d/config (away from the ledger's folder).
new_case() {
  d="$WORK/$1"
  mkdir -p "$d/ledger"
  export XDG_CONFIG_HOME="$d/config"
  store="$d/ledger/s.db"
  ledger="$d/ledger/s.ledger"
}
sc() { "$BIN" --quiet --store "$store" "$@"; }
# Appends entries FROM..TO-1 ("record N ...") with a signed head every BATCH.
append_range() {
  seq "$1" $(($2 - 1)) | sed 's/^/record /; s/$/ of the ledger/' >"$d/in-$1.txt"
  sc ledger append --batch "$3" "$d/in-$1.txt" >"$d/acks-$1.txt"
}
pin() { cp "$ledger.pub" "$d/pinned.pub"; }
# Prints "ok first_bad suspects" from a verify against the pinned key.
verdict() {
  sc --json ledger verify --public-key "$d/pinned.pub" "$@" 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(str(v.get("ok")).lower(), v.get("first_bad_index"), ",".join(map(str, v.get("suspects") or [])))' || true
}
# A tampering case: verify must fail and name entry WANT (and, for a range, contain it).
expect_named() {
  local name="$1" want="$2"; shift 2
  local got ok first range
  got="$(verdict "$@")"
  read -r ok first range <<<"$got"
  if [ "$ok" != "false" ]; then
    fail "$name" "verify passed"
  elif [ "$first" != "$want" ]; then
    fail "$name" "verify named entry $first, not $want"
  else
    report "$name" "ok: verify fails, first bad entry $first (suspects ${range/,/..})"
  fi
}

# 1. A flipped bit in entry 23.
new_case flip; append_range 0 50 7; pin
python3 "$WORK/tamper.py" flip "$ledger" 23
expect_named "byte flip in entry 23" 23

# 2. Entry 37 rewritten with a fresh CRC (the heads at 37 and 60 bracket it).
new_case rewrite; append_range 0 37 100; append_range 37 60 100; pin
python3 "$WORK/tamper.py" rewrite "$ledger" 37
expect_named "CRC-consistent rewrite of entry 37" 37

# 3. Entry 31 dropped.
new_case drop; append_range 0 50 7; pin
python3 "$WORK/tamper.py" drop "$ledger" 31
expect_named "entry 31 dropped" 31

# 4. Entry 50 dropped and the rest renumbered with fresh CRCs (a head every 10 entries).
new_case renumber; append_range 0 100 10; pin
python3 "$WORK/tamper.py" renumber "$ledger" 50
expect_named "entry 50 dropped, later entries renumbered" 50

# 5, 6. The signed tree heads deleted, or emptied.
new_case sth-deleted; append_range 0 40 10; pin
rm "$ledger.sth"
expect_named ".sth deleted" 0
new_case sth-emptied; append_range 0 40 10; pin
: >"$ledger.sth"
expect_named ".sth emptied" 0
if sc ledger append "$d/in-0.txt" >/dev/null 2>&1; then
  fail "append after .sth emptied" "append signed a ledger whose heads were removed"
else
  report "append after .sth emptied" "ok: append refuses"
fi

# 7. The checkpoint deleted or emptied: it is a cache, not evidence; nothing is lost and
#    the next append rebuilds it. With a flipped signed entry behind it, append refuses.
new_case ckpt-deleted; append_range 0 40 10; pin
rm "$ledger.ckpt"
append_range 40 45 10
if [ "$(verdict)" = "true None " ] && [ "$(sc ledger entries | wc -l)" = 45 ]; then
  report ".ckpt deleted" "ok: verify passes, append rebuilt it, 45 of 45 entries"
else
  fail ".ckpt deleted" "$(verdict)"
fi
new_case ckpt-emptied; append_range 0 100 1000; pin
: >"$ledger.ckpt"
python3 "$WORK/tamper.py" flip "$ledger" 99
cp "$ledger" "$d/before"
if sc ledger append "$d/in-0.txt" >/dev/null 2>&1 || ! cmp -s "$ledger" "$d/before"; then
  fail ".ckpt emptied + flip in signed entry 99" "append went ahead or changed the ledger"
else
  expect_named ".ckpt emptied + flip in signed entry 99 (append refuses)" 99
fi

# 8. Forged frames appended, then an ordinary append.
new_case forged; append_range 0 30 10; pin
python3 "$WORK/tamper.py" forge "$ledger" 2
cp "$ledger.sth" "$d/sth-before"
if sc ledger append "$d/in-0.txt" >/dev/null 2>&1 || ! cmp -s "$ledger.sth" "$d/sth-before"; then
  fail "forged frames before an ordinary append" "append signed the forged frames"
else
  expect_named "forged frames 30, 31 before an append (append refuses)" 30
fi

# 9. A head signed with another key slipped into .sth.
new_case foreign-head; append_range 0 20 10; pin
new_case foreign-head-other; append_range 0 25 10
tail -1 "$ledger.sth" >>"$WORK/foreign-head/ledger/s.ledger.sth"
new_case foreign-head
expect_named "a head signed with another key, at size 25" 20

# 10. The whole ledger rebuilt with entry 12 changed and re-signed with the stolen key,
#     checked against a head a partner witnessed earlier.
new_case stolen; append_range 0 40 10; pin
sc --json ledger head >"$d/witness.json"
append_range 40 60 10
key="$(ls "$XDG_CONFIG_HOME"/scrutineer/ledger-keys/s.ledger-*.key | head -1)"
cp -p "$key" "$d/stolen.key"
rm -f "$ledger" "$ledger.sth" "$ledger.ckpt" "$key".*.state
sed '13s/.*/record 12 as the thief wants it/' "$d/in-0.txt" >"$d/forged.txt"
cat "$d/in-40.txt" >>"$d/forged.txt"
sc ledger append --batch 10 --key "$d/stolen.key" "$d/forged.txt" >/dev/null
if [ "$(verdict | cut -d' ' -f1)" != "true" ]; then
  fail "stolen key: the forgery on its own heads" "expected it to pass without a witness"
fi
got="$(verdict --witness "$d/witness.json")"
read -r ok first range <<<"$got"
lo="${range%,*}"; hi="${range#*,}"
if [ "$ok" = "false" ] && [ "$lo" -le 12 ] && [ 12 -lt "$hi" ]; then
  report "full re-sign with a stolen key vs a witness at size 40" "ok: verify fails, entry 12 in suspects $lo..$hi"
else
  fail "full re-sign with a stolen key vs a witness at size 40" "got $got"
fi

# 11. A garbage tail.
new_case garbage; append_range 0 30 10; pin
python3 "$WORK/tamper.py" garbage "$ledger"
expect_named "garbage after entry 29" 30

# 12. Two writers at once: the second waits; every acknowledged entry is kept.
new_case writers; append_range 0 1 10; pin
seq 0 699 | sed 's/^/writer a /' >"$d/a.txt"
seq 0 699 | sed 's/^/writer b /' >"$d/b.txt"
"$BIN" --quiet --store "$store" ledger append --batch 50 "$d/a.txt" >"$d/acks-a" &
pa=$!
"$BIN" --quiet --store "$store" ledger append --batch 50 "$d/b.txt" >"$d/acks-b" &
pb=$!
wa=0; wb=0
wait "$pa" || wa=$?
wait "$pb" || wb=$?
sc ledger entries | cut -f1,3 >"$d/entries"
lost=0
for w in a b; do
  # Entry index N of the k-th ack must hold line k of that writer's input.
  paste -d'\t' <(sed -n 's/^ack //p' "$d/acks-$w") <(head -n "$(grep -c '^ack ' "$d/acks-$w")" "$d/$w.txt") >"$d/want-$w"
  lost=$((lost + $(grep -c -v -x -F -f "$d/entries" "$d/want-$w" || true)))
done
acked=$(( $(grep -c '^ack ' "$d/acks-a") + $(grep -c '^ack ' "$d/acks-b") ))
if [ "$wa" = 0 ] && [ "$wb" = 0 ] && [ "$acked" = 1400 ] && [ "$lost" = 0 ] && [ "$(verdict | cut -d' ' -f1)" = true ]; then
  report "two concurrent writers" "ok: 1400 of 1400 acknowledged entries kept, verify passes"
else
  fail "two concurrent writers" "exit $wa/$wb, $acked acknowledged, $lost lost"
fi

# 13. SIGKILL during appends, three times over; then an ordinary append.
new_case sigkill; append_range 0 1 10; pin
seq 0 199999 | sed 's/^/killed writer entry /' >"$d/big.txt"
: >"$d/all-acks"
for round in 1 2 3; do
  # Started directly (not through a shell function) so that $! is the writer itself.
  "$BIN" --quiet --store "$store" ledger append --batch 100 "$d/big.txt" >"$d/acks-round" &
  pid=$!
  # Kill it once it has acknowledged a few thousand entries, mid-stream.
  for _ in $(seq 1 600); do
    [ "$(grep -c '^ack ' "$d/acks-round" || true)" -ge $((round * 1500)) ] && break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # The k-th ack of this round holds line k of the input.
  n=$(grep -c '^ack ' "$d/acks-round" || true)
  paste -d'\t' <(sed -n 's/^ack //p' "$d/acks-round") <(head -n "$n" "$d/big.txt") >>"$d/all-acks"
  if ! sc ledger verify --public-key "$d/pinned.pub" --allow-unsigned-tail >/dev/null 2>&1; then
    fail "SIGKILL round $round" "what the killed writer left does not verify even with --allow-unsigned-tail"
  fi
  # The next writer sets aside what was never acknowledged and continues.
  echo "after kill $round" >"$d/after.txt"
  sc ledger append "$d/after.txt" >>"$d/after-acks"
done
sc ledger entries | cut -f1,3 >"$d/entries"
acked=$(wc -l <"$d/all-acks")
lost=$(grep -c -v -x -F -f "$d/entries" "$d/all-acks" || true)
if [ "$acked" -gt 0 ] && [ "$lost" = 0 ] && [ "$(verdict | cut -d' ' -f1)" = true ]; then
  report "SIGKILL during appends (3 rounds)" "ok: $acked of $acked acknowledged entries kept, verify passes"
else
  fail "SIGKILL during appends (3 rounds)" "$lost of $acked acknowledged entries lost, verify: $(verdict)"
fi

if [ "$failures" -gt 0 ]; then
  echo "tamper-ledger: $failures case(s) FAILED" >&2
  exit 1
fi
echo "tamper-ledger: every case passed"
