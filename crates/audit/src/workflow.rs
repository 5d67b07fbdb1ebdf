//! A ballot-polling audit kept in one JSON audit file: contests and reported results,
//! the manifest, the public seed, the ballots drawn, the audit board's interpretations.
//! `sample` draws, `record` adds interpretations, `status` measures the risk per contest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{AuditError, Columns, Result, csv_err, open, open_lines, parse_field};
use crate::manifest::Manifest;
use crate::minerva::{PairAudit, PairRound, RoundByRound, RoundSize};
use crate::sampler::{ConsistentSampler, Ticket};
use crate::{bravo, risk};

/// How a contest is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContestKind {
    /// Vote for one or vote for k: the k highest vote-getters win.
    Plurality,
    /// One winner who must exceed `threshold` of the valid votes.
    Supermajority,
}

/// One contest's reported results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Contest {
    /// The contest's name.
    pub name: String,
    /// How it is decided.
    pub kind: ContestKind,
    /// Number of winners.
    pub winners: usize,
    /// The share a supermajority winner must exceed.
    #[serde(default)]
    pub threshold: f64,
    /// Ballot cards in the audited universe (the manifest total if not given).
    pub ballots: u64,
    /// Reported votes per choice.
    pub tallies: BTreeMap<String, u64>,
}

impl Contest {
    /// The winners the tallies give.
    pub fn reported_winners(&self) -> Vec<String> {
        let mut c: Vec<(&String, &u64)> = self.tallies.iter().collect();
        c.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        match self.kind {
            ContestKind::Plurality => {
                c.into_iter().take(self.winners.max(1)).map(|(n, _)| n.clone()).collect()
            }
            ContestKind::Supermajority => {
                let valid: u64 = self.tallies.values().sum();
                c.into_iter()
                    .take(1)
                    .filter(|(_, v)| **v as f64 > self.threshold * valid as f64)
                    .map(|(n, _)| n.clone())
                    .collect()
            }
        }
    }

    /// Winner/loser pairs whose margins the audit must confirm.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let w = self.reported_winners();
        let mut out = Vec::new();
        for a in &w {
            for l in self.tallies.keys().filter(|l| !w.contains(l)) {
                out.push((a.clone(), l.clone()));
            }
        }
        out
    }

    /// Smallest reported diluted margin over the pairs (or the supermajority assorter).
    pub fn diluted_margin(&self) -> f64 {
        let n = self.ballots.max(1) as f64;
        match self.kind {
            ContestKind::Plurality => self
                .pairs()
                .iter()
                .map(|(w, l)| (self.tallies[w] as f64 - self.tallies[l] as f64) / n)
                .fold(f64::INFINITY, f64::min),
            ContestKind::Supermajority => {
                let valid: u64 = self.tallies.values().sum();
                let Some(w) = self.reported_winners().into_iter().next() else { return 0.0 };
                let f = self.threshold;
                let mean = (self.tallies[&w] as f64 / (2.0 * f) + 0.5 * (n - valid as f64)) / n;
                2.0 * mean - 1.0
            }
        }
    }
}

/// Reads reported results: `contest,candidate,votes` and optional `winners`, `ballots`,
/// `kind` (plurality | supermajority) and `threshold` columns (first non-empty value wins).
pub fn read_results(path: &Path, default_ballots: u64) -> Result<Vec<Contest>> {
    let mut reader = csv::Reader::from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let (c_contest, c_cand, c_votes) =
        (cols.require("contest")?, cols.require("candidate")?, cols.require("votes")?);
    let (c_win, c_ball, c_kind, c_thr) =
        (cols.find("winners"), cols.find("ballots"), cols.find("kind"), cols.find("threshold"));
    let mut out: Vec<Contest> = Vec::new();
    for rec in reader.records() {
        let r = rec.map_err(|e| csv_err(path, e))?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        let name = r.get(c_contest).unwrap_or("").trim().to_owned();
        let votes: u64 = parse_field(path, &r, c_votes, "votes")?;
        let idx = match out.iter().position(|c| c.name == name) {
            Some(i) => i,
            None => {
                out.push(Contest {
                    name: name.clone(),
                    kind: ContestKind::Plurality,
                    winners: 1,
                    threshold: 0.5,
                    ballots: default_ballots,
                    tallies: BTreeMap::new(),
                });
                out.len() - 1
            }
        };
        let c = &mut out[idx];
        let nonempty = |i: Option<usize>| i.and_then(|i| r.get(i)).map(str::trim).filter(|s| !s.is_empty());
        if nonempty(c_win).is_some() {
            c.winners = parse_field(path, &r, c_win.unwrap_or(0), "winners")?;
        }
        if nonempty(c_ball).is_some() {
            c.ballots = parse_field(path, &r, c_ball.unwrap_or(0), "ballots")?;
        }
        if nonempty(c_thr).is_some() {
            c.threshold = parse_field(path, &r, c_thr.unwrap_or(0), "threshold")?;
        }
        if let Some(k) = nonempty(c_kind) {
            c.kind = match k.to_ascii_lowercase().as_str() {
                "plurality" | "vote-for-k" | "vote_for_k" => ContestKind::Plurality,
                "supermajority" => ContestKind::Supermajority,
                _ => {
                    return Err(AuditError::field(
                        path,
                        line,
                        "kind",
                        k,
                        "expected plurality or supermajority",
                    ));
                }
            };
        }
        *c.tallies.entry(r.get(c_cand).unwrap_or("").trim().to_owned()).or_default() += votes;
    }
    for c in &mut out {
        let total: u64 = c.tallies.values().sum();
        if c.ballots == 0 {
            c.ballots = total;
        }
    }
    Ok(out)
}

/// How risk is measured in a ballot-polling audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PollingMethod {
    /// BRAVO (Lindeman, Stark and Yates 2012).
    Bravo,
    /// ALPHA (Stark 2023).
    Alpha,
    /// Minerva (Zagórski et al. 2021): risk measured at the end of each round.
    Minerva,
    /// Providence (Broadrick, Vora and Zagórski 2023): risk measured at the end of each round.
    Providence,
}

impl PollingMethod {
    /// The round-by-round test, for Minerva and Providence.
    pub fn round_by_round(self) -> Option<RoundByRound> {
        match self {
            PollingMethod::Minerva => Some(RoundByRound::Minerva),
            PollingMethod::Providence => Some(RoundByRound::Providence),
            PollingMethod::Bravo | PollingMethod::Alpha => None,
        }
    }
}

/// One ballot drawn, in draw order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draw {
    /// The draw's number (from 1).
    pub draw: u64,
    /// The batch.
    pub batch: String,
    /// The ballot's position in the batch (from 1).
    pub position: u64,
    /// The ticket number that chose it.
    pub ticket_number: String,
    /// The ticket's generation (how many times the ballot was drawn before).
    pub generation: u64,
}

/// A ballot-polling audit in progress, saved as JSON between steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditFile {
    /// The public random seed.
    pub seed: String,
    /// The risk limit.
    pub risk_limit: f64,
    /// How risk is measured.
    pub method: PollingMethod,
    /// Whether ballots are drawn with replacement.
    pub with_replacement: bool,
    /// The ballot manifest.
    pub manifest: Manifest,
    /// The contests audited.
    pub contests: Vec<Contest>,
    /// The draws so far.
    #[serde(default)]
    pub draws: Vec<Draw>,
    /// Interpretations keyed by `BATCH-POSITION`, then contest → choices marked.
    #[serde(default)]
    pub interpretations: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// The draws in all at the end of each round (each [`AuditFile::extend_sample`]);
    /// Minerva and Providence measure risk at these points only. An audit file without
    /// it holds its draws as one round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<u64>,
}

impl AuditFile {
    /// A new audit, before any draw: `risk_limit` must lie in (0, 1).
    pub fn new(
        seed: String,
        risk_limit: f64,
        method: PollingMethod,
        with_replacement: bool,
        manifest: Manifest,
        contests: Vec<Contest>,
    ) -> Result<AuditFile> {
        if !(risk_limit > 0.0 && risk_limit < 1.0) {
            return Err(AuditError::Invalid(format!(
                "--risk-limit must be between 0 and 1, got {risk_limit}"
            )));
        }
        if method.round_by_round().is_some() && !with_replacement {
            return Err(AuditError::Invalid(format!(
                "{method:?} assumes sampling with replacement (binomial draws): leave out --without-replacement"
            )));
        }
        Ok(AuditFile {
            seed,
            risk_limit,
            method,
            with_replacement,
            manifest,
            contests,
            draws: Vec::new(),
            interpretations: Default::default(),
            rounds: Vec::new(),
        })
    }

    /// The draws in all at the end of each round so far.
    pub fn round_ends(&self) -> Vec<u64> {
        let mut ends: Vec<u64> =
            self.rounds.iter().copied().filter(|&e| e <= self.draws.len() as u64).collect();
        if ends.last().copied().unwrap_or(0) < self.draws.len() as u64 {
            ends.push(self.draws.len() as u64);
        }
        ends
    }

    /// Records the audit board's interpretations (from [`read_interpretations`] of
    /// `source`), replacing earlier ones of the same ballots; every ballot must have been
    /// drawn. Returns how many were recorded.
    pub fn record_interpretations(
        &mut self,
        new: BTreeMap<String, BTreeMap<String, Vec<String>>>,
        source: &Path,
    ) -> Result<usize> {
        let drawn: BTreeSet<String> =
            self.draws.iter().map(|d| format!("{}-{}", d.batch, d.position)).collect();
        let not_drawn: Vec<&String> = new.keys().filter(|k| !drawn.contains(*k)).collect();
        if let Some(first) = not_drawn.first() {
            return Err(AuditError::Invalid(format!(
                "{}: {} interpreted ballots were not drawn (first: {first})",
                source.display(),
                not_drawn.len(),
            )));
        }
        let n = new.len();
        self.interpretations.extend(new);
        Ok(n)
    }

    /// Reads an audit file written by [`AuditFile::save`].
    pub fn load(path: &Path) -> Result<AuditFile> {
        serde_json::from_reader(open(path)?).map_err(|e| AuditError::Json {
            path: path.to_owned(),
            line: e.line(),
            source: e,
        })
    }

    /// Writes the audit file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| AuditError::Invalid(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| AuditError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| AuditError::io(path, e))
    }

    /// Extends the sample to `size` draws in total (the sampler is consistent, so earlier
    /// draws stay first).
    pub fn extend_sample(&mut self, size: usize) -> &[Draw] {
        let before = self.draws.len();
        let s = ConsistentSampler::new(&self.seed);
        let ids: Vec<String> = self.manifest.ballot_ids().collect();
        let tickets = s.sample(ids.iter().map(String::as_str), size, self.with_replacement);
        self.draws = draws_from(&tickets);
        if self.rounds.is_empty() && before > 0 {
            // A file written before rounds were kept: its draws were one round.
            self.rounds.push(before as u64);
        }
        if self.draws.len() > before {
            self.rounds.push(self.draws.len() as u64);
        }
        &self.draws[before.min(self.draws.len())..]
    }
}

/// Draws numbered in order from sampler tickets.
pub fn draws_from(tickets: &[Ticket]) -> Vec<Draw> {
    tickets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (batch, position) =
                Manifest::split_id(&t.id).map_or((t.id.clone(), 0), |(b, p)| (b.to_owned(), p));
            Draw {
                draw: i as u64 + 1,
                batch,
                position,
                ticket_number: t.ticket_number.clone(),
                generation: t.generation,
            }
        })
        .collect()
}

/// Reads interpretations: `batch,position,contest,choice` (one row per mark; an empty
/// choice records a ballot with no vote in the contest).
pub fn read_interpretations(path: &Path) -> Result<BTreeMap<String, BTreeMap<String, Vec<String>>>> {
    let mut reader = csv::Reader::from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let (cb, cp, cc, ch) = (
        cols.require("batch")?,
        cols.require("position")?,
        cols.require("contest")?,
        cols.require("choice")?,
    );
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for rec in reader.records() {
        let r = rec.map_err(|e| csv_err(path, e))?;
        let pos: u64 = parse_field(path, &r, cp, "position")?;
        let id = format!("{}-{}", r.get(cb).unwrap_or("").trim(), pos);
        let choices =
            out.entry(id).or_default().entry(r.get(cc).unwrap_or("").trim().to_owned()).or_default();
        let choice = r.get(ch).unwrap_or("").trim();
        if !choice.is_empty() && !choices.iter().any(|c| c == choice) {
            choices.push(choice.to_owned());
        }
    }
    Ok(out)
}

/// What an audit says to do next for a contest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Measured risk at or below the limit: the reported outcome stands.
    Stop,
    /// Not yet: draw more ballots (the estimate says how many in all).
    Continue,
    /// Every ballot has been examined: the hand count decides the outcome.
    FullHandCount,
}

/// One contest's measured risk and decision.
#[derive(Debug, Clone, Serialize)]
pub struct ContestStatus {
    /// The contest.
    pub contest: String,
    /// The winners reported.
    pub reported_winners: Vec<String>,
    /// Ballots examined.
    pub ballots_examined: u64,
    /// The measured risk.
    pub measured_risk: f64,
    /// The risk limit.
    pub risk_limit: f64,
    /// What to do next.
    pub decision: Decision,
    /// Estimated total draws to finish if the sample keeps the reported shares.
    pub estimated_total_draws: Option<u64>,
    /// Interpretations missing for drawn ballots.
    pub missing_interpretations: u64,
    /// Winners according to the examined ballots (meaningful after a full hand count).
    pub sample_leaders: Vec<String>,
    /// Minerva and Providence: the rounds whose every draw is interpreted, where risk is
    /// measured.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rounds_measured: usize,
    /// Minerva and Providence, while the audit continues and every draw is interpreted:
    /// the next round's size for each stopping probability in [`ROUND_CHOICES`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_round: Vec<RoundChoice>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The stopping probabilities offered for a Minerva or Providence round (as Arlo does).
pub const ROUND_CHOICES: [f64; 3] = [0.7, 0.8, 0.9];

/// A size for the next round of a Minerva or Providence audit.
#[derive(Debug, Clone, Serialize)]
pub struct RoundChoice {
    /// The chance of stopping asked for.
    pub stopping_probability: f64,
    /// Draws in all at the end of the round; `None` when no round short of a full hand
    /// count reaches that chance.
    pub total_draws: Option<u64>,
    /// The chance that the round stops the audit of the pair needing the most draws, if
    /// the reported results are right.
    pub chance: Option<f64>,
}

/// Minerva or Providence over the rounds of a plurality contest: the largest pair risk,
/// the rounds measured and (when `next`) the next round's choices.
fn round_by_round_risk(
    c: &Contest,
    a: &AuditFile,
    method: RoundByRound,
    next: bool,
) -> (f64, usize, Vec<RoundChoice>) {
    let k = c.winners.max(1);
    let interpreted = a
        .draws
        .iter()
        .take_while(|d| a.interpretations.contains_key(&format!("{}-{}", d.batch, d.position)))
        .count() as u64;
    let complete: Vec<u64> = a.round_ends().into_iter().filter(|&e| e <= interpreted).collect();
    let drawn_so_far = complete.last().copied().unwrap_or(0);
    let marks: Vec<&[String]> = a.draws[..drawn_so_far as usize]
        .iter()
        .map(|d| {
            a.interpretations
                .get(&format!("{}-{}", d.batch, d.position))
                .and_then(|m| m.get(&c.name))
                .map_or(&[][..], Vec::as_slice)
        })
        .collect();
    let mut worst: f64 = 0.0;
    let mut choices: Vec<RoundChoice> = ROUND_CHOICES
        .iter()
        .map(|&p| RoundChoice { stopping_probability: p, total_draws: Some(drawn_so_far), chance: None })
        .collect();
    for (w, l) in c.pairs() {
        let (vw, vl) = (c.tallies[&w], c.tallies[&l]);
        let share = if vw + vl == 0 { 0.5 } else { vw as f64 / (vw + vl) as f64 };
        let Ok(mut state) = PairAudit::new(method, share, a.risk_limit) else {
            // The reported winner does not lead the pair: nothing short of a full count.
            worst = 1.0;
            choices.iter_mut().for_each(|ch| ch.total_draws = None);
            continue;
        };
        let (mut cw, mut cl, mut i) = (0u64, 0u64, 0usize);
        let (mut risk, mut stopped) = (1.0f64, false);
        for &end in &complete {
            for s in &marks[i..end as usize] {
                if s.len() <= k {
                    let (hw, hl) = (s.contains(&w), s.contains(&l));
                    cw += u64::from(hw && !hl);
                    cl += u64::from(hl && !hw);
                }
            }
            i = end as usize;
            if cw + cl <= state.drawn() {
                continue; // no ballot for the pair this round: the pair's round is the next
            }
            match state.take(PairRound { drawn: cw + cl, winner: cw }) {
                Ok(r) => {
                    risk = r.risk();
                    stopped = r.stop;
                }
                Err(_) => risk = 1.0,
            }
            if stopped {
                break;
            }
        }
        if !stopped && risk <= a.risk_limit {
            // A p-value at most α with at most half of the pair's sample for the winner
            // does not stop the audit.
            risk = 1.0;
        }
        worst = worst.max(risk);
        if stopped || !next {
            continue;
        }
        let per_pair = c.ballots.max(vw + vl) as f64 / (vw + vl) as f64;
        for ch in &mut choices {
            let size = state.next_size(ch.stopping_probability, vw + vl).ok().flatten();
            match (size, ch.total_draws) {
                (Some(RoundSize { drawn, chance, .. }), Some(total)) => {
                    let more = ((drawn - state.drawn()) as f64 * per_pair).ceil() as u64;
                    if drawn_so_far + more > total {
                        ch.total_draws = Some(drawn_so_far + more);
                        ch.chance = Some(chance);
                    }
                }
                _ => ch.total_draws = None,
            }
        }
    }
    if worst <= a.risk_limit || !next {
        choices.clear();
    }
    (worst, complete.len(), choices)
}

/// Measures the risk of every contest from the interpreted draws, in draw order.
pub fn status(a: &AuditFile) -> Vec<ContestStatus> {
    let distinct: BTreeSet<(String, u64)> = a.draws.iter().map(|d| (d.batch.clone(), d.position)).collect();
    let all_seen = distinct.len() as u64 >= a.manifest.total_ballots() && a.manifest.total_ballots() > 0;
    a.contests
        .iter()
        .map(|c| {
            let winners = c.reported_winners();
            let mut missing = 0;
            let mut seq: Vec<Vec<String>> = Vec::new();
            for d in &a.draws {
                match a.interpretations.get(&format!("{}-{}", d.batch, d.position)) {
                    Some(m) => seq.push(m.get(&c.name).cloned().unwrap_or_default()),
                    None => missing += 1,
                }
            }
            let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
            for s in &seq {
                for ch in s {
                    *counts.entry(ch.as_str()).or_default() += 1;
                }
            }
            let mut leaders: Vec<(&str, u64)> = counts.iter().map(|(k, v)| (*k, *v)).collect();
            leaders.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
            let sample_leaders = leaders.iter().take(c.winners.max(1)).map(|(k, _)| k.to_string()).collect();
            let rbr =
                a.method.round_by_round().filter(|_| c.kind == ContestKind::Plurality && !winners.is_empty());
            let (risk, rounds_measured, next_round) = match rbr {
                Some(m) => round_by_round_risk(c, a, m, missing == 0),
                None => (if winners.is_empty() { 1.0 } else { measured_risk(c, a, &seq) }, 0, Vec::new()),
            };
            let decision = if risk <= a.risk_limit {
                Decision::Stop
            } else if all_seen && missing == 0 {
                Decision::FullHandCount
            } else {
                Decision::Continue
            };
            let n = c.ballots.max(1) as f64;
            let est = c
                .pairs()
                .iter()
                .filter_map(|(w, l)| {
                    bravo::asn(c.tallies[w] as f64 / n, c.tallies[l] as f64 / n, a.risk_limit)
                })
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
                .map(|x| x.ceil() as u64);
            let est = match rbr {
                // The size of the round that stops with chance 0.9.
                Some(_) => next_round.last().and_then(|ch| ch.total_draws).or(est),
                None => est,
            };
            ContestStatus {
                contest: c.name.clone(),
                reported_winners: winners,
                ballots_examined: seq.len() as u64,
                measured_risk: risk,
                risk_limit: a.risk_limit,
                decision,
                estimated_total_draws: est,
                missing_interpretations: missing,
                sample_leaders,
                rounds_measured,
                next_round,
            }
        })
        .collect()
}

fn measured_risk(c: &Contest, a: &AuditFile, seq: &[Vec<String>]) -> f64 {
    let population = if a.with_replacement { None } else { Some(c.ballots) };
    match c.kind {
        ContestKind::Supermajority => {
            let Some(w) = c.reported_winners().into_iter().next() else { return 1.0 };
            let f = c.threshold;
            let xs: Vec<f64> = seq
                .iter()
                .map(|s| risk::supermajority_assort(s.len() == 1 && s[0] == w, s.len() == 1, f))
                .collect();
            let u = 1.0 / (2.0 * f);
            let eta0 = (1.0 + 2.0 * c.diluted_margin().max(0.0)).min(2.0 * u) / 2.0 + 0.0;
            alpha_last(&xs, population, u, eta0.max(0.5 + 1e-6))
        }
        ContestKind::Plurality => {
            let k = c.winners.max(1);
            let valid = |s: &Vec<String>| s.len() <= k; // an overvote counts for nobody
            let mut worst: f64 = 0.0;
            for (w, l) in c.pairs() {
                let r = match a.method {
                    // Minerva and Providence plurality contests are measured round by
                    // round (`round_by_round_risk`) and never reach here.
                    PollingMethod::Bravo | PollingMethod::Minerva | PollingMethod::Providence => {
                        let (mut ws, mut ls) = (0, 0);
                        for s in seq.iter().filter(|s| valid(s)) {
                            let (hw, hl) = (s.contains(&w), s.contains(&l));
                            if hw && !hl {
                                ws += 1;
                            } else if hl && !hw {
                                ls += 1;
                            }
                        }
                        bravo::pair_test(&w, &l, c.tallies[&w], c.tallies[&l], ws, ls).risk
                    }
                    PollingMethod::Alpha => {
                        let xs: Vec<f64> = seq
                            .iter()
                            .map(|s| {
                                let ok = valid(s);
                                risk::plurality_assort(ok && s.contains(&w), ok && s.contains(&l))
                            })
                            .collect();
                        let n = c.ballots.max(1) as f64;
                        let eta0 = 0.5 + (c.tallies[&w] as f64 - c.tallies[&l] as f64) / (2.0 * n);
                        alpha_last(&xs, population, 1.0, eta0.max(0.5 + 1e-6))
                    }
                };
                worst = worst.max(r);
            }
            worst
        }
    }
}

fn alpha_last(xs: &[f64], population: Option<u64>, u: f64, eta0: f64) -> f64 {
    risk::alpha_pvalues(xs, population, u, eta0, 100.0).last().copied().unwrap_or(1.0)
}

/// The findings of an audit's status for the store: every contest whose outcome the
/// audit has not confirmed (risk limit not met, settled by a full hand count, or
/// overturned by it).
pub fn status_findings(a: &AuditFile, status: &[ContestStatus]) -> Vec<scrutineer_core::Finding> {
    use scrutineer_core::{Engine, Evidence, Finding, Severity};
    status
        .iter()
        .filter(|s| s.decision != Decision::Stop)
        .map(|s| {
            let (kind, sev, title) = match s.decision {
                Decision::FullHandCount if s.sample_leaders != s.reported_winners => (
                    "outcome_overturned",
                    Severity::Critical,
                    format!("{}: full hand count names other winners than reported", s.contest),
                ),
                Decision::FullHandCount => (
                    "full_hand_count",
                    Severity::Medium,
                    format!("{}: outcome settled by a full hand count", s.contest),
                ),
                _ => (
                    "outcome_not_confirmed",
                    Severity::Medium,
                    format!("{}: risk limit not met (risk {:.3})", s.contest, s.measured_risk),
                ),
            };
            Finding::new(Engine::Audit, kind, &format!("{}|{}", a.seed, s.contest), title)
                .severity(sev)
                .confidence(1.0 - s.measured_risk)
                .scope(s.contest.clone())
                .evidence(Evidence::new(
                    "audit_status",
                    "measured risk and sample",
                    serde_json::to_value(s).unwrap_or_default(),
                ))
        })
        .collect()
}

/// How [`sample_size_grid`] sizes a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleSizeMethod {
    /// BRAVO ballot polling, expected sample size (Lindeman, Stark and Yates 2012).
    Bravo,
    /// Kaplan-Markov ballot-level comparison with no discrepancies, at error inflation `gamma`.
    Comparison {
        /// The error inflation factor (ColoradoRLA uses 1.03905).
        gamma: f64,
    },
}

/// One cell of a sample-size grid.
#[derive(Debug, Clone, Serialize)]
pub struct SampleSize {
    /// The diluted margin (0.05 = 5%).
    pub margin: f64,
    /// The risk limit.
    pub risk_limit: f64,
    /// Ballots to sample; none where BRAVO has no finite expectation.
    pub sample_size: Option<u64>,
}

/// Sample sizes for every margin and risk limit, margins first; margins must lie in
/// (0, 1] and risk limits in (0, 1).
pub fn sample_size_grid(
    margins: &[f64],
    risk_limits: &[f64],
    method: SampleSizeMethod,
) -> Result<Vec<SampleSize>> {
    let mut rows = Vec::with_capacity(margins.len() * risk_limits.len());
    for &margin in margins {
        for &risk_limit in risk_limits {
            if !(risk_limit > 0.0 && risk_limit < 1.0 && margin > 0.0 && margin <= 1.0) {
                return Err(AuditError::Invalid(format!(
                    "margins must be in (0, 1] and risk limits in (0, 1): {margin}, {risk_limit}"
                )));
            }
            let sample_size = match method {
                SampleSizeMethod::Bravo => bravo::asn_for_margin(margin, risk_limit),
                SampleSizeMethod::Comparison { gamma } => {
                    Some(risk::comparison_sample_size(margin, risk_limit, gamma))
                }
            };
            rows.push(SampleSize { margin, risk_limit, sample_size });
        }
    }
    Ok(rows)
}

/// One row of [`round_size_grid`]: a first round's size for a stopping probability.
#[derive(Debug, Clone, Serialize)]
pub struct FirstRoundSize {
    /// The margin of a two-candidate contest (0.05 = 5%).
    pub margin: f64,
    /// The risk limit.
    pub risk_limit: f64,
    /// The stopping probability asked for.
    pub stopping_probability: f64,
    /// Ballots to draw in the first round; `None` when no size up to ten million reaches it.
    pub sample_size: Option<u64>,
    /// The winner votes among them that stop the audit.
    pub kmin: Option<u64>,
    /// The chance of finishing in that one round if the reported margin is right.
    pub chance_one_round: Option<f64>,
    /// The expected ballots drawn if the reported margin is right and each later round
    /// takes the cumulative sample to 1.5 times the previous one ([`crate::schedule_work`], up
    /// to 30 rounds).
    pub expected_ballots: Option<f64>,
}

/// A schedule starting at `first` and growing by half each round, `rounds` rounds.
pub(crate) fn growing_schedule(first: u64, rounds: usize) -> Vec<u64> {
    let mut sizes = vec![first];
    while sizes.len() < rounds {
        let last = sizes[sizes.len() - 1];
        sizes.push(((last as f64) * 1.5).ceil().max(last as f64 + 1.0) as u64);
    }
    sizes
}

/// First-round sizes of Minerva or Providence (the same in round 1) for two-candidate
/// contests of every margin, risk limit and stopping probability; margins in (0, 1],
/// risk limits and probabilities in (0, 1).
pub fn round_size_grid(
    margins: &[f64],
    risk_limits: &[f64],
    stopping_probabilities: &[f64],
    method: RoundByRound,
) -> Result<Vec<FirstRoundSize>> {
    let mut rows = Vec::new();
    for &margin in margins {
        if !(margin > 0.0 && margin <= 1.0) {
            return Err(AuditError::Invalid(format!("margins must be in (0, 1]: {margin}")));
        }
        for &risk_limit in risk_limits {
            let sizes = crate::minerva::next_round_sizes(
                method,
                (1.0 + margin) / 2.0,
                risk_limit,
                &[],
                stopping_probabilities,
                10_000_000,
            )?;
            for (&p, size) in stopping_probabilities.iter().zip(sizes) {
                let expected_ballots = match &size {
                    Some(s) => Some(
                        crate::minerva::schedule_work(
                            method,
                            (1.0 + margin) / 2.0,
                            risk_limit,
                            &growing_schedule(s.drawn, 30),
                        )?
                        .expected_drawn,
                    ),
                    None => None,
                };
                rows.push(FirstRoundSize {
                    expected_ballots,
                    margin,
                    risk_limit,
                    stopping_probability: p,
                    sample_size: size.as_ref().map(|s| s.drawn),
                    kmin: size.as_ref().map(|s| s.kmin),
                    chance_one_round: size.as_ref().map(|s| s.chance),
                });
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Batch;

    fn audit(method: PollingMethod) -> AuditFile {
        let mut tallies = BTreeMap::new();
        tallies.insert("A".to_owned(), 700);
        tallies.insert("B".to_owned(), 300);
        AuditFile {
            seed: "12345".into(),
            risk_limit: 0.1,
            method,
            with_replacement: true,
            manifest: Manifest { batches: vec![Batch { label: "B1".into(), ballots: 1000 }] },
            contests: vec![Contest {
                name: "Mayor".into(),
                kind: ContestKind::Plurality,
                winners: 1,
                threshold: 0.5,
                ballots: 1000,
                tallies,
            }],
            draws: Vec::new(),
            interpretations: BTreeMap::new(),
            rounds: Vec::new(),
        }
    }

    #[test]
    fn status_stops_when_sample_supports_winner_and_continues_otherwise() {
        for method in
            [PollingMethod::Bravo, PollingMethod::Alpha, PollingMethod::Minerva, PollingMethod::Providence]
        {
            let mut a = audit(method);
            a.extend_sample(60);
            assert_eq!(a.draws.len(), 60);
            let s = status(&a);
            assert_eq!(s[0].missing_interpretations, 60);
            assert_eq!(s[0].decision, Decision::Continue);
            for (i, d) in a.draws.clone().iter().enumerate() {
                let choice = if i % 10 < 7 { "A" } else { "B" };
                a.interpretations
                    .entry(format!("{}-{}", d.batch, d.position))
                    .or_default()
                    .insert("Mayor".into(), vec![choice.into()]);
            }
            let s = status(&a);
            assert_eq!(s[0].decision, Decision::Stop, "{method:?}: risk {}", s[0].measured_risk);
            // Same sample, but the interpretations favour the loser: no stop.
            for m in a.interpretations.values_mut() {
                let v = m.get_mut("Mayor").expect("m");
                v[0] = if v[0] == "A" { "B".into() } else { "A".into() };
            }
            let s = status(&a);
            assert_eq!(s[0].decision, Decision::Continue);
            assert_eq!(s[0].sample_leaders, ["B"]);
        }
    }

    #[test]
    fn reported_winners_for_vote_for_k_and_supermajority() {
        let mut c = audit(PollingMethod::Bravo).contests.remove(0);
        c.tallies.insert("C".into(), 500);
        c.winners = 2;
        assert_eq!(c.reported_winners(), ["A", "C"]);
        assert_eq!(c.pairs(), [("A".to_owned(), "B".to_owned()), ("C".to_owned(), "B".to_owned())]);
        c.kind = ContestKind::Supermajority;
        c.threshold = 2.0 / 3.0;
        assert!(c.reported_winners().is_empty(), "A has 700 of 1500 valid votes");
    }

    #[test]
    fn minerva_and_providence_measure_at_the_end_of_each_round() {
        for (method, rbr) in [
            (PollingMethod::Minerva, RoundByRound::Minerva),
            (PollingMethod::Providence, RoundByRound::Providence),
        ] {
            let mut a = audit(method);
            a.contests[0].tallies.insert("A".into(), 600);
            a.contests[0].tallies.insert("B".into(), 400);
            let interpret = |a: &mut AuditFile, from: usize, every: usize| {
                for (i, d) in a.draws.clone().iter().enumerate().skip(from) {
                    let choice = if i % every == 0 { "B" } else { "A" };
                    a.interpretations
                        .entry(format!("{}-{}", d.batch, d.position))
                        .or_default()
                        .insert("Mayor".into(), vec![choice.into()]);
                }
            };
            a.extend_sample(40);
            interpret(&mut a, 0, 2); // 20 : 20
            let s = &status(&a)[0];
            assert_eq!((s.decision.clone(), s.rounds_measured), (Decision::Continue, 1));
            assert_eq!(s.next_round.len(), ROUND_CHOICES.len());
            for ch in &s.next_round {
                assert!(ch.total_draws.expect("reachable") > 40);
                assert!(ch.chance.expect("a chance") >= ch.stopping_probability);
            }
            a.extend_sample(200);
            assert_eq!(a.rounds, [40, 200]);
            let before = status(&a)[0].clone();
            assert_eq!(before.rounds_measured, 1, "round 2 is not interpreted yet");
            assert!(before.next_round.is_empty());
            interpret(&mut a, 40, 4); // round 2: 3 of 4 for A
            // Counted from the interpretations (a ballot drawn twice has one).
            let for_a: Vec<bool> = a
                .draws
                .iter()
                .map(|d| a.interpretations[&format!("{}-{}", d.batch, d.position)]["Mayor"][0] == "A")
                .collect();
            let w1 = for_a[..40].iter().filter(|&&x| x).count() as u64;
            let w = for_a.iter().filter(|&&x| x).count() as u64;
            let want = crate::minerva::round_risks(
                rbr,
                0.6,
                0.1,
                &[PairRound { drawn: 40, winner: w1 }, PairRound { drawn: 200, winner: w }],
            )
            .expect("valid");
            let s = &status(&a)[0];
            assert_eq!(s.rounds_measured, 2);
            assert_eq!(s.measured_risk, want[1].risk());
            assert_eq!(s.decision == Decision::Stop, want[1].stop);
            assert_eq!(s.decision, Decision::Stop, "{method:?}: 140 A of 200");
        }
        let manifest = Manifest { batches: vec![crate::manifest::Batch { label: "B1".into(), ballots: 10 }] };
        assert!(
            AuditFile::new("1".into(), 0.1, PollingMethod::Minerva, false, manifest, Vec::new()).is_err()
        );
    }
}
