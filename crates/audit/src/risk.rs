//! Risk-measuring functions beyond BRAVO: ALPHA (Stark 2023) for ballot polling and
//! ballot-level comparison via SHANGRLA assorters, Kaplan-Markov ballot comparison
//! (Stark 2010, as ColoradoRLA uses it) and batch comparison (MACRO, Stark 2008).

use serde::{Deserialize, Serialize};

use crate::colorado::Discrepancies;

/// ALPHA's running p-values for a sample `xs` of assorter values in [0, u], testing the
/// null "population mean ≤ 1/2". `population` is the number of ballots for sampling
/// without replacement (None: with replacement). The alternative η is the truncated
/// shrinkage estimator with prior `eta0` and weight `d`.
pub fn alpha_pvalues(xs: &[f64], population: Option<u64>, u: f64, eta0: f64, d: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(xs.len());
    let mut ln_t = 0.0f64;
    let mut max_ln_t = 0.0f64;
    let mut sum = 0.0;
    let mut certain = false;
    for (j, &x) in xs.iter().enumerate() {
        let j = j as f64; // draws before this one
        let mu = match population {
            Some(n) => {
                let n = n as f64;
                if n - j <= 0.0 { -1.0 } else { (n * 0.5 - sum) / (n - j) }
            }
            None => 0.5,
        };
        if mu < 0.0 {
            // The sample already shows the mean exceeds 1/2 whatever the unseen ballots hold.
            certain = true;
        }
        if certain {
            out.push(0.0);
            sum += x;
            continue;
        }
        let eps = 1.0 / (2.0 * (d + j + 1.0).sqrt());
        let shrunk = (d * eta0 + sum) / (d + j);
        let eta = shrunk.max(mu + eps * (u - mu) * 0.5).min(u * (1.0 - 1e-9));
        if mu >= u || eta <= mu {
            out.push((-max_ln_t).exp().min(1.0));
            sum += x;
            continue;
        }
        let term = (x * eta / mu + (u - x) * (u - eta) / (u - mu)) / u;
        ln_t += term.max(0.0).ln();
        max_ln_t = max_ln_t.max(ln_t);
        out.push((-max_ln_t).exp().min(1.0));
        sum += x;
    }
    out
}

/// Plurality assorter for the pair (winner, loser): 1 for a vote for the winner, 0 for
/// the loser, 1/2 otherwise. `u = 1`.
pub fn plurality_assort(for_winner: bool, for_loser: bool) -> f64 {
    (1.0 + for_winner as u8 as f64 - for_loser as u8 as f64) / 2.0
}

/// Supermajority assorter (SHANGRLA): winner needs more than fraction `f` of valid votes.
/// 1/(2f) for the winner, 0 for another valid vote, 1/2 for no valid vote. `u = 1/(2f)`.
pub fn supermajority_assort(for_winner: bool, valid: bool, f: f64) -> f64 {
    if !valid {
        0.5
    } else if for_winner {
        1.0 / (2.0 * f)
    } else {
        0.0
    }
}

/// SHANGRLA's comparison assorter: from the overstatement ω = A(cvr) − A(mvr), an
/// assorter with upper bound u and reported mean `reported_mean`,
/// B = (1 − ω/u) / (2 − v/u) with v = 2·reported_mean − 1. Its upper bound is 2/(2 − v/u).
pub fn comparison_assort(cvr: f64, mvr: f64, u: f64, reported_mean: f64) -> (f64, f64) {
    let v = 2.0 * reported_mean - 1.0;
    let denom = 2.0 - v / u;
    ((1.0 - (cvr - mvr) / u) / denom, 2.0 / denom)
}

/// Kaplan-Markov ballot-comparison risk after `n` ballots with discrepancies `d`
/// (Stark 2010, eq. 10; ColoradoRLA's p-value approximation).
pub fn kaplan_markov_pvalue(n: u64, diluted_margin: f64, gamma: f64, d: Discrepancies) -> f64 {
    if diluted_margin <= 0.0 {
        return 1.0;
    }
    let ln_p = n as f64 * (1.0 - diluted_margin / (2.0 * gamma)).ln()
        - d.o1 as f64 * (1.0 - 1.0 / (2.0 * gamma)).ln()
        - d.o2 as f64 * (1.0 - 1.0 / gamma).ln()
        - d.u1 as f64 * (1.0 + 1.0 / (2.0 * gamma)).ln()
        - d.u2 as f64 * (1.0 + 1.0 / gamma).ln();
    ln_p.exp().min(1.0)
}

/// One batch in a batch-comparison audit: reported and audited votes for a winner/loser pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchTally {
    /// The batch.
    pub batch: String,
    /// Ballots in it.
    pub ballots: u64,
    /// Votes reported for the winner.
    pub reported_winner: u64,
    /// Votes reported for the loser.
    pub reported_loser: u64,
}

/// MACRO's error bound of a batch: the most the batch can overstate the margin V,
/// relative to V: u_p = (reported_w − reported_l + ballots) / V.
pub fn macro_bound(b: &BatchTally, margin_votes: u64) -> f64 {
    (b.reported_winner as f64 - b.reported_loser as f64 + b.ballots as f64) / margin_votes.max(1) as f64
}

/// Taint of an audited batch: overstatement of the margin divided by the margin, over u_p.
pub fn macro_taint(b: &BatchTally, audited_w: u64, audited_l: u64, margin_votes: u64) -> f64 {
    let over = (b.reported_winner as f64 - b.reported_loser as f64) - (audited_w as f64 - audited_l as f64);
    let e = over / margin_votes.max(1) as f64;
    let u = macro_bound(b, margin_votes);
    if u <= 0.0 { 0.0 } else { e / u }
}

/// Kaplan-Markov p-value for batches drawn with probability proportional to u_p
/// (PPEB), total bound `total_u = Σ u_p`: P = Π (1 − 1/U) / (1 − t_i).
pub fn macro_pvalue(taints: &[f64], total_u: f64) -> f64 {
    if total_u <= 1.0 {
        return 1.0;
    }
    let mut ln_p = 0.0;
    for &t in taints {
        if t >= 1.0 {
            return 1.0;
        }
        ln_p += (1.0 - 1.0 / total_u).ln() - (1.0 - t).ln();
    }
    ln_p.exp().min(1.0)
}

/// Batches to draw (PPEB) if none shows an error: ⌈ln α / ln(1 − 1/U)⌉.
pub fn macro_sample_size(total_u: f64, alpha: f64) -> Option<u64> {
    if total_u <= 1.0 {
        return None;
    }
    Some((alpha.ln() / (1.0 - 1.0 / total_u).ln()).ceil() as u64)
}

/// Sample size for a ballot-comparison audit with zero discrepancies: the Kaplan-Markov
/// formula of [`crate::colorado::optimistic_samples`].
pub fn comparison_sample_size(diluted_margin: f64, alpha: f64, gamma: f64) -> u64 {
    crate::colorado::optimistic_samples(alpha, diluted_margin, gamma, Discrepancies::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaplan_markov_matches_starks_table_3() {
        // Stark (2010) Table 3, as in ColoradoRLA's tests: n = 500, μ = 2%, γ = 1.01.
        let p =
            |o1, o2| kaplan_markov_pvalue(500, 0.02, 1.01, Discrepancies { o1, o2, ..Default::default() });
        assert!((p(0, 0) - 0.007).abs() < 0.0005);
        assert!((p(3, 0) - 0.054).abs() < 0.0005);
        assert!((p(0, 1) - 0.698).abs() < 0.0005);
        assert_eq!(p(0, 2), 1.0);
    }

    #[test]
    fn alpha_rejects_for_a_clear_winner_and_not_for_a_tie() {
        let win: Vec<f64> = (0..400).map(|i| if i % 10 < 6 { 1.0 } else { 0.0 }).collect();
        let p = alpha_pvalues(&win, Some(10_000), 1.0, 0.6, 100.0);
        assert!(*p.last().expect("p") < 0.01);
        let tie: Vec<f64> = (0..400).map(|i| if i % 2 == 0 { 1.0 } else { 0.0 }).collect();
        let p = alpha_pvalues(&tie, Some(10_000), 1.0, 0.6, 100.0);
        assert!(*p.last().expect("p") > 0.1);
        // Without replacement, once more than half the ballots are seen for the winner,
        // the risk is zero.
        let all = vec![1.0; 6];
        let p = alpha_pvalues(&all, Some(10), 1.0, 0.6, 100.0);
        assert_eq!(*p.last().expect("p"), 0.0);
    }

    #[test]
    fn comparison_assorter_is_half_plus_when_no_error() {
        let (b, u) = comparison_assort(1.0, 1.0, 1.0, 0.55);
        assert!(b > 0.5 && u > b);
        let (b2, _) = comparison_assort(1.0, 0.0, 1.0, 0.55);
        assert!(b2 < b);
    }

    #[test]
    fn macro_sample_size_shrinks_with_margin() {
        let batches: Vec<BatchTally> = (0..100)
            .map(|i| BatchTally {
                batch: i.to_string(),
                ballots: 100,
                reported_winner: 55,
                reported_loser: 45,
            })
            .collect();
        let v = 1000;
        let u: f64 = batches.iter().map(|b| macro_bound(b, v)).sum();
        let n = macro_sample_size(u, 0.1).expect("n");
        assert!(n > 0 && n < 100);
        assert_eq!(macro_taint(&batches[0], 55, 45, v), 0.0);
        assert!(macro_taint(&batches[0], 45, 55, v) > 0.0);
        assert!(macro_pvalue(&vec![0.0; n as usize], u) <= 0.1);
    }
}
