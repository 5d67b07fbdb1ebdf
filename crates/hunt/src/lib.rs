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
//!    [`HuntSummary`] is the run's stored summary. A built-in finding's `sources`
//!    evidence names its source address and accounts, read back by [`source_addresses`]
//!    and [`source_accounts`] (the binary joins them with the infra engine's findings).
//!
//! 4. **Files.** [`scan_files`] hashes files, directories and archives (zip, tar, tar.gz)
//!    in parallel, matches them against [`FileIndicators`] (hashes, names and paths from
//!    CSV lists, CHIRP YAML files and, through the binary, STIX bundles) and, in a build
//!    with the `yara` feature, scans them with [`YaraRules`] compiled by yara-x; every file
//!    it could not scan is a [`SkippedFile`] with its [`SkipReason`]. [`FilesSummary`] is
//!    that run's stored summary.
//!
//! This crate does no output of its own beyond the writers it is handed: the binary
//! writes files and the store.
#![deny(missing_docs)]

mod builtin;
mod evtx;
mod files;
mod fuzzing;
mod hits;
mod hunt;
mod sigma;
mod summary;

pub use builtin::{
    BRUTE_FORCE_FAILURES, Builtin, BuiltinHit, LogonTracker, SPRAY_ACCOUNTS, encoded_powershell, match_record,
};
pub use evtx::{EventRecord, EvtxReadError, EvtxStats, ReadProblem, read_evtx, read_evtx_bytes};
pub use files::indicators::{
    ChirpCounts, ChirpYaraRule, FileIndicator, FileIndicatorKind, FileIndicators, IndicatorListError,
};
pub use files::summary::{FileRuleHits, FilesRun, FilesSummary};
pub use files::yara::{
    SCAN_TIMEOUT_SECONDS, YARA_BUILT, YaraCompileError, YaraError, YaraMatch, YaraRules, YaraStats,
    rule_files,
};
pub use files::{
    DEFAULT_MAX_SIZE, FileInputError, FileMatch, FileScanConfig, FilesReport, HASHES_CSV_HEADER,
    MATCH_RECORD_VERSION, MatchDetail, MatchRecord, SKIPPED_CSV_HEADER, ScannedFile, SkipReason, SkippedFile,
    parse_size, scan_files, write_file_hits_csv, write_hashes_csv, write_matches_jsonl, write_skipped_csv,
};
pub use fuzzing::{parse_sigma_condition, parse_sigma_rule, read_evtx_chunk};
pub use hits::{HITS_CSV_HEADER, write_hits_csv};
pub use hunt::{
    FileRead, Hit, HitOrigin, HuntConfig, HuntReport, hunt_evtx, source_accounts, source_addresses,
};
pub use sigma::{RuleError, RuleLoadStats, SigmaRuleInfo, SigmaRules, attack_techniques, parse_rule_text};
pub use summary::{HuntSummary, RuleHits};
