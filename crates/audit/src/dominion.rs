//! Dominion Democracy Suite cast-vote-record exports: the JSON export (`CvrExport*.json`
//! with its `*Manifest.json` files, e.g. San Francisco 2024) and the older CSV export
//! (`CVR_Export.csv`, e.g. Arapahoe 2016, checked against a ColoradoRLA ballot manifest).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AuditError, Result, open, open_lines};
use crate::manifest::Manifest;

// ---------------------------------------------------------------- JSON export

/// A Dominion `CvrExport*.json` file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CvrExport {
    /// The export's format version.
    pub version: String,
    /// The election's id.
    pub election_id: String,
    /// Every tabulation session (one ballot each).
    pub sessions: Vec<Session>,
    /// Fields this reader does not interpret, kept so that nothing is lost.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One ballot's tabulation session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Session {
    /// The tabulator.
    pub tabulator_id: u64,
    /// The batch on the tabulator.
    pub batch_id: u64,
    /// The record's id in the batch (a number or a string).
    pub record_id: serde_json::Value,
    /// The counting group (election day, vote by mail, ...).
    pub counting_group_id: u64,
    /// The image file mask.
    #[serde(default)]
    pub image_mask: String,
    /// The session's type.
    #[serde(default)]
    pub session_type: String,
    /// The tabulator's interpretation.
    pub original: Interpretation,
    /// The adjudicated interpretation, if the ballot was adjudicated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<Interpretation>,
    /// Fields not modelled, kept so that nothing is lost.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Session {
    /// The interpretation that counts: the adjudicated one when it is current.
    pub fn current(&self) -> &Interpretation {
        match &self.modified {
            Some(m) if m.is_current => m,
            _ => &self.original,
        }
    }
}

/// One interpretation of a ballot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Interpretation {
    /// The precinct portion.
    pub precinct_portion_id: u64,
    /// The ballot type.
    pub ballot_type_id: u64,
    /// Whether this interpretation is the one counted.
    #[serde(default)]
    pub is_current: bool,
    /// The ballot's cards.
    pub cards: Vec<Card>,
    /// Fields not modelled, kept so that nothing is lost.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One card (sheet) of a ballot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Card {
    /// The card's id.
    pub id: u64,
    /// Its position in the ballot.
    #[serde(default)]
    pub paper_index: u64,
    /// The contests on it.
    pub contests: Vec<CardContest>,
    /// Fields not modelled, kept so that nothing is lost.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One contest on a card.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CardContest {
    /// The contest's id (see the contest manifest).
    pub id: u64,
    /// Undervotes.
    #[serde(default)]
    pub undervotes: u64,
    /// Overvotes.
    #[serde(default)]
    pub overvotes: u64,
    /// The marks read.
    pub marks: Vec<Mark>,
    /// Fields not modelled, kept so that nothing is lost.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One mark.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Mark {
    /// The candidate's id (see the candidate manifest).
    pub candidate_id: u64,
    /// The rank (ranked-choice contests; 1 otherwise).
    #[serde(default)]
    pub rank: u64,
    /// The mark's density (0-100).
    #[serde(default)]
    pub mark_density: u64,
    /// Whether the mark is ambiguous.
    #[serde(default)]
    pub is_ambiguous: bool,
    /// Whether the mark counts as a vote.
    pub is_vote: bool,
    /// Fields not modelled, kept so that nothing is lost.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Reads a Dominion JSON export (plain, gzip or zstd).
pub fn read_cvr_json(path: &Path) -> Result<CvrExport> {
    serde_json::from_reader(open(path)?).map_err(|e| AuditError::Json {
        path: path.to_owned(),
        line: e.line(),
        source: e,
    })
}

/// Reads an export and reports whether writing the typed records back gives the same
/// JSON document (nothing dropped, nothing invented).
pub fn read_cvr_json_lossless(path: &Path) -> Result<(CvrExport, bool)> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut open(path)?, &mut text).map_err(|e| AuditError::io(path, e))?;
    let json_err =
        |e: serde_json::Error| AuditError::Json { path: path.to_owned(), line: e.line(), source: e };
    let raw: serde_json::Value = serde_json::from_str(&text).map_err(json_err)?;
    let export: CvrExport = serde_json::from_value(raw.clone()).map_err(json_err)?;
    let back = serde_json::to_value(&export).map_err(json_err)?;
    Ok((export, back == raw))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestFile {
    list: Vec<serde_json::Value>,
}

/// The `*Manifest.json` files of a Dominion export, indexed for the checks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DominionManifests {
    /// Contest id to (description, votes allowed, ranks).
    pub contests: BTreeMap<u64, (String, u64, u64)>, // id -> (description, vote for, ranks)
    /// Candidate id to (description, contest id).
    pub candidates: HashMap<u64, (String, u64)>, // id -> (description, contest id)
    /// (ballot type, contest) pairs the manifests declare.
    pub ballot_type_contests: HashSet<(u64, u64)>,
    /// Ballot types declared.
    pub ballot_types: HashSet<u64>,
    /// Tabulators declared.
    pub tabulators: HashSet<u64>,
    /// Counting groups declared.
    pub counting_groups: HashSet<u64>,
    /// Precinct portions declared.
    pub precinct_portions: HashSet<u64>,
}

fn read_list(path: &Path) -> Result<Vec<serde_json::Value>> {
    let f: ManifestFile = serde_json::from_reader(open(path)?).map_err(|e| AuditError::Json {
        path: path.to_owned(),
        line: e.line(),
        source: e,
    })?;
    Ok(f.list)
}

fn uint(path: &Path, v: &serde_json::Value, key: &str) -> Result<u64> {
    v.get(key).and_then(serde_json::Value::as_u64).ok_or_else(|| {
        AuditError::Invalid(format!("{}: an entry lacks the number '{key}': {v}", path.display()))
    })
}

impl DominionManifests {
    /// Reads the manifests from `dir`; a file is recognised by its name ending in
    /// `ContestManifest.json`, `CandidateManifest.json` and so on. Contest and candidate
    /// manifests are required.
    pub fn read_dir(dir: &Path) -> Result<DominionManifests> {
        let mut m = DominionManifests::default();
        let entries = std::fs::read_dir(dir).map_err(|e| AuditError::io(dir, e))?;
        let mut found = HashSet::new();
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
            let kind = [
                "BallotTypeContestManifest.json",
                "BallotTypeManifest.json",
                "CandidateManifest.json",
                "ContestManifest.json",
                "TabulatorManifest.json",
                "CountingGroupManifest.json",
                "PrecinctPortionManifest.json",
            ]
            .into_iter()
            // Exports name them `BallotTypeManifest.json` or with a prefix ending in `_`.
            .find(|k| name.rsplit('_').next() == Some(*k));
            let Some(kind) = kind else { continue };
            found.insert(kind);
            for v in read_list(&p)? {
                match kind {
                    "BallotTypeContestManifest.json" => {
                        m.ballot_type_contests
                            .insert((uint(&p, &v, "BallotTypeId")?, uint(&p, &v, "ContestId")?));
                    }
                    "BallotTypeManifest.json" => {
                        m.ballot_types.insert(uint(&p, &v, "Id")?);
                    }
                    "CandidateManifest.json" => {
                        let d = v.get("Description").and_then(|d| d.as_str()).unwrap_or("").to_owned();
                        m.candidates.insert(uint(&p, &v, "Id")?, (d, uint(&p, &v, "ContestId")?));
                    }
                    "ContestManifest.json" => {
                        let d = v.get("Description").and_then(|d| d.as_str()).unwrap_or("").to_owned();
                        let ranks = v.get("NumOfRanks").and_then(|r| r.as_u64()).unwrap_or(0);
                        m.contests.insert(uint(&p, &v, "Id")?, (d, uint(&p, &v, "VoteFor")?, ranks));
                    }
                    "TabulatorManifest.json" => {
                        m.tabulators.insert(uint(&p, &v, "Id")?);
                    }
                    "CountingGroupManifest.json" => {
                        m.counting_groups.insert(uint(&p, &v, "Id")?);
                    }
                    _ => {
                        m.precinct_portions.insert(uint(&p, &v, "Id")?);
                    }
                }
            }
        }
        for required in ["ContestManifest.json", "CandidateManifest.json"] {
            if !found.contains(required) {
                return Err(AuditError::Invalid(format!("{}: no *{required}", dir.display())));
            }
        }
        Ok(m)
    }
}

/// Counts from a set of JSON exports and every disagreement with the manifests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JsonCheck {
    /// Export files read.
    pub files: usize,
    /// Files whose typed records serialise back to the identical JSON document.
    pub lossless_files: usize,
    /// Sessions (ballots) read.
    pub sessions: u64,
    /// Cards read.
    pub cards: u64,
    /// Contests on the cards.
    pub contests_on_cards: u64,
    /// Marks read.
    pub marks: u64,
    /// Marks that are votes.
    pub votes: u64,
    /// Ambiguous marks.
    pub ambiguous_marks: u64,
    /// Sessions with an adjudicated interpretation.
    pub adjudicated_sessions: u64,
    /// Votes per (contest, candidate) description.
    pub votes_by_candidate: BTreeMap<String, BTreeMap<String, u64>>,
    /// Every disagreement with the manifests.
    pub problems: Vec<String>,
}

/// Checks exports against their manifests: every id known, every contest on the
/// ballot type's list, every candidate in its contest, votes within the vote-for limit.
pub fn check_json(files: &[(String, CvrExport)], m: &DominionManifests) -> JsonCheck {
    let mut c = JsonCheck { files: files.len(), ..Default::default() };
    let optional = |set: &HashSet<u64>, id: u64| set.is_empty() || set.contains(&id);
    for (name, export) in files {
        for (si, s) in export.sessions.iter().enumerate() {
            c.sessions += 1;
            let at =
                format!("{name}: session {} (tabulator {}, batch {})", si + 1, s.tabulator_id, s.batch_id);
            if s.modified.is_some() {
                c.adjudicated_sessions += 1;
            }
            if !optional(&m.tabulators, s.tabulator_id) {
                c.problems.push(format!("{at}: tabulator {} not in the manifest", s.tabulator_id));
            }
            if !optional(&m.counting_groups, s.counting_group_id) {
                c.problems.push(format!("{at}: counting group {} not in the manifest", s.counting_group_id));
            }
            let cur = s.current();
            if !optional(&m.ballot_types, cur.ballot_type_id) {
                c.problems.push(format!("{at}: ballot type {} not in the manifest", cur.ballot_type_id));
            }
            if !optional(&m.precinct_portions, cur.precinct_portion_id) {
                c.problems
                    .push(format!("{at}: precinct portion {} not in the manifest", cur.precinct_portion_id));
            }
            for card in &cur.cards {
                c.cards += 1;
                for ct in &card.contests {
                    c.contests_on_cards += 1;
                    let Some((cname, vote_for, ranks)) = m.contests.get(&ct.id) else {
                        c.problems
                            .push(format!("{at}: card {}: contest {} not in the manifest", card.id, ct.id));
                        continue;
                    };
                    if !m.ballot_type_contests.is_empty()
                        && !m.ballot_type_contests.contains(&(cur.ballot_type_id, ct.id))
                    {
                        c.problems.push(format!(
                            "{at}: card {}: contest {} is not on ballot type {}",
                            card.id, ct.id, cur.ballot_type_id
                        ));
                    }
                    let mut votes_here = 0u64;
                    for mk in &ct.marks {
                        c.marks += 1;
                        if mk.is_ambiguous {
                            c.ambiguous_marks += 1;
                        }
                        match m.candidates.get(&mk.candidate_id) {
                            Some((cand, contest)) if *contest == ct.id => {
                                if mk.is_vote {
                                    votes_here += 1;
                                    c.votes += 1;
                                    *c.votes_by_candidate
                                        .entry(cname.clone())
                                        .or_default()
                                        .entry(cand.clone())
                                        .or_default() += 1;
                                }
                            }
                            _ => c.problems.push(format!(
                                "{at}: card {}: candidate {} does not belong to contest {}",
                                card.id, mk.candidate_id, ct.id
                            )),
                        }
                    }
                    let limit = if *ranks > 0 { vote_for * ranks } else { *vote_for };
                    if votes_here > limit && ct.overvotes == 0 {
                        c.problems.push(format!(
                            "{at}: card {}: {votes_here} votes in contest {} (vote for {limit})",
                            card.id, ct.id
                        ));
                    }
                }
            }
        }
    }
    c
}

// ---------------------------------------------------------------- CSV export

/// One contest's columns in a Dominion CSV export.
#[derive(Debug, Clone, Serialize)]
pub struct CsvContest {
    /// The contest's name.
    pub name: String,
    /// Votes allowed.
    pub vote_for: u64,
    /// (choice name, party code) per column.
    pub choices: Vec<(String, String)>,
    /// Its first column in the export.
    pub first_column: usize,
}

/// One cast-vote record of a Dominion CSV export.
#[derive(Debug, Clone, Serialize)]
pub struct CsvRecord {
    /// Its line in the export.
    pub line: u64,
    /// The CVR number.
    pub cvr_number: String,
    /// The tabulator.
    pub tabulator: String,
    /// The batch.
    pub batch: String,
    /// The record's id in the batch.
    pub record_id: String,
    /// The imprinted id.
    pub imprinted_id: String,
    /// The counting group.
    pub counting_group: String,
    /// The precinct portion.
    pub precinct_portion: String,
    /// The ballot type.
    pub ballot_type: String,
    /// Per contest: `None` when the contest is not on this card, else one 0/1 per choice.
    pub votes: Vec<Option<Vec<u8>>>,
}

/// A Dominion `CVR_Export.csv` file.
#[derive(Debug, Clone, Serialize)]
pub struct CsvExport {
    /// The election's name.
    pub election: String,
    /// The export's format version.
    pub version: String,
    /// The contests, with their columns.
    pub contests: Vec<CsvContest>,
    /// Every record.
    pub records: Vec<CsvRecord>,
}

/// Strips Excel's `="..."` protection from a field.
fn unprotect(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix("=\"").and_then(|x| x.strip_suffix('"')).unwrap_or(t)
}

fn vote_for_of(name: &str) -> u64 {
    name.split("Vote For=")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1)
}

/// Reads a Dominion CSV export (plain, gzip or zstd).
pub fn read_cvr_csv(path: &Path) -> Result<CsvExport> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(open_lines(path)?);
    let mut rows = reader.records();
    let mut next_header = |what: &str| -> Result<csv::StringRecord> {
        match rows.next() {
            Some(Ok(r)) => Ok(r),
            Some(Err(e)) => Err(crate::error::csv_err(path, e)),
            None => Err(AuditError::format(path, 0, format!("ends before the {what} header row"))),
        }
    };
    let title = next_header("title")?;
    let contests_row = next_header("contest")?;
    let choices_row = next_header("choice")?;
    let names_row = next_header("column")?;
    let names: Vec<String> = names_row.iter().map(|s| s.trim().to_owned()).collect();
    let col = |n: &str| names.iter().position(|x| x.eq_ignore_ascii_case(n));
    let fixed = ["CvrNumber", "TabulatorNum", "BatchId", "RecordId", "ImprintedId"];
    let mut idx = Vec::new();
    for n in fixed {
        idx.push(
            col(n).ok_or_else(|| AuditError::MissingColumn { path: path.to_owned(), column: n.into() })?,
        );
    }
    let cg = col("CountingGroup").or_else(|| col("NotCountingGroup"));
    let pp = col("PrecinctPortion");
    let bt = col("BallotType");
    let first_vote = bt.or(pp).map_or(idx[4] + 1, |i| i + 1);
    let mut contests: Vec<CsvContest> = Vec::new();
    for i in first_vote..contests_row.len() {
        let cname = contests_row.get(i).unwrap_or("").trim();
        if cname.is_empty() {
            continue;
        }
        let choice = choices_row.get(i).unwrap_or("").trim().to_owned();
        let party = names_row.get(i).unwrap_or("").trim().to_owned();
        match contests.last_mut() {
            Some(c) if c.name == cname && c.first_column + c.choices.len() == i => {
                c.choices.push((choice, party))
            }
            _ => contests.push(CsvContest {
                name: cname.to_owned(),
                vote_for: vote_for_of(cname),
                choices: vec![(choice, party)],
                first_column: i,
            }),
        }
    }
    let mut records = Vec::new();
    for rec in rows {
        let r = rec.map_err(|e| crate::error::csv_err(path, e))?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        if r.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| r.get(i)).map(unprotect).unwrap_or("").to_owned();
        let mut votes = Vec::with_capacity(contests.len());
        for c in &contests {
            let cells: Vec<&str> =
                (0..c.choices.len()).map(|k| r.get(c.first_column + k).map_or("", |s| s.trim())).collect();
            if cells.iter().all(|s| s.is_empty()) {
                votes.push(None);
                continue;
            }
            let mut v = Vec::with_capacity(cells.len());
            for (k, cell) in cells.iter().enumerate() {
                v.push(match unprotect(cell) {
                    "0" | "" => 0,
                    "1" => 1,
                    other => {
                        return Err(AuditError::field(
                            path,
                            line,
                            &format!("{} / {}", c.name, c.choices[k].0),
                            other,
                            "expected 0 or 1",
                        ));
                    }
                });
            }
            votes.push(Some(v));
        }
        records.push(CsvRecord {
            line,
            cvr_number: get(Some(idx[0])),
            tabulator: get(Some(idx[1])),
            batch: get(Some(idx[2])),
            record_id: get(Some(idx[3])),
            imprinted_id: get(Some(idx[4])),
            counting_group: get(cg),
            precinct_portion: get(pp),
            ballot_type: get(bt),
            votes,
        });
    }
    Ok(CsvExport {
        election: title.get(0).unwrap_or("").trim().to_owned(),
        version: title.get(1).unwrap_or("").trim().to_owned(),
        contests,
        records,
    })
}

/// A CSV export checked against its ballot manifest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CsvCheck {
    /// Records read.
    pub records: u64,
    /// Ballots the manifest declares.
    pub manifest_ballots: u64,
    /// Batches in the manifest.
    pub batches_in_manifest: usize,
    /// Batches whose record count equals the manifest's.
    pub batches_matching: usize,
    /// Contests in the export.
    pub contests: usize,
    /// Votes read.
    pub votes: u64,
    /// Contests with more votes than allowed on one record.
    pub overvoted_contests: u64,
    /// Votes per contest and choice.
    pub votes_by_choice: BTreeMap<String, BTreeMap<String, u64>>,
    /// Every disagreement with the manifest.
    pub problems: Vec<String>,
}

/// Matches `(tabulator, batch)` of every record to a manifest batch whose label ends in
/// `/TABULATOR/BATCH` (ColoradoRLA manifests) and compares counts.
pub fn check_csv(export: &CsvExport, manifest: &Manifest) -> CsvCheck {
    let mut c = CsvCheck {
        records: export.records.len() as u64,
        manifest_ballots: manifest.total_ballots(),
        batches_in_manifest: manifest.batches.len(),
        contests: export.contests.len(),
        ..Default::default()
    };
    let mut per_batch: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in &export.records {
        *per_batch.entry((r.tabulator.clone(), r.batch.clone())).or_default() += 1;
        for (ct, v) in export.contests.iter().zip(&r.votes) {
            let Some(v) = v else { continue };
            let n: u64 = v.iter().map(|&x| x as u64).sum();
            if n > ct.vote_for {
                c.overvoted_contests += 1;
                c.problems.push(format!(
                    "line {}: {} votes in '{}' (vote for {})",
                    r.line, n, ct.name, ct.vote_for
                ));
            }
            for ((choice, _), &x) in ct.choices.iter().zip(v) {
                if x == 1 {
                    c.votes += 1;
                    *c.votes_by_choice
                        .entry(ct.name.clone())
                        .or_default()
                        .entry(choice.clone())
                        .or_default() += 1;
                }
            }
        }
    }
    let mut matched = HashSet::new();
    for b in &manifest.batches {
        let parts: Vec<&str> = b.label.rsplitn(3, '/').collect();
        let key = match parts.as_slice() {
            [batch, tab, ..] => (tab.to_string(), batch.to_string()),
            _ => (String::new(), b.label.clone()),
        };
        let n = per_batch.get(&key).copied().unwrap_or(0);
        matched.insert(key.clone());
        if n == b.ballots {
            c.batches_matching += 1;
        } else {
            c.problems.push(format!("batch {}: manifest {} ballots, CVR {} records", b.label, b.ballots, n));
        }
    }
    for (k, n) in &per_batch {
        if !matched.contains(k) {
            c.problems.push(format!(
                "tabulator {} batch {}: {} CVR records, batch not in the manifest",
                k.0, k.1, n
            ));
        }
    }
    c
}

/// SHA-256 of a file as it is on disk (compressed or not), lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| AuditError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut f, &mut buf).map_err(|e| AuditError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// One `*-hash.txt` file checked against the files it may describe.
#[derive(Debug, Clone, Serialize)]
pub struct HashCheck {
    /// The hash file.
    pub hash_file: String,
    /// The SHA-256 it declares, lower-case hex.
    pub declared: String,
    /// The file whose SHA-256 it is (the last, if several match), if any.
    pub matches_file: Option<String>,
    /// `ok`, or `HASH_MISMATCH` when no file matches.
    pub status: &'static str,
}

/// Checks every hash file against the SHA-256 of each of `files`.
pub fn check_hashes(hash_files: &[std::path::PathBuf], files: &[&Path]) -> Result<Vec<HashCheck>> {
    if hash_files.is_empty() {
        return Ok(Vec::new());
    }
    let mut sums = Vec::with_capacity(files.len());
    for f in files {
        sums.push((f.display().to_string(), sha256_file(f)?));
    }
    let mut checks = Vec::with_capacity(hash_files.len());
    for h in hash_files {
        let declared = declared_hash(h)?;
        let matches_file = sums.iter().rev().find(|(_, sum)| *sum == declared).map(|(f, _)| f.clone());
        let status = if matches_file.is_some() { "ok" } else { "HASH_MISMATCH" };
        checks.push(HashCheck { hash_file: h.display().to_string(), declared, matches_file, status });
    }
    Ok(checks)
}

/// The hash a `*-hash.txt` file declares (first whitespace-separated token).
pub fn declared_hash(path: &Path) -> Result<String> {
    let s = std::fs::read_to_string(path).map_err(|e| AuditError::io(path, e))?;
    s.split_whitespace()
        .next()
        .map(|h| h.to_ascii_lowercase())
        .ok_or_else(|| AuditError::format(path, 1, "empty hash file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_export_reads_protected_fields_and_checks_manifest() {
        let dir = std::env::temp_dir().join(format!("dominion-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let p = dir.join("cvr.csv");
        let text = "\"E\",\"5.2\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n\
\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"Mayor (Vote For=1)\",\"Mayor (Vote For=1)\"\n\
\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"Ann\",\"Bob\"\n\
\"CvrNumber\",\"TabulatorNum\",\"BatchId\",\"RecordId\",\"ImprintedId\",\"CountingGroup\",\"PrecinctPortion\",\"BallotType\",\"DEM\",\"REP\"\n\
=\"1\",=\"3\",=\"800\",=\"1\",=\"3-800-1\",=\"Mail\",=\"P1\",=\"51\",\"1\",\"0\"\n\
=\"2\",=\"3\",=\"800\",=\"2\",=\"3-800-2\",=\"Mail\",=\"P1\",=\"51\",\"1\",\"1\"\n\
=\"3\",=\"3\",=\"800\",=\"3\",=\"3-800-3\",=\"Mail\",=\"P1\",=\"51\",\"\",\"\"\n";
        std::fs::write(&p, text).expect("w");
        let e = read_cvr_csv(&p).expect("read");
        assert_eq!(e.contests.len(), 1);
        assert_eq!(e.contests[0].vote_for, 1);
        assert_eq!(e.records.len(), 3);
        assert_eq!(e.records[0].imprinted_id, "3-800-1");
        assert_eq!(e.records[2].votes[0], None);
        let mp = dir.join("m.csv");
        std::fs::write(&mp, "CountyID,ScannerID,BatchID,NumBallots\nX,3,800,4\n").expect("w");
        let m = Manifest::read(&mp).expect("manifest");
        let c = check_csv(&e, &m);
        assert_eq!(c.votes, 3);
        assert_eq!(c.overvoted_contests, 1);
        assert_eq!(c.batches_matching, 0);
        assert!(c.problems.iter().any(|p| p.contains("manifest 4 ballots, CVR 3 records")));
    }
}
