//! The vendor readers on RCTab's test sets in `../shared/data/rla/rctab_cvrs`: each set's
//! CVR files (ES&S workbooks, Clear Ballot CSV, Hart card folders) read as its
//! configuration says, the first round counted under its ballot rules, and compared with
//! round 1 of RCTab's expected report (every candidate's votes, overvotes, skipped and
//! repeated rankings, exhausted ballots, undervotes); plain single-winner IRV sets also
//! compare the IRV winner with the report's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use scrutineer_audit::{
    BallotRules, EssLayout, RankedContest, RctabConfig, VendorCvrs, VendorFormat, hart_files,
    read_clear_ballot, read_ess, read_hart, tabulate_irv,
};

fn rctab_dir() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/rla/rctab_cvrs");
    assert!(path.is_dir(), "missing shared data {} (see ../shared/data/README.md)", path.display());
    path
}

/// Reads every source of a configuration into one contest.
fn read_set(dir: &Path, config: &RctabConfig) -> (RankedContest, VendorCvrs) {
    let ranks = config.ballot_rules().expect("rules").max_rankings;
    let mut merged: Option<RankedContest> = None;
    let mut last = None;
    for source in &config.cvr_file_sources {
        let labels = config.labels(source);
        let path = dir.join(&source.file_path);
        let format = VendorFormat::from_rctab(&source.provider).expect("vendor provider");
        let cvrs = match format {
            VendorFormat::Ess => {
                let layout = EssLayout::from_rctab(source, &config.output_settings.contest_name, ranks)
                    .expect("layout");
                read_ess(&path, &layout, &labels).expect("ES&S workbook")
            }
            VendorFormat::ClearBallot => read_clear_ballot(&path, &labels).expect("Clear Ballot CSV"),
            VendorFormat::Hart => {
                read_hart(&hart_files(&path).expect("files"), &labels, Some(&source.contest_id))
                    .expect("Hart cards")
            }
        };
        assert!(cvrs.malformed.is_empty(), "{}: {:?}", path.display(), cvrs.malformed);
        let contest = match format {
            VendorFormat::Ess => cvrs.contests[0].clone(),
            _ => cvrs
                .contests
                .iter()
                .find(|c| c.id == source.contest_id)
                .unwrap_or_else(|| panic!("{}: contest {} not read", path.display(), source.contest_id))
                .clone(),
        };
        merged = Some(match merged {
            None => contest,
            Some(mut m) => {
                // Choices are matched by name across files.
                for mut b in contest.ballots {
                    for r in &mut b.ranks {
                        if let scrutineer_audit::RankMark::Choices(cs) = r {
                            for c in cs.iter_mut() {
                                *c = m.choice_index(&contest.choices[*c]);
                            }
                        }
                    }
                    m.ballots.push(b);
                }
                m
            }
        });
        last = Some(cvrs);
    }
    (merged.expect("a source"), last.expect("a source"))
}

/// Sets whose report this reader does not reproduce, and why (see the crate's README).
const EXPLAINED: &[(&str, &str)] = &[
    // The workbook has rows at the sheet's end holding cell styles and no values: RCTab
    // counts each as a blank ballot, this reader counts no card there.
    ("first_round_determines_threshold_test", "formatted empty rows"),
    ("first_round_determines_threshold_tiebreaker_test", "formatted empty rows"),
    // RCTab's tie-breaks (random with a seed, a generated permutation, earlier rounds'
    // counts) against the IRV count's lower first-preference tally, then file order.
    ("tiebreak_generate_permutation_test", "tie-break"),
    ("tiebreak_previous_round_counts_then_random_test", "tie-break"),
    ("missing_precinct_example", "tie-break"),
    ("test_set_treat_blank_as_undeclared_write_in", "tie-break"),
    // RCTab never lets undeclared write-ins win; the IRV count treats them as a candidate.
    ("uwi_cannot_win_test", "undeclared write-ins cannot win"),
];

fn num(v: &serde_json::Value) -> u64 {
    match v {
        serde_json::Value::String(s) => s.parse::<f64>().expect("number") as u64,
        other => other.as_f64().expect("number") as u64,
    }
}

#[test]
fn vendor_readers_reproduce_rctab_first_rounds_and_irv_winners() {
    let root = rctab_dir();
    let mut sets: Vec<PathBuf> =
        std::fs::read_dir(&root).expect("dir").map(|e| e.expect("entry").path()).collect();
    sets.sort();
    let mut checked = BTreeMap::<String, (usize, usize)>::new();
    let mut winners = (0, 0);
    let mut failures = Vec::new();
    for dir in sets {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        let config_path = dir.join(format!("{name}_config.json"));
        let report_path = dir.join(format!("{name}_expected_detailed_report.json"));
        if !config_path.is_file() || !report_path.is_file() {
            continue;
        }
        let Ok(config) = RctabConfig::read(&config_path) else { continue };
        let providers: Vec<&str> = config.cvr_file_sources.iter().map(|s| s.provider.as_str()).collect();
        let Some(vendor) = providers.first().copied().filter(|p| VendorFormat::from_rctab(p).is_some())
        else {
            continue;
        };
        if providers.iter().any(|p| VendorFormat::from_rctab(p).is_none()) {
            continue;
        }
        let (contest, _) = read_set(&dir, &config);
        let rules: BallotRules = config.ballot_rules().expect("rules");
        let ours = rules.first_round(&contest);
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report"))
                .expect("report JSON");
        let round1 = &report["results"][0];
        let mut differences = Vec::new();
        let expected: BTreeMap<String, u64> =
            round1["tally"].as_object().expect("tally").iter().map(|(k, v)| (k.clone(), num(v))).collect();
        for (cand, want) in &expected {
            let got = ours.tally.get(cand).copied().unwrap_or(0);
            if got != *want {
                differences.push(format!("{cand}: {got} read, {want} expected"));
            }
        }
        for (cand, got) in &ours.tally {
            if *got > 0 && !expected.contains_key(cand) {
                differences.push(format!("{cand}: {got} read, not in the report"));
            }
        }
        let inactive = &round1["inactiveBallots"];
        for (field, got) in [
            ("overvotes", ours.overvotes),
            ("skippedRankings", ours.skipped_rankings),
            ("repeatedRankings", ours.repeated_rankings),
            ("exhaustedChoices", ours.exhausted_choices),
        ] {
            let want = num(&inactive[field]);
            if got != want {
                differences.push(format!("{field}: {got} read, {want} expected"));
            }
        }
        let summary = &report["summary"];
        if num(&summary["undervotes"]) != ours.undervotes {
            differences
                .push(format!("undervotes: {} read, {} expected", ours.undervotes, summary["undervotes"]));
        }
        if num(&summary["totalNumBallots"]) != ours.ballots {
            differences
                .push(format!("ballots: {} read, {} expected", ours.ballots, summary["totalNumBallots"]));
        }
        let entry = checked.entry(vendor.to_owned()).or_default();
        entry.0 += 1;
        if differences.is_empty() {
            entry.1 += 1;
        } else if EXPLAINED.iter().any(|(n, _)| *n == name) {
            println!("explained {name}: {}", differences.join("; "));
        } else {
            failures.push(format!("{name}: {}", differences.join("; ")));
        }
        if config.is_plain_irv() {
            let elected: Vec<String> = report["results"]
                .as_array()
                .expect("rounds")
                .iter()
                .flat_map(|r| r["tallyResults"].as_array().cloned().unwrap_or_default())
                .filter_map(|t| t["elected"].as_str().map(str::to_owned))
                .collect();
            let irv = tabulate_irv(contest.choices.len(), &rules.rankings(&contest)).expect("count");
            let ours = &contest.choices[irv.winner];
            winners.0 += 1;
            if elected.len() == 1 && elected[0] == *ours {
                winners.1 += 1;
            } else if EXPLAINED.iter().any(|(n, _)| *n == name) {
                println!("explained {name}: IRV winner {ours}, report {elected:?}");
            } else {
                failures.push(format!("{name}: IRV winner {ours}, report {elected:?}"));
            }
        }
    }
    for (vendor, (n, ok)) in &checked {
        println!("{vendor}: first round equal in {ok} of {n} sets");
    }
    println!("plain IRV winners equal in {} of {}", winners.1, winners.0);
    for f in &failures {
        println!("DIFFERENT {f}");
    }
    for vendor in ["ess", "clearBallot", "hart"] {
        assert!(checked.get(vendor).is_some_and(|c| c.0 > 0), "no {vendor} set read");
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scrutineer-vendor-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

#[test]
fn a_corrupted_clear_ballot_row_is_reported_with_its_line_and_column() {
    let src = rctab_dir().join("clear_ballot_kansas_primary/clear_ballot_kansas_primary.cvr.csv");
    let text = std::fs::read_to_string(&src).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let good = read_clear_ballot(&src, &Default::default()).expect("reads");
    // Line 7 (the sixth card): its first mark cell becomes "x".
    let fields: Vec<&str> = lines[6].split(',').collect();
    let mut broken: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    broken[10] = "x".into();
    lines[6] = broken.join(",");
    let path = temp_dir("cb").join("kansas.csv");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let bad = read_clear_ballot(&path, &Default::default()).expect("reads the rest");
    assert_eq!(bad.malformed.len(), 1, "{:?}", bad.malformed);
    assert_eq!(bad.malformed[0].line, 7);
    assert!(bad.malformed[0].field.contains("Michael Bennet"), "{}", bad.malformed[0]);
    assert_eq!(bad.cards, good.cards);
    assert_eq!(bad.contests[0].ballots.len() + 1, good.contests[0].ballots.len());
}

#[test]
fn a_corrupted_hart_card_is_reported_with_its_file() {
    let dir = rctab_dir().join("_shared/hart_cvr_archive");
    let files = hart_files(&dir).expect("files");
    let copy = temp_dir("hart");
    let mut copied = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let mut text = std::fs::read_to_string(f).expect("read");
        if i == 2 {
            text = text.replacen("<Value>", "<Value>2", 1);
        }
        let p = copy.join(f.file_name().expect("name"));
        std::fs::write(&p, text).expect("write");
        copied.push(p);
    }
    let cvrs = read_hart(&copied, &Default::default(), None).expect("reads");
    assert_eq!(cvrs.cards, files.len() as u64);
    assert_eq!(cvrs.malformed.len(), 1, "{:?}", cvrs.malformed);
    assert_eq!(cvrs.malformed[0].file, copied[2]);
    assert_eq!(cvrs.malformed[0].field, "Option/Value");
}

#[test]
fn an_undeclared_ess_candidate_is_reported_with_its_row_and_column() {
    let dir = rctab_dir().join("2015_portland_mayor");
    let config = RctabConfig::read(&dir.join("2015_portland_mayor_config.json")).expect("config");
    let mut labels = config.labels(&config.cvr_file_sources[0]);
    // Without one candidate in the configuration, every row naming it is malformed.
    labels.names.retain(|_, name| name != "Strimling, Ethan K.");
    let layout = EssLayout::from_rctab(&config.cvr_file_sources[0], "Mayor", None).expect("layout");
    let cvrs = read_ess(&dir.join("2015_portland_mayor_cvr.xlsx"), &layout, &labels).expect("reads");
    assert!(!cvrs.malformed.is_empty());
    assert!(
        cvrs.malformed.iter().all(|m| m.line >= 2 && m.message.contains("Strimling")),
        "{:?}",
        cvrs.malformed
    );
    assert_eq!(cvrs.contests[0].ballots.len() + cvrs.malformed.len(), cvrs.cards as usize);
}

#[test]
fn the_comparison_workflow_refuses_ranked_contests_by_name() {
    let files = hart_files(&rctab_dir().join("_shared/hart_cvr_archive")).expect("files");
    let cvrs = read_hart(&files, &Default::default(), None).expect("reads");
    let e = scrutineer_audit::CvrSet::from_vendor(&cvrs).expect_err("Cedar Park is ranked");
    assert!(e.to_string().contains("is ranked"), "{e}");
    // The same cards without their ranked contests give one card per file.
    let mut plurality = cvrs.clone();
    plurality.contests.retain(|c| c.ballots.iter().all(|b| b.ranks.len() <= 1));
    let set = scrutineer_audit::CvrSet::from_vendor(&plurality).expect("plurality contests");
    let cards_with_contests: std::collections::BTreeSet<&Path> =
        plurality.contests.iter().flat_map(|c| c.ballots.iter().map(|b| b.file.as_path())).collect();
    assert_eq!(set.cards.len(), cards_with_contests.len());
    assert!(set.cards.iter().all(|c| c.batch == "1" && c.position >= 1));
}
