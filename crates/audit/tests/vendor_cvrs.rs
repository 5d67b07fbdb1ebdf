//! The vendor readers on RCTab's test sets in `../shared/data/rla/rctab_cvrs`: each set's
//! CVR files (ES&S workbooks, Clear Ballot CSV, Hart card folders, NIST CDF JSON and XML
//! reports) read as its configuration says, the first round counted under its ballot
//! rules, and compared with round 1 of RCTab's expected report (every candidate's votes,
//! overvotes, skipped and repeated rankings, exhausted ballots, undervotes); single-winner
//! sets are also counted as RCTab counts them (its tie-breaks included), the winner and
//! every round's tally compared with the report's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use scrutineer_audit::{
    BallotRules, ComparisonAudit, ComparisonParams, CvrFileFormat, CvrSet, EssLayout, RankedContest,
    RctabConfig, RiskFunction, Universe, VendorCvrs, VendorFormat, hart_files, rctab_count,
    read_clear_ballot, read_ess, read_hart, read_jurisdictions, read_nist_cdf, tabulate_irv,
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
            VendorFormat::NistCdf => {
                read_nist_cdf(&path, &labels, Some(&source.contest_id)).expect("CDF report")
            }
        };
        assert!(cvrs.malformed.is_empty(), "{}: {:?}", path.display(), cvrs.malformed);
        let contest = match format {
            // Both read the one contest the configuration names.
            VendorFormat::Ess | VendorFormat::NistCdf => cvrs.contests[0].clone(),
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
];

/// The measured agreement (README): the RCTab count's winner equals the report's in
/// this many plain single-winner IRV sets, and every round's tally in this many
/// single-winner sets. Raised when more agree; never lowered.
const PLAIN_IRV_WINNERS_FLOOR: usize = 40;
const SINGLE_WINNER_ROUNDS_FLOOR: usize = 46;

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
    // (sets, winner equal) and for single-winner sets also every round's tally equal.
    let mut plain = (0, 0);
    let mut irv_baseline = (0, 0);
    let mut single = (0, 0, 0);
    let mut plain_by_vendor = BTreeMap::<String, (usize, usize)>::new();
    let mut baseline_by_vendor = BTreeMap::<String, (usize, usize)>::new();
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
        let elected: Vec<String> = report["results"]
            .as_array()
            .expect("rounds")
            .iter()
            .flat_map(|r| r["tallyResults"].as_array().cloned().unwrap_or_default())
            .filter_map(|t| t["elected"].as_str().map(str::to_owned))
            .collect();
        if config.is_plain_irv() {
            // The plain count, ties broken by the lower first-preference tally: a baseline.
            let irv = tabulate_irv(contest.choices.len(), &rules.rankings(&contest)).expect("count");
            irv_baseline.0 += 1;
            let equal = elected.len() == 1 && elected[0] == contest.choices[irv.winner];
            irv_baseline.1 += usize::from(equal);
            let v = baseline_by_vendor.entry(vendor.to_owned()).or_default();
            v.0 += 1;
            v.1 += usize::from(equal);
        }
        if config.is_single_winner() {
            let count_rules = config.count_rules().expect("count rules");
            let count = match rctab_count(&contest, &rules, &count_rules) {
                Ok(c) => c,
                Err(e) => {
                    failures.push(format!("{name}: RCTab count failed: {e}"));
                    continue;
                }
            };
            for t in &count.ties {
                println!(
                    "{name}: round {} tie among {:?}: {} {} ({})",
                    t.round,
                    t.tied,
                    t.chosen,
                    if t.for_winner { "wins" } else { "eliminated" },
                    t.reason
                );
            }
            let ours: Vec<String> = count.winner.iter().cloned().collect();
            let winner_equal = ours == elected;
            let mut round_differences = Vec::new();
            let theirs = report["results"].as_array().expect("rounds");
            if theirs.len() != count.rounds.len() {
                round_differences.push(format!(
                    "{} rounds counted, {} reported",
                    count.rounds.len(),
                    theirs.len()
                ));
            }
            for (r, t) in count.rounds.iter().zip(theirs) {
                let want: BTreeMap<String, u64> =
                    t["tally"].as_object().expect("tally").iter().map(|(k, v)| (k.clone(), num(v))).collect();
                if want != r.tally {
                    round_differences
                        .push(format!("round {}: {:?} counted, {:?} reported", r.round, r.tally, want));
                }
            }
            if config.is_plain_irv() {
                plain.0 += 1;
                plain.1 += usize::from(winner_equal);
                let v = plain_by_vendor.entry(vendor.to_owned()).or_default();
                v.0 += 1;
                v.1 += usize::from(winner_equal);
            }
            single.0 += 1;
            single.1 += usize::from(winner_equal);
            single.2 += usize::from(round_differences.is_empty());
            if !winner_equal {
                failures.push(format!("{name}: RCTab count's winner {ours:?}, report {elected:?}"));
            }
            if !round_differences.is_empty() {
                println!("rounds differ in {name}: {}", round_differences.join("; "));
            }
        }
    }
    for (vendor, (n, ok)) in &checked {
        println!("{vendor}: first round equal in {ok} of {n} sets");
    }
    println!("plain IRV sets: RCTab count's winner equal in {} of {}", plain.1, plain.0);
    println!(
        "plain IRV sets: tabulate_irv's winner (no RCTab tie-breaks) equal in {} of {}",
        irv_baseline.1, irv_baseline.0
    );
    for (vendor, (n, ok)) in &plain_by_vendor {
        let (bn, bok) = baseline_by_vendor.get(vendor).copied().unwrap_or_default();
        println!("  {vendor}: RCTab count {ok} of {n}, tabulate_irv {bok} of {bn}");
    }
    println!(
        "single-winner sets: winner equal in {} of {}, every round's tally equal in {} of {}",
        single.1, single.0, single.2, single.0
    );
    for f in &failures {
        println!("DIFFERENT {f}");
    }
    for vendor in ["ess", "clearBallot", "hart", "cdf"] {
        assert!(checked.get(vendor).is_some_and(|c| c.0 > 0), "no {vendor} set read");
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
    assert!(plain.1 >= PLAIN_IRV_WINNERS_FLOOR, "plain IRV winners equal in {} of {}", plain.1, plain.0);
    assert!(single.2 >= SINGLE_WINNER_ROUNDS_FLOOR, "every round equal in {} of {}", single.2, single.0);
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

#[test]
fn a_dominion_json_export_gives_the_comparison_workflow_one_record_per_session() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/rla/dominion_kuriwaki");
    assert!(src.is_dir(), "missing shared data {} (see ../shared/data/README.md)", src.display());
    // The folder also holds an export of another election without its manifests: the
    // jurisdiction's folder links the two San Francisco exports and the manifests.
    let dir = temp_dir("dominion-json");
    for e in std::fs::read_dir(&src).expect("dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
        if name.ends_with("Manifest.json") || name == "CvrExport_42.json" || name == "CvrExport_24940.json" {
            let link = dir.join(&name);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&p, &link).expect("link");
        }
    }
    let set = CvrSet::read(&dir, CvrFileFormat::DominionJson).expect("export");
    // Counted here from the raw JSON: sessions, and the votes of each plurality contest.
    let contests: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("ContestManifest.json")).expect("m"))
            .expect("json");
    let candidates: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("CandidateManifest.json")).expect("m"))
            .expect("json");
    let name_of = |list: &serde_json::Value, id: u64| {
        list["List"].as_array().expect("list").iter().find(|x| x["Id"] == id).expect("id")["Description"]
            .as_str()
            .expect("name")
            .to_owned()
    };
    let mut sessions = 0;
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in ["CvrExport_42.json", "CvrExport_24940.json"] {
        let e: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(src.join(f)).expect("read")).expect("json");
        for s in e["Sessions"].as_array().expect("sessions") {
            sessions += 1;
            let current = match &s["Modified"] {
                m if m["IsCurrent"] == true => m,
                _ => &s["Original"],
            };
            for card in current["Cards"].as_array().expect("cards") {
                for c in card["Contests"].as_array().expect("contests") {
                    let id = c["Id"].as_u64().expect("id");
                    let ranked = contests["List"]
                        .as_array()
                        .expect("list")
                        .iter()
                        .any(|x| x["Id"] == id && x["NumOfRanks"].as_u64().unwrap_or(0) > 1);
                    if ranked {
                        continue;
                    }
                    for m in c["Marks"].as_array().expect("marks") {
                        if m["IsVote"] == true {
                            let cand = name_of(&candidates, m["CandidateId"].as_u64().expect("candidate"));
                            *want.entry((name_of(&contests, id), cand)).or_default() += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(set.cards.len(), sessions);
    let mut got: BTreeMap<(String, String), u64> = BTreeMap::new();
    for card in &set.cards {
        for (ci, chosen) in &card.votes {
            let c = &set.contests[*ci as usize];
            for k in chosen {
                *got.entry((c.name.clone(), c.choices[*k as usize].clone())).or_default() += 1;
            }
        }
    }
    assert_eq!(got, want);
    assert!(
        set.cards
            .iter()
            .all(|c| (c.tabulator == "21" && c.batch == "20") || (c.tabulator == "29" && c.batch == "454"))
    );

    // The comparison workflow starts from it through the `format` column.
    std::fs::write(
        dir.join("manifest.csv"),
        "Tabulator,Batch Name,Number of Ballots,Container\n21,20,118,Box 1\n29,454,5,Box 2\n",
    )
    .expect("manifest");
    std::fs::write(
        dir.join("j.csv"),
        format!("jurisdiction,manifest,cvr,format\nSF,manifest.csv,{},dominion-json\n", dir.display()),
    )
    .expect("jurisdictions");
    let files = read_jurisdictions(&dir.join("j.csv")).expect("jurisdictions");
    assert_eq!(files[0].format, CvrFileFormat::DominionJson);
    let params = ComparisonParams {
        name: "SF".into(),
        risk_limit: 0.05,
        gamma: 1.03905,
        universe: Universe::Jurisdiction,
        targets: Vec::new(),
        risk_function: RiskFunction::KaplanMarkov,
    };
    let audit = ComparisonAudit::start(params, &files).expect("start");
    let ranked: Vec<String> = contests["List"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|x| x["NumOfRanks"].as_u64().unwrap_or(0) > 1)
        .map(|x| x["Description"].as_str().expect("name").to_owned())
        .collect();
    assert!(!ranked.is_empty() && !audit.contests.is_empty());
    assert!(audit.contests.iter().all(|c| !ranked.contains(&c.name)), "a ranked contest in the audit");
    for c in &audit.contests {
        for (choice, votes) in &c.tallies {
            assert_eq!(
                *votes,
                want.get(&(c.name.clone(), choice.clone())).copied().unwrap_or(0),
                "{} {choice}",
                c.name
            );
        }
    }
}

#[test]
fn corrupted_nist_cdf_cards_are_reported_with_their_line_field_and_value() {
    let src = rctab_dir().join("unisyn_cvrs/101-RCV-CVT_TEST_3_UNIOVS2103-2.xml");
    let text = std::fs::read_to_string(&src).expect("read");
    let good = read_nist_cdf(&src, &Default::default(), None).expect("reads");
    assert!(good.malformed.is_empty(), "{:?}", good.malformed);
    // One card's first rank becomes a word, another card names a selection the contest
    // does not declare; each is named at the line of its CVRContestSelection.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let rank_at = lines.iter().position(|l| l.trim() == "<Rank>1</Rank>").expect("a rank");
    lines[rank_at] = lines[rank_at].replace("<Rank>1</Rank>", "<Rank>first</Rank>");
    let sel_at = lines
        .iter()
        .enumerate()
        .skip(rank_at + 200)
        .find(|(_, l)| l.contains("<ContestSelectionId>"))
        .map(|(i, _)| i)
        .expect("a later selection");
    let id = lines[sel_at]
        .trim()
        .trim_start_matches("<ContestSelectionId>")
        .trim_end_matches("</ContestSelectionId>")
        .to_owned();
    lines[sel_at] = lines[sel_at].replace(&id, "CONS_NOT_DECLARED");
    let opening = |at: usize| {
        1 + (0..at).rev().find(|&i| lines[i].contains("<CVRContestSelection>")).expect("opening") as u64
    };
    let (rank_line, sel_line) = (opening(rank_at), opening(sel_at));
    let path = temp_dir("cdf").join("unisyn.xml");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let bad = read_nist_cdf(&path, &Default::default(), None).expect("reads the rest");
    assert_eq!(bad.cards, good.cards);
    assert_eq!(bad.malformed.len(), 2, "{:?}", bad.malformed);
    let rank = bad.malformed.iter().find(|m| m.field == "Rank").expect("the rank");
    assert_eq!((rank.file.as_path(), rank.line), (path.as_path(), rank_line));
    assert!(rank.message.contains("'first'"), "{rank}");
    let sel = bad.malformed.iter().find(|m| m.field.ends_with("ContestSelectionId")).expect("the selection");
    assert_eq!(sel.line, sel_line);
    assert!(sel.message.contains("CONS_NOT_DECLARED"), "{sel}");
    let ballots = |v: &VendorCvrs| v.contests.iter().map(|c| c.ballots.len()).sum::<usize>();
    assert_eq!(ballots(&bad) + 2, ballots(&good));

    // A report cut short is an error naming its line, not a panic.
    let cut = temp_dir("cdf").join("cut.xml");
    std::fs::write(&cut, &text[..text.len() / 2]).expect("write");
    let e = read_nist_cdf(&cut, &Default::default(), None).expect_err("not well-formed");
    assert!(e.to_string().contains("cut.xml:") && e.to_string().contains("not well-formed XML"), "{e}");
    let cut = temp_dir("cdf").join("cut.json");
    let json = std::fs::read_to_string(
        rctab_dir().join("test_set_0_skipped_first_choice/test_set_0_skipped_first_choice_cvr.json"),
    )
    .expect("read");
    std::fs::write(&cut, &json[..json.len() / 2]).expect("write");
    assert!(read_nist_cdf(&cut, &Default::default(), None).is_err());
}
