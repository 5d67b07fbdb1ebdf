//! Append-only Merkle-tree ledger in the style of Certificate Transparency (RFC 9162):
//! SHA-256 leaf and node hashes, ed25519 signed tree heads, inclusion and consistency
//! proofs, durable appends with crash recovery, and a verifier that names the first
//! altered, missing or reordered entry.
//!
//! Files, for a ledger at `PATH`:
//! - `PATH`: the entries (see [`EntryReader`] for the framing), mode 0600;
//! - `PATH.sth`: signed tree heads, one JSON object per line (public);
//! - `PATH.pub`: the public key, for verifiers (pin a copy elsewhere);
//! - `PATH.ckpt`: a checkpoint of the tree's right edge so that reopening is fast;
//! - the ed25519 secret key, kept outside the ledger's folder ([`Signer`],
//!   [`default_key_path`]), with the signer's record of the heads it published beside it.
//!
//! An entry is acknowledged when a signed tree head covering it has been published
//! ([`Ledger::sign`]); the writer holds an exclusive lock on the ledger file.

#![deny(missing_docs)]

mod bench;
mod keys;
mod log;
mod merkle;
mod sth;
mod verify;

use std::path::{Path, PathBuf};

pub use bench::{BenchOptions, BenchReport, bench};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use keys::{
    KEY_ENV, KeyOrigin, KeyPlacement, Signer, SignerState, config_dir, default_key_path, ledger_id,
};
pub use log::{
    Durability, ENTRY_HEADER, EntryReader, Ledger, LockWait, MAGIC, MAX_ENTRY, Next, RawEntry, Recovery,
    WriterOptions, checkpoint_path, read_entries, read_leaf_hashes,
};
pub use merkle::{
    Frontier, Hash, consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash,
    root as merkle_root, verify_consistency, verify_inclusion,
};
pub use sth::{
    HEAD_VERSION, SignedTreeHead, append_sth, public_key_path, read_head_file, read_public_key, read_sths,
    sth_path,
};
pub use verify::{
    Problem, VerifyOptions, VerifyReport, Witness, WitnessCheck, verify, verify_bytes, verify_strict,
};

/// Everything that can go wrong with a ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A ledger file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The ledger file.
        path: PathBuf,
        /// The error from the operating system.
        source: std::io::Error,
    },
    /// The file does not start with the ledger's magic bytes.
    #[error("{0} is not a Scrutineer ledger (bad magic)")]
    NotALedger(PathBuf),
    /// An entry does not match its checksum.
    #[error("{path}: entry {position} is damaged ({what}); run `scrutineer ledger verify`")]
    Damaged {
        /// The ledger file.
        path: PathBuf,
        /// Its position in the file (0-based).
        position: u64,
        /// What is damaged.
        what: &'static str,
    },
    /// An entry larger than [`MAX_ENTRY`].
    #[error("entry of {0} bytes is larger than the ledger accepts")]
    TooLarge(usize),
    /// A malformed tree head, key or proof request.
    #[error("{0}")]
    Format(String),
    /// A signature that does not verify.
    #[error("{0}")]
    BadSignature(String),
    /// Verification could not go on.
    #[error("verification failed: {0}")]
    Verify(String),
    /// A proof asked for an entry the ledger does not hold.
    #[error("no entry {index} (the ledger holds {size})")]
    NoSuchEntry {
        /// The entry's index.
        index: u64,
        /// Entries the ledger holds.
        size: u64,
    },
    /// A write that would lose or forge entries.
    #[error("refusing to write to the ledger {path}: {why}")]
    Refused {
        /// The ledger file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// Another writer holds the ledger's lock.
    #[error("another process is writing the ledger {0} (it holds the ledger's lock); wait for it to finish")]
    Locked(PathBuf),
    /// The signing key could not be loaded, made or placed.
    #[error("{0}")]
    Key(String),
}

impl LedgerError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> LedgerError {
        LedgerError::Io { path: path.to_path_buf(), source }
    }
}

/// The result of the crate's functions.
pub type Result<T> = std::result::Result<T, LedgerError>;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An inclusion proof for entry `index` against the tree of `tree_size` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The entry proved.
    pub index: u64,
    /// The size of the tree proved against.
    pub tree_size: u64,
    /// The entry's leaf hash.
    pub leaf_hash: Hash,
    /// The tree's root hash.
    pub root: Hash,
    /// The audit path, from the leaf up (RFC 9162 2.1.3).
    pub path: Vec<Hash>,
}

/// Builds the inclusion proof of entry `index` in the first `tree_size` entries (all when `None`).
pub fn prove_inclusion(path: &Path, index: u64, tree_size: Option<u64>) -> Result<InclusionProof> {
    let leaves = read_leaf_hashes(path)?;
    let size = tree_size.unwrap_or(leaves.len() as u64);
    if size > leaves.len() as u64 || index >= size {
        return Err(LedgerError::NoSuchEntry { index, size: leaves.len() as u64 });
    }
    let l = &leaves[..size as usize];
    let proof = merkle::inclusion_proof(index as usize, l).ok_or(LedgerError::NoSuchEntry { index, size })?;
    Ok(InclusionProof {
        index,
        tree_size: size,
        leaf_hash: l[index as usize],
        root: merkle::root(l),
        path: proof,
    })
}

/// A consistency proof between the tree heads at `old_size` and `new_size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The earlier tree size.
    pub old_size: u64,
    /// The later tree size.
    pub new_size: u64,
    /// The earlier tree's root hash.
    pub old_root: Hash,
    /// The later tree's root hash.
    pub new_root: Hash,
    /// The consistency proof (RFC 9162 2.1.4).
    pub path: Vec<Hash>,
}

/// Builds the consistency proof from `old_size` to `new_size` (all entries when `None`).
pub fn prove_consistency(path: &Path, old_size: u64, new_size: Option<u64>) -> Result<ConsistencyProof> {
    let leaves = read_leaf_hashes(path)?;
    let new = new_size.unwrap_or(leaves.len() as u64);
    if new > leaves.len() as u64 || old_size == 0 || old_size > new {
        return Err(LedgerError::NoSuchEntry { index: new.max(old_size), size: leaves.len() as u64 });
    }
    let l = &leaves[..new as usize];
    let proof = merkle::consistency_proof(old_size as usize, l)
        .ok_or(LedgerError::NoSuchEntry { index: old_size, size: new })?;
    Ok(ConsistencyProof {
        old_size,
        new_size: new,
        old_root: merkle::root(&l[..old_size as usize]),
        new_root: merkle::root(l),
        path: proof,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        ledger: PathBuf,
        key: PathBuf,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("ledgers")).expect("mkdir");
        std::fs::create_dir(dir.path().join("keys")).expect("mkdir");
        let ledger = dir.path().join("ledgers").join("l");
        let key = dir.path().join("keys").join("l.key");
        Fixture { _dir: dir, ledger, key }
    }

    fn open(f: &Fixture) -> Result<Ledger> {
        let signer = Signer::load_or_create(Some(&f.key), &f.ledger, KeyPlacement::OutsideLedgerFolder)?;
        Ledger::open(&f.ledger, signer, &WriterOptions::default())
    }

    fn public(f: &Fixture) -> VerifyingKey {
        sth::read_public_key(&sth::public_key_path(&f.ledger)).expect("pub")
    }

    #[test]
    fn appends_survive_reopen_and_verify() {
        let f = fixture();
        let mut l = open(&f).expect("open");
        for i in 0..100u32 {
            l.append(format!("entry {i}").as_bytes()).expect("append");
        }
        let sth = l.sign().expect("sign");
        drop(l);
        let mut l = open(&f).expect("reopen");
        assert_eq!(l.size(), 100);
        assert_eq!(hex::encode(l.root()), sth.root_hash);
        l.append(b"more").expect("append");
        l.sign().expect("sign");
        l.close().expect("close");
        let r = verify(&f.ledger, Some(&public(&f)), &VerifyOptions::default()).expect("verify");
        assert_eq!(r.problem, None);
        assert_eq!(r.entries, 101);
        assert_eq!(r.tree_heads_checked, 2);
        // Proofs from the file verify against the signed heads.
        let ip = prove_inclusion(&f.ledger, 42, Some(100)).expect("proof");
        assert!(merkle::verify_inclusion(
            42,
            100,
            &leaf_hash(b"entry 42"),
            &ip.path,
            &sth.root().expect("root")
        ));
        let cp = prove_consistency(&f.ledger, 100, None).expect("proof");
        assert!(merkle::verify_consistency(100, 101, &cp.old_root, &cp.new_root, &cp.path));
    }

    #[test]
    fn reopening_without_checkpoint_rebuilds_the_same_root() {
        let f = fixture();
        let mut l = open(&f).expect("open");
        for i in 0..37u32 {
            l.append(&i.to_le_bytes()).expect("append");
        }
        l.sign().expect("sign");
        let root = l.root();
        drop(l);
        std::fs::remove_file(log::checkpoint_path(&f.ledger)).expect("rm");
        let l = open(&f).expect("reopen");
        assert_eq!(l.root(), root);
        assert_eq!(l.size(), 37);
    }

    #[test]
    fn a_checkpoint_that_does_not_reproduce_the_signed_root_is_not_trusted() {
        let f = fixture();
        let mut l = open(&f).expect("open");
        for i in 0..9u32 {
            l.append(&i.to_le_bytes()).expect("append");
        }
        l.sign().expect("sign");
        let root = l.root();
        drop(l);
        // A forged checkpoint: right size, wrong frontier.
        let ck = log::checkpoint_path(&f.ledger);
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&ck).expect("read")).expect("json");
        v["frontier"][0][1] = serde_json::Value::String("11".repeat(32));
        std::fs::write(&ck, v.to_string()).expect("write");
        let l = open(&f).expect("reopen");
        assert_eq!(l.root(), root);
    }

    #[test]
    fn torn_tail_is_set_aside_on_open() {
        let f = fixture();
        let mut l = open(&f).expect("open");
        for i in 0..5u32 {
            l.append(&i.to_le_bytes()).expect("append");
        }
        l.sign().expect("sign");
        drop(l);
        // Half an entry, as a crash mid-write leaves it.
        let mut bytes = std::fs::read(&f.ledger).expect("read");
        bytes.extend_from_slice(&5u64.to_le_bytes());
        bytes.extend_from_slice(&[4, 0]);
        std::fs::write(&f.ledger, &bytes).expect("write");
        let l = open(&f).expect("reopen");
        assert_eq!(l.size(), 5);
        assert_eq!(l.recovery().torn_bytes, 10);
        assert_eq!(l.recovery().unacknowledged_entries, 0);
    }

    #[test]
    fn key_is_created_private_outside_the_ledger_folder_and_reloaded() {
        let f = fixture();
        let s1 = Signer::load_or_create(Some(&f.key), &f.ledger, KeyPlacement::OutsideLedgerFolder)
            .expect("create");
        let s2 =
            Signer::load_or_create(Some(&f.key), &f.ledger, KeyPlacement::OutsideLedgerFolder).expect("load");
        assert_eq!((s1.origin(), s2.origin()), (KeyOrigin::Generated, KeyOrigin::Loaded));
        assert_eq!(s1.key().to_bytes(), s2.key().to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&f.key).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(public(&f), s1.verifying_key());
        let beside = f.ledger.with_file_name("l.key");
        let refused = Signer::load_or_create(Some(&beside), &f.ledger, KeyPlacement::OutsideLedgerFolder);
        assert!(matches!(refused, Err(LedgerError::Key(_))), "a key beside the ledger is refused");
        assert!(!beside.exists(), "and not created");
    }
}

#[cfg(test)]
mod crash_windows {
    //! A writer can die between any two steps of signing: recording the head it is about to
    //! publish, appending it to `.sth`, recording it as published. Each window is rebuilt
    //! here from a clean ledger and reopened.
    use super::*;

    struct Case {
        _dir: tempfile::TempDir,
        ledger: PathBuf,
        key: PathBuf,
    }

    fn signer(c: &Case) -> Signer {
        Signer::load_or_create(Some(&c.key), &c.ledger, KeyPlacement::OutsideLedgerFolder).expect("signer")
    }

    /// A ledger with heads at 10 and 20; returns it with the two heads.
    fn two_heads() -> (Case, SignedTreeHead, SignedTreeHead) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("l")).expect("mkdir");
        let c = Case { ledger: dir.path().join("l").join("x"), key: dir.path().join("x.key"), _dir: dir };
        let mut l = Ledger::open(&c.ledger, signer(&c), &WriterOptions::default()).expect("open");
        for i in 0..10u32 {
            l.append(&i.to_le_bytes()).expect("append");
        }
        let h10 = l.sign().expect("sign");
        for i in 10..20u32 {
            l.append(&i.to_le_bytes()).expect("append");
        }
        let h20 = l.sign().expect("sign");
        l.close().expect("close");
        (c, h10, h20)
    }

    fn set_state(c: &Case, published: &SignedTreeHead, publishing: &SignedTreeHead) {
        let s = signer(c);
        let mut st = s.read_state().expect("state");
        st.published = Some(published.clone());
        st.publishing = Some(publishing.clone());
        st.writing_from = Some(published.tree_size);
        s.write_state(&st, true).expect("write");
    }

    fn drop_last_head(c: &Case) {
        let p = sth::sth_path(&c.ledger);
        let text = std::fs::read_to_string(&p).expect("sth");
        let kept: Vec<&str> = text.lines().collect();
        std::fs::write(&p, kept[..kept.len() - 1].join("\n") + "\n").expect("write");
    }

    fn verifies(c: &Case) -> VerifyReport {
        let pk = sth::read_public_key(&sth::public_key_path(&c.ledger)).expect("pub");
        let r = verify(&c.ledger, Some(&pk), &VerifyOptions::default()).expect("verify");
        assert_eq!(r.problem, None);
        r
    }

    #[test]
    fn died_after_recording_the_head_before_publishing_it() {
        let (c, h10, h20) = two_heads();
        drop_last_head(&c);
        set_state(&c, &h10, &h20);
        let l = Ledger::open(&c.ledger, signer(&c), &WriterOptions::default()).expect("reopen");
        assert_eq!(l.recovery().republished, Some(20), "the signed head is published, the entries kept");
        assert_eq!(l.size(), 20);
        l.close().expect("close");
        assert_eq!(verifies(&c).signed_size, 20);
    }

    #[test]
    fn died_after_publishing_before_recording_it() {
        let (c, h10, h20) = two_heads();
        set_state(&c, &h10, &h20);
        let mut l = Ledger::open(&c.ledger, signer(&c), &WriterOptions::default()).expect("reopen");
        assert_eq!(l.size(), 20);
        assert_eq!(l.head().map(|h| h.tree_size), Some(20));
        l.append(b"next").expect("append");
        assert_eq!(l.sign().expect("sign").tree_size, 21);
        l.close().expect("close");
        verifies(&c);
    }

    #[test]
    fn died_while_writing_a_batch_whose_head_was_recorded() {
        let (c, h10, h20) = two_heads();
        drop_last_head(&c);
        set_state(&c, &h10, &h20);
        // Only part of the batch reached the disk: entries 10..14 and half of 15.
        let bytes = std::fs::read(&c.ledger).expect("read");
        let cut = 8 + 15 * (log::ENTRY_HEADER + 4) + 9;
        std::fs::write(&c.ledger, &bytes[..cut]).expect("write");
        let l = Ledger::open(&c.ledger, signer(&c), &WriterOptions::default()).expect("reopen");
        assert_eq!(l.size(), 10, "back to the last published head");
        assert_eq!(l.recovery().unacknowledged_entries, 5);
        assert_eq!(l.recovery().torn_bytes, 9);
        assert_eq!(l.recovery().republished, None, "a head whose entries are not all there is not published");
        l.close().expect("close");
        assert_eq!(verifies(&c).signed_size, 10);
    }

    #[test]
    fn a_second_root_for_a_signed_size_is_refused() {
        let (c, _h10, h20) = two_heads();
        // Someone rebuilds the ledger with the same number of entries and the record intact.
        for ext in ["", ".sth", ".ckpt"] {
            let _ = std::fs::remove_file(PathBuf::from(format!("{}{ext}", c.ledger.display())));
        }
        let opened = Ledger::open(&c.ledger, signer(&c), &WriterOptions::default());
        assert!(
            matches!(opened, Err(LedgerError::Refused { .. })),
            "the signer remembers size {}",
            h20.tree_size
        );
    }

    #[test]
    fn a_writer_that_does_not_wait_fails_while_another_holds_the_lock() {
        let (c, _, _) = two_heads();
        let held = Ledger::open(&c.ledger, signer(&c), &WriterOptions::default()).expect("first");
        let second = Ledger::open(
            &c.ledger,
            signer(&c),
            &WriterOptions { lock: LockWait::Fail, ..WriterOptions::default() },
        );
        assert!(matches!(second, Err(LedgerError::Locked(_))));
        drop(held);
        Ledger::open(
            &c.ledger,
            signer(&c),
            &WriterOptions { lock: LockWait::Fail, ..WriterOptions::default() },
        )
        .expect("free once the first is gone");
    }
}
