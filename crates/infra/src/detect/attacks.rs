//! Attacks and anomalies: what the per-event rules found, gathered per source address
//! (one finding per source) and, for requests with no address (raw request dumps), per
//! office and rule.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique};
use serde_json::json;

use super::{SourceStats, Unattributed, sample_evidence, techniques_of};
use crate::rules::{Rule, Verdict};

/// Rules whose match is itself strong evidence of an attack (a payload, not a habit).
fn is_payload_rule(r: &Rule) -> bool {
    matches!(
        r,
        Rule::Sqli
            | Rule::Xss
            | Rule::CommandInjection
            | Rule::PathTraversal
            | Rule::FileInclusion
            | Rule::IdsAlert
    )
}

/// `web_attack`: a source whose requests matched attack rules (other than an indicator
/// list, which has its own sighting finding).
pub(super) fn web_attack(ip: IpAddr, s: &SourceStats, base: &[Evidence], scope: &str) -> Option<Finding> {
    let attack_rules: Vec<Rule> = s
        .rule_counts
        .keys()
        .copied()
        .filter(|r| r.verdict() == Verdict::Attack && *r != Rule::Indicator)
        .collect();
    if s.hostile == 0 || attack_rules.is_empty() {
        return None;
    }
    let offices = s.jurisdictions.len();
    let mut names: Vec<String> =
        attack_rules.iter().map(|r| format!("{} ({})", r.name(), s.rule_counts[r])).collect();
    names.truncate(6);
    let score = (0.55 + 0.1 * (s.hostile as f64).log10() + 0.1 * (offices as f64 - 1.0)).min(1.0);
    let mut f = Finding::new(
        Engine::Infra,
        "web_attack",
        &ip.to_string(),
        format!("{ip} sent {} attack requests: {}", s.hostile, names.join(", ")),
    )
    .summary(format!(
        "Requests from {ip} matched attack signatures {} times across {offices} office(s) ({scope}). {}",
        s.hostile,
        attack_rules.iter().map(|r| r.description()).collect::<Vec<_>>().join("; ")
    ))
    .severity(Severity::from_score(score))
    .confidence(if attack_rules.iter().any(is_payload_rule) { 0.9 } else { 0.7 })
    .time_span(s.span)
    .scope(scope.to_owned());
    for e in base.iter().cloned().chain(sample_evidence(&s.attack_samples)) {
        f = f.evidence(e);
    }
    f = f.evidence(Evidence::new(
        "rule_counts",
        format!("{} requests in all, {} attacks, {} anomalies", s.requests, s.hostile, s.anomalies),
        json!(s.rule_counts.iter().map(|(r, n)| (r.name(), n)).collect::<BTreeMap<_, _>>()),
    ));
    if !s.ids_signatures.is_empty() {
        f = f.evidence(Evidence::new("ids", "IDS signatures that fired", json!(s.ids_signatures)));
    }
    for t in techniques_of(attack_rules.iter()) {
        f = f.technique(t);
    }
    if s.ids_signatures.keys().any(|k| k.to_ascii_uppercase().contains("SCAN")) {
        f = f.technique(Technique::attack("T1595.002"));
    }
    Some(f)
}

/// Fewest out-of-profile requests from one source worth a finding of their own.
const MIN_ANOMALIES: u64 = 3;

/// `anomalous_requests`: a source with no attack but several requests outside the
/// learned profile.
pub(super) fn anomalous_requests(
    ip: IpAddr,
    s: &SourceStats,
    base: &[Evidence],
    scope: &str,
) -> Option<Finding> {
    if s.anomalies < MIN_ANOMALIES {
        return None;
    }
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
    .scope(scope.to_owned());
    for e in base.iter().cloned().chain(sample_evidence(&s.anomaly_samples)) {
        f = f.evidence(e);
    }
    for t in techniques_of(rules.iter()) {
        f = f.technique(t);
    }
    if f.techniques.is_empty() {
        f = f.technique(Technique::attack("T1595"));
    }
    Some(f)
}

/// One finding per office and rule for hostile requests without a source address.
pub(super) fn unattributed(groups: &BTreeMap<(Arc<str>, Rule), Unattributed>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for ((j, rule), u) in groups {
        if u.count == 0 {
            continue;
        }
        let attack = rule.verdict() == Verdict::Attack;
        let mut f = Finding::new(
            Engine::Infra,
            if attack { "web_attack" } else { "anomalous_requests" },
            &format!("{j}:{}", rule.name()),
            format!("{} requests at {j} tripped {}", u.count, rule.name()),
        )
        .summary(format!("{} requests without a source address: {}.", u.count, rule.description()))
        .severity(if attack { Severity::Medium } else { Severity::Low })
        .confidence(if attack { 0.8 } else { 0.5 })
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
    findings
}
