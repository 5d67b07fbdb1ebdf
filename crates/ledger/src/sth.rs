//! Signed tree heads (RFC 6962 3.5 / RFC 9162 4.10 in spirit): ed25519 signatures over
//! `version(0) | signature_type(1) | timestamp_ms u64 | tree_size u64 | root_hash[32]`,
//! kept one JSON object per line in `<ledger>.sth`, and the signing key management.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::log::sibling;
use crate::merkle::Hash;
use crate::{LedgerError, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTreeHead {
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
    pub fn sign(key: &SigningKey, tree_size: u64, root: &Hash, timestamp_ms: u64) -> SignedTreeHead {
        let sig = key.sign(&signed_bytes(tree_size, root, timestamp_ms));
        SignedTreeHead {
            tree_size,
            root_hash: hex::encode(root),
            timestamp_ms,
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(sig.to_bytes()),
        }
    }

    pub fn root(&self) -> Result<Hash> {
        decode32(&self.root_hash)
    }

    /// Checks the signature against `key` (the pinned public key).
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
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

pub fn sth_path(ledger: &Path) -> PathBuf {
    sibling(ledger, "sth")
}

pub fn default_key_path(ledger: &Path) -> PathBuf {
    sibling(ledger, "key")
}

pub fn public_key_path(ledger: &Path) -> PathBuf {
    sibling(ledger, "pub")
}

/// Appends a tree head to the `.sth` file and syncs it.
pub fn append_sth(ledger: &Path, sth: &SignedTreeHead) -> Result<()> {
    let path = sth_path(ledger);
    let mut f =
        OpenOptions::new().create(true).append(true).open(&path).map_err(|e| LedgerError::io(&path, e))?;
    let line = serde_json::to_string(sth).map_err(|e| LedgerError::Format(e.to_string()))?;
    writeln!(f, "{line}").map_err(|e| LedgerError::io(&path, e))?;
    f.sync_data().map_err(|e| LedgerError::io(&path, e))
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
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let sth = serde_json::from_str(line)
            .map_err(|e| LedgerError::Format(format!("{}:{}: {e}", path.display(), i + 1)))?;
        out.push(sth);
    }
    Ok(out)
}

/// Whether a key file was found or had to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    Loaded,
    Generated,
}

/// Loads the ed25519 signing key from `key_path`, or generates one there (mode 0600) on
/// first use, writing the public key beside the ledger as `<ledger>.pub`.
pub fn load_or_create_key(key_path: &Path, ledger: &Path) -> Result<(SigningKey, KeyOrigin)> {
    let (key, origin) = match std::fs::read_to_string(key_path) {
        Ok(text) => {
            let seed = decode32(text.trim()).map_err(|_| {
                LedgerError::Format(format!("{}: not a hex ed25519 secret key", key_path.display()))
            })?;
            (SigningKey::from_bytes(&seed), KeyOrigin::Loaded)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed)
                .map_err(|e| LedgerError::Format(format!("no system randomness: {e}")))?;
            let mut opts = OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(key_path).map_err(|e| LedgerError::io(key_path, e))?;
            writeln!(f, "{}", hex::encode(seed)).map_err(|e| LedgerError::io(key_path, e))?;
            f.sync_all().map_err(|e| LedgerError::io(key_path, e))?;
            (SigningKey::from_bytes(&seed), KeyOrigin::Generated)
        }
        Err(e) => return Err(LedgerError::io(key_path, e)),
    };
    let pub_path = public_key_path(ledger);
    if !pub_path.exists() {
        std::fs::write(&pub_path, format!("{}\n", hex::encode(key.verifying_key().as_bytes())))
            .map_err(|e| LedgerError::io(&pub_path, e))?;
    }
    Ok((key, origin))
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
