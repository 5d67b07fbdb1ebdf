//! Hack-and-leak dumps: which messages of a leaked mailbox are authentic, which were
//! altered, which were never sent as they stand.
//!
//! # Brief overview
//!
//! 1. **Read.** [`read_dump`] walks files, directories, Maildirs and tar archives of mbox
//!    (mboxo or mboxrd, [`MboxFlavor`]) and single messages, plain, gzip or zstd, and hands on one
//!    [`ReadMessage`] at a time: a parsed [`Message`] or, with its file and byte offset,
//!    why it is [`Unreadable`]. [`ReadOptions`] bound the size of a message; [`ReadStats`]
//!    count what was read.
//! 2. **Verify.** [`verify_message`] checks each DKIM signature of a message against a
//!    [`KeyArchive`] of archived key records ([`KeyRecord`]: the TXT value and the dates it
//!    was seen published) and gives a [`SignatureCheck`] per signature with its
//!    [`Verdict`], evaluated at the message's claimed date. A [`BatchVerifier`] does it
//!    for batches of messages on every core and hands each [`Verified`] outcome on in
//!    input order. [`verify_arc`] checks a message's ARC chain (RFC 8617) against the
//!    same archive and gives an [`ArcCheck`] with its [`ArcVerdict`].
//! 3. **Analyse.** A [`DumpAnalysis`] observes every message's [`MessageVerdicts`] and
//!    [`DumpAnalysis::finish`] gives a [`DumpReport`]: counts per verdict, the forged
//!    [`VariantGroup`]s (one Message-ID, different content, the variant that verifies
//!    named) and the findings. [`RunSummary`] is what a run stores.
//! 4. **Spread.** A [`SpreadIndex`] holds a dump's markers (its hosts and hashtags, and
//!    each message's subject, text, links and attachment names); a [`SpreadAnalysis`]
//!    looks for them in posts handed over as [`SpreadPost`]s and
//!    [`SpreadAnalysis::finish`] gives a [`SpreadReport`]: every [`Sighting`], the first,
//!    the [`Spreader`]s earliest first, the timing against the release, and the detected
//!    networks among them (given as [`NetworkMembership`]s by whoever detected them).
//!
//! 5. **Sign.** A [`DkimSigner`] adds a `DKIM-Signature` (relaxed/relaxed) made with a
//!    [`SigningKey`] (Ed25519 or RSA-SHA256) whose [`SigningKey::dns_record`] goes in the
//!    archive: signed corpora and simulated dumps are made with it.
//!
//! The crate writes nothing: the binary writes `verdicts.csv`, `summary.json` and the
//! store. Errors are typed: [`ReadError`], [`KeyArchiveError`], [`MessageError`],
//! [`SignError`].
#![deny(missing_docs)]

mod analysis;
mod arc;
mod batch;
mod dkim;
mod fuzzing;
mod keys;
mod live;
mod message;
mod near;
mod read;
mod sign;
mod spread;
mod summary;

pub use analysis::{
    ArcCounts, DumpAnalysis, DumpReport, LEDGER_FIELD_SEPARATOR, MessageVerdicts, Variant, VariantGroup,
    VerdictCounts, encode_ledger_entry,
};
pub use arc::{ArcCheck, ArcVerdict, MAX_ARC_INSTANCES, verify_arc};
pub use batch::{BatchVerifier, Verified};
pub use dkim::{
    Algorithm, Canon, KeyWindow, Signature, SignatureCheck, TRUSTED_HEADERS, Verdict, canonical_body,
    parse_tag_list, verify_message,
};
pub use fuzzing::read_and_verify;
pub use keys::{
    KEY_ARCHIVE_HEADER, KeyArchive, KeyArchiveError, KeyRecord, KeyState, KeyType, MAX_RSA_BITS,
    MIN_RSA_BITS, PublicKey, RsaKey, append_key_csv, check_name, normalise_name, parse_key_record,
    parse_seen, parse_zone,
};
#[cfg(feature = "live-dns")]
pub use live::DnsResolver;
pub use live::{
    LiveKeys, StaticResolver, TxtResolver, fetch_missing_keys, join_txt_strings, signature_key_names,
};
pub use message::{HeaderField, MAX_HEADER_BYTES, Message, MessageError};
pub use near::{NEAR_DUPLICATE_SIMILARITY, NearDuplicate, NearMember, text_signature};
pub use read::{
    DEFAULT_MAX_MESSAGE_BYTES, MboxFlavor, RawMessage, ReadError, ReadMessage, ReadOptions, ReadStats,
    Unreadable, dump_files, read_dump, read_dump_raw, read_stream,
};
pub use sign::{DEFAULT_SIGNED_HEADERS, DkimSigner, SignError, SigningKey};
pub use spread::{
    DayCount, DumpMessage, MAX_MARKER_MESSAGES, MIN_SUBJECT_WORDS, MarkerKind, NetworkMembership,
    NetworkSpread, QUOTE_WORDS, SightedMessage, Sighting, SpreadAnalysis, SpreadError, SpreadIndex,
    SpreadPost, SpreadReport, SpreadSummary, Spreader,
};
pub use summary::RunSummary;
