//! `scrutineer mail verify` on ARC-sealed real mail (mail-auth's published vectors under
//! `../shared/data/mail`, read in place, and an altered copy written here) and on a zip
//! archive of a dump.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::mail::{SIGNED, add_keys};
use crate::util::{csv_maps, quiet_in};

fn vector(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/mail/mail-auth-vectors/arc")
        .join(name);
    assert!(p.exists(), "missing shared data {} (see ../shared/data/README.md)", p.display());
    std::fs::read_to_string(&p).expect("vector")
}

/// Writes each vector's message to `dir` and its keys (the lines before the first blank
/// line, `name record`) to a key archive; returns the messages' paths and the archive.
fn arc_dump(dir: &Path) -> (Vec<PathBuf>, PathBuf) {
    let keys = dir.join("keys.csv");
    let mut archive = String::from("name,record,first_seen,last_seen\n");
    let mut files = Vec::new();
    for name in ["001.txt", "002.txt"] {
        let text = vector(name);
        let (records, message) = text.split_once("\n\n").expect("keys, then the message");
        for line in records.lines() {
            let (n, r) = line.split_once(' ').expect("name record");
            archive.push_str(&format!("{n},\"{}\",,\n", r.replace('"', "\"\"")));
        }
        let path = dir.join(name.replace(".txt", ".eml"));
        std::fs::write(&path, message).expect("write");
        files.push(path);
    }
    std::fs::write(&keys, archive).expect("keys");
    (files, keys)
}

#[test]
fn arc_chains_get_a_row_each_and_counts_in_the_summary_and_an_altered_one_fails() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut files, keys) = arc_dump(dir.path());
    // The second vector with a word of its body changed after the last hop sealed it.
    let original = std::fs::read_to_string(&files[1]).expect("read");
    let (head, body) = original.split_once("\n\n").expect("body");
    let word =
        body.split_whitespace().find(|w| w.len() >= 4 && w.chars().all(char::is_alphabetic)).expect("word");
    let altered = dir.path().join("002-altered.eml");
    std::fs::write(&altered, format!("{head}\n\n{}", body.replacen(word, &word.to_uppercase(), 1)))
        .expect("write");
    files.push(altered);
    let out = dir.path().join("out");
    quiet_in(dir.path())
        .args(["mail", "verify"])
        .args(&files)
        .arg("--keys")
        .arg(&keys)
        .arg("--out")
        .arg(&out)
        .arg("--no-ledger")
        .assert()
        .success();
    let rows = csv_maps(&out.join("verdicts.csv"));
    let arc: Vec<(String, &str)> = rows
        .iter()
        .filter(|r| r["verdict"].starts_with("arc_"))
        .map(|r| {
            (
                Path::new(&r["file"]).file_name().expect("name").to_string_lossy().into_owned(),
                r["verdict"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        arc,
        [
            ("001.eml".into(), "arc_pass"),
            ("002.eml".into(), "arc_pass"),
            ("002-altered.eml".into(), "arc_fail")
        ]
    );
    let altered_row =
        rows.iter().find(|r| r["file"].ends_with("002-altered.eml") && r["verdict"] == "arc_fail");
    assert!(altered_row.expect("row")["detail"].contains("body_altered"), "{altered_row:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["version"], 2);
    let counts = &summary["summary"]["arc"];
    assert_eq!(
        (
            counts["chains"].as_u64(),
            counts["pass"].as_u64(),
            counts["fail"].as_u64(),
            counts["key_unknown"].as_u64()
        ),
        (Some(3), Some(2), Some(1), Some(0)),
        "{counts}"
    );
    // Without the ARC sealers' keys the chains cannot be judged.
    let text = std::fs::read_to_string(&keys).expect("keys");
    let no_arc_keys: String = text
        .lines()
        .filter(|l| !l.starts_with("arc-") && !l.contains("scamorza"))
        .map(|l| format!("{l}\n"))
        .collect();
    let keys2 = dir.path().join("keys2.csv");
    std::fs::write(&keys2, no_arc_keys).expect("keys");
    let out2 = dir.path().join("out2");
    quiet_in(dir.path())
        .args(["mail", "verify"])
        .arg(&files[0])
        .arg("--keys")
        .arg(&keys2)
        .arg("--out")
        .arg(&out2)
        .args(["--no-ledger", "--no-store"])
        .assert()
        .success();
    let rows = csv_maps(&out2.join("verdicts.csv"));
    assert!(rows.iter().any(|r| r["verdict"] == "arc_key_unknown"), "{rows:?}");
}

#[test]
fn a_zip_archive_of_a_dump_is_verified_entry_by_entry() {
    let dir = tempfile::tempdir().expect("tmp");
    let keys = dir.path().join("keys.csv");
    add_keys(dir.path(), &keys);
    let forged = SIGNED.replace("Are you hungry yet?", "Wire the money tonight.");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("leak/inbox/1.eml", deflated).expect("entry");
    zip.write_all(SIGNED.as_bytes()).expect("write");
    zip.start_file("leak/inbox/2.eml", stored).expect("entry");
    zip.write_all(forged.as_bytes()).expect("write");
    let bytes = zip.finish().expect("zip").into_inner();
    let path = dir.path().join("leak.zip");
    std::fs::write(&path, &bytes).expect("write");
    let out = dir.path().join("out");
    quiet_in(dir.path())
        .args(["mail", "verify"])
        .arg(&path)
        .arg("--keys")
        .arg(&keys)
        .arg("--out")
        .arg(&out)
        .arg("--no-ledger")
        .assert()
        .success();
    let rows = csv_maps(&out.join("verdicts.csv"));
    let got: Vec<(String, &str)> = rows
        .iter()
        .map(|r| (r["file"].rsplit('!').next().expect("entry").to_owned(), r["verdict"].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("leak/inbox/1.eml".into(), "authentic"),
            ("leak/inbox/1.eml".into(), "authentic"),
            ("leak/inbox/2.eml".into(), "body_altered"),
            ("leak/inbox/2.eml".into(), "body_altered"),
        ]
    );
    assert!(rows.iter().all(|r| r["file"].starts_with(&format!("{}!", path.display()))), "{rows:?}");
    // A zip cut in its second entry keeps the first and names the loss.
    let cut = dir.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).expect("write");
    let out = dir.path().join("out-cut");
    quiet_in(dir.path())
        .args(["mail", "verify"])
        .arg(&cut)
        .arg("--keys")
        .arg(&keys)
        .arg("--out")
        .arg(&out)
        .args(["--no-ledger", "--no-store", "--max-unreadable", "100%"])
        .assert()
        .success();
    let rows = csv_maps(&out.join("verdicts.csv"));
    assert!(rows.iter().any(|r| r["file"].ends_with("1.eml") && r["verdict"] == "authentic"), "{rows:?}");
    let unreadable = csv_maps(&out.join("unreadable.csv"));
    assert!(!unreadable.is_empty(), "the cut is listed");
}
