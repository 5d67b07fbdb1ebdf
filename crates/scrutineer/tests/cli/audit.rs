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
