//! Recomputes a ledger from its bytes: framing, sequence, checksums, Merkle roots at every
//! signed tree head and their signatures, and consistency with heads witnessed earlier.
//! Names the first entry that is wrong, or the first entry that nothing signed vouches for.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};
use std::path::Path;

use ed25519_dalek::VerifyingKey;

use crate::log::{EntryReader, Next};
use crate::merkle::{Frontier, Hash, leaf_hash};
use crate::sth::{SignedTreeHead, read_sths};
use crate::{LedgerError, Result};

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The entry at `position` does not match its checksum: its bytes were changed.
    Altered {
        /// Its position in the file (0-based).
        position: u64,
    },
    /// Entry `index` is absent: the file holds a later entry where it should be.
    Missing {
        /// The entry's index.
        index: u64,
        /// The index found there.
        found: u64,
    },
    /// The entry at `position` is entry `found`, which belongs elsewhere.
    Reordered {
        /// Its position in the file (0-based).
        position: u64,
        /// The index found there.
        found: u64,
    },
    /// The signed tree head at `tree_size` does not match the entries: an entry in
    /// `from..to` was rewritten (checksums recomputed). `from` is the size of the last head
    /// that matched: entries before it are vouched for.
    RootMismatch {
        /// The tree size of the head.
        tree_size: u64,
        /// Entries before this are vouched for.
        from: u64,
        /// The end of the range that holds the change.
        to: u64,
    },
    /// A signed tree head covers more entries than the log holds: an entry at or after
    /// `from` (the last matching head) was removed.
    Truncated {
        /// The tree size of the head.
        tree_size: u64,
        /// Entries before this are vouched for.
        from: u64,
        /// Entries in the log.
        entries: u64,
    },
    /// A tree head's signature is bad or made with another key; nothing after `from` (the
    /// last good head) is vouched for.
    Signature {
        /// The tree size of the head.
        tree_size: u64,
        /// Entries before this are vouched for.
        from: u64,
        /// Why.
        reason: String,
    },
    /// No signed tree head at all (`.sth` missing or empty).
    NoSignedHead {
        /// Entries in the log.
        entries: u64,
    },
    /// Entries `from..entries` are not covered by any signed tree head.
    UnsignedTail {
        /// Entries before this are vouched for.
        from: u64,
        /// Entries in the log.
        entries: u64,
    },
    /// The file ends with `bytes` that are not a complete entry, where entry `at` would be.
    TornTail {
        /// The index the next entry would have.
        at: u64,
        /// Bytes of the incomplete entry.
        bytes: u64,
    },
    /// The ledger does not extend a head witnessed earlier: an entry in `from..to` differs
    /// from what was witnessed (`from` is the largest witnessed size that still holds).
    Witness {
        /// The witness file.
        source: String,
        /// The tree size of the head.
        tree_size: u64,
        /// Entries before this are vouched for.
        from: u64,
        /// The end of the range that holds the change.
        to: u64,
        /// Why.
        reason: String,
    },
    /// A witness file is not a head signed with the pinned key.
    WitnessUnverifiable {
        /// The witness file.
        source: String,
        /// Why.
        reason: String,
    },
}

impl Problem {
    /// The index of the first entry the problem concerns: the damaged entry itself, or the
    /// first entry nothing signed vouches for. `None` when the problem is not in the ledger.
    pub fn first_index(&self) -> Option<u64> {
        Some(match self {
            Problem::Altered { position } => *position,
            Problem::Missing { index, .. } => *index,
            Problem::Reordered { position, .. } => *position,
            Problem::RootMismatch { from, .. } => *from,
            Problem::Truncated { from, .. } => *from,
            Problem::Signature { from, .. } => *from,
            Problem::NoSignedHead { .. } => 0,
            Problem::UnsignedTail { from, .. } => *from,
            Problem::TornTail { at, .. } => *at,
            Problem::Witness { from, .. } => *from,
            Problem::WitnessUnverifiable { .. } => return None,
        })
    }

    /// The entries that may be the bad one: `first_index..end` (one entry when the framing
    /// names it exactly).
    pub fn suspects(&self) -> Option<(u64, u64)> {
        let first = self.first_index()?;
        Some(match self {
            Problem::RootMismatch { to, .. } => (first, *to),
            Problem::Truncated { entries, .. } => (first, entries + 1),
            Problem::Witness { to, .. } => (first, *to),
            Problem::Signature { tree_size, .. } => (first, (*tree_size).max(first + 1)),
            Problem::NoSignedHead { entries } => (0, (*entries).max(1)),
            _ => (first, first + 1),
        })
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
            Problem::Truncated { tree_size, from, entries } => write!(
                f,
                "the signed tree head at size {tree_size} covers more than the {entries} entries present: an entry at or after entry {from} was removed (first suspect: entry {from})"
            ),
            Problem::Signature { tree_size, from, reason } => write!(
                f,
                "tree head at size {tree_size}: {reason}; nothing after entry {from} is vouched for (first suspect: entry {from})"
            ),
            Problem::NoSignedHead { entries } => write!(
                f,
                "no signed tree head covers the {entries} entries (the .sth file is missing or empty): first unsigned entry 0"
            ),
            Problem::UnsignedTail { from, entries } => write!(
                f,
                "entries {from}..{entries} are not covered by a signed tree head (first unsigned entry {from}; --allow-unsigned-tail accepts a crash's tail)"
            ),
            Problem::TornTail { at, bytes } => write!(
                f,
                "the file ends with {bytes} bytes that are not a complete entry, where entry {at} would be (--allow-unsigned-tail accepts a crash's torn tail)"
            ),
            Problem::Witness { source, tree_size, from, to, reason } => write!(
                f,
                "the ledger does not extend the head of size {tree_size} witnessed in {source} ({reason}): an entry in {from}..{to} differs (first suspect: entry {from})"
            ),
            Problem::WitnessUnverifiable { source, reason } => write!(f, "witness {source}: {reason}"),
        }
    }
}

/// A tree head seen earlier (published, or held by a partner) that the ledger must extend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// Where it came from (a file name), for the report.
    pub source: String,
    /// The head witnessed.
    pub head: SignedTreeHead,
}

/// How one witness fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessCheck {
    /// The witness file.
    pub source: String,
    /// The tree size witnessed.
    pub tree_size: u64,
    /// The root hash witnessed.
    pub root_hash: String,
    /// The consistency proof from the witnessed size to today's tree (RFC 9162 2.1.4).
    pub proof: Vec<Hash>,
    /// Whether the ledger extends it.
    pub consistent: bool,
    /// Why not, when it does not.
    pub reason: Option<String>,
}

/// What `verify` accepts and checks.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Accept entries after the last signed head and a torn final entry (what a crash
    /// leaves), reporting them, instead of failing.
    pub allow_unsigned_tail: bool,
    /// Heads seen earlier that the ledger must extend.
    pub witnesses: Vec<Witness>,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries read.
    pub entries: u64,
    /// The root hash of every entry.
    pub root: Hash,
    /// Signed tree heads checked.
    pub tree_heads_checked: usize,
    /// The largest size a valid signed head covers.
    pub signed_size: u64,
    /// Entries after the last signed tree head.
    pub unsigned_tail: u64,
    /// An incomplete final entry (a crash mid-append; it was never acknowledged).
    pub torn_tail_bytes: u64,
    /// Each witness's check.
    pub witnesses: Vec<WitnessCheck>,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

/// Verifies the ledger at `path`, checking tree-head signatures against `key` when given.
pub fn verify(path: &Path, key: Option<&VerifyingKey>, opts: &VerifyOptions) -> Result<VerifyReport> {
    let heads = read_sths(path)?;
    verify_reader(EntryReader::open(path)?, &heads, key, opts)
}

/// Verifies a ledger held in memory against `heads` (the lines of its `.sth`).
pub fn verify_bytes(
    bytes: &[u8],
    heads: &[SignedTreeHead],
    key: Option<&VerifyingKey>,
    opts: &VerifyOptions,
) -> Result<VerifyReport> {
    verify_reader(EntryReader::from_bytes(bytes, Path::new("<memory>"))?, heads, key, opts)
}

fn verify_reader<R: Read + Seek>(
    mut reader: EntryReader<R>,
    heads: &[SignedTreeHead],
    key: Option<&VerifyingKey>,
    opts: &VerifyOptions,
) -> Result<VerifyReport> {
    let mut frontier = Frontier::new();
    let mut torn = 0;
    // Sequence numbers as found, to tell a missing entry from a moved one.
    let mut found_at: Vec<u64> = Vec::new();
    let mut bad_framing: Option<Problem> = None;
    let mut roots_at: HashMap<u64, Hash> = HashMap::new();
    let wanted: HashSet<u64> = heads.iter().map(|s| s.tree_size).collect();
    // Leaf hashes are kept only when witnesses need consistency proofs.
    let keep_leaves = !opts.witnesses.is_empty();
    let mut leaves: Vec<Hash> = Vec::new();
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
                let leaf = leaf_hash(&e.data);
                if keep_leaves {
                    leaves.push(leaf);
                }
                frontier.push(leaf);
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
    let mut candidates: Vec<Problem> = Vec::new();
    candidates.extend(bad_framing);
    // Sequence problems: the first position whose index is wrong.
    if let Some((p, &i)) = found_at.iter().enumerate().find(|(p, i)| *p as u64 != **i) {
        let p = p as u64;
        candidates.push(if found_at.iter().skip(p as usize + 1).any(|&x| x == p) {
            Problem::Reordered { position: p, found: i }
        } else {
            Problem::Missing { index: p, found: i }
        });
    }
    let mut checked = 0;
    let mut last_good = 0u64;
    let mut sorted: Vec<&SignedTreeHead> = heads.iter().collect();
    sorted.sort_by_key(|s| s.tree_size);
    for sth in &sorted {
        if let Some(k) = key
            && let Err(e) = sth.verify(k)
        {
            candidates.push(Problem::Signature {
                tree_size: sth.tree_size,
                from: last_good,
                reason: e.to_string(),
            });
            break;
        }
        if sth.tree_size > entries {
            candidates.push(Problem::Truncated { tree_size: sth.tree_size, from: last_good, entries });
            break;
        }
        let matches = sth.root().ok().is_some_and(|want| roots_at.get(&sth.tree_size) == Some(&want));
        if !matches {
            candidates.push(Problem::RootMismatch {
                tree_size: sth.tree_size,
                from: last_good,
                to: sth.tree_size,
            });
            break;
        }
        last_good = sth.tree_size;
        checked += 1;
    }
    let signed_size = last_good;
    if heads.is_empty() {
        candidates.push(Problem::NoSignedHead { entries });
    } else if checked == sorted.len() && !opts.allow_unsigned_tail {
        if entries > signed_size {
            candidates.push(Problem::UnsignedTail { from: signed_size, entries });
        } else if torn > 0 {
            candidates.push(Problem::TornTail { at: entries, bytes: torn });
        }
    }
    let witnesses = check_witnesses(&opts.witnesses, key, &leaves, &frontier.root(), &mut candidates);
    // The problem that pins the bad entry down the earliest: an exact one (framing) wins
    // over a range that ends after it.
    let problem = candidates.into_iter().min_by_key(|p| {
        let (first, end) = p.suspects().unwrap_or((u64::MAX, u64::MAX));
        (end.saturating_sub(1), u64::MAX - first)
    });
    Ok(VerifyReport {
        entries,
        root: frontier.root(),
        tree_heads_checked: checked,
        signed_size,
        unsigned_tail: entries.saturating_sub(signed_size),
        torn_tail_bytes: torn,
        witnesses,
        problem,
    })
}

fn check_witnesses(
    witnesses: &[Witness],
    key: Option<&VerifyingKey>,
    leaves: &[Hash],
    root: &Hash,
    candidates: &mut Vec<Problem>,
) -> Vec<WitnessCheck> {
    let entries = leaves.len() as u64;
    let mut checks = Vec::with_capacity(witnesses.len());
    // Whether each witness is a head validly signed with the pinned key.
    let mut signed = Vec::with_capacity(witnesses.len());
    for w in witnesses {
        let h = &w.head;
        let mut check = WitnessCheck {
            source: w.source.clone(),
            tree_size: h.tree_size,
            root_hash: h.root_hash.clone(),
            proof: Vec::new(),
            consistent: false,
            reason: None,
        };
        let signature = match key {
            Some(k) => h.verify(k).map_err(|e| e.to_string()),
            None => Err("no public key to check the witness's signature against".to_owned()),
        };
        let witnessed_root = h.root();
        signed.push(signature.is_ok() && witnessed_root.is_ok());
        match (signature, witnessed_root) {
            (Err(reason), _) => {
                candidates
                    .push(Problem::WitnessUnverifiable { source: w.source.clone(), reason: reason.clone() });
                check.reason = Some(reason);
            }
            (Ok(()), Err(e)) => {
                candidates
                    .push(Problem::WitnessUnverifiable { source: w.source.clone(), reason: e.to_string() });
                check.reason = Some(e.to_string());
            }
            (Ok(()), Ok(old_root)) => {
                if h.tree_size > entries {
                    check.reason = Some(format!("the ledger holds {entries} entries, fewer than witnessed"));
                } else if h.tree_size == 0 {
                    check.consistent = old_root == crate::merkle::empty_root();
                } else {
                    let size = h.tree_size as usize;
                    check.proof = crate::merkle::consistency_proof(size, leaves).unwrap_or_default();
                    check.consistent = crate::merkle::verify_consistency(
                        h.tree_size,
                        entries,
                        &old_root,
                        root,
                        &check.proof,
                    );
                }
                if !check.consistent && check.reason.is_none() {
                    check.reason = Some("the consistency proof does not verify".to_owned());
                }
            }
        }
        checks.push(check);
    }
    // The first failing witness, by size; entries below the largest consistent witness
    // under it are vouched for. (A witness that is not validly signed proves nothing and
    // was reported above.)
    let failing = checks
        .iter()
        .zip(&signed)
        .filter(|(c, ok)| **ok && !c.consistent)
        .map(|(c, _)| c)
        .min_by_key(|c| c.tree_size);
    if let Some(bad) = failing {
        let from = checks
            .iter()
            .filter(|c| c.consistent && c.tree_size < bad.tree_size)
            .map(|c| c.tree_size)
            .max()
            .unwrap_or(0);
        candidates.push(Problem::Witness {
            source: bad.source.clone(),
            tree_size: bad.tree_size,
            from,
            to: bad.tree_size.min(entries + 1),
            reason: bad.reason.clone().unwrap_or_default(),
        });
    }
    checks
}

/// Same as [`verify`] but an error if a problem was found.
pub fn verify_strict(path: &Path, key: Option<&VerifyingKey>, opts: &VerifyOptions) -> Result<VerifyReport> {
    let r = verify(path, key, opts)?;
    match &r.problem {
        Some(p) => Err(LedgerError::Verify(p.to_string())),
        None => Ok(r),
    }
}
