//! Property: in a batch-comparison audit (MACRO, PPEB draws) whose reported winner is
//! wrong, the audit goes on to a full hand count in at least 1 − α of simulated audits;
//! when the reported tallies are right, it stops in the first round after exactly the
//! first round's draws.

use std::path::Path;

use proptest::prelude::*;
use scrutineer_audit::{
    Batch, BatchAudit, BatchDecision, BatchStartOptions, BatchTallies, Manifest, TallyFile, macro_round_size,
};
use scrutineer_core::splitmix::SplitMix64 as Rng;

/// An election of `batches` batches: the paper (true) tallies, with Bob ahead by
/// `bob_lead_permille` of the ballots, and the reported tallies, where Bob's votes are
/// reported for Ann until she leads by `ann_lead_permille` of the ballots: a vote at a
/// time in batches taken in turn (`concentrated` false), or whole batches of Bob's votes
/// in a row (true, the errors in as few batches as possible).
fn election(
    rng: &mut Rng,
    batches: usize,
    bob_lead_permille: u64,
    ann_lead_permille: u64,
    concentrated: bool,
) -> (TallyFile, TallyFile, Manifest) {
    let mut truth = TallyFile::default();
    let mut reported = TallyFile::default();
    let mut manifest = Manifest::default();
    let mut lead = 0i64;
    let mut paper = Vec::new();
    for i in 0..batches {
        let ballots = 100 + rng.below(300);
        let bob = ballots * (1000 + bob_lead_permille) / 2000;
        let ann = ballots - bob;
        lead += bob as i64 - ann as i64;
        paper.push((format!("B{i:03}"), ballots, ann, bob));
    }
    let total: u64 = paper.iter().map(|p| p.1).sum();
    let target = -((total * ann_lead_permille / 1000) as i64);
    let mut moved = vec![0u64; batches];
    let mut k = 0;
    while lead > target {
        let i = if concentrated { k / 1000 % batches } else { k % batches };
        if moved[i] < paper[i].3 {
            moved[i] += 1;
            lead -= 2;
        }
        k += 1;
    }
    for (i, (label, ballots, ann, bob)) in paper.into_iter().enumerate() {
        manifest.batches.push(Batch { label: label.clone(), ballots });
        for (file, a, b) in [(&mut truth, ann, bob), (&mut reported, ann + moved[i], bob - moved[i])] {
            let c = file.tallies.entry(label.clone()).or_default().entry("Mayor".into()).or_default();
            c.insert("Ann".into(), a);
            c.insert("Bob".into(), b);
            file.first_line.insert(label.clone(), 1);
        }
    }
    for f in [&mut truth, &mut reported] {
        f.choices.insert("Mayor".into(), vec!["Ann".into(), "Bob".into()]);
    }
    (truth, reported, manifest)
}

/// Runs an audit to its end, hand counts from `truth`; returns its decision and the
/// draws of its first round.
fn run_audit(
    reported: &TallyFile,
    truth: &BatchTallies,
    m: &Manifest,
    alpha: f64,
    seed: &str,
) -> (BatchDecision, usize, u32) {
    let path = Path::new("reported.csv");
    let mut a = BatchAudit::start(reported.clone(), path, m, alpha, seed, &BatchStartOptions::default())
        .expect("start");
    loop {
        let st = a.status();
        if st[0].decision != BatchDecision::Continue && st[0].decision != BatchDecision::FullHandCount {
            let first = a.draws.get("Mayor").map(|d| d.iter().filter(|x| x.round == 1).count()).unwrap_or(0);
            return (st[0].decision, first, a.rounds);
        }
        let list = a.draw_round(&[]).expect("draw");
        let mut hand = TallyFile::default();
        for r in &list {
            hand.tallies.insert(r.batch.clone(), truth[&r.batch].clone());
            hand.first_line.insert(r.batch.clone(), 1);
        }
        a.record(hand, Path::new("hand.csv")).expect("record");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn wrong_reported_winner_goes_to_a_full_hand_count(
        seed in any::<u64>(),
        bob_lead_permille in 5u64..=50,
        ann_lead_permille in 40u64..=150,
        concentrated in any::<bool>(),
        alpha_pct in prop::sample::select(vec![5u64, 10, 20]),
    ) {
        let alpha = alpha_pct as f64 / 100.0;
        let mut rng = Rng::new(seed);
        let (truth, reported, m) = election(&mut rng, 100, bob_lead_permille, ann_lead_permille, concentrated);
        let audits = 100;
        let mut escalated = 0;
        for k in 0..audits {
            let (d, _, _) = run_audit(&reported, &truth.tallies, &m, alpha, &format!("{seed}-{k}"));
            prop_assert!(matches!(d, BatchDecision::RiskLimitMet | BatchDecision::HandCountOverturned), "{d:?}");
            escalated += (d == BatchDecision::HandCountOverturned) as usize;
        }
        prop_assert!(escalated as f64 >= (1.0 - alpha) * audits as f64, "{escalated} of {audits} at α = {alpha}");
    }

    #[test]
    fn right_reported_tallies_stop_after_the_first_rounds_size(seed in any::<u64>(), lead in 40u64..=150) {
        let mut rng = Rng::new(seed);
        // The report is the paper: Bob's reported win is right.
        let (truth, _, m) = election(&mut rng, 100, lead, 0, false);
        let a = BatchAudit::start(truth.clone(), Path::new("r"), &m, 0.1, "s", &BatchStartOptions::default())
            .expect("a");
        let size = macro_round_size(a.bounds(&a.contests[0]).total, 1.0, 0.1, 100);
        let (d, first, rounds) = run_audit(&truth, &truth.tallies, &m, 0.1, &seed.to_string());
        if size < 100 {
            prop_assert_eq!(d, BatchDecision::RiskLimitMet);
            prop_assert_eq!((first, rounds), (size, 1));
        } else {
            prop_assert_eq!(d, BatchDecision::HandCountConfirmed);
        }
    }
}
