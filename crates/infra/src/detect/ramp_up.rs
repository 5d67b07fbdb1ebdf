//! Ramp-ups: the weekly series of hostile events per office (and over all offices) and
//! an `activity_ramp_up` finding wherever the recent weeks test as a rise.

use std::collections::BTreeMap;
use std::sync::Arc;

use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique};
use serde_json::json;

use super::TrendRow;
use crate::trend::{ALPHA, DailySeries, ramp_test};

/// Weekly series and ramp-up tests for each series of daily counts, all ending on the
/// last day any series has.
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

/// One `activity_ramp_up` finding per row whose test found a ramp-up over the last
/// `recent_weeks` weeks; High when the rate at least tripled.
pub(super) fn ramp_up_findings(rows: &[TrendRow], recent_weeks: usize) -> Vec<Finding> {
    let k = recent_weeks;
    let mut findings = Vec::new();
    for row in rows {
        let Some(t) = row.test.as_ref().filter(|t| t.ramp_up) else { continue };
        let j = &row.jurisdiction;
        let scope = if j == "*" { "all offices".to_owned() } else { j.clone() };
        findings.push(
            Finding::new(
                Engine::Infra,
                "activity_ramp_up",
                j,
                format!("hostile activity at {scope} rose {:.1}x in the last {k} weeks", t.ratio),
            )
            .summary(format!(
                "{} hostile events in the last {k} weeks against {} in the {} weeks before: rate ratio {:.2}, one-sided Poisson rate-ratio test p = {:.2e} (alpha {}).",
                t.recent, t.baseline, t.baseline_weeks, t.ratio, t.p_value, t.alpha
            ))
            .severity(if t.ratio >= 3.0 { Severity::High } else { Severity::Medium })
            .confidence((1.0 - t.p_value).clamp(0.0, 0.99))
            .scope(scope)
            .technique(Technique::attack("T1595"))
            .technique(Technique::attack("T1190"))
            .evidence(Evidence::new("trend", "weekly hostile event counts", json!({"weekly": row.weekly, "test": t}))),
        );
    }
    findings
}
