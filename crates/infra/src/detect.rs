//! Behaviour across events: per-source and per-account aggregates (scanning, brute
//! force, password spraying), indicator sightings, campaigns across jurisdictions and
//! activity counts for the trend test. Fed one analysed event at a time, in input
//! order; memory grows with the number of distinct sources, not with the input.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique, TimeSpan};
use serde_json::json;

use crate::analyse::Analysed;
use crate::event::{AuthOutcome, Event, EventKind};
use crate::indicators::IndicatorSet;
use crate::rules::{Rule, Verdict};
use crate::trend::{ALPHA, DailySeries, RampTest, ramp_test};

/// Thresholds of the behaviour detectors (documented defaults; all per source).
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// Scanning: at least this many distinct paths...
    pub scan_min_paths: usize,
    /// ...and at least this share of 4xx responses.
    pub scan_min_error_ratio: f64,
    /// Brute force: failed logins from one source within `brute_window_secs`.
    pub brute_min_failures: usize,
    pub brute_window_secs: i64,
    /// Password spraying: distinct accounts failed from one source.
    pub spray_min_accounts: usize,
    /// Distributed guessing: distinct sources failing on one account.
    pub distributed_min_sources: usize,
    /// Samples kept per finding.
    pub samples: usize,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            scan_min_paths: 50,
            scan_min_error_ratio: 0.5,
            brute_min_failures: 10,
            brute_window_secs: 600,
            spray_min_accounts: 5,
            distributed_min_sources: 5,
            samples: 5,
        }
    }
}

const LOGIN_WORDS: &[&str] =
    &["login", "logon", "signin", "sign-in", "sign_in", "auth", "session", "wp-login", "account"];
const MAX_PATHS: usize = 20_000;
const MAX_ACCOUNTS: usize = 10_000;

#[derive(Debug, Clone)]
struct Sample {
    time: Option<DateTime<Utc>>,
    jurisdiction: Arc<str>,
    line: String,
    rules: String,
}

#[derive(Debug, Default)]
struct SourceStats {
    requests: u64,
    errors_4xx: u64,
    paths: FxHashSet<u64>,
    span: Option<TimeSpan>,
    jurisdictions: BTreeMap<Arc<str>, u64>,
    rule_counts: BTreeMap<Rule, u64>,
    hostile: u64,
    anomalies: u64,
    attack_samples: Vec<Sample>,
    anomaly_samples: Vec<Sample>,
    payloads: BTreeMap<u64, u64>,
    agents: BTreeMap<String, u64>,
    attack_order: Vec<String>,
    failures: Vec<i64>,
    failed_accounts: BTreeSet<String>,
    accepted_after_failure: Vec<(String, Option<DateTime<Utc>>)>,
    ids_signatures: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
struct AccountStats {
    failures: u64,
    sources: FxHashSet<IpAddr>,
    span: Option<TimeSpan>,
    jurisdictions: BTreeSet<Arc<str>>,
}

#[derive(Debug, Default)]
struct Sighting {
    count: u64,
    span: Option<TimeSpan>,
    jurisdictions: BTreeSet<Arc<str>>,
    sources: BTreeSet<String>,
    rules: BTreeSet<Rule>,
}

/// Events with no source address (raw request dumps): aggregated per jurisdiction and rule.
#[derive(Debug, Default)]
struct Unattributed {
    count: u64,
    span: Option<TimeSpan>,
    samples: Vec<Sample>,
}

/// An offline IP-to-ASN table: `network,asn[,organisation]` rows (CIDR networks).
#[derive(Debug, Default, Clone)]
pub struct AsnTable {
    v4: Vec<(u32, u32, u32, String)>,
}

impl AsnTable {
    /// Reads the CSV; rows that are not `CIDR,ASN` are errors naming the line.
    pub fn load(path: &std::path::Path) -> Result<AsnTable, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let mut v4 = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut f = line.split(',').map(|s| s.trim().trim_matches('"'));
            let (net, asn) = (f.next().unwrap_or_default(), f.next().unwrap_or_default());
            let org = f.next().unwrap_or_default().to_owned();
            let asn = asn.trim_start_matches("AS").trim_start_matches("as");
            let parsed = net.split_once('/').and_then(|(ip, len)| {
                let ip: std::net::Ipv4Addr = ip.parse().ok()?;
                let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
                let asn: u32 = asn.parse().ok()?;
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                let start = u32::from(ip) & mask;
                Some((start, start | !mask, asn))
            });
            match parsed {
                Some((s, e, a)) => v4.push((s, e, a, org)),
                None if i == 0 => {} // header
                None => {
                    return Err(format!("{}:{}: expected 'CIDR,ASN[,organisation]'", path.display(), i + 1));
                }
            }
        }
        v4.sort_by_key(|r| (r.0, std::cmp::Reverse(r.1)));
        Ok(AsnTable { v4 })
    }

    pub fn lookup(&self, ip: IpAddr) -> Option<(u32, &str)> {
        let IpAddr::V4(v4) = ip else { return None };
        let x = u32::from(v4);
        let i = self.v4.partition_point(|r| r.0 <= x);
        // The most specific enclosing network among the ranges starting at or before x.
        self.v4[..i]
            .iter()
            .rev()
            .take(64)
            .filter(|r| r.1 >= x)
            .min_by_key(|r| r.1 - r.0)
            .map(|r| (r.2, r.3.as_str()))
    }
}

/// Offline geolocation from a MaxMind-format country database.
pub struct GeoDb {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl GeoDb {
    pub fn open(path: &std::path::Path) -> Result<GeoDb, String> {
        maxminddb::Reader::open_readfile(path)
            .map(|reader| GeoDb { reader })
            .map_err(|e| format!("opening {}: {e}", path.display()))
    }

    /// ISO 3166-1 alpha-2 code of the country the address is registered in.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let r = self.reader.lookup(ip).ok()?;
        let c: maxminddb::geoip2::Country = r.decode().ok()??;
        c.country.iso_code.or(c.registered_country.iso_code).map(str::to_owned)
    }
}

/// Everything the aggregate detectors keep.
#[derive(Default)]
pub struct Aggregator {
    pub thresholds: Thresholds,
    sources: FxHashMap<IpAddr, SourceStats>,
    accounts: FxHashMap<String, AccountStats>,
    sightings: BTreeMap<u32, Sighting>,
    unattributed: BTreeMap<(Arc<str>, Rule), Unattributed>,
    /// Hostile (attack or anomaly) events per day, per jurisdiction and overall ("*").
    pub hostile_daily: BTreeMap<Arc<str>, DailySeries>,
    /// All events per day, per jurisdiction.
    pub all_daily: BTreeMap<Arc<str>, DailySeries>,
    pub verdicts: [u64; 3],
    pub events: u64,
}

fn extend_span(span: &mut Option<TimeSpan>, t: Option<DateTime<Utc>>) {
    if let Some(t) = t {
        match span {
            Some(s) => s.extend(t),
            None => *span = Some(TimeSpan::new(t, t)),
        }
    }
}

fn describe(ev: &Event) -> String {
    let mut s = String::new();
    match ev.kind {
        EventKind::Http => {
            s.push_str(ev.method.as_deref().unwrap_or("-"));
            s.push(' ');
            s.push_str(ev.target.as_deref().unwrap_or("-"));
            if let Some(b) = &ev.body {
                s.push_str(" body=");
                s.push_str(b);
            }
            if let Some(st) = ev.status {
                s.push_str(&format!(" -> {st}"));
            }
        }
        EventKind::Alert => {
            if let Some(a) = &ev.alert {
                s.push_str(&format!("[{}] {}", a.signature_id, a.signature));
            }
            if let Some(t) = &ev.target {
                s.push_str(&format!(" {} {t}", ev.method.as_deref().unwrap_or("")));
            }
        }
        _ => s.push_str(ev.target.as_deref().or(ev.query.as_deref()).unwrap_or(ev.kind.as_str())),
    }
    s.chars().take(300).collect()
}

fn is_login_path(p: &str) -> bool {
    let lower = p.to_ascii_lowercase();
    LOGIN_WORDS.iter().any(|w| lower.contains(w))
}

impl Aggregator {
    pub fn new(thresholds: Thresholds) -> Aggregator {
        Aggregator { thresholds, ..Aggregator::default() }
    }

    pub fn observe(&mut self, a: &Analysed) {
        let ev = &a.event;
        let verdict = a.verdict();
        self.events += 1;
        self.verdicts[verdict as usize] += 1;
        let day: Option<NaiveDate> = ev.time.map(|t| t.date_naive());
        if let Some(d) = day {
            self.all_daily.entry(ev.jurisdiction.clone()).or_default().add(d, 1);
            if verdict != Verdict::Normal {
                self.hostile_daily.entry(ev.jurisdiction.clone()).or_default().add(d, 1);
                self.hostile_daily.entry(Arc::from("*")).or_default().add(d, 1);
            }
        }
        let samples = self.thresholds.samples;
        let sample = || Sample {
            time: ev.time,
            jurisdiction: ev.jurisdiction.clone(),
            line: describe(ev),
            rules: a.rules.names(),
        };
        for &idx in &a.indicators {
            let s = self.sightings.entry(idx).or_default();
            s.count += 1;
            extend_span(&mut s.span, ev.time);
            s.jurisdictions.insert(ev.jurisdiction.clone());
            if let Some(src) = ev.src
                && s.sources.len() < 100
            {
                s.sources.insert(src.to_string());
            }
            s.rules.extend(a.rules.iter().filter(|r| *r != Rule::Indicator));
        }
        // Failed logins on web login pages count like auth-log failures.
        let web_login_failure = ev.kind == EventKind::Http
            && ev.method.as_deref() == Some("POST")
            && matches!(ev.status, Some(401 | 403))
            && ev.path().is_some_and(is_login_path);
        // HTTP basic authentication: the server logs the user name the client sent (`%u`)
        // with the 401 that refused it.
        let basic_auth_failure = ev.kind == EventKind::Http
            && ev.status == Some(401)
            && ev.user.as_deref().is_some_and(|u| !u.is_empty());
        let failed = matches!(ev.auth, Some(AuthOutcome::Failed | AuthOutcome::InvalidUser))
            || web_login_failure
            || basic_auth_failure;
        let Some(src) = ev.src else {
            if verdict != Verdict::Normal {
                for r in a.rules.iter().filter(|r| r.verdict() != Verdict::Normal) {
                    let u = self.unattributed.entry((ev.jurisdiction.clone(), r)).or_default();
                    u.count += 1;
                    extend_span(&mut u.span, ev.time);
                    if u.samples.len() < samples {
                        u.samples.push(sample());
                    }
                }
            }
            return;
        };
        if failed
            && let Some(user) = ev.user.as_deref()
            && (self.accounts.len() < MAX_ACCOUNTS || self.accounts.contains_key(user))
        {
            let acc = self.accounts.entry(user.to_owned()).or_default();
            acc.failures += 1;
            acc.sources.insert(src);
            extend_span(&mut acc.span, ev.time);
            acc.jurisdictions.insert(ev.jurisdiction.clone());
        }
        let s = self.sources.entry(src).or_default();
        s.requests += 1;
        extend_span(&mut s.span, ev.time);
        *s.jurisdictions.entry(ev.jurisdiction.clone()).or_default() += 1;
        if ev.kind == EventKind::Http {
            if ev.status.is_some_and(|st| (400..500).contains(&st)) {
                s.errors_4xx += 1;
            }
            if let Some(p) = ev.path()
                && s.paths.len() < MAX_PATHS
            {
                let mut h = rustc_hash::FxHasher::default();
                p.hash(&mut h);
                s.paths.insert(h.finish());
            }
        }
        if let Some(ua) = ev.user_agent.as_deref()
            && (s.agents.len() < 16 || s.agents.contains_key(ua))
        {
            *s.agents.entry(ua.to_owned()).or_default() += 1;
        }
        for r in a.rules.iter() {
            *s.rule_counts.entry(r).or_default() += 1;
        }
        if let Some(alert) = &ev.alert
            && s.ids_signatures.len() < 32
        {
            *s.ids_signatures.entry(alert.signature.clone()).or_default() += 1;
        }
        match verdict {
            Verdict::Attack => {
                s.hostile += 1;
                if s.attack_samples.len() < samples {
                    s.attack_samples.push(sample());
                }
                if let Some(fp) = a.payload_fingerprint()
                    && (s.payloads.len() < 64 || s.payloads.contains_key(&fp))
                {
                    *s.payloads.entry(fp).or_default() += 1;
                }
                if s.attack_order.len() < 8
                    && let Some(p) = ev.path()
                {
                    s.attack_order.push(p.to_owned());
                }
            }
            Verdict::Anomaly => {
                s.anomalies += 1;
                if s.anomaly_samples.len() < samples {
                    s.anomaly_samples.push(sample());
                }
            }
            Verdict::Normal => {}
        }
        if failed {
            if let Some(t) = ev.time {
                s.failures.push(t.timestamp());
            } else {
                s.failures.push(0);
            }
            if let Some(user) = ev.user.as_deref()
                && s.failed_accounts.len() < MAX_ACCOUNTS
            {
                s.failed_accounts.insert(user.to_owned());
            }
        }
        if ev.auth == Some(AuthOutcome::Accepted)
            && !s.failures.is_empty()
            && s.accepted_after_failure.len() < 16
        {
            s.accepted_after_failure.push((ev.user.clone().unwrap_or_default(), ev.time));
        }
    }
}

/// Findings, campaigns and the trend, ready for the store and the report.
pub struct Report {
    pub findings: Vec<Finding>,
    pub campaigns: Vec<Campaign>,
    pub trend: Vec<TrendRow>,
}

/// A group of sources linked by network, payload or tooling.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Campaign {
    pub id: String,
    pub sources: Vec<String>,
    pub jurisdictions: Vec<String>,
    pub events: u64,
    pub links: Vec<String>,
    pub score: f64,
    pub techniques: Vec<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// The ramp-up test of one series.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrendRow {
    pub jurisdiction: String,
    pub weekly: Vec<(NaiveDate, u64)>,
    pub daily: Vec<(NaiveDate, u64)>,
    pub test: Option<RampTest>,
}

/// Context the explain step may use.
#[derive(Default)]
pub struct Enrichment<'a> {
    pub geo: Option<&'a GeoDb>,
    pub asn: Option<&'a AsnTable>,
    pub indicators: Option<&'a IndicatorSet>,
    /// Weeks of the trend test's recent window.
    pub recent_weeks: usize,
}

fn techniques_of<'r>(rules: impl Iterator<Item = &'r Rule>) -> Vec<Technique> {
    let mut ids: Vec<&str> = rules.flat_map(|r| r.techniques().iter().copied()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter().map(Technique::attack).collect()
}

fn observable(ip: IpAddr) -> Evidence {
    let t = if ip.is_ipv4() { "ipv4-addr" } else { "ipv6-addr" };
    Evidence::new("observable", format!("source address {ip}"), json!({"type": t, "value": ip.to_string()}))
}

fn sample_evidence(samples: &[Sample]) -> Vec<Evidence> {
    samples
        .iter()
        .map(|s| {
            Evidence::new(
                "request",
                format!("{} [{}]", s.line, s.rules),
                json!({"time": s.time.map(|t| t.to_rfc3339()), "jurisdiction": &*s.jurisdiction, "rules": s.rules}),
            )
        })
        .collect()
}

fn scope_of(j: &BTreeMap<Arc<str>, u64>) -> String {
    j.keys().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
}

fn net_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

fn is_tool_agent(ua: &str) -> bool {
    // Browser user agents are shared by millions and link nothing; tool agents do.
    !ua.starts_with("Mozilla/") && !ua.starts_with("Opera/") && ua.len() > 2
}

fn max_in_window(times: &mut [i64], window: i64) -> usize {
    times.sort_unstable();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] > window {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

impl Aggregator {
    /// Turns the aggregates into findings, campaigns and trend tests.
    pub fn finish(mut self, ctx: &Enrichment<'_>) -> Report {
        let th = self.thresholds.clone();
        let mut findings = Vec::new();
        let mut hostile_sources: Vec<IpAddr> = Vec::new();
        let mut sources: Vec<(IpAddr, SourceStats)> = self.sources.drain().collect();
        sources.sort_by_key(|(ip, _)| *ip);
        let geo = |ip: IpAddr| ctx.geo.and_then(|g| g.country(ip));
        let mut source_techniques: FxHashMap<IpAddr, Vec<Technique>> = FxHashMap::default();
        for (ip, s) in &mut sources {
            let ip = *ip;
            let mut techs: Vec<Technique> = Vec::new();
            let scope = scope_of(&s.jurisdictions);
            let mut base_evidence = vec![observable(ip)];
            let country = geo(ip);
            if let Some(c) = &country {
                base_evidence.push(Evidence::new(
                    "geolocation",
                    format!("{ip} is registered in {c}"),
                    json!({"country": c}),
                ));
            }
            if let Some((asn, org)) = ctx.asn.and_then(|t| t.lookup(ip)) {
                base_evidence.push(Evidence::new(
                    "asn",
                    format!("{ip} is in AS{asn} {org}"),
                    json!({"asn": asn, "org": org}),
                ));
            }
            let offices = s.jurisdictions.len();
            let attack_rules: Vec<Rule> = s
                .rule_counts
                .keys()
                .copied()
                .filter(|r| r.verdict() == Verdict::Attack && *r != Rule::Indicator)
                .collect();
            if s.hostile > 0 && !attack_rules.is_empty() {
                let t = techniques_of(attack_rules.iter());
                let mut names: Vec<String> =
                    attack_rules.iter().map(|r| format!("{} ({})", r.name(), s.rule_counts[r])).collect();
                names.truncate(6);
                let score = (0.55 + 0.1 * (s.hostile as f64).log10() + 0.1 * (offices as f64 - 1.0)).min(1.0);
                let mut f = Finding::new(Engine::Infra, "web_attack", &ip.to_string(), format!("{ip} sent {} attack requests: {}", s.hostile, names.join(", ")))
                    .summary(format!(
                        "Requests from {ip} matched attack signatures {} times across {offices} office(s) ({scope}). {}",
                        s.hostile,
                        attack_rules.iter().map(|r| r.description()).collect::<Vec<_>>().join("; ")
                    ))
                    .severity(Severity::from_score(score))
                    .confidence(if attack_rules.iter().any(|r| matches!(r, Rule::Sqli | Rule::Xss | Rule::CommandInjection | Rule::PathTraversal | Rule::FileInclusion | Rule::IdsAlert)) { 0.9 } else { 0.7 })
                    .time_span(s.span)
                    .scope(scope.clone());
                for e in base_evidence.iter().cloned().chain(sample_evidence(&s.attack_samples)) {
                    f = f.evidence(e);
                }
                f = f.evidence(Evidence::new(
                    "rule_counts",
                    format!(
                        "{} requests in all, {} attacks, {} anomalies",
                        s.requests, s.hostile, s.anomalies
                    ),
                    json!(s.rule_counts.iter().map(|(r, n)| (r.name(), n)).collect::<BTreeMap<_, _>>()),
                ));
                if !s.ids_signatures.is_empty() {
                    f = f.evidence(Evidence::new(
                        "ids",
                        "IDS signatures that fired",
                        json!(s.ids_signatures),
                    ));
                }
                for t in &t {
                    f = f.technique(t.clone());
                }
                if s.ids_signatures.keys().any(|k| k.to_ascii_uppercase().contains("SCAN")) {
                    f = f.technique(Technique::attack("T1595.002"));
                }
                techs.extend(f.techniques.iter().cloned());
                findings.push(f);
            } else if s.anomalies >= 3 {
                let rules: Vec<Rule> =
                    s.rule_counts.keys().copied().filter(|r| r.verdict() == Verdict::Anomaly).collect();
                let mut f = Finding::new(
                    Engine::Infra,
                    "anomalous_requests",
                    &ip.to_string(),
                    format!("{ip} sent {} requests outside the normal profile", s.anomalies),
                )
                .summary(format!(
                    "{} of {} requests from {ip} broke: {}",
                    s.anomalies,
                    s.requests,
                    rules.iter().map(|r| r.description()).collect::<Vec<_>>().join("; ")
                ))
                .severity(Severity::Low)
                .confidence(0.5)
                .time_span(s.span)
                .scope(scope.clone());
                for e in base_evidence.iter().cloned().chain(sample_evidence(&s.anomaly_samples)) {
                    f = f.evidence(e);
                }
                for t in techniques_of(rules.iter()) {
                    f = f.technique(t);
                }
                if f.techniques.is_empty() {
                    f = f.technique(Technique::attack("T1595"));
                }
                findings.push(f);
            }
            // Scanning.
            let paths = s.paths.len();
            let err_ratio = if s.requests > 0 { s.errors_4xx as f64 / s.requests as f64 } else { 0.0 };
            let scanner_ua = s.rule_counts.contains_key(&Rule::ScannerAgent);
            if paths >= th.scan_min_paths && (err_ratio >= th.scan_min_error_ratio || scanner_ua) {
                let tech = if scanner_ua { "T1595.002" } else { "T1595.003" };
                let score = (0.45
                    + 0.1 * (paths as f64 / th.scan_min_paths as f64).log2()
                    + 0.1 * (offices as f64 - 1.0))
                    .min(1.0);
                let mut f = Finding::new(Engine::Infra, "scanning", &ip.to_string(), format!("{ip} scanned {paths} distinct paths ({:.0}% 4xx)", err_ratio * 100.0))
                    .summary(format!("{ip} requested {paths} distinct paths in {} requests; {:.0}% were answered 4xx{}. Thresholds: >= {} paths and >= {:.0}% 4xx (or a scanner user agent).", s.requests, err_ratio * 100.0, if scanner_ua { ", with a scanner user agent" } else { "" }, th.scan_min_paths, th.scan_min_error_ratio * 100.0))
                    .severity(Severity::from_score(score))
                    .confidence(if scanner_ua { 0.95 } else { 0.8 })
                    .time_span(s.span)
                    .scope(scope.clone())
                    .technique(Technique::attack("T1595"))
                    .technique(Technique::attack(tech));
                for e in base_evidence.iter().cloned() {
                    f = f.evidence(e);
                }
                f = f.evidence(Evidence::new("counts", format!("{} requests, {paths} paths, {} 4xx", s.requests, s.errors_4xx), json!({"requests": s.requests, "distinct_paths": paths, "errors_4xx": s.errors_4xx, "user_agents": s.agents})));
                techs.extend(f.techniques.iter().cloned());
                findings.push(f);
            }
            // Brute force and spraying.
            let failures = s.failures.len();
            if failures >= th.brute_min_failures {
                let peak = max_in_window(&mut s.failures, th.brute_window_secs);
                let accounts = s.failed_accounts.len();
                let spraying = accounts >= th.spray_min_accounts;
                if peak >= th.brute_min_failures || spraying {
                    let (kind, title, t) = if spraying {
                        (
                            "password_spraying",
                            format!("{ip} failed logins on {accounts} accounts ({failures} failures)"),
                            vec!["T1110.003", "T1110.004"],
                        )
                    } else {
                        (
                            "brute_force",
                            format!(
                                "{ip} failed {failures} logins (peak {peak} in {} min)",
                                th.brute_window_secs / 60
                            ),
                            vec!["T1110.001"],
                        )
                    };
                    let score = (0.5
                        + 0.1 * (failures as f64 / th.brute_min_failures as f64).log2()
                        + if s.accepted_after_failure.is_empty() { 0.0 } else { 0.3 })
                    .min(1.0);
                    let mut f = Finding::new(Engine::Infra, kind, &ip.to_string(), title)
                        .summary(format!("{failures} failed logins from {ip} on {accounts} account(s); at most {peak} within {} seconds. Thresholds: >= {} failures in the window, or failures on >= {} accounts.", th.brute_window_secs, th.brute_min_failures, th.spray_min_accounts))
                        .severity(Severity::from_score(score))
                        .confidence(0.85)
                        .time_span(s.span)
                        .scope(scope.clone())
                        .technique(Technique::attack("T1110"));
                    for id in t {
                        f = f.technique(Technique::attack(id));
                    }
                    for e in base_evidence.iter().cloned() {
                        f = f.evidence(e);
                    }
                    let accts: Vec<&String> = s.failed_accounts.iter().take(20).collect();
                    f = f.evidence(Evidence::new(
                        "accounts",
                        format!(
                            "accounts tried include {}",
                            accts.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                        json!({"failures": failures, "peak_in_window": peak, "accounts": accts}),
                    ));
                    if !s.accepted_after_failure.is_empty() {
                        f = f.technique(Technique::attack("T1078")).evidence(Evidence::new(
                            "accepted_after_failures",
                            format!(
                                "a login from {ip} succeeded after the failures: {}",
                                s.accepted_after_failure
                                    .iter()
                                    .map(|(u, _)| u.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            json!(
                                s.accepted_after_failure
                                    .iter()
                                    .map(|(u, t)| json!({"user": u, "time": t.map(|t| t.to_rfc3339())}))
                                    .collect::<Vec<_>>()
                            ),
                        ));
                    }
                    techs.extend(f.techniques.iter().cloned());
                    findings.push(f);
                }
            }
            if !techs.is_empty() || s.rule_counts.contains_key(&Rule::Indicator) {
                hostile_sources.push(ip);
                techs.sort();
                techs.dedup();
                source_techniques.insert(ip, techs);
            }
        }
        // Accounts attacked from many sources.
        let mut accounts: Vec<(String, AccountStats)> = self.accounts.drain().collect();
        accounts.sort_by(|a, b| a.0.cmp(&b.0));
        for (user, a) in accounts {
            if a.sources.len() >= th.distributed_min_sources {
                let scope = a.jurisdictions.iter().map(|j| j.to_string()).collect::<Vec<_>>().join(", ");
                let mut srcs: Vec<String> = a.sources.iter().map(|s| s.to_string()).collect();
                srcs.sort();
                srcs.truncate(50);
                findings.push(
                    Finding::new(
                        Engine::Infra,
                        "distributed_brute_force",
                        &user,
                        format!("account '{user}' failed logins from {} sources", a.sources.len()),
                    )
                    .summary(format!(
                        "{} failed logins for '{user}' came from {} distinct sources (threshold {}).",
                        a.failures,
                        a.sources.len(),
                        th.distributed_min_sources
                    ))
                    .severity(Severity::Medium)
                    .confidence(0.75)
                    .time_span(a.span)
                    .scope(scope)
                    .technique(Technique::attack("T1110"))
                    .technique(Technique::attack("T1110.001"))
                    .evidence(Evidence::new(
                        "sources",
                        format!(
                            "sources include {}",
                            srcs.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
                        ),
                        json!({"account": user, "failures": a.failures, "sources": srcs}),
                    )),
                );
            }
        }
        // Indicator sightings.
        if let Some(set) = ctx.indicators {
            for (idx, s) in &self.sightings {
                let Some(ind) = set.list.get(*idx as usize) else { continue };
                let scope = s.jurisdictions.iter().map(|j| j.to_string()).collect::<Vec<_>>().join(", ");
                let mut f = Finding::new(
                    Engine::Infra,
                    "indicator_sighting",
                    &format!("{}:{}", ind.kind.as_str(), ind.value),
                    format!("indicator {} seen {} times", ind.value, s.count),
                )
                .summary(format!(
                    "{} {} from {} ({}) was seen {} times at {}.",
                    ind.kind.as_str(),
                    ind.value,
                    ind.source,
                    if ind.description.is_empty() { "no description" } else { &ind.description },
                    s.count,
                    scope
                ))
                .severity(if s.rules.iter().any(|r| r.verdict() == Verdict::Attack) {
                    Severity::High
                } else {
                    Severity::Medium
                })
                .confidence(0.8)
                .time_span(s.span)
                .scope(scope);
                let obs_type = match ind.kind {
                    crate::IndicatorKind::Ip => {
                        if ind.value.contains(':') {
                            "ipv6-addr"
                        } else {
                            "ipv4-addr"
                        }
                    }
                    crate::IndicatorKind::Network => {
                        if ind.value.contains(':') {
                            "ipv6-addr"
                        } else {
                            "ipv4-addr"
                        }
                    }
                    crate::IndicatorKind::Domain => "domain-name",
                    crate::IndicatorKind::Url => "url",
                    crate::IndicatorKind::UserAgent => "user-agent",
                };
                f = f.evidence(Evidence::new("observable", format!("{} {}", ind.kind.as_str(), ind.value), json!({"type": obs_type, "value": ind.value, "stix_id": ind.stix_id, "sighting_count": s.count, "source": ind.source})));
                f = f.evidence(Evidence::new("sources", "addresses that matched", json!(s.sources)));
                let t = techniques_of(s.rules.iter());
                if t.is_empty() {
                    f = f.technique(Technique::attack("T1595"));
                }
                for t in t {
                    f = f.technique(t);
                }
                findings.push(f);
            }
        }
        // Attacks without a source address.
        for ((j, rule), u) in &self.unattributed {
            if u.count == 0 {
                continue;
            }
            let mut f = Finding::new(
                Engine::Infra,
                if rule.verdict() == Verdict::Attack { "web_attack" } else { "anomalous_requests" },
                &format!("{j}:{}", rule.name()),
                format!("{} requests at {j} tripped {}", u.count, rule.name()),
            )
            .summary(format!("{} requests without a source address: {}.", u.count, rule.description()))
            .severity(if rule.verdict() == Verdict::Attack { Severity::Medium } else { Severity::Low })
            .confidence(if rule.verdict() == Verdict::Attack { 0.8 } else { 0.5 })
            .time_span(u.span)
            .scope(j.to_string());
            for e in sample_evidence(&u.samples) {
                f = f.evidence(e);
            }
            let t = techniques_of([*rule].iter());
            if t.is_empty() {
                f = f.technique(Technique::attack("T1190"));
            }
            for t in t {
                f = f.technique(t);
            }
            findings.push(f);
        }
        // Campaigns.
        let by_ip: FxHashMap<IpAddr, usize> =
            sources.iter().enumerate().map(|(i, (ip, _))| (*ip, i)).collect();
        let nodes: Vec<usize> = hostile_sources.iter().filter_map(|ip| by_ip.get(ip).copied()).collect();
        let mut uf = UnionFind((0..nodes.len()).collect());
        let mut keys: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (n, &si) in nodes.iter().enumerate() {
            let (ip, s) = &sources[si];
            keys.entry(format!("network {}", net_key(*ip))).or_default().push(n);
            if let Some((asn, _)) = ctx.asn.and_then(|t| t.lookup(*ip)) {
                keys.entry(format!("AS{asn}")).or_default().push(n);
            }
            for fp in s.payloads.keys() {
                keys.entry(format!("payload {fp:016x}")).or_default().push(n);
            }
            for ua in s.agents.keys().filter(|u| is_tool_agent(u)) {
                keys.entry(format!("tool '{ua}'")).or_default().push(n);
            }
            if s.attack_order.len() >= 3 {
                let mut h = rustc_hash::FxHasher::default();
                s.attack_order.hash(&mut h);
                keys.entry(format!("request order {:016x}", h.finish())).or_default().push(n);
            }
        }
        let mut links_of: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        for (k, members) in &keys {
            for w in members.windows(2) {
                uf.union(w[0], w[1]);
            }
            if members.len() > 1 {
                let root = uf.find(members[0]);
                links_of.entry(root).or_default().insert(k.clone());
            }
        }
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for n in 0..nodes.len() {
            let r = uf.find(n);
            groups.entry(r).or_default().push(n);
        }
        let mut campaigns = Vec::new();
        for (root, members) in groups {
            let mut juris: BTreeSet<String> = BTreeSet::new();
            let mut events = 0;
            let mut span: Option<TimeSpan> = None;
            let mut techs: BTreeSet<Technique> = BTreeSet::new();
            let mut srcs = Vec::new();
            for &n in &members {
                let (ip, s) = &sources[nodes[n]];
                juris.extend(s.jurisdictions.keys().map(|j| j.to_string()));
                events += s.hostile + s.anomalies + s.failures.len() as u64;
                if let Some(sp) = s.span {
                    extend_span(&mut span, Some(sp.start));
                    extend_span(&mut span, Some(sp.end));
                }
                techs.extend(source_techniques.get(ip).into_iter().flatten().cloned());
                srcs.push(ip.to_string());
            }
            if members.len() < 2 && juris.len() < 2 {
                continue;
            }
            let links: Vec<String> =
                links_of.remove(&root).map(|l| l.into_iter().collect()).unwrap_or_default();
            let score = (0.35
                + 0.2 * (juris.len() as f64 - 1.0)
                + 0.05 * (members.len() as f64).ln()
                + 0.05 * (events as f64 + 1.0).log10())
            .min(1.0);
            let key = srcs.join(",");
            let id = scrutineer_core::FindingId::derive(Engine::Infra, "campaign", &key).0;
            let tech_list: Vec<Technique> = techs.into_iter().collect();
            let mut f = Finding::new(Engine::Infra, "campaign", &key, format!("campaign: {} source(s) across {} office(s): {}", srcs.len(), juris.len(), juris.iter().cloned().collect::<Vec<_>>().join(", ")))
                .summary(format!("Sources {} are linked ({}) and were active against {}. A campaign touching several offices ranks higher.", srcs.iter().take(10).cloned().collect::<Vec<_>>().join(", "), if links.is_empty() { "same source".to_owned() } else { links.join("; ") }, juris.iter().cloned().collect::<Vec<_>>().join(", ")))
                .severity(Severity::from_score(score))
                .confidence(if links.iter().any(|l| l.starts_with("payload") || l.starts_with("tool")) || members.len() == 1 { 0.85 } else { 0.6 })
                .time_span(span)
                .scope(juris.iter().cloned().collect::<Vec<_>>().join(", "));
            for ip in srcs.iter().take(50).filter_map(|s| s.parse::<IpAddr>().ok()) {
                f = f.evidence(observable(ip));
            }
            f = f.evidence(Evidence::new(
                "links",
                "what links the sources",
                json!({"links": links, "jurisdictions": juris, "events": events}),
            ));
            for t in &tech_list {
                f = f.technique(t.clone());
            }
            if f.techniques.is_empty() {
                f = f.technique(Technique::attack("T1595"));
            }
            findings.push(f);
            campaigns.push(Campaign {
                id,
                sources: srcs,
                jurisdictions: juris.into_iter().collect(),
                events,
                links,
                score,
                techniques: tech_list.iter().map(|t| t.id.clone()).collect(),
                start: span.map(|s| s.start),
                end: span.map(|s| s.end),
            });
        }
        campaigns.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.events.cmp(&a.events)));
        // Trend.
        let k = if ctx.recent_weeks == 0 { 2 } else { ctx.recent_weeks };
        let trend = trend_rows(&self.hostile_daily, k);
        for row in &trend {
            if let Some(t) = row.test.as_ref().filter(|t| t.ramp_up) {
                let j = &row.jurisdiction;
                let scope = if j == "*" { "all offices".to_owned() } else { j.clone() };
                findings.push(
                    Finding::new(Engine::Infra, "activity_ramp_up", j, format!("hostile activity at {scope} rose {:.1}x in the last {k} weeks", t.ratio))
                        .summary(format!("{} hostile events in the last {k} weeks against {} in the {} weeks before: rate ratio {:.2}, one-sided Poisson rate-ratio test p = {:.2e} (alpha {}).", t.recent, t.baseline, t.baseline_weeks, t.ratio, t.p_value, t.alpha))
                        .severity(if t.ratio >= 3.0 { Severity::High } else { Severity::Medium })
                        .confidence((1.0 - t.p_value).clamp(0.0, 0.99))
                        .scope(scope)
                        .technique(Technique::attack("T1595"))
                        .technique(Technique::attack("T1190"))
                        .evidence(Evidence::new("trend", "weekly hostile event counts", json!({"weekly": row.weekly, "test": t}))),
                );
            }
        }
        Report { findings, campaigns, trend }
    }
}

/// Weekly series and ramp-up tests for each series of daily counts.
pub fn trend_rows(series: &BTreeMap<Arc<str>, DailySeries>, recent_weeks: usize) -> Vec<TrendRow> {
    let last = series.values().filter_map(|s| s.days.keys().next_back().copied()).max();
    let Some(last) = last else { return Vec::new() };
    series
        .iter()
        .map(|(j, s)| {
            let weekly = s.weekly(last);
            let counts: Vec<u64> = weekly.iter().map(|(_, n)| *n).collect();
            TrendRow {
                jurisdiction: j.to_string(),
                test: ramp_test(&counts, recent_weeks, ALPHA),
                weekly,
                daily: s.days.iter().map(|(d, n)| (*d, *n)).collect(),
            }
        })
        .collect()
}

/// Maps host names to offices (`host,jurisdiction` CSV rows).
#[derive(Debug, Default, Clone)]
pub struct JurisdictionMap {
    map: FxHashMap<String, Arc<str>>,
}

impl JurisdictionMap {
    pub fn load(path: &std::path::Path) -> Result<JurisdictionMap, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let mut map = FxHashMap::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((host, j)) = line.split_once(',') else {
                return Err(format!("{}:{}: expected 'hostname,jurisdiction'", path.display(), i + 1));
            };
            let (host, j) = (host.trim().trim_matches('"').to_ascii_lowercase(), j.trim().trim_matches('"'));
            if i == 0 && (host == "host" || host == "hostname") {
                continue;
            }
            map.insert(host, Arc::from(j));
        }
        Ok(JurisdictionMap { map })
    }

    /// Reassigns the event to the office its host belongs to, if listed.
    pub fn resolve(&self, ev: &mut Event) {
        if let Some(h) = ev.host.as_deref()
            && let Some(j) = self.map.get(&h.to_ascii_lowercase())
        {
            ev.jurisdiction = j.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::Analyser;

    fn http(src: &str, j: &str, target: &str, status: u16, minute: i64) -> Event {
        Event {
            kind: EventKind::Http,
            src: src.parse().ok(),
            method: Some("GET".into()),
            target: Some(target.into()),
            status: Some(status),
            user_agent: Some("Mozilla/5.0".into()),
            time: DateTime::from_timestamp(1_727_784_000 + minute * 60, 0),
            jurisdiction: Arc::from(j),
            ..Event::default()
        }
    }

    #[test]
    fn one_source_three_offices_same_payload_is_one_campaign() {
        let an = Analyser::default();
        let mut agg = Aggregator::default();
        for (i, j) in ["cook", "dupage", "lake"].iter().enumerate() {
            agg.observe(&an.analyse(http("203.0.113.9", j, "/voter/lookup?id=1'+or+'1'='1", 200, i as i64)));
            agg.observe(&an.analyse(http("198.51.100.1", j, "/index.html", 200, i as i64)));
        }
        let r = agg.finish(&Enrichment::default());
        assert_eq!(r.campaigns.len(), 1, "{:?}", r.campaigns);
        assert_eq!(r.campaigns[0].jurisdictions, vec!["cook", "dupage", "lake"]);
        assert!(r.findings.iter().all(|f| !f.techniques.is_empty()));
        assert!(
            r.findings.iter().any(|f| f.kind == "web_attack" && f.techniques.iter().any(|t| t.id == "T1190"))
        );
    }

    #[test]
    fn shared_payload_links_different_networks() {
        let an = Analyser::default();
        let mut agg = Aggregator::default();
        agg.observe(&an.analyse(http("203.0.113.9", "cook", "/q?id=1'+or+'1'='1", 200, 0)));
        agg.observe(&an.analyse(http("192.0.2.77", "lake", "/search?id=7'+OR+'1'='1", 200, 5)));
        let r = agg.finish(&Enrichment::default());
        assert_eq!(r.campaigns.len(), 1, "{:?}", r.campaigns);
        assert_eq!(r.campaigns[0].sources.len(), 2);
        assert!(r.campaigns[0].links.iter().any(|l| l.starts_with("payload")));
    }

    #[test]
    fn scanning_and_brute_force_are_found() {
        let an = Analyser::default();
        let mut agg = Aggregator::default();
        for i in 0..80 {
            agg.observe(&an.analyse(http("203.0.113.5", "cook", &format!("/p{i}.php"), 404, i)));
        }
        for i in 0..15 {
            let mut e = http("198.51.100.3", "cook", "", 0, i);
            e.kind = EventKind::Auth;
            e.auth = Some(AuthOutcome::Failed);
            e.user = Some("root".into());
            e.time = DateTime::from_timestamp(1_727_784_000 + i * 10, 0);
            agg.observe(&an.analyse(e));
        }
        let r = agg.finish(&Enrichment::default());
        let scan = r.findings.iter().find(|f| f.kind == "scanning").expect("scanning");
        assert!(scan.techniques.iter().any(|t| t.id == "T1595.003"));
        let bf = r.findings.iter().find(|f| f.kind == "brute_force").expect("brute force");
        assert!(bf.techniques.iter().any(|t| t.id == "T1110.001"));
        // A benign source with a few 404s is not a scanner.
        assert_eq!(r.findings.iter().filter(|f| f.kind == "scanning").count(), 1);
    }

    #[test]
    fn basic_auth_failures_in_access_logs_are_failed_logins() {
        let an = Analyser::default();
        let mut agg = Aggregator::default();
        for (i, user) in
            ["admin", "clerk", "root", "elections", "jsmith", "backup"].iter().cycle().take(24).enumerate()
        {
            let mut e = http("203.0.113.40", "cook", "/admin/", 401, 0);
            e.user = Some((*user).to_owned());
            e.time = DateTime::from_timestamp(1_727_784_000 + i as i64 * 5, 0);
            agg.observe(&an.analyse(e));
        }
        // A member of staff mistyping once is not an attack.
        let mut e = http("198.51.100.8", "cook", "/admin/", 401, 0);
        e.user = Some("staff1".into());
        agg.observe(&an.analyse(e));
        let r = agg.finish(&Enrichment::default());
        let spray: Vec<_> = r
            .findings
            .iter()
            .filter(|f| matches!(f.kind.as_str(), "brute_force" | "password_spraying"))
            .collect();
        assert_eq!(spray.len(), 1, "{:?}", r.findings.iter().map(|f| &f.title).collect::<Vec<_>>());
        assert!(spray[0].title.contains("203.0.113.40"));
    }

    #[test]
    fn asn_table_finds_most_specific_network() {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        std::io::Write::write_all(
            &mut f,
            b"network,asn,org\n203.0.0.0/8,1,Big\n203.0.113.0/24,64500,Small\n",
        )
        .expect("write");
        let t = AsnTable::load(f.path()).expect("load");
        assert_eq!(t.lookup("203.0.113.9".parse().expect("ip")), Some((64500, "Small")));
        assert_eq!(t.lookup("203.1.1.1".parse().expect("ip")), Some((1, "Big")));
        assert_eq!(t.lookup("8.8.8.8".parse().expect("ip")), None);
    }
}
