//! Record counts grouped by columns (`ballots totals --by county,status`): the figures a
//! state publishes, computed in one streaming pass.

use std::collections::BTreeMap;
use std::path::Path;

use csv::ByteRecord;

use crate::BallotsError;
use crate::layout::Layout;

/// The column a grouping name stands for in a layout: `county`, `precinct`, `status`,
/// `type`, `channel`, or any column name of the file itself.
pub fn column_for(layout: &Layout, name: &str) -> String {
    let nc = layout.name == "nc";
    match (name, nc) {
        ("county", true) => "county_desc".into(),
        ("precinct", true) => "precinct_desc".into(),
        ("status", true) => "ballot_rtn_status".into(),
        ("type", true) => "ballot_req_type".into(),
        ("party", true) => "voter_party_code".into(),
        ("status", false) => layout.returns.outcome.clone(),
        ("channel", false) => layout.returns.channel.clone().unwrap_or_else(|| "channel".into()),
        (other, _) => other.to_owned(),
    }
}

/// Counts rows of `path` by the values of `columns` (trimmed, as written).
pub fn count_by(path: &Path, columns: &[String]) -> Result<(BTreeMap<Vec<String>, u64>, u64), BallotsError> {
    let file = scrutineer_core::input::open(path)?;
    // Totals stop at the first bad row; a line over the limit is such a row (an error
    // naming it), never read into memory whole.
    let file =
        scrutineer_core::lines::LineLimit::strict(file, scrutineer_core::lines::DEFAULT_MAX_LINE_BYTES);
    let mut r = csv::ReaderBuilder::new().flexible(true).buffer_capacity(1 << 20).from_reader(file);
    let headers = r
        .byte_headers()
        .map_err(|e| BallotsError::Csv { path: path.to_path_buf(), message: e.to_string() })?
        .clone();
    let mut idx = Vec::new();
    for c in columns {
        let i = headers.iter().position(|h| h.trim_ascii() == c.as_bytes()).ok_or_else(|| {
            BallotsError::MissingColumn {
                file: path.display().to_string(),
                column: c.clone(),
                found: String::from_utf8_lossy(headers.as_slice()).into_owned(),
            }
        })?;
        idx.push(i);
    }
    let mut counts: rustc_hash::FxHashMap<Vec<u8>, u64> = Default::default();
    let mut rec = ByteRecord::new();
    let mut key = Vec::new();
    let mut rows = 0;
    loop {
        match r.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(BallotsError::Csv {
                    path: path.to_path_buf(),
                    message: format!("line {line}: {e}"),
                });
            }
        }
        rows += 1;
        key.clear();
        for (n, &i) in idx.iter().enumerate() {
            if n > 0 {
                key.push(0x1f);
            }
            let Some(v) = rec.get(i) else {
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                return Err(BallotsError::Csv {
                    path: path.to_path_buf(),
                    message: format!("line {line}: no field '{}' (row has {} fields)", columns[n], rec.len()),
                });
            };
            key.extend_from_slice(v.trim_ascii());
        }
        match counts.get_mut(key.as_slice()) {
            Some(c) => *c += 1,
            None => {
                counts.insert(key.clone(), 1);
            }
        }
    }
    let out = counts
        .into_iter()
        .map(|(k, v)| (k.split(|&b| b == 0x1f).map(|p| String::from_utf8_lossy(p).into_owned()).collect(), v))
        .collect();
    Ok((out, rows))
}
