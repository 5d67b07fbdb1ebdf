//! The run summary of `hunt files`.
//!
//! A stored layout (see [`scrutineer_core::summary`]): a change to its fields, or to the
//! types it holds, takes a new version.

use std::collections::BTreeMap;
use std::path::PathBuf;

use scrutineer_core::{Engine, VersionedSummary};
use serde::{Deserialize, Serialize};

use super::indicators::{ChirpCounts, FileIndicatorKind, FileIndicators};
use super::yara::{YaraRules, YaraStats};
use super::{FilesReport, MatchDetail, SkipReason};

/// What one `hunt files` run records in the store and writes to `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilesSummary {
    /// The paths given.
    pub inputs: Vec<PathBuf>,
    /// Files and archive members scanned (hashed, matched and, with rules, YARA-scanned).
    pub scanned: usize,
    /// Of those, archive members.
    pub archive_members: usize,
    /// Bytes scanned.
    pub bytes: u64,
    /// Files not scanned.
    pub skipped: usize,
    /// Files not scanned, per reason.
    pub skipped_by_reason: BTreeMap<SkipReason, usize>,
    /// The size limit in bytes.
    pub max_size: u64,
    /// Whether this build has the YARA engine.
    pub yara_built: bool,
    /// The YARA rules compiled (`None` without `--rules` or CHIRP rules).
    pub yara: Option<YaraStats>,
    /// File indicators loaded, per kind.
    pub indicators: BTreeMap<FileIndicatorKind, usize>,
    /// What the CHIRP indicator files held.
    pub chirp: ChirpCounts,
    /// CHIRP YARA rules not run because this build has no YARA engine.
    pub chirp_rules_not_run: usize,
    /// Rows of `hits.csv`.
    pub hits: usize,
    /// Scanned files with at least one match.
    pub files_matched: usize,
    /// Findings made.
    pub findings: usize,
    /// Matches per rule or indicator, most first.
    pub per_rule: Vec<FileRuleHits>,
    /// Wall-clock seconds of scanning (compiling the rules not included).
    pub seconds: f64,
    /// Bytes per second of wall-clock time (0 when no time was measured).
    pub bytes_per_second: f64,
    /// Where the matches were written.
    pub hits_csv: PathBuf,
}

impl VersionedSummary for FilesSummary {
    const ENGINE: Engine = Engine::Hunt;
    const VERSION: u32 = 1;
}

/// How often one rule or indicator matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRuleHits {
    /// The YARA rule's name or `ioc:<kind>:<value>`.
    pub rule: String,
    /// `yara` or `indicator`.
    pub kind: String,
    /// Files matched.
    pub files: usize,
}

/// What [`FilesSummary::new`] needs besides the report.
#[derive(Debug, Clone, Copy)]
pub struct FilesRun<'a> {
    /// The paths given.
    pub inputs: &'a [PathBuf],
    /// The indicators used.
    pub indicators: &'a FileIndicators,
    /// The YARA rules used.
    pub yara: Option<&'a YaraRules>,
    /// The size limit.
    pub max_size: u64,
    /// Seconds the scan took.
    pub seconds: f64,
    /// Where the matches were written.
    pub hits_csv: &'a std::path::Path,
}

impl FilesSummary {
    /// The summary of `report`.
    pub fn new(report: &FilesReport, run: &FilesRun<'_>) -> FilesSummary {
        let mut per_rule: BTreeMap<&str, FileRuleHits> = BTreeMap::new();
        for m in &report.matches {
            let kind = match m.detail {
                MatchDetail::Yara(_) => "yara",
                MatchDetail::Indicator(_) => "indicator",
            };
            per_rule
                .entry(m.rule.as_str())
                .or_insert_with(|| FileRuleHits { rule: m.rule.clone(), kind: kind.to_owned(), files: 0 })
                .files += 1;
        }
        let mut per_rule: Vec<FileRuleHits> = per_rule.into_values().collect();
        per_rule.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.rule.cmp(&b.rule)));
        let mut indicators = BTreeMap::new();
        for i in &run.indicators.list {
            *indicators.entry(i.kind).or_default() += 1;
        }
        let mut matched: Vec<usize> = report.matches.iter().map(|m| m.file).collect();
        matched.dedup();
        let bytes = report.bytes();
        let chirp_rules = run.indicators.chirp_rules.len();
        FilesSummary {
            inputs: run.inputs.to_vec(),
            scanned: report.scanned.len(),
            archive_members: report.scanned.iter().filter(|f| f.in_archive).count(),
            bytes,
            skipped: report.skipped.len(),
            skipped_by_reason: report.skipped_by_reason(),
            max_size: run.max_size,
            yara_built: super::yara::YARA_BUILT,
            yara: run.yara.map(|y| y.stats.clone()),
            indicators,
            chirp: run.indicators.chirp.clone(),
            chirp_rules_not_run: if run.yara.is_some() { 0 } else { chirp_rules },
            hits: report.matches.len(),
            files_matched: matched.len(),
            findings: report.findings.len(),
            per_rule,
            seconds: run.seconds,
            bytes_per_second: if run.seconds > 0.0 { bytes as f64 / run.seconds } else { 0.0 },
            hits_csv: run.hits_csv.to_owned(),
        }
    }
}
