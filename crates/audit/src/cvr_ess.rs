//! ES&S cast-vote-record workbooks (`.xlsx`, as ES&S's Electionware exports them for
//! ranked-choice contests): the first worksheet, a header row, then one row per ballot;
//! one column per rank from the first vote column on, each cell a candidate's name or
//! code, the overvote label (`overvote`), the skipped-rank label (`undervote`), the
//! undeclared write-in label (`UWI`), or several candidates joined by the overvote
//! delimiter. Optional columns give the record's id, precinct and batch. The sheet is
//! read cell by cell, a row at a time.

use std::path::Path;

use calamine::{DataRef, Reader as _, Xlsx, open_workbook};

use crate::cvr::{
    ChoiceLabels, Label, MalformedRow, RankMark, RankedBallot, RankedContest, VendorCvrs, VendorFormat,
};
use crate::error::{AuditError, Result};

/// Where things are in an ES&S workbook (0-based).
#[derive(Debug, Clone)]
pub struct EssLayout {
    /// The contest's name (ES&S exports one contest per workbook).
    pub contest: String,
    /// The first rank's column.
    pub first_vote_column: usize,
    /// The first ballot's row (the rows above are headers).
    pub first_vote_row: usize,
    /// Ranks read (none: every column from the first vote column on).
    pub ranks: Option<usize>,
    /// The record id's column (none: the row number).
    pub id_column: Option<usize>,
    /// The precinct's column.
    pub precinct_column: Option<usize>,
    /// The batch's column.
    pub batch_column: Option<usize>,
}

impl Default for EssLayout {
    /// ES&S's usual layout: `Cast Vote Record, Precinct, Ballot Style`, then the ranks.
    fn default() -> EssLayout {
        EssLayout {
            contest: String::new(),
            first_vote_column: 3,
            first_vote_row: 1,
            ranks: None,
            id_column: Some(0),
            precinct_column: Some(1),
            batch_column: None,
        }
    }
}

impl EssLayout {
    /// The layout one of RCTab's sources gives (its indices are 1-based).
    pub fn from_rctab(
        source: &crate::cvr::RctabSource,
        contest: &str,
        ranks: Option<usize>,
    ) -> Result<EssLayout> {
        use crate::cvr::one_based;
        Ok(EssLayout {
            contest: contest.to_owned(),
            first_vote_column: one_based(&source.first_vote_column_index, "firstVoteColumnIndex")?
                .unwrap_or(3),
            first_vote_row: one_based(&source.first_vote_row_index, "firstVoteRowIndex")?.unwrap_or(1),
            ranks,
            id_column: one_based(&source.id_column_index, "idColumnIndex")?,
            precinct_column: one_based(&source.precinct_column_index, "precinctColumnIndex")?,
            batch_column: one_based(&source.batch_column_index, "batchColumnIndex")?,
        })
    }
}

fn xlsx_err(path: &Path, e: impl std::fmt::Display) -> AuditError {
    AuditError::format(path, 0, format!("not a readable .xlsx workbook: {e}"))
}

fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Int(i) => i.to_string(),
        // Whole numbers written as floats (ids, precinct numbers) read as integers.
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::Error(e) => format!("#{e:?}"),
        DataRef::Empty => String::new(),
    }
}

/// Column letters of a 0-based column, as a spreadsheet names it (0 → A).
fn column_name(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Reads an ES&S workbook. A row whose cell is not a declared candidate or label is
/// reported in [`VendorCvrs::malformed`] with its row and column, and left out.
pub fn read_ess(path: &Path, layout: &EssLayout, labels: &ChoiceLabels) -> Result<VendorCvrs> {
    let mut workbook: Xlsx<_> = open_workbook(path).map_err(|e| xlsx_err(path, e))?;
    let sheet =
        workbook.sheet_names().first().cloned().ok_or_else(|| AuditError::format(path, 0, "no worksheet"))?;
    let mut contest = RankedContest {
        id: String::new(),
        name: if layout.contest.is_empty() {
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
        } else {
            layout.contest.clone()
        },
        choices: labels.declared.clone(),
        vote_for: 1,
        ballots: Vec::new(),
    };
    let mut out = VendorCvrs {
        format: VendorFormat::Ess,
        files: vec![path.to_owned()],
        cards: 0,
        contests: Vec::new(),
        malformed: Vec::new(),
    };
    let mut width: Option<usize> = None;
    {
        let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(|e| xlsx_err(path, e))?;
        let mut row: Vec<String> = Vec::new();
        let mut row_index: Option<u32> = None;
        loop {
            let next = cells.next_cell().map_err(|e| xlsx_err(path, e))?;
            let position = next.as_ref().map(|c| c.get_position());
            if row_index.is_some() && position.map(|p| p.0) != row_index {
                let r = row_index.unwrap_or(0) as usize;
                if r + 1 == layout.first_vote_row.max(1) {
                    width = Some(row.len());
                }
                if r >= layout.first_vote_row {
                    read_row(path, layout, labels, width, r, &row, &mut contest, &mut out);
                }
                row.clear();
            }
            let Some(cell) = next else { break };
            let (r, c) = cell.get_position();
            row_index = Some(r);
            let c = c as usize;
            if row.len() <= c {
                row.resize(c + 1, String::new());
            }
            row[c] = cell_text(cell.get_value());
        }
    }
    contest.id = contest.name.clone();
    out.contests.push(contest);
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn read_row(
    path: &Path,
    layout: &EssLayout,
    labels: &ChoiceLabels,
    header_width: Option<usize>,
    row_index: usize,
    row: &[String],
    contest: &mut RankedContest,
    out: &mut VendorCvrs,
) {
    let line = row_index as u64 + 1;
    if row.iter().all(|c| c.trim().is_empty()) {
        return;
    }
    out.cards += 1;
    let end = match layout.ranks {
        Some(n) => layout.first_vote_column + n,
        None => header_width.unwrap_or(row.len()).max(layout.first_vote_column),
    };
    let get =
        |c: Option<usize>| c.and_then(|c| row.get(c)).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut ranks = Vec::new();
    for col in layout.first_vote_column..end {
        let raw = row.get(col).map(String::as_str).unwrap_or("");
        let parts: Vec<&str> = match &labels.overvote_delimiter {
            Some(d) if raw.contains(d.as_str()) => raw.split(d.as_str()).collect(),
            _ => vec![raw],
        };
        let mut marked = Vec::new();
        let mut mark = None;
        for part in &parts {
            match labels.interpret(part) {
                Ok(Label::Choice(name)) => marked.push(contest.choice_index(&name)),
                Ok(Label::Skipped) if parts.len() == 1 => mark = Some(RankMark::Skipped),
                Ok(Label::Overvote) if parts.len() == 1 => mark = Some(RankMark::Overvote),
                Ok(_) => {
                    out.malformed.push(MalformedRow {
                        file: path.to_owned(),
                        line,
                        field: column_name(col),
                        message: format!(
                            "a label joined to candidates in '{}'",
                            scrutineer_core::text::echo_str(raw)
                        ),
                    });
                    return;
                }
                Err(message) => {
                    out.malformed.push(MalformedRow {
                        file: path.to_owned(),
                        line,
                        field: column_name(col),
                        message,
                    });
                    return;
                }
            }
        }
        marked.dedup();
        ranks.push(mark.unwrap_or(RankMark::Choices(marked)));
    }
    let id = get(layout.id_column).unwrap_or_else(|| line.to_string());
    contest.ballots.push(RankedBallot {
        id,
        file: path.to_owned(),
        line,
        precinct: get(layout.precinct_column),
        batch: get(layout.batch_column),
        position: None,
        ranks,
    });
}

#[cfg(test)]
mod tests {
    use super::column_name;

    #[test]
    fn column_names_follow_spreadsheet_letters() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }
}
