//! End-to-end tests of `scrutineer audit ...` on fixtures written here.

use std::fs;

use crate::util::scrutineer as bin;

#[test]
fn replay_writes_contract_header_and_rows_in_input_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("contest.csv");
    // Two rows in Colorado's layout: one without discrepancies, one with a two-vote
    // overstatement. Expected figures worked out by hand from the formula:
    // ⌈2·1.03905·ln(1/0.04)/(145890/239425)⌉ = ⌈10.98⌉ = 11;
    // ⌈2·1.03905·(ln 25 − ln(1 − 1/1.03905))/(3635/208445)⌉ = ⌈774.6⌉ = 775.
    fs::write(
        &input,
        "contest_name,audit_reason,random_audit_status,winners_allowed,ballot_card_count,contest_ballot_card_count,winners,min_margin,risk_limit,audited_sample_count,two_vote_over_count,one_vote_over_count,one_vote_under_count,two_vote_under_count,disagreement_count,other_count,gamma,overstatements,optimistic_samples_to_audit,estimated_samples_to_audit\n\
Zeta Issue,opportunistic_benefits,in_progress,1,239425,239056,\"\"\"Yes/For\"\"\",145890,0.04000000,0,0,0,0,0,0,0,1.03905000,0,11,11\n\
\"Alpha, Question\",county_wide_contest,in_progress,1,208445,63084,\"\"\"No\"\"\",3635,0.04000000,385,1,0,0,0,0,0,1.03905000,0,775,775\n",
    )
    .expect("write");
    let out = dir.path().join("out.csv");
    bin()
        .args(["--quiet", "audit", "replay", "--format", "colorado-contest"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = fs::read_to_string(&out).expect("out");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "contest_name,optimistic_samples_to_audit,estimated_samples_to_audit");
    assert_eq!(lines[1], "Zeta Issue,11,11");
    assert_eq!(lines[2], "\"Alpha, Question\",775,775");
    assert_eq!(lines.len(), 3);
}

#[test]
fn replay_names_file_line_and_field_on_bad_input() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("bad.csv");
    fs::write(
        &input,
        "contest_name,ballot_card_count,min_margin,risk_limit,gamma,two_vote_over_count,one_vote_over_count,one_vote_under_count,two_vote_under_count\nX,100,ten,0.1,1.03905,0,0,0,0\n",
    )
    .expect("write");
    let out = dir.path().join("out.csv");
    bin()
        .args(["audit", "replay", "--format", "colorado-contest"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicates::str::contains("bad.csv:2: field 'min_margin'"));
}

#[test]
fn sample_reproduces_rivest_vector_and_polling_audit_runs_to_a_decision() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = dir.path().join("manifest.csv");
    fs::write(&manifest, "Batch Name,Number of Ballots\nA,3\nB,3\n").expect("w");
    let out = bin()
        .args(["audit", "sample", "--seed", "31415", "--size", "3", "--manifest"])
        .arg(&manifest)
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{}-{}", f[1], f[2])
        })
        .collect();
    // consistent_sampler.py docstring: seed 31415 over A-1..B-3 draws B-1, B-2, A-2 first.
    assert_eq!(ids, ["B-1", "B-2", "A-2"]);

    // A full little audit: 1,000 ballots, A reported 700 to B's 300.
    fs::write(&manifest, "Batch Name,Number of Ballots\nB1,500\nB2,500\n").expect("w");
    let results = dir.path().join("results.csv");
    fs::write(&results, "contest,candidate,votes\nMayor,A,700\nMayor,B,300\n").expect("w");
    let audit = dir.path().join("audit.json");
    bin()
        .args(["--quiet", "audit", "init", "--seed", "dice 1234", "--risk-limit", "0.1", "--results"])
        .arg(&results)
        .arg("--manifest")
        .arg(&manifest)
        .arg("--out")
        .arg(&audit)
        .assert()
        .success();
    bin().args(["--quiet", "audit", "sample", "--size", "40", "--audit"]).arg(&audit).assert().success();
    let a: serde_json::Value = serde_json::from_str(&fs::read_to_string(&audit).expect("a")).expect("json");
    let draws = a["draws"].as_array().expect("draws");
    assert_eq!(draws.len(), 40);
    // Interpretations: every drawn ballot shows a vote for A.
    let mut interp = String::from("batch,position,contest,choice\n");
    for d in draws {
        interp.push_str(&format!("{},{},Mayor,A\n", d["batch"].as_str().expect("b"), d["position"]));
    }
    let ip = dir.path().join("interp.csv");
    fs::write(&ip, &interp).expect("w");
    bin()
        .args(["--quiet", "audit", "record", "--audit"])
        .arg(&audit)
        .arg("--interpretations")
        .arg(&ip)
        .assert()
        .success();
    let out = bin().args(["--json", "audit", "status", "--audit"]).arg(&audit).output().expect("run");
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status json");
    assert_eq!(st[0]["decision"], "stop");
    assert!(st[0]["measured_risk"].as_f64().expect("risk") <= 0.1);

    // The same sample read as votes for B: the audit must not stop.
    fs::write(&ip, interp.replace(",Mayor,A", ",Mayor,B")).expect("w");
    bin()
        .args(["--quiet", "audit", "record", "--audit"])
        .arg(&audit)
        .arg("--interpretations")
        .arg(&ip)
        .assert()
        .success();
    let out = bin().args(["--json", "audit", "status", "--audit"]).arg(&audit).output().expect("run");
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status json");
    assert_eq!(st[0]["decision"], "continue");
    assert_eq!(st[0]["measured_risk"].as_f64(), Some(1.0));
}

#[test]
fn estimate_prints_bravo_and_comparison_grids() {
    let out = bin()
        .args([
            "--json",
            "audit",
            "estimate",
            "--margins",
            "0.1",
            "--risk-limits",
            "0.1",
            "--method",
            "bravo",
        ])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // LSY ASN formula for a 55%–45% contest at a 10% risk limit.
    assert_eq!(v[0]["sample_size"], 470);
    let out = bin()
        .args([
            "--json",
            "audit",
            "estimate",
            "--margins",
            "0.2",
            "--risk-limits",
            "0.1",
            "--method",
            "comparison",
        ])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // ⌈2·1.03905·ln 10 / 0.2⌉ = ⌈23.92⌉ = 24.
    assert_eq!(v[0]["sample_size"], 24);
}

#[test]
fn minerva_audit_runs_round_by_round_with_the_next_rounds_sizes() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = dir.path().join("manifest.csv");
    fs::write(&manifest, "Batch Name,Number of Ballots\nB1,500\nB2,500\n").expect("w");
    let results = dir.path().join("results.csv");
    fs::write(&results, "contest,candidate,votes\nMayor,A,600\nMayor,B,400\n").expect("w");
    let audit = dir.path().join("audit.json");
    let init = |extra: &[&str]| {
        let mut c = bin();
        c.args(["--quiet", "audit", "init", "--seed", "dice 1234", "--method", "minerva", "--results"])
            .arg(&results)
            .arg("--manifest")
            .arg(&manifest)
            .arg("--out")
            .arg(&audit)
            .args(extra);
        c
    };
    init(&["--without-replacement"]).assert().failure().stderr(predicates::str::contains("with replacement"));
    init(&[]).assert().success();
    let record = |choice: &dyn Fn(usize) -> &'static str| {
        let a: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&audit).expect("a")).expect("json");
        let mut interp = String::from("batch,position,contest,choice\n");
        for (i, d) in a["draws"].as_array().expect("draws").iter().enumerate() {
            let line = format!("{},{},Mayor,{}\n", d["batch"].as_str().expect("b"), d["position"], choice(i));
            interp.push_str(&line);
        }
        let ip = dir.path().join("interp.csv");
        fs::write(&ip, &interp).expect("w");
        bin()
            .args(["--quiet", "audit", "record", "--audit"])
            .arg(&audit)
            .arg("--interpretations")
            .arg(&ip)
            .assert()
            .success();
    };
    let status = || {
        let out = bin().args(["--json", "audit", "status", "--audit"]).arg(&audit).output().expect("run");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("status json")
    };
    // Round 1: 40 draws, read as an even split.
    bin().args(["--quiet", "audit", "sample", "--size", "40", "--audit"]).arg(&audit).assert().success();
    record(&|i| if i % 2 == 0 { "A" } else { "B" });
    let st = status();
    assert_eq!(st[0]["decision"], "continue");
    assert_eq!(st[0]["rounds_measured"], 1);
    let next = st[0]["next_round"].as_array().expect("next round choices");
    assert_eq!(next.len(), 3);
    let size_09 = next[2]["total_draws"].as_u64().expect("a size");
    assert!(size_09 > 40 && next[2]["chance"].as_f64().expect("chance") >= 0.9);
    let text = bin().args(["audit", "status", "--audit"]).arg(&audit).output().expect("run");
    assert!(
        String::from_utf8_lossy(&text.stdout)
            .contains("round 2 sizes for stopping probability 0.7 / 0.8 / 0.9")
    );
    // Round 2 to the 90% size, read as votes for A: the audit stops.
    bin()
        .args(["--quiet", "audit", "sample", "--size", &size_09.to_string(), "--audit"])
        .arg(&audit)
        .assert()
        .success();
    record(&|_| "A");
    let st = status();
    assert_eq!(st[0]["decision"], "stop");
    assert_eq!(st[0]["rounds_measured"], 2);
    let a: serde_json::Value = serde_json::from_str(&fs::read_to_string(&audit).expect("a")).expect("json");
    assert_eq!(a["rounds"], serde_json::json!([40, size_09]));
}

#[test]
fn estimate_prints_minerva_first_round_sizes_with_their_chance() {
    let out = bin()
        .args([
            "--json",
            "audit",
            "estimate",
            "--margins",
            "0.2",
            "--risk-limits",
            "0.1",
            "--method",
            "providence",
        ])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = v.as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    for (row, p) in rows.iter().zip([0.7, 0.8, 0.9]) {
        assert_eq!(row["stopping_probability"], p);
        assert!(row["chance_one_round"].as_f64().expect("chance") >= p);
        // Every audit draws the first round; more only when it does not stop there.
        let (size, expected) =
            (row["sample_size"].as_f64().expect("size"), row["expected_ballots"].as_f64().expect("e"));
        assert!(expected > size && expected < 2.0 * size, "{row}");
    }
    // Arlo's test_minerva2.py: r2b2's Providence sizes a 60:40 contest's 90% round at 173.
    assert!(rows[2]["sample_size"].as_u64().expect("size") <= 173);
}

/// A RAIRE file of one IRV contest from `(ranking, copies)` groups.
fn irv_file(groups: &[(&str, usize)]) -> String {
    let mut text = String::from("1\nContest,7,4,A,B,C,D\n");
    let mut id = 0;
    for (ranking, copies) in groups {
        for _ in 0..*copies {
            id += 1;
            text.push_str(&format!("7,b{id},{ranking}\n"));
        }
    }
    text
}

#[test]
fn raire_assertions_then_raire_risk_confirm_the_real_winner_and_not_a_swapped_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    // C is out first and its votes go to B, who then beats D and A.
    let real = [("A,D", 300), ("B,A", 260), ("C,B", 120), ("D,B", 250), ("D", 40)];
    // The reported CVRs swap A and B on every ballot: they elect A.
    let swapped = [("B,D", 300), ("A,B", 260), ("C,A", 120), ("D,A", 250), ("D", 40)];
    fs::write(d.join("real.raire"), irv_file(&real)).expect("write");
    fs::write(d.join("reported.raire"), irv_file(&swapped)).expect("write");
    let generate = |cvrs: &str, out: &str| -> serde_json::Value {
        let o = bin()
            .args(["audit", "raire-assertions", "--cvrs", cvrs, "--contest", "7", "--out", out])
            .current_dir(d)
            .output()
            .expect("runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_str(&fs::read_to_string(d.join(out)).expect("written")).expect("JSON")
    };
    let risk = |assertions: &str| -> serde_json::Value {
        let o = bin()
            .args(["--json", "audit", "raire-risk", "--assertions", assertions, "--sample", "real.raire"])
            .current_dir(d)
            .output()
            .expect("runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).expect("JSON")
    };
    let right = generate("real.raire", "right.json");
    assert_eq!(right["winner_name"], "B");
    assert!(right["assertions"].as_array().is_some_and(|a| !a.is_empty()));
    let wrong = generate("reported.raire", "wrong.json");
    assert_eq!(wrong["winner_name"], "A");
    // Every real ballot as the sample: the real winner is confirmed, the reported one not.
    assert_eq!(risk("right.json")["confirmed"], true);
    let w = risk("wrong.json");
    assert_eq!(w["confirmed"], false, "{w}");
}
