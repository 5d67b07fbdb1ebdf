//! One representation of ranked and plurality cast-vote records for the vendor readers
//! (ES&S [`crate::cvr_ess`], Clear Ballot [`crate::cvr_clear_ballot`], Hart
//! [`crate::cvr_hart`], NIST's Common Data Format [`crate::cvr_nist`]), the RCTab
//! configuration that says how a vendor's export is to be read, and the first-round
//! tally and IRV rankings under RCTab's ballot rules (the whole count: [`crate::rctab`]).
//!
//! A plurality contest is a ranked contest with one rank.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{AuditError, Result};

/// The name the readers give an undeclared write-in (as RCTab's reports do).
pub const UNDECLARED_WRITE_IN: &str = "Undeclared Write-ins";

/// A vendor's export layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VendorFormat {
    /// ES&S cast-vote-record workbook (`.xlsx`), one row per ballot, one column per rank.
    Ess,
    /// Clear Ballot CSV, one row per card, one column per (candidate, rank).
    ClearBallot,
    /// Hart: a folder of XML files, one per card.
    Hart,
    /// NIST SP 1500-103 Cast Vote Record Common Data Format, JSON or XML.
    NistCdf,
}

impl VendorFormat {
    /// RCTab's name for the provider (`ess`, `clearBallot`, `hart`).
    pub fn from_rctab(provider: &str) -> Option<VendorFormat> {
        match provider {
            "ess" => Some(VendorFormat::Ess),
            "clearBallot" => Some(VendorFormat::ClearBallot),
            "hart" => Some(VendorFormat::Hart),
            "cdf" | "CDF" => Some(VendorFormat::NistCdf),
            _ => None,
        }
    }
}

/// What a voter marked at one rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankMark {
    /// Nothing (an undervote at this rank).
    Skipped,
    /// The choices marked (indices into the contest's choices); more than one is an overvote.
    Choices(Vec<usize>),
    /// The export says "overvote" without naming the choices.
    Overvote,
}

/// One ballot (card) in one contest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RankedBallot {
    /// The record's id in the export (CVR number, ballot id, CVR GUID).
    pub id: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// Its line (row) in that file; 1 for one-record files.
    pub line: u64,
    /// Its precinct, when the export says.
    pub precinct: Option<String>,
    /// Its batch (box, tabulator batch), when the export says.
    pub batch: Option<String>,
    /// Its position in the batch, from 1, when the export says (Clear Ballot's
    /// `BoxPosition`, Hart's `BatchSequence`).
    pub position: Option<u64>,
    /// The marks, rank 1 first.
    pub ranks: Vec<RankMark>,
}

/// One contest's ballots.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RankedContest {
    /// The contest's id in the export (its name where the export has no other).
    pub id: String,
    /// The contest's name.
    pub name: String,
    /// Its choices.
    pub choices: Vec<String>,
    /// Votes allowed (plurality); 1 when the export does not say.
    pub vote_for: u64,
    /// Its ballots, in file order.
    pub ballots: Vec<RankedBallot>,
}

impl RankedContest {
    /// The index of `name`, added when new.
    pub fn choice_index(&mut self, name: &str) -> usize {
        match self.choices.iter().position(|c| c == name) {
            Some(i) => i,
            None => {
                self.choices.push(name.to_owned());
                self.choices.len() - 1
            }
        }
    }
}

/// A row that could not be read: counted and reported, its ballot left out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MalformedRow {
    /// The file.
    pub file: PathBuf,
    /// The line (row) in it.
    pub line: u64,
    /// The field (column) at fault.
    pub field: String,
    /// What is wrong, with the value.
    pub message: String,
}

impl std::fmt::Display for MalformedRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: field '{}': {}", self.file.display(), self.line, self.field, self.message)
    }
}

/// Everything read from one vendor export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VendorCvrs {
    /// The layout read.
    pub format: VendorFormat,
    /// The files read.
    pub files: Vec<PathBuf>,
    /// Records (rows or card files) read, malformed ones included.
    pub cards: u64,
    /// The contests.
    pub contests: Vec<RankedContest>,
    /// Rows not read, each with file, line and field.
    pub malformed: Vec<MalformedRow>,
}

// ------------------------------------------------------------ choice names

/// How the labels written in an export map to choices: candidate names and their codes
/// (RCTab's `aliases`), the overvote, skipped-rank and undeclared write-in labels.
#[derive(Debug, Clone, Default)]
pub struct ChoiceLabels {
    /// Label (name or alias) to candidate name; empty: every label is its own choice.
    pub names: HashMap<String, String>,
    /// The candidates in the configuration's order.
    pub declared: Vec<String>,
    /// The label meaning an overvote at that rank.
    pub overvote: Option<String>,
    /// The label meaning a skipped rank.
    pub skipped: Option<String>,
    /// The label (or candidate id) meaning an undeclared write-in.
    pub undeclared_write_in: Option<String>,
    /// The separator between several choices in one cell (an overvote).
    pub overvote_delimiter: Option<String>,
    /// A blank cell is an undeclared write-in rather than a skipped rank.
    pub blank_is_write_in: bool,
}

/// What a label stands for.
pub(crate) enum Label {
    Choice(String),
    Skipped,
    Overvote,
}

impl ChoiceLabels {
    /// Interprets one label; `Err` when a configuration lists the candidates and this is
    /// none of them.
    pub(crate) fn interpret(&self, raw: &str) -> std::result::Result<Label, String> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(if self.blank_is_write_in {
                Label::Choice(UNDECLARED_WRITE_IN.to_owned())
            } else {
                Label::Skipped
            });
        }
        if self.skipped.as_deref() == Some(t) {
            return Ok(Label::Skipped);
        }
        if self.overvote.as_deref() == Some(t) {
            return Ok(Label::Overvote);
        }
        if self.undeclared_write_in.as_deref() == Some(t) {
            return Ok(Label::Choice(UNDECLARED_WRITE_IN.to_owned()));
        }
        if self.names.is_empty() {
            return Ok(Label::Choice(t.to_owned()));
        }
        match self.names.get(t) {
            Some(n) => Ok(Label::Choice(n.clone())),
            None => {
                Err(format!("'{}' is not a declared candidate or label", scrutineer_core::text::echo_str(t)))
            }
        }
    }
}

// ------------------------------------------------------------ RCTab configuration

/// RCTab's configuration file (`*_config.json`): where the CVR files are, how to read
/// them, the candidates with their codes, and the tabulation rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RctabConfig {
    /// Output settings (the contest's name among them).
    #[serde(default)]
    pub output_settings: RctabOutput,
    /// The CVR files.
    #[serde(default)]
    pub cvr_file_sources: Vec<RctabSource>,
    /// The candidates.
    #[serde(default)]
    pub candidates: Vec<RctabCandidate>,
    /// The rules.
    #[serde(default)]
    pub rules: RctabRules,
}

/// RCTab's `outputSettings`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RctabOutput {
    /// The contest's name.
    #[serde(default)]
    pub contest_name: String,
}

/// One of RCTab's `cvrFileSources`. Column and row indices are 1-based strings, empty
/// when not given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RctabSource {
    /// The file or folder, relative to the configuration file.
    pub file_path: String,
    /// The contest's id (Clear Ballot: its name; Hart: its GUID).
    #[serde(default, deserialize_with = "lenient_string")]
    pub contest_id: String,
    /// ES&S: the first rank's column.
    #[serde(default, deserialize_with = "lenient_string")]
    pub first_vote_column_index: String,
    /// ES&S: the first ballot's row.
    #[serde(default, deserialize_with = "lenient_string")]
    pub first_vote_row_index: String,
    /// ES&S: the record id's column.
    #[serde(default, deserialize_with = "lenient_string")]
    pub id_column_index: String,
    /// ES&S: the batch's column.
    #[serde(default, deserialize_with = "lenient_string")]
    pub batch_column_index: String,
    /// ES&S: the precinct's column.
    #[serde(default, deserialize_with = "lenient_string")]
    pub precinct_column_index: String,
    /// ES&S: the separator of several candidates in one cell.
    #[serde(default)]
    pub overvote_delimiter: String,
    /// `ess`, `clearBallot`, `hart`, `dominion`, `cdf`, `genericCsv`.
    #[serde(default)]
    pub provider: String,
    /// The label of an overvote.
    #[serde(default)]
    pub overvote_label: String,
    /// The label of a skipped rank.
    #[serde(default)]
    pub skipped_rank_label: String,
    /// The label of an undeclared write-in.
    #[serde(default)]
    pub undeclared_write_in_label: String,
    /// Whether a blank cell is an undeclared write-in.
    #[serde(default)]
    pub treat_blank_as_undeclared_write_in: bool,
}

/// One of RCTab's candidates.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RctabCandidate {
    /// The name in the reports.
    pub name: String,
    /// Older configurations give one code.
    #[serde(default)]
    pub code: String,
    /// The codes (aliases) the CVRs may write instead of the name.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Excluded from the count.
    #[serde(default)]
    pub excluded: bool,
}

/// The part of RCTab's `rules` the ballot rules and the IRV check need.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RctabRules {
    /// `singleWinnerMajority`, `multiWinner...`, `bottomsUp`, `multiPassIrv`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub winner_election_mode: String,
    /// `exhaustImmediately`, `alwaysSkipToNextRank`, `exhaustIfMultipleContinuing`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub overvote_rule: String,
    /// A number, or `unlimited`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub max_skipped_ranks_allowed: String,
    /// A number, or `max`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub max_rankings_allowed: String,
    /// Whether a repeated candidate exhausts the ballot.
    #[serde(default)]
    pub exhaust_on_duplicate_candidate: bool,
    /// Seats.
    #[serde(default, deserialize_with = "lenient_string")]
    pub number_of_winners: String,
    /// A candidate needs at least this many votes to stay in.
    #[serde(default, deserialize_with = "lenient_string")]
    pub minimum_vote_threshold: String,
    /// Stop after this round.
    #[serde(default, deserialize_with = "lenient_string")]
    pub stop_tabulation_early_after_round: String,
    /// The winning threshold is fixed by the first round's active ballots.
    #[serde(default)]
    pub does_first_round_determine_threshold: bool,
    /// How a tie is broken: `useCandidateOrder`, `generatePermutation`, `random`,
    /// `previousRoundCountsThenRandom`, `previousRoundCountsThenAsk`, `stopCountingAndAsk`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub tiebreak_mode: String,
    /// The seed of Java's `java.util.Random` for the random modes.
    #[serde(default, deserialize_with = "lenient_string")]
    pub random_seed: String,
    /// Candidates who could not overtake the next one even with all their votes
    /// together are eliminated in one round.
    #[serde(default)]
    pub batch_elimination: bool,
    /// The count goes on after the winner is found until two candidates remain.
    #[serde(default)]
    pub continue_until_two_candidates_remain: bool,
}

/// RCTab writes most rule values as strings, some configurations as numbers: both are read.
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Null => Ok(String::new()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => Err(serde::de::Error::custom(format!("expected a string or a number, found {other}"))),
    }
}

impl RctabConfig {
    /// Reads a configuration file.
    pub fn read(path: &Path) -> Result<RctabConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| AuditError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| AuditError::Json {
            path: path.to_owned(),
            line: e.line(),
            source: e,
        })
    }

    /// The labels of one source, with the candidates' names and codes.
    pub fn labels(&self, source: &RctabSource) -> ChoiceLabels {
        let mut names = HashMap::new();
        for c in &self.candidates {
            names.insert(c.name.clone(), c.name.clone());
            if !c.code.is_empty() {
                names.insert(c.code.clone(), c.name.clone());
            }
            for a in &c.aliases {
                names.insert(a.clone(), c.name.clone());
            }
        }
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        ChoiceLabels {
            names,
            declared: self.candidates.iter().map(|c| c.name.clone()).collect(),
            overvote: some(&source.overvote_label),
            skipped: some(&source.skipped_rank_label),
            undeclared_write_in: some(&source.undeclared_write_in_label),
            overvote_delimiter: some(&source.overvote_delimiter),
            blank_is_write_in: source.treat_blank_as_undeclared_write_in,
        }
    }

    /// The ballot rules of the configuration.
    pub fn ballot_rules(&self) -> Result<BallotRules> {
        let r = &self.rules;
        let overvote = match r.overvote_rule.as_str() {
            "exhaustImmediately" | "" => OvervoteRule::ExhaustImmediately,
            "alwaysSkipToNextRank" => OvervoteRule::AlwaysSkipToNextRank,
            "exhaustIfMultipleContinuing" => OvervoteRule::ExhaustIfMultipleContinuing,
            other => return Err(AuditError::Invalid(format!("overvoteRule '{other}' is not known"))),
        };
        let number = |s: &str, unlimited: &str, what: &str| -> Result<Option<usize>> {
            if s.is_empty() || s == unlimited {
                return Ok(None);
            }
            s.parse().map(Some).map_err(|_| AuditError::Invalid(format!("{what} '{s}' is not a number")))
        };
        Ok(BallotRules {
            overvote,
            max_skipped_ranks: number(&r.max_skipped_ranks_allowed, "unlimited", "maxSkippedRanksAllowed")?,
            max_rankings: number(&r.max_rankings_allowed, "max", "maxRankingsAllowed")?,
            exhaust_on_duplicate: r.exhaust_on_duplicate_candidate,
            excluded: self.candidates.iter().filter(|c| c.excluded).map(|c| c.name.clone()).collect(),
        })
    }

    /// Whether the rules are a plain single-winner IRV count, so that
    /// [`crate::tabulate_irv`] on [`BallotRules::rankings`] names RCTab's winner.
    pub fn is_plain_irv(&self) -> bool {
        let r = &self.rules;
        r.winner_election_mode == "singleWinnerMajority"
            && matches!(r.number_of_winners.as_str(), "1" | "")
            && matches!(r.minimum_vote_threshold.as_str(), "0" | "")
            && r.stop_tabulation_early_after_round.is_empty()
            && !r.does_first_round_determine_threshold
            && r.overvote_rule != "exhaustIfMultipleContinuing"
    }
}

// ------------------------------------------------------------ ballot rules

/// What an overvote at a rank does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OvervoteRule {
    /// The ballot is exhausted (inactive by overvote).
    ExhaustImmediately,
    /// The rank is passed over.
    AlwaysSkipToNextRank,
    /// The ballot is exhausted when more than one of the choices marked is still in the
    /// count, otherwise it goes to the one that is.
    ExhaustIfMultipleContinuing,
}

/// RCTab's rules for reading a ranking.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BallotRules {
    /// Overvotes.
    pub overvote: OvervoteRule,
    /// Consecutive skipped ranks allowed before the ballot is exhausted (none: unlimited).
    pub max_skipped_ranks: Option<usize>,
    /// Ranks read (none: all).
    pub max_rankings: Option<usize>,
    /// A repeated candidate exhausts the ballot (otherwise the repeat is passed over).
    pub exhaust_on_duplicate: bool,
    /// Candidates excluded from the count, passed over on every ballot.
    pub excluded: Vec<String>,
}

impl Default for BallotRules {
    fn default() -> BallotRules {
        BallotRules {
            overvote: OvervoteRule::ExhaustImmediately,
            max_skipped_ranks: Some(1),
            max_rankings: None,
            exhaust_on_duplicate: false,
            excluded: Vec::new(),
        }
    }
}

/// Where a ballot's count goes while all candidates but the excluded ones continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BallotOutcome {
    /// A vote for this choice.
    Vote(usize),
    /// No rank marked at all.
    Undervote,
    /// Exhausted at an overvote.
    Overvote,
    /// Exhausted after too many skipped ranks.
    SkippedRankings,
    /// Exhausted at a repeated candidate.
    RepeatedRanking,
    /// Every choice marked is excluded or passed over.
    Exhausted,
}

/// A contest's first-round count under the ballot rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FirstRound {
    /// Ballots.
    pub ballots: u64,
    /// Votes per choice (every choice, zeros included; excluded ones left out).
    pub tally: BTreeMap<String, u64>,
    /// Ballots with no rank marked.
    pub undervotes: u64,
    /// Ballots exhausted at an overvote.
    pub overvotes: u64,
    /// Ballots exhausted by skipped ranks.
    pub skipped_rankings: u64,
    /// Ballots exhausted at a repeated candidate.
    pub repeated_rankings: u64,
    /// Ballots whose every choice is excluded or passed over.
    pub exhausted_choices: u64,
}

impl BallotRules {
    fn excluded_mask(&self, contest: &RankedContest) -> Vec<bool> {
        contest.choices.iter().map(|c| self.excluded.contains(c)).collect()
    }

    /// The ballot's walk through its ranks with `continuing` candidates: the choices it
    /// counts for in order, and how it ends.
    fn walk(&self, ballot: &RankedBallot, continuing: &[bool]) -> (Vec<usize>, BallotOutcome) {
        let ranks = match self.max_rankings {
            Some(n) => &ballot.ranks[..ballot.ranks.len().min(n)],
            None => &ballot.ranks[..],
        };
        if ranks.iter().all(|r| matches!(r, RankMark::Skipped)) {
            return (Vec::new(), BallotOutcome::Undervote);
        }
        let mut order = Vec::new();
        let mut seen = vec![false; continuing.len()];
        let mut skipped_run = 0usize;
        for mark in ranks {
            if matches!(mark, RankMark::Skipped) {
                skipped_run += 1;
                continue;
            }
            // Too many skipped ranks end the ballot before whatever follows them, an
            // overvote included.
            if self.max_skipped_ranks.is_some_and(|m| skipped_run > m) {
                return (order, BallotOutcome::SkippedRankings);
            }
            let choice = match mark {
                RankMark::Skipped => continue,
                RankMark::Overvote => match self.overvote {
                    OvervoteRule::AlwaysSkipToNextRank => {
                        skipped_run = 0;
                        continue;
                    }
                    _ => return (order, BallotOutcome::Overvote),
                },
                RankMark::Choices(cs) if cs.len() == 1 => cs[0],
                RankMark::Choices(cs) => match self.overvote {
                    OvervoteRule::AlwaysSkipToNextRank => {
                        skipped_run = 0;
                        continue;
                    }
                    OvervoteRule::ExhaustImmediately => return (order, BallotOutcome::Overvote),
                    OvervoteRule::ExhaustIfMultipleContinuing => {
                        let live: Vec<usize> = cs.iter().copied().filter(|&c| continuing[c]).collect();
                        match live.as_slice() {
                            [] => {
                                skipped_run = 0;
                                continue;
                            }
                            [one] => *one,
                            _ => return (order, BallotOutcome::Overvote),
                        }
                    }
                },
            };
            skipped_run = 0;
            if seen[choice] {
                if self.exhaust_on_duplicate {
                    return (order, BallotOutcome::RepeatedRanking);
                }
                continue;
            }
            seen[choice] = true;
            if continuing[choice] {
                order.push(choice);
            }
        }
        (order, BallotOutcome::Exhausted)
    }

    /// The choice a ballot counts for with `continuing` choices, or `None` when it is
    /// exhausted (nothing marked, an overvote, too many skipped ranks, a repeat, or no
    /// continuing choice left). Exact under every overvote rule, since it is asked
    /// afresh with each round's continuing choices.
    pub fn current_choice(&self, ballot: &RankedBallot, continuing: &[bool]) -> Option<usize> {
        self.walk(ballot, continuing).0.first().copied()
    }

    /// Where one ballot counts in the first round (every candidate not excluded continuing).
    pub fn first_round_outcome(&self, contest: &RankedContest, ballot: &RankedBallot) -> BallotOutcome {
        let continuing: Vec<bool> = self.excluded_mask(contest).iter().map(|x| !x).collect();
        self.first_outcome(ballot, &continuing)
    }

    fn first_outcome(&self, ballot: &RankedBallot, continuing: &[bool]) -> BallotOutcome {
        // A ballot exhausts at the first stop after its first continuing choice only in
        // later rounds; in the first round its first counted choice is its vote.
        let (order, end) = self.walk(ballot, continuing);
        match order.first() {
            Some(&c) => BallotOutcome::Vote(c),
            None => end,
        }
    }

    /// The first-round count of a contest.
    pub fn first_round(&self, contest: &RankedContest) -> FirstRound {
        let excluded = self.excluded_mask(contest);
        let continuing: Vec<bool> = excluded.iter().map(|x| !x).collect();
        let mut votes = vec![0u64; contest.choices.len()];
        let mut r = FirstRound { ballots: contest.ballots.len() as u64, ..Default::default() };
        for b in &contest.ballots {
            match self.first_outcome(b, &continuing) {
                BallotOutcome::Vote(c) => votes[c] += 1,
                BallotOutcome::Undervote => r.undervotes += 1,
                BallotOutcome::Overvote => r.overvotes += 1,
                BallotOutcome::SkippedRankings => r.skipped_rankings += 1,
                BallotOutcome::RepeatedRanking => r.repeated_rankings += 1,
                BallotOutcome::Exhausted => r.exhausted_choices += 1,
            }
        }
        r.tally = contest
            .choices
            .iter()
            .zip(&votes)
            .zip(&excluded)
            .filter(|(_, x)| !**x)
            .map(|((c, v), _)| (c.clone(), *v))
            .collect();
        r
    }

    /// Each ballot's ranking as the IRV count reads it (indices into `contest.choices`):
    /// the choices it may count for, in order, cut where it exhausts. Exact for IRV unless
    /// the overvote rule is [`OvervoteRule::ExhaustIfMultipleContinuing`], whose effect
    /// depends on who is still in the count.
    pub fn rankings(&self, contest: &RankedContest) -> Vec<Vec<usize>> {
        let continuing: Vec<bool> = self.excluded_mask(contest).iter().map(|x| !x).collect();
        contest.ballots.iter().map(|b| self.walk(b, &continuing).0).collect()
    }
}

/// A summary of one contest: choices, cards, first-round count and (ranked contests)
/// the IRV winner.
#[derive(Debug, Clone, Serialize)]
pub struct VendorContestSummary {
    /// The contest.
    pub contest: String,
    /// Its choices.
    pub choices: usize,
    /// Cards (ballots) holding it.
    pub cards: u64,
    /// The most ranks on a card.
    pub ranks: usize,
    /// The first-round count.
    pub first_round: FirstRound,
    /// The IRV winner (ranked contests of two or more choices): RCTab's count when its
    /// counting rules are given, else [`crate::tabulate_irv`]'s.
    pub irv_winner: Option<String>,
    /// RCTab's count round by round, when its counting rules are given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rctab_count: Option<crate::rctab::RctabCount>,
    /// Why RCTab's count could not finish (a tie left to the operator, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count_error: Option<String>,
}

/// Summaries of every contest of an export under `rules`; with `count` (RCTab's
/// counting rules of a single-winner contest) the contest they name (without a name,
/// each ranked contest) is counted as RCTab counts it, tie-breaks included.
pub fn summarise_vendor(
    cvrs: &VendorCvrs,
    rules: &BallotRules,
    count: Option<&crate::rctab::CountRules>,
) -> Vec<VendorContestSummary> {
    cvrs.contests
        .iter()
        .map(|c| {
            let ranks = c.ballots.iter().map(|b| b.ranks.len()).max().unwrap_or(0);
            let (mut rctab, mut count_error) = (None, None);
            let irv_winner = match count {
                Some(count)
                    if count.contest.as_ref().map_or(ranks > 1, |want| *want == c.id || *want == c.name) =>
                {
                    match crate::rctab::rctab_count(c, rules, count) {
                        Ok(r) => {
                            let w = r.winner.clone();
                            rctab = Some(r);
                            w
                        }
                        Err(e) => {
                            count_error = Some(e.to_string());
                            None
                        }
                    }
                }
                _ if ranks > 1 && rules.overvote != OvervoteRule::ExhaustIfMultipleContinuing => {
                    crate::raire::tabulate(c.choices.len(), &rules.rankings(c))
                        .map(|r| c.choices[r.winner].clone())
                }
                _ => None,
            };
            VendorContestSummary {
                contest: c.name.clone(),
                choices: c.choices.len(),
                cards: c.ballots.len() as u64,
                ranks,
                first_round: rules.first_round(c),
                irv_winner,
                rctab_count: rctab,
                count_error,
            }
        })
        .collect()
}

/// Parses a 1-based column or row index of a configuration ("" is none).
pub(crate) fn one_based(value: &str, what: &str) -> Result<Option<usize>> {
    let t = value.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Some(n - 1)),
        _ => Err(AuditError::Invalid(format!("{what} '{t}' is not a 1-based index"))),
    }
}
