//! `scrutineer hunt evtx` and `hunt export` on real event logs from
//! `../shared/data/hunt` (read in place, and damaged copies the tests write).

use std::path::{Path, PathBuf};

use crate::util::{csv_maps, csv_records, quiet_in, stderr_of};

fn shared(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/hunt").join(rel);
    assert!(p.exists(), "missing shared data {} (see ../shared/data/README.md)", p.display());
    p
}

const DLL_TEST: &str = "sigma-regression-even/regression_data/rules/windows/file/file_event/file_event_win_creation_system_dll_files/13c02350-4177-4e45-ac17-cf7ca628ff5e";
const DLL_RULE: &str =
    "sigma-rules/rules/windows/file/file_event/file_event_win_creation_system_dll_files.yml";
const DLL_RULE_ID: &str = "13c02350-4177-4e45-ac17-cf7ca628ff5e";

#[test]
fn a_regression_sample_is_matched_by_its_rule_with_the_record_and_computer_it_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let evtx = shared(&format!("{DLL_TEST}.evtx"));
    quiet_in(dir.path())
        .args(["hunt", "evtx"])
        .arg(&evtx)
        .arg("--sigma")
        .arg(shared(DLL_RULE))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let header = std::fs::read_to_string(out.join("hits.csv")).expect("hits.csv");
    assert_eq!(header.lines().next(), Some("file,record,rule,source,technique,severity"));
    // The sample's own JSON rendering (from SigmaHQ, not from this code) says which record it is.
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shared(&format!("{DLL_TEST}.json"))).expect("json"))
            .expect("json");
    let system = &expected["Event"]["System"];
    let hits: Vec<_> =
        csv_maps(&out.join("hits.csv")).into_iter().filter(|h| h["rule"] == DLL_RULE_ID).collect();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["record"], system["EventRecordID"].to_string());
    assert_eq!(hits[0]["source"], system["Computer"].as_str().expect("computer"));
    assert_eq!(hits[0]["file"], evtx.display().to_string());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["rules"]["rules"], 1);
    assert!(summary["totals"]["records"].as_u64().expect("records") >= 1);
}

#[test]
fn cleared_logs_are_found_by_the_built_in_detection_and_exported_as_stix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let evtx = shared(
        "evtx-to-mitre/TA0005-Defense Evasion/T1070.001-Clear Windows event logs/ID104-1102-Event log cleared.evtx",
    );
    quiet_in(dir.path()).args(["hunt", "evtx"]).arg(&evtx).arg("--out").arg(&out).assert().success();
    let cleared: Vec<_> =
        csv_maps(&out.join("hits.csv")).into_iter().filter(|h| h["rule"] == "log_cleared").collect();
    assert!(!cleared.is_empty(), "no log_cleared hit");
    assert!(cleared.iter().all(|h| h["technique"] == "T1070.001" && h["severity"] == "high"));
    let bundle = dir.path().join("bundle.json");
    quiet_in(dir.path()).args(["hunt", "export", "--stix"]).arg(&bundle).assert().success();
    let text = std::fs::read_to_string(&bundle).expect("bundle");
    let b: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(b["type"], "bundle");
    assert!(text.contains("T1070.001"), "the technique is in the bundle");
}

#[test]
fn truncated_and_corrupted_logs_are_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(shared(&format!("{DLL_TEST}.evtx"))).expect("sample");
    let truncated = dir.path().join("truncated.evtx");
    std::fs::write(&truncated, &bytes[..4096 + 30000]).expect("write");
    let mut flipped = bytes.clone();
    for b in &mut flipped[4096 + 512..4096 + 4000] {
        *b ^= 0x5a;
    }
    let corrupted = dir.path().join("corrupted.evtx");
    std::fs::write(&corrupted, &flipped).expect("write");
    let garbage = dir.path().join("garbage.evtx");
    std::fs::write(&garbage, b"MZ this is not an event log").expect("write");
    let out = dir.path().join("out");
    quiet_in(dir.path())
        .args(["hunt", "evtx"])
        .args([&truncated, &corrupted, &garbage])
        .arg(shared(&format!("{DLL_TEST}.evtx")))
        .arg("--sigma")
        .arg(shared(DLL_RULE))
        .arg("--out")
        .arg(&out)
        .arg("--no-store")
        .assert()
        .success();
    let problems = csv_records(&out.join("read_problems.csv"));
    let about = |f: &Path| problems.iter().filter(|r| r[0] == f.display().to_string()).count();
    assert!(about(&truncated) >= 1, "{problems:?}");
    assert!(about(&corrupted) >= 1, "{problems:?}");
    assert!(about(&garbage) == 1, "{problems:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["unreadable_files"], 1);
    assert_eq!(summary["files"][0]["stats"]["truncated_bytes"], 30000);
    let damaged = &summary["files"][1]["stats"];
    let bad =
        damaged["bad_chunks"].as_u64().expect("count") + damaged["bad_records"].as_u64().expect("count");
    assert!(bad >= 1, "{damaged}");
    // The undamaged copy still gives its hit.
    assert!(csv_maps(&out.join("hits.csv")).iter().any(|h| h["rule"] == DLL_RULE_ID));
}

#[test]
fn a_rule_with_a_syntax_error_names_its_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("broken_rule.yml");
    std::fs::write(
        &rule,
        "title: Broken\nid: 0b0b0b0b-0000-4000-8000-000000000000\nlogsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    EventID: 4625\n  condition: selection and (\n",
    )
    .expect("write");
    let out = quiet_in(dir.path())
        .args(["hunt", "evtx"])
        .arg(shared(&format!("{DLL_TEST}.evtx")))
        .arg("--sigma")
        .arg(&rule)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .failure()
        .get_output()
        .clone();
    let err = stderr_of(&out);
    assert!(err.contains(&format!("{}:9", rule.display())), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
