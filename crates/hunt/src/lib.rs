//! Hunting for intrusions on office computers in their Windows event logs.
//!
//! # Brief overview
//!
//! 1. **Read.** [`read_evtx`] turns an EVTX file into flat [`EventRecord`]s (System
//!    fields and EventData / UserData leaves by name, as Sigma rules expect them); damaged
//!    chunks, unreadable records and truncated files are counted in [`EvtxStats`] with
//!    their [`ReadProblem`]s, never a panic.
//! 2. **Match.** [`SigmaRules::load`] reads SigmaHQ-style rule files (a broken one is a
//!    [`RuleError`] naming the file and line) and routes each rule to its log source;
//!    the [`Builtin`] detections cover password spraying and brute force, remote logons,
//!    new services and tasks, cleared logs, encoded PowerShell and account changes.
//! 3. **Report.** [`hunt_evtx`] runs a [`HuntConfig`] over many files in parallel and
//!    gives a [`HuntReport`]: every [`Hit`] (a row of `hits.csv`, written by
//!    [`write_hits_csv`]) and the findings grouping them, with ATT&CK techniques;
//!    [`HuntSummary`] is the run's stored summary.
//!
//! This crate does no output of its own beyond the writers it is handed: the binary
//! writes files and the store.
#![deny(missing_docs)]

mod builtin;
mod evtx;
mod fuzzing;
mod hits;
mod hunt;
mod sigma;
mod summary;

pub use builtin::{
    BRUTE_FORCE_FAILURES, Builtin, BuiltinHit, LogonTracker, SPRAY_ACCOUNTS, encoded_powershell, match_record,
};
pub use evtx::{EventRecord, EvtxReadError, EvtxStats, ReadProblem, read_evtx, read_evtx_bytes};
pub use fuzzing::{parse_sigma_condition, parse_sigma_rule, read_evtx_chunk};
pub use hits::{HITS_CSV_HEADER, write_hits_csv};
pub use hunt::{FileRead, Hit, HitOrigin, HuntConfig, HuntReport, hunt_evtx};
pub use sigma::{RuleError, RuleLoadStats, SigmaRuleInfo, SigmaRules, attack_techniques, parse_rule_text};
pub use summary::{HuntSummary, RuleHits};
