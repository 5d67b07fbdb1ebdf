//! Any bytes as the roll, issued, returns and check-in files of the generic layout
//! (split at 0xFF bytes, each after its header), then the reconciliation on whatever
//! was read: rows are read or reported malformed with a line number, and nothing
//! panics. (The statistical tests are left out: their resampling would make each input
//! take a tenth of a second, and they read no input.) Lines are bounded at 1 KiB so that the
//! long-line path is reached.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use scrutineer_ballots::{Inputs, Layout, read_all, reconcile};

const HEADERS: [&str; 4] = [
    "voter_id,status,precinct,ballot_style,address,zip,county\n",
    "envelope_id,voter_id,ballot_style,issue_date,address,zip,imb\n",
    "envelope_id,returned_at,channel,outcome,reason,imb\n",
    "voter_id,checked_in_at,location\n",
];

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("scrutineer-ballots-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fuzz_target!(|data: &[u8]| {
    let d = dir();
    let mut parts = data.split(|&b| b == 0xFF);
    let names = ["roll.csv", "issued.csv", "returns.csv", "checkins.csv"];
    let paths: Vec<PathBuf> = names.iter().map(|n| d.join(n)).collect();
    for (i, p) in paths.iter().enumerate() {
        let mut body = HEADERS[i].as_bytes().to_vec();
        body.extend_from_slice(parts.next().unwrap_or(&[]));
        std::fs::write(p, body).expect("write");
    }
    let inputs = Inputs {
        roll: &paths[0],
        issued: &paths[1],
        returns: &paths[2],
        checkins: Some(&paths[3]),
        max_line: 1024,
    };
    let layout = Layout::generic();
    let Ok(mut ds) = read_all(&inputs, &layout, None, None) else { return };
    assert_eq!(ds.stats.malformed as usize, ds.malformed.len(), "every malformed row is listed");
    for m in &ds.malformed {
        assert!(m.problem.len() < 2048, "problems quote bounded values: {}", m.problem.len());
    }
    let rec = reconcile(&mut ds, 1_604_431_800);
    // Every receipt read is counted once in the totals: returned never exceeds receipts.
    let returned: u64 = rec.totals.values().map(|t| t.returned).sum();
    assert!(returned as usize <= ds.receipts.len(), "{returned} returned of {} receipts", ds.receipts.len());
});
