//! Any bytes as a ledger file (and, after a `\0STH\0` separator, as the lines of its
//! `.sth`): the frame reader, the verifier and the witness checks report what they find
//! and never panic. The first byte chooses how: bit 0 prefixes the magic (so that most
//! inputs get past it), bit 1 checks signatures against a fixed key, bit 2 accepts an
//! unsigned tail, bit 3 also uses the heads as witnesses.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use scrutineer_ledger::{EntryReader, MAGIC, Next, verify_bytes};
use scrutineer_ledger::{SignedTreeHead, SigningKey, VerifyOptions, Witness};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (file, heads_text) = match rest.windows(5).position(|w| w == b"\0STH\0") {
        Some(at) => (&rest[..at], &rest[at + 5..]),
        None => (rest, &[][..]),
    };
    let mut ledger = Vec::with_capacity(file.len() + 8);
    if mode & 1 == 1 {
        ledger.extend_from_slice(MAGIC);
    }
    ledger.extend_from_slice(file);

    // The frame reader: entries come back in order, each inside the file, until the end
    // or a torn frame.
    if let Ok(mut reader) = EntryReader::from_bytes(&ledger, Path::new("fuzz")) {
        let mut last_end = 8u64;
        loop {
            match reader.next_entry() {
                Ok(Next::Entry(e)) => {
                    assert_eq!(e.offset, last_end, "entries are contiguous");
                    last_end = e.offset + 16 + e.data.len() as u64;
                    assert!(last_end <= ledger.len() as u64, "an entry never runs past the file");
                    let _ = e.crc_ok();
                }
                Ok(Next::Torn { offset, bytes }) => {
                    assert_eq!(offset + bytes, ledger.len() as u64, "a torn frame runs to the end");
                    break;
                }
                Ok(Next::End) | Err(_) => break,
            }
        }
    }

    let heads: Vec<SignedTreeHead> =
        String::from_utf8_lossy(heads_text).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let key = SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    let witnesses = if mode & 8 == 8 {
        heads.iter().map(|h| Witness { source: "fuzz".into(), head: h.clone() }).collect()
    } else {
        Vec::new()
    };
    let opts = VerifyOptions { allow_unsigned_tail: mode & 4 == 4, witnesses };
    if let Ok(report) = verify_bytes(&ledger, &heads, (mode & 2 == 2).then_some(&key), &opts) {
        // A report either names a problem or accounts for every entry with a signed head.
        if report.problem.is_none() {
            assert!(!heads.is_empty());
            assert!(opts.allow_unsigned_tail || report.signed_size == report.entries);
        }
    }
});
