//! `scrutineer audit batch ...`: a batch-comparison audit from reported batch tallies
//! written here, start to status, with the figures recomputed from MACRO's formulas.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::util::{csv_maps, scrutineer as bin, stderr_of};

const BATCHES: usize = 40;

/// Mayor (Ann 60, Bob 35 of 100 ballots) in every batch; Measure (Yes 30, No 20) in the
/// even ones.
fn reported(dir: &Path) {
    let mut t = String::from("batch,contest,choice,votes\n");
    let mut m = String::from("batch,ballots\n");
    for b in 0..BATCHES {
        t.push_str(&format!("B{b},Mayor,Ann,60\nB{b},Mayor,Bob,35\n"));
        if b.is_multiple_of(2) {
            t.push_str(&format!("B{b},Measure,Yes,30\nB{b},Measure,No,20\n"));
        }
        m.push_str(&format!("B{b},100\n"));
    }
    fs::write(dir.join("reported.csv"), t).expect("t");
    fs::write(dir.join("manifest.csv"), m).expect("m");
}

fn run(args: &[&str], dir: &Path) -> std::process::Output {
    bin().current_dir(dir).arg("--quiet").args(args).output().expect("run")
}

fn run_ok(args: &[&str], dir: &Path) -> String {
    let out = run(args, dir);
    assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn status(dir: &Path) -> serde_json::Value {
    let s = run_ok(&["--json", "audit", "batch", "status", "--audit", "audit.json"], dir);
    serde_json::from_str(&s).expect("json")
}

fn contest<'a>(st: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    st["contests"].as_array().expect("c").iter().find(|c| c["contest"] == name).expect(name)
}

/// U for Mayor: every batch (60 − 35 + 100) / (40 × 25).
fn mayor_u() -> f64 {
    BATCHES as f64 * 125.0 / (BATCHES as f64 * 25.0)
}

/// Hand tallies of the listed batches, Mayor's votes given by `mayor(batch)`.
fn hand(dir: &Path, file: &str, batches: &[String], mayor: impl Fn(&str) -> (u64, u64)) {
    let mut t = String::from("batch,contest,choice,votes\n");
    for b in batches {
        let (a, bob) = mayor(b);
        t.push_str(&format!("{b},Mayor,Ann,{a}\n{b},Mayor,Bob,{bob}\n"));
        let n: usize = b[1..].parse().expect("n");
        if n.is_multiple_of(2) {
            t.push_str(&format!("{b},Measure,Yes,30\n{b},Measure,No,20\n"));
        }
    }
    fs::write(dir.join(file), t).expect("hand");
}

#[test]
fn clean_round_meets_the_risk_limit_with_macros_figures() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    reported(dir);
    run_ok(
        &[
            "audit",
            "batch",
            "start",
            "--tallies",
            "reported.csv",
            "--manifest",
            "manifest.csv",
            "--seed",
            "12345678901234567890",
            "--risk-limit",
            "0.1",
            "--out",
            "audit.json",
        ],
        dir,
    );
    let st = status(dir);
    let mayor = contest(&st, "Mayor");
    let u = mayor_u();
    assert!((mayor["total_error_bound"].as_f64().expect("u") - u).abs() < 1e-12);
    let want = ((0.1f64).ln() / (1.0 - 1.0 / u).ln()).ceil() as u64 + 1;
    assert_eq!(mayor["next_round"].as_u64(), Some(want));
    assert_eq!(mayor["decision"], "continue");

    run_ok(&["audit", "batch", "draw", "--audit", "audit.json", "--out", "round-1.csv"], dir);
    let rows = csv_maps(&dir.join("round-1.csv"));
    let listed: Vec<String> = rows.iter().map(|r| r["batch"].clone()).collect();
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "each batch once");
    assert!(rows.iter().all(|r| r["ballots"] == "100" && r["round"] == "1"));
    // Mayor's draws are with replacement: the times drawn for it add up to its size.
    let mayor_draws: u64 = rows
        .iter()
        .filter(|r| r["contests"] == "Mayor")
        .map(|r| r["times_drawn"].parse::<u64>().expect("n"))
        .sum();
    assert!(mayor_draws <= want);
    // Measure batches are only the even ones.
    assert!(
        rows.iter().filter(|r| r["contests"].contains("Measure")).all(|r| r["batch"][1..]
            .parse::<u64>()
            .expect("b")
            % 2
            == 0)
    );

    // Recording before all are counted keeps the audit going; the next draw is refused.
    hand(dir, "first.csv", &listed[..1], |_| (60, 35));
    run_ok(&["audit", "batch", "record", "--audit", "audit.json", "--tallies", "first.csv"], dir);
    let out = run(&["audit", "batch", "draw", "--audit", "audit.json", "--out", "round-2.csv"], dir);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("has no hand tally yet"), "{}", stderr_of(&out));

    hand(dir, "board.csv", &listed, |_| (60, 35));
    run_ok(&["audit", "batch", "record", "--audit", "audit.json", "--tallies", "board.csv"], dir);
    let st = status(dir);
    let mayor = contest(&st, "Mayor");
    assert_eq!(mayor["decision"], "risk_limit_met");
    assert_eq!(mayor["tallied_draws"].as_u64(), Some(want));
    let risk = (1.0 - 1.0 / u).powi(want as i32);
    assert!((mayor["risk"].as_f64().expect("r") - risk).abs() < 1e-12);
    // Measure (Yes 600, No 400 in 20 batches): U = 20 × 110/200 = 11 asks for 26 draws,
    // more than its batches: a full hand count, which confirms it.
    assert_eq!(contest(&st, "Measure")["decision"], "hand_count_confirmed");
}

#[test]
fn an_overstated_margin_raises_the_risk_and_asks_for_more() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    reported(dir);
    run_ok(
        &[
            "audit",
            "batch",
            "start",
            "--tallies",
            "reported.csv",
            "--manifest",
            "manifest.csv",
            "--seed",
            "7",
            "--out",
            "audit.json",
        ],
        dir,
    );
    run_ok(&["audit", "batch", "draw", "--audit", "audit.json", "--out", "r1.csv"], dir);
    let listed: Vec<String> = csv_maps(&dir.join("r1.csv")).iter().map(|r| r["batch"].clone()).collect();
    // Every drawn batch in fact 50 to 45: 20 votes of margin lost, taint 20/125.
    hand(dir, "board.csv", &listed, |_| (50, 45));
    run_ok(&["audit", "batch", "record", "--audit", "audit.json", "--tallies", "board.csv"], dir);
    let st = status(dir);
    let mayor = contest(&st, "Mayor");
    let (u, n) = (mayor_u(), mayor["tallied_draws"].as_u64().expect("n") as i32);
    let risk = ((1.0 - 1.0 / u) / (1.0 - 20.0 / 125.0)).powi(n).min(1.0);
    assert!((mayor["risk"].as_f64().expect("r") - risk).abs() < 1e-12);
    assert_ne!(mayor["decision"], "risk_limit_met");
    assert!(mayor["next_round"].as_u64().expect("n") > 0 || mayor["decision"] == "full_hand_count");
    // A batch recorded again with other figures is refused, naming it.
    hand(dir, "again.csv", &listed[..1], |_| (60, 35));
    let out = run(&["audit", "batch", "record", "--audit", "audit.json", "--tallies", "again.csv"], dir);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains(&format!("batch '{}' was already recorded", listed[0])),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn malformed_rows_are_reported_with_file_and_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    reported(dir);
    let start = |tallies: &str| {
        run(
            &[
                "audit",
                "batch",
                "start",
                "--tallies",
                tallies,
                "--manifest",
                "manifest.csv",
                "--seed",
                "1",
                "--out",
                "audit.json",
            ],
            dir,
        )
    };
    let good = fs::read_to_string(dir.join("reported.csv")).expect("r");
    let mut lines: Vec<&str> = good.lines().collect();
    lines[3] = "B1,Mayor,Ann,sixty";
    fs::write(dir.join("bad-votes.csv"), lines.join("\n")).expect("w");
    let e = stderr_of(&start("bad-votes.csv"));
    assert!(e.contains("bad-votes.csv:4") && e.contains("votes"), "{e}");

    fs::write(dir.join("dup.csv"), format!("{good}B3,Mayor,Ann,1\n")).expect("w");
    let e = stderr_of(&start("dup.csv"));
    assert!(e.contains(&format!("dup.csv:{}", good.lines().count() + 1)) && e.contains("twice"), "{e}");

    fs::write(dir.join("stray.csv"), format!("{good}Z9,Mayor,Ann,1\n")).expect("w");
    let e = stderr_of(&start("stray.csv"));
    assert!(e.contains("stray.csv:") && e.contains("'Z9' is not in the ballot manifest"), "{e}");

    assert!(start("reported.csv").status.success());
    run_ok(&["audit", "batch", "draw", "--audit", "audit.json", "--out", "r1.csv"], dir);
    let drawn: BTreeSet<String> = csv_maps(&dir.join("r1.csv")).iter().map(|r| r["batch"].clone()).collect();
    let not_drawn =
        (0..BATCHES).map(|b| format!("B{b}")).find(|b| !drawn.contains(b)).expect("one not drawn");
    fs::write(dir.join("hand.csv"), format!("batch,contest,choice,votes\n{not_drawn},Mayor,Ann,60\n"))
        .expect("w");
    let out = run(&["audit", "batch", "record", "--audit", "audit.json", "--tallies", "hand.csv"], dir);
    let e = stderr_of(&out);
    assert!(!out.status.success() && e.contains("hand.csv:2") && e.contains("was not drawn"), "{e}");
    let first = drawn.iter().next().expect("drawn");
    fs::write(dir.join("hand2.csv"), format!("batch,contest,choice,votes\n{first},Mayor,Eve,3\n"))
        .expect("w");
    let e = stderr_of(&run(
        &["audit", "batch", "record", "--audit", "audit.json", "--tallies", "hand2.csv"],
        dir,
    ));
    assert!(e.contains("hand2.csv:2") && e.contains("choice 'Eve'"), "{e}");
    // 101 votes in a batch of 100 ballots (vote for one) is a miscount, not a tally.
    fs::write(
        dir.join("hand3.csv"),
        format!("batch,contest,choice,votes\n{first},Mayor,Ann,66\n{first},Mayor,Bob,35\n"),
    )
    .expect("w");
    let e = stderr_of(&run(
        &["audit", "batch", "record", "--audit", "audit.json", "--tallies", "hand3.csv"],
        dir,
    ));
    assert!(e.contains("hand3.csv:2") && e.contains("101 votes counted"), "{e}");
}
