//! The signing key and the signer's own record of what it has signed, both kept away from
//! the ledger's folder: whoever can write the ledger must not be able to re-sign it, nor
//! make the signer forget a head it already signed.
//!
//! For a key at `KEY`, the signer keeps `KEY.<ledger id>.state` (JSON, mode 0600): the last
//! tree head it published for that ledger, the head it is about to publish (so that a crash
//! between signing and publishing is recognised) and whether a writer was interrupted with
//! entries beyond the last head (so that its unacknowledged entries can be told apart from
//! frames appended by someone else).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::sth::{SignedTreeHead, decode32, public_key_path};
use crate::{LedgerError, Result};

/// Environment variable naming the signing key file (the `--key` of every ledger writer).
pub const KEY_ENV: &str = "SCRUTINEER_LEDGER_KEY";

/// A stable name for a ledger: a hash of its absolute, symlink-free path. It keys the
/// default key file and the signer's record, so one key's record never mixes two ledgers.
pub fn ledger_id(ledger: &Path) -> Result<String> {
    let abs = absolute(ledger)?;
    let digest = Sha256::digest(abs.as_os_str().as_encoded_bytes());
    Ok(hex::encode(&digest[..8]))
}

/// The absolute path of `path`, resolving symbolic links in the folder (the file itself
/// need not exist yet).
pub(crate) fn absolute(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| LedgerError::Format(format!("{} does not name a file", path.display())))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = parent.canonicalize().map_err(|e| LedgerError::io(&parent, e))?;
    Ok(dir.join(name))
}

/// The user's configuration folder for Scrutineer: `$XDG_CONFIG_HOME/scrutineer`, else
/// `$HOME/.config/scrutineer`.
pub fn config_dir() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".config"))
        })
        .ok_or_else(|| {
            LedgerError::Key(format!(
                "neither XDG_CONFIG_HOME nor HOME is set; name the signing key with --key or {KEY_ENV}"
            ))
        })?;
    Ok(base.join("scrutineer"))
}

/// Where the key of `ledger` lives unless the operator names one:
/// `<config>/ledger-keys/<ledger file name>-<ledger id>.key`.
pub fn default_key_path(ledger: &Path) -> Result<PathBuf> {
    let stem = ledger.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(config_dir()?.join("ledger-keys").join(format!("{stem}-{}.key", ledger_id(ledger)?)))
}

/// Whether a key file was found or had to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Read from an existing key file.
    Loaded,
    /// Made now, and written with mode 0600.
    Generated,
}

/// What the signer remembers about one ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerState {
    /// The ledger file this record is about (for people reading it).
    pub ledger: String,
    /// The last tree head known to be published in the ledger's `.sth`.
    pub published: Option<SignedTreeHead>,
    /// A head signed and being appended to `.sth`; a crash may leave it unpublished.
    pub publishing: Option<SignedTreeHead>,
    /// Set while a writer holds the ledger: entries it appended beyond this size are not yet
    /// acknowledged. Left set by a writer that was killed.
    pub writing_from: Option<u64>,
}

/// An ed25519 key with its record of signed heads for one ledger.
pub struct Signer {
    key: SigningKey,
    key_path: PathBuf,
    state_path: PathBuf,
    origin: KeyOrigin,
}

/// How to treat a key file found inside the ledger's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyPlacement {
    /// Refuse it: whoever can write the ledger could then re-sign it.
    #[default]
    OutsideLedgerFolder,
    /// Accept it (tests, throw-away ledgers); the operator asked for it explicitly.
    AllowBesideLedger,
}

impl Signer {
    /// Loads the key at `key_path` (or the default for `ledger`), creating it with mode 0600
    /// on first use, and writes the public key beside the ledger as `<ledger>.pub`.
    pub fn load_or_create(key_path: Option<&Path>, ledger: &Path, placement: KeyPlacement) -> Result<Signer> {
        let key_path = match key_path {
            Some(p) => p.to_path_buf(),
            None => default_key_path(ledger)?,
        };
        if placement == KeyPlacement::OutsideLedgerFolder && inside_ledger_folder(&key_path, ledger)? {
            return Err(LedgerError::Key(format!(
                "the signing key {} is inside the ledger's folder, where whoever can rewrite the ledger can also re-sign it; keep it elsewhere (the default is under {}), or pass --allow-key-beside-ledger",
                key_path.display(),
                config_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| "~/.config/scrutineer".into())
            )));
        }
        let (key, origin) = load_or_create_key(&key_path)?;
        let pub_path = public_key_path(ledger);
        let want = format!("{}\n", hex::encode(key.verifying_key().as_bytes()));
        match std::fs::read_to_string(&pub_path) {
            Ok(text) if text == want => {}
            Ok(_) | Err(_) => write_file_mode(&pub_path, want.as_bytes(), 0o644, true)?,
        }
        let file = key_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let state_path = key_path.with_file_name(format!("{file}.{}.state", ledger_id(ledger)?));
        Ok(Signer { key, key_path, state_path, origin })
    }

    /// The secret key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Where the key is kept.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// Where the signer's record of the heads it published is kept.
    pub fn state_path(&self) -> &Path {
        &self.state_path
    }

    /// Whether the key was loaded or made now.
    pub fn origin(&self) -> KeyOrigin {
        self.origin
    }

    /// The public key, for verifiers.
    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.verifying_key()
    }

    /// The signer's record for this ledger (empty if it never signed for it).
    pub fn read_state(&self) -> Result<SignerState> {
        match std::fs::read_to_string(&self.state_path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                LedgerError::Key(format!(
                    "{}: the signer's record does not parse: {e}",
                    self.state_path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SignerState::default()),
            Err(e) => Err(LedgerError::io(&self.state_path, e)),
        }
    }

    /// Replaces the record (write, sync unless `sync` is false, rename). Only the holder
    /// of the ledger's lock calls this.
    pub fn write_state(&self, state: &SignerState, sync: bool) -> Result<()> {
        let text = serde_json::to_vec_pretty(state).map_err(|e| LedgerError::Format(e.to_string()))?;
        let tmp = self.state_path.with_extension("state.tmp");
        write_file_mode(&tmp, &text, 0o600, sync)?;
        std::fs::rename(&tmp, &self.state_path).map_err(|e| LedgerError::io(&self.state_path, e))?;
        if sync {
            sync_dir(&self.state_path);
        }
        Ok(())
    }
}

/// Whether the key would sit in the very folder that holds the ledger. (Subfolders are
/// allowed: a ledger in the home folder keeps its key under `~/.config`.)
fn inside_ledger_folder(key_path: &Path, ledger: &Path) -> Result<bool> {
    let ledger_dir = absolute(ledger)?.parent().map(Path::to_path_buf).unwrap_or_default();
    let key_parent = match key_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // The key's folder may not exist yet; then it is not the ledger's (which does).
    Ok(key_parent.canonicalize().is_ok_and(|k| k == ledger_dir))
}

fn load_or_create_key(key_path: &Path) -> Result<(SigningKey, KeyOrigin)> {
    match std::fs::read_to_string(key_path) {
        Ok(text) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(key_path)
                    .map_err(|e| LedgerError::io(key_path, e))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(LedgerError::Key(format!(
                        "the signing key {} is readable by other users (mode {:o}); run chmod 600 on it",
                        key_path.display(),
                        mode & 0o777
                    )));
                }
            }
            let seed = decode32(text.trim()).map_err(|_| {
                LedgerError::Key(format!("{}: not a hex ed25519 secret key", key_path.display()))
            })?;
            Ok((SigningKey::from_bytes(&seed), KeyOrigin::Loaded))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = key_path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir)?;
            }
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| LedgerError::Key(format!("no system randomness: {e}")))?;
            let mut f = create_new_private(key_path)?;
            writeln!(f, "{}", hex::encode(seed)).map_err(|e| LedgerError::io(key_path, e))?;
            f.sync_all().map_err(|e| LedgerError::io(key_path, e))?;
            sync_dir(key_path);
            Ok((SigningKey::from_bytes(&seed), KeyOrigin::Generated))
        }
        Err(e) => Err(LedgerError::io(key_path, e)),
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| LedgerError::io(dir, e))
}

/// Creates a new file readable by its owner only, whatever the umask.
pub(crate) fn create_new_private(path: &Path) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts.open(path).map_err(|e| LedgerError::io(path, e))?;
    set_mode(&f, path, 0o600)?;
    Ok(f)
}

/// Sets a file's mode explicitly, since the mode given at creation is narrowed by the umask.
pub(crate) fn set_mode(f: &File, path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(|e| LedgerError::io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (f, path, mode);
    Ok(())
}

/// Writes `bytes` to `path` (replacing it), synced if `sync`, with exactly `mode`.
pub(crate) fn write_file_mode(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    let mut f = opts.open(path).map_err(|e| LedgerError::io(path, e))?;
    set_mode(&f, path, mode)?;
    f.write_all(bytes).map_err(|e| LedgerError::io(path, e))?;
    if sync {
        f.sync_all().map_err(|e| LedgerError::io(path, e))?;
    }
    Ok(())
}

/// Makes a rename or creation in `path`'s folder durable (best effort: not every file
/// system lets a folder be synced).
pub(crate) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
}
