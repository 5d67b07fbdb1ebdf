//! End-to-end: `ballots reconcile`, the `audit` commands and `ledger append` read gzip and zstd inputs
//! (told apart by their first bytes, not their names) and write exactly what they write
//! for the plain files. Every fixture is written here.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crate::util::{BallotFiles, gzip, reconcile_args, simulate_ballots};

fn bin(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("scrutineer").expect("binary");
    c.arg("--store").arg(dir.join("s.db")).arg("--quiet");
    c
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Writes a compressed copy of `plain` beside it, named `<name>.<ext>`.
fn compressed_copy(plain: &Path, ext: &str) -> PathBuf {
    let data = std::fs::read(plain).expect("plain input");
    let bytes = match ext {
        "gz" => gzip(&data),
        "zst" => zstd(&data),
        other => panic!("no compressor for {other}"),
    };
    assert_ne!(bytes, data, "{ext} copy is not compressed");
    let mut name = plain.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    let path = PathBuf::from(name);
    std::fs::write(&path, bytes).expect("compressed copy");
    path
}

/// A generated scenario with every kind of input (roll, issuance, returns, check-ins),
/// injected rule findings and look-alikes.
fn scenario(d: &Path) -> PathBuf {
    let scenario_dir = d.join("scenario");
    simulate_ballots(d, 3_000, 4, 4, &scenario_dir);
    scenario_dir
}

fn reconcile(d: &Path, inputs: [&Path; 4], out: &Path) {
    let files =
        BallotFiles { roll: inputs[0], issued: inputs[1], returns: inputs[2], checkins: Some(inputs[3]) };
    reconcile_args(&mut bin(d), &files, out).arg("--no-ledger").assert().success();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn ballots_reconcile_reads_gzip_and_zstd_inputs_as_the_plain_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let scenario_dir = scenario(d);
    let plain: Vec<PathBuf> = ["roll.csv", "issued.csv", "returns.csv", "checkins.csv"]
        .iter()
        .map(|f| scenario_dir.join(f))
        .collect();
    let plain_out = d.join("out-plain");
    reconcile(d, [&plain[0], &plain[1], &plain[2], &plain[3]], &plain_out);
    let findings = read(&plain_out.join("findings.csv"));
    assert!(findings.lines().count() > 4, "the scenario gives findings to compare:\n{findings}");

    for ext in ["gz", "zst"] {
        let packed: Vec<PathBuf> = plain.iter().map(|p| compressed_copy(p, ext)).collect();
        let out = d.join(format!("out-{ext}"));
        reconcile(d, [&packed[0], &packed[1], &packed[2], &packed[3]], &out);
        // Evidence names the input files: the same names but for the extension.
        let unnamed = |text: String| text.replace(&format!(".csv.{ext}"), ".csv");
        for file in ["findings.csv", "anomalies.csv", "totals.csv", "malformed.csv", "reconciliation.txt"] {
            assert_eq!(unnamed(read(&out.join(file))), read(&plain_out.join(file)), "{ext}: {file}");
        }
        assert!(read(&out.join("reconciliation.txt")).contains(&format!("returns {}", packed[2].display())));
    }
}

#[test]
fn ballots_reconcile_refuses_other_compressions_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let scenario_dir = scenario(d);
    let bz = scenario_dir.join("returns.csv.bz2");
    std::fs::write(&bz, b"BZh91AY&SY\x00\x01").expect("bz2");
    let (roll, issued) = (scenario_dir.join("roll.csv"), scenario_dir.join("issued.csv"));
    let files = BallotFiles { roll: &roll, issued: &issued, returns: &bz, checkins: None };
    reconcile_args(&mut bin(d), &files, &d.join("out")).arg("--no-ledger").assert().failure().stderr(
        predicates::str::contains(format!("{}: bzip2-compressed input is not supported", bz.display())),
    );
}

/// Colorado's round report layout: a row without discrepancies and one with a two-vote
/// overstatement (the figures of `audit_cli.rs`).
const CONTEST_CSV: &str = "contest_name,audit_reason,random_audit_status,winners_allowed,ballot_card_count,contest_ballot_card_count,winners,min_margin,risk_limit,audited_sample_count,two_vote_over_count,one_vote_over_count,one_vote_under_count,two_vote_under_count,disagreement_count,other_count,gamma,overstatements,optimistic_samples_to_audit,estimated_samples_to_audit\n\
Zeta Issue,opportunistic_benefits,in_progress,1,239425,239056,\"\"\"Yes/For\"\"\",145890,0.04000000,0,0,0,0,0,0,0,1.03905000,0,11,11\n\
\"Alpha, Question\",county_wide_contest,in_progress,1,208445,63084,\"\"\"No\"\"\",3635,0.04000000,385,1,0,0,0,0,0,1.03905000,0,775,775\n";

#[test]
fn audit_replay_reads_gzip_and_zstd_round_reports_as_the_plain_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let plain = d.join("contest.csv");
    std::fs::write(&plain, CONTEST_CSV).expect("contest.csv");
    let replay = |input: &Path, out: &Path| {
        bin(d)
            .args(["audit", "replay", "--format", "colorado-contest"])
            .arg(input)
            .arg("--out")
            .arg(out)
            .assert()
            .success();
        read(out)
    };
    let expected = replay(&plain, &d.join("plain.csv"));
    assert_eq!(expected.lines().count(), 3, "{expected}");
    for ext in ["gz", "zst"] {
        let packed = compressed_copy(&plain, ext);
        assert_eq!(replay(&packed, &d.join(format!("{ext}.csv"))), expected, "{ext}");
    }
}

/// Two IRV contests; the second needs two eliminations and declares its winner.
fn raire_file() -> String {
    let mut text = String::from("2\nContest,1,3,A,B,C\nContest,2,4,W,X,Y,Z,winner,X\n");
    let rankings: [(&str, &str, usize); 7] = [
        ("1", "A,B", 9),
        ("1", "B,C,A", 7),
        ("1", "C,B", 5),
        ("2", "W,X,Y", 6),
        ("2", "X,W", 5),
        ("2", "Y,X,Z", 4),
        ("2", "Z,X", 2),
    ];
    let mut id = 0;
    for (contest, ranking, copies) in rankings {
        for _ in 0..copies {
            id += 1;
            text.push_str(&format!("{contest},b{id},{ranking}\n"));
        }
    }
    text
}

#[test]
fn audit_cvr_reads_gzip_and_zstd_raire_files_as_the_plain_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let plain = d.join("contests.raire");
    std::fs::write(&plain, raire_file()).expect("raire");
    let check = |input: &Path| -> Vec<serde_json::Value> {
        let out =
            bin(d).args(["--json", "audit", "cvr", "--format", "raire"]).arg(input).output().expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let mut contests = v.as_array().expect("one object a contest").clone();
        for c in &mut contests {
            // The file name differs by its extension; everything else must not.
            assert_eq!(c["file"], serde_json::Value::String(input.display().to_string()));
            c.as_object_mut().expect("object").remove("file");
        }
        contests
    };
    let expected = check(&plain);
    assert_eq!(expected.len(), 2);
    assert!(expected.iter().all(|c| c["ballots"].as_u64().is_some_and(|n| n > 0)), "{expected:?}");
    for ext in ["gz", "zst"] {
        assert_eq!(check(&compressed_copy(&plain, ext)), expected, "{ext}");
    }
}

/// `ledger append` of a compressed file appends its lines, not its compressed bytes: two
/// ledgers, one from the plain file and one from each compressed copy, hold the same
/// entries.
#[test]
fn ledger_append_reads_compressed_files_as_their_lines() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let plain = d.join("entries.txt");
    let text: String = (0..40).map(|i| format!("entry {i} {}\n", "é".repeat(i % 7))).collect();
    std::fs::write(&plain, &text).expect("plain");
    let entries_of = |input: &Path, name: &str| -> String {
        let store = d.join(format!("{name}.db"));
        let mut c = Command::cargo_bin("scrutineer").expect("binary");
        c.arg("--store").arg(&store).arg("--quiet").args(["ledger", "append"]).arg(input).assert().success();
        let out = Command::cargo_bin("scrutineer")
            .expect("binary")
            .arg("--store")
            .arg(&store)
            .args(["ledger", "entries"])
            .output()
            .expect("entries");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8")
    };
    let want = entries_of(&plain, "plain");
    assert_eq!(want.lines().count(), 40);
    assert!(want.contains("entry 39 éééé\n"), "{want}");
    for ext in ["gz", "zst"] {
        assert_eq!(entries_of(&compressed_copy(&plain, ext), ext), want, "{ext}");
    }
}
