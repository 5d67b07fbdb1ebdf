//! Mail-ballot reconciliation: roll, issuance, returns and check-ins to findings.
//!
//! # Brief overview
//!
//! The pipeline has four steps, each a function at this crate's root:
//!
//! 1. [`read_all`] reads the four [`Inputs`] (plain, gzip or zstd files) in any
//!    [`Layout`] (the generic one, North Carolina's, Ohio's, or a mapping file) into one
//!    [`Dataset`] of interned ids; rows that cannot be read are kept as [`Malformed`],
//!    counted in [`ReadStats`], never dropped.
//! 2. [`reconcile`] applies the rules ([`RuleKind`]) and closes the per-precinct
//!    [`PrecinctTotals`], giving a [`Reconciliation`] of [`RuleFinding`]s.
//! 3. [`detect_anomalies`] runs the statistical tests ([`AnomalyOptions`]) and gives
//!    [`Anomaly`]s.
//! 4. [`rule_finding`] and [`anomaly_finding`] turn both into core findings for the
//!    store; [`write_findings`], [`write_anomalies`], [`write_totals`],
//!    [`write_malformed`] and [`write_report`] write the output files.
//!
//! [`count_by`] counts a file's rows by columns (a state's published totals), and
//! [`encode_record`], [`encode_finding`] and their siblings are the encoding of a run's
//! entries in the tamper-evident ledger ([`EntryKind`]).
//!
//! Nothing here touches the store or the ledger: the binary hands records and findings on.

#![deny(missing_docs)]

mod anomaly;
mod explain;
mod layout;
mod ledger_entry;
mod output;
mod read;
mod reconcile;
mod summary;
mod time;
mod totals;

use std::path::PathBuf;

pub use anomaly::{Anomaly, AnomalyOptions, detect as detect_anomalies};
pub use explain::{anomaly_finding, rule_finding, store_findings};
pub use layout::{CheckinColumns, IssuedColumns, Layout, OHIO_SOS_MAPPING, ReturnsColumns, RollColumns};
pub use ledger_entry::{
    EntryKind, FIELD_SEPARATOR, encode_anomaly, encode_entry, encode_finding, encode_record, encode_source,
};
pub use output::{write_anomalies, write_findings, write_malformed, write_report, write_totals};
pub use read::{
    CsvRecord, Dataset, Inputs, Malformed, NOT_ON_ROLL, Progress, ReadStats, RecordSink, UNISSUED, read_all,
};
pub use reconcile::{EnvState, PrecinctTotals, Reconciliation, RuleFinding, reconcile};
pub use summary::{LARGEST_PRECINCTS, LedgerHead, PrecinctRow, RunSummary, closing_rows, findings_by_kind};
pub use totals::{column_for, count_by};

/// Why a reconciliation could not run.
#[derive(Debug, thiserror::Error)]
pub enum BallotsError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error from the operating system.
        source: std::io::Error,
    },
    /// A CSV file could not be parsed at all (not one malformed row: those are kept).
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What the CSV reader said.
        message: String,
    },
    /// An input lacks a column its layout needs.
    #[error("{file}: no column '{column}' (found: {found})")]
    MissingColumn {
        /// The file.
        file: String,
        /// The column looked for.
        column: String,
        /// The columns the file has.
        found: String,
    },
    /// A column mapping file is wrong.
    #[error("column mapping {path}: {message}")]
    Mapping {
        /// The mapping file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The record sink (the ledger) refused a record.
    #[error("recording input: {message}")]
    Sink {
        /// The sink's error.
        message: String,
    },
    /// A parameter is out of range.
    #[error("{0}")]
    Invalid(String),
    /// An input could not be opened, or is compressed in a format no reader takes.
    #[error(transparent)]
    Input(#[from] scrutineer_core::input::InputError),
}

/// The outcome of one receipt. `Cured` counts as accepted; `Spoiled` voids the envelope
/// without a vote (NC: spoiled, returned undeliverable, cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Accepted and counted.
    Accepted,
    /// Accepted after the voter cured a problem (a signature, a witness).
    Cured,
    /// Rejected: not counted.
    Rejected,
    /// Not decided yet.
    Pending,
    /// Voided without a vote.
    Spoiled,
}

impl Outcome {
    /// The name written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Cured => "cured",
            Outcome::Rejected => "rejected",
            Outcome::Pending => "pending",
            Outcome::Spoiled => "spoiled",
        }
    }

    /// True for the outcomes that count the ballot.
    pub fn is_accepted(self) -> bool {
        matches!(self, Outcome::Accepted | Outcome::Cured)
    }

    /// The outcome of that name (any case, trimmed).
    pub fn parse_name(s: &str) -> Option<Outcome> {
        [Outcome::Accepted, Outcome::Cured, Outcome::Rejected, Outcome::Pending, Outcome::Spoiled]
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A voter's status on the roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VoterStatus {
    /// May vote.
    Active,
    /// Inactive (NC: confirmation mail returned); may vote after updating.
    Inactive,
    /// Removed from the roll.
    Removed,
}

impl VoterStatus {
    /// The name written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            VoterStatus::Active => "active",
            VoterStatus::Inactive => "inactive",
            VoterStatus::Removed => "removed",
        }
    }

    /// The status of that name (any case, trimmed).
    pub fn parse_name(s: &str) -> Option<VoterStatus> {
        [VoterStatus::Active, VoterStatus::Inactive, VoterStatus::Removed]
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// The rule findings of `findings.csv`, in the order of the issue's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleKind {
    /// A receipt for an envelope nobody issued.
    UnissuedEnvelope,
    /// An envelope issued to a voter id absent from the roll.
    VoterNotOnRoll,
    /// An envelope issued to a voter who is not active.
    VoterNotActive,
    /// An envelope received more than once.
    DuplicateReturn,
    /// A voter with more than one counted ballot (two accepted envelopes, or one and a check-in).
    DoubleVote,
    /// A ballot of another style than the voter's.
    StyleMismatch,
    /// An envelope received before the day it was issued.
    ReturnBeforeIssue,
    /// An envelope received after the deadline and accepted.
    LateReturn,
}

impl RuleKind {
    /// Every rule, in the order of the outputs.
    pub const ALL: [RuleKind; 8] = [
        RuleKind::UnissuedEnvelope,
        RuleKind::VoterNotOnRoll,
        RuleKind::VoterNotActive,
        RuleKind::DuplicateReturn,
        RuleKind::DoubleVote,
        RuleKind::StyleMismatch,
        RuleKind::ReturnBeforeIssue,
        RuleKind::LateReturn,
    ];

    /// The name written in `findings.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::UnissuedEnvelope => "unissued_envelope",
            RuleKind::VoterNotOnRoll => "voter_not_on_roll",
            RuleKind::VoterNotActive => "voter_not_active",
            RuleKind::DuplicateReturn => "duplicate_return",
            RuleKind::DoubleVote => "double_vote",
            RuleKind::StyleMismatch => "style_mismatch",
            RuleKind::ReturnBeforeIssue => "return_before_issue",
            RuleKind::LateReturn => "late_return",
        }
    }

    /// The rule of that name.
    pub fn parse_name(s: &str) -> Option<RuleKind> {
        RuleKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Parses the `--deadline` argument (`YYYY-MM-DDTHH:MM:SS`, local time).
pub fn parse_deadline(s: &str) -> Result<i64, BallotsError> {
    time::parse(s.as_bytes(), &time::DateFormat::Iso)
        .ok_or_else(|| BallotsError::Invalid(format!("deadline '{s}' is not YYYY-MM-DDTHH:MM:SS")))
}
