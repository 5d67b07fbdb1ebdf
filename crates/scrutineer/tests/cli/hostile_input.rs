//! End-to-end: inputs made to mislead or exhaust the readers, and text made to attack
//! the terminal or the spreadsheet that shows our outputs. Every fixture is written here.
//!
//! - a truncated gzip log keeps its complete records (infra);
//! - a run where most records are malformed fails with the count (every engine);
//! - a line longer than the old 8 MiB framing bound stays one record with its true line
//!   number, and a line over `--max-line-bytes` is one malformed record (infra);
//! - a bad value's echo in malformed.csv and on stderr is bounded (ballots, influence);
//! - rows that are not UTF-8 are reported and counted (ballots);
//! - terminal escapes are shown escaped and formula cells are neutralised in CSV outputs.

use std::path::Path;

use crate::util::gzip;
use crate::util::in_dir as bin;
use crate::util::stderr_of;
use crate::util::{BallotFiles, reconcile_args};

fn access_line(i: usize) -> String {
    format!(
        "10.0.{}.{} - - [17/May/2015:10:{:02}:03 +0000] \"GET /page{i} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n",
        i % 200,
        i % 250,
        i % 60
    )
}

/// Rows of a CSV file the binary wrote, header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records().map(|rec| rec.expect("record").iter().map(str::to_owned).collect()).collect()
}

// ---- 13. infra ----------------------------------------------------------------------

#[test]
fn a_truncated_gzip_log_keeps_every_complete_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let log: String = (0..2000).map(access_line).collect();
    let gz = gzip(log.as_bytes());
    // Cut the member well inside the stream: no trailer, a partial deflate block.
    let cut = &gz[..gz.len() * 3 / 5];
    std::fs::write(d.join("access.log.gz"), cut).expect("write");
    let out = bin(d)
        .args(["infra", "scan", "--no-store", "--out"])
        .arg(d.join("out"))
        .arg(d.join("access.log.gz"))
        .output()
        .expect("run");
    assert!(out.status.success(), "a cut archive must not abort the scan: {}", stderr_of(&out));
    let events = csv_rows(&d.join("out/events.csv"));
    let kept = events.len() - 1;
    assert!(kept > 500 && kept < 2000, "{kept} records kept of 2000");
    // The kept records are the first ones, in order, none of them malformed.
    for (i, row) in events[1..].iter().enumerate() {
        assert_eq!(row[1], i.to_string());
        assert_ne!(row[3], "malformed", "record {i}");
    }
    let malformed = csv_rows(&d.join("out/malformed.csv"));
    assert_eq!(malformed.len(), 2, "{malformed:?}");
    assert!(malformed[1][2].contains("truncated"), "{:?}", malformed[1]);
    assert_eq!(malformed[1][1], (kept + 1).to_string(), "the first line not read");
    assert!(stderr_of(&out).contains("truncated"), "{}", stderr_of(&out));
}

#[test]
fn eve_format_on_an_access_log_fails_with_the_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let log: String = (0..300).map(access_line).collect();
    std::fs::write(d.join("access.log"), log).expect("write");
    let out = bin(d)
        .args(["infra", "scan", "--no-store", "--format", "eve", "--out"])
        .arg(d.join("out"))
        .arg(d.join("access.log"))
        .output()
        .expect("run");
    assert!(!out.status.success(), "300 malformed of 300 must fail");
    let err = stderr_of(&out);
    assert!(err.contains("300 of 300 records (100.00%) were malformed"), "{err}");
    // The outputs that list them are written all the same.
    assert_eq!(csv_rows(&d.join("out/malformed.csv")).len(), 301);
    // An explicit limit accepts them.
    bin(d)
        .args(["infra", "scan", "--no-store", "--format", "eve", "--max-malformed", "100%", "--out"])
        .arg(d.join("out2"))
        .arg(d.join("access.log"))
        .assert()
        .success();
}

#[test]
fn a_long_line_is_one_record_and_later_lines_keep_their_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut log = String::new();
    for i in 0..150 {
        log += &access_line(i);
    }
    // Line 151: 9 MiB of junk with no newline (over the old 8 MiB framing bound).
    log += &"A".repeat(9 << 20);
    log += "\n";
    for i in 150..300 {
        log += &access_line(i);
    }
    std::fs::write(d.join("access.log"), &log).expect("write");
    for (limit, reason) in [("16M", None), ("1M", Some("line longer than --max-line-bytes, not read"))] {
        let out_dir = d.join(format!("out-{limit}"));
        let out = bin(d)
            .args(["infra", "scan", "--no-store", "--format", "combined", "--max-line-bytes", limit, "--out"])
            .arg(&out_dir)
            .arg(d.join("access.log"))
            .output()
            .expect("run");
        assert!(out.status.success(), "{}", stderr_of(&out));
        let events = csv_rows(&out_dir.join("events.csv"));
        assert_eq!(events.len(), 302, "301 records and the header");
        for (i, row) in events[1..].iter().enumerate() {
            assert_eq!(row[1], i.to_string());
            assert_eq!(row[3] == "malformed", i == 150, "record {i}: {row:?}");
        }
        let malformed = csv_rows(&out_dir.join("malformed.csv"));
        assert_eq!(malformed.len(), 2, "{malformed:?}");
        assert_eq!(malformed[1][1], "151");
        if let Some(r) = reason {
            assert_eq!(malformed[1][2], r);
        }
    }
}

// ---- 14 and 15. ballots ------------------------------------------------------------

struct Ballots {
    roll: String,
    issued: String,
    returns: String,
}

fn ballots(voters: usize) -> Ballots {
    let mut b = Ballots {
        roll: "voter_id,status,precinct,ballot_style,address\n".into(),
        issued: "envelope_id,voter_id,ballot_style,issue_date,address\n".into(),
        returns: "envelope_id,returned_at,channel,outcome,reason\n".into(),
    };
    for i in 0..voters {
        b.roll += &format!("V{i},active,P{},S1,{i} Main St 27601\n", i % 5);
        b.issued += &format!("E{i},V{i},S1,2020-10-01,{i} Main St 27601\n");
        if i % 2 == 0 {
            b.returns += &format!("E{i},2020-10-20T10:00:00,mail,accepted,\n");
        }
    }
    b
}

fn reconcile(d: &Path, b: &Ballots, extra: &[&str]) -> std::process::Output {
    std::fs::write(d.join("roll.csv"), &b.roll).expect("write");
    std::fs::write(d.join("issued.csv"), &b.issued).expect("write");
    std::fs::write(d.join("returns.csv"), &b.returns).expect("write");
    let mut paths = Vec::new();
    let files = BallotFiles::in_dir(d, false, &mut paths);
    reconcile_args(&mut bin(d), &files, &d.join("out")).arg("--no-ledger").args(extra).output().expect("run")
}

#[test]
fn ballot_rows_that_are_not_utf8_are_reported_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let b = ballots(2000);
    let mut returns = b.returns.as_bytes().to_vec();
    // Ten receipts whose envelope id is Latin-1 bytes, not UTF-8.
    for i in 0..10 {
        returns.extend_from_slice(b"E\xe9");
        returns.extend_from_slice(format!("{i},2020-10-21T10:00:00,dropbox,accepted,\n").as_bytes());
    }
    std::fs::write(d.join("returns.csv"), &returns).expect("write");
    std::fs::write(d.join("roll.csv"), &b.roll).expect("write");
    std::fs::write(d.join("issued.csv"), &b.issued).expect("write");
    let mut paths = Vec::new();
    let files = BallotFiles::in_dir(d, false, &mut paths);
    let out = reconcile_args(&mut bin(d), &files, &d.join("out"))
        .args(["--no-ledger", "--json", "--quiet"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let malformed = csv_rows(&d.join("out/malformed.csv"));
    let not_utf8: Vec<&Vec<String>> = malformed.iter().filter(|r| r[3].contains("not UTF-8")).collect();
    assert_eq!(not_utf8.len(), 10, "{malformed:?}");
    for (k, r) in not_utf8.iter().enumerate() {
        assert_eq!(r[1], (1000 + 2 + k).to_string(), "line of the bad row");
        assert_eq!(r[2], "envelope_id");
    }
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["stats"]["malformed"], 10);
    // None of them became an "unissued envelope" finding.
    let findings = csv_rows(&d.join("out/findings.csv"));
    assert_eq!(findings.len(), 1, "{findings:?}");
}

#[test]
fn a_huge_ballot_value_is_not_echoed_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut b = ballots(300);
    // A 20 MB status: over the default 16 MiB line limit. And a 1 MB one, within it,
    // whose "unknown voter status" problem quotes the value.
    b.roll += &format!("HUGE,{},P1,S1,1 Main St 27601\n", "X".repeat(20 << 20));
    b.roll += &format!("BIG,{},P1,S1,1 Main St 27601\n", "Y".repeat(1 << 20));
    let out = reconcile(d, &b, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let size = std::fs::metadata(d.join("out/malformed.csv")).expect("malformed.csv").len();
    assert!(size < 4096, "malformed.csv is {size} bytes");
    assert!(out.stderr.len() < 4096, "stderr is {} bytes", out.stderr.len());
    let malformed = csv_rows(&d.join("out/malformed.csv"));
    assert_eq!(malformed.len(), 3, "{malformed:?}");
    assert_eq!(malformed[1][1], "302");
    assert!(malformed[1][3].contains("longer than the limit"), "{:?}", malformed[1]);
    assert_eq!(malformed[2][1], "303");
    assert!(malformed[2][3].starts_with("unknown voter status 'YYYY"), "{:?}", malformed[2]);
    assert!(malformed[2][3].contains("(1048576 bytes in all)"), "{:?}", malformed[2]);
}

#[test]
fn ballots_fail_when_most_rows_are_malformed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut b = ballots(100);
    b.returns = "envelope_id,returned_at,channel,outcome,reason\n".into();
    for i in 0..100 {
        b.returns += &format!("E{i},not a time,mail,accepted,\n");
    }
    let out = reconcile(d, &b, &[]);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("100 of 400 rows (25.00%) were malformed"), "{err}");
    assert_eq!(csv_rows(&d.join("out/malformed.csv")).len(), 101);
    assert!(reconcile(d, &b, &["--max-malformed", "0.3"]).status.success());
}

// ---- 14 and 15. influence ----------------------------------------------------------

const IRA_HEADER: &str = "author_id,content,region,language,publish_date,harvested_date,following,followers,updates,post_type,retweet\n";

fn ira_row(i: usize, date: &str) -> String {
    format!("acct{},post number {i},United States,English,{date},{date},1,1,1,,0\n", i % 40)
}

fn influence_scan(d: &Path, file: &Path, extra: &[&str]) -> std::process::Output {
    bin(d).args(["influence", "scan", "--format", "ira"]).arg(file).args(extra).output().expect("run")
}

#[test]
fn influence_fails_when_most_posts_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut csv = String::from(IRA_HEADER);
    for i in 0..1000 {
        // 84% of the rows have an unreadable date, as a damaged archive gives.
        let date = if i % 100 < 84 { "\u{fffd}\u{fffd}garbage" } else { "2016-10-05 20:00:00" };
        csv += &ira_row(i, date);
    }
    std::fs::write(d.join("posts.csv.gz"), gzip(csv.as_bytes())).expect("write");
    let out = influence_scan(d, &d.join("posts.csv.gz"), &[]);
    assert!(!out.status.success(), "84% skipped must fail");
    let err = stderr_of(&out);
    assert!(err.contains("840 of 1000 posts (84.00%) were malformed"), "{err}");
    assert!(influence_scan(d, &d.join("posts.csv.gz"), &["--max-malformed", "0.9"]).status.success());
}

#[test]
fn an_influence_line_over_the_limit_is_skipped_with_a_bounded_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut csv = String::from(IRA_HEADER);
    for i in 0..300 {
        csv += &ira_row(i, "2016-10-05 20:00:00");
    }
    csv += &format!("acct1,{},United States,English,2016-10-05 20:00:00,x,1,1,1,,0\n", "Z".repeat(3 << 20));
    for i in 300..600 {
        csv += &ira_row(i, "2016-10-05 20:00:00");
    }
    std::fs::write(d.join("posts.csv"), &csv).expect("write");
    let out = influence_scan(d, &d.join("posts.csv"), &["--max-line-bytes", "1M", "--json"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stderr.len() < 8192, "stderr is {} bytes", out.stderr.len());
    let err = stderr_of(&out);
    assert!(err.contains("skipped") && err.contains(":line 302: line of 3145"), "{err}");
    assert!(err.contains("longer than the limit of 1048576 bytes"), "{err}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["summary"]["reads"][0]["posts"], 600);
    assert_eq!(summary["summary"]["reads"][0]["skipped"], 1);
}

// ---- 16. terminals and spreadsheets ------------------------------------------------

#[test]
fn hostile_ids_reach_neither_the_terminal_nor_a_spreadsheet_formula() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut b = ballots(200);
    let escape = "ENV\u{1b}]0;owned\u{7}\u{1b}[2J";
    let formula = "=HYPERLINK(\"http://evil.example/\",\"click\")";
    // Two receipts of envelopes that were never issued: each becomes a finding.
    b.returns += &format!("\"{escape}\",2020-10-20T10:00:00,mail,accepted,\n");
    b.returns += &format!("\"{}\",2020-10-20T10:00:00,mail,accepted,\n", formula.replace('"', "\"\""));
    let out = reconcile(d, &b, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));

    let findings = csv_rows(&d.join("out/findings.csv"));
    let ids: Vec<&str> = findings.iter().map(|r| r[1].as_str()).collect();
    assert!(ids.contains(&format!("'{formula}").as_str()), "{ids:?}");
    assert!(!ids.iter().any(|c| c.starts_with('=')), "{ids:?}");

    let list =
        bin(d).args(["findings", "list", "--engine", "ballots", "--limit", "1000"]).output().expect("list");
    assert!(list.status.success());
    assert!(!list.stdout.contains(&0x1b), "findings list printed a raw escape");
    assert!(String::from_utf8_lossy(&list.stdout).contains("ENV\\x1b]0;owned"), "escaped form shown");

    let json = bin(d).args(["--json", "findings", "list", "--engine", "ballots"]).output().expect("list");
    let all: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let hostile = all
        .as_array()
        .expect("array")
        .iter()
        .find(|f| f["title"].as_str().is_some_and(|t| t.contains('\u{1b}')))
        .expect("the finding naming the hostile envelope");
    let id = hostile["id"].as_str().expect("id");
    let show = bin(d).args(["findings", "show", id]).output().expect("show");
    assert!(show.status.success(), "{}", stderr_of(&show));
    assert!(!show.stdout.contains(&0x1b), "findings show printed a raw escape");
    assert!(!show.stdout.contains(&0x07));
    // An error that echoes the input escapes it too.
    let missing = bin(d).args(["findings", "show", "\u{1b}[31mnope"]).output().expect("show");
    assert!(!missing.status.success());
    assert!(!missing.stderr.contains(&0x1b), "{}", stderr_of(&missing));
}

/// The neutralisation keeps numbers as they are: `-123` is data, not a formula; `-1+2`
/// is not a number and is neutralised.
#[test]
fn numbers_stay_numbers_in_findings_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut b = ballots(50);
    b.returns += "-123,2020-10-20T10:00:00,mail,accepted,\n";
    b.returns += "-1+2,2020-10-20T10:00:00,mail,accepted,\n";
    let out = reconcile(d, &b, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let ids: Vec<String> = csv_rows(&d.join("out/findings.csv")).into_iter().map(|r| r[1].clone()).collect();
    assert!(ids.contains(&"-123".to_owned()), "{ids:?}");
    assert!(ids.contains(&"'-1+2".to_owned()), "{ids:?}");
}

#[test]
fn infra_csv_outputs_neutralise_formula_file_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let log: String = (0..50).map(access_line).collect();
    std::fs::write(d.join("=cmd|'calc'!A0.log"), log).expect("write");
    // Relative, as an analyst types it: the file name is the first cell of every row.
    let out = bin(d)
        .current_dir(d)
        .args(["--quiet", "infra", "scan", "--no-store", "--out", "out", "=cmd|'calc'!A0.log"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let events = csv_rows(&d.join("out/events.csv"));
    assert_eq!(events[1][0], "'=cmd|'calc'!A0.log", "{:?}", events[1]);
}
