//! Brute force and password spraying: failed logins from one source, many in a short
//! window (guessing one account's password) or on many accounts (spraying a few common
//! passwords).

use std::net::IpAddr;

use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique};
use serde_json::json;

use super::{SourceStats, Thresholds};

/// `brute_force` or `password_spraying` once a source has at least `brute_min_failures`
/// failed logins and either that many fall within `brute_window_secs` or they name at
/// least `spray_min_accounts` accounts (spraying wins when both hold). A later accepted
/// login from the same source raises the score and adds ATT&CK T1078 (valid accounts).
pub(super) fn brute_force(
    ip: IpAddr,
    s: &mut SourceStats,
    th: &Thresholds,
    base: &[Evidence],
    scope: &str,
) -> Option<Finding> {
    let failures = s.failures.len();
    if failures < th.brute_min_failures {
        return None;
    }
    let peak = max_in_window(&mut s.failures, th.brute_window_secs);
    let accounts = s.failed_accounts.len();
    let spraying = accounts >= th.spray_min_accounts;
    if peak < th.brute_min_failures && !spraying {
        return None;
    }
    let (kind, title, techniques) = if spraying {
        (
            "password_spraying",
            format!("{ip} failed logins on {accounts} accounts ({failures} failures)"),
            vec!["T1110.003", "T1110.004"],
        )
    } else {
        (
            "brute_force",
            format!("{ip} failed {failures} logins (peak {peak} in {} min)", th.brute_window_secs / 60),
            vec!["T1110.001"],
        )
    };
    let score = (0.5
        + 0.1 * (failures as f64 / th.brute_min_failures as f64).log2()
        + if s.accepted_after_failure.is_empty() { 0.0 } else { 0.3 })
    .min(1.0);
    let mut f = Finding::new(Engine::Infra, kind, &ip.to_string(), title)
        .summary(format!(
            "{failures} failed logins from {ip} on {accounts} account(s); at most {peak} within {} seconds. Thresholds: >= {} failures in the window, or failures on >= {} accounts.",
            th.brute_window_secs, th.brute_min_failures, th.spray_min_accounts
        ))
        .severity(Severity::from_score(score))
        .confidence(0.85)
        .time_span(s.span)
        .scope(scope.to_owned())
        .technique(Technique::attack("T1110"));
    for id in techniques {
        f = f.technique(Technique::attack(id));
    }
    for e in base.iter().cloned() {
        f = f.evidence(e);
    }
    let tried: Vec<&String> = s.failed_accounts.iter().take(20).collect();
    f = f.evidence(Evidence::new(
        "accounts",
        format!("accounts tried include {}", tried.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")),
        json!({"failures": failures, "peak_in_window": peak, "accounts": tried}),
    ));
    if !s.accepted_after_failure.is_empty() {
        f = f.technique(Technique::attack("T1078")).evidence(Evidence::new(
            "accepted_after_failures",
            format!(
                "a login from {ip} succeeded after the failures: {}",
                s.accepted_after_failure.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>().join(", ")
            ),
            json!(
                s.accepted_after_failure
                    .iter()
                    .map(|(u, t)| json!({"user": u, "time": t.map(|t| t.to_rfc3339())}))
                    .collect::<Vec<_>>()
            ),
        ));
    }
    Some(f)
}

/// The most timestamps (seconds) within any window of `window` seconds, ends included.
/// Sorts `times`.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every window start checked directly: the reference the sliding window must match.
    fn max_in_window_brute(times: &[i64], window: i64) -> usize {
        times.iter().map(|&t| times.iter().filter(|&&u| u >= t && u - t <= window).count()).max().unwrap_or(0)
    }

    #[test]
    fn sliding_window_matches_brute_force_reference() {
        let mut state: u64 = 7;
        for n in 0..60 {
            let mut times: Vec<i64> = (0..n)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 33) % 3000) as i64
                })
                .collect();
            let expected = max_in_window_brute(&times, 600);
            assert_eq!(max_in_window(&mut times, 600), expected, "{times:?}");
        }
        assert_eq!(max_in_window(&mut [0, 600, 601], 600), 2, "both ends of the window count");
    }
}
