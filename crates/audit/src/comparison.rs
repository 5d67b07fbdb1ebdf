//! A ballot-comparison audit across jurisdictions, kept in one typed, versioned state file.
//!
//! Each jurisdiction (county) brings its ballot manifest (containers, tabulators,
//! batches, card counts) and its cast-vote records. [`ComparisonAudit::start`] checks
//! every batch's CVR count against the manifest, tabulates the reported outcome from the
//! CVRs and fixes each contest's universe: every card in the jurisdictions where the
//! contest appears (Colorado's practice, [`Universe::Jurisdiction`]) or, with card-style
//! data, only the cards whose CVR carries the contest ([`Universe::CardStyle`]), so that
//! cards that cannot hold the contest do not dilute its margin.
//!
//! The seed ceremony ([`SeedCeremony`]) is recorded before the first draw. Every card gets
//! a ticket from Rivest's consistent SHA-256 sampler ([`crate::ConsistentSampler`]) on its
//! id `JURISDICTION/TABULATOR/BATCH-POSITION`; a contest's sample is the cards of its
//! universe with the smallest tickets, as many as its round's size (sampling without
//! replacement; consistent, so a later round extends the earlier one). Round sizes are
//! Colorado's: the Kaplan-Markov "optimistic" size for the first round and the
//! "estimated" size after discrepancies ([`crate::optimistic_samples`],
//! [`crate::estimated_samples`]).
//!
//! The audit boards' readings ([`read_readings`]) are compared with the CVRs card by card:
//! the largest overstatement of any reported winner-loser margin is a one- or two-vote
//! overstatement, else the largest understatement; a card that cannot be found counts as
//! a two-vote overstatement in every contest whose universe holds it. Risk is the
//! Kaplan-Markov p-value ([`crate::kaplan_markov_pvalue`]) over the contest's sample in
//! ticket order, up to its first card not yet read.

use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::colorado::{Discrepancies, diluted_margin, estimated_samples, optimistic_samples};
use crate::dominion::{CsvExport, read_cvr_csv, sha256_file};
use crate::error::{AuditError, Columns, Result, csv_err, open_lines};
use crate::risk::kaplan_markov_pvalue;
use crate::sampler::ConsistentSampler;

/// The state file's layout version; a file of another version is refused by name.
pub const COMPARISON_STATE_VERSION: u32 = 1;

/// One batch of a jurisdiction's ballot manifest, with where it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestBatch {
    /// Where the batch is kept (storage location, box or bin); empty when not given.
    pub container: String,
    /// The tabulator (scanner) that counted it.
    pub tabulator: String,
    /// The batch's id on that tabulator.
    pub batch: String,
    /// Ballot cards in the batch.
    pub ballots: u64,
}

fn pick(cols: &Columns, names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| cols.find(n))
}

/// Reads a ballot manifest with its containers: ColoradoRLA (`ScannerID,BatchID,NumBallots,
/// StorageLocation`), Colorado county (`Tabulator,Batch,# of Ballot,Box # Location`) or
/// Arlo (`Tabulator,Batch Name,Number of Ballots,Container`) columns, found by name.
pub fn read_ballot_manifest(path: &Path) -> Result<Vec<ManifestBatch>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let missing = |c: &str| AuditError::MissingColumn { path: path.to_owned(), column: c.into() };
    let c_batch =
        pick(&cols, &["BatchID", "Batch", "Batch Name", "batch"]).ok_or_else(|| missing("BatchID"))?;
    let c_count = pick(&cols, &["NumBallots", "# of Ballot", "# of Ballots", "Number of Ballots", "ballots"])
        .ok_or_else(|| missing("NumBallots"))?;
    let c_tab = pick(&cols, &["ScannerID", "Tabulator", "TabulatorNum", "tabulator"]);
    let c_container = pick(&cols, &["StorageLocation", "Box # Location", "Container", "container"]);
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for rec in reader.records() {
        let r = rec.map_err(|e| csv_err(path, e))?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        if r.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get =
            |c: Option<usize>| c.and_then(|i| r.get(i)).map(|s| s.trim().to_owned()).unwrap_or_default();
        let raw = get(Some(c_count));
        let ballots = raw.replace(',', "").parse::<u64>().map_err(|e| {
            AuditError::field(
                path,
                line,
                cols.names().get(c_count).map_or("ballots", |s| s),
                &raw,
                e.to_string(),
            )
        })?;
        let b = ManifestBatch {
            container: get(c_container),
            tabulator: get(c_tab),
            batch: get(Some(c_batch)),
            ballots,
        };
        if b.batch.is_empty() {
            return Err(AuditError::field(path, line, "batch", "", "is empty"));
        }
        if !seen.insert((b.tabulator.clone(), b.batch.clone())) {
            return Err(AuditError::format(
                path,
                line,
                format!("tabulator '{}' batch '{}' appears twice", b.tabulator, b.batch),
            ));
        }
        out.push(b);
    }
    Ok(out)
}

// ---------------------------------------------------------------- cast-vote records

/// A contest as the CVRs define it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestDef {
    /// Its name (without the vendor's "(Vote For=N)" suffix).
    pub name: String,
    /// Votes allowed.
    pub vote_for: u64,
    /// Its choices, in the CVR file's order.
    pub choices: Vec<String>,
}

/// One card's cast-vote record, normalised: where it is, and its votes per contest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvrCard {
    /// The tabulator.
    pub tabulator: String,
    /// The batch.
    pub batch: String,
    /// Its position in the batch (Dominion's record id), from 1.
    pub position: u64,
    /// The id printed on the card.
    pub imprinted_id: String,
    /// Per contest on the card (index into the contest list): the chosen choices' indexes.
    pub votes: Vec<(u32, Vec<u32>)>,
}

/// A jurisdiction's cast-vote records.
#[derive(Debug, Clone, Default)]
pub struct CvrSet {
    /// The contests.
    pub contests: Vec<ContestDef>,
    /// The cards.
    pub cards: Vec<CvrCard>,
}

fn strip_vote_for(name: &str) -> String {
    match name.find(" (Vote For=") {
        Some(i) => name[..i].trim().to_owned(),
        None => name.trim().to_owned(),
    }
}

impl CvrSet {
    /// The records of a Dominion CSV export; the record id is the card's position.
    pub fn from_dominion_csv(path: &Path, export: &CsvExport) -> Result<CvrSet> {
        let contests: Vec<ContestDef> = export
            .contests
            .iter()
            .map(|c| ContestDef {
                name: strip_vote_for(&c.name),
                vote_for: c.vote_for,
                choices: c.choices.iter().map(|(n, _)| n.clone()).collect(),
            })
            .collect();
        let mut cards = Vec::with_capacity(export.records.len());
        for r in &export.records {
            let position = r
                .record_id
                .parse::<u64>()
                .map_err(|e| AuditError::field(path, r.line, "RecordId", &r.record_id, e.to_string()))?;
            let votes = r
                .votes
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    v.as_ref().map(|v| {
                        let chosen = v.iter().enumerate().filter(|(_, x)| **x == 1).map(|(k, _)| k as u32);
                        (i as u32, chosen.collect())
                    })
                })
                .collect();
            cards.push(CvrCard {
                tabulator: r.tabulator.clone(),
                batch: r.batch.clone(),
                position,
                imprinted_id: r.imprinted_id.clone(),
                votes,
            });
        }
        Ok(CvrSet { contests, cards })
    }

    /// Reads a Dominion CSV export (plain, gzip or zstd).
    pub fn read_dominion_csv(path: &Path) -> Result<CvrSet> {
        CvrSet::from_dominion_csv(path, &read_cvr_csv(path)?)
    }

    /// The cards of a vendor export (plurality contests only), grouped by card: a Clear
    /// Ballot row, a Hart card file, an ES&S row, a CDF `CVR`. A card's batch is Clear
    /// Ballot's `BoxID`, Hart's `BatchNumber`, ES&S's batch column (empty without one),
    /// CDF's `BatchId`, its tabulator empty (the manifest's batches are matched by batch
    /// alone, a manifest without a tabulator column); its position is `BoxPosition`,
    /// `BatchSequence`, CDF's `BatchSequenceId`, or for ES&S (and a CDF card without a
    /// sequence) the card's order among its batch's cards. A malformed row, a ranked
    /// contest or an overvote label without its choices is refused: the audit needs
    /// every card.
    pub fn from_vendor(cvrs: &crate::cvr::VendorCvrs) -> Result<CvrSet> {
        use crate::cvr::RankMark;
        if let Some(m) = cvrs.malformed.first() {
            return Err(AuditError::field(
                &m.file,
                m.line,
                &m.field,
                "",
                format!("{} ({} malformed rows)", m.message, cvrs.malformed.len()),
            ));
        }
        let mut contests = Vec::new();
        for c in &cvrs.contests {
            let ranks = c.ballots.iter().map(|b| b.ranks.len()).max().unwrap_or(0);
            if ranks > 1 {
                return Err(AuditError::Invalid(format!(
                    "{}: contest '{}' is ranked ({ranks} ranks): the ballot-comparison workflow audits plurality contests (use `audit raire-assertions`)",
                    cvrs.files.first().map(|f| f.display().to_string()).unwrap_or_default(),
                    c.name
                )));
            }
            contests.push(ContestDef {
                name: c.name.clone(),
                vote_for: c.vote_for,
                choices: c.choices.clone(),
            });
        }
        let mut index: HashMap<(&Path, &str), usize> = HashMap::new();
        let mut cards: Vec<CvrCard> = Vec::new();
        let mut next_position: HashMap<String, u64> = HashMap::new();
        for (ci, c) in cvrs.contests.iter().enumerate() {
            for b in &c.ballots {
                let k = *index.entry((b.file.as_path(), b.id.as_str())).or_insert_with(|| {
                    let batch = b.batch.clone().unwrap_or_default();
                    let position = b.position.unwrap_or_else(|| {
                        let n = next_position.entry(batch.clone()).or_insert(0);
                        *n += 1;
                        *n
                    });
                    cards.push(CvrCard {
                        tabulator: String::new(),
                        batch,
                        position,
                        imprinted_id: b.id.clone(),
                        votes: Vec::new(),
                    });
                    cards.len() - 1
                });
                let chosen = match b.ranks.first() {
                    None | Some(RankMark::Skipped) => Vec::new(),
                    Some(RankMark::Choices(cs)) => cs.iter().map(|&x| x as u32).collect(),
                    Some(RankMark::Overvote) => {
                        return Err(AuditError::format(
                            &b.file,
                            b.line,
                            format!("contest '{}': an overvote label without the choices marked", c.name),
                        ));
                    }
                };
                cards[k].votes.push((ci as u32, chosen));
            }
        }
        Ok(CvrSet { contests, cards })
    }

    /// The records of a Dominion JSON export: a folder holding the `CvrExport*.json`
    /// files and the `*Manifest.json` files that decode them. One record per session
    /// (a ballot's scan) at tabulator `TabulatorId`, batch `BatchId`, position
    /// `RecordId`, its votes the marks counted (`IsVote`) of the current interpretation
    /// (the adjudicated one when it is current) over all its cards. Contests are the
    /// contest manifest's plurality contests, in id order, choices the candidate
    /// manifest's in id order; ranked contests (`NumOfRanks` above 1) are left out
    /// (audited with `audit raire-assertions`). A mark for a candidate of another
    /// contest, an unknown contest or candidate, or a `RecordId` that is not a whole
    /// number from 1 stops the read, naming the file, the session and the field.
    pub fn read_dominion_json(dir: &Path) -> Result<CvrSet> {
        let m = crate::dominion::DominionManifests::read_dir(dir)?;
        let mut contests = Vec::new();
        let mut contest_index: HashMap<u64, u32> = HashMap::new();
        let mut ranked: HashSet<u64> = HashSet::new();
        let mut choice_index: HashMap<u64, (u64, u32)> = HashMap::new();
        for (&id, (name, vote_for, ranks)) in &m.contests {
            if *ranks > 1 {
                ranked.insert(id);
                continue;
            }
            let mut candidates: Vec<(&u64, &String)> =
                m.candidates.iter().filter(|(_, (_, c))| *c == id).map(|(k, (d, _))| (k, d)).collect();
            candidates.sort();
            for (i, (cid, _)) in candidates.iter().enumerate() {
                choice_index.insert(**cid, (id, i as u32));
            }
            contest_index.insert(id, contests.len() as u32);
            contests.push(ContestDef {
                name: name.clone(),
                vote_for: *vote_for,
                choices: candidates.into_iter().map(|(_, d)| d.clone()).collect(),
            });
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| AuditError::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("CvrExport") && n.contains(".json"))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(AuditError::Invalid(format!("{}: no CvrExport*.json file", dir.display())));
        }
        let mut cards = Vec::new();
        for f in &files {
            let export = crate::dominion::read_cvr_json(f)?;
            for (i, session) in export.sessions.iter().enumerate() {
                let at = format!("Sessions[{i}]");
                let record = match &session.record_id {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                }
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    AuditError::field(
                        f,
                        0,
                        &format!("{at}/RecordId"),
                        &session.record_id.to_string(),
                        "not a whole number from 1",
                    )
                })?;
                let mut votes: Vec<(u32, Vec<u32>)> = Vec::new();
                for card in &session.current().cards {
                    for c in &card.contests {
                        if ranked.contains(&c.id) {
                            continue;
                        }
                        let ci = *contest_index.get(&c.id).ok_or_else(|| {
                            AuditError::field(
                                f,
                                0,
                                &format!("{at}/Cards/Contests/Id"),
                                &c.id.to_string(),
                                "not in the contest manifest",
                            )
                        })?;
                        let mut chosen = Vec::new();
                        for mark in c.marks.iter().filter(|k| k.is_vote) {
                            match choice_index.get(&mark.candidate_id) {
                                Some(&(contest, k)) if contest == c.id => chosen.push(k),
                                _ => {
                                    return Err(AuditError::field(
                                        f,
                                        0,
                                        &format!("{at}/Cards/Contests/Marks/CandidateId"),
                                        &mark.candidate_id.to_string(),
                                        format!(
                                            "not a candidate of contest {} in the candidate manifest",
                                            c.id
                                        ),
                                    ));
                                }
                            }
                        }
                        chosen.sort_unstable();
                        chosen.dedup();
                        match votes.iter_mut().find(|(x, _)| *x == ci) {
                            Some((_, v)) => v.extend(chosen),
                            None => votes.push((ci, chosen)),
                        }
                    }
                }
                cards.push(CvrCard {
                    tabulator: session.tabulator_id.to_string(),
                    batch: session.batch_id.to_string(),
                    position: record,
                    imprinted_id: format!("{}-{}-{}", session.tabulator_id, session.batch_id, record),
                    votes,
                });
            }
        }
        Ok(CvrSet { contests, cards })
    }

    /// Reads a jurisdiction's export in its layout: Dominion CSV, or a vendor export
    /// ([`CvrSet::from_vendor`]) read with every label its own choice.
    pub fn read(path: &Path, format: CvrFileFormat) -> Result<CvrSet> {
        CvrSet::read_with(path, format, None)
    }

    /// As [`CvrSet::read`], a vendor export read as an RCTab configuration says when one
    /// is given: its first source's labels (candidate names and their codes, the
    /// overvote, skipped-rank and undeclared write-in labels), ES&S's columns and first
    /// row, Hart's and CDF's contest. A label the configuration does not declare is a
    /// malformed row. Dominion exports are decoded by their own manifests: a
    /// configuration is refused for them.
    pub fn read_with(
        path: &Path,
        format: CvrFileFormat,
        config: Option<&crate::cvr::RctabConfig>,
    ) -> Result<CvrSet> {
        let source = config.and_then(|c| c.cvr_file_sources.first()).cloned().unwrap_or_default();
        let labels = config.map(|c| c.labels(&source)).unwrap_or_default();
        let contest = (!source.contest_id.trim().is_empty()).then(|| source.contest_id.trim());
        if config.is_some() && matches!(format, CvrFileFormat::DominionCsv | CvrFileFormat::DominionJson) {
            return Err(AuditError::Invalid(format!(
                "{}: an RCTab configuration applies to ES&S, Clear Ballot, Hart and NIST CDF exports, not Dominion's",
                path.display()
            )));
        }
        match format {
            CvrFileFormat::DominionCsv => CvrSet::read_dominion_csv(path),
            CvrFileFormat::DominionJson => CvrSet::read_dominion_json(path),
            CvrFileFormat::Ess => {
                let layout = match config {
                    Some(c) => crate::cvr_ess::EssLayout::from_rctab(
                        &source,
                        &c.output_settings.contest_name,
                        c.ballot_rules()?.max_rankings,
                    )?,
                    None => crate::cvr_ess::EssLayout::default(),
                };
                CvrSet::from_vendor(&crate::cvr_ess::read_ess(path, &layout, &labels)?)
            }
            CvrFileFormat::ClearBallot => {
                CvrSet::from_vendor(&crate::cvr_clear_ballot::read_clear_ballot(path, &labels)?)
            }
            CvrFileFormat::Hart => CvrSet::from_vendor(&crate::cvr_hart::read_hart(
                &crate::cvr_hart::hart_files(path)?,
                &labels,
                contest,
            )?),
            CvrFileFormat::NistCdf => {
                CvrSet::from_vendor(&crate::cvr_nist::read_nist_cdf(path, &labels, contest)?)
            }
        }
    }
}

/// The layout of a jurisdiction's CVR export (the `format` column of the jurisdictions
/// file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CvrFileFormat {
    /// Dominion's `CVR_Export.csv` (the default).
    #[default]
    DominionCsv,
    /// A folder of Dominion's JSON export (`CvrExport*.json` and the `*Manifest.json` files).
    DominionJson,
    /// An ES&S workbook in ES&S's usual layout.
    Ess,
    /// A Clear Ballot CSV export.
    ClearBallot,
    /// A folder of Hart card files.
    Hart,
    /// A NIST SP 1500-103 Common Data Format report (JSON or XML).
    NistCdf,
}

impl CvrFileFormat {
    fn parse(s: &str) -> Option<CvrFileFormat> {
        match s {
            "" | "dominion-csv" => Some(CvrFileFormat::DominionCsv),
            "dominion-json" => Some(CvrFileFormat::DominionJson),
            "ess" => Some(CvrFileFormat::Ess),
            "clear-ballot" => Some(CvrFileFormat::ClearBallot),
            "hart" => Some(CvrFileFormat::Hart),
            "nist-cdf" => Some(CvrFileFormat::NistCdf),
            _ => None,
        }
    }
}

/// SHA-256 of a CVR export: the file's, or for a folder (Hart) the SHA-256 of the lines
/// `NAME SHA256` of its files in name order.
fn sha256_cvr(path: &Path, format: CvrFileFormat) -> Result<String> {
    if !path.is_dir() {
        return sha256_file(path);
    }
    use sha2::{Digest, Sha256};
    let files = match format {
        // A Dominion JSON export: every `.json` file of the folder (exports and manifests).
        CvrFileFormat::DominionJson => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| AuditError::io(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("json")))
                .collect();
            files.sort();
            files
        }
        _ => crate::cvr_hart::hart_files(path)?,
    };
    let mut h = Sha256::new();
    for f in files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        h.update(format!("{name} {}\n", sha256_file(&f)?).as_bytes());
    }
    Ok(hex::encode(h.finalize()))
}

// ---------------------------------------------------------------- the audit's state

/// Which cards a contest's margin is diluted over and its sample drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Universe {
    /// Every card in the jurisdictions where the contest appears (ColoradoRLA).
    Jurisdiction,
    /// Only the cards whose CVR carries the contest (card-style data).
    CardStyle,
}

/// Who produced the random seed, and when: recorded before the first draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedCeremony {
    /// The seed (e.g. twenty digits from ten-sided dice).
    pub seed: String,
    /// Who rolled the dice.
    pub rolled_by: Vec<String>,
    /// Who witnessed it.
    pub witnesses: Vec<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// One jurisdiction: its files (with their SHA-256) and manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jurisdiction {
    /// Its name (the county).
    pub name: String,
    /// The ballot manifest file.
    pub manifest_file: PathBuf,
    /// Its SHA-256.
    pub manifest_sha256: String,
    /// The CVR export.
    pub cvr_file: PathBuf,
    /// Its SHA-256 (a folder's: see the README).
    pub cvr_sha256: String,
    /// Its layout (state files without it are Dominion CSV).
    #[serde(default)]
    pub cvr_format: CvrFileFormat,
    /// The RCTab configuration its vendor export is read with, and the file's SHA-256
    /// (state files without it read the export with every label its own choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rctab_config: Option<(PathBuf, String)>,
    /// The manifest's batches.
    pub batches: Vec<ManifestBatch>,
}

impl Jurisdiction {
    /// Cards in the manifest.
    pub fn cards(&self) -> u64 {
        self.batches.iter().map(|b| b.ballots).sum()
    }
}

/// A contest under audit, with its reported outcome (tabulated from the CVRs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditedContest {
    /// Its name.
    pub name: String,
    /// Votes allowed (winners).
    pub vote_for: u64,
    /// Reported votes per choice.
    pub tallies: BTreeMap<String, u64>,
    /// The reported winners.
    pub winners: Vec<String>,
    /// The smallest margin between a winner and a loser, in votes.
    pub min_margin: u64,
    /// The jurisdictions where it appears.
    pub jurisdictions: Vec<String>,
    /// Cards in its universe (Colorado's `ballot_card_count` with the jurisdiction universe).
    pub universe_cards: u64,
    /// Cards whose CVR carries it (`contest_ballot_card_count`).
    pub contest_cards: u64,
    /// Whether it drives the sample size (targeted) or is audited opportunistically.
    pub targeted: bool,
    /// Its sample size so far (cards of its universe with the smallest tickets).
    pub sample_size: u64,
}

impl AuditedContest {
    /// The diluted margin over its universe.
    pub fn diluted_margin(&self) -> f64 {
        diluted_margin(self.min_margin, self.universe_cards)
    }

    /// Sets the winners (the `vote_for` highest tallies; ties broken by name) and the
    /// smallest winner-loser margin (0 when every choice wins).
    fn decide_winners(&mut self) {
        let mut ranked: Vec<(&String, u64)> = self.tallies.iter().map(|(k, v)| (k, *v)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let k = self.vote_for.max(1) as usize;
        let (winners, margin) = if ranked.len() > k {
            (ranked[..k].iter().map(|(n, _)| (*n).clone()).collect(), ranked[k - 1].1 - ranked[k].1)
        } else {
            (ranked.iter().map(|(n, _)| (*n).clone()).collect(), 0)
        };
        self.winners = winners;
        self.min_margin = margin;
    }

    fn losers(&self) -> Vec<&str> {
        self.tallies.keys().map(String::as_str).filter(|c| !self.winners.iter().any(|w| w == c)).collect()
    }
}

/// A drawn card: where to find it, its ticket, and what its CVR says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawnCard {
    /// Its id, `JURISDICTION/TABULATOR/BATCH-POSITION`.
    pub id: String,
    /// The jurisdiction.
    pub jurisdiction: String,
    /// The container the batch is kept in.
    pub container: String,
    /// The tabulator.
    pub tabulator: String,
    /// The batch.
    pub batch: String,
    /// Position in the batch, from 1.
    pub position: u64,
    /// The id imprinted on the card.
    pub imprinted_id: String,
    /// Its ticket number (hexadecimal fraction).
    pub ticket: String,
    /// The round it was first drawn in.
    pub round: u32,
    /// The CVR's votes per contest on the card (contest name to chosen choices).
    pub cvr: BTreeMap<String, Vec<String>>,
}

/// One round: the sizes it drew to and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// 1 for the first.
    pub number: u32,
    /// Sample size per contest after the round.
    pub sizes: BTreeMap<String, u64>,
    /// Cards newly drawn.
    pub new_cards: u64,
}

/// An audit board's reading of one card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardReading {
    /// The board that read it.
    pub board: String,
    /// False when the card could not be found.
    pub found: bool,
    /// Votes per contest as the board reads them.
    pub votes: BTreeMap<String, Vec<String>>,
}

/// The audit's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonParams {
    /// The audit's name.
    pub name: String,
    /// The risk limit α.
    pub risk_limit: f64,
    /// The error inflation factor γ (Colorado: 1.03905).
    pub gamma: f64,
    /// How contest universes are formed.
    pub universe: Universe,
    /// Contests that drive the sample size; empty: every contest with a winner.
    pub targets: Vec<String>,
    /// How risk is measured.
    #[serde(default)]
    pub risk_function: RiskFunction,
}

/// The risk-measuring function of a comparison audit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskFunction {
    /// Kaplan-Markov over the discrepancy counts (ColoradoRLA, Stark 2010).
    #[default]
    KaplanMarkov,
    /// ALPHA (Stark 2023) on SHANGRLA's comparison assorter, per winner-loser pair,
    /// sampling without replacement from the contest's universe.
    Alpha,
}

impl ComparisonParams {
    fn validate(&self) -> Result<()> {
        if !(self.risk_limit > 0.0 && self.risk_limit < 1.0) {
            return Err(AuditError::Invalid(format!("risk limit {} must be in (0, 1)", self.risk_limit)));
        }
        if !(self.gamma > 1.0 && self.gamma.is_finite()) {
            return Err(AuditError::Invalid(format!("gamma {} must exceed 1", self.gamma)));
        }
        Ok(())
    }
}

/// The whole audit: what the state file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonAudit {
    /// [`COMPARISON_STATE_VERSION`].
    pub version: u32,
    /// Parameters.
    pub params: ComparisonParams,
    /// The seed ceremony, once held.
    pub seed: Option<SeedCeremony>,
    /// The jurisdictions.
    pub jurisdictions: Vec<Jurisdiction>,
    /// The contests.
    pub contests: Vec<AuditedContest>,
    /// Rounds drawn.
    pub rounds: Vec<Round>,
    /// Every card drawn, in ticket order.
    pub cards: Vec<DrawnCard>,
    /// The boards' readings by card id.
    pub readings: BTreeMap<String, CardReading>,
}

/// A jurisdiction's inputs for [`ComparisonAudit::start`].
#[derive(Debug, Clone)]
pub struct JurisdictionFiles {
    /// Its name.
    pub name: String,
    /// Its ballot manifest.
    pub manifest: PathBuf,
    /// Its CVR export.
    pub cvr: PathBuf,
    /// The export's layout.
    pub format: CvrFileFormat,
    /// An RCTab configuration to read a vendor export with (the `rctab_config` column).
    pub rctab_config: Option<PathBuf>,
}

/// Reads `jurisdiction,manifest,cvr[,format][,rctab_config]` rows (`format`:
/// `dominion-csv`, the default when empty or absent, `dominion-json`, `ess`,
/// `clear-ballot`, `hart` or `nist-cdf`; `rctab_config`: an RCTab configuration to read a
/// vendor export with, optional); relative paths are relative to the file.
pub fn read_jurisdictions(path: &Path) -> Result<Vec<JurisdictionFiles>> {
    let mut reader = csv::Reader::from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let (cj, cm, cc) = (cols.require("jurisdiction")?, cols.require("manifest")?, cols.require("cvr")?);
    let cf = cols.find("format");
    let cr = cols.find("rctab_config");
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out: Vec<JurisdictionFiles> = Vec::new();
    for rec in reader.records() {
        let r = rec.map_err(|e| csv_err(path, e))?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        let get = |i: usize, name: &str| -> Result<String> {
            let v = r.get(i).unwrap_or("").trim();
            if v.is_empty() {
                Err(AuditError::field(path, line, name, v, "is empty"))
            } else {
                Ok(v.to_owned())
            }
        };
        let name = get(cj, "jurisdiction")?;
        if name.contains('/') {
            return Err(AuditError::field(path, line, "jurisdiction", &name, "must not contain '/'"));
        }
        if out.iter().any(|j| j.name == name) {
            return Err(AuditError::field(path, line, "jurisdiction", &name, "appears twice"));
        }
        // Kept absolute in the state, so that later commands run from any folder.
        let resolve = |i: usize, name: &str| -> Result<PathBuf> {
            let p = base.join(get(i, name)?);
            std::fs::canonicalize(&p).map_err(|e| AuditError::io(&p, e))
        };
        let raw = cf.and_then(|i| r.get(i)).unwrap_or("").trim();
        let format = CvrFileFormat::parse(raw).ok_or_else(|| {
            AuditError::field(
                path,
                line,
                "format",
                raw,
                "expected dominion-csv, dominion-json, ess, clear-ballot, hart or nist-cdf",
            )
        })?;
        let rctab_config = match cr.and_then(|i| r.get(i)).map(str::trim).filter(|v| !v.is_empty()) {
            Some(_) => Some(resolve(cr.expect("the column"), "rctab_config")?),
            None => None,
        };
        out.push(JurisdictionFiles {
            name,
            manifest: resolve(cm, "manifest")?,
            cvr: resolve(cc, "cvr")?,
            format,
            rctab_config,
        });
    }
    if out.is_empty() {
        return Err(AuditError::format(path, 1, "no jurisdictions"));
    }
    Ok(out)
}

/// `n` in decimal digits, written into `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

fn card_id(j: &str, tab: &str, batch: &str, pos: u64) -> String {
    format!("{j}/{tab}/{batch}-{pos}")
}

/// A jurisdiction's CVRs checked against its manifest, as the audit uses them.
struct LoadedJurisdiction {
    cvrs: CvrSet,
    /// Each card's batch (index into the manifest).
    batch_of: Vec<u32>,
}

fn check_against_manifest(
    name: &str,
    cvr_path: &Path,
    batches: &[ManifestBatch],
    cvrs: &CvrSet,
) -> Result<Vec<u32>> {
    let index: HashMap<(&str, &str), usize> =
        batches.iter().enumerate().map(|(i, b)| ((b.tabulator.as_str(), b.batch.as_str()), i)).collect();
    let mut counts = vec![0u64; batches.len()];
    // One flag per card of the manifest, batch after batch.
    let mut first = Vec::with_capacity(batches.len());
    let mut total = 0usize;
    for b in batches {
        first.push(total);
        total += b.ballots as usize;
    }
    let mut seen = vec![false; total];
    let mut batch_of = Vec::with_capacity(cvrs.cards.len());
    // Exports list a batch's cards together: the previous card's batch is tried first.
    let mut last: Option<usize> = None;
    for c in &cvrs.cards {
        let same = last.filter(|&bi| batches[bi].tabulator == c.tabulator && batches[bi].batch == c.batch);
        let Some(bi) = same.or_else(|| index.get(&(c.tabulator.as_str(), c.batch.as_str())).copied()) else {
            return Err(AuditError::Invalid(format!(
                "{}: {name}: CVR for tabulator {} batch {} (card {}), a batch not in the manifest",
                cvr_path.display(),
                c.tabulator,
                c.batch,
                c.imprinted_id
            )));
        };
        let b = &batches[bi];
        if c.position == 0 || c.position > b.ballots {
            return Err(AuditError::Invalid(format!(
                "{}: {name}: card {} has record id {}, outside batch {}/{}'s {} cards",
                cvr_path.display(),
                c.imprinted_id,
                c.position,
                b.tabulator,
                b.batch,
                b.ballots
            )));
        }
        let slot = &mut seen[first[bi] + c.position as usize - 1];
        if std::mem::replace(slot, true) {
            return Err(AuditError::Invalid(format!(
                "{}: {name}: two CVRs for tabulator {} batch {} position {}",
                cvr_path.display(),
                b.tabulator,
                b.batch,
                c.position
            )));
        }
        counts[bi] += 1;
        last = Some(bi);
        batch_of.push(bi as u32);
    }
    for (b, n) in batches.iter().zip(&counts) {
        if *n != b.ballots {
            return Err(AuditError::Invalid(format!(
                "{name}: tabulator {} batch {}: manifest {} cards, CVR file {} records: a comparison audit needs a CVR for every card",
                b.tabulator, b.batch, b.ballots, n
            )));
        }
    }
    Ok(batch_of)
}

fn load(j: &Jurisdiction, verify: bool) -> Result<LoadedJurisdiction> {
    if verify {
        for (file, want) in [(&j.manifest_file, &j.manifest_sha256), (&j.cvr_file, &j.cvr_sha256)] {
            let got = sha256_cvr(file, j.cvr_format)?;
            if &got != want {
                return Err(AuditError::Invalid(format!(
                    "{}: SHA-256 {got} differs from {want} recorded when the audit started: the file changed",
                    file.display()
                )));
            }
        }
    }
    let config = match &j.rctab_config {
        Some((file, want)) => {
            if verify {
                let got = sha256_file(file)?;
                if &got != want {
                    return Err(AuditError::Invalid(format!(
                        "{}: SHA-256 {got} differs from {want} recorded when the audit started: the file changed",
                        file.display()
                    )));
                }
            }
            Some(crate::cvr::RctabConfig::read(file)?)
        }
        None => None,
    };
    let cvrs = CvrSet::read_with(&j.cvr_file, j.cvr_format, config.as_ref())?;
    let batch_of = check_against_manifest(&j.name, &j.cvr_file, &j.batches, &cvrs)?;
    Ok(LoadedJurisdiction { cvrs, batch_of })
}

/// What a draw needs to see of each card.
struct CardView<'a> {
    /// Jurisdiction index.
    jurisdiction: usize,
    /// The container.
    container: &'a str,
    /// The CVR.
    card: &'a CvrCard,
    /// Contest index (in the audit) for each of the card's CVR contests.
    contest_map: &'a [Option<usize>],
    /// The card's first ticket number, as bytes.
    digest: [u8; 32],
}

/// Tickets compare as their 32 digest bytes, then by id (as the sampler orders them).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    digest: [u8; 32],
    id: String,
}

impl ComparisonAudit {
    /// Starts an audit: reads every jurisdiction's manifest and CVRs, checks them against
    /// each other, tabulates the reported outcome and fixes each contest's universe.
    pub fn start(params: ComparisonParams, files: &[JurisdictionFiles]) -> Result<ComparisonAudit> {
        params.validate()?;
        let mut jurisdictions = Vec::new();
        let mut loaded = Vec::new();
        for f in files {
            let batches = read_ballot_manifest(&f.manifest)?;
            let j = Jurisdiction {
                name: f.name.clone(),
                manifest_file: f.manifest.clone(),
                manifest_sha256: sha256_file(&f.manifest)?,
                cvr_file: f.cvr.clone(),
                cvr_sha256: sha256_cvr(&f.cvr, f.format)?,
                cvr_format: f.format,
                rctab_config: match &f.rctab_config {
                    Some(c) => Some((c.clone(), sha256_file(c)?)),
                    None => None,
                },
                batches,
            };
            loaded.push(load(&j, false)?);
            jurisdictions.push(j);
        }
        let sets: Vec<&CvrSet> = loaded.iter().map(|l| &l.cvrs).collect();
        ComparisonAudit::assemble(params, jurisdictions, &sets)
    }

    /// Starts an audit from manifests and CVRs already in memory (the files' names and
    /// hashes in `jurisdictions` are kept as given); the same checks as
    /// [`ComparisonAudit::start`].
    pub fn from_records(
        params: ComparisonParams,
        jurisdictions: Vec<Jurisdiction>,
        cvrs: &[CvrSet],
    ) -> Result<ComparisonAudit> {
        params.validate()?;
        if jurisdictions.len() != cvrs.len() {
            return Err(AuditError::Invalid("one CVR set per jurisdiction".into()));
        }
        for (j, set) in jurisdictions.iter().zip(cvrs) {
            check_against_manifest(&j.name, &j.cvr_file, &j.batches, set)?;
        }
        let sets: Vec<&CvrSet> = cvrs.iter().collect();
        ComparisonAudit::assemble(params, jurisdictions, &sets)
    }

    fn assemble(
        params: ComparisonParams,
        jurisdictions: Vec<Jurisdiction>,
        sets: &[&CvrSet],
    ) -> Result<ComparisonAudit> {
        let contests = tabulate(&params, &jurisdictions, sets)?;
        Ok(ComparisonAudit {
            version: COMPARISON_STATE_VERSION,
            params,
            seed: None,
            jurisdictions,
            contests,
            rounds: Vec::new(),
            cards: Vec::new(),
            readings: BTreeMap::new(),
        })
    }

    /// Records the seed ceremony; refused once a round has been drawn.
    pub fn record_seed(&mut self, ceremony: SeedCeremony) -> Result<()> {
        if !self.rounds.is_empty() {
            return Err(AuditError::Invalid("the seed cannot change after the first round is drawn".into()));
        }
        if ceremony.seed.trim().is_empty() {
            return Err(AuditError::Invalid("the seed is empty".into()));
        }
        self.seed = Some(ceremony);
        Ok(())
    }

    /// The next round's sample size per targeted contest: Colorado's optimistic size for
    /// the first round, then its estimated size from the discrepancies seen; contests that
    /// met the risk limit keep their size; none exceeds its universe. Contests not
    /// targeted are left out: they are audited on the cards the others draw.
    pub fn next_round_sizes(&self) -> BTreeMap<String, u64> {
        let status = self.status();
        let mut out = BTreeMap::new();
        for (c, s) in self.contests.iter().zip(&status) {
            if !c.targeted {
                continue; // audited on the cards the targeted contests draw
            }
            if s.decision != ComparisonDecision::Continue {
                out.insert(c.name.clone(), c.sample_size);
                continue;
            }
            let want = if self.rounds.is_empty() {
                s.optimistic_samples
            } else {
                s.estimated_samples.max(c.sample_size + 1)
            };
            out.insert(c.name.clone(), want.max(c.sample_size).min(c.universe_cards));
        }
        out
    }

    /// Draws the next round to `sizes` (per contest; targeted contests not named keep their
    /// size, others are audited opportunistically on the cards drawn).
    /// Re-reads the jurisdictions' files, refusing any whose SHA-256 changed.
    pub fn draw(&mut self, sizes: &BTreeMap<String, u64>) -> Result<Round> {
        let loaded: Vec<LoadedJurisdiction> =
            self.jurisdictions.iter().map(|j| load(j, true)).collect::<Result<_>>()?;
        let parts: Vec<(&CvrSet, &[u32])> = loaded.iter().map(|l| (&l.cvrs, l.batch_of.as_slice())).collect();
        self.draw_loaded(sizes, &parts)
    }

    /// [`ComparisonAudit::draw`] from CVRs already in memory, one set per jurisdiction.
    pub fn draw_records(&mut self, sizes: &BTreeMap<String, u64>, cvrs: &[CvrSet]) -> Result<Round> {
        if cvrs.len() != self.jurisdictions.len() {
            return Err(AuditError::Invalid("one CVR set per jurisdiction".into()));
        }
        let batch_of: Vec<Vec<u32>> = self
            .jurisdictions
            .iter()
            .zip(cvrs)
            .map(|(j, set)| check_against_manifest(&j.name, &j.cvr_file, &j.batches, set))
            .collect::<Result<_>>()?;
        let parts: Vec<(&CvrSet, &[u32])> =
            cvrs.iter().zip(&batch_of).map(|(s, c)| (s, c.as_slice())).collect();
        self.draw_loaded(sizes, &parts)
    }

    fn draw_loaded(&mut self, sizes: &BTreeMap<String, u64>, parts: &[(&CvrSet, &[u32])]) -> Result<Round> {
        use rayon::prelude::*;
        let Some(seed) = &self.seed else {
            return Err(AuditError::Invalid("no seed: record the seed ceremony before drawing".into()));
        };
        let sampler = ConsistentSampler::new(&seed.seed);
        // The tickets are the work: computed on every core.
        let digests: Vec<Vec<[u8; 32]>> = parts
            .iter()
            .zip(&self.jurisdictions)
            .map(|((set, _), j)| {
                set.cards
                    .par_iter()
                    .map(|c| {
                        let mut digits = [0u8; 20];
                        let pos = decimal(c.position, &mut digits);
                        sampler.first_digest_of(&[
                            j.name.as_bytes(),
                            b"/",
                            c.tabulator.as_bytes(),
                            b"/",
                            c.batch.as_bytes(),
                            b"-",
                            pos,
                        ])
                    })
                    .collect()
            })
            .collect();
        let containers: Vec<Vec<String>> = self
            .jurisdictions
            .iter()
            .map(|j| j.batches.iter().map(|b| b.container.clone()).collect())
            .collect();
        let maps: Vec<Vec<Option<usize>>> = parts
            .iter()
            .map(|(set, _)| {
                set.contests.iter().map(|c| self.contests.iter().position(|a| a.name == c.name)).collect()
            })
            .collect();
        let views = parts.iter().enumerate().flat_map(|(ji, (set, batch_of))| {
            let (map, boxes, digests) = (&maps[ji], &containers[ji], &digests[ji]);
            set.cards.iter().zip(batch_of.iter()).zip(digests).map(move |((card, bi), digest)| CardView {
                jurisdiction: ji,
                container: boxes[*bi as usize].as_str(),
                card,
                contest_map: map,
                digest: *digest,
            })
        });
        let cvr_contests: Vec<&[ContestDef]> = parts.iter().map(|(set, _)| set.contests.as_slice()).collect();
        self.draw_from(sizes, views, &cvr_contests)
    }

    /// Draws over cards in any order (the sample depends only on the tickets).
    fn draw_from<'a>(
        &mut self,
        sizes: &BTreeMap<String, u64>,
        cards: impl Iterator<Item = CardView<'a>>,
        cvr_contests: &[&[ContestDef]],
    ) -> Result<Round> {
        for name in sizes.keys() {
            if !self.contests.iter().any(|c| &c.name == name) {
                return Err(AuditError::Invalid(format!("no contest '{name}' in this audit")));
            }
        }
        let targets: Vec<u64> = self
            .contests
            .iter()
            .map(|c| match sizes.get(&c.name) {
                Some(&n) => n.max(c.sample_size).min(c.universe_cards),
                None if c.targeted => c.sample_size,
                None => 0,
            })
            .collect();
        // With the jurisdiction universe, a card is in every contest of its county.
        let contests_of: Vec<Vec<usize>> = self
            .jurisdictions
            .iter()
            .map(|j| {
                self.contests
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.jurisdictions.contains(&j.name))
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        // Contests without a size of their own keep as many smallest tickets as the whole
        // sample can hold, to find their opportunistic sample afterwards.
        let total: u64 = targets.iter().sum();
        let bounds: Vec<u64> = targets.iter().map(|&t| if t > 0 { t } else { total }).collect();
        let bound = if total > 0 { &bounds[..] } else { &[][..] };
        let mut heaps: Vec<BinaryHeap<Candidate>> = targets.iter().map(|_| BinaryHeap::new()).collect();
        let mut chosen: HashMap<String, (usize, String, CvrCard)> = HashMap::new();
        let mut on_card: Vec<usize> = Vec::new();
        let mut scratch: Vec<(usize, Candidate)> = Vec::new();
        for v in cards {
            on_card.clear();
            match self.params.universe {
                Universe::CardStyle => on_card.extend(
                    v.card
                        .votes
                        .iter()
                        .filter_map(|(ci, _)| v.contest_map.get(*ci as usize).copied().flatten()),
                ),
                Universe::Jurisdiction => on_card.extend_from_slice(&contests_of[v.jurisdiction]),
            }
            if bound.is_empty() || on_card.iter().all(|&ci| bounds[ci] == 0) {
                continue;
            }
            let digest = v.digest;
            // Most cards are beaten by every heap's largest ticket: their id is never built.
            let wanted = on_card.iter().any(|&ci| {
                let n = bounds[ci] as usize;
                n > 0 && (heaps[ci].len() < n || heaps[ci].peek().is_some_and(|top| digest <= top.digest))
            });
            if !wanted {
                continue;
            }
            let j = &self.jurisdictions[v.jurisdiction].name;
            let id = card_id(j, &v.card.tabulator, &v.card.batch, v.card.position);
            scratch.clear();
            let mut keep = false;
            for &ci in &on_card {
                let n = bounds[ci] as usize;
                if n == 0 {
                    continue;
                }
                let h = &heaps[ci];
                if h.len() < n || h.peek().is_some_and(|top| (&digest, &id) < (&top.digest, &top.id)) {
                    keep |= targets[ci] > 0;
                    scratch.push((ci, Candidate { digest, id: id.clone() }));
                }
            }
            for (ci, cand) in scratch.drain(..) {
                let n = bounds[ci] as usize;
                let h = &mut heaps[ci];
                h.push(cand);
                if h.len() > n {
                    h.pop();
                }
            }
            if keep {
                chosen.entry(id).or_insert_with(|| (v.jurisdiction, v.container.to_owned(), v.card.clone()));
            }
        }
        let mut selected: BTreeMap<([u8; 32], String), ()> = BTreeMap::new();
        for (h, t) in heaps.iter().zip(&targets) {
            if *t > 0 {
                for c in h.iter() {
                    selected.insert((c.digest, c.id.clone()), ());
                }
            }
        }
        // A contest given no size of its own is audited opportunistically: its sample is
        // the longest run of its universe, in ticket order, that the other contests drew.
        let mut opportunistic = vec![0u64; targets.len()];
        for (ci, h) in heaps.into_iter().enumerate() {
            if targets[ci] == 0 {
                let mut run: Vec<Candidate> = h.into_vec();
                run.sort();
                opportunistic[ci] =
                    run.iter().take_while(|c| selected.contains_key(&(c.digest, c.id.clone()))).count()
                        as u64;
            }
        }
        let round_no = self.rounds.len() as u32 + 1;
        let have: BTreeSet<String> = self.cards.iter().map(|c| c.id.clone()).collect();
        let mut new_cards = 0;
        for ((digest, id), ()) in selected {
            if have.contains(&id) {
                continue;
            }
            let Some((ji, container, card)) = chosen.get(&id) else { continue };
            let defs = cvr_contests[*ji];
            let cvr = card
                .votes
                .iter()
                .filter_map(|(ci, chosen)| {
                    let d = defs.get(*ci as usize)?;
                    Some((
                        d.name.clone(),
                        chosen.iter().filter_map(|k| d.choices.get(*k as usize).cloned()).collect(),
                    ))
                })
                .collect();
            self.cards.push(DrawnCard {
                id: id.clone(),
                jurisdiction: self.jurisdictions[*ji].name.clone(),
                container: container.clone(),
                tabulator: card.tabulator.clone(),
                batch: card.batch.clone(),
                position: card.position,
                imprinted_id: card.imprinted_id.clone(),
                ticket: hex::encode(digest),
                round: round_no,
                cvr,
            });
            new_cards += 1;
        }
        self.cards.sort_by(|a, b| (&a.ticket, &a.id).cmp(&(&b.ticket, &b.id)));
        let mut sizes_after = BTreeMap::new();
        for ((c, n), o) in self.contests.iter_mut().zip(&targets).zip(&opportunistic) {
            c.sample_size = if *n > 0 { *n } else { *o };
            sizes_after.insert(c.name.clone(), *n);
        }
        let round = Round { number: round_no, sizes: sizes_after, new_cards };
        self.rounds.push(round.clone());
        Ok(round)
    }

    fn in_universe(&self, c: &AuditedContest, card: &DrawnCard) -> bool {
        match self.params.universe {
            Universe::CardStyle => card.cvr.contains_key(&c.name),
            Universe::Jurisdiction => c.jurisdictions.contains(&card.jurisdiction),
        }
    }

    /// A contest's sample: the drawn cards of its universe, in ticket order, up to its size.
    pub fn contest_sample<'s>(&'s self, c: &'s AuditedContest) -> impl Iterator<Item = &'s DrawnCard> + 's {
        self.cards.iter().filter(move |d| self.in_universe(c, d)).take(c.sample_size as usize)
    }

    /// Adds readings; a card not drawn, a contest not in the audit, or a choice not in the
    /// contest is refused with the file and line; a card read twice differently too.
    pub fn record_readings(&mut self, readings: Vec<LocatedReading>, path: &Path) -> Result<usize> {
        let drawn: HashMap<&str, &DrawnCard> = self.cards.iter().map(|c| (c.id.as_str(), c)).collect();
        let mut fresh: BTreeMap<String, CardReading> = BTreeMap::new();
        for r in readings {
            let id = card_id(&r.jurisdiction, &r.tabulator, &r.batch, r.position);
            if !drawn.contains_key(id.as_str()) {
                return Err(AuditError::format(path, r.line, format!("card {id} was not drawn")));
            }
            let entry = fresh.entry(id.clone()).or_insert_with(|| CardReading {
                board: r.board.clone(),
                found: r.found,
                votes: BTreeMap::new(),
            });
            if entry.found != r.found {
                return Err(AuditError::field(
                    path,
                    r.line,
                    "found",
                    if r.found { "yes" } else { "no" },
                    "contradicts an earlier row for this card",
                ));
            }
            if let Some(contest) = &r.contest {
                let Some(c) = self.contests.iter().find(|c| &c.name == contest) else {
                    return Err(AuditError::field(
                        path,
                        r.line,
                        "contest",
                        contest,
                        "not a contest of this audit",
                    ));
                };
                let v = entry.votes.entry(contest.clone()).or_default();
                if let Some(choice) = &r.choice {
                    if !c.tallies.contains_key(choice) {
                        return Err(AuditError::field(
                            path,
                            r.line,
                            "choice",
                            choice,
                            format!("not a choice in '{contest}'"),
                        ));
                    }
                    if !v.contains(choice) {
                        v.push(choice.clone());
                    }
                }
            }
        }
        for (id, reading) in &fresh {
            if reading.found {
                let card = drawn[id.as_str()];
                if let Some(missing) = card.cvr.keys().find(|k| !reading.votes.contains_key(*k)) {
                    return Err(AuditError::Invalid(format!(
                        "{}: card {id}: no reading for contest '{missing}', which its CVR carries (a row with an empty choice records no vote)",
                        path.display()
                    )));
                }
            }
            if let Some(old) = self.readings.get(id)
                && old != reading
            {
                return Err(AuditError::Invalid(format!(
                    "{}: card {id} was already recorded with a different reading",
                    path.display()
                )));
            }
        }
        let n = fresh.len();
        self.readings.extend(fresh);
        Ok(n)
    }

    /// Each contest's discrepancies, risk and decision.
    pub fn status(&self) -> Vec<ComparisonStatus> {
        self.contests.iter().map(|c| self.contest_status(c)).collect()
    }

    fn contest_status(&self, c: &AuditedContest) -> ComparisonStatus {
        let mut d = Discrepancies::default();
        let mut examined = 0u64;
        let mut disagreements = 0u64;
        let mut waiting = 0u64;
        let empty = Vec::new();
        // (CVR votes, paper votes or None for a card not found), in ticket order.
        let mut read: Vec<(&Vec<String>, Option<&Vec<String>>)> = Vec::new();
        for card in self.contest_sample(c) {
            let Some(reading) = self.readings.get(&card.id) else {
                waiting += 1;
                continue;
            };
            if waiting > 0 {
                // Risk counts only the prefix before the first card not yet read: later
                // readings wait for it (a board cannot choose which cards count).
                waiting += 1;
                continue;
            }
            examined += 1;
            read.push((
                card.cvr.get(&c.name).unwrap_or(&empty),
                reading.found.then(|| reading.votes.get(&c.name).unwrap_or(&empty)),
            ));
            let k = if reading.found {
                let cvr = card.cvr.get(&c.name).unwrap_or(&empty);
                let mvr = reading.votes.get(&c.name).unwrap_or(&empty);
                if cvr != mvr {
                    disagreements += 1;
                }
                card_discrepancy(c, cvr, mvr)
            } else {
                2
            };
            match k {
                2 => d.o2 += 1,
                1 => d.o1 += 1,
                -1 => d.u1 += 1,
                -2 => d.u2 += 1,
                _ => {}
            }
        }
        let disagreements = disagreements.saturating_sub(d.total());
        let mu = c.diluted_margin();
        let (alpha, gamma) = (self.params.risk_limit, self.params.gamma);
        let uncontested = c.tallies.len() as u64 <= c.vote_for;
        let risk = if uncontested {
            0.0 // every choice wins: there is no outcome to get wrong
        } else {
            match self.params.risk_function {
                RiskFunction::KaplanMarkov => kaplan_markov_pvalue(examined, mu, gamma, d),
                RiskFunction::Alpha => alpha_comparison_risk(c, &read),
            }
        };
        let optimistic = optimistic_samples(alpha, mu, gamma, d);
        let estimated = estimated_samples(optimistic, d, (d.o1 + d.o2) as f64, examined);
        let all_read = c.sample_size >= c.universe_cards && waiting == 0 && c.universe_cards > 0;
        let decision = if uncontested || (risk <= alpha && mu > 0.0) {
            ComparisonDecision::Stop
        } else if all_read || mu == 0.0 {
            ComparisonDecision::FullHandCount
        } else {
            ComparisonDecision::Continue
        };
        ComparisonStatus {
            contest: c.name.clone(),
            winners: c.winners.clone(),
            targeted: c.targeted,
            sample_size: c.sample_size,
            examined,
            awaiting_reading: waiting,
            discrepancies: d,
            disagreements,
            diluted_margin: mu,
            measured_risk: risk,
            optimistic_samples: optimistic,
            estimated_samples: estimated,
            decision,
        }
    }

    /// Loads a state file, refusing another layout version by name.
    pub fn load(path: &Path) -> Result<ComparisonAudit> {
        let text = std::fs::read_to_string(path).map_err(|e| AuditError::io(path, e))?;
        let json_err =
            |e: serde_json::Error| AuditError::Json { path: path.to_owned(), line: e.line(), source: e };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(json_err)?;
        match v.get("version").and_then(serde_json::Value::as_u64) {
            Some(n) if n == COMPARISON_STATE_VERSION as u64 => {}
            Some(n) => {
                return Err(AuditError::Invalid(format!(
                    "{}: comparison-audit state version {n}; this build reads version {COMPARISON_STATE_VERSION}",
                    path.display()
                )));
            }
            None => {
                return Err(AuditError::Invalid(format!(
                    "{}: not a comparison-audit state file (no 'version')",
                    path.display()
                )));
            }
        }
        serde_json::from_value(v).map_err(json_err)
    }

    /// Saves the state atomically (written beside, then renamed).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| AuditError::Invalid(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| AuditError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| AuditError::io(path, e))
    }

    /// The retrieval list: each drawn card once, sorted as boards walk the storage room
    /// (jurisdiction, container, tabulator, batch, position), with the boards assigned in
    /// turn per jurisdiction by batch so that one batch is opened by one board.
    pub fn retrieval_list(&self, boards_per_jurisdiction: usize, round: Option<u32>) -> Vec<RetrievalRow> {
        let boards = boards_per_jurisdiction.max(1);
        let mut cards: Vec<&DrawnCard> =
            self.cards.iter().filter(|c| round.is_none_or(|r| c.round == r)).collect();
        let natural = natural_key;
        cards.sort_by(|a, b| {
            (&a.jurisdiction, natural(&a.container), natural(&a.tabulator), natural(&a.batch), a.position)
                .cmp(&(
                    &b.jurisdiction,
                    natural(&b.container),
                    natural(&b.tabulator),
                    natural(&b.batch),
                    b.position,
                ))
        });
        let mut out = Vec::with_capacity(cards.len());
        let mut batch_no: HashMap<(&str, &str, &str), usize> = HashMap::new();
        let mut per_j: HashMap<&str, usize> = HashMap::new();
        for c in cards {
            let key = (c.jurisdiction.as_str(), c.tabulator.as_str(), c.batch.as_str());
            let n = *batch_no.entry(key).or_insert_with(|| {
                let k = per_j.entry(c.jurisdiction.as_str()).or_default();
                *k += 1;
                *k - 1
            });
            out.push(RetrievalRow {
                jurisdiction: c.jurisdiction.clone(),
                audit_board: format!("Board {}", n % boards + 1),
                container: c.container.clone(),
                tabulator: c.tabulator.clone(),
                batch: c.batch.clone(),
                position: c.position,
                imprinted_id: c.imprinted_id.clone(),
                round: c.round,
                ticket: c.ticket.clone(),
            });
        }
        out
    }

    /// The final report: one row per contest with Colorado's `contest.csv` columns.
    pub fn report(&self) -> Vec<ContestReportRow> {
        let juris = self.jurisdictions.len();
        self.contests
            .iter()
            .zip(self.status())
            .map(|(c, s)| {
                let audit_reason = if !c.targeted {
                    "opportunistic_benefits"
                } else if c.jurisdictions.len() == juris && juris > 1 {
                    "state_wide_contest"
                } else {
                    "county_wide_contest"
                };
                let status = match s.decision {
                    _ if c.tallies.len() as u64 <= c.vote_for => "not_auditable",
                    ComparisonDecision::Stop => "risk_limit_achieved",
                    ComparisonDecision::FullHandCount => "hand_count",
                    ComparisonDecision::Continue => "in_progress",
                };
                ContestReportRow {
                    contest_name: c.name.clone(),
                    audit_reason: audit_reason.into(),
                    random_audit_status: status.into(),
                    winners_allowed: c.vote_for,
                    ballot_card_count: c.universe_cards,
                    contest_ballot_card_count: c.contest_cards,
                    winners: c.winners.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(","),
                    min_margin: c.min_margin,
                    risk_limit: self.params.risk_limit,
                    audited_sample_count: s.examined,
                    two_vote_over_count: s.discrepancies.o2,
                    one_vote_over_count: s.discrepancies.o1,
                    one_vote_under_count: s.discrepancies.u1,
                    two_vote_under_count: s.discrepancies.u2,
                    disagreement_count: s.disagreements,
                    other_count: 0,
                    gamma: self.params.gamma,
                    overstatements: s.discrepancies.o1 + s.discrepancies.o2,
                    optimistic_samples_to_audit: s.optimistic_samples,
                    estimated_samples_to_audit: s.estimated_samples,
                }
            })
            .collect()
    }
}

/// ALPHA's risk for a contest from its read sample: the largest over winner-loser pairs
/// of the p-value of SHANGRLA's comparison assorter (plurality pair assorter, u = 1),
/// without replacement from the universe; a card not found counts as a vote for the loser.
fn alpha_comparison_risk(c: &AuditedContest, read: &[(&Vec<String>, Option<&Vec<String>>)]) -> f64 {
    let n = c.universe_cards;
    if n == 0 {
        return 1.0;
    }
    let valid = |v: &[String]| v.len() as u64 <= c.vote_for.max(1);
    let has = |v: &[String], x: &str| valid(v) && v.iter().any(|y| y == x);
    let mut worst: f64 = 0.0;
    for w in &c.winners {
        for l in c.losers() {
            let margin = c.tallies[w] as f64 - c.tallies[l] as f64;
            if margin <= 0.0 {
                return 1.0;
            }
            let reported_mean = (1.0 + margin / n as f64) / 2.0;
            let mut upper = 1.0;
            let xs: Vec<f64> = read
                .iter()
                .map(|(cvr, mvr)| {
                    let a_cvr = crate::risk::plurality_assort(has(cvr, w), has(cvr, l));
                    let a_mvr = mvr.map_or(0.0, |m| crate::risk::plurality_assort(has(m, w), has(m, l)));
                    let (b, u) = crate::risk::comparison_assort(a_cvr, a_mvr, 1.0, reported_mean);
                    upper = u;
                    b
                })
                .collect();
            // Every card is worth `no_error` when the CVRs are right; betting on a mean 90% of
            // the way from there to the bound grows fast on such cards and still survives a
            // two-vote overstatement (a factor of about ten, as Kaplan-Markov's 1/(1 − 1/γ)
            // is 26). Any predictable choice keeps the risk limit; this one sets the work.
            let (no_error, u) = crate::risk::comparison_assort(1.0, 1.0, 1.0, reported_mean);
            let upper = if xs.is_empty() { u } else { upper };
            let eta0 = no_error + 0.9 * (u - no_error);
            let p = crate::risk::alpha_pvalues(&xs, Some(n), upper, eta0.max(0.5 + 1e-6), 1000.0)
                .last()
                .copied()
                .unwrap_or(1.0);
            worst = worst.max(p);
        }
    }
    worst
}

/// A card's discrepancy in a contest, Colorado's way: the largest overstatement of any
/// winner-loser margin (1 or 2), else the largest understatement (−1 or −2), else 0.
/// An overvote (more choices than allowed) counts for nobody.
pub fn card_discrepancy(c: &AuditedContest, cvr: &[String], mvr: &[String]) -> i64 {
    let valid = |v: &[String]| v.len() as u64 <= c.vote_for.max(1);
    let has = |v: &[String], x: &str| (valid(v) && v.iter().any(|y| y == x)) as i64;
    let losers = c.losers();
    let mut worst_over = i64::MIN;
    let mut worst_under = i64::MAX;
    for w in &c.winners {
        for l in &losers {
            let d = (has(cvr, w) - has(cvr, l)) - (has(mvr, w) - has(mvr, l));
            worst_over = worst_over.max(d);
            worst_under = worst_under.min(d);
        }
    }
    if worst_over > 0 {
        worst_over
    } else if worst_under < 0 {
        worst_under
    } else {
        0
    }
}

fn tabulate(
    params: &ComparisonParams,
    jurisdictions: &[Jurisdiction],
    sets: &[&CvrSet],
) -> Result<Vec<AuditedContest>> {
    let mut contests: Vec<AuditedContest> = Vec::new();
    for (j, set) in jurisdictions.iter().zip(sets) {
        let mut local: Vec<usize> = Vec::with_capacity(set.contests.len());
        for def in &set.contests {
            let i = match contests.iter().position(|c| c.name == def.name) {
                Some(i) => {
                    if contests[i].vote_for != def.vote_for {
                        return Err(AuditError::Invalid(format!(
                            "{}: contest '{}' allows {} votes here, {} elsewhere",
                            j.cvr_file.display(),
                            def.name,
                            def.vote_for,
                            contests[i].vote_for
                        )));
                    }
                    i
                }
                None => {
                    contests.push(AuditedContest {
                        name: def.name.clone(),
                        vote_for: def.vote_for,
                        tallies: BTreeMap::new(),
                        winners: Vec::new(),
                        min_margin: 0,
                        jurisdictions: Vec::new(),
                        universe_cards: 0,
                        contest_cards: 0,
                        targeted: false,
                        sample_size: 0,
                    });
                    contests.len() - 1
                }
            };
            for ch in &def.choices {
                contests[i].tallies.entry(ch.clone()).or_default();
            }
            local.push(i);
        }
        let mut appears = vec![false; contests.len()];
        // Counted by index, named once at the end.
        let mut counts: Vec<Vec<u64>> = set.contests.iter().map(|d| vec![0; d.choices.len()]).collect();
        for card in &set.cards {
            for (ci, chosen) in &card.votes {
                let ci = *ci as usize;
                let i = local[ci];
                appears[i] = true;
                contests[i].contest_cards += 1;
                if chosen.len() as u64 > set.contests[ci].vote_for {
                    continue; // overvote: no vote counts
                }
                for k in chosen {
                    if let Some(n) = counts[ci].get_mut(*k as usize) {
                        *n += 1;
                    }
                }
            }
        }
        for (ci, per_choice) in counts.iter().enumerate() {
            let i = local[ci];
            for (name, n) in set.contests[ci].choices.iter().zip(per_choice) {
                *contests[i].tallies.entry(name.clone()).or_default() += n;
            }
        }
        for (i, a) in appears.iter().enumerate() {
            if *a {
                contests[i].jurisdictions.push(j.name.clone());
                if params.universe == Universe::Jurisdiction {
                    contests[i].universe_cards += j.cards();
                }
            }
        }
    }
    for t in &params.targets {
        if !contests.iter().any(|c| &c.name == t) {
            return Err(AuditError::Invalid(format!("target contest '{t}' is in none of the CVR files")));
        }
    }
    for c in &mut contests {
        if params.universe == Universe::CardStyle {
            c.universe_cards = c.contest_cards;
        }
        c.decide_winners();
        c.targeted =
            if params.targets.is_empty() { c.min_margin > 0 } else { params.targets.contains(&c.name) };
    }
    Ok(contests)
}

/// What a comparison audit says to do next for a contest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonDecision {
    /// Risk at or below the limit.
    Stop,
    /// Draw another round.
    Continue,
    /// Every card of the universe read without meeting the limit, or no margin: count by hand.
    FullHandCount,
}

/// One contest's standing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonStatus {
    /// The contest.
    pub contest: String,
    /// Reported winners.
    pub winners: Vec<String>,
    /// Whether it drives the sample size.
    pub targeted: bool,
    /// Its sample size so far.
    pub sample_size: u64,
    /// Cards of its sample read and counted (the prefix before the first unread card).
    pub examined: u64,
    /// Cards of its sample not yet counted.
    pub awaiting_reading: u64,
    /// Discrepancies found.
    pub discrepancies: Discrepancies,
    /// Cards where the board read otherwise than the CVR without changing any margin.
    pub disagreements: u64,
    /// The diluted margin.
    pub diluted_margin: f64,
    /// The Kaplan-Markov p-value.
    pub measured_risk: f64,
    /// Colorado's optimistic samples to audit.
    pub optimistic_samples: u64,
    /// Colorado's estimated samples to audit.
    pub estimated_samples: u64,
    /// What to do next.
    pub decision: ComparisonDecision,
}

/// One row of a retrieval list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetrievalRow {
    /// The jurisdiction.
    pub jurisdiction: String,
    /// The audit board that retrieves it.
    pub audit_board: String,
    /// Container.
    pub container: String,
    /// Tabulator.
    pub tabulator: String,
    /// Batch.
    pub batch: String,
    /// Position in the batch.
    pub position: u64,
    /// Imprinted id.
    pub imprinted_id: String,
    /// Round first drawn.
    pub round: u32,
    /// Ticket number.
    pub ticket: String,
}

/// One contest's row of the final report, in Colorado's `contest.csv` columns and order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContestReportRow {
    /// `contest_name`.
    pub contest_name: String,
    /// `audit_reason`.
    pub audit_reason: String,
    /// `random_audit_status`.
    pub random_audit_status: String,
    /// `winners_allowed`.
    pub winners_allowed: u64,
    /// `ballot_card_count`.
    pub ballot_card_count: u64,
    /// `contest_ballot_card_count`.
    pub contest_ballot_card_count: u64,
    /// `winners`, each in double quotes, comma-separated.
    pub winners: String,
    /// `min_margin`.
    pub min_margin: u64,
    /// `risk_limit`.
    pub risk_limit: f64,
    /// `audited_sample_count`.
    pub audited_sample_count: u64,
    /// `two_vote_over_count`.
    pub two_vote_over_count: u64,
    /// `one_vote_over_count`.
    pub one_vote_over_count: u64,
    /// `one_vote_under_count`.
    pub one_vote_under_count: u64,
    /// `two_vote_under_count`.
    pub two_vote_under_count: u64,
    /// `disagreement_count`.
    pub disagreement_count: u64,
    /// `other_count`.
    pub other_count: u64,
    /// `gamma`.
    pub gamma: f64,
    /// `overstatements`.
    pub overstatements: u64,
    /// `optimistic_samples_to_audit`.
    pub optimistic_samples_to_audit: u64,
    /// `estimated_samples_to_audit`.
    pub estimated_samples_to_audit: u64,
}

/// Writes report rows as CSV with Colorado's header; text cells neutralised against
/// formula injection.
pub fn write_report_csv<W: std::io::Write>(
    out: W,
    rows: &[ContestReportRow],
) -> std::result::Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "contest_name",
        "audit_reason",
        "random_audit_status",
        "winners_allowed",
        "ballot_card_count",
        "contest_ballot_card_count",
        "winners",
        "min_margin",
        "risk_limit",
        "audited_sample_count",
        "two_vote_over_count",
        "one_vote_over_count",
        "one_vote_under_count",
        "two_vote_under_count",
        "disagreement_count",
        "other_count",
        "gamma",
        "overstatements",
        "optimistic_samples_to_audit",
        "estimated_samples_to_audit",
    ])?;
    for r in rows {
        let cells = [
            r.contest_name.clone(),
            r.audit_reason.clone(),
            r.random_audit_status.clone(),
            r.winners_allowed.to_string(),
            r.ballot_card_count.to_string(),
            r.contest_ballot_card_count.to_string(),
            r.winners.clone(),
            r.min_margin.to_string(),
            format!("{:.8}", r.risk_limit),
            r.audited_sample_count.to_string(),
            r.two_vote_over_count.to_string(),
            r.one_vote_over_count.to_string(),
            r.one_vote_under_count.to_string(),
            r.two_vote_under_count.to_string(),
            r.disagreement_count.to_string(),
            r.other_count.to_string(),
            format!("{:.8}", r.gamma),
            r.overstatements.to_string(),
            r.optimistic_samples_to_audit.to_string(),
            r.estimated_samples_to_audit.to_string(),
        ];
        w.write_record(scrutineer_core::text::csv_safe_record(cells.iter().map(String::as_str)))?;
    }
    w.flush()?;
    Ok(())
}

/// Writes a retrieval list as CSV.
pub fn write_retrieval_csv<W: std::io::Write>(
    out: W,
    rows: &[RetrievalRow],
) -> std::result::Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "jurisdiction",
        "audit_board",
        "container",
        "tabulator",
        "batch",
        "position",
        "imprinted_id",
        "round",
        "ticket_number",
    ])?;
    for r in rows {
        let pos = r.position.to_string();
        let round = r.round.to_string();
        w.write_record(scrutineer_core::text::csv_safe_record([
            r.jurisdiction.as_str(),
            &r.audit_board,
            &r.container,
            &r.tabulator,
            &r.batch,
            &pos,
            &r.imprinted_id,
            &round,
            &r.ticket,
        ]))?;
    }
    w.flush()?;
    Ok(())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A printable retrieval list: one page per jurisdiction and board, with a column for
/// the board's initials.
pub fn retrieval_html(title: &str, rows: &[RetrievalRow]) -> String {
    let mut groups: BTreeMap<(&str, &str), Vec<&RetrievalRow>> = BTreeMap::new();
    for r in rows {
        groups.entry((r.jurisdiction.as_str(), r.audit_board.as_str())).or_default().push(r);
    }
    let mut s = String::new();
    s.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    s.push_str(&html_escape(title));
    s.push_str(
        "</title>\n<style>body{font:11pt sans-serif;margin:1.5cm}table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #444;padding:3px 6px;text-align:left}th{background:#eee}\
section{page-break-after:always}@media print{section{break-after:page}}</style></head><body>\n",
    );
    for ((j, board), list) in &groups {
        s.push_str(&format!(
            "<section><h1>{}</h1><h2>{} — {}: {} cards</h2>\n<table><thead><tr><th>#</th><th>Container</th><th>Tabulator</th><th>Batch</th><th>Position</th><th>Imprinted id</th><th>Round</th><th>Retrieved (initials)</th></tr></thead><tbody>\n",
            html_escape(title),
            html_escape(j),
            html_escape(board),
            list.len()
        ));
        for (i, r) in list.iter().enumerate() {
            s.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td></tr>\n",
                i + 1,
                html_escape(&r.container),
                html_escape(&r.tabulator),
                html_escape(&r.batch),
                r.position,
                html_escape(&r.imprinted_id),
                r.round
            ));
        }
        s.push_str("</tbody></table></section>\n");
    }
    s.push_str("</body></html>\n");
    s
}

/// One row of a readings file, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedReading {
    /// Line in the file.
    pub line: u64,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Tabulator.
    pub tabulator: String,
    /// Batch.
    pub batch: String,
    /// Position.
    pub position: u64,
    /// The board.
    pub board: String,
    /// Whether the card was found.
    pub found: bool,
    /// The contest (none for a card not found).
    pub contest: Option<String>,
    /// The choice (none: no vote in the contest).
    pub choice: Option<String>,
}

/// Reads audit-board readings: `jurisdiction,tabulator,batch,position,contest,choice`,
/// optional `audit_board` and `found` (`yes`/`no`); one row per mark; an empty choice
/// records a contest with no vote; a card not found has `found` = `no`.
pub fn read_readings(path: &Path) -> Result<Vec<LocatedReading>> {
    let mut reader = csv::Reader::from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let cj = cols.require("jurisdiction")?;
    let ct = cols.require("tabulator")?;
    let cb = cols.require("batch")?;
    let cp = cols.require("position")?;
    let cc = cols.require("contest")?;
    let ch = cols.require("choice")?;
    let cboard = cols.find("audit_board");
    let cfound = cols.find("found");
    let mut out = Vec::new();
    for rec in reader.records() {
        let r = rec.map_err(|e| csv_err(path, e))?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        if r.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get =
            |i: Option<usize>| i.and_then(|i| r.get(i)).map(|s| s.trim().to_owned()).unwrap_or_default();
        let position: u64 = crate::error::parse_field(path, &r, cp, "position")?;
        let found = match get(cfound).to_ascii_lowercase().as_str() {
            "" | "yes" | "y" | "true" => true,
            "no" | "n" | "false" => false,
            other => return Err(AuditError::field(path, line, "found", other, "expected yes or no")),
        };
        let contest = Some(get(Some(cc))).filter(|s| !s.is_empty());
        if found && contest.is_none() {
            return Err(AuditError::field(path, line, "contest", "", "is empty for a card that was found"));
        }
        out.push(LocatedReading {
            line,
            jurisdiction: get(Some(cj)),
            tabulator: get(Some(ct)),
            batch: get(Some(cb)),
            position,
            board: get(cboard),
            found,
            contest,
            choice: Some(get(Some(ch))).filter(|s| !s.is_empty()),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- Colorado's comparison export

/// Discrepancy counts per contest from Colorado's `contestComparison.csv` (one row per
/// card and contest: `contest_name`, `choice_per_voting_computer`,
/// `audit_board_selection`, `cvr_id`), classified with [`card_discrepancy`] against the
/// winners given per contest; every other choice seen is a loser.
pub fn colorado_comparison_discrepancies(
    path: &Path,
    winners: &BTreeMap<String, (u64, Vec<String>)>,
) -> Result<BTreeMap<String, (u64, Discrepancies)>> {
    let mut reader = csv::Reader::from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let cn = cols.require("contest_name")?;
    let cv = cols.require("choice_per_voting_computer")?;
    let ca = cols.require("audit_board_selection")?;
    let split = |s: &str| -> Vec<String> {
        let s = s.trim();
        if s.is_empty() {
            return Vec::new();
        }
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(s.as_bytes());
        r.records()
            .next()
            .and_then(|x| x.ok())
            .map(|x| x.iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect())
            .unwrap_or_default()
    };
    let mut rows: Vec<(u64, String, Vec<String>, Vec<String>)> = Vec::new();
    let mut choices: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for rec in reader.records() {
        let r = rec.map_err(|e| csv_err(path, e))?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        let name = r.get(cn).unwrap_or("").trim().to_owned();
        if !winners.contains_key(&name) {
            return Err(AuditError::field(
                path,
                line,
                "contest_name",
                &name,
                "no winners given for this contest",
            ));
        }
        let (cvr, mvr) = (split(r.get(cv).unwrap_or("")), split(r.get(ca).unwrap_or("")));
        let set = choices.entry(name.clone()).or_default();
        set.extend(cvr.iter().cloned());
        set.extend(mvr.iter().cloned());
        rows.push((line, name, cvr, mvr));
    }
    let contests: BTreeMap<String, AuditedContest> = winners
        .iter()
        .map(|(name, (vote_for, w))| {
            let mut tallies: BTreeMap<String, u64> =
                choices.get(name).into_iter().flatten().map(|c| (c.clone(), 0)).collect();
            for x in w {
                tallies.entry(x.clone()).or_default();
            }
            (
                name.clone(),
                AuditedContest {
                    name: name.clone(),
                    vote_for: *vote_for,
                    tallies,
                    winners: w.clone(),
                    min_margin: 0,
                    jurisdictions: Vec::new(),
                    universe_cards: 0,
                    contest_cards: 0,
                    targeted: true,
                    sample_size: 0,
                },
            )
        })
        .collect();
    let mut out: BTreeMap<String, (u64, Discrepancies)> = BTreeMap::new();
    for (_, name, cvr, mvr) in rows {
        let e = out.entry(name.clone()).or_default();
        e.0 += 1;
        match card_discrepancy(&contests[&name], &cvr, &mvr) {
            2 => e.1.o2 += 1,
            1 => e.1.o1 += 1,
            -1 => e.1.u1 += 1,
            -2 => e.1.u2 += 1,
            _ => {}
        }
    }
    Ok(out)
}

/// A contest's reported outcome from Colorado's published canvass: the statewide
/// tabulation (`tabulate.csv`: `contest_name,choice,votes`), the counties each contest
/// appears in (`contests_by_county.csv`) and the cards per county in the CVR files
/// (`batch_count_comparison.csv`: `county_name,count_per_cvr_file`). `vote_for` gives
/// each contest's winners allowed; contests not in it are left out. Each contest's
/// universe is every card of its counties (ColoradoRLA's `ballot_card_count`).
pub fn colorado_canvass(
    tabulate: &Path,
    contests_by_county: &Path,
    batch_counts: &Path,
    vote_for: &BTreeMap<String, u64>,
) -> Result<Vec<AuditedContest>> {
    let rows = |path: &Path, names: &[&str]| -> Result<Vec<(u64, Vec<String>)>> {
        let mut reader = csv::Reader::from_reader(open_lines(path)?);
        let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
        let cols = Columns::new(path, &headers);
        let idx: Vec<usize> = names.iter().map(|n| cols.require(n)).collect::<Result<_>>()?;
        let mut out = Vec::new();
        for rec in reader.records() {
            let r = rec.map_err(|e| csv_err(path, e))?;
            let line = r.position().map(|p| p.line()).unwrap_or(0);
            out.push((line, idx.iter().map(|&i| r.get(i).unwrap_or("").trim().to_owned()).collect()));
        }
        Ok(out)
    };
    let mut cards: BTreeMap<String, u64> = BTreeMap::new();
    for (line, r) in rows(batch_counts, &["county_name", "count_per_cvr_file"])? {
        let n: u64 = r[1].parse().map_err(|e: std::num::ParseIntError| {
            AuditError::field(batch_counts, line, "count_per_cvr_file", &r[1], e.to_string())
        })?;
        *cards.entry(r[0].clone()).or_default() += n;
    }
    let mut counties: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, r) in rows(contests_by_county, &["county_name", "contest_name"])? {
        counties.entry(r[1].clone()).or_default().insert(r[0].clone());
    }
    let mut tallies: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (line, r) in rows(tabulate, &["contest_name", "choice", "votes"])? {
        let n: u64 = r[2].parse().map_err(|e: std::num::ParseIntError| {
            AuditError::field(tabulate, line, "votes", &r[2], e.to_string())
        })?;
        *tallies.entry(r[0].clone()).or_default().entry(r[1].clone()).or_default() += n;
    }
    let mut out = Vec::new();
    for (name, &k) in vote_for {
        let js: Vec<String> = counties.get(name).map(|s| s.iter().cloned().collect()).unwrap_or_default();
        let universe = js.iter().map(|j| cards.get(j).copied().unwrap_or(0)).sum();
        let mut c = AuditedContest {
            name: name.clone(),
            vote_for: k,
            tallies: tallies.get(name).cloned().unwrap_or_default(),
            winners: Vec::new(),
            min_margin: 0,
            jurisdictions: js,
            universe_cards: universe,
            contest_cards: 0,
            targeted: true,
            sample_size: 0,
        };
        c.decide_winners();
        out.push(c);
    }
    Ok(out)
}

/// A contest's report row before any card is audited: Colorado's first-round
/// (optimistic) sample size at `risk_limit` and `gamma`.
pub fn canvass_row(c: &AuditedContest, risk_limit: f64, gamma: f64) -> ContestReportRow {
    let optimistic = optimistic_samples(risk_limit, c.diluted_margin(), gamma, Discrepancies::default());
    ContestReportRow {
        contest_name: c.name.clone(),
        audit_reason: String::new(),
        random_audit_status: if c.tallies.len() as u64 <= c.vote_for {
            "not_auditable"
        } else {
            "not_started"
        }
        .into(),
        winners_allowed: c.vote_for,
        ballot_card_count: c.universe_cards,
        contest_ballot_card_count: c.contest_cards,
        winners: c.winners.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(","),
        min_margin: c.min_margin,
        risk_limit,
        audited_sample_count: 0,
        two_vote_over_count: 0,
        one_vote_over_count: 0,
        one_vote_under_count: 0,
        two_vote_under_count: 0,
        disagreement_count: 0,
        other_count: 0,
        gamma,
        overstatements: 0,
        optimistic_samples_to_audit: optimistic,
        estimated_samples_to_audit: optimistic,
    }
}

/// A piece of a label in natural order: runs of digits compare as numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LabelPart {
    Number(u64),
    Text(String),
}

/// A label's natural sort key, so that boards walk "Box 2" before "Box 10" and tabulator 9
/// before tabulator 10 (a run of digits too long for a number compares as text).
fn natural_key(s: &str) -> Vec<LabelPart> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let digit = c.is_ascii_digit();
        let end = rest.find(|x: char| x.is_ascii_digit() != digit).unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        parts.push(match run.parse::<u64>() {
            Ok(n) if digit => LabelPart::Number(n),
            _ => LabelPart::Text(run.to_owned()),
        });
        rest = tail;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sort_with_their_numbers_as_numbers() {
        let mut labels =
            vec!["Box 10", "Box 2", "Bin 1", "10", "9", "Box 2a", "Box 02", "Box 99999999999999999999"];
        labels.sort_by_key(|l| natural_key(l));
        assert_eq!(
            labels,
            vec!["9", "10", "Bin 1", "Box 2", "Box 02", "Box 2a", "Box 10", "Box 99999999999999999999"]
        );
    }

    fn contest(vote_for: u64, choices: &[&str], winners: &[&str]) -> AuditedContest {
        AuditedContest {
            name: "C".into(),
            vote_for,
            tallies: choices.iter().map(|c| (c.to_string(), 0)).collect(),
            winners: winners.iter().map(|w| w.to_string()).collect(),
            min_margin: 1,
            jurisdictions: Vec::new(),
            universe_cards: 10,
            contest_cards: 10,
            targeted: true,
            sample_size: 0,
        }
    }

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn discrepancies_are_colorados_one_and_two_vote_over_and_understatements() {
        let c = contest(1, &["W", "L", "M"], &["W"]);
        assert_eq!(card_discrepancy(&c, &v(&["W"]), &v(&["W"])), 0);
        assert_eq!(card_discrepancy(&c, &v(&["W"]), &v(&[])), 1, "CVR winner, paper blank");
        assert_eq!(card_discrepancy(&c, &v(&[]), &v(&["L"])), 1, "CVR blank, paper loser (Montezuma 2024)");
        assert_eq!(card_discrepancy(&c, &v(&["W"]), &v(&["L"])), 2);
        assert_eq!(card_discrepancy(&c, &v(&[]), &v(&["W"])), -1, "CVR blank, paper winner (Huerfano 2024)");
        assert_eq!(card_discrepancy(&c, &v(&["L"]), &v(&["W"])), -2);
        // A vote moved between losers narrows the winner's margin over the one gaining it.
        assert_eq!(card_discrepancy(&c, &v(&["L"]), &v(&["M"])), 1);
        // An overvote on paper counts for nobody.
        assert_eq!(card_discrepancy(&c, &v(&["W"]), &v(&["W", "L"])), 1);
        // Vote for two: a winner replaced by a loser moves that pair by two.
        let c2 = contest(2, &["A", "B", "X"], &["A", "B"]);
        assert_eq!(card_discrepancy(&c2, &v(&["A", "B"]), &v(&["A", "X"])), 2);
        assert_eq!(card_discrepancy(&c2, &v(&["A"]), &v(&["A", "B"])), -1);
    }

    #[test]
    fn winners_and_smallest_margin_for_vote_for_k_and_uncontested() {
        let mut c = contest(2, &[], &[]);
        c.tallies =
            [("A", 50), ("B", 40), ("C", 35), ("D", 1)].iter().map(|(k, n)| (k.to_string(), *n)).collect();
        c.decide_winners();
        assert_eq!(c.winners, ["A", "B"]);
        assert_eq!(c.min_margin, 5);
        c.tallies = [("A".to_string(), 9)].into_iter().collect();
        c.vote_for = 1;
        c.decide_winners();
        assert_eq!((c.winners.len(), c.min_margin), (1, 0));
    }

    #[test]
    fn decimal_digits_and_ticket_ids() {
        let mut buf = [0u8; 20];
        for n in [0u64, 7, 10, 1234, u64::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }

    #[test]
    fn state_file_of_another_version_is_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("comparison-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let p = dir.join("audit.json");
        std::fs::write(&p, "{\"version\": 99}").expect("w");
        let e = ComparisonAudit::load(&p).expect_err("v99");
        assert!(e.to_string().contains("version 99"), "{e}");
        std::fs::write(&p, "{\"seed\": 1}").expect("w");
        assert!(
            ComparisonAudit::load(&p).expect_err("none").to_string().contains("not a comparison-audit state")
        );
    }

    #[test]
    fn manifest_with_containers_reads_colorado_layouts_and_names_bad_fields() {
        let dir = std::env::temp_dir().join(format!("comparison-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let p = dir.join("m.csv");
        std::fs::write(&p, "County,Tabulator,Batch,# of Ballot,Box # Location\nAdams,1,7,\"1,250\",Box 3\n")
            .expect("w");
        let m = read_ballot_manifest(&p).expect("read");
        assert_eq!(
            m[0],
            ManifestBatch {
                container: "Box 3".into(),
                tabulator: "1".into(),
                batch: "7".into(),
                ballots: 1250
            }
        );
        std::fs::write(&p, "ScannerID,BatchID,NumBallots\n1,7,12\n1,8,x\n").expect("w");
        let e = read_ballot_manifest(&p).expect_err("bad");
        assert!(e.to_string().contains("m.csv:3: field 'NumBallots'"), "{e}");
    }
}
