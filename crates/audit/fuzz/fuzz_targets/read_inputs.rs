//! Any bytes as each audit input: a ballot manifest, contest results, ballot
//! interpretations, an Arlo report, a RAIRE file, ColoradoRLA contest CSV, and Dominion
//! CVR exports (JSON and CSV, checked against a manifest). Each reader returns the data
//! or an error naming the file and line; none panics, and the checks run on whatever
//! was read.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use scrutineer_audit::{arlo, colorado, dominion, manifest::Manifest, raire, workflow};

fn file(name: &str, data: &[u8]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scrutineer-audit-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    let p = d.join(name);
    std::fs::write(&p, data).expect("write");
    p
}

fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = header.as_bytes().to_vec();
    v.extend_from_slice(data);
    v
}

fuzz_target!(|data: &[u8]| {
    let raw = file("raw", data);
    let manifest = Manifest::read(&file(
        "manifest.csv",
        &with_header("Container,Tabulator,Batch Name,Number of Ballots\n", data),
    ));
    let _ = Manifest::read(&raw);
    let _ = workflow::read_results(&file("results.csv", &with_header("contest,choice,votes\n", data)), 100);
    let _ = workflow::read_results(&raw, 100);
    let _ = workflow::read_interpretations(&raw);
    let _ = workflow::AuditFile::load(&raw);
    if let Ok(report) = arlo::read_report(&raw) {
        let _ = arlo::jurisdiction_totals(&report);
        let _ = arlo::conclusions(&report);
    }
    if let Ok(f) = raire::read(&raw) {
        let _ = raire::check(&f);
    }
    if let Ok(rows) = colorado::read_contest_csv(&raw) {
        let _ = colorado::replay(&rows);
    }
    let _ = dominion::read_cvr_json(&raw);
    let _ = dominion::read_cvr_json_lossless(&raw);
    if let (Ok(export), Ok(m)) = (dominion::read_cvr_csv(&raw), &manifest) {
        let _ = dominion::check_csv(&export, m);
    }
});
