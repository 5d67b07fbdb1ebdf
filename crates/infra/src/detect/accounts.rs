//! Accounts attacked from many sources: distributed guessing, where each source stays
//! under the per-source brute-force threshold but the account does not.

use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique};
use serde_json::json;

use super::{AccountStats, Thresholds};

/// `distributed_brute_force` for every account that failed logins from at least
/// `distributed_min_sources` distinct sources, in account-name order.
pub(super) fn distributed_brute_force(
    accounts: impl IntoIterator<Item = (String, AccountStats)>,
    th: &Thresholds,
) -> Vec<Finding> {
    let mut accounts: Vec<(String, AccountStats)> = accounts.into_iter().collect();
    accounts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut findings = Vec::new();
    for (user, a) in accounts {
        if a.sources.len() < th.distributed_min_sources {
            continue;
        }
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
                format!("sources include {}", srcs.iter().take(10).cloned().collect::<Vec<_>>().join(", ")),
                json!({"account": user, "failures": a.failures, "sources": srcs}),
            )),
        );
    }
    findings
}
