//! NIST SP 1500-103 Cast Vote Record Common Data Format (CDF), JSON and XML.
//!
//! The report (`CastVoteRecordReport`) holds `Election` (its `Candidate`s and `Contest`s,
//! each contest's `ContestSelection`s naming `CandidateIds`, a write-in flag
//! `IsWriteIn`, a ballot measure's `Selection` or a party's `PartyIds`), `GpUnit`s and
//! `Party`s, and one `CVR` per card: `CurrentSnapshotId` names the `CVRSnapshot` that
//! counts; its `CVRContest`s hold `CVRContestSelection`s (`ContestSelectionId`, an
//! optional `Rank`, `Status`) with `SelectionPosition`s (`HasIndication`, `IsAllocable`,
//! `Rank`, `CVRWriteIn`). JSON names an object's id `@id`, XML its `ObjectId`
//! attribute; XML elements are matched by local name, with or without the namespace.
//!
//! Read as RCTab reads it: a selection whose `Status` is `needs-adjudication` is left
//! out, a position with `HasIndication` or `IsAllocable` `no` is not a mark, a
//! selection flagged a write-in (or a position carrying `CVRWriteIn`) is an undeclared
//! write-in. A contest with no `Rank` anywhere is a plurality contest (one rank, every
//! mark in it). The card's batch is `BatchId`, its position `BatchSequenceId`, its
//! precinct the `Name` of the `GpUnit` its `BallotStyleUnitId` names.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::cvr::{
    ChoiceLabels, Label, MalformedRow, RankMark, RankedBallot, RankedContest, UNDECLARED_WRITE_IN,
    VendorCvrs, VendorFormat,
};
use crate::error::{AuditError, Result};

/// The largest CDF file read (held in memory whole, as RCTab does).
const MAX_CDF_BYTES: u64 = 2 << 30;

#[derive(Debug, Default)]
struct Selection {
    id: String,
    candidate_ids: Vec<String>,
    party_ids: Vec<String>,
    text: Option<String>,
    write_in: bool,
}

#[derive(Debug, Default)]
struct Contest {
    id: String,
    name: String,
    votes_allowed: Option<u64>,
    selections: Vec<Selection>,
}

#[derive(Debug, Default)]
struct Position {
    indicated: bool,
    allocable: bool,
    rank: Option<String>,
    write_in: bool,
}

#[derive(Debug, Default)]
struct CvrSelection {
    line: u64,
    selection_id: Option<String>,
    rank: Option<String>,
    status: Option<String>,
    positions: Vec<Position>,
}

#[derive(Debug, Default)]
struct CvrContest {
    contest_id: String,
    selections: Vec<CvrSelection>,
}

#[derive(Debug, Default)]
struct Snapshot {
    id: String,
    contests: Vec<CvrContest>,
}

#[derive(Debug, Default)]
struct Cvr {
    line: u64,
    id: Option<String>,
    batch: Option<String>,
    sequence: Option<String>,
    unit: Option<String>,
    current: Option<String>,
    snapshots: Vec<Snapshot>,
}

#[derive(Debug, Default)]
struct Report {
    candidates: HashMap<String, String>,
    parties: HashMap<String, String>,
    units: HashMap<String, String>,
    contests: Vec<Contest>,
    cvrs: Vec<Cvr>,
}

/// Reads a CDF report (`.json` or `.xml`; other names are tried as JSON, then XML).
/// With `contest` (a contest's `Name` or id, as RCTab's `contestId`), only that contest
/// is read. A card whose current snapshot is missing, a selection the contest does not
/// declare, a rank that is not a whole number from 1, a name that is not a declared
/// candidate or label: each is a [`MalformedRow`] (file, line, field, value), that
/// card left out of that contest. A file that is not JSON or XML, or a contest not in
/// the file, stops the read.
pub fn read_nist_cdf(path: &Path, labels: &ChoiceLabels, contest: Option<&str>) -> Result<VendorCvrs> {
    let size = std::fs::metadata(path).map_err(|e| AuditError::io(path, e))?.len();
    if size > MAX_CDF_BYTES {
        return Err(AuditError::format(
            path,
            0,
            format!("{size} bytes: larger than the {MAX_CDF_BYTES} a CDF report may be"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| AuditError::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line =
            1 + e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u64;
        AuditError::format(path, line, "not UTF-8")
    })?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let report = match ext.as_str() {
        "xml" => read_xml(path, &text)?,
        "json" => read_json(path, &text)?,
        _ if text.trim_start().starts_with('<') => read_xml(path, &text)?,
        _ => read_json(path, &text)?,
    };
    convert(path, report, labels, contest)
}

// ------------------------------------------------------------ JSON

fn read_json(path: &Path, text: &str) -> Result<Report> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| AuditError::Json {
        path: path.to_owned(),
        line: e.line(),
        source: e,
    })?;
    let lines = cvr_lines(text);
    let mut r = Report::default();
    for e in list(&v["Election"]) {
        for c in list(&e["Candidate"]) {
            if let (Some(id), Some(name)) = (s(&c["@id"]), s(&c["Name"])) {
                r.candidates.insert(id, name);
            }
        }
        for c in list(&e["Contest"]) {
            r.contests.push(Contest {
                id: s(&c["@id"]).unwrap_or_default(),
                name: s(&c["Name"]).unwrap_or_default(),
                votes_allowed: s(&c["VotesAllowed"]).and_then(|x| x.parse().ok()),
                selections: list(&c["ContestSelection"])
                    .iter()
                    .map(|x| Selection {
                        id: s(&x["@id"]).unwrap_or_default(),
                        candidate_ids: strings(&x["CandidateIds"]),
                        party_ids: strings(&x["PartyIds"]),
                        text: s(&x["Selection"]),
                        write_in: s(&x["IsWriteIn"]).is_some_and(|w| yes(&w)),
                    })
                    .collect(),
            });
        }
    }
    for p in list(&v["Party"]) {
        if let (Some(id), Some(name)) = (s(&p["@id"]), s(&p["Name"])) {
            r.parties.insert(id, name);
        }
    }
    for u in list(&v["GpUnit"]) {
        if let (Some(id), Some(name)) = (s(&u["@id"]), s(&u["Name"])) {
            r.units.insert(id, name);
        }
    }
    for (i, c) in list(&v["CVR"]).iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(0);
        r.cvrs.push(Cvr {
            line,
            id: s(&c["BallotPrePrintedId"]).or_else(|| s(&c["UniqueId"])),
            batch: s(&c["BatchId"]),
            sequence: s(&c["BatchSequenceId"]),
            unit: s(&c["BallotStyleUnitId"]),
            current: s(&c["CurrentSnapshotId"]),
            snapshots: list(&c["CVRSnapshot"])
                .iter()
                .map(|snap| Snapshot {
                    id: s(&snap["@id"]).unwrap_or_default(),
                    contests: list(&snap["CVRContest"])
                        .iter()
                        .map(|cc| CvrContest {
                            contest_id: s(&cc["ContestId"]).unwrap_or_default(),
                            selections: list(&cc["CVRContestSelection"])
                                .iter()
                                .map(|sel| CvrSelection {
                                    line,
                                    selection_id: s(&sel["ContestSelectionId"]),
                                    rank: s(&sel["Rank"]),
                                    status: s(&sel["Status"]),
                                    positions: list(&sel["SelectionPosition"])
                                        .iter()
                                        .map(|p| Position {
                                            indicated: s(&p["HasIndication"]).is_none_or(|x| x != "no"),
                                            allocable: s(&p["IsAllocable"]).is_none_or(|x| x != "no"),
                                            rank: s(&p["Rank"]),
                                            write_in: !p["CVRWriteIn"].is_null(),
                                        })
                                        .collect(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        });
    }
    Ok(r)
}

/// A scalar as text (CDF writers give numbers and flags as strings or as JSON values).
fn s(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An array's elements (a lone object is a list of one, a missing field none).
fn list(v: &serde_json::Value) -> Vec<&serde_json::Value> {
    match v {
        serde_json::Value::Array(a) => a.iter().collect(),
        serde_json::Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    list(v).into_iter().filter_map(s).collect()
}

fn yes(v: &str) -> bool {
    matches!(v, "true" | "yes" | "1")
}

/// The line of each element of the top-level `"CVR"` array, found by scanning the text
/// (the JSON value keeps no positions): strings and escapes skipped, depth counted.
fn cvr_lines(text: &str) -> Vec<u64> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut line = 1u64;
    let mut i = 0usize;
    let mut last_key: Option<(usize, usize)> = None;
    let mut in_cvr: Option<usize> = None; // the depth of the CVR array's elements
    let mut expect_element = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => line += 1,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    } else if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                if expect_element {
                    out.push(line);
                    expect_element = false;
                }
                last_key = Some((start, i));
            }
            b':' => {}
            b'[' | b'{' => {
                if expect_element {
                    out.push(line);
                    expect_element = false;
                }
                depth += 1;
                if c == b'['
                    && depth == 2
                    && in_cvr.is_none()
                    && last_key.is_some_and(|(s, e)| &text[s..e] == "CVR")
                {
                    in_cvr = Some(depth + 1);
                    expect_element = true;
                }
            }
            b']' | b'}' => {
                if in_cvr == Some(depth + 1) && c == b']' {
                    in_cvr = None;
                    expect_element = false;
                }
                depth = depth.saturating_sub(1);
            }
            b',' => {
                if in_cvr == Some(depth + 1) {
                    expect_element = true;
                }
            }
            b' ' | b'\t' | b'\r' => {}
            _ => {
                if expect_element {
                    out.push(line);
                    expect_element = false;
                }
            }
        }
        i += 1;
    }
    out
}

// ------------------------------------------------------------ XML

fn read_xml(path: &Path, text: &str) -> Result<Report> {
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        let pos = e.pos();
        AuditError::format(path, pos.row as u64, format!("not well-formed XML: {e}"))
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "CastVoteRecordReport" {
        return Err(AuditError::format(
            path,
            1,
            format!("root element '{}', not CastVoteRecordReport", root.tag_name().name()),
        ));
    }
    let mut r = Report::default();
    for e in kids(root, "Election") {
        for c in kids(e, "Candidate") {
            r.candidates.insert(id(c), text_of(c, "Name").unwrap_or_default());
        }
        for c in kids(e, "Contest") {
            r.contests.push(Contest {
                id: id(c),
                name: text_of(c, "Name").unwrap_or_default(),
                votes_allowed: text_of(c, "VotesAllowed").and_then(|x| x.parse().ok()),
                selections: kids(c, "ContestSelection")
                    .iter()
                    .map(|&x| Selection {
                        id: id(x),
                        candidate_ids: texts(x, "CandidateIds"),
                        party_ids: texts(x, "PartyIds"),
                        text: text_of(x, "Selection"),
                        write_in: text_of(x, "IsWriteIn").is_some_and(|w| yes(&w)),
                    })
                    .collect(),
            });
        }
    }
    for p in kids(root, "Party") {
        r.parties.insert(id(p), text_of(p, "Name").unwrap_or_default());
    }
    for u in kids(root, "GpUnit") {
        r.units.insert(id(u), text_of(u, "Name").unwrap_or_default());
    }
    for c in kids(root, "CVR") {
        r.cvrs.push(Cvr {
            line: line(c),
            id: text_of(c, "BallotPrePrintedId").or_else(|| text_of(c, "UniqueId")),
            batch: text_of(c, "BatchId"),
            sequence: text_of(c, "BatchSequenceId"),
            unit: text_of(c, "BallotStyleUnitId"),
            current: text_of(c, "CurrentSnapshotId"),
            snapshots: kids(c, "CVRSnapshot")
                .iter()
                .map(|&snap| Snapshot {
                    id: id(snap),
                    contests: kids(snap, "CVRContest")
                        .iter()
                        .map(|&cc| CvrContest {
                            contest_id: text_of(cc, "ContestId").unwrap_or_default(),
                            selections: kids(cc, "CVRContestSelection")
                                .iter()
                                .map(|&sel| CvrSelection {
                                    line: line(sel),
                                    selection_id: text_of(sel, "ContestSelectionId"),
                                    rank: text_of(sel, "Rank"),
                                    status: text_of(sel, "Status"),
                                    positions: kids(sel, "SelectionPosition")
                                        .iter()
                                        .map(|&p| Position {
                                            indicated: text_of(p, "HasIndication").is_none_or(|x| x != "no"),
                                            allocable: text_of(p, "IsAllocable").is_none_or(|x| x != "no"),
                                            rank: text_of(p, "Rank"),
                                            write_in: !kids(p, "CVRWriteIn").is_empty(),
                                        })
                                        .collect(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        });
    }
    Ok(r)
}

fn kids<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    n.children().filter(|c| c.is_element() && c.tag_name().name() == name).collect()
}

fn text_of(n: roxmltree::Node, name: &str) -> Option<String> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .map(|c| c.text().unwrap_or("").trim().to_owned())
}

/// Every value of a repeated element (or of one element holding a list of ids).
fn texts(n: roxmltree::Node, name: &str) -> Vec<String> {
    kids(n, name)
        .iter()
        .flat_map(|c| c.text().unwrap_or("").split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

fn id(n: roxmltree::Node) -> String {
    n.attribute("ObjectId").unwrap_or("").to_owned()
}

fn line(n: roxmltree::Node) -> u64 {
    n.document().text_pos_at(n.range().start).row as u64
}

// ------------------------------------------------------------ into the one representation

fn convert(path: &Path, report: Report, labels: &ChoiceLabels, wanted: Option<&str>) -> Result<VendorCvrs> {
    let contests: Vec<&Contest> = match wanted {
        Some(w) => {
            let c = report
                .contests
                .iter()
                .find(|c| c.name == w)
                .or_else(|| report.contests.iter().find(|c| c.id == w));
            vec![c.ok_or_else(|| {
                AuditError::Invalid(format!(
                    "{}: contest '{}' is not in the report (contests: {})",
                    path.display(),
                    scrutineer_core::text::echo_str(w),
                    report.contests.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })?]
        }
        None => report.contests.iter().collect(),
    };
    let file: PathBuf = path.to_owned();
    let mut malformed = Vec::new();
    let mut out = Vec::new();
    for contest in contests {
        let selections: HashMap<&str, &Selection> =
            contest.selections.iter().map(|s| (s.id.as_str(), s)).collect();
        let ranked = report.cvrs.iter().any(|cvr| {
            current(cvr).is_some_and(|snap| {
                snap.contests.iter().filter(|cc| cc.contest_id == contest.id).any(|cc| {
                    cc.selections
                        .iter()
                        .any(|s| s.rank.is_some() || s.positions.iter().any(|p| p.rank.is_some()))
                })
            })
        });
        let mut rc = RankedContest {
            id: contest.id.clone(),
            name: if contest.name.is_empty() { contest.id.clone() } else { contest.name.clone() },
            choices: Vec::new(),
            vote_for: contest.votes_allowed.unwrap_or(1).max(1),
            ballots: Vec::new(),
        };
        // The choices in the contest's order, those that read as a candidate or label.
        for s in &contest.selections {
            if let Some(raw) = selection_name(s, &report)
                && let Ok(Label::Choice(n)) = labels.interpret(&raw)
            {
                rc.choice_index(&n);
            }
        }
        for (index, cvr) in report.cvrs.iter().enumerate() {
            let Some(snap) = current(cvr) else {
                // Only a card that holds the contest in some snapshot is at fault.
                if cvr.snapshots.iter().any(|s| s.contests.iter().any(|cc| cc.contest_id == contest.id)) {
                    malformed.push(MalformedRow {
                        file: file.clone(),
                        line: cvr.line,
                        field: "CurrentSnapshotId".into(),
                        message: format!(
                            "'{}' names no CVRSnapshot of the card",
                            scrutineer_core::text::echo_str(cvr.current.as_deref().unwrap_or(""))
                        ),
                    });
                }
                continue;
            };
            let Some(cc) = snap.contests.iter().find(|cc| cc.contest_id == contest.id) else { continue };
            let mut marks: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            let mut bad = None;
            'selections: for sel in &cc.selections {
                if sel.status.as_deref() == Some("needs-adjudication") {
                    continue;
                }
                let sid = sel.selection_id.as_deref().unwrap_or("");
                let Some(def) = selections.get(sid) else {
                    bad = Some(MalformedRow {
                        file: file.clone(),
                        line: sel.line,
                        field: "CVRContestSelection/ContestSelectionId".into(),
                        message: format!(
                            "'{}' is not a ContestSelection of contest '{}'",
                            scrutineer_core::text::echo_str(sid),
                            scrutineer_core::text::echo_str(&rc.name)
                        ),
                    });
                    break;
                };
                let Some(raw) = selection_name(def, &report) else {
                    bad = Some(MalformedRow {
                        file: file.clone(),
                        line: sel.line,
                        field: "ContestSelection/CandidateIds".into(),
                        message: format!(
                            "selection '{}' names no known candidate, party or selection text",
                            scrutineer_core::text::echo_str(sid)
                        ),
                    });
                    break;
                };
                let mut entries: Vec<(Option<&String>, bool)> = Vec::new();
                if sel.rank.is_some() {
                    entries.push((sel.rank.as_ref(), sel.positions.iter().any(|p| p.write_in)));
                } else {
                    for p in &sel.positions {
                        if !p.indicated || !p.allocable {
                            continue;
                        }
                        entries.push((p.rank.as_ref(), p.write_in));
                    }
                }
                for (rank, write_in) in entries {
                    let rank = match rank {
                        None if !ranked => 1,
                        None => {
                            bad = Some(MalformedRow {
                                file: file.clone(),
                                line: sel.line,
                                field: "SelectionPosition/Rank".into(),
                                message: format!("a mark without a rank in ranked contest '{}'", rc.name),
                            });
                            break 'selections;
                        }
                        Some(r) => match r.trim().parse::<u64>() {
                            Ok(n) if (1..=1000).contains(&n) => n,
                            _ => {
                                bad = Some(MalformedRow {
                                    file: file.clone(),
                                    line: sel.line,
                                    field: "Rank".into(),
                                    message: format!(
                                        "'{}' is not a whole number from 1 to 1000",
                                        scrutineer_core::text::echo_str(r)
                                    ),
                                });
                                break 'selections;
                            }
                        },
                    };
                    let label = if write_in || def.write_in {
                        Ok(Label::Choice(UNDECLARED_WRITE_IN.to_owned()))
                    } else {
                        labels.interpret(&raw)
                    };
                    match label {
                        Ok(Label::Choice(n)) => marks.entry(rank).or_default().push(rc.choice_index(&n)),
                        Ok(Label::Skipped) => {
                            marks.entry(rank).or_default();
                        }
                        // An overvote label among the candidates: the rank is an overvote.
                        Ok(Label::Overvote) => marks.entry(rank).or_default().push(usize::MAX),
                        Err(message) => {
                            bad = Some(MalformedRow {
                                file: file.clone(),
                                line: sel.line,
                                field: "Candidate/Name".into(),
                                message,
                            });
                            break 'selections;
                        }
                    }
                }
            }
            if let Some(b) = bad {
                malformed.push(b);
                continue;
            }
            let top = if ranked { marks.keys().next_back().copied().unwrap_or(0) } else { 1 };
            let ranks: Vec<RankMark> = (1..=top)
                .map(|r| match marks.get(&r) {
                    None => RankMark::Skipped,
                    Some(cs) if cs.contains(&usize::MAX) => RankMark::Overvote,
                    Some(cs) if cs.is_empty() => RankMark::Skipped,
                    Some(cs) => {
                        let mut cs = cs.clone();
                        cs.sort_unstable();
                        cs.dedup();
                        RankMark::Choices(cs)
                    }
                })
                .collect();
            rc.ballots.push(RankedBallot {
                id: cvr.id.clone().unwrap_or_else(|| format!("{}({})", path.display(), index + 1)),
                file: file.clone(),
                line: cvr.line,
                precinct: cvr.unit.as_ref().and_then(|u| report.units.get(u)).cloned(),
                batch: cvr.batch.clone(),
                position: cvr.sequence.as_ref().and_then(|s| s.trim().parse().ok()),
                ranks,
            });
        }
        out.push(rc);
    }
    Ok(VendorCvrs {
        format: VendorFormat::NistCdf,
        files: vec![file],
        cards: report.cvrs.len() as u64,
        contests: out,
        malformed,
    })
}

fn current(cvr: &Cvr) -> Option<&Snapshot> {
    match &cvr.current {
        Some(id) => cvr.snapshots.iter().find(|s| &s.id == id),
        // Without a current snapshot id, a card with a single snapshot has no choice.
        None if cvr.snapshots.len() == 1 => cvr.snapshots.first(),
        None => None,
    }
}

/// The name a selection is counted under: its first candidate's name, else its
/// party's, else a ballot measure's selection text; a write-in selection is
/// [`UNDECLARED_WRITE_IN`].
fn selection_name(s: &Selection, report: &Report) -> Option<String> {
    if s.write_in {
        return Some(UNDECLARED_WRITE_IN.to_owned());
    }
    if let Some(c) = s.candidate_ids.first() {
        return report.candidates.get(c).cloned();
    }
    if let Some(p) = s.party_ids.first() {
        return report.parties.get(p).cloned();
    }
    s.text.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvr_lines_finds_each_record_of_the_top_level_array() {
        let text = "{\n \"Election\": [{\"CVR\": [1]}],\n \"CVR\": [\n  {\"a\": \"}\\\"{\"},\n  {\"b\": [1, 2]}\n ]\n}";
        assert_eq!(cvr_lines(text), [4, 5]);
    }
}
