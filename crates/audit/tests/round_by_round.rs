//! Property: Minerva and Providence audits, round after round with replacement, go to a
//! full hand count in at least 1 − α of simulated audits when the reported winner is
//! wrong (a true tie, or the loser ahead), and stop when it is right: in round 1 about as
//! often as the first round's chance says, and before the full count almost always.

use proptest::prelude::*;
use scrutineer_audit::{PairAudit, PairRound, RoundByRound, schedule_work};
use scrutineer_core::splitmix::SplitMix64 as Rng;

/// The cumulative pairwise sizes of an audit's rounds: the first round's size for a 90%
/// chance of stopping, then each round 1.5 times the last (Arlo's Minerva schedule), up
/// to `population` ballots, after which the count is by hand.
fn schedule(method: RoundByRound, share: f64, alpha: f64, population: u64) -> (Vec<u64>, f64) {
    let audit = PairAudit::new(method, share, alpha).expect("valid");
    let first = audit.next_size(0.9, population).expect("valid").expect("reachable");
    let mut sizes = vec![first.drawn];
    while let Some(&last) = sizes.last() {
        let next = (last as f64 * 1.5).ceil() as u64;
        if next > population {
            break;
        }
        sizes.push(next);
    }
    (sizes, first.chance)
}

/// One audit with every ballot drawn for the winner with probability `truth`: the round
/// where it stopped, or `None` for a full hand count.
fn run(
    method: RoundByRound,
    share: f64,
    alpha: f64,
    sizes: &[u64],
    truth: f64,
    rng: &mut Rng,
) -> Option<usize> {
    let mut audit = PairAudit::new(method, share, alpha).expect("valid");
    let (mut drawn, mut winner) = (0u64, 0u64);
    for (i, &n) in sizes.iter().enumerate() {
        while drawn < n {
            winner += u64::from((rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < truth);
            drawn += 1;
        }
        if audit.take(PairRound { drawn, winner }).expect("valid round").stop {
            return Some(i + 1);
        }
    }
    None
}

/// Minerva's stopping regions depend on the schedule alone: kmin of each round, from
/// one pass with no winner votes (which never stops).
fn minerva_kmins(share: f64, alpha: f64, sizes: &[u64]) -> Vec<Option<u64>> {
    let mut audit = PairAudit::new(RoundByRound::Minerva, share, alpha).expect("valid");
    sizes.iter().map(|&n| audit.take(PairRound { drawn: n, winner: 0 }).expect("valid").kmin).collect()
}

fn run_minerva_kmins(kmins: &[Option<u64>], sizes: &[u64], truth: f64, rng: &mut Rng) -> Option<usize> {
    let (mut drawn, mut winner) = (0u64, 0u64);
    for (i, (&n, kmin)) in sizes.iter().zip(kmins).enumerate() {
        while drawn < n {
            winner += u64::from((rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < truth);
            drawn += 1;
        }
        if kmin.is_some_and(|k| winner >= k) {
            return Some(i + 1);
        }
    }
    None
}

/// Allowance for simulation error: three binomial standard deviations of a rate `p` over `n`.
fn slack(p: f64, n: usize) -> f64 {
    // Four standard deviations: each case makes several such checks, and a bias of the
    // size the test is for (a kmin at 3α stops half the wrong audits) is far beyond it.
    4.0 * (p * (1.0 - p) / n as f64).sqrt()
}

proptest! {
    // A fixed seed: the cases are random but the same on every run, so that a Monte-Carlo
    // check at a few standard deviations does not fail one run in twenty by chance.
    #![proptest_config(ProptestConfig {
        cases: 6,
        rng_seed: proptest::test_runner::RngSeed::Fixed(2026),
        ..ProptestConfig::default()
    })]

    #[test]
    fn wrong_winners_go_to_a_full_count_and_right_ones_stop(
        seed in any::<u64>(),
        reported_permille in 560u64..=700,
        true_permille in 460u64..=500,
        alpha_pct in prop::sample::select(vec![5u64, 10, 20]),
    ) {
        let (share, truth, alpha) = (reported_permille as f64 / 1000.0, true_permille as f64 / 1000.0, alpha_pct as f64 / 100.0);
        let population = 3_000;
        let mut rng = Rng::new(seed);
        for method in [RoundByRound::Minerva, RoundByRound::Providence] {
            let (sizes, chance) = schedule(method, share, alpha, population);
            let audits = if method == RoundByRound::Minerva { 2_000 } else { 300 };
            let kmins = minerva_kmins(share, alpha, &sizes);
            let one = |truth: f64, rng: &mut Rng| match method {
                RoundByRound::Minerva => run_minerva_kmins(&kmins, &sizes, truth, rng),
                RoundByRound::Providence => run(method, share, alpha, &sizes, truth, rng),
            };
            let wrong = (0..audits).filter(|_| one(truth, &mut rng).is_some()).count();
            let rate = wrong as f64 / audits as f64;
            prop_assert!(
                rate <= alpha + slack(alpha, audits),
                "{method:?} share {share} truth {truth} α {alpha}: stopped {rate} of wrong audits ({sizes:?})"
            );
            let right: Vec<Option<usize>> = (0..audits).map(|_| one(share, &mut rng)).collect();
            let first = right.iter().filter(|r| **r == Some(1)).count() as f64 / audits as f64;
            let ever = right.iter().filter(|r| r.is_some()).count() as f64 / audits as f64;
            prop_assert!(first >= chance - slack(chance, audits), "{method:?}: round 1 stopped {first}, chance {chance}");
            prop_assert!(ever >= 0.97, "{method:?}: stopped {ever} of right audits ({sizes:?})");
            // The expected sample of the schedule against the simulated mean (an audit
            // that never stops counted at the last size), within four standard errors.
            let work = schedule_work(method, share, alpha, &sizes).expect("valid");
            let drawn: Vec<f64> = right.iter().map(|r| sizes[r.map_or(sizes.len(), |i| i) - 1] as f64).collect();
            let mean = drawn.iter().sum::<f64>() / audits as f64;
            let var = drawn.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (audits - 1) as f64;
            let se = (var / audits as f64).sqrt().max(1e-9);
            prop_assert!(
                (mean - work.expected_drawn).abs() <= 4.0 * se,
                "{method:?}: simulated mean {mean} vs expected {} (se {se})", work.expected_drawn
            );
            prop_assert!((work.stop_in_round[0] - chance).abs() < 1e-9);
        }
        // Minerva through the round-by-round API gives the same decisions as its kmins.
        let (sizes, _) = schedule(RoundByRound::Minerva, share, alpha, population);
        let kmins = minerva_kmins(share, alpha, &sizes);
        for _ in 0..30 {
            let s = rng.next_u64();
            let a = run(RoundByRound::Minerva, share, alpha, &sizes, share, &mut Rng::new(s));
            let b = run_minerva_kmins(&kmins, &sizes, share, &mut Rng::new(s));
            prop_assert_eq!(a, b);
        }
    }
}
