//! Statistical anomalies, each with a stated test:
//! - `return_rate_surge` (by precinct and ZIP): one-sided z-test of the group's returned
//!   share of issued envelopes against the jurisdiction's own share;
//! - `rejection_rate_surge` (by precinct, ZIP and drop box): exact Poisson upper tail of
//!   the group's rejections given its returns and the jurisdiction's rejection rate;
//! - `address_cluster`: Poisson upper tail of the distinct voters whose ballots go to one
//!   mailing address, against the mean per address;
//! - `dropbox_burst`: scan statistic of the most receipts at one drop box in a 10-minute
//!   window, against the box's own rate over the hours it was in use;
//! - `duplicate_imb`: an Intelligent Mail barcode printed on more than one issued envelope
//!   (not a statistical test: USPS requires each barcode to be unique for 45 days, so one
//!   is enough; statistic = envelopes beyond the first, p-value 0).
//!
//! Every p-value is Bonferroni-corrected over the groups tested; a group is reported when
//! the corrected p-value is below `alpha` and the effect is large enough to act on.

use std::collections::HashMap;

use rayon::slice::ParallelSliceMut;

use scrutineer_core::stats::poisson_upper_ln;

use crate::Outcome;
use crate::read::{Dataset, NOT_ON_ROLL, imb_text};
use crate::reconcile::EnvState;
use crate::time::format_datetime;

/// One statistical anomaly: a group whose count is further from its expectation than chance allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    /// The test, e.g. `return_burst`, `rejection_rate`, `address_cluster`, `duplicate_imb`.
    pub kind: &'static str,
    /// What the group is: `precinct`, `drop_box`, `address`, ...
    pub scope: &'static str,
    /// Which group (a precinct name, a drop box and hour, an address, ...).
    pub key: String,
    /// The count observed.
    pub observed: f64,
    /// The count expected under the null.
    pub expected: f64,
    /// z for z-tests, (observed - expected) / sqrt(expected) for Poisson tests.
    pub statistic: f64,
    /// Bonferroni-corrected, capped at 1.
    pub p_value: f64,
    /// What the test saw, for the analyst.
    pub detail: String,
}

/// Settings of the statistical tests.
#[derive(Debug, Clone, Copy)]
pub struct AnomalyOptions {
    /// Family-wise error rate (Bonferroni over every group tested).
    pub alpha: f64,
    /// Width of the window in which a burst of returns at one drop box is counted.
    pub burst_window_secs: i64,
    /// Smallest group tested (smaller ones have too little data).
    pub min_group: u64,
}

impl AnomalyOptions {
    /// The default options at family-wise error rate `alpha`, which must lie in (0, 1).
    pub fn with_alpha(alpha: f64) -> Result<AnomalyOptions, crate::BallotsError> {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(crate::BallotsError::Invalid(format!(
                "--alpha must be between 0 and 1, got {alpha}"
            )));
        }
        Ok(AnomalyOptions { alpha, ..AnomalyOptions::default() })
    }
}

impl Default for AnomalyOptions {
    fn default() -> Self {
        AnomalyOptions { alpha: 0.01, burst_window_secs: 600, min_group: 30 }
    }
}

/// Upper tail of the standard normal.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes `erfcc`, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// P(X >= k) for X ~ Poisson(lambda).
pub fn poisson_sf(k: u64, lambda: f64) -> f64 {
    poisson_upper_ln(k, lambda).exp().min(1.0)
}

fn is_drop_box(channel: &str) -> bool {
    let norm: String =
        channel.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    !matches!(
        norm.as_str(),
        "" | "mail"
            | "usps"
            | "post"
            | "postal"
            | "inperson"
            | "person"
            | "counter"
            | "office"
            | "inoffice"
            | "email"
            | "fax"
    )
}

#[derive(Clone, Default)]
struct Group {
    issued: u64,
    returned: u64,
    rejected: u64,
}

/// Runs every test on the reconciled data.
pub fn detect(ds: &Dataset, env_state: &[EnvState], opts: &AnomalyOptions) -> Vec<Anomaly> {
    let mut out = Vec::new();
    // Precincts and ZIPs are label ids (a small dense range): counted in vectors by id.
    let mut by_precinct = vec![Group::default(); ds.labels.len()];
    let mut by_zip = by_precinct.clone();
    let (mut issued, mut returned, mut rejected) = (0u64, 0u64, 0u64);
    for (ei, st) in env_state.iter().enumerate() {
        let v = ds.env_voter[ei];
        let (precinct, zip) = if v & NOT_ON_ROLL != 0 {
            (u32::MAX, ds.env_zip[ei])
        } else {
            let z = ds.voter_zip[v as usize];
            (ds.voter_precinct[v as usize], if z == 0 { ds.env_zip[ei] } else { z })
        };
        issued += 1;
        let ret = st.receipts > 0;
        returned += ret as u64;
        rejected += st.rejected as u64;
        for (groups, key) in [(&mut by_precinct, precinct), (&mut by_zip, zip)] {
            if key == u32::MAX || key == 0 {
                continue;
            }
            let g = &mut groups[key as usize];
            g.issued += 1;
            g.returned += ret as u64;
            g.rejected += st.rejected as u64;
        }
    }
    if issued == 0 {
        return out;
    }
    let p_ret = returned as f64 / issued as f64;
    let p_rej = if returned > 0 { rejected as f64 / returned as f64 } else { 0.0 };
    for (scope, groups) in [("precinct", &by_precinct), ("zip", &by_zip)] {
        // The groups seen, in the order of their names.
        let mut keys: Vec<u32> =
            (0..groups.len() as u32).filter(|&k| groups[k as usize].issued > 0).collect();
        keys.sort_by_key(|&k| ds.labels.get(k));
        let m = keys.iter().filter(|&&k| groups[k as usize].issued >= opts.min_group).count().max(1) as f64;
        for &k in &keys {
            let g = &groups[k as usize];
            if g.issued < opts.min_group || p_ret <= 0.0 || p_ret >= 1.0 {
                continue;
            }
            let n = g.issued as f64;
            let expected = n * p_ret;
            let z = (g.returned as f64 - expected) / (n * p_ret * (1.0 - p_ret)).sqrt();
            let p = (normal_sf(z) * m).min(1.0);
            if p < opts.alpha && g.returned as f64 / n - p_ret >= 0.05 {
                out.push(Anomaly {
                    kind: "return_rate_surge",
                    scope,
                    key: ds.labels.get_str(k).to_owned(),
                    observed: g.returned as f64,
                    expected,
                    statistic: z,
                    p_value: p,
                    detail: format!(
                        "{} of {} issued returned ({:.1}%) against {:.1}% jurisdiction-wide; one-sided z-test, Bonferroni over {} {}s",
                        g.returned, g.issued, 100.0 * g.returned as f64 / n, 100.0 * p_ret, m, scope
                    ),
                });
            }
        }
        let m = keys.iter().filter(|&&k| groups[k as usize].returned >= opts.min_group).count().max(1) as f64;
        for &k in &keys {
            let g = &groups[k as usize];
            if g.returned < opts.min_group {
                continue;
            }
            if let Some(a) =
                rejection_test(scope, ds.labels.get_str(k), g.rejected, g.returned, p_rej, m, opts)
            {
                out.push(a);
            }
        }
    }
    // Drop boxes: rejections and bursts, per receipt.
    // Whether each channel label is a drop box, decided once per label, not per receipt.
    let drop_box: Vec<bool> =
        (0..ds.labels.len() as u32).map(|l| is_drop_box(ds.labels.get_str(l))).collect();
    let mut boxes: HashMap<u32, Vec<(i64, Outcome)>> = HashMap::new();
    for r in &ds.receipts {
        if drop_box[r.channel as usize] {
            boxes.entry(r.channel).or_default().push((r.at, r.outcome));
        }
    }
    let mut box_ids: Vec<u32> = boxes.keys().copied().collect();
    box_ids.sort_by_key(|k| ds.labels.get_str(*k));
    let m_boxes = box_ids.len().max(1) as f64;
    let receipts_total = ds.receipts.len().max(1) as f64;
    let rej_receipts = ds.receipts.iter().filter(|r| r.outcome == Outcome::Rejected).count() as f64;
    let p_rej_receipt = rej_receipts / receipts_total;
    for b in box_ids {
        let name = ds.labels.get_str(b);
        let list = boxes.get_mut(&b).map(std::mem::take).unwrap_or_default();
        let n = list.len() as u64;
        let rej = list.iter().filter(|(_, o)| *o == Outcome::Rejected).count() as u64;
        if n >= opts.min_group
            && let Some(a) = rejection_test("drop_box", name, rej, n, p_rej_receipt, m_boxes, opts)
        {
            out.push(a);
        }
        let mut times: Vec<i64> = list.iter().map(|(t, _)| *t).collect();
        times.sort_unstable();
        let mut hours: Vec<i64> = times.iter().map(|t| t.div_euclid(3600)).collect();
        hours.dedup();
        let active = (hours.len() as f64 * 3600.0).max(opts.burst_window_secs as f64);
        let lambda = n as f64 * opts.burst_window_secs as f64 / active;
        let (mut best, mut best_start, mut j) = (0usize, 0i64, 0usize);
        for i in 0..times.len() {
            while times[i] - times[j] >= opts.burst_window_secs {
                j += 1;
            }
            if i + 1 - j > best {
                best = i + 1 - j;
                best_start = times[j];
            }
        }
        let windows = (active / opts.burst_window_secs as f64).max(1.0);
        let p = (poisson_sf(best as u64, lambda) * windows * m_boxes).min(1.0);
        if best >= 10 && p < opts.alpha {
            out.push(Anomaly {
                kind: "dropbox_burst",
                scope: "drop_box",
                key: name.to_owned(),
                observed: best as f64,
                expected: lambda,
                statistic: (best as f64 - lambda) / lambda.max(1e-9).sqrt(),
                p_value: p,
                detail: format!(
                    "{best} receipts in {} minutes from {} against {:.2} expected from the box's {} receipts over {} active hours; Poisson scan, Bonferroni over windows and boxes",
                    opts.burst_window_secs / 60,
                    format_datetime(best_start),
                    lambda,
                    n,
                    hours.len()
                ),
            });
        }
    }
    // Barcodes issued twice: a return scan by such a barcode cannot name its envelope.
    let mut dups = ds.imb_duplicates.clone();
    dups.sort_unstable_by_key(|d| (d.imb, d.other));
    for g in dups.chunk_by(|a, b| a.imb == b.imb) {
        let first = g[0].first;
        let at =
            |e: u32| format!("{} ({}:{})", ds.envelopes.get_str(e), ds.files.issued, ds.env_line[e as usize]);
        let others: Vec<String> = g.iter().map(|d| at(d.other)).collect();
        let n = g.len() + 1;
        out.push(Anomaly {
            kind: "duplicate_imb",
            scope: "imb",
            key: imb_text(g[0].imb),
            observed: n as f64,
            expected: 1.0,
            statistic: (n - 1) as f64,
            p_value: 0.0,
            detail: format!(
                "Intelligent Mail barcode printed on {n} issued envelopes: {} and {}; return scans carrying it are matched to the first, {}",
                at(first),
                others.join(", "),
                ds.envelopes.get_str(first)
            ),
        });
    }
    // Mailing addresses: distinct voters per address (addresses are compared by hash).
    let mut pairs: Vec<(u64, u32, u32)> = (0..ds.env_voter.len())
        .filter(|&ei| ds.env_address[ei] != 0)
        .map(|ei| (ds.env_address[ei], ds.env_voter[ei], ei as u32))
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup_by_key(|p| (p.0, p.1));
    let addresses = pairs.chunk_by(|a, b| a.0 == b.0).count();
    if addresses > 0 {
        let lambda = pairs.len() as f64 / addresses as f64;
        let m = addresses as f64;
        // Only addresses with five or more voters are tested: sort those alone.
        let mut counts: Vec<(u64, u64, u32)> = pairs
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|g| g.len() >= 5)
            .map(|g| (g[0].0, g.len() as u64, g[0].2))
            .collect();
        counts.sort_unstable_by_key(|&(a, c, _)| (std::cmp::Reverse(c), a));
        for (_, c, example) in counts {
            let p = (poisson_sf(c, lambda) * m).min(1.0);
            if p < opts.alpha {
                let env = ds.envelopes.get_str(example);
                out.push(Anomaly {
                    kind: "address_cluster",
                    scope: "address",
                    key: format!("mailing address of envelope {env}"),
                    observed: c as f64,
                    expected: lambda,
                    statistic: (c as f64 - lambda) / lambda.sqrt(),
                    p_value: p,
                    detail: format!(
                        "ballots for {c} distinct voters mailed to one address (that of envelope {env}, {}:{}) against {lambda:.2} per address; Poisson, Bonferroni over {m} addresses",
                        ds.files.issued,
                        ds.env_line[example as usize]
                    ),
                });
            }
        }
    }
    out
}

fn rejection_test(
    scope: &'static str,
    key: &str,
    x: u64,
    n: u64,
    p0: f64,
    m: f64,
    opts: &AnomalyOptions,
) -> Option<Anomaly> {
    let expected = n as f64 * p0;
    if x < 5 || (x as f64) < 2.0 * expected {
        return None;
    }
    let p = if expected <= 0.0 { 0.0 } else { (poisson_sf(x, expected) * m).min(1.0) };
    (p < opts.alpha).then(|| Anomaly {
        kind: "rejection_rate_surge",
        scope,
        key: key.to_owned(),
        observed: x as f64,
        expected,
        statistic: (x as f64 - expected) / expected.max(1e-9).sqrt(),
        p_value: p,
        detail: format!(
            "{x} of {n} returned rejected ({:.2}%) against {:.2}% jurisdiction-wide; Poisson upper tail, Bonferroni over {m} {scope}s",
            100.0 * x as f64 / n as f64,
            100.0 * p0
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_match_known_values() {
        // Standard normal: P(Z > 1.96) = 0.0249979, P(Z > 3) = 0.0013499.
        assert!((normal_sf(1.96) - 0.024_997_9).abs() < 1e-6);
        assert!((normal_sf(3.0) - 0.001_349_9).abs() < 1e-6);
        // Poisson(2): P(X >= 5) = 1 - 0.947347 = 0.052653; P(X >= 0) = 1.
        assert!((poisson_sf(5, 2.0) - 0.052_653).abs() < 1e-5);
        assert_eq!(poisson_sf(0, 2.0), 1.0);
        // Poisson(10): P(X >= 3) = 1 - 0.0027694 = 0.9972306.
        assert!((poisson_sf(3, 10.0) - 0.997_230_6).abs() < 1e-6);
        assert!(poisson_sf(60, 1.2) < 1e-60);
    }

    #[test]
    fn drop_boxes_are_told_from_other_channels() {
        assert!(is_drop_box("DB-017"));
        assert!(is_drop_box("dropbox:12"));
        assert!(!is_drop_box("in_person"));
        assert!(!is_drop_box("Mail"));
    }
}
