//! Scanning: one source asking for many distinct paths, most of which do not exist (or
//! announcing a scanner in its user agent).

use std::net::IpAddr;

use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique};
use serde_json::json;

use super::{SourceStats, Thresholds};
use crate::rules::Rule;

/// `scanning` when the source requested at least `scan_min_paths` distinct paths and
/// either at least `scan_min_error_ratio` of its requests were answered 4xx or it used a
/// scanner's user agent.
pub(super) fn scanning(
    ip: IpAddr,
    s: &SourceStats,
    th: &Thresholds,
    base: &[Evidence],
    scope: &str,
) -> Option<Finding> {
    let paths = s.paths.len();
    let err_ratio = if s.requests > 0 { s.errors_4xx as f64 / s.requests as f64 } else { 0.0 };
    let scanner_ua = s.rule_counts.contains_key(&Rule::ScannerAgent);
    if paths < th.scan_min_paths || (err_ratio < th.scan_min_error_ratio && !scanner_ua) {
        return None;
    }
    let offices = s.jurisdictions.len();
    let tech = if scanner_ua { "T1595.002" } else { "T1595.003" };
    let score =
        (0.45 + 0.1 * (paths as f64 / th.scan_min_paths as f64).log2() + 0.1 * (offices as f64 - 1.0))
            .min(1.0);
    let mut f = Finding::new(
        Engine::Infra,
        "scanning",
        &ip.to_string(),
        format!("{ip} scanned {paths} distinct paths ({:.0}% 4xx)", err_ratio * 100.0),
    )
    .summary(format!(
        "{ip} requested {paths} distinct paths in {} requests; {:.0}% were answered 4xx{}. Thresholds: >= {} paths and >= {:.0}% 4xx (or a scanner user agent).",
        s.requests,
        err_ratio * 100.0,
        if scanner_ua { ", with a scanner user agent" } else { "" },
        th.scan_min_paths,
        th.scan_min_error_ratio * 100.0
    ))
    .severity(Severity::from_score(score))
    .confidence(if scanner_ua { 0.95 } else { 0.8 })
    .time_span(s.span)
    .scope(scope.to_owned())
    .technique(Technique::attack("T1595"))
    .technique(Technique::attack(tech));
    for e in base.iter().cloned() {
        f = f.evidence(e);
    }
    Some(f.evidence(Evidence::new(
        "counts",
        format!("{} requests, {paths} paths, {} 4xx", s.requests, s.errors_4xx),
        json!({"requests": s.requests, "distinct_paths": paths, "errors_4xx": s.errors_4xx, "user_agents": s.agents}),
    )))
}
