//! RAIRE assertions generated from reported CVRs, audited on samples of the real ballots:
//! when the reported winner is wrong, the audit does not confirm (it escalates) in at
//! least 1 − α of simulated audits; when it is right, it confirms with a sample sized
//! from the assertions' difficulty. All contests are generated at random (seeded).

use scrutineer_audit::{
    Assertion, GenerateOptions, RaireContest, assertions_prove_winner, audit_assertions, generate_assertions,
    tabulate_irv,
};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A contest of `n` candidates: a few voter types (random rankings, some truncated), each
/// with a random weight.
fn random_contest(rng: &mut Rng, n: usize, ballots: usize) -> RaireContest {
    let types: Vec<(Vec<usize>, u64)> = (0..6)
        .map(|_| {
            let mut r: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                r.swap(i, rng.below(i + 1));
            }
            r.truncate(1 + rng.below(n));
            (r, 1 + rng.next() % 100)
        })
        .collect();
    let total: u64 = types.iter().map(|t| t.1).sum();
    let mut out = Vec::with_capacity(ballots);
    for _ in 0..ballots {
        let mut x = rng.next() % total;
        let t = types.iter().find(|t| {
            if x < t.1 {
                true
            } else {
                x -= t.1;
                false
            }
        });
        out.push(t.map(|t| t.0.clone()).unwrap_or_default());
    }
    RaireContest {
        id: "generated".into(),
        candidates: (0..n).map(|i| format!("cand{i}")).collect(),
        declared_winner: None,
        ballot_ids: (0..out.len()).map(|i| i.to_string()).collect(),
        ballots: out,
    }
}

fn draw(rng: &mut Rng, ballots: &[Vec<usize>], n: usize) -> Vec<Vec<usize>> {
    (0..n).map(|_| ballots[rng.below(ballots.len())].clone()).collect()
}

#[test]
fn generated_assertions_confirm_right_winners_and_escalate_wrong_ones() {
    let alpha = 0.1;
    let audits = 100;
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut right_cases, mut wrong_cases) = (0, 0);
    let mut attempts = 0;
    while (right_cases < 8 || wrong_cases < 8) && attempts < 400 {
        attempts += 1;
        let n = 3 + rng.below(3);
        let truth = random_contest(&mut rng, n, 4000);
        let Ok(set) = generate_assertions(&truth, &GenerateOptions::default()) else { continue };
        let actual = tabulate_irv(n, &truth.ballots).expect("count");
        assert_eq!(set.winner, actual.winner, "generated set proves the IRV winner");
        let plain: Vec<Assertion> = set.assertions.iter().map(|a| a.assertion.clone()).collect();
        assert!(assertions_prove_winner(&plain, set.winner, n), "the set rules out every other winner");
        assert!(
            set.assertions.iter().all(|a| a.assertion.mean(&truth.ballots) > 0.5),
            "all hold on their ballots"
        );
        if set.difficulty > 12.0 {
            continue;
        }
        let size = (40.0 * set.difficulty * set.difficulty) as usize + 300;

        // Right outcome: reported CVRs are the ballots.
        let confirmed = (0..audits)
            .filter(|_| {
                audit_assertions(&set, &draw(&mut rng, &truth.ballots, size), alpha)
                    .iter()
                    .all(|r| r.confirmed)
            })
            .count();
        assert!(
            confirmed >= 90,
            "right winner confirmed in only {confirmed} of {audits} audits (size {size})"
        );
        right_cases += 1;

        // Wrong outcome: the reported CVRs swap the real winner with another candidate on
        // every ballot, so the reported winner is that candidate.
        let other = (set.winner + 1 + rng.below(n - 1)) % n;
        let swap = |c: usize| {
            if c == set.winner {
                other
            } else if c == other {
                set.winner
            } else {
                c
            }
        };
        let mut reported = truth.clone();
        reported.ballots.iter_mut().for_each(|b| b.iter_mut().for_each(|c| *c = swap(*c)));
        let Ok(wrong) = generate_assertions(&reported, &GenerateOptions::default()) else { continue };
        assert_eq!(wrong.winner, other, "the reported CVRs elect the other candidate");
        assert!(
            wrong.assertions.iter().any(|a| a.assertion.mean(&truth.ballots) <= 0.5),
            "some assertion of a wrong outcome fails on the real ballots"
        );
        let confirmed = (0..audits)
            .filter(|_| {
                audit_assertions(&wrong, &draw(&mut rng, &truth.ballots, size), alpha)
                    .iter()
                    .all(|r| r.confirmed)
            })
            .count();
        assert!(
            confirmed as f64 <= alpha * audits as f64,
            "wrong winner confirmed in {confirmed} of {audits} audits at risk limit {alpha}"
        );
        wrong_cases += 1;
    }
    assert!(
        right_cases >= 8 && wrong_cases >= 8,
        "too few usable cases: {right_cases} right, {wrong_cases} wrong"
    );
}
