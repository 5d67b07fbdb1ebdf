//! Findings for the store: each rule finding and anomaly as a core [`Finding`] with the
//! evidence an analyst needs to check it.

use scrutineer_core::{Engine, Evidence, Finding, Severity};
use serde_json::json;

use crate::{Anomaly, Reconciliation, RuleFinding, RuleKind};

fn severity(kind: RuleKind) -> (Severity, f64, &'static str) {
    match kind {
        RuleKind::UnissuedEnvelope => (Severity::Critical, 0.95, "A returned envelope that was never issued"),
        RuleKind::DoubleVote => (Severity::High, 0.9, "A voter with more than one counted ballot"),
        RuleKind::DuplicateReturn => (Severity::High, 0.85, "An envelope received more than once"),
        RuleKind::VoterNotOnRoll => (Severity::High, 0.85, "A ballot issued to a voter not on the roll"),
        RuleKind::ReturnBeforeIssue => (Severity::High, 0.85, "An envelope received before it was issued"),
        RuleKind::VoterNotActive => (Severity::Medium, 0.7, "A ballot issued to a voter who is not active"),
        RuleKind::StyleMismatch => {
            (Severity::Medium, 0.7, "A ballot of the wrong style for the voter's precinct")
        }
        RuleKind::LateReturn => (Severity::Medium, 0.75, "A late envelope that was accepted"),
    }
}

/// The findings a run stores: every rule finding, then every anomaly, under `scope`.
pub fn store_findings(rec: &Reconciliation, anomalies: &[Anomaly], scope: &str) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rec.findings.iter().map(|f| rule_finding(f, scope)).collect();
    findings.extend(anomalies.iter().map(|a| anomaly_finding(a, scope)));
    findings
}

/// A rule finding as a core finding, with its severity and evidence.
pub fn rule_finding(f: &RuleFinding, scope: &str) -> Finding {
    let (sev, conf, title) = severity(f.kind);
    let key = format!("{scope}|{}|{}", f.envelope_id, f.voter_id);
    let who = if f.envelope_id.is_empty() {
        format!("voter {}", f.voter_id)
    } else {
        format!("envelope {}", f.envelope_id)
    };
    Finding::new(Engine::Ballots, f.kind.as_str(), &key, format!("{title}: {who}"))
        .summary(f.detail.clone())
        .severity(sev)
        .confidence(conf)
        .scope(scope)
        .evidence(Evidence::new(
            "envelope",
            f.detail.clone(),
            json!({"kind": f.kind.as_str(), "envelope_id": f.envelope_id, "voter_id": f.voter_id}),
        ))
}

/// A statistical anomaly as a core finding, scored by its p-value.
pub fn anomaly_finding(a: &Anomaly, scope: &str) -> Finding {
    let key = format!("{scope}|{}|{}", a.scope, a.key);
    let score = if a.p_value <= 1e-6 { 0.75 } else { 0.5 };
    Finding::new(Engine::Ballots, a.kind, &key, format!("{} in {} {}", a.kind.replace('_', " "), a.scope, a.key))
        .summary(a.detail.clone())
        .severity(Severity::from_score(score))
        .confidence(1.0 - a.p_value)
        .scope(scope)
        .evidence(Evidence::new(
            "statistical_test",
            a.detail.clone(),
            json!({"observed": a.observed, "expected": a.expected, "statistic": a.statistic, "p_value": a.p_value}),
        ))
}
