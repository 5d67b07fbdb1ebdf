//! The output files: `findings.csv`, `anomalies.csv`, `totals.csv`, `malformed.csv` and
//! the canvass report `reconciliation.txt`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use scrutineer_core::text::csv_safe_record;

use crate::read::{Malformed, ReadStats};
use crate::{Anomaly, BallotsError, PrecinctTotals, RuleFinding};

/// Every cell goes through [`csv_safe_record`]: ids, details and quoted bad values come
/// from the input and must not run as formulas when the file is opened in a spreadsheet.
fn writer(path: &Path) -> Result<csv::Writer<std::fs::File>, BallotsError> {
    csv::Writer::from_path(path)
        .map_err(|e| BallotsError::Csv { path: path.to_path_buf(), message: e.to_string() })
}

fn err(path: &Path) -> impl Fn(csv::Error) -> BallotsError + '_ {
    move |e| BallotsError::Csv { path: path.to_path_buf(), message: e.to_string() }
}

/// Writes `findings.csv` (`kind,envelope_id,voter_id,detail`).
pub fn write_findings(path: &Path, findings: &[RuleFinding]) -> Result<(), BallotsError> {
    let mut w = writer(path)?;
    w.write_record(csv_safe_record(["kind", "envelope_id", "voter_id", "detail"])).map_err(err(path))?;
    for f in findings {
        w.write_record(csv_safe_record([f.kind.as_str(), &f.envelope_id, &f.voter_id, &f.detail]))
            .map_err(err(path))?;
    }
    w.flush().map_err(|source| BallotsError::Io { path: path.to_path_buf(), source })
}

/// Writes `anomalies.csv`.
pub fn write_anomalies(path: &Path, anomalies: &[Anomaly]) -> Result<(), BallotsError> {
    let mut w = writer(path)?;
    w.write_record(csv_safe_record([
        "kind",
        "scope",
        "key",
        "observed",
        "expected",
        "statistic",
        "p_value",
        "detail",
    ]))
    .map_err(err(path))?;
    for a in anomalies {
        w.write_record(csv_safe_record([
            a.kind,
            a.scope,
            &a.key,
            &format!("{}", a.observed),
            &format!("{:.4}", a.expected),
            &format!("{:.4}", a.statistic),
            &format!("{:.3e}", a.p_value),
            &a.detail,
        ]))
        .map_err(err(path))?;
    }
    w.flush().map_err(|source| BallotsError::Io { path: path.to_path_buf(), source })
}

/// Writes `totals.csv` (`precinct,issued,returned,accepted,rejected,outstanding`).
pub fn write_totals(path: &Path, totals: &BTreeMap<String, PrecinctTotals>) -> Result<(), BallotsError> {
    let mut w = writer(path)?;
    w.write_record(csv_safe_record([
        "precinct",
        "issued",
        "returned",
        "accepted",
        "rejected",
        "outstanding",
    ]))
    .map_err(err(path))?;
    for (p, t) in totals {
        w.write_record(csv_safe_record([
            p.as_str(),
            &t.issued.to_string(),
            &t.returned.to_string(),
            &t.accepted.to_string(),
            &t.rejected.to_string(),
            &t.outstanding.to_string(),
        ]))
        .map_err(err(path))?;
    }
    w.flush().map_err(|source| BallotsError::Io { path: path.to_path_buf(), source })
}

/// Writes `malformed.csv` (`file,line,field,problem`).
pub fn write_malformed(path: &Path, rows: &[Malformed]) -> Result<(), BallotsError> {
    let mut w = writer(path)?;
    w.write_record(csv_safe_record(["file", "line", "field", "problem"])).map_err(err(path))?;
    for m in rows {
        w.write_record(csv_safe_record([m.file.as_str(), &m.line.to_string(), &m.field, &m.problem]))
            .map_err(err(path))?;
    }
    w.flush().map_err(|source| BallotsError::Io { path: path.to_path_buf(), source })
}

/// A plain-text report a canvass board can read and sign: the closing equation per
/// precinct and overall, the rule findings by kind and what was not read.
pub fn write_report(
    path: &Path,
    totals: &BTreeMap<String, PrecinctTotals>,
    findings: &[RuleFinding],
    anomalies: usize,
    stats: &ReadStats,
    header: &str,
) -> Result<(), BallotsError> {
    let io = |source| BallotsError::Io { path: path.to_path_buf(), source };
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    let mut all = PrecinctTotals::default();
    for t in totals.values() {
        all.issued += t.issued;
        all.returned += t.returned;
        all.accepted += t.accepted;
        all.rejected += t.rejected;
        all.outstanding += t.outstanding;
        all.spoiled += t.spoiled;
        all.pending += t.pending;
    }
    let mut s = String::new();
    s.push_str("MAIL BALLOT RECONCILIATION\n\n");
    s.push_str(header);
    s.push_str("\n\nEnvelopes: issued = returned + outstanding; outstanding = spoiled (voided, not returned) + still out.\n");
    s.push_str("Returned = accepted (incl. cured) + rejected (no accepted receipt) + pending.\n\n");
    s.push_str(&format!(
        "{:<30} {:>10} {:>10} {:>10} {:>10} {:>10} {:>11} {:>10} {:>6}\n",
        "precinct",
        "issued",
        "returned",
        "accepted",
        "rejected",
        "pending",
        "outstanding",
        "spoiled",
        "closes"
    ));
    let mut open = 0;
    for (p, t) in totals.iter().chain(std::iter::once((&"ALL".to_owned(), &all))) {
        let closes =
            t.issued == t.returned + t.outstanding && t.returned == t.accepted + t.rejected + t.pending;
        open += (!closes) as usize;
        s.push_str(&format!(
            "{:<30} {:>10} {:>10} {:>10} {:>10} {:>10} {:>11} {:>10} {:>6}\n",
            p,
            t.issued,
            t.returned,
            t.accepted,
            t.rejected,
            t.pending,
            t.outstanding,
            t.spoiled,
            if closes { "yes" } else { "NO" }
        ));
    }
    s.push_str(&format!(
        "\nEvery row closes: {}.\n",
        if open == 0 { "yes".to_owned() } else { format!("NO ({open} rows do not; see above)") }
    ));
    s.push_str("\nRule findings (findings.csv):\n");
    for k in crate::RuleKind::ALL {
        let n = findings.iter().filter(|f| f.kind == k).count();
        s.push_str(&format!("  {:<22} {n}\n", k.as_str()));
    }
    s.push_str(&format!("Statistical anomalies (anomalies.csv): {anomalies}\n"));
    s.push_str(&format!(
        "\nRows read: roll {}, issued {}, returns {}, check-ins {}; status updates {}, requests not yet sent {}, \
         unreturned rows {}, in-person rows {}, spoiled statuses {}; receipts matched by Intelligent Mail barcode {}; \
         voter-history rows of other elections {}, not in person {}; malformed rows {} (malformed.csv, with file and line).\n",
        stats.roll_rows,
        stats.issued_rows,
        stats.return_rows,
        stats.checkin_rows,
        stats.status_updates,
        stats.not_yet_sent,
        stats.not_returned,
        stats.in_person_rows,
        stats.spoiled_rows,
        stats.imb_matched,
        stats.other_election_rows,
        stats.not_in_person_rows,
        stats.malformed
    ));
    s.push_str("\nCertified by the canvass board: ______________________  date: __________\n");
    f.write_all(s.as_bytes()).map_err(io)?;
    f.flush().map_err(io)
}
