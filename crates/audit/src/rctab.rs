//! A single-winner ranked-choice count under RCTab's rules, round by round, so that the
//! winner of a vendor export can be checked against RCTab's report: undeclared write-ins
//! dropped first and never elected, the minimum vote threshold, batch elimination, the
//! first round fixing the threshold, an early stop, counting on until two remain, and
//! RCTab's tie-breaks (the candidate order or a permutation generated from a seed,
//! random draws from a seed, earlier rounds' counts then random or the operator, the
//! operator alone).
//!
//! RCTab draws its random numbers from Java's `java.util.Random` and lists tied
//! candidates in Java's orders (names sorted by UTF-16 code unit; a `HashSet`'s
//! iteration order while it compares earlier rounds), so a seed gives the same draws
//! here as in RCTab: [`JavaRandom`] and [`java_hash_set_order`] reproduce both.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::cvr::{BallotRules, RankedContest, RctabConfig, UNDECLARED_WRITE_IN};
use crate::error::{AuditError, Result};

/// How RCTab breaks a tie (its `tiebreakMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TiebreakMode {
    /// The configuration's candidate order: the loser is the tied candidate listed
    /// last, the winner the one listed first.
    UseCandidateOrder,
    /// The candidates sorted by name, shuffled by `Collections.shuffle` with the seed,
    /// then used as [`TiebreakMode::UseCandidateOrder`].
    GeneratePermutation,
    /// A random draw among the tied candidates sorted by name.
    Random,
    /// The candidate with the fewest (losing) or most (winning) votes in the latest
    /// earlier round where they differ, else a random draw.
    PreviousRoundCountsThenRandom,
    /// As [`TiebreakMode::PreviousRoundCountsThenRandom`], the operator choosing at the end.
    PreviousRoundCountsThenAsk,
    /// The operator chooses.
    StopCountingAndAsk,
}

impl TiebreakMode {
    /// RCTab's name for the mode.
    pub fn from_rctab(name: &str) -> Option<TiebreakMode> {
        Some(match name {
            "useCandidateOrder" => TiebreakMode::UseCandidateOrder,
            "generatePermutation" => TiebreakMode::GeneratePermutation,
            "random" => TiebreakMode::Random,
            "previousRoundCountsThenRandom" => TiebreakMode::PreviousRoundCountsThenRandom,
            "previousRoundCountsThenAsk" => TiebreakMode::PreviousRoundCountsThenAsk,
            "stopCountingAndAsk" => TiebreakMode::StopCountingAndAsk,
            _ => return None,
        })
    }

    fn needs_seed(self) -> bool {
        matches!(
            self,
            TiebreakMode::GeneratePermutation
                | TiebreakMode::Random
                | TiebreakMode::PreviousRoundCountsThenRandom
        )
    }
}

/// The counting rules of a single-winner RCTab contest (beyond [`BallotRules`]).
#[derive(Debug, Clone)]
pub struct CountRules {
    /// How ties are broken.
    pub tiebreak: TiebreakMode,
    /// The seed of the random modes.
    pub random_seed: Option<i64>,
    /// The declared candidates in the configuration's order (the permutation of
    /// [`TiebreakMode::UseCandidateOrder`], sorted and shuffled for
    /// [`TiebreakMode::GeneratePermutation`]); excluded ones included.
    pub candidates: Vec<String>,
    /// Undeclared write-ins are a candidate of the count (a source names their label).
    pub undeclared_write_ins: bool,
    /// Batch elimination.
    pub batch_elimination: bool,
    /// A candidate below this many votes is eliminated (0: none).
    pub minimum_vote_threshold: u64,
    /// The winning threshold is the first round's.
    pub first_round_determines_threshold: bool,
    /// Counting goes on after the winner until two candidates remain.
    pub continue_until_two: bool,
    /// The last round counted.
    pub stop_after_round: Option<usize>,
    /// The operator's choices for the asking modes, used in the order the ties arise.
    pub operator_choices: Vec<String>,
    /// The contest these rules count (its id or name, RCTab's `contestId`); none: every
    /// ranked contest of the export.
    pub contest: Option<String>,
}

impl Default for CountRules {
    fn default() -> CountRules {
        CountRules {
            tiebreak: TiebreakMode::UseCandidateOrder,
            random_seed: None,
            candidates: Vec::new(),
            undeclared_write_ins: false,
            batch_elimination: false,
            minimum_vote_threshold: 0,
            first_round_determines_threshold: false,
            continue_until_two: false,
            stop_after_round: None,
            operator_choices: Vec::new(),
            contest: None,
        }
    }
}

impl RctabConfig {
    /// Whether the configuration is a single-winner count that [`rctab_count`] follows.
    pub fn is_single_winner(&self) -> bool {
        self.rules.winner_election_mode == "singleWinnerMajority"
            && matches!(self.rules.number_of_winners.as_str(), "1" | "")
    }

    /// The counting rules of a single-winner configuration.
    pub fn count_rules(&self) -> Result<CountRules> {
        let r = &self.rules;
        if !self.is_single_winner() {
            return Err(AuditError::Invalid(format!(
                "winnerElectionMode '{}' with {} winners: only single-winner counts are followed",
                r.winner_election_mode,
                if r.number_of_winners.is_empty() { "1" } else { &r.number_of_winners }
            )));
        }
        let tiebreak = if r.tiebreak_mode.is_empty() {
            TiebreakMode::UseCandidateOrder
        } else {
            TiebreakMode::from_rctab(&r.tiebreak_mode).ok_or_else(|| {
                AuditError::Invalid(format!("tiebreakMode '{}' is not known", r.tiebreak_mode))
            })?
        };
        let random_seed = match r.random_seed.trim() {
            "" => None,
            s => Some(
                s.parse::<i64>()
                    .map_err(|_| AuditError::Invalid(format!("randomSeed '{s}' is not a whole number")))?,
            ),
        };
        if tiebreak.needs_seed() && random_seed.is_none() {
            return Err(AuditError::Invalid(format!(
                "tiebreakMode '{}' needs a randomSeed",
                r.tiebreak_mode
            )));
        }
        let whole = |s: &str, what: &str| -> Result<Option<u64>> {
            match s.trim() {
                "" => Ok(None),
                t => t
                    .parse()
                    .map(Some)
                    .map_err(|_| AuditError::Invalid(format!("{what} '{t}' is not a whole number"))),
            }
        };
        Ok(CountRules {
            tiebreak,
            random_seed,
            candidates: self.candidates.iter().map(|c| c.name.clone()).collect(),
            undeclared_write_ins: self
                .cvr_file_sources
                .iter()
                .any(|s| !s.undeclared_write_in_label.is_empty()),
            batch_elimination: r.batch_elimination,
            minimum_vote_threshold: whole(&r.minimum_vote_threshold, "minimumVoteThreshold")?.unwrap_or(0),
            first_round_determines_threshold: r.does_first_round_determine_threshold,
            continue_until_two: r.continue_until_two_candidates_remain,
            stop_after_round: whole(&r.stop_tabulation_early_after_round, "stopTabulationEarlyAfterRound")?
                .map(|n| n as usize),
            operator_choices: Vec::new(),
            contest: self
                .cvr_file_sources
                .first()
                .map(|s| s.contest_id.trim().to_owned())
                .filter(|s| !s.is_empty()),
        })
    }
}

/// One tie and how it was broken.
#[derive(Debug, Clone, Serialize)]
pub struct TieBroken {
    /// The round.
    pub round: usize,
    /// The tied candidates, in the order the mode lists them.
    pub tied: Vec<String>,
    /// Whether the tie was for the win (otherwise for elimination).
    pub for_winner: bool,
    /// The candidate chosen (the winner, or the one eliminated).
    pub chosen: String,
    /// Why.
    pub reason: String,
}

/// One round of the count.
#[derive(Debug, Clone, Serialize)]
pub struct CountRound {
    /// The round, from 1.
    pub round: usize,
    /// Votes per continuing candidate.
    pub tally: BTreeMap<String, u64>,
    /// Ballots counting for a continuing candidate.
    pub active: u64,
    /// The winning threshold.
    pub threshold: u64,
    /// Elected this round.
    pub elected: Vec<String>,
    /// Eliminated this round.
    pub eliminated: Vec<String>,
}

/// A whole count.
#[derive(Debug, Clone, Serialize)]
pub struct RctabCount {
    /// The rounds.
    pub rounds: Vec<CountRound>,
    /// The winner (none when the count stopped early without one).
    pub winner: Option<String>,
    /// Every tie, in order.
    pub ties: Vec<TieBroken>,
}

// ------------------------------------------------------------ Java's orders

/// Java's `java.util.Random` (a 48-bit linear congruential generator), for RCTab's draws.
#[derive(Debug, Clone)]
pub struct JavaRandom {
    seed: u64,
}

const JAVA_MULTIPLIER: u64 = 0x5_DEEC_E66D;
const JAVA_MASK: u64 = (1 << 48) - 1;

impl JavaRandom {
    /// `new Random(seed)`.
    pub fn new(seed: i64) -> JavaRandom {
        JavaRandom { seed: (seed as u64 ^ JAVA_MULTIPLIER) & JAVA_MASK }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(JAVA_MULTIPLIER).wrapping_add(0xB)) & JAVA_MASK;
        (self.seed >> (48 - bits)) as i64 as i32
    }

    /// `nextDouble()`.
    pub fn next_double(&mut self) -> f64 {
        let hi = (self.next(26) as i64) << 27;
        let lo = self.next(27) as i64;
        (hi + lo) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `nextInt(bound)`, `bound` > 0.
    pub fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((bound as i64 * r as i64) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            // Java rejects draws from the incomplete last block by overflow of this sum.
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }

    /// `Collections.shuffle(list, random)`.
    pub fn shuffle<T>(&mut self, list: &mut [T]) {
        for i in (2..=list.len()).rev() {
            let j = self.next_int(i as i32) as usize;
            list.swap(i - 1, j);
        }
    }
}

/// Java's `String.hashCode` (over UTF-16 code units).
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(u as i32))
}

/// Java's `String.compareTo` order (UTF-16 code units).
fn java_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The iteration order of `new HashSet<>(list)` in Java: buckets of a table sized for
/// the list (at least 16, a power of two), each in insertion order. Exact while no
/// bucket holds 8 or more names (Java then resizes or builds a tree).
pub fn java_hash_set_order(list: &[String]) -> Vec<String> {
    let wanted = ((list.len() as f32 / 0.75) as usize + 1).max(16);
    let capacity = wanted.next_power_of_two();
    let mut seen = HashSet::new();
    let mut keyed: Vec<(usize, usize, &String)> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        if !seen.insert(s) {
            continue;
        }
        let h = java_string_hash(s);
        let spread = h ^ ((h as u32) >> 16) as i32;
        keyed.push(((spread as u32 as usize) & (capacity - 1), i, s));
    }
    keyed.sort();
    keyed.into_iter().map(|(_, _, s)| s.clone()).collect()
}

// ------------------------------------------------------------ the count

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Continuing,
    Winner,
    Eliminated,
}

struct Counter<'a> {
    rules: &'a CountRules,
    random: Option<JavaRandom>,
    permutation: Vec<String>,
    operator: std::collections::VecDeque<String>,
    ties: Vec<TieBroken>,
}

impl Counter<'_> {
    /// Breaks a tie among `tied` (names), as RCTab's `Tiebreak`.
    fn tiebreak(
        &mut self,
        round: usize,
        tied: &[String],
        for_winner: bool,
        history: &[BTreeMap<String, u64>],
    ) -> Result<String> {
        let mut sorted = tied.to_vec();
        sorted.sort_by(|a, b| java_cmp(a, b));
        let (chosen, reason, listed) = match self.rules.tiebreak {
            TiebreakMode::Random => {
                let c = self.draw(&sorted)?;
                (c, "drawn at random".to_owned(), sorted)
            }
            TiebreakMode::UseCandidateOrder | TiebreakMode::GeneratePermutation => {
                let set: HashSet<&String> = sorted.iter().collect();
                let found = if for_winner {
                    self.permutation.iter().find(|c| set.contains(c))
                } else {
                    self.permutation.iter().rev().find(|c| set.contains(c))
                };
                let c = found.cloned().ok_or_else(|| {
                    AuditError::Invalid(format!(
                        "round {round}: none of the tied candidates {sorted:?} is in the tie-break order"
                    ))
                })?;
                let where_ = if for_winner { "earliest" } else { "latest" };
                (c, format!("{where_} in the tie-break order"), sorted)
            }
            TiebreakMode::StopCountingAndAsk => {
                let c = self.ask(round, &sorted, for_winner)?;
                (c, "chosen by the operator".to_owned(), sorted)
            }
            TiebreakMode::PreviousRoundCountsThenRandom | TiebreakMode::PreviousRoundCountsThenAsk => {
                let mut contention = sorted.clone();
                let mut decided = None;
                for earlier in (1..round).rev() {
                    let tally = &history[earlier - 1];
                    // RCTab groups the candidates by tally iterating a HashSet of them.
                    let order = java_hash_set_order(&contention);
                    let votes = |c: &String| tally.get(c).copied().unwrap_or(0);
                    let target = if for_winner {
                        order.iter().map(votes).max()
                    } else {
                        order.iter().map(votes).min()
                    }
                    .unwrap_or(0);
                    contention = order.into_iter().filter(|c| votes(c) == target).collect();
                    if contention.len() == 1 {
                        let most = if for_winner { "most" } else { "fewest" };
                        decided = Some(format!("the {most} votes ({target}) in round {earlier}"));
                        break;
                    }
                }
                match decided {
                    Some(reason) => (contention[0].clone(), reason, sorted),
                    None if self.rules.tiebreak == TiebreakMode::PreviousRoundCountsThenRandom => {
                        let c = self.draw(&contention)?;
                        (c, "tied in every earlier round; drawn at random".to_owned(), contention)
                    }
                    None => {
                        let c = self.ask(round, &contention, for_winner)?;
                        (c, "tied in every earlier round; chosen by the operator".to_owned(), contention)
                    }
                }
            }
        };
        self.ties.push(TieBroken { round, tied: listed, for_winner, chosen: chosen.clone(), reason });
        Ok(chosen)
    }

    fn draw(&mut self, listed: &[String]) -> Result<String> {
        let random = self
            .random
            .as_mut()
            .ok_or_else(|| AuditError::Invalid("a random tie-break needs a randomSeed".into()))?;
        let i = (random.next_double() * listed.len() as f64).floor() as usize;
        Ok(listed[i.min(listed.len() - 1)].clone())
    }

    fn ask(&mut self, round: usize, tied: &[String], for_winner: bool) -> Result<String> {
        let what = if for_winner { "win" } else { "be eliminated" };
        let Some(choice) = self.operator.pop_front() else {
            return Err(AuditError::Invalid(format!(
                "round {round}: tie among {tied:?}: the operator must choose who is to {what} (give the choices in the order the ties arise)"
            )));
        };
        if !tied.contains(&choice) {
            return Err(AuditError::Invalid(format!(
                "round {round}: the operator's choice '{}' is not one of the tied candidates {tied:?}",
                scrutineer_core::text::echo_str(&choice)
            )));
        }
        Ok(choice)
    }
}

/// Counts a single-winner contest round by round as RCTab does. `ballot_rules` reads
/// each ballot's ranks (overvotes, skipped ranks, repeats, excluded candidates);
/// `rules` says how the count goes. A ballot once exhausted stays exhausted.
pub fn rctab_count(
    contest: &RankedContest,
    ballot_rules: &BallotRules,
    rules: &CountRules,
) -> Result<RctabCount> {
    // The count's candidates: the declared ones, undeclared write-ins when a source has
    // their label, and any other choice the export names; excluded ones never count.
    let mut names: Vec<String> = Vec::new();
    let add = |n: &str, names: &mut Vec<String>| {
        if !ballot_rules.excluded.iter().any(|x| x == n) && !names.iter().any(|x| x == n) {
            names.push(n.to_owned());
        }
    };
    for c in &rules.candidates {
        add(c, &mut names);
    }
    if rules.undeclared_write_ins {
        add(UNDECLARED_WRITE_IN, &mut names);
    }
    for c in &contest.choices {
        add(c, &mut names);
    }
    if names.is_empty() {
        return Err(AuditError::Invalid(format!("contest '{}': no candidate to count", contest.name)));
    }
    let choice_to_name: Vec<Option<usize>> =
        contest.choices.iter().map(|c| names.iter().position(|n| n == c)).collect();
    let uwi = names.iter().position(|n| n == UNDECLARED_WRITE_IN);

    let random = rules.random_seed.map(JavaRandom::new);
    let mut permutation = rules.candidates.clone();
    let mut counter_random = random;
    if rules.tiebreak == TiebreakMode::GeneratePermutation {
        let r = counter_random
            .as_mut()
            .ok_or_else(|| AuditError::Invalid("generatePermutation needs a randomSeed".into()))?;
        permutation.sort_by(|a, b| java_cmp(a, b));
        r.shuffle(&mut permutation);
    }
    let mut counter = Counter {
        rules,
        random: counter_random,
        permutation,
        operator: rules.operator_choices.iter().cloned().collect(),
        ties: Vec::new(),
    };

    let mut status = vec![Status::Continuing; names.len()];
    let mut exhausted = vec![false; contest.ballots.len()];
    let mut rounds: Vec<CountRound> = Vec::new();
    let mut history: Vec<BTreeMap<String, u64>> = Vec::new();
    let mut winner: Option<usize> = None;
    let mut threshold = 0u64;
    let n_candidates = names.len();
    let mut eliminated_count = 0usize;

    loop {
        let round = rounds.len() + 1;
        // Whether another round is counted (RCTab's shouldContinueTabulating).
        if round > 1 {
            let last = &rounds[round - 2];
            let go_on = if rules.continue_until_two {
                eliminated_count + winner.is_some() as usize + 1 < n_candidates || !last.eliminated.is_empty()
            } else {
                winner.is_none()
            };
            if !go_on {
                break;
            }
            if last.elected.is_empty() && last.eliminated.is_empty() {
                return Err(AuditError::Invalid(format!(
                    "round {}: no candidate elected or eliminated",
                    round - 1
                )));
            }
        }
        let counts_for =
            |s: Status| s == Status::Continuing || (s == Status::Winner && rules.continue_until_two);
        let continuing: Vec<bool> =
            choice_to_name.iter().map(|n| n.is_some_and(|i| counts_for(status[i]))).collect();
        let mut votes = vec![0u64; n_candidates];
        for (b, ballot) in contest.ballots.iter().enumerate() {
            if exhausted[b] {
                continue;
            }
            match ballot_rules.current_choice(ballot, &continuing) {
                Some(c) => votes[choice_to_name[c].expect("continuing choices are candidates")] += 1,
                None => exhausted[b] = true,
            }
        }
        let live: Vec<usize> = (0..n_candidates).filter(|&i| counts_for(status[i])).collect();
        let tally: BTreeMap<String, u64> = live.iter().map(|&i| (names[i].clone(), votes[i])).collect();
        let active: u64 = live.iter().map(|&i| votes[i]).sum();
        if round == 1 || !rules.first_round_determines_threshold {
            threshold = (active / 2 + 1).max(rules.minimum_vote_threshold);
        }
        history.push(tally.clone());

        // Winners.
        let mut elected = Vec::new();
        let uwi_live = uwi.is_some_and(|u| live.contains(&u) && votes[u] > 0);
        if winner.is_none() && !uwi_live {
            let max = live.iter().map(|&i| votes[i]).max().unwrap_or(0);
            let top: Vec<usize> = live.iter().copied().filter(|&i| votes[i] == max).collect();
            let mut selected: Vec<usize> = if live.len() == 1 {
                live.clone()
            } else if rules.first_round_determines_threshold && live.len() == 2 {
                top.clone()
            } else {
                live.iter().copied().filter(|&i| votes[i] >= threshold && Some(i) != uwi).collect()
            };
            let many = selected.len() > 1 && rules.first_round_determines_threshold;
            let none = selected.is_empty()
                && live.len() == 2
                && live.iter().all(|&i| votes[i] >= rules.minimum_vote_threshold);
            if many || none {
                selected = top;
                if selected.len() > 1 {
                    let tied: Vec<String> = selected.iter().map(|&i| names[i].clone()).collect();
                    let w = counter.tiebreak(round, &tied, true, &history[..history.len() - 1])?;
                    selected = vec![names.iter().position(|n| *n == w).expect("a tied candidate")];
                }
            }
            if let Some(&w) = selected.first() {
                winner = Some(w);
                status[w] = Status::Winner;
                elected.push(names[w].clone());
            }
        }

        // Eliminations.
        let mut eliminated: Vec<usize> = Vec::new();
        let more = winner.is_none()
            || (rules.continue_until_two && eliminated_count < n_candidates.saturating_sub(2));
        if elected.is_empty() && more {
            let pool: Vec<usize> =
                live.iter().copied().filter(|&i| status[i] == Status::Continuing).collect();
            // 1. Undeclared write-ins go first.
            if let Some(u) = uwi.filter(|&u| pool.contains(&u) && votes[u] > 0) {
                eliminated.push(u);
            }
            // 2. Candidates below the minimum vote threshold.
            if eliminated.is_empty() && rules.minimum_vote_threshold > 0 {
                eliminated =
                    pool.iter().copied().filter(|&i| votes[i] < rules.minimum_vote_threshold).collect();
                let declared = pool.iter().filter(|&&i| Some(i) != uwi).count();
                if !eliminated.is_empty() && eliminated.len() >= declared {
                    return Err(AuditError::Invalid(format!(
                        "round {round}: every declared candidate is below the minimum vote threshold"
                    )));
                }
            }
            // 3. Batch elimination.
            if eliminated.is_empty() && rules.batch_elimination {
                eliminated = batch(&pool, &votes, rules.continue_until_two, eliminated_count, n_candidates);
                if eliminated.len() < 2 {
                    eliminated.clear();
                }
            }
            // 4. The last candidate, a tie broken.
            if eliminated.is_empty() {
                let min = pool.iter().map(|&i| votes[i]).min();
                if let Some(min) = min {
                    let last: Vec<usize> = pool.iter().copied().filter(|&i| votes[i] == min).collect();
                    if last.len() == 1 {
                        eliminated = last;
                    } else {
                        let tied: Vec<String> = last.iter().map(|&i| names[i].clone()).collect();
                        let l = counter.tiebreak(round, &tied, false, &history[..history.len() - 1])?;
                        eliminated = vec![names.iter().position(|n| *n == l).expect("a tied candidate")];
                    }
                }
            }
            for &e in &eliminated {
                status[e] = Status::Eliminated;
            }
            eliminated_count += eliminated.len();
        }
        let mut eliminated_names: Vec<String> = eliminated.iter().map(|&i| names[i].clone()).collect();
        eliminated_names.sort();
        rounds.push(CountRound { round, tally, active, threshold, elected, eliminated: eliminated_names });
        if rules.stop_after_round.is_some_and(|s| round >= s) {
            break;
        }
    }
    Ok(RctabCount { rounds, winner: winner.map(|w| names[w].clone()), ties: counter.ties })
}

/// RCTab's batch elimination: walking the tallies upwards, everyone seen so far is
/// eliminated whenever their votes together are fewer than the next tally.
fn batch(pool: &[usize], votes: &[u64], until_two: bool, already: usize, n_candidates: usize) -> Vec<usize> {
    let mut groups: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for &i in pool {
        groups.entry(votes[i]).or_default().push(i);
    }
    let mut running = 0u64;
    let mut seen: Vec<usize> = Vec::new();
    let mut out: Vec<usize> = Vec::new();
    let mut previous: Vec<usize> = Vec::new();
    for (tally, members) in groups {
        if running < tally && seen.len() > out.len() {
            previous = out.clone();
            out = seen.clone();
        }
        running += tally * members.len() as u64;
        seen.extend(members);
    }
    // Counting on until two remain must not eliminate all but the winner.
    if until_two && out.len() + already == n_candidates - 1 {
        out = previous;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cvr::{RankMark, RankedBallot};

    // The expected figures below were printed by the JVM (OpenJDK's java.util.Random,
    // Collections.shuffle and HashSet), not by this code.
    #[test]
    fn java_random_matches_the_jvm() {
        assert_eq!(JavaRandom::new(0).next_double(), 0.730967787376657);
        assert_eq!(JavaRandom::new(12345).next_double(), 0.3618031071604718);
        assert_eq!(JavaRandom::new(-7).next_double(), 0.2691218093260761);
        let mut r = JavaRandom::new(99);
        let ints: Vec<i32> = (0..6).map(|_| r.next_int(7)).collect();
        assert_eq!(ints, [4, 6, 4, 0, 1, 1]);
        let mut list: Vec<u32> = (0..10).collect();
        JavaRandom::new(2024).shuffle(&mut list);
        assert_eq!(list, [3, 7, 2, 9, 6, 8, 4, 1, 5, 0]);
        let mut big = JavaRandom::new(5);
        assert_eq!(big.next_int(1 << 30), 784389743);
        assert_eq!(big.next_int(1_500_000_001), 379250092);
    }

    #[test]
    fn hash_set_order_matches_the_jvm() {
        let names: Vec<String> =
            ["Dopey", "Sneezy", "Happy", "Grumpy", "Doc", "Bashful", "Sleepy"].map(String::from).to_vec();
        assert_eq!(
            java_hash_set_order(&names),
            ["Sleepy", "Happy", "Sneezy", "Grumpy", "Doc", "Dopey", "Bashful"]
        );
    }

    fn contest(choices: &[&str], ballots: &[&[usize]]) -> RankedContest {
        RankedContest {
            id: "c".into(),
            name: "c".into(),
            choices: choices.iter().map(|c| c.to_string()).collect(),
            vote_for: 1,
            ballots: ballots
                .iter()
                .enumerate()
                .map(|(i, r)| RankedBallot {
                    id: i.to_string(),
                    file: "t".into(),
                    line: i as u64 + 1,
                    precinct: None,
                    batch: None,
                    position: None,
                    ranks: r.iter().map(|&c| RankMark::Choices(vec![c])).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_operator_breaks_a_tie_or_the_count_stops_naming_it() {
        // A and B tie 2-2 in the final round.
        let c = contest(&["A", "B"], &[&[0], &[0], &[1], &[1]]);
        let ballot_rules = BallotRules::default();
        let mut rules = CountRules { tiebreak: TiebreakMode::StopCountingAndAsk, ..CountRules::default() };
        let e = rctab_count(&c, &ballot_rules, &rules).expect_err("needs the operator");
        assert!(e.to_string().contains("\"A\", \"B\""), "{e}");
        rules.operator_choices = vec!["C".into()];
        assert!(rctab_count(&c, &ballot_rules, &rules).is_err());
        rules.operator_choices = vec!["B".into()];
        let count = rctab_count(&c, &ballot_rules, &rules).expect("count");
        assert_eq!(count.winner.as_deref(), Some("B"));
        assert_eq!(count.ties.len(), 1);
        assert!(count.ties[0].for_winner);
    }

    #[test]
    fn undeclared_write_ins_cannot_win() {
        // Write-ins hold a majority of first choices; they are dropped and A wins.
        let c = contest(&["A", "B", UNDECLARED_WRITE_IN], &[&[2], &[2], &[2], &[0], &[1, 0]]);
        let rules = CountRules { candidates: vec!["A".into(), "B".into()], ..CountRules::default() };
        let count = rctab_count(&c, &BallotRules::default(), &rules).expect("count");
        assert_eq!(count.rounds[0].eliminated, [UNDECLARED_WRITE_IN]);
        assert!(count.rounds[0].elected.is_empty());
        assert_eq!(count.winner.as_deref(), Some("A"));
    }
}
