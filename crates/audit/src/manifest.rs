//! Ballot manifests: the list of batches (containers) and how many ballot cards each holds.
//!
//! Accepted layouts, found by column name: Arlo (`Batch Name`, `Number of Ballots`,
//! optional `Container`/`Tabulator`), ColoradoRLA (`CountyID`, `ScannerID`, `BatchID`,
//! `NumBallots`), Colorado county manifests (`County`, `Tabulator`, `Batch`,
//! `# of Ballot`) and a plain `batch,ballots`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{AuditError, Columns, Result, csv_err, open_lines};

/// One batch of a ballot manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The batch's label: jurisdiction, tabulator and batch id joined with `/` where present.
    pub label: String,
    /// Ballots in the batch.
    pub ballots: u64,
}

/// A ballot manifest: every batch and its ballot count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The batches, in file order.
    pub batches: Vec<Batch>,
}

fn pick(cols: &Columns, names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| cols.find(n))
}

impl Manifest {
    /// Ballots in all batches.
    pub fn total_ballots(&self) -> u64 {
        self.batches.iter().map(|b| b.ballots).sum()
    }

    /// Ballot ids for the sampler, in manifest order: `LABEL-POSITION`, positions from 1.
    pub fn ballot_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.batches.iter().flat_map(|b| (1..=b.ballots).map(move |p| format!("{}-{}", b.label, p)))
    }

    /// Splits an id made by [`Manifest::ballot_ids`] back into batch label and position.
    pub fn split_id(id: &str) -> Option<(&str, u64)> {
        let (label, pos) = id.rsplit_once('-')?;
        Some((label, pos.parse().ok()?))
    }

    /// Reads a manifest CSV (plain, gzip or zstd).
    pub fn read(path: &Path) -> Result<Manifest> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(open_lines(path)?);
        let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
        let cols = Columns::new(path, &headers);
        let batch =
            pick(&cols, &["Batch Name", "BatchID", "Batch", "batch_id", "batch"]).ok_or_else(|| {
                AuditError::MissingColumn { path: path.to_owned(), column: "Batch Name".into() }
            })?;
        let count =
            pick(&cols, &["Number of Ballots", "NumBallots", "# of Ballot", "# of Ballots", "ballots"])
                .ok_or_else(|| AuditError::MissingColumn {
                    path: path.to_owned(),
                    column: "Number of Ballots".into(),
                })?;
        let juris = pick(&cols, &["Jurisdiction", "CountyID", "County"]);
        let tab = pick(&cols, &["Tabulator", "ScannerID", "TabulatorNum", "Container"]);
        let mut batches = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for rec in reader.records() {
            let r = rec.map_err(|e| csv_err(path, e))?;
            let line = r.position().map(|p| p.line()).unwrap_or(0);
            if r.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let parts: Vec<&str> = [juris, tab, Some(batch)]
                .into_iter()
                .flatten()
                .filter_map(|i| r.get(i))
                .map(str::trim)
                .collect();
            let label = parts.join("/");
            let raw = r.get(count).unwrap_or("").trim();
            let ballots = raw.replace(',', "").parse::<u64>().map_err(|e| {
                AuditError::field(
                    path,
                    line,
                    cols.names().get(count).map_or("ballots", |s| s),
                    raw,
                    e.to_string(),
                )
            })?;
            if !seen.insert(label.clone()) {
                return Err(AuditError::format(path, line, format!("batch '{label}' appears twice")));
            }
            batches.push(Batch { label, ballots });
        }
        Ok(Manifest { batches })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_coloradorla_layout_and_rejects_duplicates() {
        let dir = std::env::temp_dir().join(format!("manifest-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let p = dir.join("m.csv");
        std::fs::write(&p, "CountyID,ScannerID,BatchID,NumBallots,StorageLocation\nArapahoe,\"10\",\"2\",25,Bin 22\nArapahoe,3,800,20,Bin 1\n").expect("w");
        let m = Manifest::read(&p).expect("read");
        assert_eq!(m.total_ballots(), 45);
        assert_eq!(m.batches[0].label, "Arapahoe/10/2");
        let ids: Vec<String> = m.ballot_ids().take(2).collect();
        assert_eq!(ids, ["Arapahoe/10/2-1", "Arapahoe/10/2-2"]);
        assert_eq!(Manifest::split_id("Arapahoe/10/2-25"), Some(("Arapahoe/10/2", 25)));
        std::fs::write(&p, "batch,ballots\nA,3\nA,4\n").expect("w");
        assert!(Manifest::read(&p).expect_err("dup").to_string().contains(":3:"));
    }
}
