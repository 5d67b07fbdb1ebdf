//! Signed tree heads (RFC 6962 3.5 / RFC 9162 4.10 in spirit): ed25519 signatures over
//! `version(0) | signature_type(1) | timestamp_ms u64 | tree_size u64 | root_hash[32]`,
//! kept one JSON object per line in `<ledger>.sth`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::log::sibling;
use crate::merkle::Hash;
use crate::{LedgerError, Result};

/// A signed tree head: a tree size and root hash signed with the ledger's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTreeHead {
    /// Format version of this record; 1 is the only one so far. Heads written before the
    /// field existed read as version 1.
    #[serde(default = "head_version")]
    pub version: u32,
    /// Entries covered.
    pub tree_size: u64,
    /// Hex SHA-256 Merkle tree head.
    pub root_hash: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Hex ed25519 public key of the signer.
    pub public_key: String,
    /// Hex ed25519 signature.
    pub signature: String,
}

/// The current version of [`SignedTreeHead`].
pub const HEAD_VERSION: u32 = 1;

fn head_version() -> u32 {
    HEAD_VERSION
}

fn signed_bytes(tree_size: u64, root: &Hash, timestamp_ms: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(50);
    m.push(0u8); // version v1
    m.push(1u8); // signature_type tree_hash
    m.extend_from_slice(&timestamp_ms.to_be_bytes());
    m.extend_from_slice(&tree_size.to_be_bytes());
    m.extend_from_slice(root);
    m
}

impl SignedTreeHead {
    /// Signs the head of a tree of `tree_size` entries with root `root`.
    pub fn sign(key: &SigningKey, tree_size: u64, root: &Hash, timestamp_ms: u64) -> SignedTreeHead {
        let sig = key.sign(&signed_bytes(tree_size, root, timestamp_ms));
        SignedTreeHead {
            version: HEAD_VERSION,
            tree_size,
            root_hash: hex::encode(root),
            timestamp_ms,
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(sig.to_bytes()),
        }
    }

    /// The root hash, decoded.
    pub fn root(&self) -> Result<Hash> {
        decode32(&self.root_hash)
    }

    /// Checks the signature against `key` (the pinned public key).
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        if self.version != HEAD_VERSION {
            return Err(LedgerError::BadSignature(format!(
                "tree head at size {} has version {}; this build reads version {HEAD_VERSION}",
                self.tree_size, self.version
            )));
        }
        let root = self.root()?;
        if self.public_key != hex::encode(key.as_bytes()) {
            return Err(LedgerError::BadSignature(format!(
                "tree head at size {} is signed by key {} instead of {}",
                self.tree_size,
                self.public_key,
                hex::encode(key.as_bytes())
            )));
        }
        let sig_bytes: [u8; 64] =
            hex::decode(&self.signature).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
                LedgerError::BadSignature(format!(
                    "tree head at size {}: malformed signature",
                    self.tree_size
                ))
            })?;
        key.verify(
            &signed_bytes(self.tree_size, &root, self.timestamp_ms),
            &Signature::from_bytes(&sig_bytes),
        )
        .map_err(|_| {
            LedgerError::BadSignature(format!(
                "tree head at size {}: signature does not verify",
                self.tree_size
            ))
        })
    }
}

pub(crate) fn decode32(s: &str) -> Result<Hash> {
    hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| LedgerError::Format(format!("'{s}' is not a 32-byte hex value")))
}

/// Where a ledger's signed tree heads are kept (`PATH.sth`).
pub fn sth_path(ledger: &Path) -> PathBuf {
    sibling(ledger, "sth")
}

/// Where a ledger's public key is kept (`PATH.pub`).
pub fn public_key_path(ledger: &Path) -> PathBuf {
    sibling(ledger, "pub")
}

/// Appends a tree head to the `.sth` file, synced if `sync`. The heads are public (mode
/// 0644): they are what an office publishes.
pub fn append_sth(ledger: &Path, sth: &SignedTreeHead, sync: bool) -> Result<()> {
    let path = sth_path(ledger);
    let created = !path.exists();
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o644);
    }
    let mut f = opts.open(&path).map_err(|e| LedgerError::io(&path, e))?;
    // A crash can leave a half-written line; start on a fresh one so that it stays the
    // only line that does not parse.
    let len = f.metadata().map_err(|e| LedgerError::io(&path, e))?.len();
    let mut line = serde_json::to_string(sth).map_err(|e| LedgerError::Format(e.to_string()))?;
    line.push('\n');
    if len > 0 && !ends_with_newline(&path)? {
        line.insert(0, '\n');
    }
    f.write_all(line.as_bytes()).map_err(|e| LedgerError::io(&path, e))?;
    if sync {
        f.sync_data().map_err(|e| LedgerError::io(&path, e))?;
        if created {
            crate::keys::sync_dir(&path);
        }
    }
    Ok(())
}

fn ends_with_newline(path: &Path) -> Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| LedgerError::io(path, e))?;
    f.seek(SeekFrom::End(-1)).map_err(|e| LedgerError::io(path, e))?;
    let mut b = [0u8; 1];
    f.read_exact(&mut b).map_err(|e| LedgerError::io(path, e))?;
    Ok(b[0] == b'\n')
}

/// Reads one tree head from a file (as `ledger head --json` prints it), for a witness.
pub fn read_head_file(path: &Path) -> Result<SignedTreeHead> {
    let text = std::fs::read_to_string(path).map_err(|e| LedgerError::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| LedgerError::Format(format!("{}: not a signed tree head: {e}", path.display())))
}

/// Reads every tree head; a line that does not parse is an error naming its line.
pub fn read_sths(ledger: &Path) -> Result<Vec<SignedTreeHead>> {
    let path = sth_path(ledger);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LedgerError::io(&path, e)),
    };
    let mut out = Vec::new();
    let unterminated = !text.is_empty() && !text.ends_with('\n');
    let count = text.lines().count();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(sth) => out.push(sth),
            // A head cut short by a crash while it was being appended was never published.
            Err(_) if unterminated && i + 1 == count => {}
            Err(e) => return Err(LedgerError::Format(format!("{}:{}: {e}", path.display(), i + 1))),
        }
    }
    Ok(out)
}

/// Reads a hex public key from a file, or takes the argument itself as hex.
pub fn read_public_key(spec_or_path: &Path) -> Result<VerifyingKey> {
    let text = match std::fs::read_to_string(spec_or_path) {
        Ok(t) => t,
        Err(_) => spec_or_path.to_string_lossy().into_owned(),
    };
    let bytes = decode32(text.trim())?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|e| LedgerError::Format(format!("invalid ed25519 public key: {e}")))
}
