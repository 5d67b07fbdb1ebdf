//! Any bytes as each audit input: a ballot manifest, contest results, ballot
//! interpretations, an Arlo report, a RAIRE file, ColoradoRLA contest CSV, and Dominion
//! CVR exports (JSON and CSV, checked against a manifest), vendor CVRs (Clear Ballot
//! CSV, a Hart card, an ES&S workbook, summarised and taken as a comparison CVR set), and the ballot-comparison
//! inputs (manifests with containers, jurisdictions, audit-board readings, Colorado's
//! comparison export, a state file), with an audit started and drawn from whatever reads;
//! likewise batch tallies and a batch-comparison audit (start, draw, record, status). Each reader returns the data
//! or an error naming the file and line; none panics, and the checks run on whatever
//! was read.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use scrutineer_audit::{self as audit, AuditFile, Manifest};

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
    let _ = audit::read_results(&file("results.csv", &with_header("contest,choice,votes\n", data)), 100);
    let _ = audit::read_results(&raw, 100);
    let _ = audit::read_interpretations(&raw);
    let _ = AuditFile::load(&raw);
    if let Ok(report) = audit::read_arlo_report(&raw) {
        let _ = audit::jurisdiction_totals(&report);
        let _ = audit::arlo_conclusions(&report);
    }
    if let Ok(f) = audit::read_raire(&raw) {
        let _ = audit::check_raire(&f);
    }
    if let Ok(f) = audit::read_nsw_sql(&raw, None) {
        let _ = audit::check_raire(&f);
    }
    if let Ok(f) = audit::read_usirv(&raw) {
        let _ = audit::check_raire(&f);
    }
    if let Ok(rows) = audit::read_colorado_contests(&raw) {
        let _ = audit::replay_colorado(&rows);
    }
    let vendor = |v: audit::VendorCvrs| {
        let _ = audit::summarise_vendor(&v, &audit::BallotRules::default(), None);
        let _ = audit::summarise_vendor(&v, &audit::BallotRules::default(), Some(&audit::CountRules::default()));
        let _ = audit::CvrSet::from_vendor(&v);
    };
    let clear_ballot_header = "RowNumber,BoxID,BoxPosition,BallotID,PrecinctID,BallotStyleID,PrecinctStyleName,\
ScanComputerName,Status,Remade,Choice_1_1:C:1:Vote For 1:A:NON,Choice_2_1:C:2:Vote For 1:B:NON\n";
    if let Ok(v) = audit::read_nist_cdf(&raw, &audit::ChoiceLabels::default(), None) {
        vendor(v);
    }
    for p in [raw.clone(), file("clear-ballot.csv", &with_header(clear_ballot_header, data))] {
        if let Ok(v) = audit::read_clear_ballot(&p, &audit::ChoiceLabels::default()) {
            vendor(v);
        }
    }
    if let Ok(v) = audit::read_hart(std::slice::from_ref(&raw), &audit::ChoiceLabels::default(), None) {
        vendor(v);
    }
    if let Ok(v) = audit::read_ess(&raw, &audit::EssLayout::default(), &audit::ChoiceLabels::default()) {
        vendor(v);
    }
    let _ = audit::read_cvr_json(&raw);
    let _ = audit::read_cvr_json_lossless(&raw);
    if let (Ok(export), Ok(m)) = (audit::read_cvr_csv(&raw), &manifest) {
        let _ = audit::check_dominion_csv(&export, m);
    }
    comparison(data, &raw);
    batch(data, &raw);
});

fn batch(data: &[u8], raw: &std::path::Path) {
    let _ = audit::BatchAudit::load(raw);
    let tallies_path = file("tallies.csv", &with_header("batch,contest,choice,votes\n", data));
    let Ok(reported) = audit::read_batch_tallies(&tallies_path) else { return };
    let mut m = Manifest::default();
    for (label, contests) in &reported.tallies {
        let votes: u64 = contests.values().flat_map(|c| c.values()).sum();
        m.batches.push(audit::Batch { label: label.clone(), ballots: votes / 2 + 1 });
    }
    let hand = reported.clone();
    let options = audit::BatchStartOptions { runoff: reported.choices.keys().take(1).cloned().collect(), ..Default::default() };
    let Ok(mut a) = audit::BatchAudit::start(reported, &tallies_path, &m, 0.1, "1", &options) else { return };
    let _ = a.status();
    if a.draw_round(&[]).is_ok() {
        let _ = a.record(hand, &tallies_path);
        let _ = a.status();
        let _ = a.draw_round(&[]);
    }
}

fn comparison(data: &[u8], raw: &std::path::Path) {
    let _ = audit::read_ballot_manifest(raw);
    let _ = audit::read_jurisdictions(raw);
    let _ = audit::ComparisonAudit::load(raw);
    let _ = audit::read_readings(&file(
        "readings.csv",
        &with_header("jurisdiction,tabulator,batch,position,contest,choice,found\n", data),
    ));
    let winners = [("C".to_owned(), (1, vec!["A".to_owned()]))].into_iter().collect();
    let _ = audit::colorado_comparison_discrepancies(
        &file("cmp.csv", &with_header("contest_name,choice_per_voting_computer,audit_board_selection\n", data)),
        &winners,
    );
    let Ok(cvrs) = audit::CvrSet::read_dominion_csv(raw) else { return };
    let batches = audit::read_ballot_manifest(&file(
        "cmanifest.csv",
        &with_header("ScannerID,BatchID,NumBallots,StorageLocation\n", data),
    ))
    .unwrap_or_default();
    let j = audit::Jurisdiction {
        name: "J".into(),
        manifest_file: raw.to_owned(),
        manifest_sha256: String::new(),
        cvr_file: raw.to_owned(),
        cvr_sha256: String::new(),
        cvr_format: Default::default(),
        rctab_config: None,
        batches,
    };
    let params = audit::ComparisonParams {
        name: "fuzz".into(),
        risk_limit: 0.1,
        gamma: 1.03905,
        universe: audit::Universe::CardStyle,
        targets: Vec::new(),
        risk_function: audit::RiskFunction::Alpha,
    };
    if let Ok(mut a) = audit::ComparisonAudit::from_records(params, vec![j], std::slice::from_ref(&cvrs)) {
        let seed = audit::SeedCeremony { seed: "1".into(), rolled_by: vec![], witnesses: vec![], at: String::new() };
        if a.record_seed(seed).is_ok() {
            let sizes = a.next_round_sizes();
            if a.draw_records(&sizes, &[cvrs]).is_ok() {
                let _ = a.retrieval_list(2, None);
                let _ = a.status();
                let _ = a.report();
            }
        }
    }
}
