//! The edge filter: is a pair's overlap more than chance would give?
//!
//! Null model: a configuration model of the account–item bipartite graph. Each account
//! keeps its number of distinct items `k_a` and each item its number of distinct
//! accounts `d_i`, and the links are otherwise random. Given the items account `a`
//! actually acted on (`S_a`), the number of them that `b` would also hold by chance is
//! about `k_b Σ_{i ∈ S_a} (d_i − 1) / D`, with `D = Σ_i d_i`: each of `b`'s `k_b` links
//! lands on item `i` with probability proportional to the item's popularity. Averaging
//! the two directions gives the expected shared count
//!
//! ```text
//! λ(a,b) = (k_b · c_a + k_a · c_b) / (2 D),   c_a = Σ_{i ∈ S_a} (d_i − 1)
//! ```
//!
//! and the observed count `x(a,b)` is tested against `Poisson(λ)`. Conditioning on each
//! account's own items matters: two accounts that only ever share viral posts and stock
//! phrases have crowded items (large `c`) and are expected to overlap, while accounts
//! that repeatedly share obscure items stand out however much popular material the rest
//! of the data set holds. The test ignores the time window, which only makes it stricter:
//! coinciding within the window is rarer than merely sharing an item. A pair is kept when
//! its tail probability passes the Benjamini–Hochberg procedure at the chosen false
//! discovery rate over the pairs tested (see `detect`).

use scrutineer_core::stats::poisson_upper_ln;

/// log10 of the upper tail `P(X ≥ x)` for `X ~ Poisson(λ)`.
pub fn poisson_upper_log10(x: u32, lambda: f64) -> f64 {
    poisson_upper_ln(u64::from(x), lambda) / std::f64::consts::LN_10
}

/// The expected shared-item count of a pair under the conditional configuration null:
/// `k` are the accounts' distinct item counts, `crowding` their `Σ (d_i − 1)` over their
/// own items, `incidences` is `D = Σ_i d_i`.
pub fn expected_shared(k_a: u32, k_b: u32, crowding_a: f64, crowding_b: f64, incidences: f64) -> f64 {
    if incidences <= 0.0 {
        return 0.0;
    }
    (k_b as f64 * crowding_a + k_a as f64 * crowding_b) / (2.0 * incidences)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectation_grows_with_activity_and_crowding() {
        let base = expected_shared(10, 10, 50.0, 50.0, 1000.0);
        assert!(expected_shared(20, 10, 50.0, 50.0, 1000.0) > base);
        assert!(expected_shared(10, 10, 500.0, 50.0, 1000.0) > base);
        assert_eq!(expected_shared(10, 10, 0.0, 0.0, 1000.0), 0.0);
        assert_eq!(expected_shared(10, 10, 5.0, 5.0, 0.0), 0.0);
    }

    #[test]
    fn expectation_matches_a_simulated_configuration_model() {
        // Accounts pick items with probability proportional to popularity; the mean
        // overlap of a fixed pair over many draws approaches the formula.
        let popularity: Vec<f64> = (1..=200).map(|i| 1.0 / i as f64).collect();
        let total: f64 = popularity.iter().sum();
        let cdf: Vec<f64> = popularity
            .iter()
            .scan(0.0, |acc, p| {
                *acc += p / total;
                Some(*acc)
            })
            .collect();
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (n_accounts, k) = (400usize, 8usize);
        let mut sets: Vec<Vec<usize>> = Vec::new();
        for _ in 0..n_accounts {
            let mut s: Vec<usize> = Vec::new();
            while s.len() < k {
                let u = uniform();
                let i = cdf.iter().position(|&c| c >= u).unwrap_or(199);
                if !s.contains(&i) {
                    s.push(i);
                }
            }
            sets.push(s);
        }
        let mut d = vec![0f64; 200];
        for s in &sets {
            for &i in s {
                d[i] += 1.0;
            }
        }
        let incidences: f64 = d.iter().sum();
        let (mut observed, mut expected) = (0.0, 0.0);
        for a in 0..n_accounts {
            for b in (a + 1)..n_accounts {
                observed += sets[a].iter().filter(|i| sets[b].contains(i)).count() as f64;
                let ca: f64 = sets[a].iter().map(|&i| d[i] - 1.0).sum();
                let cb: f64 = sets[b].iter().map(|&i| d[i] - 1.0).sum();
                expected += expected_shared(k as u32, k as u32, ca, cb, incidences);
            }
        }
        let ratio = observed / expected;
        assert!((0.8..1.25).contains(&ratio), "observed/expected = {ratio}");
    }
}
