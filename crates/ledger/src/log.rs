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

use crate::keys::{Signer, SignerState};
use crate::merkle::{Frontier, Hash, leaf_hash};
use crate::sth::{SignedTreeHead, read_sths};
use crate::{LedgerError, Result};

/// The first bytes of every ledger file.
pub const MAGIC: &[u8; 8] = b"SCRLEDG1";
/// Bytes of an entry's header: index u64, length u32, CRC-32 u32 (little-endian).
pub const ENTRY_HEADER: usize = 16;
/// Largest entry accepted (a record or a finding; far above any real one).
pub const MAX_ENTRY: usize = 64 << 20;

/// When appended entries reach the disk. Whatever the setting, an entry is acknowledged
/// only when a signed tree head covers it ([`Ledger::sign`] syncs everything first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `fdatasync` after every entry.
    Always,
    /// `fdatasync` when a tree head is signed (once per batch). The default.
    #[default]
    Commit,
    /// Never fsync (neither entries nor heads nor the signer's record); the operating system
    /// writes back when it likes. For benchmarks only: after a power cut the ledger, its heads
    /// and the record may disagree, and the writer then refuses to continue.
    Never,
}

impl Durability {
    /// The name `--fsync` takes.
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
    /// Its position in the file (0-based).
    pub position: u64,
    /// Its byte offset in the file.
    pub offset: u64,
    /// The index its header gives.
    pub index: u64,
    /// The CRC-32 its header gives.
    pub crc: u32,
    /// Its data.
    pub data: Vec<u8>,
}

impl RawEntry {
    /// Whether the data matches the CRC.
    pub fn crc_ok(&self) -> bool {
        entry_crc(self.index, &self.data) == self.crc
    }
}

/// What reading the next entry found.
#[derive(Debug)]
pub enum Next {
    /// A complete entry.
    Entry(RawEntry),
    /// The file ends inside an entry: an append cut short by a crash (never acknowledged).
    Torn {
        /// Where the entry starts in the file.
        offset: u64,
        /// Bytes of it in the file.
        bytes: u64,
    },
    /// The end of the file, after a complete entry.
    End,
}

/// Sequential reader over the entries of a ledger file (or of its bytes in memory).
pub struct EntryReader<R = BufReader<File>> {
    inner: R,
    offset: u64,
    position: u64,
    len: u64,
    path: PathBuf,
}

impl EntryReader<BufReader<File>> {
    /// Opens a ledger file and checks its magic bytes.
    pub fn open(path: &Path) -> Result<EntryReader<BufReader<File>>> {
        let file = File::open(path).map_err(|e| LedgerError::io(path, e))?;
        let len = file.metadata().map_err(|e| LedgerError::io(path, e))?.len();
        EntryReader::from_reader(BufReader::with_capacity(1 << 20, file), len, path)
    }
}

impl<'a> EntryReader<std::io::Cursor<&'a [u8]>> {
    /// Reads a ledger held in memory; `name` is what errors call it.
    pub fn from_bytes(bytes: &'a [u8], name: &Path) -> Result<EntryReader<std::io::Cursor<&'a [u8]>>> {
        EntryReader::from_reader(std::io::Cursor::new(bytes), bytes.len() as u64, name)
    }
}

impl<R: Read + Seek> EntryReader<R> {
    /// Reads `len` bytes of ledger from `inner`, positioned at its start.
    pub fn from_reader(mut inner: R, len: u64, name: &Path) -> Result<EntryReader<R>> {
        let mut magic = [0u8; 8];
        inner.read_exact(&mut magic).map_err(|_| LedgerError::NotALedger(name.to_path_buf()))?;
        if &magic != MAGIC {
            return Err(LedgerError::NotALedger(name.to_path_buf()));
        }
        Ok(EntryReader { inner, offset: 8, position: 0, len, path: name.to_path_buf() })
    }

    /// Starts reading at a known entry boundary.
    pub fn seek_to(&mut self, offset: u64, position: u64) -> Result<()> {
        self.inner.seek(SeekFrom::Start(offset)).map_err(|e| LedgerError::io(&self.path, e))?;
        self.offset = offset;
        self.position = position;
        Ok(())
    }

    /// Reads the next entry.
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
            // The reader stays where the bad frame starts.
            self.inner.seek(SeekFrom::Start(self.offset)).map_err(|e| LedgerError::io(&self.path, e))?;
            return Ok(Next::Torn { offset: self.offset, bytes: remaining });
        }
        let mut data = vec![0u8; len as usize];
        self.inner.read_exact(&mut data).map_err(|e| LedgerError::io(&self.path, e))?;
        let entry = RawEntry { position: self.position, offset: self.offset, index, crc, data };
        self.offset += ENTRY_HEADER as u64 + len;
        self.position += 1;
        Ok(Next::Entry(entry))
    }

    /// The byte offset of the next entry.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    size: u64,
    offset: u64,
    /// Where the last entry starts, so that reopening can check the checkpoint points at it.
    #[serde(default)]
    last_entry_offset: Option<u64>,
    frontier: Vec<(u32, String)>,
}

/// What opening a ledger for appending found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes of an incomplete or damaged final entry set aside (never acknowledged).
    pub torn_bytes: u64,
    /// Complete entries an interrupted writer appended after its last signed tree head,
    /// set aside: none of them was acknowledged.
    pub unacknowledged_entries: u64,
    /// Where the set-aside bytes were kept, for inspection.
    pub torn_saved_to: Option<PathBuf>,
    /// A tree head the signer signed just before a crash, published on reopening.
    pub republished: Option<u64>,
    /// The signer had no record for this ledger and took its last signed head as the start.
    pub adopted_head: Option<u64>,
}

/// Whether a second writer waits for the first or fails at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockWait {
    /// Wait for the other writer to finish.
    #[default]
    Wait,
    /// Fail at once with [`LedgerError::Locked`].
    Fail,
}

/// How to open a ledger for appending.
#[derive(Default)]
pub struct WriterOptions<'a> {
    /// When entries reach the disk.
    pub durability: Durability,
    /// What to do when another writer holds the lock.
    pub lock: LockWait,
    /// Called once if another writer holds the ledger and this one is going to wait.
    pub on_wait: Option<&'a dyn Fn(&Path)>,
}

/// An open ledger accepting appends: it holds the ledger's exclusive lock, and every head it
/// signs extends the last one its signer recorded.
pub struct Ledger {
    path: PathBuf,
    writer: BufWriter<File>,
    frontier: Frontier,
    offset: u64,
    last_entry_offset: Option<u64>,
    durability: Durability,
    recovery: Recovery,
    committed: u64,
    signer: Signer,
    state: SignerState,
    closed: bool,
}

/// Where the checkpoint of a ledger is kept (`PATH.ckpt`).
pub fn checkpoint_path(path: &Path) -> PathBuf {
    sibling(path, "ckpt")
}

pub(crate) fn sibling(path: &Path, ext: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn refused(path: &Path, why: String) -> LedgerError {
    LedgerError::Refused { path: path.to_path_buf(), why }
}

fn same_head(a: &SignedTreeHead, b: &SignedTreeHead) -> bool {
    a.tree_size == b.tree_size && a.root_hash == b.root_hash
}

fn same_opt(a: Option<&SignedTreeHead>, b: Option<&SignedTreeHead>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_head(a, b),
        _ => false,
    }
}

fn describe(h: Option<&SignedTreeHead>) -> String {
    h.map(|h| format!("size {} root {}", h.tree_size, h.root_hash)).unwrap_or_else(|| "none".to_owned())
}

/// What follows the entries covered by the trusted head.
struct Tail {
    /// Well-formed entries continuing the sequence, with their leaf hashes.
    entries: Vec<(u64, Hash)>,
    /// Where the well-formed entries end.
    end: u64,
    /// Bytes after them that are not a well-formed entry (a torn or damaged frame, garbage).
    rest: u64,
    /// Whether `rest` is exactly one frame that the file ends inside of, or one complete
    /// frame with a bad checksum ending the file: what a crash mid-append leaves.
    rest_is_one_frame: bool,
}

fn read_tail(path: &Path, file_len: u64, offset: u64, position: u64) -> Result<Tail> {
    let mut reader = EntryReader::open(path)?;
    reader.seek_to(offset, position)?;
    let mut entries = Vec::new();
    loop {
        match reader.next_entry()? {
            Next::Entry(e) if e.index == e.position && e.crc_ok() => {
                entries.push((e.offset, leaf_hash(&e.data)));
            }
            Next::Entry(e) => {
                let frame_end = e.offset + ENTRY_HEADER as u64 + e.data.len() as u64;
                return Ok(Tail {
                    entries,
                    end: e.offset,
                    rest: file_len - e.offset,
                    rest_is_one_frame: frame_end == file_len,
                });
            }
            Next::Torn { offset: o, bytes } => {
                return Ok(Tail { entries, end: o, rest: bytes, rest_is_one_frame: true });
            }
            Next::End => {
                return Ok(Tail { entries, end: reader.offset(), rest: 0, rest_is_one_frame: false });
            }
        }
    }
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path` for appending, signed by `signer`.
    ///
    /// It takes the ledger's exclusive lock, then refuses to start unless everything in the
    /// file is covered by the last signed tree head, and that head is the one the signer
    /// last published for this ledger. Two things are set aside (moved to
    /// `<path>.torn-<offset>`) and reported rather than refused: an incomplete final frame
    /// (a crash mid-append), and entries an interrupted writer of this signer appended after
    /// its last head (never acknowledged). Nothing covered by a signed head is ever moved.
    pub fn open(path: &Path, signer: Signer, opts: &WriterOptions<'_>) -> Result<Ledger> {
        let file = open_locked(path, opts)?;
        let file_len = file.metadata().map_err(|e| LedgerError::io(path, e))?.len();
        // Reading the magic here reports a file that is not a ledger before anything else.
        EntryReader::open(path)?;
        let heads = read_sths(path)?;
        for w in heads.windows(2) {
            if w[1].tree_size < w[0].tree_size
                || (w[1].tree_size == w[0].tree_size && w[1].root_hash != w[0].root_hash)
            {
                return Err(refused(
                    path,
                    format!(
                        "its signed tree heads contradict each other (size {} after size {}); run `scrutineer ledger verify`",
                        w[1].tree_size, w[0].tree_size
                    ),
                ));
            }
        }
        let last = heads.last();
        let pk = signer.verifying_key();
        if let Some(h) = last {
            h.verify(&pk).map_err(|e| {
                refused(
                    path,
                    format!(
                        "its last signed tree head does not verify with the signing key {}: {e}",
                        signer.key_path().display()
                    ),
                )
            })?;
        }
        let mut state = signer.read_state()?;
        let mut recovery = Recovery::default();
        // The head to build on, and one signed before a crash that still has to be published.
        let (recorded, signing) = (state.published.clone(), state.publishing.clone());
        let (trusted, to_publish) = match (recorded.as_ref(), signing.as_ref(), last) {
            // Published, but the crash came before the record said so.
            (_, Some(p), Some(t)) if same_head(p, t) => {
                state.published = Some(p.clone());
                state.publishing = None;
                (Some(p.clone()), None)
            }
            (published, Some(p), t) if same_opt(published, t) => (published.cloned(), Some(p.clone())),
            (published, None, t) if same_opt(published, t) => (published.cloned(), None),
            (None, None, Some(t)) if state.writing_from.is_none() => {
                recovery.adopted_head = Some(t.tree_size);
                (Some(t.clone()), None)
            }
            (published, _, t) => {
                let why = if t.is_none() {
                    format!(
                        "its signed tree heads ({}) are missing or empty, but the signing key last published {} for it; run `scrutineer ledger verify`",
                        crate::sth::sth_path(path).display(),
                        describe(published)
                    )
                } else {
                    format!(
                        "its last signed tree head ({}) is not the one the signing key last published for it ({}; record {}); run `scrutineer ledger verify`",
                        describe(t),
                        describe(published),
                        signer.state_path().display()
                    )
                };
                return Err(refused(path, why));
            }
        };
        let size = trusted.as_ref().map(|h| h.tree_size).unwrap_or(0);
        let root = match &trusted {
            Some(h) => h.root()?,
            None => crate::merkle::empty_root(),
        };
        let (mut frontier, mut offset, mut last_entry_offset) = establish(path, file_len, size, &root)?;
        let tail = read_tail(path, file_len, offset, size)?;
        let mut taken = 0usize;
        let mut published = trusted;
        if let Some(p) = to_publish {
            // Signed just before a crash: publish it if the entries it covers all made it.
            let want = p.tree_size.saturating_sub(size) as usize;
            if p.tree_size >= size && tail.entries.len() >= want {
                let mut f = frontier.clone();
                tail.entries[..want].iter().for_each(|(_, h)| f.push(*h));
                if f.root() == p.root()? {
                    crate::sth::append_sth(path, &p, true)?;
                    frontier = f;
                    taken = want;
                    if want > 0 {
                        last_entry_offset = Some(tail.entries[want - 1].0);
                        offset = tail.entries.get(want).map(|(o, _)| *o).unwrap_or(tail.end);
                    }
                    recovery.republished = Some(p.tree_size);
                    published = Some(p);
                }
            }
            state.published = published.clone();
            state.publishing = None;
        }
        let covered = frontier.size();
        let leftover_entries = (tail.entries.len() - taken) as u64;
        let leftover = file_len - offset;
        if leftover > 0 {
            // Only this signer's writer sets `writing_from`, and a clean close clears it:
            // set, it means a writer was killed with entries beyond its last head, none of
            // them acknowledged.
            let interrupted = state.writing_from.is_some() || recovery.republished.is_some();
            if interrupted || (leftover_entries == 0 && tail.rest_is_one_frame) {
                let saved = set_aside(path, offset, leftover)?;
                recovery.torn_bytes = tail.rest;
                recovery.unacknowledged_entries = leftover_entries;
                recovery.torn_saved_to = Some(saved);
            } else if leftover_entries > 0 {
                return Err(refused(
                    path,
                    format!(
                        "entries {covered}..{} are not covered by a signed tree head, and no writer with this key was interrupted there: they were not appended by Scrutineer; run `scrutineer ledger verify`",
                        covered + leftover_entries
                    ),
                ));
            } else {
                return Err(refused(
                    path,
                    format!(
                        "{leftover} bytes after entry {} are not a well-formed entry; run `scrutineer ledger verify`",
                        covered.saturating_sub(1)
                    ),
                ));
            }
        }
        state.ledger =
            crate::keys::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
        state.writing_from = Some(covered);
        signer.write_state(&state, true)?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        writer.seek(SeekFrom::Start(offset)).map_err(|e| LedgerError::io(path, e))?;
        let ledger = Ledger {
            path: path.to_path_buf(),
            writer,
            frontier,
            offset,
            last_entry_offset,
            durability: opts.durability,
            recovery,
            committed: covered,
            signer,
            state,
            closed: false,
        };
        ledger.write_checkpoint()?;
        Ok(ledger)
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When entries reach the disk.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// What opening the ledger recovered from an interrupted run.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The signer.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Entries in the log, acknowledged or not.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Entries acknowledged: covered by the last signed tree head.
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// The root hash of every entry appended so far.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The last tree head this ledger published.
    pub fn head(&self) -> Option<&SignedTreeHead> {
        self.state.published.as_ref()
    }

    /// Appends one entry and returns its index. It is acknowledged once [`Ledger::sign`]
    /// returns.
    pub fn append(&mut self, data: &[u8]) -> Result<u64> {
        self.append_hashed(data, leaf_hash(data))
    }

    /// Appends an entry whose leaf hash was computed elsewhere (in parallel).
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
        self.last_entry_offset = Some(self.offset);
        self.offset += (ENTRY_HEADER + data.len()) as u64;
        self.frontier.push(leaf);
        if self.durability == Durability::Always {
            self.flush()?;
        }
        Ok(index)
    }

    /// Writes buffered entries and syncs them (unless [`Durability::Never`]); they are
    /// durable but not acknowledged until [`Ledger::sign`] covers them.
    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush().map_err(|e| LedgerError::io(&self.path, e))?;
        if self.durability != Durability::Never {
            self.writer.get_ref().sync_data().map_err(|e| LedgerError::io(&self.path, e))?;
        }
        Ok(())
    }

    /// Makes every appended entry durable and signs a tree head covering it, published in
    /// `<path>.sth`: every entry appended before this returns is acknowledged.
    ///
    /// The signer records the head before publishing it, so that a crash in between is
    /// recognised; it refuses a second root for a size it already signed.
    pub fn sign(&mut self) -> Result<SignedTreeHead> {
        self.flush()?;
        let size = self.frontier.size();
        let root = self.frontier.root();
        if let Some(p) = &self.state.published {
            let old_root = p.root()?;
            if size < p.tree_size || (size == p.tree_size && root != old_root) {
                return Err(refused(
                    &self.path,
                    format!(
                        "the signing key already signed size {} with root {}; it will not sign size {size} with root {}",
                        p.tree_size,
                        p.root_hash,
                        hex::encode(root)
                    ),
                ));
            }
            if size == p.tree_size {
                return Ok(p.clone());
            }
        }
        let head = SignedTreeHead::sign(self.signer.key(), size, &root, crate::now_ms());
        // Recorded before it is published; once `.sth` ends with it, reopening takes the
        // recorded head as published (see `open`), so no second write of the record is needed.
        let sync = self.durability != Durability::Never;
        self.state.publishing = Some(head.clone());
        self.signer.write_state(&self.state, sync)?;
        crate::sth::append_sth(&self.path, &head, sync)?;
        self.state.published = Some(head.clone());
        self.state.publishing = None;
        self.committed = size;
        self.write_checkpoint()?;
        Ok(head)
    }

    /// Releases the ledger. Entries appended since the last [`Ledger::sign`] stay
    /// unacknowledged: the next writer sets them aside.
    pub fn close(mut self) -> Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.writer.flush().map_err(|e| LedgerError::io(&self.path, e))?;
        if self.frontier.size() == self.committed {
            self.state.writing_from = None;
            self.signer.write_state(&self.state, true)?;
        }
        Ok(())
    }

    fn write_checkpoint(&self) -> Result<()> {
        let c = Checkpoint {
            size: self.frontier.size(),
            offset: self.offset,
            last_entry_offset: self.last_entry_offset,
            frontier: self.frontier.nodes().iter().map(|(h, x)| (*h, hex::encode(x))).collect(),
        };
        let path = checkpoint_path(&self.path);
        let tmp = sibling(&self.path, "ckpt.tmp");
        let text = serde_json::to_string(&c).map_err(|e| LedgerError::Format(e.to_string()))?;
        // The checkpoint only speeds up reopening and is trusted only when it reproduces the
        // signed root, so it is renamed without an fsync of its own.
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| LedgerError::io(&tmp, e))?;
        crate::keys::set_mode(&f, &tmp, 0o600)?;
        f.write_all(text.as_bytes()).map_err(|e| LedgerError::io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(|e| LedgerError::io(&path, e))?;
        Ok(())
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// Opens the ledger file (creating it, mode 0600, with its magic) and takes its lock.
fn open_locked(path: &Path, opts: &WriterOptions<'_>) -> Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut file = o.open(path).map_err(|e| LedgerError::io(path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => match opts.lock {
            LockWait::Fail => {
                return Err(LedgerError::Locked(path.to_path_buf()));
            }
            LockWait::Wait => {
                if let Some(f) = opts.on_wait {
                    f(path);
                }
                file.lock().map_err(|e| LedgerError::io(path, e))?;
            }
        },
        Err(std::fs::TryLockError::Error(e)) => return Err(LedgerError::io(path, e)),
    }
    // Created just now (by this writer or one that lost the race to the lock): the lock
    // holder writes the magic.
    if file.metadata().map_err(|e| LedgerError::io(path, e))?.len() == 0 {
        crate::keys::set_mode(&file, path, 0o600)?;
        file.write_all(MAGIC).map_err(|e| LedgerError::io(path, e))?;
        file.sync_all().map_err(|e| LedgerError::io(path, e))?;
        crate::keys::sync_dir(path);
    }
    Ok(file)
}

fn load_checkpoint(path: &Path, file_len: u64) -> Option<(Frontier, u64, Option<u64>)> {
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
    Some((Frontier::from_parts(c.size, nodes)?, c.offset, c.last_entry_offset))
}

/// The frontier and end offset of the first `size` entries, which must reproduce `root`.
///
/// A checkpoint is used when it reproduces the signed root (so its frontier is the signed
/// tree's) and its offset is where entry `size - 1` ends; otherwise the file is read from
/// the start. Damage among the covered entries is refused: they were acknowledged, and only
/// `verify` may say what happened to them.
fn establish(path: &Path, file_len: u64, size: u64, root: &Hash) -> Result<(Frontier, u64, Option<u64>)> {
    if let Some((f, off, last)) = load_checkpoint(path, file_len)
        && f.size() == size
        && f.root() == *root
        && checkpoint_points_at_entry(path, size, off, last)
    {
        return Ok((f, off, last));
    }
    let mut reader = EntryReader::open(path)?;
    let mut frontier = Frontier::new();
    let mut last = None;
    while frontier.size() < size {
        match reader.next_entry()? {
            Next::Entry(e) if e.index == e.position && e.crc_ok() => {
                last = Some(e.offset);
                frontier.push(leaf_hash(&e.data));
            }
            Next::Entry(e) => {
                return Err(refused(
                    path,
                    format!(
                        "entry {} is damaged ({}) although the signed tree head at size {size} covers it; run `scrutineer ledger verify`",
                        e.position,
                        if e.crc_ok() { "out of sequence" } else { "checksum mismatch" }
                    ),
                ));
            }
            Next::Torn { .. } | Next::End => {
                return Err(refused(
                    path,
                    format!(
                        "it holds {} entries but its signed tree head covers {size}; run `scrutineer ledger verify`",
                        frontier.size()
                    ),
                ));
            }
        }
    }
    if frontier.root() != *root {
        return Err(refused(
            path,
            format!(
                "its first {size} entries do not reproduce the signed tree head's root; run `scrutineer ledger verify`"
            ),
        ));
    }
    Ok((frontier, reader.offset(), last))
}

fn checkpoint_points_at_entry(path: &Path, size: u64, offset: u64, last: Option<u64>) -> bool {
    if size == 0 {
        return offset == MAGIC.len() as u64;
    }
    let Some(last) = last else { return false };
    let Ok(mut reader) = EntryReader::open(path) else { return false };
    if reader.seek_to(last, size - 1).is_err() {
        return false;
    }
    match reader.next_entry() {
        Ok(Next::Entry(e)) => e.index == size - 1 && e.crc_ok() && reader.offset() == offset,
        _ => false,
    }
}

/// Moves the bytes from `offset` to the end into `<path>.torn-<offset>` (mode 0600) and
/// cuts the ledger there.
fn set_aside(path: &Path, offset: u64, bytes: u64) -> Result<PathBuf> {
    let mut f = OpenOptions::new().read(true).write(true).open(path).map_err(|e| LedgerError::io(path, e))?;
    f.seek(SeekFrom::Start(offset)).map_err(|e| LedgerError::io(path, e))?;
    let mut tail = Vec::with_capacity(bytes.min(MAX_ENTRY as u64 + 64) as usize);
    (&mut f).take(bytes).read_to_end(&mut tail).map_err(|e| LedgerError::io(path, e))?;
    let mut saved = sibling(path, &format!("torn-{offset}"));
    let mut n = 1;
    while saved.exists() {
        saved = sibling(path, &format!("torn-{offset}.{n}"));
        n += 1;
    }
    let mut out = crate::keys::create_new_private(&saved)?;
    out.write_all(&tail).map_err(|e| LedgerError::io(&saved, e))?;
    out.sync_all().map_err(|e| LedgerError::io(&saved, e))?;
    f.set_len(offset).map_err(|e| LedgerError::io(path, e))?;
    f.sync_all().map_err(|e| LedgerError::io(path, e))?;
    Ok(saved)
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
