//! Batch-comparison audits: MACRO applied per contest (as Arlo runs it), with batches
//! drawn by PPEB.
//!
//! The method (Stark, "A sharper discrepancy measure for post-election audits", 2008,
//! and "Efficient post-election audits of multiple contests", 2009; PPEB: Aslam, Popa
//! and Rivest 2008):
//!
//! - For every winner–loser pair (w, ℓ) of a contest the reported margin is
//!   V_wℓ = T_w − T_ℓ − pending − unauditable: ballots not yet tallied (`pending`) and
//!   ballots in the contest totals that no batch tally holds (`unauditable`,
//!   ⌈(Σ totals − Σ batch votes) / votes allowed⌉) are assumed to be votes for ℓ.
//! - A contest decided by a majority threshold (majority or run-off) adds, for each
//!   winner w, the pair "w against everyone else" when w holds a majority
//!   (V = 2T_w − valid − …), else "everyone else against w" (V = valid − 2T_w − …); a
//!   contest where nobody holds a majority has the top two as its winners.
//! - The error bound of batch p is the largest relative overstatement it could hold:
//!   u_p = max over pairs of (v_wp − v_ℓp + b_p) / V_wℓ, with b_p the batch's ballots
//!   (∞ when some V ≤ 0: the contest needs a full hand count). U = Σ u_p.
//! - Batches are drawn with replacement with probability u_p / U (PPEB). Draw k takes
//!   the uniform number given by the first 16 hexadecimal digits of Rivest's
//!   consistent-sampler ticket of the id `ppeb:CONTEST:k` ([`ConsistentSampler`]) and
//!   the batch where the running sum of u_p / U (batches in name order) first exceeds it.
//! - A hand-tallied batch's error e_p is the largest over pairs of
//!   ((v_wp − v_ℓp) − (a_wp − a_ℓp)) / V_wℓ, counted as 0 when not positive (errors in the
//!   winner's favour are not credited); its taint is t_p = e_p / u_p.
//! - Risk after the draws in order: P = Π (1 − 1/U) / (1 − t_p) (1 once a taint
//!   reaches 1), capped at 1. The audit stops when P ≤ α.
//! - The next round's size is ⌈(ln α − ln P) / ln(1 − 1/U)⌉ + 1 (P = 1 before the first
//!   round; the 1 allows for a small discrepancy, as Arlo does), at most the number of
//!   batches holding the contest; a round that would reach that many draws is a full
//!   hand count of the contest's batches.
//!
//! Arithmetic is f64 (Arlo uses 28-digit decimals); the two agree to float rounding on
//! Arlo's test vectors (`scripts/peers-audit-macro.sh`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{AuditError, Columns, Result, csv_err, open_lines, parse_field};
use crate::manifest::Manifest;
use crate::sampler::ConsistentSampler;

/// The state file's layout version; a file of another version is refused by name.
pub const BATCH_STATE_VERSION: u32 = 1;

/// The most votes a row of a batch tally may give: no batch holds a billion ballots, and
/// the bound keeps every sum far from overflowing.
pub const MAX_BATCH_VOTES: u64 = 1_000_000_000;

/// Votes per choice in one batch and contest, choices by name.
pub type ChoiceVotes = BTreeMap<String, u64>;

/// Every batch's votes: batch → contest → choice → votes.
pub type BatchTallies = BTreeMap<String, BTreeMap<String, ChoiceVotes>>;

/// A tally file as read: the votes, and each contest's choices in the order they first
/// appear (the order ties between equal totals are broken in).
#[derive(Debug, Clone, Default)]
pub struct TallyFile {
    /// batch → contest → choice → votes.
    pub tallies: BatchTallies,
    /// contest → choices in order of first appearance.
    pub choices: BTreeMap<String, Vec<String>>,
    /// Line of each batch's first row, for messages that name the file.
    pub first_line: BTreeMap<String, u64>,
}

/// Reads a batch tally CSV `batch,contest,choice,votes` (reported or hand-counted; plain,
/// gzip or zstd). A repeated (batch, contest, choice) row or a bad number is an error
/// naming the file and line.
pub fn read_batch_tallies(path: &Path) -> Result<TallyFile> {
    let mut reader = csv::Reader::from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let (c_batch, c_contest, c_choice, c_votes) =
        (cols.require("batch")?, cols.require("contest")?, cols.require("choice")?, cols.require("votes")?);
    let mut out = TallyFile::default();
    for rec in reader.records() {
        let r = rec.map_err(|e| csv_err(path, e))?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        let get = |i: usize| r.get(i).unwrap_or("").trim().to_owned();
        let (batch, contest, choice) = (get(c_batch), get(c_contest), get(c_choice));
        for (name, value) in [("batch", &batch), ("contest", &contest), ("choice", &choice)] {
            if value.is_empty() {
                return Err(AuditError::field(path, line, name, value, "must not be empty"));
            }
        }
        let votes: u64 = parse_field(path, &r, c_votes, "votes")?;
        if votes > MAX_BATCH_VOTES {
            let raw = r.get(c_votes).unwrap_or("");
            return Err(AuditError::field(path, line, "votes", raw, "more votes than any batch holds"));
        }
        out.first_line.entry(batch.clone()).or_insert(line);
        let order = out.choices.entry(contest.clone()).or_default();
        if !order.contains(&choice) {
            order.push(choice.clone());
        }
        let slot = out.tallies.entry(batch.clone()).or_default().entry(contest.clone()).or_default();
        if slot.insert(choice.clone(), votes).is_some() {
            return Err(AuditError::format(
                path,
                line,
                format!("batch '{batch}', contest '{contest}', choice '{choice}' appears twice"),
            ));
        }
    }
    Ok(out)
}

/// One contest of a batch-comparison audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchContest {
    /// The contest's name.
    pub name: String,
    /// Reported total per choice, in the order ties are broken in.
    pub totals: Vec<(String, u64)>,
    /// Number of winners (vote for k).
    pub winners: usize,
    /// Votes a voter may cast in it.
    pub votes_allowed: u64,
    /// Ballots not yet tallied, assumed to be votes for each loser.
    pub pending_ballots: u64,
    /// Decided by a majority threshold (majority or run-off).
    pub runoff: bool,
}

/// One side of a comparison: a choice, or every choice but one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Side {
    Choice(String),
    AllBut(String),
}

impl Side {
    fn votes(&self, v: &ChoiceVotes, choices: &[(String, u64)]) -> i128 {
        match self {
            Side::Choice(c) => v.get(c).copied().unwrap_or(0) as i128,
            Side::AllBut(c) => choices
                .iter()
                .filter(|(n, _)| n != c)
                .map(|(n, _)| v.get(n).copied().unwrap_or(0) as i128)
                .sum(),
        }
    }
}

/// A hypothesis of the audit: `winner` got more votes than `loser`, by `margin` (after
/// pending and unauditable ballots are taken off).
#[derive(Debug, Clone)]
struct Pair {
    winner: Side,
    loser: Side,
    margin: i128,
}

impl BatchContest {
    /// The reported winners and losers: the totals sorted by votes (ties in the order of
    /// `totals`), the first `winners` winning; with a majority threshold and nobody
    /// holding a majority, the top two.
    pub fn winners_and_losers(&self) -> (Vec<String>, Vec<String>) {
        let mut sorted: Vec<&(String, u64)> = self.totals.iter().collect();
        sorted.sort_by_key(|t| std::cmp::Reverse(t.1));
        let valid: u128 = self.totals.iter().map(|t| t.1 as u128).sum();
        let top = sorted.first().map(|t| t.1 as u128).unwrap_or(0);
        let k = if self.runoff && top <= valid - top { 2 } else { self.winners };
        let (w, l) = sorted.split_at(k.min(sorted.len()));
        (w.iter().map(|t| t.0.clone()).collect(), l.iter().map(|t| t.0.clone()).collect())
    }

    fn total(&self, choice: &str) -> i128 {
        self.totals.iter().find(|t| t.0 == choice).map(|t| t.1 as i128).unwrap_or(0)
    }

    /// Ballots in the totals that no batch tally holds (never below 0: batch tallies
    /// above the totals are refused when the audit starts).
    pub fn unauditable_ballots(&self, reported: &BatchTallies) -> u64 {
        let in_batches: u128 = reported
            .values()
            .filter_map(|b| b.get(&self.name))
            .flat_map(|v| self.totals.iter().map(move |(c, _)| v.get(c).copied().unwrap_or(0) as u128))
            .sum();
        let total: u128 = self.totals.iter().map(|t| t.1 as u128).sum();
        let n = total.saturating_sub(in_batches).div_ceil(self.votes_allowed.max(1) as u128);
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    fn pairs(&self, unauditable: u64) -> Vec<Pair> {
        let (winners, losers) = self.winners_and_losers();
        let off = self.pending_ballots as i128 + unauditable as i128;
        let mut out = Vec::new();
        for w in &winners {
            for l in &losers {
                out.push(Pair {
                    winner: Side::Choice(w.clone()),
                    loser: Side::Choice(l.clone()),
                    margin: self.total(w) - self.total(l) - off,
                });
            }
        }
        if self.runoff {
            let valid: i128 = self.totals.iter().map(|t| t.1 as i128).sum();
            for w in &winners {
                let tw = self.total(w);
                let (winner, loser, margin) = if tw > valid - tw {
                    (Side::Choice(w.clone()), Side::AllBut(w.clone()), 2 * tw - valid)
                } else {
                    (Side::AllBut(w.clone()), Side::Choice(w.clone()), valid - 2 * tw)
                };
                out.push(Pair { winner, loser, margin: margin - off });
            }
        }
        out
    }
}

/// The MACRO measures of one contest over the reported batches.
#[derive(Debug, Clone)]
pub struct ContestBounds {
    contest: BatchContest,
    pairs: Vec<Pair>,
    /// Ballots in each batch.
    ballots: BTreeMap<String, u64>,
    /// u_p of every batch holding the contest, in batch-name order.
    pub bounds: Vec<(String, f64)>,
    /// U = Σ u_p (∞ for a tie or a margin used up by pending and unauditable ballots).
    pub total: f64,
    /// Ballots no batch tally holds.
    pub unauditable: u64,
}

impl ContestBounds {
    /// Computes every batch's error bound for `contest`.
    pub fn new(
        contest: &BatchContest,
        reported: &BatchTallies,
        ballots: &BTreeMap<String, u64>,
    ) -> ContestBounds {
        let unauditable = contest.unauditable_ballots(reported);
        let pairs = contest.pairs(unauditable);
        let mut cb = ContestBounds {
            contest: contest.clone(),
            pairs,
            ballots: ballots.clone(),
            bounds: Vec::new(),
            total: 0.0,
            unauditable,
        };
        for (batch, contests) in reported {
            if let Some(v) = contests.get(&contest.name) {
                let u = cb.batch_bound(v, ballots.get(batch).copied().unwrap_or(0));
                cb.bounds.push((batch.clone(), u));
            }
        }
        cb.total = cb.bounds.iter().map(|b| b.1).sum();
        cb
    }

    /// u_p: the largest relative overstatement a batch with these reported votes and
    /// `ballots` ballots could hold.
    fn batch_bound(&self, v: &ChoiceVotes, ballots: u64) -> f64 {
        let mut u = 0.0f64;
        for p in &self.pairs {
            if p.margin <= 0 {
                return f64::INFINITY;
            }
            let d = p.winner.votes(v, &self.contest.totals) - p.loser.votes(v, &self.contest.totals);
            u = u.max((d + ballots as i128) as f64 / p.margin as f64);
        }
        u
    }

    /// The error bound of one batch (0 for a batch not holding the contest).
    pub fn bound_of(&self, batch: &str) -> f64 {
        self.bounds.iter().find(|b| b.0 == batch).map(|b| b.1).unwrap_or(0.0)
    }

    /// e_p: the batch's largest relative overstatement over the pairs, 0 when not positive.
    pub fn batch_error(&self, reported: &ChoiceVotes, hand: &ChoiceVotes) -> f64 {
        let totals = &self.contest.totals;
        let mut e = f64::NEG_INFINITY;
        for p in &self.pairs {
            let over = (p.winner.votes(reported, totals) - p.loser.votes(reported, totals))
                - (p.winner.votes(hand, totals) - p.loser.votes(hand, totals));
            if over == 0 {
                continue;
            }
            let w = if p.margin > 0 { over as f64 / p.margin as f64 } else { f64::INFINITY };
            e = e.max(w);
        }
        e.max(0.0)
    }

    /// The taint t_p = e_p / u_p of a hand-tallied batch.
    pub fn taint(&self, batch: &str, reported: &ChoiceVotes, hand: &ChoiceVotes) -> f64 {
        let u = self.bound_of(batch);
        let e = self.batch_error(reported, hand);
        if e == 0.0 {
            0.0
        } else if !u.is_finite() || !e.is_finite() || u <= 0.0 {
            1.0
        } else {
            e / u
        }
    }

    /// Ballots in a batch.
    pub fn ballots_of(&self, batch: &str) -> u64 {
        self.ballots.get(batch).copied().unwrap_or(0)
    }

    /// Batches holding the contest.
    pub fn batch_count(&self) -> usize {
        self.bounds.len()
    }
}

/// MACRO's risk after draws with these taints, in draw order: Π (1 − 1/U) / (1 − t),
/// 1 once a taint reaches 1 or U is infinite, capped at 1.
pub fn macro_risk(taints: &[f64], total_bound: f64) -> f64 {
    if !total_bound.is_finite() {
        return 1.0;
    }
    if total_bound <= 1.0 {
        // Even every batch overstating all it could would not change the outcome.
        return 0.0;
    }
    let step = (1.0 - 1.0 / total_bound).ln();
    let mut ln_p = 0.0;
    for &t in taints {
        if t >= 1.0 {
            return 1.0;
        }
        ln_p += step - (1.0 - t).ln();
    }
    ln_p.exp().min(1.0)
}

/// Draws to add so that, with no further error, the risk falls to α:
/// ⌈(ln α − ln risk) / ln(1 − 1/U)⌉ + 1 (0 once risk ≤ α), at most `batches`; `batches`
/// when U is infinite.
pub fn macro_round_size(total_bound: f64, risk: f64, alpha: f64, batches: usize) -> usize {
    if risk <= alpha {
        return 0;
    }
    if !total_bound.is_finite() {
        return batches;
    }
    if total_bound <= 1.0 {
        return 0;
    }
    let n = ((alpha.ln() - risk.ln()) / (1.0 - 1.0 / total_bound).ln()).ceil() + 1.0;
    if n >= batches as f64 { batches } else { n.max(0.0) as usize }
}

/// One PPEB draw: its index in the contest's sequence of draws, and the batch drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpebDraw {
    /// 0 for the contest's first draw, then 1, 2, …
    pub index: u64,
    /// The batch drawn.
    pub batch: String,
    /// The consistent-sampler ticket number whose first 16 digits gave the uniform number.
    pub ticket_number: String,
    /// The round it was drawn in.
    pub round: u32,
}

/// Draws `count` batches of a contest with replacement with probability u_p / U,
/// continuing the contest's sequence at `start` (later rounds extend earlier ones).
pub fn ppeb_draws(
    sampler: &ConsistentSampler,
    bounds: &ContestBounds,
    start: u64,
    count: usize,
    round: u32,
) -> Vec<PpebDraw> {
    let positive: Vec<&(String, f64)> = bounds.bounds.iter().filter(|b| b.1 > 0.0).collect();
    if positive.is_empty() || !bounds.total.is_finite() {
        return Vec::new();
    }
    let mut cumulative = Vec::with_capacity(positive.len());
    let mut run = 0.0;
    for b in &positive {
        run += b.1;
        cumulative.push(run);
    }
    let total = run;
    (start..start + count as u64)
        .map(|k| {
            let t = sampler.first_ticket(&format!("ppeb:{}:{k}", bounds.contest.name));
            let x = u64::from_str_radix(&t.ticket_number[..16], 16).unwrap_or(0) as f64 / 2f64.powi(64);
            let target = x * total;
            let i = cumulative.partition_point(|&c| c <= target).min(positive.len() - 1);
            PpebDraw { index: k, batch: positive[i].0.clone(), ticket_number: t.ticket_number, round }
        })
        .collect()
}

/// How a contest stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchDecision {
    /// Risk at or below the limit: the reported outcome stands.
    RiskLimitMet,
    /// Draw another round.
    Continue,
    /// Every batch of the contest is to be (or is being) hand counted.
    FullHandCount,
    /// Every batch is hand counted and the hand count gives the reported winners.
    HandCountConfirmed,
    /// Every batch is hand counted and the hand count gives other winners.
    HandCountOverturned,
    /// No loser: nothing to audit.
    Uncontested,
}

/// A batch-comparison audit kept in one state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchAudit {
    /// Layout version ([`BATCH_STATE_VERSION`]).
    pub version: u32,
    /// The risk limit α.
    pub risk_limit: f64,
    /// The public seed.
    pub seed: String,
    /// Ballots per batch (the manifest).
    pub ballots: BTreeMap<String, u64>,
    /// The reported batch tallies.
    pub reported: BatchTallies,
    /// The contests.
    pub contests: Vec<BatchContest>,
    /// Draws per contest, in draw order.
    pub draws: BTreeMap<String, Vec<PpebDraw>>,
    /// Contests sent to a full hand count, with the round that did it.
    pub full_count: BTreeMap<String, u32>,
    /// Rounds drawn so far.
    pub rounds: u32,
    /// Hand tallies of the batches counted: batch → contest → choice → votes.
    pub hand: BatchTallies,
}

/// A contest's status.
#[derive(Debug, Clone, Serialize)]
pub struct BatchStatus {
    /// The contest.
    pub contest: String,
    /// Reported winners.
    pub winners: Vec<String>,
    /// U.
    pub total_error_bound: f64,
    /// Batches holding the contest.
    pub batches: usize,
    /// Draws so far.
    pub draws: usize,
    /// Draws with a hand tally, counted from the first (the risk uses these).
    pub tallied_draws: usize,
    /// Distinct batches of the contest hand counted.
    pub batches_counted: usize,
    /// The risk.
    pub risk: f64,
    /// The decision.
    pub decision: BatchDecision,
    /// Draws for the next round (0 when none is needed).
    pub next_round: usize,
}

/// One batch on a retrieval list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchRetrieval {
    /// The batch.
    pub batch: String,
    /// Its ballots.
    pub ballots: u64,
    /// The round that first asks for it.
    pub round: u32,
    /// How many times it was drawn this round (over all contests).
    pub times_drawn: u64,
    /// The contests it was drawn for, `;`-joined.
    pub contests: String,
}

fn parse_override(map: &[(String, u64)], name: &str) -> Option<u64> {
    map.iter().find(|(c, _)| c == name).map(|(_, v)| *v)
}

/// Options per contest when an audit starts.
#[derive(Debug, Clone, Default)]
pub struct BatchStartOptions {
    /// Certified totals per contest (contest → choice → votes), if not the batch sums.
    pub totals: Option<BTreeMap<String, Vec<(String, u64)>>>,
    /// Winners per contest (default 1).
    pub winners: Vec<(String, u64)>,
    /// Votes allowed per contest (default: the number of winners).
    pub votes_allowed: Vec<(String, u64)>,
    /// Pending ballots per contest (default 0).
    pub pending: Vec<(String, u64)>,
    /// Contests decided by a majority threshold.
    pub runoff: Vec<String>,
}

impl BatchAudit {
    /// Starts an audit from the reported tallies (`tallies_path`, read into `reported`)
    /// and the manifest. Refused: a batch in the tallies and not in the manifest, one in
    /// the manifest without tallies, batch tallies above a contest's certified totals, a
    /// contest option naming an unknown contest.
    pub fn start(
        reported: TallyFile,
        tallies_path: &Path,
        manifest: &Manifest,
        risk_limit: f64,
        seed: &str,
        options: &BatchStartOptions,
    ) -> Result<BatchAudit> {
        if !(risk_limit > 0.0 && risk_limit < 1.0) {
            return Err(AuditError::Invalid(format!("risk limit {risk_limit} is not between 0 and 1")));
        }
        let mut ballots = BTreeMap::new();
        for b in &manifest.batches {
            if ballots.insert(b.label.clone(), b.ballots).is_some() {
                return Err(AuditError::Invalid(format!("manifest lists batch '{}' twice", b.label)));
            }
        }
        for (batch, line) in &reported.first_line {
            if !ballots.contains_key(batch) {
                return Err(AuditError::format(
                    tallies_path,
                    *line,
                    format!("batch '{batch}' is not in the ballot manifest"),
                ));
            }
        }
        if let Some(missing) = ballots.keys().find(|b| !reported.tallies.contains_key(*b)) {
            return Err(AuditError::Invalid(format!(
                "{}: batch '{missing}' of the manifest has no reported tallies",
                tallies_path.display()
            )));
        }
        let known: BTreeSet<&String> = reported.choices.keys().collect();
        let named = options
            .winners
            .iter()
            .chain(&options.votes_allowed)
            .chain(&options.pending)
            .map(|(c, _)| c)
            .chain(&options.runoff);
        for c in named {
            if !known.contains(c) {
                return Err(AuditError::Invalid(format!("contest '{c}' is not in the reported tallies")));
            }
        }
        let mut contests = Vec::new();
        for (name, order) in &reported.choices {
            let sums: Vec<(String, u64)> = order
                .iter()
                .map(|c| {
                    let v = reported.tallies.values().filter_map(|b| b.get(name)?.get(c)).sum();
                    (c.clone(), v)
                })
                .collect();
            let totals = match options.totals.as_ref().and_then(|t| t.get(name)) {
                None => sums.clone(),
                Some(certified) => {
                    for (c, v) in &sums {
                        let t = certified.iter().find(|x| &x.0 == c).map(|x| x.1).unwrap_or(0);
                        if *v > t {
                            return Err(AuditError::Invalid(format!(
                                "contest '{name}': batch tallies give '{c}' {v} votes, above its total {t}"
                            )));
                        }
                    }
                    certified.clone()
                }
            };
            let winners = parse_override(&options.winners, name).unwrap_or(1) as usize;
            contests.push(BatchContest {
                name: name.clone(),
                totals,
                winners,
                votes_allowed: parse_override(&options.votes_allowed, name).unwrap_or(winners as u64).max(1),
                pending_ballots: parse_override(&options.pending, name).unwrap_or(0),
                runoff: options.runoff.contains(name),
            });
        }
        Ok(BatchAudit {
            version: BATCH_STATE_VERSION,
            risk_limit,
            seed: seed.to_owned(),
            ballots,
            reported: reported.tallies,
            contests,
            draws: BTreeMap::new(),
            full_count: BTreeMap::new(),
            rounds: 0,
            hand: BTreeMap::new(),
        })
    }

    /// The MACRO measures of a contest.
    pub fn bounds(&self, contest: &BatchContest) -> ContestBounds {
        ContestBounds::new(contest, &self.reported, &self.ballots)
    }

    fn contest_status(&self, c: &BatchContest) -> BatchStatus {
        let cb = self.bounds(c);
        let (winners, losers) = c.winners_and_losers();
        let draws = self.draws.get(&c.name).map(Vec::as_slice).unwrap_or(&[]);
        let mut taints = Vec::new();
        for d in draws {
            let Some(hand) = self.hand.get(&d.batch).and_then(|h| h.get(&c.name)) else { break };
            let Some(reported) = self.reported.get(&d.batch).and_then(|b| b.get(&c.name)) else { break };
            taints.push(cb.taint(&d.batch, reported, hand));
        }
        let counted = cb.bounds.iter().filter(|(b, _)| self.hand.contains_key(b)).count();
        let mut status = BatchStatus {
            contest: c.name.clone(),
            winners: winners.clone(),
            total_error_bound: cb.total,
            batches: cb.batch_count(),
            draws: draws.len(),
            tallied_draws: taints.len(),
            batches_counted: counted,
            risk: macro_risk(&taints, cb.total),
            decision: BatchDecision::Continue,
            next_round: 0,
        };
        if losers.is_empty() {
            status.risk = 0.0;
            status.decision = BatchDecision::Uncontested;
        } else if counted == cb.batch_count() && counted > 0 {
            status.risk = 0.0;
            let hand_contest = BatchContest {
                totals: c
                    .totals
                    .iter()
                    .map(|(n, _)| {
                        let v = self.hand.values().filter_map(|b| b.get(&c.name)?.get(n)).sum();
                        (n.clone(), v)
                    })
                    .collect(),
                ..c.clone()
            };
            let mut hw = hand_contest.winners_and_losers().0;
            let mut rw = winners;
            hw.sort();
            rw.sort();
            status.decision =
                if hw == rw { BatchDecision::HandCountConfirmed } else { BatchDecision::HandCountOverturned };
        } else if status.risk <= self.risk_limit {
            status.decision = BatchDecision::RiskLimitMet;
        } else if self.full_count.contains_key(&c.name) {
            status.decision = BatchDecision::FullHandCount;
        } else {
            status.next_round = macro_round_size(cb.total, status.risk, self.risk_limit, cb.batch_count());
            if draws.len().saturating_add(status.next_round) >= cb.batch_count() {
                status.decision = BatchDecision::FullHandCount;
            }
        }
        status
    }

    /// Every contest's status.
    pub fn status(&self) -> Vec<BatchStatus> {
        self.contests.iter().map(|c| self.contest_status(c)).collect()
    }

    /// Draws the next round for every contest still in progress (`sizes` overrides a
    /// contest's computed size) and returns the round's retrieval list. A contest whose
    /// draws would reach its number of batches goes to a full hand count: all its
    /// batches are on the list. Refused while a drawn batch waits for its hand tally.
    pub fn draw_round(&mut self, sizes: &[(String, u64)]) -> Result<Vec<BatchRetrieval>> {
        for (c, _) in sizes {
            if !self.contests.iter().any(|x| &x.name == c) {
                return Err(AuditError::Invalid(format!("contest '{c}' is not in the audit")));
            }
        }
        if let Some(waiting) = self.awaited().into_iter().next() {
            return Err(AuditError::Invalid(format!(
                "batch '{waiting}' (round {}) has no hand tally yet; record it before the next round",
                self.rounds
            )));
        }
        let round = self.rounds + 1;
        let sampler = ConsistentSampler::new(&self.seed);
        let mut wanted: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
        let statuses = self.status();
        for (c, st) in self.contests.clone().iter().zip(statuses) {
            let size = match parse_override(sizes, &c.name) {
                Some(n) => n as usize,
                None if st.decision == BatchDecision::Continue => st.next_round,
                None if st.decision == BatchDecision::FullHandCount => usize::MAX,
                None => 0,
            };
            if size == 0 {
                continue;
            }
            let cb = self.bounds(c);
            let drawn = self.draws.get(&c.name).map(Vec::len).unwrap_or(0);
            if drawn.saturating_add(size) >= cb.batch_count() {
                self.full_count.entry(c.name.clone()).or_insert(round);
                for (b, _) in &cb.bounds {
                    if !self.hand.contains_key(b) {
                        let e = wanted.entry(b.clone()).or_default();
                        e.0 += 1;
                        e.1.insert(c.name.clone());
                    }
                }
                continue;
            }
            let new = ppeb_draws(&sampler, &cb, drawn as u64, size, round);
            for d in &new {
                let e = wanted.entry(d.batch.clone()).or_default();
                e.0 += 1;
                e.1.insert(c.name.clone());
            }
            self.draws.entry(c.name.clone()).or_default().extend(new);
        }
        if wanted.is_empty() {
            return Err(AuditError::Invalid("no contest needs another round".into()));
        }
        self.rounds = round;
        Ok(wanted
            .into_iter()
            .filter(|(b, _)| !self.hand.contains_key(b))
            .map(|(batch, (times, contests))| BatchRetrieval {
                ballots: self.ballots.get(&batch).copied().unwrap_or(0),
                batch,
                round,
                times_drawn: times,
                contests: contests.into_iter().collect::<Vec<_>>().join(";"),
            })
            .collect())
    }

    /// Batches asked for and not yet hand counted.
    pub fn awaited(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.draws.values().flatten().map(|d| d.batch.clone()).collect();
        for c in self.full_count.keys() {
            if let Some(c) = self.contests.iter().find(|x| &x.name == c) {
                out.extend(self.bounds(c).bounds.into_iter().map(|b| b.0));
            }
        }
        out.retain(|b| !self.hand.contains_key(b));
        out
    }

    /// Records hand tallies read from `path`. Refused with file and line: a batch not
    /// asked for, a contest or choice not in that batch's reported tallies, more votes in a
    /// contest than the batch's ballots times the votes allowed; refused naming
    /// the batch: a batch already recorded with other figures, a contest of the batch's
    /// reported tallies left out. A choice without a row has 0 votes. Returns the batches
    /// recorded.
    pub fn record(&mut self, hand: TallyFile, path: &Path) -> Result<usize> {
        let asked: BTreeSet<String> = self
            .draws
            .values()
            .flatten()
            .map(|d| d.batch.clone())
            .chain(self.awaited())
            .chain(self.hand.keys().cloned())
            .collect();
        let mut n = 0;
        for (batch, contests) in &hand.tallies {
            let line = hand.first_line.get(batch).copied().unwrap_or(0);
            if !asked.contains(batch) {
                return Err(AuditError::format(path, line, format!("batch '{batch}' was not drawn")));
            }
            let Some(reported) = self.reported.get(batch) else {
                return Err(AuditError::format(path, line, format!("batch '{batch}' is not reported")));
            };
            let mut full: BTreeMap<String, ChoiceVotes> = BTreeMap::new();
            for (contest, votes) in contests {
                let Some(rep) = reported.get(contest) else {
                    return Err(AuditError::format(
                        path,
                        line,
                        format!("batch '{batch}': contest '{contest}' is not in its reported tallies"),
                    ));
                };
                if let Some(bad) = votes.keys().find(|c| !rep.contains_key(*c)) {
                    return Err(AuditError::format(
                        path,
                        line,
                        format!(
                            "batch '{batch}', contest '{contest}': choice '{bad}' is not reported for it"
                        ),
                    ));
                }
                full.insert(
                    contest.clone(),
                    rep.keys().map(|c| (c.clone(), votes.get(c).copied().unwrap_or(0))).collect(),
                );
            }
            let ballots = self.ballots.get(batch).copied().unwrap_or(0);
            for (contest, votes) in &full {
                let allowed =
                    self.contests.iter().find(|c| &c.name == contest).map_or(1, |c| c.votes_allowed);
                let cast: u64 = votes.values().sum();
                if cast > ballots.saturating_mul(allowed) {
                    return Err(AuditError::format(
                        path,
                        line,
                        format!(
                            "batch '{batch}', contest '{contest}': {cast} votes counted, more than its {ballots} ballots allow"
                        ),
                    ));
                }
            }
            if let Some(missing) = reported.keys().find(|c| !full.contains_key(*c)) {
                return Err(AuditError::Invalid(format!(
                    "{}: batch '{batch}': the hand tally leaves out contest '{missing}'",
                    path.display()
                )));
            }
            if let Some(before) = self.hand.get(batch)
                && before != &full
            {
                return Err(AuditError::Invalid(format!(
                    "{}: batch '{batch}' was already recorded with other figures",
                    path.display()
                )));
            }
            self.hand.insert(batch.clone(), full);
            n += 1;
        }
        Ok(n)
    }

    /// Loads a state file, refusing another layout version by name.
    pub fn load(path: &Path) -> Result<BatchAudit> {
        let text = std::fs::read_to_string(path).map_err(|e| AuditError::io(path, e))?;
        let json_err =
            |e: serde_json::Error| AuditError::Json { path: path.to_owned(), line: e.line(), source: e };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(json_err)?;
        match v.get("version").and_then(serde_json::Value::as_u64) {
            Some(n) if n == BATCH_STATE_VERSION as u64 => {}
            Some(n) => {
                return Err(AuditError::Invalid(format!(
                    "{}: batch-audit state version {n}; this build reads version {BATCH_STATE_VERSION}",
                    path.display()
                )));
            }
            None => {
                return Err(AuditError::Invalid(format!(
                    "{}: not a batch-audit state file (no 'version')",
                    path.display()
                )));
            }
        }
        let a: BatchAudit = serde_json::from_value(v).map_err(json_err)?;
        a.check().map_err(|m| AuditError::Invalid(format!("{}: {m}", path.display())))?;
        Ok(a)
    }

    /// A state file names only batches and contests it reports: every draw's batch holds
    /// the contest it was drawn for, every hand-counted batch is reported, and every
    /// reported batch is in the manifest.
    fn check(&self) -> std::result::Result<(), String> {
        for (batch, contests) in &self.reported {
            if !self.ballots.contains_key(batch) {
                return Err(format!("reported batch '{batch}' is not in the manifest"));
            }
            if let Some(c) = contests.keys().find(|c| !self.contests.iter().any(|x| &x.name == *c)) {
                return Err(format!("batch '{batch}' reports contest '{c}', which is not in the audit"));
            }
        }
        for (contest, draws) in &self.draws {
            for d in draws {
                if !self.reported.get(&d.batch).is_some_and(|b| b.contains_key(contest)) {
                    return Err(format!(
                        "draw of batch '{}' for contest '{contest}', which it does not report",
                        d.batch
                    ));
                }
            }
        }
        for contest in self.full_count.keys() {
            if !self.contests.iter().any(|x| &x.name == contest) {
                return Err(format!("full hand count of contest '{contest}', which is not in the audit"));
            }
        }
        if let Some(b) = self.hand.keys().find(|b| !self.reported.contains_key(*b)) {
            return Err(format!("hand tally of batch '{b}', which is not reported"));
        }
        Ok(())
    }

    /// Saves the state atomically (written beside, then renamed).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp: PathBuf = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| AuditError::Invalid(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| AuditError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| AuditError::io(path, e))
    }
}

/// Writes a retrieval list `batch,ballots,round,times_drawn,contests`, one row per batch.
pub fn write_batch_retrieval_csv<W: std::io::Write>(
    out: W,
    rows: &[BatchRetrieval],
) -> std::result::Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["batch", "ballots", "round", "times_drawn", "contests"])?;
    for r in rows {
        w.write_record(scrutineer_core::text::csv_safe_record([
            r.batch.as_str(),
            &r.ballots.to_string(),
            &r.round.to_string(),
            &r.times_drawn.to_string(),
            &r.contests,
        ]))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn votes(w: u64, l: u64) -> ChoiceVotes {
        [("winner".to_owned(), w), ("loser".to_owned(), l)].into_iter().collect()
    }

    /// Arlo's test election: 400 batches (200 of 400 ballots, 200 of 200), Contest A
    /// 60,000 to 54,000 in all of them.
    fn election() -> (BatchContest, BatchTallies, BTreeMap<String, u64>) {
        let mut reported = BatchTallies::new();
        let mut ballots = BTreeMap::new();
        for i in 0..200 {
            reported.entry(format!("Batch {i}")).or_default().insert("A".into(), votes(200, 180));
            ballots.insert(format!("Batch {i}"), 400);
            reported.entry(format!("Batch {i} AV")).or_default().insert("A".into(), votes(100, 90));
            ballots.insert(format!("Batch {i} AV"), 200);
        }
        let c = BatchContest {
            name: "A".into(),
            totals: vec![("winner".into(), 60_000), ("loser".into(), 54_000)],
            winners: 1,
            votes_allowed: 1,
            pending_ballots: 0,
            runoff: false,
        };
        (c, reported, ballots)
    }

    #[test]
    fn bound_is_margin_plus_ballots_over_contest_margin() {
        let (c, reported, ballots) = election();
        let cb = ContestBounds::new(&c, &reported, &ballots);
        // (200 − 180 + 400) / 6000 and (100 − 90 + 200) / 6000.
        assert!((cb.bound_of("Batch 0") - 420.0 / 6000.0).abs() < 1e-15);
        assert!((cb.bound_of("Batch 0 AV") - 210.0 / 6000.0).abs() < 1e-15);
        assert!((cb.total - 200.0 * 630.0 / 6000.0).abs() < 1e-9);
        // Arlo's first-round size for Contest A at α = 25%.
        assert_eq!(macro_round_size(cb.total, 1.0, 0.25, cb.batch_count()), 30);
    }

    #[test]
    fn pending_and_unauditable_ballots_shrink_the_margin() {
        let (mut c, reported, ballots) = election();
        let base = ContestBounds::new(&c, &reported, &ballots).total;
        c.pending_ballots = 1000;
        let pending = ContestBounds::new(&c, &reported, &ballots).total;
        assert!((pending / base - 6000.0 / 5000.0).abs() < 1e-12);
        c.pending_ballots = 0;
        c.totals[1].1 += 500; // 500 loser votes in no batch
        let cb = ContestBounds::new(&c, &reported, &ballots);
        assert_eq!(cb.unauditable, 500);
        // margin 60,000 − 54,500 − 500 = 5,000.
        assert!((cb.bound_of("Batch 0") - 420.0 / 5000.0).abs() < 1e-15);
        c.pending_ballots = 5000;
        assert!(ContestBounds::new(&c, &reported, &ballots).total.is_infinite());
    }

    #[test]
    fn taint_counts_only_overstatements() {
        let (c, reported, ballots) = election();
        let cb = ContestBounds::new(&c, &reported, &ballots);
        let rep = &reported["Batch 0"]["A"];
        assert_eq!(cb.taint("Batch 0", rep, &votes(200, 180)), 0.0);
        assert_eq!(cb.taint("Batch 0", rep, &votes(210, 170)), 0.0);
        // 20 votes of margin lost: e = 20/6000, u = 420/6000.
        assert!((cb.taint("Batch 0", rep, &votes(190, 190)) - 20.0 / 420.0).abs() < 1e-15);
        let t = [0.0, 20.0 / 420.0];
        let u = cb.total;
        let want = (1.0 - 1.0 / u) * (1.0 - 1.0 / u) / (1.0 - 20.0 / 420.0);
        assert!((macro_risk(&t, u) - want).abs() < 1e-15);
        assert_eq!(macro_risk(&[1.0], u), 1.0);
    }

    #[test]
    fn majority_threshold_adds_the_winner_against_everyone_else() {
        let mut reported = BatchTallies::new();
        let mut ballots = BTreeMap::new();
        for i in 0..10 {
            let v: ChoiceVotes = [("a".to_owned(), 52), ("b".to_owned(), 30), ("c".to_owned(), 18)].into();
            reported.entry(format!("b{i}")).or_default().insert("R".into(), v);
            ballots.insert(format!("b{i}"), 100);
        }
        let mut c = BatchContest {
            name: "R".into(),
            totals: vec![("a".into(), 520), ("b".into(), 300), ("c".into(), 180)],
            winners: 1,
            votes_allowed: 1,
            pending_ballots: 0,
            runoff: false,
        };
        let plain = ContestBounds::new(&c, &reported, &ballots);
        c.runoff = true;
        let runoff = ContestBounds::new(&c, &reported, &ballots);
        // a against b: (22 + 100) / 220; a against the rest: (4 + 100) / 40.
        assert!((plain.bound_of("b0") - 122.0 / 220.0).abs() < 1e-15);
        assert!((runoff.bound_of("b0") - 104.0 / 40.0).abs() < 1e-15);
        // Nobody with a majority: the top two advance.
        c.totals = vec![("a".into(), 400), ("b".into(), 350), ("c".into(), 250)];
        assert_eq!(c.winners_and_losers().0, ["a", "b"]);
    }

    #[test]
    fn a_state_file_naming_an_unreported_batch_is_refused() {
        let (c, reported, ballots) = election();
        let mut a = BatchAudit {
            version: BATCH_STATE_VERSION,
            risk_limit: 0.1,
            seed: "1".into(),
            ballots,
            reported,
            contests: vec![c],
            draws: BTreeMap::new(),
            full_count: BTreeMap::new(),
            rounds: 1,
            hand: BTreeMap::new(),
        };
        let dir = std::env::temp_dir().join(format!("scrutineer-batch-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("a.json");
        a.save(&p).expect("save");
        assert!(BatchAudit::load(&p).is_ok());
        let draw = PpebDraw { index: 0, batch: "Nowhere".into(), ticket_number: "0".into(), round: 1 };
        a.draws.insert("A".into(), vec![draw]);
        a.save(&p).expect("save");
        let e = BatchAudit::load(&p).expect_err("refused").to_string();
        assert!(e.contains("'Nowhere'"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn ppeb_draws_follow_the_error_bounds() {
        let (c, reported, ballots) = election();
        let cb = ContestBounds::new(&c, &reported, &ballots);
        let s = ConsistentSampler::new("seed");
        let draws = ppeb_draws(&s, &cb, 0, 4000, 1);
        let big = draws.iter().filter(|d| !d.batch.ends_with(" AV")).count() as f64;
        // Big batches hold 2/3 of U.
        assert!((big / 4000.0 - 2.0 / 3.0).abs() < 0.03, "{big}");
        // Extending the sequence reproduces the same draws.
        assert_eq!(ppeb_draws(&s, &cb, 10, 5, 2)[0].batch, draws[10].batch);
        assert_ne!(ppeb_draws(&ConsistentSampler::new("other"), &cb, 0, 20, 1), draws[..20].to_vec());
    }
}
