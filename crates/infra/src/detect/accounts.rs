//! Accounts attacked from many sources: distributed guessing, where each source stays
//! under the per-source brute-force threshold but the account does not.
//!
//! An account is one office's user name. The same name at two offices (each county's
//! `staff0`, `clerk` or `admin`) belongs to two people on two systems, so failures are
//! never pooled across offices: a name that each office's own staff mistype once is not
//! one account attacked from as many sources. An actor guessing at several offices is
//! still found, per office where its sources reach the threshold, and per source by the
//! brute-force, spraying and campaign detectors, which do follow a source across offices.

use std::sync::Arc;

use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique};
use serde_json::json;

use super::{AccountStats, Thresholds};

/// `distributed_brute_force` for every account (office and user name) that failed logins
/// from at least `distributed_min_sources` distinct sources, in office then user-name
/// order.
pub(super) fn distributed_brute_force(
    accounts: impl IntoIterator<Item = ((Arc<str>, String), AccountStats)>,
    th: &Thresholds,
) -> Vec<Finding> {
    let mut accounts: Vec<((Arc<str>, String), AccountStats)> = accounts.into_iter().collect();
    accounts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut findings = Vec::new();
    for ((office, user), a) in accounts {
        if a.sources.len() < th.distributed_min_sources {
            continue;
        }
        let mut srcs: Vec<String> = a.sources.iter().map(|s| s.to_string()).collect();
        srcs.sort();
        srcs.truncate(50);
        findings.push(
            Finding::new(
                Engine::Infra,
                "distributed_brute_force",
                // Office and name: the same name at another office is another account.
                &format!("{office}\0{user}"),
                format!("account '{user}' at {office} failed logins from {} sources", a.sources.len()),
            )
            .summary(format!(
                "{} failed logins for '{user}' at {office} came from {} distinct sources (threshold {}).",
                a.failures,
                a.sources.len(),
                th.distributed_min_sources
            ))
            .severity(Severity::Medium)
            .confidence(0.75)
            .time_span(a.span)
            .scope(office.to_string())
            .technique(Technique::attack("T1110"))
            .technique(Technique::attack("T1110.001"))
            .evidence(Evidence::new(
                "sources",
                format!("sources include {}", srcs.iter().take(10).cloned().collect::<Vec<_>>().join(", ")),
                json!({"account": user, "jurisdiction": &*office, "failures": a.failures, "sources": srcs}),
            )),
        );
    }
    findings
}
