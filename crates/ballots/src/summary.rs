//! The run summary of `ballots reconcile`: what was read, the closing figures, the
//! largest precincts' totals and the findings by kind (what the report charts), and the
//! ledger head written.
//!
//! These types are a stored layout (see [`scrutineer_core::summary`]). The read counts
//! are [`ReadStats`] itself: a change to its fields is a change of this layout, and takes
//! a new version; the precinct rows are kept apart from [`PrecinctTotals`].

use std::collections::BTreeMap;

use scrutineer_core::{Engine, VersionedSummary};
use serde::{Deserialize, Serialize};

use crate::read::ReadStats;
use crate::reconcile::{PrecinctTotals, Reconciliation};

/// The precincts with the most envelopes issued that a summary keeps.
pub const LARGEST_PRECINCTS: usize = 40;

/// What one `ballots reconcile` run records in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Rows read, by what became of them.
    pub stats: ReadStats,
    /// Rule findings per kind.
    pub by_kind: BTreeMap<String, usize>,
    /// The closing figures over every precinct.
    pub overall: PrecinctRow,
    /// Precincts reconciled.
    pub precincts_total: usize,
    /// The precincts with the most envelopes issued, most first.
    pub largest_precincts: Vec<PrecinctRow>,
    /// Rule findings.
    pub findings: usize,
    /// Statistical anomalies.
    pub anomalies: usize,
    /// Envelopes issued.
    pub envelopes: usize,
    /// Voters on the roll.
    pub voters: usize,
    /// The ledger head written, when the run wrote to a ledger.
    pub ledger: Option<LedgerHead>,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// Seconds reading the inputs.
    pub read_seconds: f64,
}

impl VersionedSummary for RunSummary {
    const ENGINE: Engine = Engine::Ballots;
    const VERSION: u32 = 1;
}

/// One precinct's (or every precinct's) closing figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrecinctRow {
    /// The precinct, or `all precincts`.
    pub precinct: String,
    /// Envelopes issued.
    pub issued: u64,
    /// Envelopes returned.
    pub returned: u64,
    /// Returns accepted.
    pub accepted: u64,
    /// Returns rejected.
    pub rejected: u64,
    /// Envelopes not returned.
    pub outstanding: u64,
}

/// The ledger head a run left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerHead {
    /// The ledger file.
    pub path: String,
    /// The index of the run's first entry.
    pub first_entry: u64,
    /// Entries in the ledger after the run.
    pub tree_size: u64,
    /// The signed Merkle tree head (hex).
    pub root_hash: String,
    /// The durability the entries were written with.
    pub fsync: String,
}

impl PrecinctRow {
    fn sum<'a>(name: &str, rows: impl Iterator<Item = &'a PrecinctTotals>) -> PrecinctRow {
        let mut row = PrecinctRow {
            precinct: name.to_owned(),
            issued: 0,
            returned: 0,
            accepted: 0,
            rejected: 0,
            outstanding: 0,
        };
        for t in rows {
            row.issued += t.issued;
            row.returned += t.returned;
            row.accepted += t.accepted;
            row.rejected += t.rejected;
            row.outstanding += t.outstanding;
        }
        row
    }
}

/// The closing figures of a reconciliation: every precinct's sum, and the
/// [`LARGEST_PRECINCTS`] with the most envelopes issued (ties by name).
pub fn closing_rows(rec: &Reconciliation) -> (PrecinctRow, Vec<PrecinctRow>) {
    let mut largest: Vec<(&String, &PrecinctTotals)> = rec.totals.iter().collect();
    largest.sort_by(|a, b| b.1.issued.cmp(&a.1.issued).then(a.0.cmp(b.0)));
    let overall = PrecinctRow::sum("all precincts", largest.iter().map(|r| r.1));
    let top =
        largest.iter().take(LARGEST_PRECINCTS).map(|r| PrecinctRow::sum(r.0, std::iter::once(r.1))).collect();
    (overall, top)
}

/// Rule findings per kind.
pub fn findings_by_kind(rec: &Reconciliation) -> BTreeMap<String, usize> {
    let mut by_kind = BTreeMap::new();
    for f in &rec.findings {
        *by_kind.entry(f.kind.as_str().to_owned()).or_default() += 1;
    }
    by_kind
}
