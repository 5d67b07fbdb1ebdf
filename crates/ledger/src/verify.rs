//! Recomputes a ledger from its bytes: framing, sequence, checksums, Merkle roots at every
//! signed tree head and their signatures. Names the first entry that is wrong.

use std::collections::HashMap;
use std::path::Path;

use ed25519_dalek::VerifyingKey;

use crate::log::{EntryReader, Next};
use crate::merkle::{Frontier, Hash, leaf_hash};
use crate::sth::{SignedTreeHead, read_sths};
use crate::{LedgerError, Result};

/// The first problem found, by position in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The entry at `position` does not match its checksum: its bytes were changed.
    Altered { position: u64 },
    /// Entry `index` is absent: the file holds a later entry where it should be.
    Missing { index: u64, found: u64 },
    /// The entry at `position` is entry `found`, which belongs elsewhere.
    Reordered { position: u64, found: u64 },
    /// A signed tree head does not match the entries: the log was rewritten (checksums
    /// recomputed) somewhere in `from..to`, or entries were cut off.
    RootMismatch { tree_size: u64, from: u64, to: u64 },
    /// A signed tree head covers more entries than the log holds.
    Truncated { tree_size: u64, entries: u64 },
    /// A tree head's signature is bad or made with another key.
    Signature { tree_size: u64, reason: String },
}

impl Problem {
    /// The index of the first entry the problem concerns.
    pub fn first_index(&self) -> u64 {
        match self {
            Problem::Altered { position } => *position,
            Problem::Missing { index, .. } => *index,
            Problem::Reordered { position, .. } => *position,
            Problem::RootMismatch { from, .. } => *from,
            Problem::Truncated { entries, .. } => *entries,
            Problem::Signature { .. } => 0,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Altered { position } => write!(f, "entry {position} was altered (checksum mismatch)"),
            Problem::Missing { index, found } => {
                write!(f, "entry {index} is missing (entry {found} stands in its place)")
            }
            Problem::Reordered { position, found } => {
                write!(f, "entry {position} is out of order (position {position} holds entry {found})")
            }
            Problem::RootMismatch { tree_size, from, to } => write!(
                f,
                "the signed tree head at size {tree_size} does not match: an entry in {from}..{to} was rewritten (first suspect: entry {from})"
            ),
            Problem::Truncated { tree_size, entries } => write!(
                f,
                "the signed tree head at size {tree_size} covers more than the {entries} entries present: entry {entries} is missing"
            ),
            Problem::Signature { tree_size, reason } => write!(f, "tree head at size {tree_size}: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: u64,
    pub root: Hash,
    pub tree_heads_checked: usize,
    /// Entries after the last signed tree head (appended but not yet signed).
    pub unsigned_tail: u64,
    /// An incomplete final entry (a crash mid-append; it was never acknowledged).
    pub torn_tail_bytes: u64,
    pub problem: Option<Problem>,
}

/// Verifies the ledger at `path`, checking tree-head signatures against `key` when given.
pub fn verify(path: &Path, key: Option<&VerifyingKey>) -> Result<VerifyReport> {
    let sths = read_sths(path)?;
    let mut reader = EntryReader::open(path)?;
    let mut frontier = Frontier::new();
    let mut problem: Option<Problem> = None;
    let mut torn = 0;
    // Sequence numbers as found, to tell a missing entry from a moved one.
    let mut found_at: Vec<u64> = Vec::new();
    let mut bad_framing: Option<Problem> = None;
    let mut roots_at: HashMap<u64, Hash> = HashMap::new();
    let wanted: std::collections::HashSet<u64> = sths.iter().map(|s| s.tree_size).collect();
    if wanted.contains(&0) {
        roots_at.insert(0, frontier.root());
    }
    loop {
        match reader.next_entry()? {
            Next::Entry(e) => {
                if bad_framing.is_none() && !e.crc_ok() {
                    bad_framing = Some(Problem::Altered { position: e.position });
                }
                found_at.push(e.index);
                frontier.push(leaf_hash(&e.data));
                if wanted.contains(&frontier.size()) {
                    roots_at.insert(frontier.size(), frontier.root());
                }
            }
            Next::Torn { bytes, .. } => {
                torn = bytes;
                break;
            }
            Next::End => break,
        }
    }
    let entries = frontier.size();
    // Sequence problems: the first position whose index is wrong.
    let seq_problem = found_at.iter().enumerate().find(|(p, i)| *p as u64 != **i).map(|(p, &i)| {
        let p = p as u64;
        if found_at.iter().skip(p as usize + 1).any(|&x| x == p) {
            Problem::Reordered { position: p, found: i }
        } else {
            Problem::Missing { index: p, found: i }
        }
    });
    for cand in [bad_framing, seq_problem].into_iter().flatten() {
        if problem.as_ref().is_none_or(|p| cand.first_index() < p.first_index()) {
            problem = Some(cand);
        }
    }
    let mut checked = 0;
    let mut last_good = 0u64;
    let mut sorted: Vec<&SignedTreeHead> = sths.iter().collect();
    sorted.sort_by_key(|s| s.tree_size);
    for sth in sorted {
        if let Some(k) = key
            && let Err(e) = sth.verify(k)
        {
            problem.get_or_insert(Problem::Signature { tree_size: sth.tree_size, reason: e.to_string() });
            break;
        }
        if sth.tree_size > entries {
            problem.get_or_insert(Problem::Truncated { tree_size: sth.tree_size, entries });
            break;
        }
        let want = sth.root()?;
        if roots_at.get(&sth.tree_size) != Some(&want) {
            problem.get_or_insert(Problem::RootMismatch {
                tree_size: sth.tree_size,
                from: last_good,
                to: sth.tree_size,
            });
            break;
        }
        last_good = sth.tree_size;
        checked += 1;
    }
    let signed = sths.iter().map(|s| s.tree_size).max().unwrap_or(0);
    Ok(VerifyReport {
        entries,
        root: frontier.root(),
        tree_heads_checked: checked,
        unsigned_tail: entries.saturating_sub(signed),
        torn_tail_bytes: torn,
        problem,
    })
}

/// Same as [`verify`] but an error if a problem was found.
pub fn verify_strict(path: &Path, key: Option<&VerifyingKey>) -> Result<VerifyReport> {
    let r = verify(path, key)?;
    match &r.problem {
        Some(p) => Err(LedgerError::Verify(p.to_string())),
        None => Ok(r),
    }
}
