//! Indicator sightings: each listed indicator that matched, with where and how often.

use std::collections::BTreeMap;

use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique};
use serde_json::json;

use super::{Sighting, techniques_of};
use crate::indicators::IndicatorSet;
use crate::rules::Verdict;

/// `indicator_sighting` for every indicator of `set` that matched at least once, in list
/// order; High when the matching events also tripped an attack rule.
pub(super) fn indicator_sightings(sightings: &BTreeMap<u32, Sighting>, set: &IndicatorSet) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (idx, s) in sightings {
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
        let observable_type = ind.kind.stix_observable_type(&ind.value);
        f = f.evidence(Evidence::new(
            "observable",
            format!("{} {}", ind.kind.as_str(), ind.value),
            json!({"type": observable_type, "value": ind.value, "stix_id": ind.stix_id, "sighting_count": s.count, "source": ind.source}),
        ));
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
    findings
}
