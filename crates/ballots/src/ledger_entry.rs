//! The encoding of a reconciliation run's ledger entries: every input file, every record
//! read, then every rule finding and anomaly written, so that a later verification can
//! show which records a run saw and which findings it reported.
//!
//! An entry is `KIND \t SOURCE \t FILE \t LINE \t FIELDS`, where `FIELDS` are the
//! record's fields (or the finding's columns) joined by the unit separator `0x1F`, which
//! no CSV field of ours holds unescaped. A `source` entry names a file (`FILE`, its size
//! in bytes as the one field); the `record` entries after it carry only the input's role
//! (`roll`, `issued`, `returns`, `checkins`) and their line, with an empty `FILE`.
//! Findings and anomalies name the output file they were written to, with line 0.

use crate::{Anomaly, RuleFinding};

/// Separates the fields of an entry's last column.
pub const FIELD_SEPARATOR: u8 = 0x1f;

/// The kinds of entry, as written in an entry's first column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// An input file: its role, path and size.
    Source,
    /// One record of an input, by role and line.
    Record,
    /// One rule finding of `findings.csv`.
    Finding,
    /// One statistical anomaly of `anomalies.csv`.
    Anomaly,
}

impl EntryKind {
    /// The name written in the entry.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Source => "source",
            EntryKind::Record => "record",
            EntryKind::Finding => "finding",
            EntryKind::Anomaly => "anomaly",
        }
    }
}

/// Writes one entry into `buf` (cleared first, so that one buffer serves a whole run).
pub fn encode_entry<'f>(
    buf: &mut Vec<u8>,
    kind: EntryKind,
    source: &str,
    file: &str,
    line: u64,
    fields: impl IntoIterator<Item = &'f [u8]>,
) {
    buf.clear();
    for column in [kind.as_str(), source, file] {
        buf.extend_from_slice(column.as_bytes());
        buf.push(b'\t');
    }
    buf.extend_from_slice(line.to_string().as_bytes());
    buf.push(b'\t');
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            buf.push(FIELD_SEPARATOR);
        }
        buf.extend_from_slice(f);
    }
}

/// The entry naming the input file of role `source` (`roll`, `issued`, ...), `bytes` long.
pub fn encode_source(buf: &mut Vec<u8>, source: &str, file: &str, bytes: u64) {
    encode_entry(buf, EntryKind::Source, source, file, 0, [bytes.to_string().as_bytes()]);
}

/// The entry of one record read from the input of role `source`, at `line`.
pub fn encode_record(buf: &mut Vec<u8>, source: &str, line: u64, record: &csv::ByteRecord) {
    encode_entry(buf, EntryKind::Record, source, "", line, record.iter());
}

/// The entry of a rule finding written to `findings_csv`.
pub fn encode_finding(buf: &mut Vec<u8>, finding: &RuleFinding, findings_csv: &str) {
    let fields: [&[u8]; 4] = [
        finding.kind.as_str().as_bytes(),
        finding.envelope_id.as_bytes(),
        finding.voter_id.as_bytes(),
        finding.detail.as_bytes(),
    ];
    encode_entry(buf, EntryKind::Finding, "findings.csv", findings_csv, 0, fields);
}

/// The entry of an anomaly written to `anomalies_csv`; the p-value in full (`{:e}`).
pub fn encode_anomaly(buf: &mut Vec<u8>, anomaly: &Anomaly, anomalies_csv: &str) {
    let p = format!("{:e}", anomaly.p_value);
    let fields: [&[u8]; 4] =
        [anomaly.kind.as_bytes(), anomaly.scope.as_bytes(), anomaly.key.as_bytes(), p.as_bytes()];
    encode_entry(buf, EntryKind::Anomaly, "anomalies.csv", anomalies_csv, 0, fields);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleKind;

    #[test]
    fn entries_are_tab_separated_columns_and_unit_separated_fields() {
        let mut buf = b"left over".to_vec();
        let rec = csv::ByteRecord::from(vec!["E1", "V1", "2020-10-01"]);
        encode_record(&mut buf, "issued", 12, &rec);
        assert_eq!(buf, b"record\tissued\t\t12\tE1\x1fV1\x1f2020-10-01");
        encode_source(&mut buf, "roll", "/data/roll.csv", 4096);
        assert_eq!(buf, b"source\troll\t/data/roll.csv\t0\t4096");
        let f = RuleFinding {
            kind: RuleKind::LateReturn,
            envelope_id: "E9".into(),
            voter_id: "V9".into(),
            detail: "after the deadline".into(),
        };
        encode_finding(&mut buf, &f, "out/findings.csv");
        assert_eq!(
            buf,
            b"finding\tfindings.csv\tout/findings.csv\t0\tlate_return\x1fE9\x1fV9\x1fafter the deadline"
        );
        // An empty record still has its five columns.
        encode_record(&mut buf, "returns", 3, &csv::ByteRecord::new());
        assert_eq!(buf, b"record\treturns\t\t3\t");
    }
}
