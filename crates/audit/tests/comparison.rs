//! Ballot-comparison audits simulated end to end: two jurisdictions, CVRs and the paper
//! cards they describe, rounds drawn with Colorado's sizes until the audit stops or
//! reaches a full hand count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use scrutineer_audit::{
    ComparisonAudit, ComparisonDecision, ComparisonParams, ConsistentSampler, ContestDef, CvrCard, CvrSet,
    Jurisdiction, LocatedReading, ManifestBatch, RiskFunction, SeedCeremony, Universe,
};

/// One simulated jurisdiction: its CVRs and what each card really shows (choice index
/// in contest 0, `None` for no vote), and which cards carry contest 1 (a local contest).
struct County {
    cvrs: CvrSet,
    truth: Vec<Option<u32>>,
    manifest: Vec<ManifestBatch>,
}

const CHOICES: [&str; 2] = ["Ann", "Bob"];

fn county(
    name_seed: u64,
    cards: u64,
    cvr: &dyn Fn(u64) -> Option<u32>,
    truth: &dyn Fn(u64) -> Option<u32>,
) -> County {
    let batch_size = 50;
    let mut manifest = Vec::new();
    let mut out = Vec::new();
    let mut real = Vec::new();
    for i in 0..cards {
        let batch = i / batch_size;
        if i % batch_size == 0 {
            let n = batch_size.min(cards - i);
            manifest.push(ManifestBatch {
                container: format!("Box {}", batch / 4 + 1),
                tabulator: ((batch % 2) + 1).to_string(),
                batch: batch.to_string(),
                ballots: n,
            });
        }
        let mut votes = vec![(0, cvr(i).into_iter().collect())];
        if (i + name_seed).is_multiple_of(3) {
            // The local contest is on every third card only (card-style data).
            votes.push((1, vec![(i % 2) as u32]));
        }
        out.push(CvrCard {
            tabulator: ((batch % 2) + 1).to_string(),
            batch: batch.to_string(),
            position: i % batch_size + 1,
            imprinted_id: format!("{batch}-{}", i % batch_size + 1),
            votes,
        });
        real.push(truth(i));
    }
    let contests = vec![
        ContestDef {
            name: "Governor".into(),
            vote_for: 1,
            choices: CHOICES.iter().map(|s| s.to_string()).collect(),
        },
        ContestDef { name: "Local".into(), vote_for: 1, choices: vec!["Yes".into(), "No".into()] },
    ];
    County { cvrs: CvrSet { contests, cards: out }, truth: real, manifest }
}

fn audit_of(counties: &[County], risk_limit: f64, seed: &str) -> ComparisonAudit {
    audit_with(counties, risk_limit, seed, RiskFunction::KaplanMarkov)
}

fn audit_with(
    counties: &[County],
    risk_limit: f64,
    seed: &str,
    risk_function: RiskFunction,
) -> ComparisonAudit {
    let jurisdictions = counties
        .iter()
        .enumerate()
        .map(|(i, c)| Jurisdiction {
            name: format!("County{i}"),
            manifest_file: PathBuf::new(),
            manifest_sha256: String::new(),
            cvr_file: PathBuf::new(),
            cvr_sha256: String::new(),
            cvr_format: Default::default(),
            rctab_config: None,
            batches: c.manifest.clone(),
        })
        .collect();
    let cvrs: Vec<CvrSet> = counties.iter().map(|c| c.cvrs.clone()).collect();
    let params = ComparisonParams {
        name: "sim".into(),
        risk_limit,
        gamma: 1.03905,
        universe: Universe::CardStyle,
        targets: vec!["Governor".into()],
        risk_function,
    };
    let mut a = ComparisonAudit::from_records(params, jurisdictions, &cvrs).expect("start");
    a.record_seed(SeedCeremony {
        seed: seed.into(),
        rolled_by: vec!["A".into()],
        witnesses: vec![],
        at: "2024-01-01T00:00:00Z".into(),
    })
    .expect("seed");
    a
}

/// Reads every newly drawn card as the paper shows it.
fn read_new_cards(a: &mut ComparisonAudit, counties: &[County]) {
    let mut rows = Vec::new();
    for c in a.cards.iter().filter(|c| !a.readings.contains_key(&c.id)) {
        let ji: usize = c.jurisdiction.trim_start_matches("County").parse().expect("county");
        let county = &counties[ji];
        let idx = county
            .cvrs
            .cards
            .iter()
            .position(|k| k.tabulator == c.tabulator && k.batch == c.batch && k.position == c.position)
            .expect("card");
        let base = LocatedReading {
            line: 0,
            jurisdiction: c.jurisdiction.clone(),
            tabulator: c.tabulator.clone(),
            batch: c.batch.clone(),
            position: c.position,
            board: "Board 1".into(),
            found: true,
            contest: Some("Governor".into()),
            choice: county.truth[idx].map(|k| CHOICES[k as usize].to_owned()),
        };
        if let Some(local) = c.cvr.get("Local") {
            rows.push(LocatedReading {
                contest: Some("Local".into()),
                choice: local.first().cloned(),
                ..base.clone()
            });
        }
        rows.push(base);
    }
    a.record_readings(rows, Path::new("sim.csv")).expect("record");
}

/// Runs rounds until the Governor contest stops or goes to a full hand count; returns
/// the decision, the rounds drawn and the cards examined.
fn run(a: &mut ComparisonAudit, counties: &[County]) -> (ComparisonDecision, usize, u64) {
    loop {
        let sizes = a.next_round_sizes();
        let cvrs: Vec<CvrSet> = counties.iter().map(|c| c.cvrs.clone()).collect();
        a.draw_records(&sizes, &cvrs).expect("draw");
        read_new_cards(a, counties);
        let s = a.status().into_iter().find(|s| s.contest == "Governor").expect("governor");
        if s.decision != ComparisonDecision::Continue {
            return (s.decision, a.rounds.len(), s.examined);
        }
        assert!(a.rounds.len() < 60, "the audit does not converge");
    }
}

/// P(X ≥ k) for X ~ Binomial(n, p), summed term by term (n is small).
fn binomial_upper_tail(n: u64, k: u64, p: f64) -> f64 {
    (k..=n)
        .map(|i| {
            let ln_choose: f64 = (0..i).map(|j| ((n - j) as f64 / (j + 1) as f64).ln()).sum();
            (ln_choose + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp()
        })
        .sum()
}

#[test]
fn binomial_tail_matches_known_values() {
    // Binomial(20, 0.1): P(X ≥ 0) = 1, P(X ≥ 4) ≈ 0.1330, P(X ≥ 8) ≈ 4.16e-4.
    assert!((binomial_upper_tail(20, 0, 0.1) - 1.0).abs() < 1e-12);
    assert!((binomial_upper_tail(20, 4, 0.1) - 0.13295).abs() < 1e-4);
    assert!((binomial_upper_tail(20, 8, 0.1) - 4.1564e-4).abs() < 1e-7);
}

fn mix(mut x: u64) -> u64 {
    // splitmix64: a fixed scramble so that votes and errors spread over batches.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn share(i: u64, permille: u64) -> bool {
    mix(i) % 1000 < permille
}

fn share_salted(i: u64, salt: u64, permille: u64) -> bool {
    mix(i ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93)) % 1000 < permille
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    /// The CVRs name Ann, but on the paper Bob wins: overstatements the CVRs hide. At
    /// least 1 − α of audits must end in a full hand count.
    #[test]
    fn wrong_reported_winner_goes_to_a_full_hand_count(
        cards in 300u64..700,
        ann in 520u64..600,
        flipped in 60u64..120,
    ) {
        let alpha = 0.1;
        let runs = 20;
        let mut hand_counts = [0; 2];
        for seed in 0..runs {
            let cvr = move |i: u64| Some(if share(i, ann) { 0 } else { 1 });
            // Paper: a share of Ann's CVR votes are really Bob's (two-vote) or blank (one-vote).
            let truth = move |i: u64| {
                if share(i, ann) && share_salted(i, 1, flipped * 2) { if share_salted(i, 2, 500) { Some(1) } else { None } }
                else { cvr(i) }
            };
            let counties = vec![county(0, cards, &cvr, &truth), county(1, cards / 2, &cvr, &truth)];
            let votes_for = |k| counties.iter().flat_map(|c| &c.truth).filter(|t| **t == Some(k)).count() as f64;
            let all = counties.iter().map(|c| c.truth.len()).sum::<usize>() as f64;
            // Bob wins on paper by at least 2% of the cards. At a one-vote loss the audit
            // may stop in up to α of runs (measured: 7% Kaplan-Markov, 10% ALPHA over 150
            // audits of 475 cards), which 20 runs cannot tell from more than α.
            prop_assume!(votes_for(1) - votes_for(0) >= 0.02 * all);
            for (k, f) in [RiskFunction::KaplanMarkov, RiskFunction::Alpha].into_iter().enumerate() {
                let mut a = audit_with(&counties, alpha, &format!("seed-{seed}-{cards}-{ann}"), f);
                let (decision, _, _) = run(&mut a, &counties);
                if decision == ComparisonDecision::FullHandCount {
                    hand_counts[k] += 1;
                }
            }
        }
        // An audit may stop at a wrong outcome in up to α of runs, so the count of runs that
        // stopped is judged against Binomial(runs, α): the test fails when that many stops
        // would happen less than once in a thousand times at a risk limit that holds (a
        // fixed share such as 18 of 20 fails a correct audit every few runs).
        for (k, n) in hand_counts.iter().enumerate() {
            let stopped = runs - *n;
            let tail = binomial_upper_tail(runs, stopped, alpha);
            prop_assert!(tail >= 1e-3, "risk function {k}: {stopped} of {runs} audits stopped (P = {tail:.2e} at α)");
        }
    }

    /// CVRs right: the audit stops in the first round, having examined Colorado's
    /// optimistic sample size and no more.
    #[test]
    fn right_reported_winner_stops_at_the_first_round(cards in 500u64..900, ann in 560u64..700, seed in 0u64..1000) {
        let cvr = move |i: u64| Some(if share(i, ann) { 0 } else { 1 });
        let counties = vec![county(0, cards, &cvr, &cvr), county(1, cards, &cvr, &cvr)];
        let mut a = audit_of(&counties, 0.05, &seed.to_string());
        let first = a.next_round_sizes()["Governor"];
        let (decision, rounds, examined) = run(&mut a, &counties);
        prop_assert_eq!(decision, ComparisonDecision::Stop);
        prop_assert_eq!(rounds, 1);
        prop_assert_eq!(examined, first);
        // The local contest, opportunistic, is measured on the longest run of its cards,
        // in ticket order, that the Governor's sample holds.
        let local = a.contests.iter().find(|c| c.name == "Local").expect("local");
        let sampler = ConsistentSampler::new(&seed.to_string());
        let mut tickets: Vec<(String, String)> = Vec::new();
        for (ji, c) in counties.iter().enumerate() {
            for card in c.cvrs.cards.iter().filter(|k| k.votes.iter().any(|(ci, _)| *ci == 1)) {
                let id = format!("County{ji}/{}/{}-{}", card.tabulator, card.batch, card.position);
                tickets.push((sampler.first_ticket(&id).ticket_number, id));
            }
        }
        tickets.sort();
        let drawn: std::collections::BTreeSet<&str> = a.cards.iter().map(|c| c.id.as_str()).collect();
        let run = tickets.iter().take_while(|(_, id)| drawn.contains(id.as_str())).count() as u64;
        prop_assert_eq!(local.sample_size, run);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, .. ProptestConfig::default() })]

    /// With ALPHA, CVRs right: the audit stops (no full hand count) well short of every card.
    #[test]
    fn right_reported_winner_stops_with_alpha(cards in 500u64..900, ann in 560u64..700, seed in 0u64..1000) {
        let cvr = move |i: u64| Some(if share(i, ann) { 0 } else { 1 });
        let counties = vec![county(0, cards, &cvr, &cvr), county(1, cards, &cvr, &cvr)];
        let mut a = audit_with(&counties, 0.05, &seed.to_string(), RiskFunction::Alpha);
        let (decision, _, examined) = run(&mut a, &counties);
        prop_assert_eq!(decision, ComparisonDecision::Stop);
        prop_assert!(examined < cards, "{} of {} cards", examined, 2 * cards);
    }
}

#[test]
fn later_rounds_extend_the_sample_and_draws_do_not_depend_on_card_order() {
    let cvr = |i: u64| Some(if share(i, 540) { 0 } else { 1 });
    let truth = |i: u64| if i.is_multiple_of(9) { None } else { cvr(i) };
    let counties = vec![county(0, 800, &cvr, &truth), county(1, 400, &cvr, &truth)];
    let mut a = audit_of(&counties, 0.05, "12345678901234567890");
    let sizes = a.next_round_sizes();
    let cvrs: Vec<CvrSet> = counties.iter().map(|c| c.cvrs.clone()).collect();
    a.draw_records(&sizes, &cvrs).expect("draw");
    let first: Vec<String> = a.cards.iter().map(|c| c.id.clone()).collect();
    read_new_cards(&mut a, &counties);
    let mut bigger = sizes.clone();
    *bigger.get_mut("Governor").expect("g") += 40;
    a.draw_records(&bigger, &cvrs).expect("round 2");
    let ids: std::collections::BTreeSet<&str> = a.cards.iter().map(|c| c.id.as_str()).collect();
    assert!(first.iter().all(|id| ids.contains(id.as_str())), "round 2 keeps round 1's cards");
    assert!(a.cards.iter().any(|c| c.round == 2));

    // The same audit with every jurisdiction's cards reversed draws the same cards.
    let mut reversed: Vec<CvrSet> = cvrs.clone();
    for r in &mut reversed {
        r.cards.reverse();
    }
    let mut b = audit_of(&counties, 0.05, "12345678901234567890");
    b.draw_records(&bigger, &reversed).expect("draw");
    let b_ids: std::collections::BTreeSet<&str> = b.cards.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, b_ids);

    // Another seed draws other cards.
    let mut c = audit_of(&counties, 0.05, "98765432109876543210");
    c.draw_records(&bigger, &cvrs).expect("draw");
    let c_ids: std::collections::BTreeSet<&str> = c.cards.iter().map(|c| c.id.as_str()).collect();
    assert_ne!(ids, c_ids);

    // The retrieval list holds each card once, grouped by jurisdiction and sorted by
    // container, tabulator, batch and position within it.
    let list = a.retrieval_list(2, None);
    assert_eq!(list.len(), a.cards.len());
    let keys: Vec<_> = list
        .iter()
        .map(|r| {
            (
                r.jurisdiction.clone(),
                r.container.clone(),
                r.tabulator.parse::<u64>().ok(),
                r.batch.parse::<u64>().ok(),
                r.position,
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let by_batch: BTreeMap<(String, String, String), std::collections::BTreeSet<String>> =
        list.iter().fold(BTreeMap::new(), |mut m, r| {
            m.entry((r.jurisdiction.clone(), r.tabulator.clone(), r.batch.clone()))
                .or_default()
                .insert(r.audit_board.clone());
            m
        });
    assert!(by_batch.values().all(|b| b.len() == 1), "one board opens each batch");
}

#[test]
fn a_card_not_found_counts_as_a_two_vote_overstatement() {
    let cvr = |i: u64| Some(if share(i, 600) { 0 } else { 1 });
    let counties = vec![county(0, 600, &cvr, &cvr)];
    let mut a = audit_of(&counties, 0.05, "1");
    let sizes = a.next_round_sizes();
    a.draw_records(&sizes, &[counties[0].cvrs.clone()]).expect("draw");
    let lost = a.cards[0].clone();
    let mut rows = vec![LocatedReading {
        line: 2,
        jurisdiction: lost.jurisdiction.clone(),
        tabulator: lost.tabulator.clone(),
        batch: lost.batch.clone(),
        position: lost.position,
        board: "Board 1".into(),
        found: false,
        contest: None,
        choice: None,
    }];
    a.record_readings(std::mem::take(&mut rows), Path::new("r.csv")).expect("record");
    read_new_cards(&mut a, &counties);
    let s = a.status().into_iter().find(|s| s.contest == "Governor").expect("g");
    assert_eq!(s.discrepancies.o2, 1);
    assert_eq!(s.decision, ComparisonDecision::Continue);
    // Colorado's next round grows with the overstatement.
    assert!(a.next_round_sizes()["Governor"] > s.sample_size);
}

#[test]
fn readings_for_cards_not_drawn_or_unknown_choices_are_refused_with_the_line() {
    let cvr = |i: u64| Some((i % 2) as u32);
    let counties = vec![county(0, 200, &cvr, &cvr)];
    let mut a = audit_of(&counties, 0.1, "1");
    a.draw_records(&BTreeMap::from([("Governor".to_owned(), 5)]), &[counties[0].cvrs.clone()]).expect("draw");
    let drawn: std::collections::BTreeSet<u64> =
        a.cards.iter().map(|c| c.position + 1000 * c.batch.parse::<u64>().unwrap_or(0)).collect();
    let not_drawn = (0..200u64).find(|i| !drawn.contains(&((i % 50) + 1 + 1000 * (i / 50)))).expect("one");
    let row = |line, batch: u64, position, choice: &str| LocatedReading {
        line,
        jurisdiction: "County0".into(),
        tabulator: ((batch % 2) + 1).to_string(),
        batch: batch.to_string(),
        position,
        board: String::new(),
        found: true,
        contest: Some("Governor".into()),
        choice: Some(choice.into()),
    };
    let e = a
        .record_readings(vec![row(7, not_drawn / 50, not_drawn % 50 + 1, "Ann")], Path::new("b.csv"))
        .expect_err("not drawn");
    assert!(e.to_string().starts_with("b.csv:7:"), "{e}");
    let c = &a.cards[0];
    let e = a
        .record_readings(vec![row(9, c.batch.parse().expect("b"), c.position, "Zed")], Path::new("b.csv"))
        .expect_err("unknown choice");
    assert!(e.to_string().contains("b.csv:9: field 'choice'"), "{e}");
}
