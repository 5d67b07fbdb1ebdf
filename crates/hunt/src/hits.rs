//! `hits.csv`: one row per record a detection matched.

use std::io::Write;
use std::path::PathBuf;

use crate::hunt::Hit;

/// The header of `hits.csv`, a contract with the analysts' tools.
pub const HITS_CSV_HEADER: [&str; 6] = ["file", "record", "rule", "source", "technique", "severity"];

/// Writes `hits` as `hits.csv` rows (header first); `files` names their input files.
/// Several techniques are `;`-separated.
pub fn write_hits_csv<W: Write>(out: W, files: &[PathBuf], hits: &[Hit]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HITS_CSV_HEADER)?;
    for h in hits {
        let file = files.get(h.file).map(|p| p.display().to_string()).unwrap_or_default();
        let techniques: Vec<&str> = h.techniques.iter().map(|t| t.id.as_str()).collect();
        w.write_record([
            file.as_str(),
            &h.record.to_string(),
            &h.rule,
            &h.source,
            &techniques.join(";"),
            h.severity.as_str(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
