//! The ledger file: an append-only sequence of framed entries, with durable commits, a
//! checkpoint for fast reopening and recovery of a torn tail after a crash.
//!
//! File layout (all integers little-endian):
//! ```text
//! magic  b"SCRLEDG1"
//! entry  index: u64 | len: u32 | crc32: u32 (over index, len and data) | data: [u8; len]
//! ```
//! The Merkle leaf of an entry is `SHA-256(0x00 || data)`; the framing (index and CRC)
//! lets `verify` name the first missing, reordered or altered entry, while the signed
//! tree heads make a rewrite that recomputes the framing detectable.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::merkle::{Frontier, Hash, leaf_hash};
use crate::{LedgerError, Result};

pub const MAGIC: &[u8; 8] = b"SCRLEDG1";
pub const ENTRY_HEADER: usize = 16;
/// Largest entry accepted (a record or a finding; far above any real one).
pub const MAX_ENTRY: usize = 64 << 20;

/// When appended entries reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `fdatasync` after every entry: each append is acknowledged on its own.
    Always,
    /// `fdatasync` once per commit (a batch of entries): an entry is acknowledged when the
    /// commit that contains it returns. The default.
    #[default]
    Commit,
    /// Never fsync; the operating system writes back when it likes. For benchmarks only:
    /// a power cut may lose entries a commit reported.
    Never,
}

impl Durability {
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Always => "always",
            Durability::Commit => "commit",
            Durability::Never => "never",
        }
    }
}

impl std::str::FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "always" => Ok(Durability::Always),
            "commit" => Ok(Durability::Commit),
            "never" => Ok(Durability::Never),
            other => Err(format!("unknown durability '{other}' (expected always, commit or never)")),
        }
    }
}

pub(crate) fn entry_crc(index: u64, data: &[u8]) -> u32 {
    let mut c = crc32fast::Hasher::new();
    c.update(&index.to_le_bytes());
    c.update(&(data.len() as u32).to_le_bytes());
    c.update(data);
    c.finalize()
}

/// One entry read back from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    pub position: u64,
    pub offset: u64,
    pub index: u64,
    pub crc: u32,
    pub data: Vec<u8>,
}

impl RawEntry {
    pub fn crc_ok(&self) -> bool {
        entry_crc(self.index, &self.data) == self.crc
    }
}

/// What reading the next entry found.
#[derive(Debug)]
pub enum Next {
    Entry(RawEntry),
    /// The file ends inside an entry: an append cut short by a crash (never acknowledged).
    Torn {
        offset: u64,
        bytes: u64,
    },
    End,
}

/// Sequential reader over the entries of a ledger file.
pub struct EntryReader {
    inner: BufReader<File>,
    offset: u64,
    position: u64,
    len: u64,
    path: PathBuf,
}

impl EntryReader {
    pub fn open(path: &Path) -> Result<EntryReader> {
        let file = File::open(path).map_err(|e| LedgerError::io(path, e))?;
        let len = file.metadata().map_err(|e| LedgerError::io(path, e))?.len();
        let mut inner = BufReader::with_capacity(1 << 20, file);
        let mut magic = [0u8; 8];
        inner.read_exact(&mut magic).map_err(|_| LedgerError::NotALedger(path.to_path_buf()))?;
        if &magic != MAGIC {
            return Err(LedgerError::NotALedger(path.to_path_buf()));
        }
        Ok(EntryReader { inner, offset: 8, position: 0, len, path: path.to_path_buf() })
    }

    /// Starts reading at a known entry boundary.
    pub fn seek_to(&mut self, offset: u64, position: u64) -> Result<()> {
        self.inner.seek(SeekFrom::Start(offset)).map_err(|e| LedgerError::io(&self.path, e))?;
        self.offset = offset;
        self.position = position;
        Ok(())
    }

    pub fn next_entry(&mut self) -> Result<Next> {
        let remaining = self.len.saturating_sub(self.offset);
        if remaining == 0 {
            return Ok(Next::End);
        }
        if remaining < ENTRY_HEADER as u64 {
            return Ok(Next::Torn { offset: self.offset, bytes: remaining });
        }
        let mut head = [0u8; ENTRY_HEADER];
        self.inner.read_exact(&mut head).map_err(|e| LedgerError::io(&self.path, e))?;
        let index = u64::from_le_bytes(head[0..8].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(head[8..12].try_into().unwrap_or_default()) as u64;
        let crc = u32::from_le_bytes(head[12..16].try_into().unwrap_or_default());
        if len > MAX_ENTRY as u64 || remaining < ENTRY_HEADER as u64 + len {
            // An impossible length is a torn or damaged tail; the caller decides which.
            return Ok(Next::Torn { offset: self.offset, bytes: remaining });
        }
        let mut data = vec![0u8; len as usize];
        self.inner.read_exact(&mut data).map_err(|e| LedgerError::io(&self.path, e))?;
        let entry = RawEntry { position: self.position, offset: self.offset, index, crc, data };
        self.offset += ENTRY_HEADER as u64 + len;
        self.position += 1;
        Ok(Next::Entry(entry))
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    size: u64,
    offset: u64,
    frontier: Vec<(u32, String)>,
}

/// What opening a ledger for appending had to repair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes of an incomplete or damaged final entry moved aside (never acknowledged).
    pub torn_bytes: u64,
    /// Where they were kept, for inspection.
    pub torn_saved_to: Option<PathBuf>,
}

/// An open ledger accepting appends.
pub struct Ledger {
    path: PathBuf,
    writer: BufWriter<File>,
    frontier: Frontier,
    offset: u64,
    durability: Durability,
    recovery: Recovery,
    committed: u64,
}

pub fn checkpoint_path(path: &Path) -> PathBuf {
    sibling(path, "ckpt")
}

pub(crate) fn sibling(path: &Path, ext: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path`. A torn final entry left by a crash
    /// is moved to `<path>.torn-<offset>` and cut off; a damaged entry elsewhere is an error
    /// (run `verify`).
    pub fn open(path: &Path, durability: Durability) -> Result<Ledger> {
        let exists = path.exists();
        if !exists {
            let mut f = OpenOptions::new()
                .create_new(true)
                .write(true)
                .open(path)
                .map_err(|e| LedgerError::io(path, e))?;
            f.write_all(MAGIC).map_err(|e| LedgerError::io(path, e))?;
            f.sync_all().map_err(|e| LedgerError::io(path, e))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // Make the new directory entry durable too.
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        let (frontier, offset, recovery) = Ledger::recover(path)?;
        let file = OpenOptions::new().write(true).open(path).map_err(|e| LedgerError::io(path, e))?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        writer.seek(SeekFrom::Start(offset)).map_err(|e| LedgerError::io(path, e))?;
        let committed = frontier.size();
        Ok(Ledger { path: path.to_path_buf(), writer, frontier, offset, durability, recovery, committed })
    }

    fn load_checkpoint(path: &Path, file_len: u64) -> Option<(Frontier, u64)> {
        let text = std::fs::read_to_string(checkpoint_path(path)).ok()?;
        let c: Checkpoint = serde_json::from_str(&text).ok()?;
        if c.offset > file_len {
            return None;
        }
        let mut nodes = Vec::with_capacity(c.frontier.len());
        for (h, hx) in c.frontier {
            let bytes = hex::decode(hx).ok()?;
            nodes.push((h, bytes.try_into().ok()?));
        }
        Some((Frontier::from_parts(c.size, nodes)?, c.offset))
    }

    fn recover(path: &Path) -> Result<(Frontier, u64, Recovery)> {
        let file_len = std::fs::metadata(path).map_err(|e| LedgerError::io(path, e))?.len();
        let mut reader = EntryReader::open(path)?;
        let (mut frontier, start) = match Ledger::load_checkpoint(path, file_len) {
            Some((f, off)) => (f, off),
            None => (Frontier::new(), 8),
        };
        reader.seek_to(start, frontier.size())?;
        let mut recovery = Recovery::default();
        let offset;
        loop {
            match reader.next_entry()? {
                Next::Entry(e) => {
                    if e.index != e.position || !e.crc_ok() {
                        let rest = file_len - e.offset;
                        // Only the very last entry can be a torn write; anything earlier is damage.
                        if e.offset + ENTRY_HEADER as u64 + e.data.len() as u64 == file_len {
                            recovery = Ledger::set_aside(path, e.offset, rest)?;
                            offset = e.offset;
                            break;
                        }
                        return Err(LedgerError::Damaged {
                            path: path.to_path_buf(),
                            position: e.position,
                            what: if e.crc_ok() { "out of sequence" } else { "checksum mismatch" },
                        });
                    }
                    frontier.push(leaf_hash(&e.data));
                }
                Next::Torn { offset: o, bytes } => {
                    recovery = Ledger::set_aside(path, o, bytes)?;
                    offset = o;
                    break;
                }
                Next::End => {
                    offset = reader.offset();
                    break;
                }
            }
        }
        Ok((frontier, offset, recovery))
    }

    fn set_aside(path: &Path, offset: u64, bytes: u64) -> Result<Recovery> {
        let mut f =
            OpenOptions::new().read(true).write(true).open(path).map_err(|e| LedgerError::io(path, e))?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| LedgerError::io(path, e))?;
        let mut tail = Vec::with_capacity(bytes.min(MAX_ENTRY as u64 + 64) as usize);
        (&mut f).take(bytes).read_to_end(&mut tail).map_err(|e| LedgerError::io(path, e))?;
        let saved = sibling(path, &format!("torn-{offset}"));
        std::fs::write(&saved, &tail).map_err(|e| LedgerError::io(&saved, e))?;
        f.set_len(offset).map_err(|e| LedgerError::io(path, e))?;
        f.sync_all().map_err(|e| LedgerError::io(path, e))?;
        Ok(Recovery { torn_bytes: bytes, torn_saved_to: Some(saved) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn durability(&self) -> Durability {
        self.durability
    }

    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Entries in the log, committed or not.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Entries acknowledged durable (by the last commit).
    pub fn committed(&self) -> u64 {
        self.committed
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Appends one entry and returns its index. It is durable once [`Ledger::commit`]
    /// returns (or at once under [`Durability::Always`]).
    pub fn append(&mut self, data: &[u8]) -> Result<u64> {
        if data.len() > MAX_ENTRY {
            return Err(LedgerError::TooLarge(data.len()));
        }
        let index = self.frontier.size();
        let mut head = [0u8; ENTRY_HEADER];
        head[0..8].copy_from_slice(&index.to_le_bytes());
        head[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        head[12..16].copy_from_slice(&entry_crc(index, data).to_le_bytes());
        self.writer.write_all(&head).map_err(|e| LedgerError::io(&self.path, e))?;
        self.writer.write_all(data).map_err(|e| LedgerError::io(&self.path, e))?;
        self.offset += (ENTRY_HEADER + data.len()) as u64;
        self.frontier.push(leaf_hash(data));
        if self.durability == Durability::Always {
            self.commit()?;
        }
        Ok(index)
    }

    /// Appends entries whose leaf hashes were computed elsewhere (in parallel).
    pub fn append_hashed(&mut self, data: &[u8], leaf: Hash) -> Result<u64> {
        debug_assert_eq!(leaf, leaf_hash(data));
        if data.len() > MAX_ENTRY {
            return Err(LedgerError::TooLarge(data.len()));
        }
        let index = self.frontier.size();
        let mut head = [0u8; ENTRY_HEADER];
        head[0..8].copy_from_slice(&index.to_le_bytes());
        head[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        head[12..16].copy_from_slice(&entry_crc(index, data).to_le_bytes());
        self.writer.write_all(&head).map_err(|e| LedgerError::io(&self.path, e))?;
        self.writer.write_all(data).map_err(|e| LedgerError::io(&self.path, e))?;
        self.offset += (ENTRY_HEADER + data.len()) as u64;
        self.frontier.push(leaf);
        if self.durability == Durability::Always {
            self.commit()?;
        }
        Ok(index)
    }

    /// Writes buffered entries, syncs them (unless [`Durability::Never`]) and records a
    /// checkpoint. Every entry appended before this returns is acknowledged.
    pub fn commit(&mut self) -> Result<u64> {
        self.writer.flush().map_err(|e| LedgerError::io(&self.path, e))?;
        if self.durability != Durability::Never {
            self.writer.get_ref().sync_data().map_err(|e| LedgerError::io(&self.path, e))?;
        }
        self.committed = self.frontier.size();
        self.write_checkpoint()?;
        Ok(self.committed)
    }

    fn write_checkpoint(&self) -> Result<()> {
        let c = Checkpoint {
            size: self.frontier.size(),
            offset: self.offset,
            frontier: self.frontier.nodes().iter().map(|(h, x)| (*h, hex::encode(x))).collect(),
        };
        let path = checkpoint_path(&self.path);
        let tmp = sibling(&self.path, "ckpt.tmp");
        let text = serde_json::to_string(&c).map_err(|e| LedgerError::Format(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| LedgerError::io(&tmp, e))?;
        // The checkpoint only speeds up reopening: a stale one is caught up from the data,
        // so it is renamed without an fsync of its own.
        std::fs::rename(&tmp, &path).map_err(|e| LedgerError::io(&path, e))?;
        Ok(())
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = self.writer.flush();
    }
}

/// Reads every entry's leaf hash, failing on the first damaged entry.
pub fn read_leaf_hashes(path: &Path) -> Result<Vec<Hash>> {
    let mut reader = EntryReader::open(path)?;
    let mut out = Vec::new();
    loop {
        match reader.next_entry()? {
            Next::Entry(e) => {
                if e.index != e.position || !e.crc_ok() {
                    return Err(LedgerError::Damaged {
                        path: path.to_path_buf(),
                        position: e.position,
                        what: if e.crc_ok() { "out of sequence" } else { "checksum mismatch" },
                    });
                }
                out.push(leaf_hash(&e.data));
            }
            Next::Torn { .. } | Next::End => return Ok(out),
        }
    }
}

/// Reads entries `from..to` (data only), failing on a damaged entry among them.
pub fn read_entries(path: &Path, from: u64, to: u64) -> Result<Vec<RawEntry>> {
    let mut reader = EntryReader::open(path)?;
    let mut out = Vec::new();
    loop {
        match reader.next_entry()? {
            Next::Entry(e) if e.position >= to => return Ok(out),
            Next::Entry(e) => {
                if e.position >= from {
                    if e.index != e.position || !e.crc_ok() {
                        return Err(LedgerError::Damaged {
                            path: path.to_path_buf(),
                            position: e.position,
                            what: if e.crc_ok() { "out of sequence" } else { "checksum mismatch" },
                        });
                    }
                    out.push(e);
                }
            }
            Next::Torn { .. } | Next::End => return Ok(out),
        }
    }
}
