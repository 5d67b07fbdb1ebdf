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
            let _ = crate::arc::verify_arc(&msg, &keys);
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use proptest::prelude::*;

    const SIGNED: &[u8] = b"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n d=football.example.com; i=@football.example.com;\r\n q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n subject : date : message-id : from : subject : date;\r\n bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\nFrom: Joe SixPack <joe@football.example.com>\r\nTo: Suzie Q <suzie@shopping.example.net>\r\nSubject: Is dinner ready?\r\nDate: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\nMessage-ID: <20030712040037.46341.5F8J@football.example.com>\r\n\r\nHi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n";

    proptest! {
        #[test]
        fn any_bytes_are_read_and_verified_without_panicking(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            read_and_verify(&data);
        }

        #[test]
        fn a_signed_message_with_bytes_changed_never_panics_and_never_stays_authentic_when_signed_bytes_change(
            at in 0usize..SIGNED.len(), byte in any::<u8>()
        ) {
            let mut m = SIGNED.to_vec();
            m[at] = byte;
            read_and_verify(&m);
            if let Ok(msg) = Message::parse(&m) {
                let mut keys = KeyArchive::new();
                keys.insert(KeyRecord {
                    name: "brisbane._domainkey.football.example.com".into(),
                    record: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".into(),
                    first_seen: None,
                    last_seen: None,
                });
                let checks = verify_message(&msg, &keys);
                // A changed letter of the text or the signed headers cannot verify; a
                // change relaxed canonicalisation folds away (case of a header name,
                // whitespace) or an unchanged byte may.
                let letter_changed = SIGNED[at] != byte && SIGNED[at].is_ascii_alphanumeric() && byte.is_ascii_alphanumeric()
                    && !SIGNED[at].eq_ignore_ascii_case(&byte);
                let in_text = at > SIGNED.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(SIGNED.len());
                if letter_changed && in_text {
                    prop_assert!(checks.iter().all(|c| c.verdict != crate::Verdict::Authentic), "{:?}", checks);
                }
            }
        }
    }

    #[test]
    fn broken_base64_and_eight_bit_bodies_parse_and_are_judged() {
        let m = b"From: a@example.org\nSubject: =?utf-8?B?!!!broken?=\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n@@@ not base64 \xff\xfe\n";
        let msg = Message::parse(m).expect("parse");
        let checks = verify_message(&msg, &KeyArchive::new());
        assert_eq!(checks[0].verdict, crate::Verdict::Unsigned);
        let m = b"From: a@example.org\nSubject: caf\xe9 8-bit\n\nna\xefve body \xc3\xa9\n";
        assert!(Message::parse(m).is_ok());
    }
}
