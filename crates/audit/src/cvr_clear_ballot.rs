//! Clear Ballot ClearVote cast-vote-record CSV: one row per card, the columns
//! `RowNumber, BoxID, BoxPosition, BallotID, PrecinctID, BallotStyleID, ...`, then one
//! column per (choice, rank) headed `Choice_ID_N:CONTEST:RANK:Vote For K:CANDIDATE:PARTY`
//! (a plurality contest has rank 1 only). A cell is `1` for a mark, `0` for none, empty
//! when the contest is not on that card. The file is read a row at a time.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cvr::{
    ChoiceLabels, Label, MalformedRow, RankMark, RankedBallot, RankedContest, VendorCvrs, VendorFormat,
};
use crate::error::{AuditError, Columns, Result, csv_err, open_lines};

/// One choice column of the header.
#[derive(Debug, Clone)]
struct ChoiceColumn {
    index: usize,
    contest: usize,
    rank: usize,
    choice: usize,
}

/// Splits a choice header `Choice_ID_N:CONTEST:RANK:VOTE FOR:CANDIDATE:PARTY`; the
/// candidate may itself hold colons (the parts around it are fixed).
fn split_header(h: &str) -> Option<(&str, usize, &str, u64)> {
    let parts: Vec<&str> = h.split(':').collect();
    if parts.len() < 6 || !parts[0].starts_with("Choice_") {
        return None;
    }
    let rank = parts[2].trim().parse().ok().filter(|&r: &usize| r >= 1)?;
    let candidate_end = h.len() - parts[parts.len() - 1].len() - 1;
    let candidate_start = parts[..4].iter().map(|p| p.len() + 1).sum::<usize>();
    // `Vote For 2` or `Number of Winners 1`: the last word.
    let vote_for = parts[3].split_whitespace().last().and_then(|w| w.parse().ok()).unwrap_or(1);
    Some((parts[1], rank, h.get(candidate_start..candidate_end)?, vote_for))
}

/// Reads a Clear Ballot CSV export. `labels` maps candidate names (and the undeclared
/// write-in label); a cell other than `0`, `1` or empty is reported in
/// [`VendorCvrs::malformed`] with its line and column, and its row left out.
pub fn read_clear_ballot(path: &Path, labels: &ChoiceLabels) -> Result<VendorCvrs> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let ballot_col = cols.require("BallotID")?;
    let precinct_col = cols.find("PrecinctID");
    let box_col = cols.find("BoxID");
    let position_col = cols.find("BoxPosition");
    let mut contests: Vec<RankedContest> = Vec::new();
    let mut choice_cols = Vec::new();
    for (index, h) in cols.names().iter().enumerate() {
        if !h.starts_with("Choice_") {
            continue;
        }
        let (contest_name, rank, candidate, vote_for) = split_header(h).ok_or_else(|| {
            AuditError::field(path, 1, h, h, "expected 'Choice_ID_N:CONTEST:RANK:VOTE FOR:CANDIDATE:PARTY'")
        })?;
        let contest = match contests.iter().position(|c| c.name == contest_name) {
            Some(k) => k,
            None => {
                contests.push(RankedContest {
                    id: contest_name.to_owned(),
                    name: contest_name.to_owned(),
                    choices: Vec::new(),
                    vote_for,
                    ballots: Vec::new(),
                });
                contests.len() - 1
            }
        };
        let name = match labels.interpret(candidate) {
            Ok(Label::Choice(n)) => n,
            Ok(_) => candidate.to_owned(),
            // A column is a candidate: a configuration that does not list it is refused.
            Err(message) => return Err(AuditError::field(path, 1, h, candidate, message)),
        };
        let choice = contests[contest].choice_index(&name);
        choice_cols.push(ChoiceColumn { index, contest, rank, choice });
    }
    if choice_cols.is_empty() {
        return Err(AuditError::MissingColumn { path: path.to_owned(), column: "Choice_...".into() });
    }
    let ranks_of: BTreeMap<usize, usize> = choice_cols.iter().fold(BTreeMap::new(), |mut m, c| {
        let e = m.entry(c.contest).or_insert(0);
        *e = (*e).max(c.rank);
        m
    });
    let mut out = VendorCvrs {
        format: VendorFormat::ClearBallot,
        files: vec![path.to_owned()],
        cards: 0,
        contests: Vec::new(),
        malformed: Vec::new(),
    };
    let mut record = csv::StringRecord::new();
    'rows: loop {
        if !reader.read_record(&mut record).map_err(|e| csv_err(path, e))? {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        out.cards += 1;
        if record.len() != headers.len() {
            out.malformed.push(MalformedRow {
                file: path.to_owned(),
                line,
                field: "(row)".into(),
                message: format!("{} fields, the header has {}", record.len(), headers.len()),
            });
            continue;
        }
        // marks[contest][rank] = choices marked; None while every cell is empty.
        let mut marks: Vec<Option<Vec<Vec<usize>>>> = vec![None; contests.len()];
        for c in &choice_cols {
            let v = record.get(c.index).unwrap_or("").trim();
            let marked = match v {
                "" => continue,
                "0" => false,
                "1" => true,
                other => {
                    out.malformed.push(MalformedRow {
                        file: path.to_owned(),
                        line,
                        field: headers.get(c.index).unwrap_or("").to_owned(),
                        message: format!(
                            "expected 0 or 1, found '{}'",
                            scrutineer_core::text::echo_str(other)
                        ),
                    });
                    continue 'rows;
                }
            };
            let ranks = marks[c.contest].get_or_insert_with(|| vec![Vec::new(); ranks_of[&c.contest]]);
            if marked {
                ranks[c.rank - 1].push(c.choice);
            }
        }
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i)).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
        };
        for (k, m) in marks.into_iter().enumerate() {
            let Some(ranks) = m else { continue };
            contests[k].ballots.push(RankedBallot {
                id: record.get(ballot_col).unwrap_or("").trim().to_owned(),
                file: path.to_owned(),
                line,
                precinct: field(precinct_col),
                batch: field(box_col),
                position: field(position_col).and_then(|p| p.parse().ok()),
                ranks: ranks
                    .into_iter()
                    .map(|cs| if cs.is_empty() { RankMark::Skipped } else { RankMark::Choices(cs) })
                    .collect(),
            });
        }
    }
    out.contests = contests;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::split_header;

    #[test]
    fn choice_headers_split_around_candidates_with_colons() {
        assert_eq!(
            split_header("Choice_6_1:City of Portland, Auditor:2:Number of Winners 1:Simone Rede:NON"),
            Some(("City of Portland, Auditor", 2, "Simone Rede", 1))
        );
        assert_eq!(split_header("Choice_1_1:C:1:Vote For 1:A: B:DEM"), Some(("C", 1, "A: B", 1)));
        assert_eq!(split_header("Choice_1_1:C:x:Vote For 1:A:DEM"), None);
        assert_eq!(split_header("RowNumber"), None);
    }
}
