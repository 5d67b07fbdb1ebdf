//! The append benchmark behind `scrutineer ledger bench`: appends to a scratch ledger at
//! a durability setting and times it, then removes every file it made.

use std::path::Path;

use crate::keys::{KeyPlacement, Signer};
use crate::log::{Durability, Ledger, WriterOptions, checkpoint_path, sibling};
use crate::sth::{public_key_path, sth_path};
use crate::{LedgerError, Result};

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    /// Entries to append.
    pub entries: u64,
    /// When entries reach the disk.
    pub durability: Durability,
    /// Entries per signed tree head (1 with [`Durability::Always`]).
    pub batch: u64,
    /// Bytes per entry (at least 8: each starts with its index).
    pub entry_bytes: usize,
}

/// What was measured.
#[derive(Debug, Clone, Copy)]
pub struct BenchReport {
    /// Entries appended.
    pub entries: u64,
    /// Entries per signed tree head, as run.
    pub per_head: u64,
    /// Seconds from the first append to the last signature.
    pub seconds: f64,
}

impl BenchReport {
    /// Appends per second.
    pub fn appends_per_second(&self) -> f64 {
        self.entries as f64 / self.seconds.max(1e-9)
    }
}

/// Appends `opts.entries` entries to a new ledger at `scratch` (which must not exist),
/// signed with a throw-away key beside it; removes the ledger and the key afterwards.
pub fn bench(scratch: &Path, opts: &BenchOptions) -> Result<BenchReport> {
    if scratch.exists() {
        return Err(LedgerError::Refused {
            path: scratch.to_path_buf(),
            why: "it exists; the benchmark needs a scratch path".into(),
        });
    }
    let key_path = sibling(scratch, "bench-key");
    let signer = Signer::load_or_create(Some(&key_path), scratch, KeyPlacement::AllowBesideLedger)?;
    let state = signer.state_path().to_path_buf();
    let writer = WriterOptions { durability: opts.durability, ..WriterOptions::default() };
    let mut l = Ledger::open(scratch, signer, &writer)?;
    let mut data = vec![b'x'; opts.entry_bytes.max(8)];
    let per_head = if opts.durability == Durability::Always { 1 } else { opts.batch.max(1) };
    let started = std::time::Instant::now();
    for i in 0..opts.entries {
        data[..8].copy_from_slice(&i.to_le_bytes());
        l.append(&data)?;
        if (i + 1) % per_head == 0 {
            l.sign()?;
        }
    }
    l.sign()?;
    let seconds = started.elapsed().as_secs_f64();
    l.close()?;
    for p in [
        scratch.to_path_buf(),
        checkpoint_path(scratch),
        sth_path(scratch),
        public_key_path(scratch),
        key_path,
        state,
    ] {
        // What is left of a scratch ledger is harmless; the figures are what counts.
        let _ = std::fs::remove_file(p);
    }
    Ok(BenchReport { entries: opts.entries, per_head, seconds })
}
