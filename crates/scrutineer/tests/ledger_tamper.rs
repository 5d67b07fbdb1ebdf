//! End-to-end: `ledger verify` names the first altered, missing or reordered entry.
//! The test reads the documented file layout itself (magic, then per entry
//! index u64 | len u32 | crc32 u32 | data) to tamper with it.

use std::path::Path;

use assert_cmd::Command;

fn bin(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("scrutineer").expect("binary");
    c.arg("--store").arg(dir.join("s.db")).arg("--quiet").arg("--json");
    c
}

/// Byte ranges (start, end) of each entry in the file.
fn entries(bytes: &[u8]) -> Vec<(usize, usize)> {
    assert_eq!(&bytes[..8], b"SCRLEDG1");
    let mut out = Vec::new();
    let mut off = 8;
    while off + 16 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().expect("4 bytes")) as usize;
        out.push((off, off + 16 + len));
        off += 16 + len;
    }
    out
}

fn make_ledger(dir: &Path, n: usize) -> std::path::PathBuf {
    let input = dir.join("lines.txt");
    let text: String = (0..n).map(|i| format!("record number {i} with some data\n")).collect();
    std::fs::write(&input, text).expect("write");
    let ledger = dir.join("s.ledger");
    bin(dir).args(["ledger", "append", "--batch", "7"]).arg(&input).assert().success();
    bin(dir).args(["ledger", "verify"]).assert().success();
    ledger
}

fn first_bad(dir: &Path) -> u64 {
    let out = bin(dir).args(["ledger", "verify"]).assert().failure().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["ok"], false);
    v["first_bad_index"].as_u64().expect("index")
}

#[test]
fn flipped_byte_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = make_ledger(dir.path(), 50);
    let mut bytes = std::fs::read(&ledger).expect("read");
    let (start, end) = entries(&bytes)[23];
    bytes[start + 16 + (end - start - 16) / 2] ^= 0x01;
    std::fs::write(&ledger, &bytes).expect("write");
    assert_eq!(first_bad(dir.path()), 23);
}

#[test]
fn dropped_entry_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = make_ledger(dir.path(), 50);
    let bytes = std::fs::read(&ledger).expect("read");
    let (start, end) = entries(&bytes)[31];
    let mut cut = bytes[..start].to_vec();
    cut.extend_from_slice(&bytes[end..]);
    std::fs::write(&ledger, &cut).expect("write");
    assert_eq!(first_bad(dir.path()), 31);
}

#[test]
fn swapped_entries_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = make_ledger(dir.path(), 50);
    let bytes = std::fs::read(&ledger).expect("read");
    let e = entries(&bytes);
    let (a, b) = (12, 40);
    let mut out = bytes[..e[a].0].to_vec();
    out.extend_from_slice(&bytes[e[b].0..e[b].1]);
    out.extend_from_slice(&bytes[e[a].1..e[b].0]);
    out.extend_from_slice(&bytes[e[a].0..e[a].1]);
    out.extend_from_slice(&bytes[e[b].1..]);
    std::fs::write(&ledger, &out).expect("write");
    assert_eq!(first_bad(dir.path()), 12);
}

#[test]
fn rewrite_with_recomputed_checksums_breaks_the_signed_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = make_ledger(dir.path(), 20);
    let mut bytes = std::fs::read(&ledger).expect("read");
    let (start, end) = entries(&bytes)[5];
    bytes[start + 16] ^= 0x01;
    // Recompute the entry's CRC as a careful forger would.
    let crc = crc32fast_like(&bytes[start..start + 12], &bytes[start + 16..end]).to_le_bytes();
    bytes[start + 12..start + 16].copy_from_slice(&crc);
    std::fs::write(&ledger, &bytes).expect("write");
    let bad = first_bad(dir.path());
    assert!(bad <= 5, "the rewritten entry lies at or after the first suspect ({bad})");
}

/// CRC-32 (IEEE), bitwise, independent of the code under test.
fn crc32fast_like(head: &[u8], data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in head.iter().chain(data) {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn proofs_come_out_for_the_signed_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_ledger(dir.path(), 10);
    let out = bin(dir.path())
        .args(["ledger", "prove", "--index", "3"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["tree_size"], 10);
    assert_eq!(v["audit_path"].as_array().map(Vec::len), Some(4));
    let head = bin(dir.path()).args(["ledger", "head"]).assert().success().get_output().stdout.clone();
    let h: serde_json::Value = serde_json::from_slice(&head).expect("json");
    assert_eq!(h["root_hash"], v["root_hash"]);
}
