//! Property: when the reported winner is wrong, the audit goes on to a full hand count
//! in at least 1 − α of simulated audits.

use proptest::prelude::*;
use scrutineer_audit::{alpha_pvalues, pair_test};

use scrutineer_core::splitmix::SplitMix64 as Rng;

/// One BRAVO audit with replacement of a population where the reported winner truly has
/// `true_w` of `n` ballots (the rest for the loser); reported shares `rep_w : rep_l`.
/// Returns true when it escalates to a full hand count (never reaches the risk limit
/// within `max_draws` draws, after which the count is by hand).
fn bravo_escalates(
    rng: &mut Rng,
    n: u64,
    true_w: u64,
    rep_w: u64,
    rep_l: u64,
    alpha: f64,
    max_draws: u64,
) -> bool {
    let (mut w, mut l) = (0, 0);
    for _ in 0..max_draws {
        if rng.below(n) < true_w {
            w += 1
        } else {
            l += 1
        }
        if pair_test("W", "L", rep_w, rep_l, w, l).risk <= alpha {
            return false;
        }
    }
    true
}

/// One ALPHA audit without replacement of the whole population, in random order.
fn alpha_escalates(rng: &mut Rng, n: u64, true_w: u64, eta0: f64, alpha: f64) -> bool {
    let mut ballots: Vec<f64> = (0..n).map(|i| if i < true_w { 1.0 } else { 0.0 }).collect();
    for i in (1..ballots.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        ballots.swap(i, j);
    }
    let p = alpha_pvalues(&ballots, Some(n), 1.0, eta0, 100.0);
    !p.iter().any(|&x| x <= alpha)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn wrong_winner_escalates_in_at_least_one_minus_alpha_of_audits(
        seed in any::<u64>(),
        true_share_permille in 440u64..=500,
        reported_margin_permille in 20u64..=200,
        alpha_pct in prop::sample::select(vec![5u64, 10, 20]),
    ) {
        let alpha = alpha_pct as f64 / 100.0;
        let n = 2_000;
        let true_w = n * true_share_permille / 1000;
        let rep_w = n * (1000 + reported_margin_permille) / 2000;
        let rep_l = n - rep_w;
        let mut rng = Rng::new(seed);
        let audits = 300;
        let escalated = (0..audits)
            .filter(|_| bravo_escalates(&mut rng, n, true_w, rep_w, rep_l, alpha, 6 * n))
            .count();
        // Allow for simulation error: three binomial standard deviations.
        let sd = (alpha * (1.0 - alpha) / audits as f64).sqrt();
        let rate = escalated as f64 / audits as f64;
        prop_assert!(rate >= 1.0 - alpha - 3.0 * sd, "BRAVO escalated {rate}");

        let eta0 = 0.5 + reported_margin_permille as f64 / 2000.0;
        let escalated = (0..100).filter(|_| alpha_escalates(&mut rng, 1_000, 1_000 * true_share_permille / 1000, eta0, alpha)).count();
        let sd = (alpha * (1.0 - alpha) / 100.0).sqrt();
        let rate = escalated as f64 / 100.0;
        prop_assert!(rate >= 1.0 - alpha - 3.0 * sd, "ALPHA escalated {rate}");
    }
}
