//! Append-only Merkle-tree ledger in the style of Certificate Transparency (RFC 9162):
//! SHA-256 leaf and node hashes, ed25519 signed tree heads, inclusion and consistency
//! proofs, durable appends with crash recovery, and a verifier that names the first
//! altered, missing or reordered entry.
//!
//! Files, for a ledger at `PATH`:
//! - `PATH`: the entries (see [`log`] for the framing);
//! - `PATH.sth`: signed tree heads, one JSON object per line;
//! - `PATH.key`: the ed25519 secret key (hex, created with mode 0600 on first use);
//! - `PATH.pub`: the matching public key, for verifiers;
//! - `PATH.ckpt`: a checkpoint of the tree's right edge so that reopening is fast.
//!
//! Fsync policy: [`Durability::Commit`] by default; an entry is acknowledged when the
//! commit that contains it has returned, which is after `fdatasync` of the entries.

pub mod log;
pub mod merkle;
pub mod sth;
pub mod verify;

use std::path::{Path, PathBuf};

pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use log::{Durability, Ledger, RawEntry, Recovery, read_entries, read_leaf_hashes};
pub use merkle::{Frontier, Hash, leaf_hash, node_hash};
pub use sth::{KeyOrigin, SignedTreeHead};
pub use verify::{Problem, VerifyReport, verify};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0} is not a Scrutineer ledger (bad magic)")]
    NotALedger(PathBuf),
    #[error("{path}: entry {position} is damaged ({what}); run `scrutineer ledger verify`")]
    Damaged { path: PathBuf, position: u64, what: &'static str },
    #[error("entry of {0} bytes is larger than the ledger accepts")]
    TooLarge(usize),
    #[error("{0}")]
    Format(String),
    #[error("{0}")]
    BadSignature(String),
    #[error("verification failed: {0}")]
    Verify(String),
    #[error("no entry {index} (the ledger holds {size})")]
    NoSuchEntry { index: u64, size: u64 },
}

impl LedgerError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> LedgerError {
        LedgerError::Io { path: path.to_path_buf(), source }
    }
}

pub type Result<T> = std::result::Result<T, LedgerError>;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Commits the ledger and signs its current head with `key`, appending it to `PATH.sth`.
pub fn commit_and_sign(ledger: &mut Ledger, key: &ed25519_dalek::SigningKey) -> Result<SignedTreeHead> {
    ledger.commit()?;
    let sth = SignedTreeHead::sign(key, ledger.size(), &ledger.root(), now_ms());
    sth::append_sth(ledger.path(), &sth)?;
    Ok(sth)
}

/// An inclusion proof for entry `index` against the tree of `tree_size` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub root: Hash,
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
    pub old_size: u64,
    pub new_size: u64,
    pub old_root: Hash,
    pub new_root: Hash,
    pub path: Vec<Hash>,
}

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

    fn key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn appends_survive_reopen_and_verify() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("l");
        let mut l = Ledger::open(&p, Durability::Commit).expect("open");
        for i in 0..100u32 {
            l.append(format!("entry {i}").as_bytes()).expect("append");
        }
        let sth = commit_and_sign(&mut l, &key()).expect("sign");
        drop(l);
        let mut l = Ledger::open(&p, Durability::Commit).expect("reopen");
        assert_eq!(l.size(), 100);
        assert_eq!(hex::encode(l.root()), sth.root_hash);
        l.append(b"more").expect("append");
        commit_and_sign(&mut l, &key()).expect("sign");
        let r = verify(&p, Some(&key().verifying_key())).expect("verify");
        assert_eq!(r.problem, None);
        assert_eq!(r.entries, 101);
        assert_eq!(r.tree_heads_checked, 2);
        // Proofs from the file verify against the signed heads.
        let ip = prove_inclusion(&p, 42, Some(100)).expect("proof");
        assert!(merkle::verify_inclusion(
            42,
            100,
            &leaf_hash(b"entry 42"),
            &ip.path,
            &sth.root().expect("root")
        ));
        let cp = prove_consistency(&p, 100, None).expect("proof");
        assert!(merkle::verify_consistency(100, 101, &cp.old_root, &cp.new_root, &cp.path));
    }

    #[test]
    fn reopening_without_checkpoint_rebuilds_the_same_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("l");
        let mut l = Ledger::open(&p, Durability::Never).expect("open");
        for i in 0..37u32 {
            l.append(&i.to_le_bytes()).expect("append");
        }
        l.commit().expect("commit");
        let root = l.root();
        drop(l);
        std::fs::remove_file(log::checkpoint_path(&p)).expect("rm");
        let l = Ledger::open(&p, Durability::Never).expect("reopen");
        assert_eq!(l.root(), root);
        assert_eq!(l.size(), 37);
    }

    #[test]
    fn torn_tail_is_set_aside_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("l");
        let mut l = Ledger::open(&p, Durability::Commit).expect("open");
        for i in 0..5u32 {
            l.append(&i.to_le_bytes()).expect("append");
        }
        l.commit().expect("commit");
        drop(l);
        // Half an entry, as a crash mid-write leaves it.
        let mut bytes = std::fs::read(&p).expect("read");
        bytes.extend_from_slice(&5u64.to_le_bytes());
        bytes.extend_from_slice(&[4, 0]);
        std::fs::write(&p, &bytes).expect("write");
        let l = Ledger::open(&p, Durability::Commit).expect("reopen");
        assert_eq!(l.size(), 5);
        assert_eq!(l.recovery().torn_bytes, 10);
    }

    #[test]
    fn key_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = dir.path().join("l");
        let kp = sth::default_key_path(&ledger);
        let (k1, o1) = sth::load_or_create_key(&kp, &ledger).expect("create");
        let (k2, o2) = sth::load_or_create_key(&kp, &ledger).expect("load");
        assert_eq!((o1, o2), (KeyOrigin::Generated, KeyOrigin::Loaded));
        assert_eq!(k1.to_bytes(), k2.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&kp).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let pk = sth::read_public_key(&sth::public_key_path(&ledger)).expect("pub");
        assert_eq!(pk, k1.verifying_key());
    }
}
