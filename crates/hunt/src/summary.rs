//! The run summary of `hunt evtx`: what was read, what was loaded, what matched.
//!
//! These types are a stored layout (see [`scrutineer_core::summary`]): a change to their
//! fields, or to [`EvtxStats`] and [`RuleLoadStats`] which they hold, takes a new version.

use std::collections::BTreeMap;
use std::path::PathBuf;

use scrutineer_core::{Engine, VersionedSummary};
use serde::{Deserialize, Serialize};

use crate::evtx::EvtxStats;
use crate::hunt::{FileRead, HitOrigin, HuntReport};
use crate::sigma::{RuleLoadStats, SigmaRules};

/// What one `hunt evtx` run records in the store and writes to `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HuntSummary {
    /// Every input file and how it was read.
    pub files: Vec<FileRead>,
    /// The files' counts together.
    pub totals: EvtxStats,
    /// Files that could not be read at all.
    pub unreadable_files: usize,
    /// The Sigma rules loaded (all zero without `--sigma`).
    pub rules: RuleLoadStats,
    /// Rows of `hits.csv`.
    pub hits: usize,
    /// Findings made.
    pub findings: usize,
    /// Matches per rule (Sigma id or built-in name), most first.
    pub per_rule: Vec<RuleHits>,
    /// Wall-clock seconds of reading and matching.
    pub seconds: f64,
    /// Records per second of wall-clock time (0 when no time was measured).
    pub records_per_second: f64,
    /// File bytes per second of wall-clock time (0 when no time was measured).
    pub bytes_per_second: f64,
    /// Where the matches were written.
    pub hits_csv: PathBuf,
}

impl VersionedSummary for HuntSummary {
    const ENGINE: Engine = Engine::Hunt;
    const VERSION: u32 = 1;
}

/// How often one rule matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleHits {
    /// The Sigma rule's id or the built-in detection's name.
    pub rule: String,
    /// The rule's title.
    pub title: String,
    /// Records matched.
    pub hits: usize,
    /// ATT&CK technique ids, `;`-separated.
    pub techniques: String,
}

impl HuntSummary {
    /// The summary of `report`, which took `seconds`, with its matches in `hits_csv`.
    pub fn new(
        report: &HuntReport,
        sigma: Option<&SigmaRules>,
        seconds: f64,
        hits_csv: PathBuf,
    ) -> HuntSummary {
        let totals = report.totals();
        let mut per_rule: BTreeMap<&str, RuleHits> = BTreeMap::new();
        for h in &report.hits {
            let entry = per_rule.entry(h.rule.as_str()).or_insert_with(|| RuleHits {
                rule: h.rule.clone(),
                title: match h.origin {
                    HitOrigin::Sigma(i) => {
                        sigma.and_then(|s| s.rules().get(i)).map(|r| r.title.clone()).unwrap_or_default()
                    }
                    HitOrigin::Builtin(b) => b.title().to_owned(),
                },
                hits: 0,
                techniques: String::new(),
            });
            entry.hits += 1;
            for t in &h.techniques {
                if !entry.techniques.split(';').any(|x| x == t.id) {
                    if !entry.techniques.is_empty() {
                        entry.techniques.push(';');
                    }
                    entry.techniques.push_str(&t.id);
                }
            }
        }
        let mut per_rule: Vec<RuleHits> = per_rule.into_values().collect();
        per_rule.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.rule.cmp(&b.rule)));
        let bytes: u64 = report.files.iter().map(|f| f.bytes).sum();
        let rate = |n: f64| if seconds > 0.0 { n / seconds } else { 0.0 };
        HuntSummary {
            unreadable_files: report.files.iter().filter(|f| f.error.is_some()).count(),
            files: report.files.clone(),
            records_per_second: rate(totals.records as f64),
            bytes_per_second: rate(bytes as f64),
            totals,
            rules: sigma.map(|s| s.stats.clone()).unwrap_or_default(),
            hits: report.hits.len(),
            findings: report.findings.len(),
            per_rule,
            seconds,
            hits_csv,
        }
    }
}
