//! Behaviour across events: per-source and per-account aggregates (scanning, brute
//! force, password spraying), indicator sightings, campaigns across jurisdictions and
//! activity counts for the trend test. Fed one analysed event at a time, in input
//! order; memory grows with the number of distinct sources, not with the input.

//!
//! [`Aggregator::observe`] keeps the aggregates; [`Aggregator::finish`] hands them to one
//! function per detector, each in its own module: [`attacks`] (web attacks and anomalies
//! per source, and those without a source), [`scanning`], [`brute_force`] (brute force
//! and password spraying), [`accounts`] (accounts attacked from many sources),
//! [`sightings`] (indicator sightings), [`campaigns`] and [`ramp_up`] (the trend).

mod accounts;
mod attacks;
mod brute_force;
mod campaigns;
mod network;
mod ramp_up;
mod scanning;
mod sightings;

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use scrutineer_core::{Evidence, Finding, Technique, TimeSpan};
use serde_json::json;

use crate::analyse::Analysed;
use crate::event::{AuthOutcome, Event, EventKind};
use crate::indicators::IndicatorSet;
use crate::rules::{Rule, Verdict};
use crate::tables::{AsnTable, GeoDb};
use crate::trend::{DailySeries, RampTest};
use campaigns::HostileSource;
pub use ramp_up::trend_rows;

/// Thresholds of the behaviour detectors (documented defaults; all per source).
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// Scanning: at least this many distinct paths...
    pub scan_min_paths: usize,
    /// ...and at least this share of 4xx responses.
    pub scan_min_error_ratio: f64,
    /// Brute force: failed logins from one source within `brute_window_secs`.
    pub brute_min_failures: usize,
    /// The window of `brute_min_failures`, in seconds.
    pub brute_window_secs: i64,
    /// Password spraying: distinct accounts failed from one source.
    pub spray_min_accounts: usize,
    /// Distributed guessing: distinct sources failing on one account.
    pub distributed_min_sources: usize,
    /// Samples kept per finding.
    pub samples: usize,
    /// Beaconing: connections of a pair before its regularity is scored.
    pub beacon_min_connections: usize,
    /// Beaconing: the beacon score (0 to 1) a pair must reach.
    pub beacon_min_score: f64,
    /// Long connections: seconds a connection must stay open.
    pub long_connection_secs: f64,
    /// Network scans: distinct host:port targets one source probed without an answer.
    pub netscan_min_targets: usize,
    /// NXDOMAIN floods: distinct registered domains failing for one host.
    pub nxdomain_min_names: usize,
    /// DGA lookups: distinct machine-made looking registered domains one host looked up.
    pub dga_min_names: usize,
    /// DNS tunnelling: distinct subdomains of one domain (or unusual-type lookups).
    pub tunnel_min_subdomains: usize,
    /// Probed hosts: distinct sources that tried a host on ports it never answered on...
    pub probe_min_sources: usize,
    /// ...over at least this many such ports.
    pub probe_min_ports: usize,
    /// Rare destinations: hosts seen before "only one host talks to it" means anything.
    pub rare_min_population: usize,
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
            beacon_min_connections: 20,
            beacon_min_score: 0.8,
            long_connection_secs: 3600.0,
            netscan_min_targets: 50,
            nxdomain_min_names: 25,
            dga_min_names: 10,
            tunnel_min_subdomains: 100,
            probe_min_sources: 20,
            probe_min_ports: 10,
            rare_min_population: 10,
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
    /// Campaign link keys from the network detectors (a shared beacon destination).
    net_links: BTreeSet<String>,
}

/// Failed logins on one account: one user name at one office.
#[derive(Debug, Default)]
struct AccountStats {
    failures: u64,
    sources: FxHashSet<IpAddr>,
    span: Option<TimeSpan>,
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

/// Everything the aggregate detectors keep, fed one analysed event at a time.
#[derive(Default)]
pub struct Aggregator {
    /// The detectors' thresholds.
    pub thresholds: Thresholds,
    sources: FxHashMap<IpAddr, SourceStats>,
    /// Per office, per user name: the same name at two offices is two accounts.
    accounts: FxHashMap<Arc<str>, FxHashMap<String, AccountStats>>,
    /// Accounts in `accounts`, over all offices (bounded by `MAX_ACCOUNTS`).
    account_count: usize,
    sightings: BTreeMap<u32, Sighting>,
    unattributed: BTreeMap<(Arc<str>, Rule), Unattributed>,
    network: network::NetworkState,
    /// Hostile (attack or anomaly) events per day, per jurisdiction and overall ("*").
    pub hostile_daily: BTreeMap<Arc<str>, DailySeries>,
    /// All events per day, per jurisdiction.
    pub all_daily: BTreeMap<Arc<str>, DailySeries>,
    /// Events per verdict, indexed by `Verdict as usize` (normal, anomaly, attack).
    pub verdicts: [u64; 3],
    /// Events observed.
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
    /// An empty aggregator with these thresholds.
    pub fn new(thresholds: Thresholds) -> Aggregator {
        Aggregator { thresholds, ..Aggregator::default() }
    }

    /// The daily series the trend test reads: hostile events per office and over all
    /// offices (`*`), or with `all_events` every event, per office and in all.
    pub fn daily_series(&self, all_events: bool) -> BTreeMap<Arc<str>, DailySeries> {
        if !all_events {
            return self.hostile_daily.clone();
        }
        let mut all = self.all_daily.clone();
        let mut total = DailySeries::default();
        for s in all.values() {
            for (d, n) in &s.days {
                total.add(*d, *n);
            }
        }
        all.insert(Arc::from("*"), total);
        all
    }

    /// Adds one analysed event to the aggregates.
    pub fn observe(&mut self, a: &Analysed) {
        let ev = &a.event;
        let verdict = a.verdict();
        self.events += 1;
        self.verdicts[verdict as usize] += 1;
        if let Some(day) = ev.time.map(|t| t.date_naive()) {
            self.count_day(&ev.jurisdiction, day, verdict);
        }
        for &idx in &a.indicators {
            self.sightings.entry(idx).or_default().observe(a);
        }
        if ev.net.is_some() {
            self.network.observe(ev);
        }
        let samples = self.thresholds.samples;
        let Some(src) = ev.src else {
            if verdict != Verdict::Normal {
                for r in a.rules.iter().filter(|r| r.verdict() != Verdict::Normal) {
                    self.unattributed.entry((ev.jurisdiction.clone(), r)).or_default().observe(a, samples);
                }
            }
            return;
        };
        let failed = is_failed_login(ev);
        if failed && let Some(user) = ev.user.as_deref() {
            self.observe_account_failure(ev, user, src);
        }
        self.sources.entry(src).or_default().observe(a, verdict, failed, samples);
    }

    /// A failed login on `user` at the event's office, while fewer than `MAX_ACCOUNTS`
    /// accounts are kept or the account is already kept.
    fn observe_account_failure(&mut self, ev: &Event, user: &str, src: IpAddr) {
        let office = self.accounts.entry(ev.jurisdiction.clone()).or_default();
        if let Some(account) = office.get_mut(user) {
            account.observe_failure(ev, src);
        } else if self.account_count < MAX_ACCOUNTS {
            self.account_count += 1;
            office.entry(user.to_owned()).or_default().observe_failure(ev, src);
        }
    }

    fn count_day(&mut self, jurisdiction: &Arc<str>, day: NaiveDate, verdict: Verdict) {
        self.all_daily.entry(jurisdiction.clone()).or_default().add(day, 1);
        if verdict != Verdict::Normal {
            self.hostile_daily.entry(jurisdiction.clone()).or_default().add(day, 1);
            self.hostile_daily.entry(Arc::from("*")).or_default().add(day, 1);
        }
    }
}

/// A failed login, from an auth log or as a web server logs one.
fn is_failed_login(ev: &Event) -> bool {
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
    matches!(ev.auth, Some(AuthOutcome::Failed | AuthOutcome::InvalidUser))
        || web_login_failure
        || basic_auth_failure
}

impl Sample {
    fn of(a: &Analysed) -> Sample {
        let ev = &a.event;
        Sample {
            time: ev.time,
            jurisdiction: ev.jurisdiction.clone(),
            line: describe(ev),
            rules: a.rules.names(),
        }
    }
}

impl Sighting {
    fn observe(&mut self, a: &Analysed) {
        let ev = &a.event;
        self.count += 1;
        extend_span(&mut self.span, ev.time);
        self.jurisdictions.insert(ev.jurisdiction.clone());
        if let Some(src) = ev.src
            && self.sources.len() < 100
        {
            self.sources.insert(src.to_string());
        }
        self.rules.extend(a.rules.iter().filter(|r| *r != Rule::Indicator));
    }
}

impl Unattributed {
    fn observe(&mut self, a: &Analysed, samples: usize) {
        self.count += 1;
        extend_span(&mut self.span, a.event.time);
        if self.samples.len() < samples {
            self.samples.push(Sample::of(a));
        }
    }
}

impl AccountStats {
    fn observe_failure(&mut self, ev: &Event, src: IpAddr) {
        self.failures += 1;
        self.sources.insert(src);
        extend_span(&mut self.span, ev.time);
    }
}

impl SourceStats {
    /// Adds one event from this source; `failed` when it is a failed login.
    fn observe(&mut self, a: &Analysed, verdict: Verdict, failed: bool, samples: usize) {
        let ev = &a.event;
        self.requests += 1;
        extend_span(&mut self.span, ev.time);
        *self.jurisdictions.entry(ev.jurisdiction.clone()).or_default() += 1;
        if ev.kind == EventKind::Http {
            if ev.status.is_some_and(|st| (400..500).contains(&st)) {
                self.errors_4xx += 1;
            }
            if let Some(p) = ev.path()
                && self.paths.len() < MAX_PATHS
            {
                let mut h = rustc_hash::FxHasher::default();
                p.hash(&mut h);
                self.paths.insert(h.finish());
            }
        }
        if let Some(ua) = ev.user_agent.as_deref()
            && (self.agents.len() < 16 || self.agents.contains_key(ua))
        {
            *self.agents.entry(ua.to_owned()).or_default() += 1;
        }
        for r in a.rules.iter() {
            *self.rule_counts.entry(r).or_default() += 1;
        }
        if let Some(alert) = &ev.alert
            && self.ids_signatures.len() < 32
        {
            *self.ids_signatures.entry(alert.signature.clone()).or_default() += 1;
        }
        match verdict {
            Verdict::Attack => self.observe_attack(a, samples),
            Verdict::Anomaly => {
                self.anomalies += 1;
                if self.anomaly_samples.len() < samples {
                    self.anomaly_samples.push(Sample::of(a));
                }
            }
            Verdict::Normal => {}
        }
        if failed {
            self.failures.push(ev.time.map_or(0, |t| t.timestamp()));
            if let Some(user) = ev.user.as_deref()
                && self.failed_accounts.len() < MAX_ACCOUNTS
            {
                self.failed_accounts.insert(user.to_owned());
            }
        }
        if ev.auth == Some(AuthOutcome::Accepted)
            && !self.failures.is_empty()
            && self.accepted_after_failure.len() < 16
        {
            self.accepted_after_failure.push((ev.user.clone().unwrap_or_default(), ev.time));
        }
    }

    fn observe_attack(&mut self, a: &Analysed, samples: usize) {
        self.hostile += 1;
        if self.attack_samples.len() < samples {
            self.attack_samples.push(Sample::of(a));
        }
        if let Some(fp) = a.payload_fingerprint()
            && (self.payloads.len() < 64 || self.payloads.contains_key(&fp))
        {
            *self.payloads.entry(fp).or_default() += 1;
        }
        if self.attack_order.len() < 8
            && let Some(p) = a.event.path()
        {
            self.attack_order.push(p.to_owned());
        }
    }
}

/// Findings, campaigns and the trend, ready for the store and the report.
pub struct Report {
    /// Every finding, in the order [`Aggregator::finish`] documents.
    pub findings: Vec<Finding>,
    /// Campaigns, highest score first.
    pub campaigns: Vec<Campaign>,
    /// The weekly series and ramp-up test of each office and of all offices (`*`).
    pub trend: Vec<TrendRow>,
}

/// A group of sources linked by network, payload or tooling. The run summary keeps it as
/// it is, so its fields are part of the summary's layout (see `summary`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Campaign {
    /// The id of the campaign's finding.
    pub id: String,
    /// Member source addresses, in address order.
    pub sources: Vec<String>,
    /// Offices the members were active against.
    pub jurisdictions: Vec<String>,
    /// Hostile events, anomalies and failed logins of all members.
    pub events: u64,
    /// What links the members (`network ...`, `AS...`, `payload ...`, `tool '...'`,
    /// `request order ...`).
    pub links: Vec<String>,
    /// 0 to 1; more offices rank higher.
    pub score: f64,
    /// ATT&CK technique ids of the members' findings.
    pub techniques: Vec<String>,
    /// First event of any member.
    pub start: Option<DateTime<Utc>>,
    /// Last event of any member.
    pub end: Option<DateTime<Utc>>,
}

/// The ramp-up test of one series.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrendRow {
    /// The office, or `*` for all offices.
    pub jurisdiction: String,
    /// Counts per 7-day window (first day, count), oldest first.
    pub weekly: Vec<(NaiveDate, u64)>,
    /// Counts per day that had any.
    pub daily: Vec<(NaiveDate, u64)>,
    /// The ramp-up test; `None` when there are too few weeks.
    pub test: Option<RampTest>,
}

/// Context the explain step may use.
#[derive(Default)]
pub struct Enrichment<'a> {
    /// Country of each source, as evidence.
    pub geo: Option<&'a GeoDb>,
    /// ASN of each source, as evidence and as a campaign link.
    pub asn: Option<&'a AsnTable>,
    /// The indicators the events were matched against, for sighting findings.
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
    Evidence::new("observable", format!("{SOURCE_ADDRESS}{ip}"), json!({"type": t, "value": ip.to_string()}))
}

/// The source addresses a finding names: the address of a per-source finding, the
/// members of a campaign, the sources of an attacked account and those that matched an
/// indicator, read from the finding's evidence (not from its title), sorted and
/// without repeats. Empty for findings about no address (ramp-ups, requests without a
/// source address).
pub fn source_addresses(f: &Finding) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for e in &f.evidence {
        match e.kind.as_str() {
            "observable" if e.description.starts_with(SOURCE_ADDRESS) => {
                out.extend(e.data["value"].as_str().and_then(|v| v.parse::<IpAddr>().ok()));
            }
            "sources" => {
                let list = if e.data.is_array() { &e.data } else { &e.data["sources"] };
                let addresses =
                    list.as_array().into_iter().flatten().filter_map(|v| v.as_str()?.parse::<IpAddr>().ok());
                out.extend(addresses);
            }
            _ => {}
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The accounts a finding names: the accounts tried by a brute-force or spraying
/// source, the account attacked from many sources, those accepted after failures, read
/// from the finding's evidence, lower-case, sorted and without repeats. Empty for
/// findings about no account.
pub fn source_accounts(f: &Finding) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in &f.evidence {
        match e.kind.as_str() {
            "accounts" => {
                let names = e.data["accounts"].as_array().into_iter().flatten().filter_map(|v| v.as_str());
                out.extend(names.map(str::to_ascii_lowercase));
            }
            "sources" => out.extend(e.data["account"].as_str().map(str::to_ascii_lowercase)),
            "accepted_after_failures" => {
                let names = e.data.as_array().into_iter().flatten().filter_map(|v| v["user"].as_str());
                out.extend(names.map(str::to_ascii_lowercase));
            }
            _ => {}
        }
    }
    out.retain(|a| !a.is_empty());
    out.sort_unstable();
    out.dedup();
    out
}

/// How the observable evidence of a source address begins (an indicator's begins with
/// its kind instead).
const SOURCE_ADDRESS: &str = "source address ";

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

impl Aggregator {
    /// Turns the aggregates into findings, campaigns and trend tests.
    ///
    /// Findings come in a fixed order, so that a rerun on the same input writes the same
    /// files: for each source (by address) its web attack or anomaly, scanning and brute
    /// force or spraying findings; then accounts attacked from many sources, indicator
    /// sightings, attacks without a source address, campaigns and ramp-ups.
    pub fn finish(mut self, ctx: &Enrichment<'_>) -> Report {
        let th = self.thresholds.clone();
        let mut sources: Vec<(IpAddr, SourceStats)> = self.sources.drain().collect();
        sources.sort_by_key(|(ip, _)| *ip);
        let mut findings = Vec::new();
        let mut hostile = Vec::new();
        let network = std::mem::take(&mut self.network).finish(&th);
        let mut per_source: FxHashMap<IpAddr, Vec<Finding>> = FxHashMap::default();
        let mut per_domain = Vec::new();
        for (src, f, links) in network {
            match src {
                Some(ip) => {
                    if let Ok(i) = sources.binary_search_by_key(&ip, |(k, _)| *k) {
                        sources[i].1.net_links.extend(links);
                    }
                    per_source.entry(ip).or_default().push(f);
                }
                None => per_domain.push(f),
            }
        }
        for (index, (ip, s)) in sources.iter_mut().enumerate() {
            let ip = *ip;
            let base = source_evidence(ip, ctx);
            let scope = scope_of(&s.jurisdictions);
            let mut techniques: Vec<Technique> = Vec::new();
            if let Some(f) = attacks::web_attack(ip, s, &base, &scope) {
                techniques.extend(f.techniques.iter().cloned());
                findings.push(f);
            } else if let Some(f) = attacks::anomalous_requests(ip, s, &base, &scope) {
                // Out-of-profile requests alone do not make a source hostile for linking.
                findings.push(f);
            }
            if let Some(f) = scanning::scanning(ip, s, &th, &base, &scope) {
                techniques.extend(f.techniques.iter().cloned());
                findings.push(f);
            }
            if let Some(f) = brute_force::brute_force(ip, s, &th, &base, &scope) {
                techniques.extend(f.techniques.iter().cloned());
                findings.push(f);
            }
            for mut f in per_source.remove(&ip).unwrap_or_default() {
                // Long connections and rare destinations are context, not hostility.
                if !network::CONTEXT_KINDS.contains(&f.kind.as_str()) {
                    techniques.extend(f.techniques.iter().cloned());
                }
                for e in base.iter().skip(1).cloned() {
                    f = f.evidence(e);
                }
                findings.push(f.scope(scope.clone()));
            }
            if !techniques.is_empty() || s.rule_counts.contains_key(&Rule::Indicator) {
                techniques.sort();
                techniques.dedup();
                hostile.push(HostileSource { index, techniques });
            }
        }
        let accounts = self.accounts.drain().flat_map(|(office, users)| {
            users.into_iter().map(move |(user, stats)| ((office.clone(), user), stats))
        });
        findings.extend(accounts::distributed_brute_force(accounts, &th));
        if let Some(set) = ctx.indicators {
            findings.extend(sightings::indicator_sightings(&self.sightings, set));
        }
        findings.extend(per_domain);
        findings.extend(attacks::unattributed(&self.unattributed));
        let (campaign_findings, campaigns) = campaigns::link_campaigns(&sources, &hostile, ctx.asn);
        findings.extend(campaign_findings);
        let k = if ctx.recent_weeks == 0 { 2 } else { ctx.recent_weeks };
        let trend = trend_rows(&self.hostile_daily, k);
        findings.extend(ramp_up::ramp_up_findings(&trend, k));
        Report { findings, campaigns, trend }
    }
}

/// The evidence every finding about a source starts with: the address, and its country
/// and ASN when the tables are given.
fn source_evidence(ip: IpAddr, ctx: &Enrichment<'_>) -> Vec<Evidence> {
    let mut evidence = vec![observable(ip)];
    if let Some(c) = ctx.geo.and_then(|g| g.country(ip)) {
        evidence.push(Evidence::new(
            "geolocation",
            format!("{ip} is registered in {c}"),
            json!({"country": c}),
        ));
    }
    if let Some((asn, org)) = ctx.asn.and_then(|t| t.lookup(ip)) {
        evidence.push(Evidence::new(
            "asn",
            format!("{ip} is in AS{asn} {org}"),
            json!({"asn": asn, "org": org}),
        ));
    }
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::Analyser;
    use crate::indicators::{Indicator, IndicatorKind};
    use scrutineer_core::Severity;

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

    fn auth(src: &str, user: &str, outcome: AuthOutcome, second: i64) -> Event {
        Event {
            kind: EventKind::Auth,
            src: src.parse().ok(),
            user: Some(user.into()),
            auth: Some(outcome),
            time: DateTime::from_timestamp(1_727_784_000 + second, 0),
            jurisdiction: Arc::from("cook"),
            ..Event::default()
        }
    }

    fn finish(events: impl IntoIterator<Item = Event>) -> Report {
        let an = Analyser::default();
        let mut agg = Aggregator::default();
        for e in events {
            agg.observe(&an.analyse(e));
        }
        agg.finish(&Enrichment::default())
    }

    fn kinds_for<'r>(r: &'r Report, key_part: &str) -> Vec<&'r str> {
        r.findings.iter().filter(|f| f.title.contains(key_part)).map(|f| f.kind.as_str()).collect()
    }

    #[test]
    fn scanning_needs_both_path_count_and_error_share() {
        let th = Thresholds::default();
        let n = th.scan_min_paths as i64;
        let mut events = Vec::new();
        // One path short of the threshold, all 404.
        events.extend((0..n - 1).map(|i| http("192.0.2.1", "cook", &format!("/a{i}"), 404, i)));
        // Exactly the threshold, all 404.
        events.extend((0..n).map(|i| http("192.0.2.2", "cook", &format!("/b{i}"), 404, i)));
        // Enough paths, but 40% 4xx: an ordinary visitor of a large site.
        events.extend(
            (0..n)
                .map(|i| http("192.0.2.3", "cook", &format!("/c{i}"), if i % 5 < 2 { 404 } else { 200 }, i)),
        );
        // Enough paths, mostly 200, with a scanner's user agent.
        events.extend((0..n).map(|i| {
            let mut e = http("192.0.2.4", "cook", &format!("/d{i}"), 200, i);
            e.user_agent = Some("Nikto/2.1.6".into());
            e
        }));
        let r = finish(events);
        let scanners: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.kind == "scanning")
            .map(|f| f.scope.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(scanners.len(), 2, "{:?}", r.findings.iter().map(|f| &f.title).collect::<Vec<_>>());
        let scan_of = |ip: &str| r.findings.iter().find(|f| f.kind == "scanning" && f.title.starts_with(ip));
        assert!(scan_of("192.0.2.1 ").is_none());
        assert!(scan_of("192.0.2.3 ").is_none());
        let plain = scan_of("192.0.2.2 ").expect("threshold reached");
        assert!(plain.techniques.iter().any(|t| t.id == "T1595.003"));
        let tool = scan_of("192.0.2.4 ").expect("scanner agent");
        assert!(tool.techniques.iter().any(|t| t.id == "T1595.002"));
        assert!(tool.confidence > plain.confidence);
    }

    #[test]
    fn brute_force_counts_failures_within_the_window() {
        let th = Thresholds::default();
        let n = th.brute_min_failures as i64;
        let step = th.brute_window_secs / (n - 1);
        let mut events = Vec::new();
        // n failures on one account, just inside the window: brute force.
        events.extend((0..n).map(|i| auth("198.51.100.1", "root", AuthOutcome::Failed, i * step)));
        // n failures on one account, each a window apart: never n in any window.
        events.extend(
            (0..n).map(|i| auth("198.51.100.2", "root", AuthOutcome::Failed, i * (th.brute_window_secs + 1))),
        );
        // n slow failures over as many accounts as spraying needs: spraying.
        events.extend((0..n).map(|i| {
            let user = format!("user{}", i % th.spray_min_accounts as i64);
            auth("198.51.100.3", &user, AuthOutcome::InvalidUser, i * (th.brute_window_secs + 1))
        }));
        // One failure short, then a success: nothing.
        events.extend((0..n - 1).map(|i| auth("198.51.100.4", "clerk", AuthOutcome::Failed, i)));
        events.push(auth("198.51.100.4", "clerk", AuthOutcome::Accepted, n));
        let r = finish(events);
        assert_eq!(kinds_for(&r, "198.51.100.1 "), vec!["brute_force"]);
        assert!(kinds_for(&r, "198.51.100.2 ").is_empty(), "{:?}", kinds_for(&r, "198.51.100.2 "));
        assert_eq!(kinds_for(&r, "198.51.100.3 "), vec!["password_spraying"]);
        assert!(kinds_for(&r, "198.51.100.4 ").is_empty());
        let spray = r.findings.iter().find(|f| f.kind == "password_spraying").expect("spraying");
        assert!(spray.techniques.iter().any(|t| t.id == "T1110.003"));
    }

    #[test]
    fn a_login_accepted_after_brute_force_is_valid_accounts() {
        let mut events: Vec<Event> =
            (0..12).map(|i| auth("203.0.113.7", "admin", AuthOutcome::Failed, i)).collect();
        let quiet = finish(events.clone());
        events.push(auth("203.0.113.7", "admin", AuthOutcome::Accepted, 20));
        let loud = finish(events);
        let before = quiet.findings.iter().find(|f| f.kind == "brute_force").expect("brute force");
        let after = loud.findings.iter().find(|f| f.kind == "brute_force").expect("brute force");
        assert!(!before.techniques.iter().any(|t| t.id == "T1078"));
        assert!(after.techniques.iter().any(|t| t.id == "T1078"));
        assert!(after.severity >= before.severity);
        assert!(after.evidence.iter().any(|e| e.kind == "accepted_after_failures"));
        // The account tried and the one accepted, named once; the other findings none.
        assert_eq!(source_accounts(after), vec!["admin".to_owned()]);
        let no_account = loud.findings.iter().filter(|f| f.kind != "brute_force");
        assert!(
            no_account.clone().all(|f| source_accounts(f).is_empty()),
            "{:?}",
            no_account.collect::<Vec<_>>()
        );
    }

    #[test]
    fn an_account_failing_from_many_sources_is_distributed_guessing() {
        let th = Thresholds::default();
        let k = th.distributed_min_sources;
        let mut events = Vec::new();
        // `k` sources, one failure each, on "elections"; `k - 1` on "staff".
        events.extend(
            (0..k).map(|i| auth(&format!("192.0.2.{}", 10 + i), "elections", AuthOutcome::Failed, i as i64)),
        );
        events.extend(
            (0..k - 1).map(|i| auth(&format!("192.0.2.{}", 50 + i), "staff", AuthOutcome::Failed, i as i64)),
        );
        let r = finish(events);
        let found: Vec<&Finding> =
            r.findings.iter().filter(|f| f.kind == "distributed_brute_force").collect();
        assert_eq!(found.len(), 1, "{:?}", found.iter().map(|f| &f.title).collect::<Vec<_>>());
        assert!(found[0].title.contains("'elections' at cook"), "{}", found[0].title);
        assert_eq!(found[0].scope.as_deref(), Some("cook"));
        // No single source is a brute forcer.
        assert!(!r.findings.iter().any(|f| f.kind == "brute_force" || f.kind == "password_spraying"));
        let addresses = source_addresses(found[0]);
        assert_eq!(addresses.len(), k);
        assert!(addresses.iter().all(|a| a.to_string().starts_with("192.0.2.1")));
        assert_eq!(source_accounts(found[0]), vec!["elections".to_owned()]);
    }

    fn auth_at(src: &str, office: &str, user: &str, second: i64) -> Event {
        Event { jurisdiction: Arc::from(office), ..auth(src, user, AuthOutcome::Failed, second) }
    }

    #[test]
    fn one_user_name_failing_at_several_offices_is_not_one_account() {
        // Each office's own `staff0` mistypes once, from that office's own address: as
        // many sources as the threshold asks, but each account failed from one.
        let k = Thresholds::default().distributed_min_sources;
        let events = (0..k + 1)
            .map(|i| auth_at(&format!("198.51.100.{}", 20 + i), &format!("office{i}"), "staff0", i as i64));
        let r = finish(events);
        let found: Vec<&String> =
            r.findings.iter().filter(|f| f.kind == "distributed_brute_force").map(|f| &f.title).collect();
        assert!(found.is_empty(), "{found:?}");
        assert!(
            r.findings.iter().all(|f| source_addresses(f).is_empty()),
            "no finding names a member of staff"
        );
    }

    #[test]
    fn a_distributed_attack_on_one_office_names_only_that_office_and_its_attackers() {
        let k = Thresholds::default().distributed_min_sources;
        let mut events = Vec::new();
        // `k` sources guess lake's `admin`; cook's `admin` mistypes once from cook's
        // address; at kane, `k - 1` sources guess `admin`: one short at that office, and
        // not made up by the sources at the other two.
        events.extend((0..k).map(|i| auth_at(&format!("203.0.113.{}", 10 + i), "lake", "admin", i as i64)));
        events.push(auth_at("198.51.100.7", "cook", "admin", 0));
        events.extend((0..k - 1).map(|i| auth_at(&format!("192.0.2.{}", 10 + i), "kane", "admin", i as i64)));
        let r = finish(events);
        let found: Vec<&Finding> =
            r.findings.iter().filter(|f| f.kind == "distributed_brute_force").collect();
        assert_eq!(found.len(), 1, "{:?}", found.iter().map(|f| &f.title).collect::<Vec<_>>());
        let f = found[0];
        assert_eq!(f.scope.as_deref(), Some("lake"));
        assert!(f.title.contains("'admin' at lake"), "{}", f.title);
        assert!(f.title.contains(&format!("from {k} sources")), "{}", f.title);
        let addresses: Vec<String> = source_addresses(f).iter().map(|a| a.to_string()).collect();
        let expected: Vec<String> = (0..k).map(|i| format!("203.0.113.{}", 10 + i)).collect();
        assert_eq!(addresses, expected);
    }

    #[test]
    fn indicator_sightings_name_the_indicator_and_the_matching_sources() {
        let mut set = IndicatorSet::new();
        for (kind, value) in
            [(IndicatorKind::Ip, "203.0.113.66"), (IndicatorKind::Network, "198.51.100.0/24")]
        {
            set.add(Indicator {
                kind,
                value: value.into(),
                source: "feed.txt".into(),
                stix_id: None,
                description: String::new(),
            });
        }
        set.add(Indicator::infer("never-seen.example", "feed.txt").expect("domain"));
        let an = Analyser { profile: None, indicators: Some(&set) };
        let mut agg = Aggregator::default();
        agg.observe(&an.analyse(http("203.0.113.66", "cook", "/index.html", 200, 0)));
        agg.observe(&an.analyse(http("198.51.100.9", "lake", "/q?id=1'+or+'1'='1", 200, 1)));
        agg.observe(&an.analyse(http("198.51.100.10", "lake", "/index.html", 200, 2)));
        agg.observe(&an.analyse(http("192.0.2.1", "lake", "/index.html", 200, 3)));
        let r = agg.finish(&Enrichment { indicators: Some(&set), ..Enrichment::default() });
        let sightings: Vec<&Finding> = r.findings.iter().filter(|f| f.kind == "indicator_sighting").collect();
        assert_eq!(sightings.len(), 2, "the domain was never seen");
        let ip = sightings.iter().find(|f| f.title.contains("203.0.113.66")).expect("ip sighting");
        assert_eq!(ip.severity, Severity::Medium, "a listed address alone is not an attack");
        let net = sightings.iter().find(|f| f.title.contains("198.51.100.0/24")).expect("network sighting");
        assert_eq!(net.severity, Severity::High, "one matching request was an injection");
        assert!(net.title.contains("seen 2 times"), "{}", net.title);
        let obs = net.evidence.iter().find(|e| e.kind == "observable").expect("observable");
        assert_eq!(obs.data["type"], "ipv4-addr");
        let matched: Vec<String> = source_addresses(net).iter().map(|a| a.to_string()).collect();
        assert_eq!(matched, vec!["198.51.100.9", "198.51.100.10"], "in address order");
    }

    #[test]
    fn requests_without_a_source_are_grouped_per_office_and_rule() {
        let mut events = Vec::new();
        for (i, j) in ["cook", "cook", "lake"].iter().enumerate() {
            let mut e = http("-", j, "/q?id=1'+or+'1'='1", 200, i as i64);
            e.src = None;
            events.push(e);
        }
        let r = finish(events);
        let attacks: Vec<&Finding> = r.findings.iter().filter(|f| f.kind == "web_attack").collect();
        assert_eq!(attacks.len(), 2, "{:?}", attacks.iter().map(|f| &f.title).collect::<Vec<_>>());
        let cook = attacks.iter().find(|f| f.scope.as_deref() == Some("cook")).expect("cook");
        assert!(cook.title.starts_with("2 requests at cook tripped sqli"), "{}", cook.title);
        assert!(cook.techniques.iter().any(|t| t.id == "T1190"));
        assert!(source_addresses(cook).is_empty());
        assert!(r.campaigns.is_empty(), "no address, nothing to link");
    }

    #[test]
    fn anomalies_alone_do_not_link_sources_into_campaigns() {
        // Two sources in one /24, each with out-of-profile requests only, at two offices:
        // the network would link them if anomalies made a source hostile.
        let mut profile = crate::profile::Profile::new();
        profile.learn(&http("10.0.0.1", "x", "/index.html", 200, 0));
        let an = Analyser { profile: Some(&profile), indicators: None };
        let mut agg = Aggregator::default();
        for (i, (src, j)) in [("192.0.2.1", "cook"), ("192.0.2.2", "lake")].iter().cycle().take(8).enumerate()
        {
            agg.observe(&an.analyse(http(src, j, &format!("/unknown{i}"), 200, i as i64)));
        }
        let r = agg.finish(&Enrichment::default());
        assert_eq!(r.findings.iter().filter(|f| f.kind == "anomalous_requests").count(), 2);
        assert!(r.campaigns.is_empty(), "{:?}", r.campaigns);
    }

    #[test]
    fn campaign_evidence_names_every_member() {
        let mut events = Vec::new();
        for (i, src) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"].iter().enumerate() {
            events.push(http(src, ["cook", "lake", "kane"][i], "/q?id=1'+or+'1'='1", 200, i as i64));
        }
        let r = finish(events);
        assert_eq!(r.campaigns.len(), 1);
        let f = r.findings.iter().find(|f| f.kind == "campaign").expect("campaign finding");
        let members: Vec<String> = source_addresses(f).iter().map(|a| a.to_string()).collect();
        assert_eq!(members, r.campaigns[0].sources);
        assert_eq!(members.len(), 3);
        assert!(r.campaigns[0].links.iter().any(|l| l == "network 203.0.113.0/24"));
    }

    #[test]
    fn a_late_rise_in_hostile_events_is_a_ramp_up() {
        // Eight weeks of one injection a day at cook, then two weeks of ten a day; lake
        // stays flat at one a day throughout.
        let mut events = Vec::new();
        for day in 0..70i64 {
            let n = if day >= 56 { 10 } else { 1 };
            for k in 0..n {
                events.push(http("203.0.113.9", "cook", "/q?id=1'+or+'1'='1", 200, day * 1440 + k));
            }
            events.push(http("192.0.2.9", "lake", "/q?id=1'+or+'1'='1", 200, day * 1440));
        }
        let r = finish(events);
        let ramps: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.kind == "activity_ramp_up")
            .map(|f| f.scope.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(ramps, vec!["all offices", "cook"]);
        let cook = r.trend.iter().find(|t| t.jurisdiction == "cook").expect("cook row");
        assert_eq!(cook.weekly.len(), 10);
        let t = cook.test.as_ref().expect("test");
        assert_eq!((t.recent, t.baseline), (140, 56));
        assert!(
            r.findings
                .iter()
                .filter(|f| f.kind == "activity_ramp_up")
                .all(|f| source_addresses(f).is_empty())
        );
    }

    #[test]
    fn daily_series_for_all_events_adds_a_total() {
        let mut agg = Aggregator::default();
        let an = Analyser::default();
        for (i, j) in ["cook", "lake", "lake"].iter().enumerate() {
            agg.observe(&an.analyse(http("192.0.2.1", j, "/index.html", 200, i as i64)));
        }
        assert!(agg.daily_series(false).is_empty(), "no hostile event");
        let all = agg.daily_series(true);
        let total: u64 = all["*"].days.values().sum();
        assert_eq!(total, 3);
        assert_eq!(all["lake"].days.values().sum::<u64>(), 2);
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
        for i in 0..6 {
            agg.observe(&an.analyse(http(
                "192.0.2.200",
                "cook",
                &format!("/old-page{}.html", i % 3),
                404,
                i,
            )));
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
        assert!(scan.title.starts_with("203.0.113.5 "), "{}", scan.title);
        assert!(!r.findings.iter().any(|f| f.title.starts_with("192.0.2.200 ")));
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
}
