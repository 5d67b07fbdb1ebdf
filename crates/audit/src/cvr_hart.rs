//! Hart Verity cast-vote records: a folder of XML files, one per card (`<Cvr>` in the
//! `CVRDesign.xsd` namespace), each with `<Contests>` of `<Contest>` (`Name`, `Id`,
//! `<Options>` of `<Option>` with `Name`, `Id` and `Value`, and `Undervotes`), the
//! `BatchNumber`, `BatchSequence`, `SheetNumber`, `PrecinctSplit` and `CvrGuid`. An
//! option's `Value` is one digit per rank, `1` where the option is marked at that rank
//! (`010000`: ranked second; `1` in a plurality contest). Contests and options are
//! matched by their GUIDs, so a configuration's aliases are option ids.

use std::path::{Path, PathBuf};

use crate::cvr::{
    ChoiceLabels, Label, MalformedRow, RankMark, RankedBallot, RankedContest, VendorCvrs, VendorFormat,
};
use crate::error::{AuditError, Result};

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn child_text(n: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    child(n, name).and_then(|c| c.text()).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The `.xml` files of a Hart export: `path` itself when it is a file, else the folder's
/// `.xml` files in name order.
pub fn hart_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| AuditError::io(path, e))?;
    let mut files = Vec::new();
    for e in entries {
        let p = e.map_err(|e| AuditError::io(path, e))?.path();
        if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a Hart export (a folder of card files, or the files given). `labels` (the
/// candidates' option ids) apply to the contest whose id is `contest`, or to every
/// contest when none is given; other contests name their options by `Name`. A card that
/// is not well-formed XML, or whose marks cannot be read, is reported in
/// [`VendorCvrs::malformed`] with its file, line and field, and left out.
pub fn read_hart(files: &[PathBuf], labels: &ChoiceLabels, contest: Option<&str>) -> Result<VendorCvrs> {
    let plain = ChoiceLabels::default();
    let mut out = VendorCvrs {
        format: VendorFormat::Hart,
        files: files.to_vec(),
        cards: 0,
        contests: Vec::new(),
        malformed: Vec::new(),
    };
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| AuditError::io(file, e))?;
        out.cards += 1;
        if let Err(bad) =
            read_card(file, text.trim_start_matches('\u{feff}'), (labels, &plain, contest), &mut out.contests)
        {
            out.malformed.push(bad);
        }
    }
    Ok(out)
}

fn read_card(
    file: &Path,
    text: &str,
    (configured, plain, target): (&ChoiceLabels, &ChoiceLabels, Option<&str>),
    contests: &mut Vec<RankedContest>,
) -> std::result::Result<(), MalformedRow> {
    let bad = |line: u64, field: &str, message: String| MalformedRow {
        file: file.to_owned(),
        line,
        field: field.to_owned(),
        message,
    };
    let doc =
        roxmltree::Document::parse(text).map_err(|e| bad(e.pos().row as u64, "(xml)", e.to_string()))?;
    let root = doc.root_element();
    let line_of = |n: roxmltree::Node<'_, '_>| doc.text_pos_at(n.range().start).row as u64;
    if root.tag_name().name() != "Cvr" {
        return Err(bad(line_of(root), "Cvr", format!("the root element is '{}'", root.tag_name().name())));
    }
    let id = child_text(root, "CvrGuid").ok_or_else(|| bad(line_of(root), "CvrGuid", "missing".into()))?;
    let precinct = child(root, "PrecinctSplit").and_then(|p| child_text(p, "Name"));
    let batch = child_text(root, "BatchNumber");
    let position = match child_text(root, "BatchSequence") {
        Some(p) => {
            Some(p.parse::<u64>().map_err(|e| bad(line_of(root), "BatchSequence", format!("'{p}': {e}")))?)
        }
        None => None,
    };
    // Read the whole card before adding it, so that a bad contest leaves none of it in.
    let mut read: Vec<(usize, RankedBallot)> = Vec::new();
    let Some(list) = child(root, "Contests") else { return Ok(()) };
    for ct in list.children().filter(|c| c.is_element() && c.tag_name().name() == "Contest") {
        let cid = child_text(ct, "Id").ok_or_else(|| bad(line_of(ct), "Contest/Id", "missing".into()))?;
        let labels = if target.is_none_or(|t| t == cid) { configured } else { plain };
        let k = match contests.iter().position(|c| c.id == cid) {
            Some(k) => k,
            None => {
                contests.push(RankedContest {
                    id: cid.clone(),
                    name: child_text(ct, "Name").unwrap_or_else(|| cid.clone()),
                    choices: Vec::new(),
                    vote_for: 1,
                    ballots: Vec::new(),
                });
                contests.len() - 1
            }
        };
        let mut ranks: Vec<Vec<usize>> = Vec::new();
        let mut marks = 0u64;
        for opt in child(ct, "Options")
            .into_iter()
            .flat_map(|o| o.children())
            .filter(|c| c.is_element() && c.tag_name().name() == "Option")
        {
            let line = line_of(opt);
            let oid = child_text(opt, "Id").ok_or_else(|| bad(line, "Option/Id", "missing".into()))?;
            let name = match labels.interpret(&oid) {
                Ok(Label::Choice(n))
                    if !labels.names.is_empty() || labels.undeclared_write_in.as_deref() == Some(&oid) =>
                {
                    n
                }
                Ok(Label::Choice(_)) => child_text(opt, "Name").unwrap_or(oid.clone()),
                Ok(_) => return Err(bad(line, "Option/Id", format!("'{oid}' is a label, not an option"))),
                Err(message) => match child_text(opt, "Name").map(|n| labels.interpret(&n)) {
                    Some(Ok(Label::Choice(n))) => n,
                    _ => return Err(bad(line, "Option/Id", message)),
                },
            };
            let value =
                child_text(opt, "Value").ok_or_else(|| bad(line, "Option/Value", "missing".into()))?;
            if !value.bytes().all(|b| b == b'0' || b == b'1') {
                return Err(bad(
                    line,
                    "Option/Value",
                    format!("expected digits 0 and 1, found '{}'", scrutineer_core::text::echo_str(&value)),
                ));
            }
            let choice = contests[k].choice_index(&name);
            for (rank, _) in value.bytes().enumerate().filter(|(_, b)| *b == b'1') {
                if ranks.len() <= rank {
                    ranks.resize(rank + 1, Vec::new());
                }
                ranks[rank].push(choice);
                marks += 1;
            }
        }
        // A plurality contest's votes allowed: the marks plus the undervotes Hart counts.
        let undervotes = match child_text(ct, "Undervotes") {
            Some(u) => {
                u.parse::<u64>().map_err(|e| bad(line_of(ct), "Contest/Undervotes", format!("'{u}': {e}")))?
            }
            None => 0,
        };
        if ranks.len() <= 1 {
            contests[k].vote_for = contests[k].vote_for.max(marks + undervotes);
        }
        read.push((
            k,
            RankedBallot {
                id: id.clone(),
                file: file.to_owned(),
                line: line_of(ct),
                precinct: precinct.clone(),
                batch: batch.clone(),
                position,
                ranks: ranks
                    .into_iter()
                    .map(|cs| if cs.is_empty() { RankMark::Skipped } else { RankMark::Choices(cs) })
                    .collect(),
            },
        ));
    }
    for (k, b) in read {
        contests[k].ballots.push(b);
    }
    Ok(())
}
