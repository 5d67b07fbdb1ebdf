//! `scrutineer audit cvr --format ess|clear-ballot|hart|nist-cdf`: a Clear Ballot file and
//! a NIST CDF report written here and counted by hand, malformed rows named with their
//! line, RCTab's Portland ES&S workbook and NIST CDF XML example from `../shared` against
//! RCTab's expected reports, and the comparison workflow's `format` column.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::scrutineer as bin;

fn rctab(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/rla/rctab_cvrs").join(rel);
    assert!(path.exists(), "missing shared data {} (see ../shared/data/README.md)", path.display());
    path
}

const HEADER: &str = "RowNumber,BoxID,BoxPosition,BallotID,PrecinctID,BallotStyleID,PrecinctStyleName,ScanComputerName,Status,Remade,\
\"Choice_1_1:Mayor, City:1:Vote For 1:Ann:NON\",\"Choice_2_1:Mayor, City:1:Vote For 1:Bob:NON\",\
\"Choice_1_1:Mayor, City:2:Vote For 1:Ann:NON\",\"Choice_2_1:Mayor, City:2:Vote For 1:Bob:NON\",\
Choice_3_1:Measure:1:Vote For 1:Yes:NON,Choice_4_1:Measure:1:Vote For 1:No:NON\n";

#[test]
fn clear_ballot_summary_counts_first_choices_contests_and_cards() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("cvr.csv");
    // Card 1: Ann then Bob, Yes. Card 2: Bob first, No. Card 3: rank 1 blank, Bob second
    // (one skipped rank: Bob's), the measure not on the card. Card 4: Ann and Bob at
    // rank 1 (an overvote), Yes.
    fs::write(
        &path,
        format!(
            "{HEADER}1,B1,1,B1+1,7,1,P7,S1,0,0,1,0,0,1,1,0\n\
2,B1,2,B1+2,7,1,P7,S1,0,0,0,1,0,0,0,1\n\
3,B1,3,B1+3,7,1,P7,S1,0,0,0,0,0,1,,\n\
4,B1,4,B1+4,7,1,P7,S1,0,0,1,1,0,0,1,0\n"
        ),
    )
    .expect("write");
    let out =
        bin().args(["--json", "audit", "cvr", "--format", "clear-ballot"]).arg(&path).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let export = &v[0];
    assert_eq!(export["cards"], 4);
    assert_eq!(export["malformed_rows"], 0);
    let mayor = &export["contests"][0];
    assert_eq!(mayor["contest"], "Mayor, City");
    assert_eq!(mayor["cards"], 4);
    assert_eq!(mayor["ranks"], 2);
    assert_eq!(mayor["first_round"]["tally"]["Ann"], 1);
    assert_eq!(mayor["first_round"]["tally"]["Bob"], 2);
    assert_eq!(mayor["first_round"]["overvotes"], 1);
    let measure = &export["contests"][1];
    assert_eq!(measure["cards"], 3);
    assert_eq!(measure["first_round"]["tally"]["Yes"], 2);
    assert_eq!(measure["first_round"]["tally"]["No"], 1);

    // A bad cell: the command names the file, line and column, and fails.
    fs::write(
        &path,
        format!("{HEADER}1,B1,1,B1+1,7,1,P7,S1,0,0,1,0,0,1,1,0\n2,B1,2,B1+2,7,1,P7,S1,0,0,0,7,0,0,0,1\n"),
    )
    .expect("write");
    let out = bin().args(["audit", "cvr", "--format", "clear-ballot"]).arg(&path).output().expect("run");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .contains(&format!("{}:3: field 'Choice_2_1:Mayor, City:1:Vote For 1:Bob:NON'", path.display())),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 malformed rows"));
}

#[test]
fn ess_workbook_with_rctab_config_matches_rctab_round_one() {
    let out = bin()
        .args(["--json", "audit", "cvr", "--format", "ess"])
        .arg(rctab("2015_portland_mayor/2015_portland_mayor_cvr.xlsx"))
        .arg("--rctab-config")
        .arg(rctab("2015_portland_mayor/2015_portland_mayor_config.json"))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let report: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(rctab("2015_portland_mayor/2015_portland_mayor_expected_detailed_report.json"))
            .expect("report"),
    )
    .expect("report JSON");
    let ours = &v[0]["contests"][0];
    assert_eq!(
        ours["cards"].as_u64(),
        report["summary"]["totalNumBallots"].as_str().and_then(|s| s.parse().ok())
    );
    for (cand, votes) in report["results"][0]["tally"].as_object().expect("tally") {
        let want: u64 = votes.as_str().expect("string").parse().expect("number");
        assert_eq!(ours["first_round"]["tally"][cand].as_u64().unwrap_or(0), want, "{cand}");
    }
    let elected = report["results"].as_array().expect("rounds").iter().find_map(|r| {
        r["tallyResults"].as_array()?.iter().find_map(|t| t["elected"].as_str().map(str::to_owned))
    });
    assert_eq!(ours["irv_winner"].as_str().map(str::to_owned), elected);
}

#[test]
fn hart_folder_reads_every_card_file() {
    let out = bin()
        .args(["audit", "cvr", "--format", "hart"])
        .arg(rctab("_shared/hart_cvr_archive"))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let files = fs::read_dir(rctab("_shared/hart_cvr_archive")).expect("dir").count();
    assert!(text.contains(&format!("files={files} ")), "{text}");
    assert!(text.contains("contest \"CEDAR PARK SCHOOL BOARD\""), "{text}");
}

#[test]
fn comparison_audit_takes_a_clear_ballot_jurisdiction_through_the_format_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let mut text = String::from(
        "RowNumber,BoxID,BoxPosition,BallotID,PrecinctID,BallotStyleID,PrecinctStyleName,ScanComputerName,Status,Remade,\
Choice_1_1:Mayor:1:Vote For 1:Ann:NON,Choice_2_1:Mayor:1:Vote For 1:Bob:NON\n",
    );
    // Two boxes of 20 cards, Ann on 7 cards in 10: 28 against 12, margin 16 over 40 cards.
    let mut n = 0;
    for b in ["B1", "B2"] {
        for p in 1..=20 {
            n += 1;
            let ann = u8::from(n % 10 < 7);
            text.push_str(&format!("{n},{b},{p},{b}+{p},1,1,P1,S1,0,0,{ann},{}\n", 1 - ann));
        }
    }
    fs::write(d.join("cvr.csv"), text).expect("w");
    fs::write(d.join("manifest.csv"), "Batch,Number of Ballots,Container\nB1,20,Shelf 1\nB2,20,Shelf 2\n")
        .expect("w");
    fs::write(d.join("j.csv"), "jurisdiction,manifest,cvr,format\nKing,manifest.csv,cvr.csv,clear-ballot\n")
        .expect("w");
    let run = |args: &[&str]| {
        let out = bin().current_dir(d).args(args).output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["audit", "comparison", "start", "--jurisdictions", "j.csv", "--out", "a.json"]);
    run(&["audit", "comparison", "seed", "--audit", "a.json", "--seed", "12345", "--rolled-by", "R"]);
    run(&["audit", "comparison", "draw", "--audit", "a.json", "--retrieval-dir", "lists"]);
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("a.json")).expect("state")).expect("json");
    assert_eq!(state["jurisdictions"][0]["cvr_format"], "clear-ballot");
    let mayor = &state["contests"][0];
    assert_eq!(mayor["min_margin"], 16);
    assert_eq!(mayor["universe_cards"], 40);
    let list = crate::util::csv_maps(&d.join("lists/round-1-retrieval.csv"));
    assert!(!list.is_empty());
    for r in &list {
        assert!(r["batch"] == "B1" || r["batch"] == "B2", "{r:?}");
        let p: u64 = r["position"].parse().expect("position");
        assert!((1..=20).contains(&p));
    }

    // An unknown layout names the file, line and field.
    fs::write(d.join("j.csv"), "jurisdiction,manifest,cvr,format\nKing,manifest.csv,cvr.csv,sequoia\n")
        .expect("w");
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "start", "--jurisdictions", "j.csv", "--out", "b.json"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("j.csv:2: field 'format'"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A NIST SP 1500-103 CDF JSON report of one plurality contest (Mayor: Ann, Bob), one
/// `CVR` per card with its batch and sequence, written in the schema's layout.
fn cdf_report(cards: &[(&str, u64, Option<&str>)]) -> serde_json::Value {
    let cvrs: Vec<serde_json::Value> = cards
        .iter()
        .enumerate()
        .map(|(i, (batch, seq, choice))| {
            let selections: Vec<serde_json::Value> = choice
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "@type": "CVR.CVRContestSelection",
                        "ContestSelectionId": format!("cs-{c}"),
                        "SelectionPosition": [{
                            "@type": "CVR.SelectionPosition",
                            "HasIndication": "yes",
                            "IsAllocable": "yes",
                            "NumberVotes": 1
                        }]
                    })
                })
                .collect();
            serde_json::json!({
                "@type": "CVR.CVR",
                "BallotPrePrintedId": format!("{}", i + 1),
                "BatchId": batch,
                "BatchSequenceId": seq,
                "CurrentSnapshotId": format!("snap-{}", i + 1),
                "CVRSnapshot": [{
                    "@id": format!("snap-{}", i + 1),
                    "@type": "CVR.CVRSnapshot",
                    "Type": "original",
                    "CVRContest": [{
                        "@type": "CVR.CVRContest",
                        "ContestId": "contest-mayor",
                        "CVRContestSelection": selections
                    }]
                }],
                "ElectionId": "election-1"
            })
        })
        .collect();
    serde_json::json!({
        "@type": "CVR.CastVoteRecordReport",
        "Version": "1.0.0",
        "GeneratedDate": "2026-11-03T21:00:00-07:00",
        "ReportGeneratingDeviceIds": ["rd-1"],
        "ReportingDevice": [{"@id": "rd-1", "@type": "CVR.ReportingDevice", "Application": "test"}],
        "GpUnit": [{"@id": "gpu-1", "@type": "CVR.GpUnit", "Name": "King", "Type": "county"}],
        "Election": [{
            "@id": "election-1",
            "@type": "CVR.Election",
            "ElectionScopeId": "gpu-1",
            "Candidate": [
                {"@id": "cand-ann", "@type": "CVR.Candidate", "Name": "Ann"},
                {"@id": "cand-bob", "@type": "CVR.Candidate", "Name": "Bob"}
            ],
            "Contest": [{
                "@id": "contest-mayor",
                "@type": "CVR.CandidateContest",
                "Name": "Mayor",
                "VotesAllowed": 1,
                "ContestSelection": [
                    {"@id": "cs-ann", "@type": "CVR.CandidateSelection", "CandidateIds": ["cand-ann"]},
                    {"@id": "cs-bob", "@type": "CVR.CandidateSelection", "CandidateIds": ["cand-bob"]}
                ]
            }]
        }],
        "CVR": cvrs
    })
}

#[test]
fn comparison_audit_takes_a_nist_cdf_jurisdiction_through_the_format_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    // Two batches of 20 cards, Ann on 7 cards in 10, the last card of each blank.
    let mut cards = Vec::new();
    let mut n = 0;
    for b in ["B1", "B2"] {
        for p in 1..=20u64 {
            n += 1;
            let choice = if n % 20 == 0 {
                None
            } else if n % 10 < 7 {
                Some("ann")
            } else {
                Some("bob")
            };
            cards.push((b, p, choice));
        }
    }
    let (ann, bob) = cards.iter().fold((0, 0), |(a, b), c| match c.2 {
        Some("ann") => (a + 1, b),
        Some(_) => (a, b + 1),
        None => (a, b),
    });
    fs::write(d.join("cvr.json"), serde_json::to_string_pretty(&cdf_report(&cards)).expect("json"))
        .expect("w");
    fs::write(d.join("manifest.csv"), "Batch,Number of Ballots,Container\nB1,20,Shelf 1\nB2,20,Shelf 2\n")
        .expect("w");
    fs::write(d.join("j.csv"), "jurisdiction,manifest,cvr,format\nKing,manifest.csv,cvr.json,nist-cdf\n")
        .expect("w");
    let run = |args: &[&str]| {
        let out = bin().current_dir(d).args(args).output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    };
    run(&["audit", "comparison", "start", "--jurisdictions", "j.csv", "--out", "a.json"]);
    run(&["audit", "comparison", "seed", "--audit", "a.json", "--seed", "12345", "--rolled-by", "R"]);
    run(&["audit", "comparison", "draw", "--audit", "a.json", "--retrieval-dir", "lists"]);
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("a.json")).expect("state")).expect("json");
    assert_eq!(state["jurisdictions"][0]["cvr_format"], "nist-cdf");
    let mayor = &state["contests"][0];
    assert_eq!(mayor["min_margin"], ann - bob);
    assert_eq!(mayor["universe_cards"], 40);
    let list = crate::util::csv_maps(&d.join("lists/round-1-retrieval.csv"));
    assert!(!list.is_empty());
    for r in &list {
        assert!(r["batch"] == "B1" || r["batch"] == "B2", "{r:?}");
        let p: u64 = r["position"].parse().expect("position");
        assert!((1..=20).contains(&p));
    }

    // `audit cvr` reads the same report: the tally is the cards' choices.
    let out = run(&["--json", "audit", "cvr", "--format", "nist-cdf", "cvr.json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let tally = &v[0]["contests"][0]["first_round"]["tally"];
    assert_eq!(tally["Ann"], ann);
    assert_eq!(tally["Bob"], bob);
    let blank = cards.iter().filter(|c| c.2.is_none()).count();
    assert_eq!(v[0]["contests"][0]["first_round"]["undervotes"], blank);

    // A card naming a selection the contest does not declare is listed with its line
    // and field, and the command fails.
    let mut broken = cdf_report(&cards);
    broken["CVR"][5]["CVRSnapshot"][0]["CVRContest"][0]["CVRContestSelection"][0]["ContestSelectionId"] =
        "cs-carol".into();
    let text = serde_json::to_string_pretty(&broken).expect("json");
    // The line named is the one opening card 6's record (the nearest a JSON reader
    // keeping no positions can name): the last `{` before its id.
    let id_at = text.find("\"BallotPrePrintedId\": \"6\"").expect("card 6");
    let open = text[..id_at].rfind('{').expect("record");
    let record_line = 1 + text[..open].matches('\n').count();
    fs::write(d.join("broken.json"), &text).expect("w");
    let out = bin()
        .current_dir(d)
        .args(["audit", "cvr", "--format", "nist-cdf", "broken.json"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .contains(&format!("broken.json:{record_line}: field 'CVRContestSelection/ContestSelectionId'"))
            && stdout.contains("cs-carol"),
        "{stdout}"
    );
}

#[test]
fn nist_cdf_xml_with_rctab_config_matches_rctab_report() {
    let out = bin()
        .args(["--json", "audit", "cvr", "--format", "nist-cdf"])
        .arg(rctab("nist_xml_cdf_2/nist_xml_cdf_2.xml"))
        .arg("--rctab-config")
        .arg(rctab("nist_xml_cdf_2/nist_xml_cdf_2_config.json"))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let report: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(rctab("nist_xml_cdf_2/nist_xml_cdf_2_expected_detailed_report.json"))
            .expect("report"),
    )
    .expect("report JSON");
    let ours = &v[0]["contests"][0];
    assert_eq!(
        ours["cards"].as_u64(),
        report["summary"]["totalNumBallots"].as_str().and_then(|s| s.parse().ok())
    );
    let elected = report["results"].as_array().expect("rounds").iter().find_map(|r| {
        r["tallyResults"].as_array()?.iter().find_map(|t| t["elected"].as_str().map(str::to_owned))
    });
    // Every candidate ties at 0 votes: RCTab's random tie-breaks with the seed decide.
    assert_eq!(ours["irv_winner"].as_str().map(str::to_owned), elected);
    assert_eq!(
        ours["rctab_count"]["rounds"].as_array().map(Vec::len),
        report["results"].as_array().map(Vec::len)
    );
}

#[test]
fn comparison_audit_reads_a_jurisdiction_with_its_rctab_config() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    // The export writes candidate codes; the county's RCTab configuration names them.
    let mut text = String::from(
        "RowNumber,BoxID,BoxPosition,BallotID,PrecinctID,BallotStyleID,PrecinctStyleName,ScanComputerName,Status,Remade,\
Choice_1_1:Mayor:1:Vote For 1:ANN:NON,Choice_2_1:Mayor:1:Vote For 1:BOB:NON\n",
    );
    let mut ann = 0;
    for p in 1..=20u64 {
        let a = u64::from(p % 10 < 7);
        ann += a;
        text.push_str(&format!("{p},B1,{p},B1+{p},1,1,P1,S1,0,0,{a},{}\n", 1 - a));
    }
    fs::write(d.join("cvr.csv"), text).expect("w");
    fs::write(d.join("manifest.csv"), "Batch,Number of Ballots,Container\nB1,20,Shelf 1\n").expect("w");
    let config = |codes: &[(&str, &str)]| {
        let candidates: Vec<serde_json::Value> =
            codes.iter().map(|(name, code)| serde_json::json!({"name": name, "aliases": [code]})).collect();
        serde_json::json!({
            "outputSettings": {"contestName": "Mayor"},
            "cvrFileSources": [{"filePath": "cvr.csv", "provider": "clearBallot", "contestId": "Mayor"}],
            "candidates": candidates,
            "rules": {"tiebreakMode": "useCandidateOrder", "winnerElectionMode": "singleWinnerMajority"}
        })
        .to_string()
    };
    fs::write(d.join("rctab.json"), config(&[("Ann Lee", "ANN"), ("Bob Day", "BOB")])).expect("w");
    fs::write(
        d.join("j.csv"),
        "jurisdiction,manifest,cvr,format,rctab_config\nKing,manifest.csv,cvr.csv,clear-ballot,rctab.json\n",
    )
    .expect("w");
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "start", "--jurisdictions", "j.csv", "--out", "a.json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("a.json")).expect("state")).expect("json");
    let tallies = &state["contests"][0]["tallies"];
    assert_eq!(tallies["Ann Lee"], ann);
    assert_eq!(tallies["Bob Day"], 20 - ann);
    assert!(state["jurisdictions"][0]["rctab_config"][0].as_str().is_some_and(|p| p.ends_with("rctab.json")));
    // The draw checks the configuration is the one the audit started with.
    fs::write(d.join("rctab.json"), config(&[("Ann Lee", "ANN"), ("Robert Day", "BOB")])).expect("w");
    let run = |args: &[&str]| bin().current_dir(d).args(args).output().expect("run");
    assert!(
        run(&["audit", "comparison", "seed", "--audit", "a.json", "--seed", "1", "--rolled-by", "R"])
            .status
            .success()
    );
    let draw = run(&["audit", "comparison", "draw", "--audit", "a.json"]);
    assert!(!draw.status.success());
    let err = String::from_utf8_lossy(&draw.stderr);
    assert!(err.contains("rctab.json: SHA-256") && err.contains("the file changed"), "{err}");
    // A code the configuration does not declare names the file, line and field.
    fs::write(d.join("rctab.json"), config(&[("Ann Lee", "ANN")])).expect("w");
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "start", "--jurisdictions", "j.csv", "--out", "b.json"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cvr.csv:") && err.contains("BOB"), "{err}");
}
