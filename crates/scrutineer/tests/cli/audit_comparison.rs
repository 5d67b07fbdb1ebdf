//! `scrutineer audit comparison ...`: a ballot-comparison audit of two counties from
//! Dominion CSV exports and manifests written here, start to report.

use std::fs;
use std::path::Path;

use crate::util::{csv_maps, scrutineer as bin, stderr_of};

/// A Dominion CSV export: one statewide contest (Ann, Bob) on every card, a county
/// contest (Yes, No) on every other card. `votes[i]` is card i's statewide choice.
fn dominion_csv(votes: &[Option<usize>], batch_size: usize) -> String {
    let mut s = String::new();
    s.push_str("\"Test Election\",\"5.2\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n");
    s.push_str("\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"Governor (Vote For=1)\",\"Governor (Vote For=1)\",\"Measure 1 (Vote For=1)\",\"Measure 1 (Vote For=1)\"\n");
    s.push_str("\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"Ann\",\"Bob\",\"Yes\",\"No\"\n");
    s.push_str("\"CvrNumber\",\"TabulatorNum\",\"BatchId\",\"RecordId\",\"ImprintedId\",\"CountingGroup\",\"PrecinctPortion\",\"BallotType\",\"DEM\",\"REP\",\"\",\"\"\n");
    for (i, v) in votes.iter().enumerate() {
        let batch = i / batch_size + 1;
        let rec = i % batch_size + 1;
        let gov = match v {
            Some(0) => "\"1\",\"0\"",
            Some(_) => "\"0\",\"1\"",
            None => "\"0\",\"0\"",
        };
        let measure =
            if i % 2 == 0 { if i % 3 == 0 { "\"0\",\"1\"" } else { "\"1\",\"0\"" } } else { "\"\",\"\"" };
        s.push_str(&format!(
            "=\"{}\",=\"7\",=\"{batch}\",=\"{rec}\",=\"7-{batch}-{rec}\",=\"Mail\",=\"P1\",=\"1\",{gov},{measure}\n",
            i + 1
        ));
    }
    s
}

fn manifest(cards: usize, batch_size: usize) -> String {
    let mut s = String::from("CountyID,ScannerID,BatchID,NumBallots,StorageLocation\n");
    let batches = cards.div_ceil(batch_size);
    for b in 0..batches {
        let n = batch_size.min(cards - b * batch_size);
        s.push_str(&format!("X,7,{},{n},Bin {}\n", b + 1, b / 3 + 1));
    }
    s
}

fn votes(cards: usize, ann_per_10: usize) -> Vec<Option<usize>> {
    (0..cards)
        .map(|i| {
            if i % 10 < ann_per_10 {
                Some(0)
            } else if i % 10 == 9 {
                None
            } else {
                Some(1)
            }
        })
        .collect()
}

/// Two counties written into `dir`; returns the jurisdictions file.
fn two_counties(dir: &Path) -> std::path::PathBuf {
    for (name, cards) in [("Adams", 600), ("Baca", 300)] {
        fs::write(dir.join(format!("{name}-cvr.csv")), dominion_csv(&votes(cards, 7), 50)).expect("cvr");
        fs::write(dir.join(format!("{name}-manifest.csv")), manifest(cards, 50)).expect("manifest");
    }
    let j = dir.join("jurisdictions.csv");
    fs::write(
        &j,
        "jurisdiction,manifest,cvr\nAdams,Adams-manifest.csv,Adams-cvr.csv\nBaca,Baca-manifest.csv,Baca-cvr.csv\n",
    )
    .expect("j");
    j
}

fn run_ok(args: &[&str], dir: &Path) -> String {
    let out = bin().current_dir(dir).arg("--quiet").args(args).output().expect("run");
    assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn comparison_audit_runs_start_to_report_across_two_counties() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    two_counties(d);
    run_ok(
        &[
            "audit",
            "comparison",
            "start",
            "--jurisdictions",
            "jurisdictions.csv",
            "--risk-limit",
            "0.05",
            "--target",
            "Governor",
            "--out",
            "audit.json",
        ],
        d,
    );
    // Drawing before the seed ceremony is refused.
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "draw", "--audit", "audit.json"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("seed"), "{}", stderr_of(&out));
    run_ok(
        &[
            "audit",
            "comparison",
            "seed",
            "--audit",
            "audit.json",
            "--seed",
            "01234567890123456789",
            "--rolled-by",
            "R. Roller",
            "--witness",
            "W. Witness",
            "--at",
            "2024-11-20T09:30:00Z",
        ],
        d,
    );
    run_ok(
        &[
            "audit",
            "comparison",
            "draw",
            "--audit",
            "audit.json",
            "--boards",
            "2",
            "--retrieval-dir",
            "lists",
        ],
        d,
    );

    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("audit.json")).expect("state")).expect("json");
    assert_eq!(state["version"], 1);
    assert_eq!(state["seed"]["rolled_by"][0], "R. Roller");
    assert_eq!(state["seed"]["at"], "2024-11-20T09:30:00Z");
    let gov = state["contests"]
        .as_array()
        .expect("contests")
        .iter()
        .find(|c| c["name"] == "Governor")
        .expect("gov");
    // 900 cards; Ann 7 in 10, Bob 2 in 10: margin 450 over 900 cards.
    assert_eq!(gov["min_margin"], 450);
    assert_eq!(gov["universe_cards"], 900);
    assert_eq!(gov["jurisdictions"], serde_json::json!(["Adams", "Baca"]));
    let drawn = state["cards"].as_array().expect("cards").len();

    // Retrieval list: every drawn card once, per county sorted by container, tabulator, batch, position.
    let list = csv_maps(&d.join("lists/round-1-retrieval.csv"));
    assert_eq!(list.len(), drawn);
    let key = |r: &std::collections::HashMap<String, String>| {
        (
            r["jurisdiction"].clone(),
            r["container"].clone(),
            r["batch"].parse::<u64>().expect("b"),
            r["position"].parse::<u64>().expect("p"),
        )
    };
    let keys: Vec<_> = list.iter().map(key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let html = fs::read_to_string(d.join("lists/round-1-retrieval.html")).expect("html");
    assert!(html.contains("Adams") && html.contains("Baca") && html.contains("Board 2"));

    // The boards read every card as its CVR says, except one Ann card read as Bob.
    run_ok(&["audit", "comparison", "form", "--audit", "audit.json", "--out", "form.csv"], d);
    let cvr_of: std::collections::HashMap<String, serde_json::Value> = state["cards"]
        .as_array()
        .expect("cards")
        .iter()
        .map(|c| {
            (
                format!("{}/{}/{}", c["jurisdiction"].as_str().unwrap_or(""), c["batch"], c["position"]),
                c["cvr"].clone(),
            )
        })
        .collect();
    let mut readings =
        String::from("jurisdiction,audit_board,tabulator,batch,position,found,contest,choice\n");
    let mut flipped = false;
    for r in csv_maps(&d.join("form.csv")) {
        let key = format!("{}/\"{}\"/{}", r["jurisdiction"], r["batch"], r["position"]);
        let mut choices: Vec<String> = cvr_of[&key][&r["contest"]]
            .as_array()
            .expect("choices")
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_owned())
            .collect();
        if !flipped && r["contest"] == "Governor" && choices == ["Ann"] {
            choices = vec!["Bob".into()];
            flipped = true;
        }
        if choices.is_empty() {
            choices.push(String::new());
        }
        for c in choices {
            readings.push_str(&format!(
                "{},{},7,{},{},yes,{},{c}\n",
                r["jurisdiction"], r["audit_board"], r["batch"], r["position"], r["contest"]
            ));
        }
    }
    assert!(flipped);
    fs::write(d.join("readings.csv"), readings).expect("w");
    run_ok(&["audit", "comparison", "record", "--audit", "audit.json", "--readings", "readings.csv"], d);
    let status: serde_json::Value = serde_json::from_str(&run_ok(
        &["--json", "audit", "comparison", "status", "--audit", "audit.json"],
        d,
    ))
    .expect("json");
    let g = status["contests"].as_array().expect("c").iter().find(|c| c["contest"] == "Governor").expect("g");
    let o2 = g["discrepancies"]["o2"].as_u64().expect("o2");
    let examined = g["examined"].as_u64().expect("n");
    assert!(o2 <= 1 && examined > 0);
    assert_eq!(status["jurisdictions"][0]["read"], status["jurisdictions"][0]["drawn"]);

    // The report carries Colorado's contest.csv columns, and `audit replay` agrees with its sizes.
    run_ok(&["audit", "comparison", "report", "--audit", "audit.json", "--out", "contest.csv"], d);
    let text = fs::read_to_string(d.join("contest.csv")).expect("report");
    assert_eq!(
        text.lines().next().expect("header"),
        "contest_name,audit_reason,random_audit_status,winners_allowed,ballot_card_count,contest_ballot_card_count,winners,min_margin,risk_limit,audited_sample_count,two_vote_over_count,one_vote_over_count,one_vote_under_count,two_vote_under_count,disagreement_count,other_count,gamma,overstatements,optimistic_samples_to_audit,estimated_samples_to_audit"
    );
    let rows = csv_maps(&d.join("contest.csv"));
    let gov = rows.iter().find(|r| r["contest_name"] == "Governor").expect("gov");
    assert_eq!(gov["audit_reason"], "state_wide_contest");
    assert_eq!(gov["winners"], "\"Ann\"");
    assert_eq!(gov["two_vote_over_count"], o2.to_string());
    assert_eq!(gov["audited_sample_count"], examined.to_string());
    let measure = rows.iter().find(|r| r["contest_name"] == "Measure 1").expect("measure");
    assert_eq!(measure["audit_reason"], "opportunistic_benefits");
    let out = bin()
        .current_dir(d)
        .args(["audit", "replay", "--format", "colorado-contest", "contest.csv", "--out", "replay.csv"])
        .output()
        .expect("replay");
    assert!(stderr_of(&out).contains("2 of 2 published rows match"), "{}", stderr_of(&out));

    // If the misread was sampled, the next round grows (Colorado's estimate); else the audit stopped.
    if o2 == 1 {
        assert_eq!(g["decision"], "continue");
        run_ok(&["audit", "comparison", "draw", "--audit", "audit.json"], d);
        let after: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(d.join("audit.json")).expect("s")).expect("j");
        assert!(after["cards"].as_array().expect("c").len() > drawn);
    } else {
        assert_eq!(g["decision"], "stop");
    }
}

#[test]
fn comparison_audit_errors_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    two_counties(d);
    // A manifest whose batch count disagrees with the CVR file: a card beyond the batch,
    // then a batch with a card that has no CVR.
    fs::write(d.join("Baca-manifest.csv"), manifest(300, 50).replacen(",50,Bin 1", ",49,Bin 1", 1))
        .expect("w");
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "start", "--jurisdictions", "jurisdictions.csv", "--out", "a.json"])
        .output()
        .expect("run");
    assert!(
        stderr_of(&out).contains("Baca: card 7-1-50 has record id 50, outside batch 7/1's 49 cards"),
        "{}",
        stderr_of(&out)
    );
    fs::write(d.join("Baca-manifest.csv"), manifest(300, 50).replacen(",50,Bin 1", ",51,Bin 1", 1))
        .expect("w");
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "start", "--jurisdictions", "jurisdictions.csv", "--out", "a.json"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("Baca: tabulator 7 batch 1: manifest 51 cards, CVR file 50 records"),
        "{}",
        stderr_of(&out)
    );
    fs::write(d.join("Baca-manifest.csv"), manifest(300, 50)).expect("w");

    run_ok(&["audit", "comparison", "start", "--jurisdictions", "jurisdictions.csv", "--out", "a.json"], d);
    run_ok(&["audit", "comparison", "seed", "--audit", "a.json", "--seed", "5", "--rolled-by", "R"], d);
    run_ok(&["audit", "comparison", "draw", "--audit", "a.json"], d);
    // The next round waits for every drawn card to be read.
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "draw", "--audit", "a.json"])
        .output()
        .expect("run");
    assert!(!out.status.success() && stderr_of(&out).contains("not read yet"), "{}", stderr_of(&out));
    // A second seed ceremony after a draw is refused.
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "seed", "--audit", "a.json", "--seed", "6", "--rolled-by", "R"])
        .output()
        .expect("run");
    assert!(!out.status.success() && stderr_of(&out).contains("cannot change"), "{}", stderr_of(&out));

    // Readings: a bad position and a card not drawn name the file and line.
    fs::write(
        d.join("r.csv"),
        "jurisdiction,tabulator,batch,position,contest,choice\nAdams,7,1,one,Governor,Ann\n",
    )
    .expect("w");
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "record", "--audit", "a.json", "--readings", "r.csv"])
        .output()
        .expect("run");
    assert!(stderr_of(&out).contains("r.csv:2: field 'position'"), "{}", stderr_of(&out));
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("a.json")).expect("s")).expect("j");
    let drawn: std::collections::HashSet<String> = state["cards"]
        .as_array()
        .expect("c")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or("").to_owned())
        .collect();
    let free = (1..=50).find(|p| !drawn.contains(&format!("Adams/7/1-{p}"))).expect("an undrawn card");
    fs::write(
        d.join("r.csv"),
        format!("jurisdiction,tabulator,batch,position,contest,choice\nAdams,7,1,{free},Governor,Ann\n"),
    )
    .expect("w");
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "record", "--audit", "a.json", "--readings", "r.csv"])
        .output()
        .expect("run");
    assert!(
        stderr_of(&out).contains(&format!("r.csv:2: card Adams/7/1-{free} was not drawn")),
        "{}",
        stderr_of(&out)
    );

    // A CVR file changed after the start is refused at the next draw, by name.
    let mut cvr = fs::read_to_string(d.join("Adams-cvr.csv")).expect("cvr");
    cvr.push('\n');
    fs::write(d.join("Adams-cvr.csv"), cvr).expect("w");
    let out = bin()
        .current_dir(d)
        .args(["audit", "comparison", "draw", "--audit", "a.json", "--size", "Governor=400"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("Adams-cvr.csv: SHA-256"), "{}", stderr_of(&out));
}
