//! A hunt over event log files: every record through the Sigma rules and the built-in
//! detections, files in parallel, then matches grouped into findings.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique, TimeSpan};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::builtin::{Builtin, BuiltinHit, LogonTracker, match_record};
use crate::evtx::{EvtxStats, read_evtx};
use crate::sigma::SigmaRules;

/// Records a finding lists as evidence; the count covers the rest.
const EVIDENCE_RECORDS: usize = 25;

/// What a hunt runs.
#[derive(Debug, Clone, Copy)]
pub struct HuntConfig<'a> {
    /// The Sigma rules, if any.
    pub sigma: Option<&'a SigmaRules>,
    /// Whether to run the built-in detections.
    pub builtins: bool,
}

/// Which detection a hit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HitOrigin {
    /// A Sigma rule, by its index in [`SigmaRules::rules`].
    Sigma(usize),
    /// A built-in detection.
    Builtin(Builtin),
}

/// One record matched by one detection: a row of `hits.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index of the file among the hunt's inputs.
    pub file: usize,
    /// The record's EventRecordID.
    pub record: u64,
    /// The Sigma rule's id or the built-in detection's name.
    pub rule: String,
    /// The computer that logged the record.
    pub source: String,
    /// ATT&CK technique ids.
    pub techniques: Vec<Technique>,
    /// How serious the match is.
    pub severity: Severity,
    /// When the record was logged.
    pub time: DateTime<Utc>,
    /// Which detection matched.
    pub origin: HitOrigin,
    /// What built-in matches are grouped under (source address, account); empty for Sigma.
    pub subject: String,
    /// The account a built-in match is about (lower-case); empty when none, and for Sigma.
    pub account: String,
}

/// How one input file was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRead {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The reading's counts (all zero when the file could not be read).
    pub stats: EvtxStats,
    /// Why the file could not be read at all, if it could not.
    pub error: Option<String>,
}

/// The outcome of a hunt.
#[derive(Debug, Clone)]
pub struct HuntReport {
    /// Every input, in the order given.
    pub files: Vec<FileRead>,
    /// Every match, by file, record and rule.
    pub hits: Vec<Hit>,
    /// The matches grouped: per Sigma rule and computer, per built-in detection,
    /// computer and subject.
    pub findings: Vec<Finding>,
}

impl HuntReport {
    /// The counts of all files together.
    pub fn totals(&self) -> EvtxStats {
        let mut t = EvtxStats::default();
        for f in &self.files {
            t.add(&f.stats);
        }
        t
    }
}

struct FileOutcome {
    read: FileRead,
    hits: Vec<Hit>,
    logons: LogonTracker,
}

/// Runs `config` over `files` (EVTX files), in parallel.
pub fn hunt_evtx(files: &[PathBuf], config: &HuntConfig<'_>) -> HuntReport {
    let outcomes: Vec<FileOutcome> =
        files.par_iter().enumerate().map(|(i, path)| hunt_file(i, path, config)).collect();
    let mut report = HuntReport { files: Vec::new(), hits: Vec::new(), findings: Vec::new() };
    let mut logons = LogonTracker::default();
    for o in outcomes {
        report.files.push(o.read);
        report.hits.extend(o.hits);
        logons.merge(o.logons);
    }
    if config.builtins {
        report.hits.extend(logons.finish().into_iter().map(builtin_hit));
    }
    report.hits.sort_by(|a, b| (a.file, a.record, &a.rule).cmp(&(b.file, b.record, &b.rule)));
    report.findings = findings(&report, config.sigma, files);
    report
}

fn hunt_file(index: usize, path: &Path, config: &HuntConfig<'_>) -> FileOutcome {
    let mut hits = Vec::new();
    let mut logons = LogonTracker::default();
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let result = read_evtx(path, |record| {
        if let Some(rules) = config.sigma {
            for r in rules.matches(&record) {
                let info = &rules.rules()[r];
                hits.push(Hit {
                    file: index,
                    record: record.record_id,
                    rule: info.id.clone(),
                    source: record.computer.clone(),
                    techniques: info.techniques.clone(),
                    severity: info.severity,
                    time: record.time,
                    origin: HitOrigin::Sigma(r),
                    subject: String::new(),
                    account: String::new(),
                });
            }
        }
        if config.builtins {
            if let Some(h) = match_record(index, &record) {
                hits.push(builtin_hit(h));
            }
            logons.observe(index, &record);
        }
    });
    let (stats, error) = match result {
        Ok(s) => (s, None),
        Err(e) => (EvtxStats::default(), Some(e.to_string())),
    };
    FileOutcome { read: FileRead { path: path.to_owned(), bytes, stats, error }, hits, logons }
}

fn builtin_hit(h: BuiltinHit) -> Hit {
    Hit {
        file: h.file,
        record: h.record,
        rule: h.detection.name().to_owned(),
        source: h.computer,
        techniques: vec![h.technique],
        severity: h.severity,
        time: h.time,
        origin: HitOrigin::Builtin(h.detection),
        subject: h.subject,
        account: h.account,
    }
}

fn findings(report: &HuntReport, sigma: Option<&SigmaRules>, files: &[PathBuf]) -> Vec<Finding> {
    let mut groups: BTreeMap<(HitOrigin, &str, &str), Vec<&Hit>> = BTreeMap::new();
    for h in &report.hits {
        groups.entry((h.origin, h.source.as_str(), h.subject.as_str())).or_default().push(h);
    }
    let mut out = Vec::new();
    for ((origin, computer, subject), hits) in groups {
        let (kind, key, title, confidence) = match origin {
            HitOrigin::Sigma(r) => {
                let Some(info) = sigma.and_then(|s| s.rules().get(r)) else { continue };
                (
                    "sigma_rule",
                    format!("{}|{computer}", info.id),
                    format!("{} on {computer}", info.title),
                    0.7,
                )
            }
            HitOrigin::Builtin(b) => {
                let title = if subject.is_empty() {
                    format!("{} on {computer}", b.title())
                } else {
                    format!("{} on {computer}: {subject}", b.title())
                };
                (b.name(), format!("{computer}|{subject}"), title, 0.8)
            }
        };
        let severity = hits.iter().map(|h| h.severity).max().unwrap_or(Severity::Info);
        let mut span: Option<TimeSpan> = None;
        for h in &hits {
            match &mut span {
                Some(s) => s.extend(h.time),
                None => span = Some(TimeSpan::new(h.time, h.time)),
            }
        }
        let rule = &hits[0].rule;
        let mut f = Finding::new(Engine::Hunt, kind, &key, title)
            .summary(format!("{} record(s) matched {rule} on {computer}", hits.len()))
            .severity(severity)
            .confidence(confidence)
            .time_span(span)
            .scope(computer);
        for h in &hits {
            for t in &h.techniques {
                f = f.technique(t.clone());
            }
        }
        if let Some(e) = sources_evidence(origin, subject, &hits) {
            f = f.evidence(e);
        }
        for h in hits.iter().take(EVIDENCE_RECORDS) {
            let file = files.get(h.file).map(|p| p.display().to_string()).unwrap_or_default();
            let mut data =
                json!({"file": file, "record": h.record, "rule": rule, "time": h.time, "subject": h.subject});
            if !h.account.is_empty() {
                data["account"] = json!(h.account);
            }
            f = f.evidence(Evidence::new(
                "event_record",
                format!("record {} of {file} matched {rule}", h.record),
                data,
            ));
        }
        if hits.len() > EVIDENCE_RECORDS {
            f = f.evidence(Evidence::new(
                "more_records",
                format!("{} more matching records are listed in hits.csv", hits.len() - EVIDENCE_RECORDS),
                json!({"records": hits.len()}),
            ));
        }
        out.push(f);
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.title.cmp(&b.title)));
    out
}

/// The built-in logon detections, whose subject is the source of the logons.
const LOGON_DETECTIONS: [Builtin; 4] =
    [Builtin::PasswordSpraying, Builtin::BruteForce, Builtin::LogonAfterFailures, Builtin::RemoteLogonSource];

/// The `sources` evidence of a built-in finding: the source address of a logon
/// detection (when its source is an address, not a workstation name) and every account
/// its records name, so that the binary can join it with other engines' findings about
/// the same address or account.
fn sources_evidence(origin: HitOrigin, subject: &str, hits: &[&Hit]) -> Option<Evidence> {
    let HitOrigin::Builtin(b) = origin else { return None };
    let address = LOGON_DETECTIONS.contains(&b).then(|| subject.parse::<IpAddr>().ok()).flatten();
    let accounts: BTreeSet<&str> =
        hits.iter().map(|h| h.account.as_str()).filter(|a| !a.is_empty() && *a != "-").collect();
    if address.is_none() && accounts.is_empty() {
        return None;
    }
    let addresses: Vec<String> = address.iter().map(IpAddr::to_string).collect();
    let mut description = Vec::new();
    if !addresses.is_empty() {
        description.push(format!("source address {}", addresses.join(", ")));
    }
    if !accounts.is_empty() {
        let shown: Vec<&str> = accounts.iter().take(10).copied().collect();
        let more = accounts.len() - shown.len();
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        description.push(format!("accounts {}{more}", shown.join(", ")));
    }
    Some(Evidence::new(
        "sources",
        description.join("; "),
        json!({"addresses": addresses, "accounts": accounts}),
    ))
}

/// The source addresses a hunt finding names (its `sources` evidence), sorted, without
/// repeats.
pub fn source_addresses(f: &Finding) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = sources_field(f, "addresses").filter_map(|a| a.parse().ok()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The accounts a hunt finding names (its `sources` evidence), lower-case, sorted,
/// without repeats.
pub fn source_accounts(f: &Finding) -> Vec<String> {
    let out: BTreeSet<String> = sources_field(f, "accounts").map(str::to_ascii_lowercase).collect();
    out.into_iter().collect()
}

fn sources_field<'f>(f: &'f Finding, field: &'static str) -> impl Iterator<Item = &'f str> {
    let is_hunt = f.engine == Engine::Hunt;
    f.evidence
        .iter()
        .filter(move |e| is_hunt && e.kind == "sources")
        .flat_map(move |e| e.data[field].as_array().into_iter().flatten())
        .filter_map(|v| v.as_str())
}
