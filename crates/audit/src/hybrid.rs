//! A hybrid audit kept in one state file: a CVR stratum (cards with cast-vote records,
//! compared card by card) and a no-CVR stratum (cards polled), risk by SUITE
//! ([`crate::suite`]), rounds sized by SUITE, cards drawn per stratum with the consistent
//! sampler.
//!
//! Each stratum has its own ballot manifest; the CVR file gives the reported marks of
//! the CVR stratum's cards (their sums are that stratum's totals), and the no-CVR
//! stratum's totals are the certified totals minus those. Every card of a stratum counts
//! in that stratum's size for every contest (no card-style data, as Arlo). A drawn CVR
//! card without a CVR, or not found by the board, is a two-vote overstatement; a drawn
//! no-CVR card not found counts as a vote for each loser.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{AuditError, Columns, Result, csv_err, open_lines, parse_field};
use crate::manifest::Manifest;
use crate::sampler::ConsistentSampler;
use crate::suite::{
    ComparisonStratum, HybridSize, Misstatements, PollingStratum, SuiteContest, suite_risk, suite_sample_size,
};
use crate::workflow::Contest;

/// The state file's layout version; a file of another version is refused by name.
pub const HYBRID_STATE_VERSION: u32 = 1;

/// The most cards a position may name (no batch holds more).
const MAX_POSITION: u64 = 100_000_000;

/// A stratum of a hybrid audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stratum {
    /// Cards with cast-vote records.
    Cvr,
    /// Cards without.
    NoCvr,
}

impl Stratum {
    /// The name used in files: `cvr` or `no-cvr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stratum::Cvr => "cvr",
            Stratum::NoCvr => "no-cvr",
        }
    }

    fn parse(s: &str) -> Option<Stratum> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "cvr" => Some(Stratum::Cvr),
            "no-cvr" | "nocvr" => Some(Stratum::NoCvr),
            _ => None,
        }
    }
}

/// Marks on one card: contest → choices marked (empty: the contest with no vote).
pub type CardMarks = BTreeMap<String, Vec<String>>;

/// Reads a CVR file `batch,position,contest,choice`: one row per mark (an empty choice
/// records the contest on the card with no vote). Cards are `BATCH-POSITION`, positions
/// from 1, as in the ballot manifest.
pub fn read_cvr_marks(path: &Path) -> Result<BTreeMap<String, CardMarks>> {
    let mut reader = csv::ReaderBuilder::new().from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let (cb, cp, cc, ch) = (
        cols.require("batch")?,
        cols.require("position")?,
        cols.require("contest")?,
        cols.require("choice")?,
    );
    let mut out: BTreeMap<String, CardMarks> = BTreeMap::new();
    for rec in reader.records() {
        let r = rec.map_err(|e| csv_err(path, e))?;
        let (card, contest, choice) = card_row(path, &r, cb, cp, cc, ch)?;
        let marks = out.entry(card).or_default().entry(contest).or_default();
        if let Some(c) = choice {
            marks.push(c);
        }
    }
    Ok(out)
}

fn card_row(
    path: &Path,
    r: &csv::StringRecord,
    cb: usize,
    cp: usize,
    cc: usize,
    ch: usize,
) -> Result<(String, String, Option<String>)> {
    let line = r.position().map(|p| p.line()).unwrap_or(0);
    let batch = r.get(cb).unwrap_or("").trim();
    if batch.is_empty() {
        return Err(AuditError::field(path, line, "batch", batch, "empty"));
    }
    let position: u64 = parse_field(path, r, cp, "position")?;
    if position == 0 || position > MAX_POSITION {
        return Err(AuditError::field(
            path,
            line,
            "position",
            &position.to_string(),
            format!("positions run from 1 to {MAX_POSITION}"),
        ));
    }
    let contest = r.get(cc).unwrap_or("").trim();
    if contest.is_empty() {
        return Err(AuditError::field(path, line, "contest", contest, "empty"));
    }
    let choice = r.get(ch).unwrap_or("").trim();
    Ok((format!("{batch}-{position}"), contest.to_owned(), (!choice.is_empty()).then(|| choice.to_owned())))
}

/// What the audit board read on one drawn card.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardReading {
    /// The board found the card.
    pub found: bool,
    /// The marks read (contest → choices).
    pub marks: CardMarks,
}

/// Board readings from a CSV `stratum,batch,position,contest,choice[,found]`, keyed by
/// (stratum, card). `found` = `no` records a card that could not be found.
pub fn read_hybrid_readings(path: &Path) -> Result<BTreeMap<(Stratum, String), CardReading>> {
    let mut reader = csv::ReaderBuilder::new().from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let cs = cols.require("stratum")?;
    let (cb, cp, cc, ch) = (
        cols.require("batch")?,
        cols.require("position")?,
        cols.require("contest")?,
        cols.require("choice")?,
    );
    let cf = cols.find("found");
    let mut out: BTreeMap<(Stratum, String), CardReading> = BTreeMap::new();
    for rec in reader.records() {
        let r = rec.map_err(|e| csv_err(path, e))?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        let raw = r.get(cs).unwrap_or("");
        let stratum = Stratum::parse(raw)
            .ok_or_else(|| AuditError::field(path, line, "stratum", raw, "expected cvr or no-cvr"))?;
        let found = match cf.and_then(|i| r.get(i)).map(|s| s.trim().to_ascii_lowercase()) {
            None => true,
            Some(s) if s.is_empty() || s == "yes" || s == "true" || s == "1" => true,
            Some(s) if s == "no" || s == "false" || s == "0" => false,
            Some(s) => return Err(AuditError::field(path, line, "found", &s, "expected yes or no")),
        };
        if !found {
            let batch = r.get(cb).unwrap_or("").trim();
            let position: u64 = parse_field(path, &r, cp, "position")?;
            out.insert(
                (stratum, format!("{batch}-{position}")),
                CardReading { found: false, marks: BTreeMap::new() },
            );
            continue;
        }
        let (card, contest, choice) = card_row(path, &r, cb, cp, cc, ch)?;
        let reading =
            out.entry((stratum, card)).or_insert(CardReading { found: true, marks: BTreeMap::new() });
        if !reading.found {
            return Err(AuditError::format(path, line, "a card marked not found has readings"));
        }
        let marks = reading.marks.entry(contest).or_default();
        if let Some(c) = choice {
            marks.push(c);
        }
    }
    Ok(out)
}

/// One drawn card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HybridDraw {
    /// The round that drew it.
    pub round: u32,
    /// Its stratum.
    pub stratum: Stratum,
    /// Its batch (the manifest's label).
    pub batch: String,
    /// Its position in the batch, from 1.
    pub position: u64,
    /// The sampler's ticket number (draws are in ticket order within a stratum).
    pub ticket_number: String,
}

impl HybridDraw {
    fn card(&self) -> String {
        format!("{}-{}", self.batch, self.position)
    }
}

/// A contest of a hybrid audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridContest {
    /// Its name.
    pub name: String,
    /// Winners.
    pub winners: usize,
    /// Certified totals per choice.
    pub totals: BTreeMap<String, u64>,
    /// Reported totals on the CVR stratum's cards.
    pub cvr_totals: BTreeMap<String, u64>,
}

/// A hybrid audit's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HybridAudit {
    /// Layout version ([`HYBRID_STATE_VERSION`]).
    pub version: u32,
    /// The risk limit α.
    pub risk_limit: f64,
    /// The public seed.
    pub seed: String,
    /// The contests.
    pub contests: Vec<HybridContest>,
    /// The CVR stratum's manifest.
    pub cvr_manifest: Manifest,
    /// The no-CVR stratum's manifest.
    pub no_cvr_manifest: Manifest,
    /// Reported marks per CVR card.
    pub cvrs: BTreeMap<String, CardMarks>,
    /// Every card drawn, in round then ticket order.
    pub draws: Vec<HybridDraw>,
    /// Rounds drawn.
    pub rounds: u32,
    /// Readings per stratum and card.
    pub readings: BTreeMap<Stratum, BTreeMap<String, CardReading>>,
}

/// Where a contest stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HybridDecision {
    /// Risk at or below the limit with every drawn card read.
    RiskLimitMet,
    /// Draw (or read) more.
    Continue,
    /// SUITE's next round reaches a stratum's every card.
    FullHandCount,
    /// No loser.
    Uncontested,
}

/// A contest's status.
#[derive(Debug, Clone, Serialize)]
pub struct HybridStatus {
    /// The contest.
    pub contest: String,
    /// Reported winners.
    pub winners: Vec<String>,
    /// Cards in the CVR stratum.
    pub cvr_ballots: u64,
    /// Cards in the no-CVR stratum.
    pub no_cvr_ballots: u64,
    /// CVR cards read.
    pub cvr_sampled: u64,
    /// No-CVR cards read.
    pub no_cvr_sampled: u64,
    /// Drawn cards not yet read.
    pub awaited: u64,
    /// Misstatements of the riskiest pair.
    pub misstatements: Misstatements,
    /// The risk.
    pub risk: f64,
    /// The riskiest pair (winner, loser).
    pub pair: (String, String),
    /// λ at that pair's maximum.
    pub lambda: f64,
    /// The decision.
    pub decision: HybridDecision,
    /// The next round's cumulative sizes (zero when none is needed).
    pub next: HybridSize,
}

/// One card on a retrieval list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HybridRetrieval {
    /// The round.
    pub round: u32,
    /// The stratum.
    pub stratum: Stratum,
    /// The batch.
    pub batch: String,
    /// The position.
    pub position: u64,
    /// The ticket number.
    pub ticket_number: String,
}

impl HybridAudit {
    /// Starts an audit. Refused: a CVR for a card not in the CVR manifest, a contest
    /// whose CVR sums exceed its certified totals, a CVR choice the results do not name,
    /// a risk limit outside (0, 1).
    pub fn start(
        contests: &[Contest],
        cvrs: BTreeMap<String, CardMarks>,
        cvr_path: &Path,
        cvr_manifest: Manifest,
        no_cvr_manifest: Manifest,
        risk_limit: f64,
        seed: &str,
    ) -> Result<HybridAudit> {
        if !(risk_limit > 0.0 && risk_limit < 1.0) {
            return Err(AuditError::Invalid(format!("risk limit {risk_limit} is not between 0 and 1")));
        }
        let cards: BTreeSet<String> = cvr_manifest.ballot_ids().collect();
        if let Some(stray) = cvrs.keys().find(|k| !cards.contains(*k)) {
            return Err(AuditError::Invalid(format!(
                "{}: card {stray} is not in the CVR stratum's manifest",
                cvr_path.display()
            )));
        }
        let mut out = Vec::new();
        for c in contests {
            let mut cvr_totals: BTreeMap<String, u64> = c.tallies.keys().map(|k| (k.clone(), 0)).collect();
            for marks in cvrs.values() {
                for choice in marks.get(&c.name).into_iter().flatten() {
                    match cvr_totals.get_mut(choice) {
                        Some(v) => *v += 1,
                        None => {
                            return Err(AuditError::Invalid(format!(
                                "{}: contest '{}' choice '{choice}' is not in the results",
                                cvr_path.display(),
                                c.name
                            )));
                        }
                    }
                }
            }
            for (k, v) in &cvr_totals {
                if *v > c.tallies[k] {
                    return Err(AuditError::Invalid(format!(
                        "{}: contest '{}' choice '{k}' has {v} votes in the CVRs, above its certified {}",
                        cvr_path.display(),
                        c.name,
                        c.tallies[k]
                    )));
                }
            }
            out.push(HybridContest {
                name: c.name.clone(),
                winners: c.winners,
                totals: c.tallies.clone(),
                cvr_totals,
            });
        }
        Ok(HybridAudit {
            version: HYBRID_STATE_VERSION,
            risk_limit,
            seed: seed.to_owned(),
            contests: out,
            cvr_manifest,
            no_cvr_manifest,
            cvrs,
            draws: Vec::new(),
            rounds: 0,
            readings: BTreeMap::new(),
        })
    }

    fn strata(&self, c: &HybridContest) -> (SuiteContest, ComparisonStratum, PollingStratum) {
        let (n1, n2) = (self.cvr_manifest.total_ballots(), self.no_cvr_manifest.total_ballots());
        let contest = SuiteContest::new(&c.name, c.totals.clone(), c.winners, n1 + n2);
        let no_cvr_totals: BTreeMap<String, u64> = c
            .totals
            .iter()
            .map(|(k, v)| (k.clone(), v - c.cvr_totals.get(k).copied().unwrap_or(0)))
            .collect();
        let empty = BTreeMap::new();
        let cvr_reads = self.readings.get(&Stratum::Cvr).unwrap_or(&empty);
        let mut cvr = ComparisonStratum {
            ballots: n1,
            totals: c.cvr_totals.clone(),
            sample_size: cvr_reads.len() as u64,
            misstatements: BTreeMap::new(),
        };
        let has = |marks: Option<&CardMarks>, choice: &str| {
            i64::from(marks.and_then(|m| m.get(&c.name)).is_some_and(|v| v.iter().any(|x| x == choice)))
        };
        for w in &contest.winners {
            for l in &contest.losers {
                let mut m = Misstatements::default();
                for (card, reading) in cvr_reads {
                    let reported = self.cvrs.get(card);
                    let e = if reported.is_none() || !reading.found {
                        2
                    } else {
                        let audited = Some(&reading.marks);
                        (has(reported, w) - has(audited, w)) - (has(reported, l) - has(audited, l))
                    };
                    match e {
                        1 => m.o1 += 1,
                        2 => m.o2 += 1,
                        // Understatements are not credited (as Arlo).
                        _ => {}
                    }
                }
                cvr.misstatements.entry(w.clone()).or_default().insert(l.clone(), m);
            }
        }
        let bp_reads = self.readings.get(&Stratum::NoCvr).unwrap_or(&empty);
        let mut sample: BTreeMap<String, u64> = c.totals.keys().map(|k| (k.clone(), 0)).collect();
        for reading in bp_reads.values() {
            if !reading.found {
                for l in &contest.losers {
                    *sample.entry(l.clone()).or_default() += 1;
                }
                continue;
            }
            for choice in reading.marks.get(&c.name).into_iter().flatten() {
                if let Some(v) = sample.get_mut(choice) {
                    *v += 1;
                }
            }
        }
        let bp =
            PollingStratum { ballots: n2, totals: no_cvr_totals, sample_size: bp_reads.len() as u64, sample };
        (contest, cvr, bp)
    }

    /// Every contest's status: risk from the cards read, and SUITE's next round.
    pub fn status(&self) -> Result<Vec<HybridStatus>> {
        let read = |s: Stratum| self.readings.get(&s).map_or(0, |m| m.len() as u64);
        let awaited = self.draws.len() as u64 - read(Stratum::Cvr) - read(Stratum::NoCvr);
        let mut out = Vec::new();
        for c in &self.contests {
            let (contest, cvr, bp) = self.strata(c);
            let base = HybridStatus {
                contest: c.name.clone(),
                winners: contest.winners.clone(),
                cvr_ballots: cvr.ballots,
                no_cvr_ballots: bp.ballots,
                cvr_sampled: cvr.sample_size,
                no_cvr_sampled: bp.sample_size,
                awaited,
                misstatements: Misstatements::default(),
                risk: 0.0,
                pair: (String::new(), String::new()),
                lambda: 0.0,
                decision: HybridDecision::Uncontested,
                next: HybridSize { cvr: 0, no_cvr: 0, full_hand_count: false },
            };
            if contest.losers.is_empty() {
                out.push(base);
                continue;
            }
            let risk = suite_risk(self.risk_limit, &contest, &cvr, &bp)?;
            let mut s = HybridStatus {
                misstatements: cvr.pair(&risk.winner, &risk.loser),
                risk: risk.pvalue,
                pair: (risk.winner.clone(), risk.loser.clone()),
                lambda: risk.lambda,
                ..base
            };
            if risk.pvalue <= self.risk_limit && awaited == 0 {
                s.decision = HybridDecision::RiskLimitMet;
            } else if cvr.sample_size >= cvr.ballots && bp.sample_size >= bp.ballots {
                s.decision = HybridDecision::FullHandCount;
            } else {
                s.next = suite_sample_size(self.risk_limit, &contest, &cvr, &bp)?;
                s.decision = if s.next.full_hand_count {
                    HybridDecision::FullHandCount
                } else {
                    HybridDecision::Continue
                };
            }
            out.push(s);
        }
        Ok(out)
    }

    /// Draws a round: each stratum's sample grows to `sizes` cards (cumulative; default
    /// the largest of SUITE's sizes over the contests still in progress). Returns the
    /// new cards, sorted by stratum, batch and position.
    pub fn draw_round(&mut self, sizes: Option<(u64, u64)>) -> Result<Vec<HybridRetrieval>> {
        let (cvr_size, bp_size) = match sizes {
            Some(s) => s,
            None => {
                let st = self.status()?;
                let open: Vec<&HybridStatus> =
                    st.iter().filter(|s| s.decision == HybridDecision::Continue).collect();
                if open.is_empty() {
                    return Err(AuditError::Invalid(
                        "no contest needs another round (see audit hybrid status)".to_owned(),
                    ));
                }
                (
                    open.iter().map(|s| s.next.cvr).max().unwrap_or(0),
                    open.iter().map(|s| s.next.no_cvr).max().unwrap_or(0),
                )
            }
        };
        let round = self.rounds + 1;
        let sampler = ConsistentSampler::new(&self.seed);
        let mut new = Vec::new();
        for (stratum, manifest, size) in
            [(Stratum::Cvr, &self.cvr_manifest, cvr_size), (Stratum::NoCvr, &self.no_cvr_manifest, bp_size)]
        {
            let total = manifest.total_ballots();
            if size > total {
                return Err(AuditError::Invalid(format!(
                    "{} stratum: {size} cards asked for, it holds {total}",
                    stratum.as_str()
                )));
            }
            let have: BTreeSet<String> =
                self.draws.iter().filter(|d| d.stratum == stratum).map(HybridDraw::card).collect();
            let prefix = format!("{}:", stratum.as_str());
            let ids: Vec<String> = manifest.ballot_ids().map(|id| format!("{prefix}{id}")).collect();
            for t in sampler.sample(ids.iter().map(String::as_str), size as usize, false) {
                let id = &t.id[prefix.len()..];
                if have.contains(id) {
                    continue;
                }
                let (batch, position) =
                    Manifest::split_id(id).map_or((id.to_owned(), 0), |(b, p)| (b.to_owned(), p));
                new.push(HybridDraw { round, stratum, batch, position, ticket_number: t.ticket_number });
            }
        }
        self.draws.extend(new.iter().cloned());
        self.rounds = round;
        let mut list: Vec<HybridRetrieval> = new
            .into_iter()
            .map(|d| HybridRetrieval {
                round: d.round,
                stratum: d.stratum,
                batch: d.batch,
                position: d.position,
                ticket_number: d.ticket_number,
            })
            .collect();
        list.sort_by(|a, b| (a.stratum, &a.batch, a.position).cmp(&(b.stratum, &b.batch, b.position)));
        Ok(list)
    }

    /// Records readings of drawn cards (a card read again replaces its reading).
    /// Refused: a card that was not drawn in that stratum.
    pub fn record(
        &mut self,
        readings: BTreeMap<(Stratum, String), CardReading>,
        source: &Path,
    ) -> Result<usize> {
        let drawn: BTreeSet<(Stratum, String)> = self.draws.iter().map(|d| (d.stratum, d.card())).collect();
        if let Some((s, card)) = readings.keys().find(|k| !drawn.contains(*k)) {
            return Err(AuditError::Invalid(format!(
                "{}: card {card} of the {} stratum was not drawn",
                source.display(),
                s.as_str()
            )));
        }
        let n = readings.len();
        for ((s, card), r) in readings {
            self.readings.entry(s).or_default().insert(card, r);
        }
        Ok(n)
    }

    /// Reads a state file written by [`HybridAudit::save`].
    pub fn load(path: &Path) -> Result<HybridAudit> {
        let text = std::fs::read_to_string(path).map_err(|e| AuditError::io(path, e))?;
        let json_err =
            |e: serde_json::Error| AuditError::Json { path: path.to_owned(), line: e.line(), source: e };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(json_err)?;
        match v.get("version").and_then(serde_json::Value::as_u64) {
            Some(n) if n == HYBRID_STATE_VERSION as u64 => {}
            other => {
                return Err(AuditError::Invalid(format!(
                    "{}: hybrid-audit state version {}; this build reads version {HYBRID_STATE_VERSION}",
                    path.display(),
                    other.map_or("missing".to_owned(), |n| n.to_string())
                )));
            }
        }
        serde_json::from_value(v).map_err(json_err)
    }

    /// Writes the state file (through a temporary file, so a crash leaves the old one).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp: PathBuf = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| AuditError::Invalid(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| AuditError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| AuditError::io(path, e))
    }
}

/// Writes a retrieval list `round,stratum,batch,position,ticket_number`.
pub fn write_hybrid_retrieval_csv<W: std::io::Write>(
    out: W,
    rows: &[HybridRetrieval],
) -> std::result::Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["round", "stratum", "batch", "position", "ticket_number"])?;
    for r in rows {
        w.write_record([
            r.round.to_string(),
            r.stratum.as_str().to_owned(),
            r.batch.clone(),
            r.position.to_string(),
            r.ticket_number.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// A SUITE question about one contest, as a file: the strata and their samples so far.
/// `scrutineer audit hybrid calc` answers it with the risk and the next round's sizes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteQuestion {
    /// Layout version (1).
    pub version: u32,
    /// The risk limit α.
    pub risk_limit: f64,
    /// The contest's name.
    pub contest: String,
    /// Overall reported votes per choice.
    pub totals: BTreeMap<String, u64>,
    /// Winners.
    pub winners: usize,
    /// Cards in the contest (default: both strata's cards).
    #[serde(default)]
    pub ballots: Option<u64>,
    /// The CVR stratum.
    pub cvr: ComparisonStratum,
    /// The no-CVR stratum.
    pub no_cvr: PollingStratum,
}

/// The answer to a [`SuiteQuestion`].
#[derive(Debug, Clone, Serialize)]
pub struct SuiteAnswer {
    /// The risk (largest combined p-value over pairs).
    pub risk: f64,
    /// Its pair.
    pub pair: (String, String),
    /// λ at its maximum.
    pub lambda: f64,
    /// The next round's cumulative sizes.
    pub next: HybridSize,
}

impl SuiteQuestion {
    /// Reads a question file; errors name the file and line.
    pub fn read(path: &Path) -> Result<SuiteQuestion> {
        let text = std::fs::read_to_string(path).map_err(|e| AuditError::io(path, e))?;
        let q: SuiteQuestion = serde_json::from_str(&text).map_err(|e| AuditError::Json {
            path: path.to_owned(),
            line: e.line(),
            source: e,
        })?;
        if q.version != 1 {
            return Err(AuditError::Invalid(format!(
                "{}: question version {}; this build reads 1",
                path.display(),
                q.version
            )));
        }
        if !(q.risk_limit > 0.0 && q.risk_limit < 1.0) {
            return Err(AuditError::Invalid(format!(
                "{}: risk limit {} is not between 0 and 1",
                path.display(),
                q.risk_limit
            )));
        }
        for (name, s_total, s_ballots, size) in [
            ("cvr", &q.cvr.totals, q.cvr.ballots, q.cvr.sample_size),
            ("no_cvr", &q.no_cvr.totals, q.no_cvr.ballots, q.no_cvr.sample_size),
        ] {
            if size > s_ballots {
                return Err(AuditError::Invalid(format!(
                    "{}: {name} stratum: {size} cards sampled of {s_ballots}",
                    path.display()
                )));
            }
            if let Some(k) = s_total.keys().find(|k| !q.totals.contains_key(*k)) {
                return Err(AuditError::Invalid(format!(
                    "{}: {name} stratum names choice '{k}', not in totals",
                    path.display()
                )));
            }
        }
        let seen: u64 = q.no_cvr.sample.values().sum();
        if seen > q.no_cvr.sample_size * q.winners.max(1) as u64 {
            return Err(AuditError::Invalid(format!(
                "{}: no_cvr sample holds {seen} votes in {} cards",
                path.display(),
                q.no_cvr.sample_size
            )));
        }
        Ok(q)
    }

    /// The risk and the next round's sizes.
    pub fn answer(&self) -> Result<SuiteAnswer> {
        let ballots = self.ballots.unwrap_or(self.cvr.ballots + self.no_cvr.ballots);
        let contest = SuiteContest::new(&self.contest, self.totals.clone(), self.winners, ballots);
        let risk = suite_risk(self.risk_limit, &contest, &self.cvr, &self.no_cvr)?;
        let next = suite_sample_size(self.risk_limit, &contest, &self.cvr, &self.no_cvr)?;
        Ok(SuiteAnswer { risk: risk.pvalue, pair: (risk.winner, risk.loser), lambda: risk.lambda, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator (splitmix64) for simulated elections.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    struct Election {
        dir: PathBuf,
        /// CVR stratum: (reported, true) choice per card.
        cvr: Vec<(Option<&'static str>, Option<&'static str>)>,
        /// No-CVR stratum: true choice per card.
        no_cvr: Vec<Option<&'static str>>,
    }

    /// An election of `n1` CVR cards (in batches of 100) and `n2` others. Reported: `a`
    /// wins with share `reported`; truth: `a`'s share is `truth` in both strata (the CVRs
    /// of the cards that differ misreport them, the no-CVR totals are the reported ones).
    fn election(tag: &str, n1: usize, n2: usize, reported: f64, truth: f64, rng: &mut Rng) -> Election {
        let dir = std::env::temp_dir().join(format!("hybrid-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tmp");
        let mut cvr = Vec::new();
        for _ in 0..n1 {
            let r = rng.next();
            let rep = if r < reported { Some("a") } else { Some("b") };
            // Cards reported for a whose true vote is b, enough to bring a to `truth`.
            let flip = rep == Some("a") && rng.next() < (reported - truth) / reported;
            cvr.push((rep, if flip { Some("b") } else { rep }));
        }
        let no_cvr: Vec<_> =
            (0..n2).map(|_| if rng.next() < truth { Some("a") } else { Some("b") }).collect();
        let rep_a = cvr.iter().filter(|c| c.0 == Some("a")).count() + (n2 as f64 * reported) as usize;
        let rep_b = n1 + n2 - rep_a;
        let mut results = String::from("contest,candidate,votes,winners\n");
        results.push_str(&format!("Mayor,a,{rep_a},1\nMayor,b,{rep_b},1\n"));
        std::fs::write(dir.join("results.csv"), results).expect("w");
        let manifest = |n: usize, prefix: &str| {
            let mut s = String::from("batch,ballots\n");
            for b in 0..n.div_ceil(100) {
                s.push_str(&format!("{prefix}{b},{}\n", (n - b * 100).min(100)));
            }
            s
        };
        std::fs::write(dir.join("m1.csv"), manifest(n1, "C")).expect("w");
        std::fs::write(dir.join("m2.csv"), manifest(n2, "N")).expect("w");
        let mut cvrs = String::from("batch,position,contest,choice\n");
        for (i, c) in cvr.iter().enumerate() {
            cvrs.push_str(&format!("C{},{},Mayor,{}\n", i / 100, i % 100 + 1, c.0.unwrap_or("")));
        }
        std::fs::write(dir.join("cvrs.csv"), cvrs).expect("w");
        Election { dir, cvr, no_cvr }
    }

    fn start(e: &Election, alpha: f64, seed: &str) -> HybridAudit {
        let contests = crate::workflow::read_results(&e.dir.join("results.csv"), 0).expect("results");
        let cvrs = read_cvr_marks(&e.dir.join("cvrs.csv")).expect("cvrs");
        let m1 = Manifest::read(&e.dir.join("m1.csv")).expect("m1");
        let m2 = Manifest::read(&e.dir.join("m2.csv")).expect("m2");
        HybridAudit::start(&contests, cvrs, &e.dir.join("cvrs.csv"), m1, m2, alpha, seed).expect("start")
    }

    /// Draws rounds (SUITE's sizes), reads the true votes, until the contest stops.
    /// Returns the final decision and the cards read.
    fn run(e: &Election, a: &mut HybridAudit) -> (HybridDecision, u64) {
        for round in 0..6 {
            let st = a.status().expect("status");
            if st[0].decision != HybridDecision::Continue {
                return (st[0].decision, st[0].cvr_sampled + st[0].no_cvr_sampled);
            }
            let list = a.draw_round(None).expect("draw");
            let mut csv = String::from("stratum,batch,position,contest,choice\n");
            for r in &list {
                let idx = r.batch[1..].parse::<usize>().expect("batch") * 100 + r.position as usize - 1;
                let truth = match r.stratum {
                    Stratum::Cvr => e.cvr[idx].1,
                    Stratum::NoCvr => e.no_cvr[idx],
                };
                csv.push_str(&format!(
                    "{},{},{},Mayor,{}\n",
                    r.stratum.as_str(),
                    r.batch,
                    r.position,
                    truth.unwrap_or("")
                ));
            }
            let p = e.dir.join(format!("read{round}.csv"));
            std::fs::write(&p, csv).expect("w");
            a.record(read_hybrid_readings(&p).expect("readings"), &p).expect("record");
        }
        let st = a.status().expect("status");
        (st[0].decision, st[0].cvr_sampled + st[0].no_cvr_sampled)
    }

    // When the reported winner lost (truth: a tie turned into a loss for `a`), the audit
    // stops short of a full count in at most α of simulated audits (plus sampling slack).
    #[test]
    fn wrong_outcomes_are_rarely_confirmed() {
        let alpha = 0.10;
        let mut rng = Rng(7);
        let (mut confirmed, runs) = (0, 40);
        for k in 0..runs {
            let e = election(&format!("wrong{k}"), 600, 300, 0.56, 0.49, &mut rng);
            let mut a = start(&e, alpha, &format!("seed {k}"));
            if run(&e, &mut a).0 == HybridDecision::RiskLimitMet {
                confirmed += 1;
            }
            let _ = std::fs::remove_dir_all(&e.dir);
        }
        // α·runs = 4; three standard deviations of a binomial(40, 0.1) ≈ 5.7.
        assert!(confirmed <= 9, "{confirmed} of {runs} wrong outcomes confirmed at α = {alpha}");
    }

    // When the reported outcome is right and the CVRs are exact, the audit stops with
    // far fewer cards than a full count.
    #[test]
    fn right_outcomes_stop_early() {
        let mut rng = Rng(11);
        for k in 0..4 {
            let e = election(&format!("right{k}"), 3000, 800, 0.60, 0.60, &mut rng);
            let mut a = start(&e, 0.10, &format!("seed {k}"));
            let (decision, read) = run(&e, &mut a);
            assert_eq!(decision, HybridDecision::RiskLimitMet, "election {k}");
            assert!(read < 3800 / 4, "election {k}: {read} cards read");
            let _ = std::fs::remove_dir_all(&e.dir);
        }
    }

    #[test]
    fn readings_errors_name_file_and_line() {
        let dir = std::env::temp_dir().join(format!("hybrid-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let p = dir.join("r.csv");
        std::fs::write(&p, "stratum,batch,position,contest,choice\ncvr,A,1,Mayor,a\nboth,A,2,Mayor,b\n")
            .expect("w");
        let e = read_hybrid_readings(&p).expect_err("bad stratum").to_string();
        assert!(e.contains("r.csv:3") && e.contains("stratum"), "{e}");
        std::fs::write(&p, "stratum,batch,position,contest,choice\nno-cvr,A,zero,Mayor,a\n").expect("w");
        let e = read_hybrid_readings(&p).expect_err("bad position").to_string();
        assert!(e.contains("r.csv:2") && e.contains("position"), "{e}");
        let c = dir.join("c.csv");
        std::fs::write(&c, "batch,position,contest,choice\nA,1,,a\n").expect("w");
        let e = read_cvr_marks(&c).expect_err("no contest").to_string();
        assert!(e.contains("c.csv:2") && e.contains("contest"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn draws_extend_and_stay_in_their_strata() {
        let mut rng = Rng(3);
        let e = election("draws", 500, 200, 0.6, 0.6, &mut rng);
        let mut a = start(&e, 0.1, "fixed");
        let first = a.draw_round(Some((20, 10))).expect("draw");
        assert_eq!(first.iter().filter(|r| r.stratum == Stratum::Cvr).count(), 20);
        assert!(first.iter().all(|r| (r.stratum == Stratum::Cvr) == r.batch.starts_with('C')));
        let second = a.draw_round(Some((30, 10))).expect("draw");
        assert_eq!(second.len(), 10, "ten more CVR cards, no new no-CVR card");
        let mut again = start(&e, 0.1, "fixed");
        assert_eq!(again.draw_round(Some((30, 10))).expect("draw").len(), 40, "same seed, same cards");
        assert!(a.draw_round(Some((501, 10))).is_err());
        let _ = std::fs::remove_dir_all(&e.dir);
    }
}
