//! The entry point of the fuzz target: any bytes as a dump file.

use crate::dkim::verify_message;
use crate::keys::{KeyArchive, KeyRecord};
use crate::read::{ReadOptions, ReadStats, read_stream};

/// Reads `data` as one dump file (mbox or single message) and checks every message's
/// signatures against a small archive, so that the reader, the signature parser, the
/// canonicalisation and the key parser all see the fuzzer's bytes. Never panics.
pub fn read_and_verify(data: &[u8]) {
    let mut keys = KeyArchive::new();
    keys.insert(KeyRecord {
        name: "brisbane._domainkey.football.example.com".into(),
        record: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".into(),
        first_seen: None,
        last_seen: None,
    });
    let opts = ReadOptions { max_message_bytes: 1 << 20, ..ReadOptions::default() };
    let mut stats = ReadStats::default();
    let _ = read_stream("fuzz", data, &opts, &mut stats, &mut |m| {
        if let Ok(msg) = m.result {
            let _ = verify_message(&msg, &keys);
        }
        Ok(())
    });
}
