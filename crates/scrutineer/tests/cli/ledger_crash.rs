//! End-to-end: a process SIGKILLed in the middle of appends loses no acknowledged entry
//! (one a signed tree head covers), and the next writer sets aside only what was never
//! acknowledged.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn sigkill_during_appends_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let input = d.join("lines.txt");
    let text: String = (0..200_000).map(|i| format!("entry {i} {}\n", "x".repeat(i % 50))).collect();
    std::fs::write(&input, text).expect("write");
    let bin = assert_cmd::cargo::cargo_bin("scrutineer");
    // The key lives under the configuration folder, outside the ledger's.
    let config = d.join("config");
    std::fs::create_dir(d.join("ledger")).expect("mkdir");
    let store = d.join("ledger").join("s.db");
    let run = || {
        let mut c = Command::new(&bin);
        c.env("XDG_CONFIG_HOME", &config).env_remove("SCRUTINEER_LEDGER_KEY");
        c
    };
    let mut child = run()
        .arg("--store")
        .arg(&store)
        .arg("--quiet")
        .args(["ledger", "append", "--fsync", "commit", "--batch", "50"])
        .arg(&input)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(i) = line.strip_prefix("ack ") {
            acked.push(i.parse::<u64>().expect("index"));
        }
        if acked.len() >= 3_000 {
            break;
        }
    }
    // SIGKILL: no destructors, no flush.
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(acked.len() >= 3_000, "the child acknowledged entries before being killed");
    // Reading back (any torn tail is ignored by `entries`), every acknowledged entry is there, intact.
    let out = run().arg("--store").arg(&store).args(["ledger", "entries"]).output().expect("entries");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    for &i in &acked {
        let row = lines.get(i as usize).unwrap_or_else(|| panic!("acknowledged entry {i} lost"));
        let data = row.splitn(3, '\t').nth(2).expect("data");
        assert_eq!(data, format!("entry {i} {}", "x".repeat(i as usize % 50)));
    }
    // Reopening for append repairs any torn tail and continues the sequence.
    std::fs::write(d.join("more.txt"), "after the crash\n").expect("write");
    // What the killed writer left verifies, once its unsigned tail is accepted explicitly.
    let v = run()
        .arg("--store")
        .arg(&store)
        .args(["ledger", "verify", "--allow-unsigned-tail"])
        .output()
        .expect("verify");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let st = run()
        .arg("--store")
        .arg(&store)
        .arg("--quiet")
        .args(["ledger", "append"])
        .arg(d.join("more.txt"))
        .output()
        .expect("append");
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let acked_after: Vec<u64> = String::from_utf8_lossy(&st.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("ack "))
        .map(|n| n.parse().expect("index"))
        .collect();
    let last = *acked.iter().max().expect("acks");
    assert!(
        acked_after.len() == 1 && acked_after[0] > last,
        "the sequence continues after {last}: {acked_after:?}"
    );
    let out = run().arg("--store").arg(&store).args(["ledger", "entries"]).output().expect("entries");
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    for &i in &acked {
        let data = lines[i as usize].splitn(3, '\t').nth(2).expect("data");
        assert_eq!(
            data,
            format!("entry {i} {}", "x".repeat(i as usize % 50)),
            "entry {i} kept after recovery"
        );
    }
    let v = run().arg("--store").arg(&store).args(["ledger", "verify"]).output().expect("verify");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}
