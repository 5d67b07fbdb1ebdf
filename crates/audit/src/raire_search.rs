//! RAIRE: the assertions that prove an instant-runoff winner, generated from the ballots.
//!
//! Blom, Stuckey and Teague, "RAIRE: Risk-limiting audits for IRV elections" (2019). Every
//! elimination order in which someone other than the reported winner wins must be ruled
//! out by an assertion that holds on the ballots: NEB ("winner not eliminated before
//! loser") or NEN ("winner not eliminated next" while a given set is continuing). The
//! search is branch and bound over tails of elimination orders (the last candidates
//! standing, the hypothetical winner last), expanding the tail whose best assertion is
//! hardest to audit, keeping a lower bound on the audit's difficulty below which an
//! assertion is taken at once. A dive along the reported elimination order raises the
//! bound early. A final pass drops the assertions that no branch of the pruning tree
//! needs.
//!
//! An assertion's difficulty is measured from its two tallies (the winner's lowest,
//! the loser's highest) over `N` ballots, by one of [`DifficultyMeasure`].

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::raire::{Assertion, RaireContest};

/// How hard an assertion is to audit, from the winner's and the loser's tallies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DifficultyMeasure {
    /// 1 / diluted margin: `N / (w − l)` (ballot comparison).
    Margin,
    /// 1 / diluted margin squared: `(N / (w − l))²` (ballot polling).
    MarginSquared,
    /// BRAVO's expected sample size at risk limit `alpha` (the 2019 paper's ASN).
    Bravo {
        /// Risk limit.
        alpha: f64,
    },
}

impl DifficultyMeasure {
    /// The difficulty of an assertion with tallies `w` (winner) and `l` (loser) over `n`
    /// ballots; infinite when `w ≤ l`.
    pub fn difficulty(&self, w: u64, l: u64, n: u64) -> f64 {
        if w <= l {
            return f64::INFINITY;
        }
        let inv = n as f64 / (w - l) as f64;
        match *self {
            DifficultyMeasure::Margin => inv,
            DifficultyMeasure::MarginSquared => inv * inv,
            DifficultyMeasure::Bravo { alpha } => {
                let (w, l) = (w as f64, l as f64);
                let s2 = 2.0 * w / (w + l);
                let num = 0.5 * s2.ln() - alpha.ln();
                let den = (w * s2.ln() + l * (2.0 - s2).ln()) / n as f64;
                num / den
            }
        }
    }
}

/// Which assertions the final pass removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Trim {
    /// Keep every assertion the search took.
    None,
    /// Keep the assertions that the smallest pruning tree needs (each branch stops at its
    /// first contradicting assertion).
    #[default]
    MinimizeTree,
}

/// Options of [`generate_assertions`].
#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions {
    /// The difficulty measure.
    pub measure: DifficultyMeasure,
    /// The final trimming pass.
    pub trim: Trim,
    /// Stop with [`RaireError::TimedOut`] after this long.
    pub time_limit: Option<Duration>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions { measure: DifficultyMeasure::Margin, trim: Trim::MinimizeTree, time_limit: None }
    }
}

/// Why no assertion set could be produced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RaireError {
    /// The contest has no candidates.
    #[error("contest {0}: no candidates")]
    NoCandidates(String),
    /// More candidates than the search handles (sets are 64-bit masks).
    #[error("contest {contest}: {candidates} candidates, at most 64 are supported")]
    TooManyCandidates {
        /// The contest.
        contest: String,
        /// Its number of candidates.
        candidates: usize,
    },
    /// Ties in the count let more than one candidate win.
    #[error("contest {contest}: candidates {winners:?} can each win depending on tie breaks")]
    TiedWinners {
        /// The contest.
        contest: String,
        /// The possible winners.
        winners: Vec<String>,
    },
    /// Ties branch into too many possible counts to find every possible winner.
    #[error("contest {contest}: ties branch into more than 2^16 possible counts")]
    TooManyTies {
        /// The contest.
        contest: String,
    },
    /// The declared winner is not the IRV winner of the ballots.
    #[error("contest {contest}: declared winner {declared} is not the IRV winner {computed}")]
    WrongWinner {
        /// The contest.
        contest: String,
        /// The winner the input declares.
        declared: String,
        /// The winner of the count.
        computed: String,
    },
    /// An elimination order that no assertion can rule out (a full hand count is needed).
    #[error("contest {contest}: no assertion rules out the elimination order {order:?}")]
    CouldNotRuleOut {
        /// The contest.
        contest: String,
        /// The elimination order (first eliminated first).
        order: Vec<String>,
    },
    /// The time limit passed.
    #[error("contest {contest}: time limit passed (difficulty so far {difficulty})")]
    TimedOut {
        /// The contest.
        contest: String,
        /// The lower bound on the difficulty reached.
        difficulty: f64,
    },
    /// A consistency check failed: the assertions rule out the winner or leave a loser.
    #[error("contest {contest}: internal check failed: {what}")]
    Internal {
        /// The contest.
        contest: String,
        /// Which check.
        what: String,
    },
}

/// One generated assertion with its difficulty and its margin in ballots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredAssertion {
    /// The assertion (candidate indices).
    pub assertion: Assertion,
    /// Its difficulty under the set's measure.
    pub difficulty: f64,
    /// Winner tally minus loser tally (0 when the assertion does not hold).
    pub margin: u64,
}

/// The assertions proving one contest's winner: what `scrutineer audit raire-assertions`
/// writes and [`audit_assertions`] reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssertionSet {
    /// The contest's id.
    pub contest: String,
    /// Its candidates (assertions index into this list).
    pub candidates: Vec<String>,
    /// The IRV winner (an index).
    pub winner: usize,
    /// The winner's name.
    pub winner_name: String,
    /// Ballots counted (`N` of the difficulties, blank ballots included).
    pub ballots: u64,
    /// The measure used.
    pub measure: DifficultyMeasure,
    /// The audit's difficulty: the largest over the assertions.
    pub difficulty: f64,
    /// The smallest margin over the assertions, in ballots.
    pub margin: u64,
    /// The assertions.
    pub assertions: Vec<ScoredAssertion>,
}

/// The ballots of a contest with equal rankings merged, and restricted tallies cached.
struct Tallies {
    n: usize,
    total: u64,
    rankings: Vec<(Vec<usize>, u64)>,
    first: Vec<u64>,
    cache: RefCell<HashMap<u64, Vec<u64>>>,
}

impl Tallies {
    fn new(n: usize, ballots: &[Vec<usize>]) -> Self {
        let mut merged: HashMap<&[usize], u64> = HashMap::new();
        for b in ballots {
            *merged.entry(b.as_slice()).or_default() += 1;
        }
        let mut rankings: Vec<(Vec<usize>, u64)> = merged.into_iter().map(|(k, v)| (k.to_vec(), v)).collect();
        rankings.sort_unstable();
        let mut first = vec![0u64; n];
        for (r, k) in &rankings {
            if let Some(&c) = r.first() {
                first[c] += k;
            }
        }
        Tallies { n, total: ballots.len() as u64, rankings, first, cache: RefCell::new(HashMap::new()) }
    }

    /// Top-preference tallies per candidate when only `mask` is continuing.
    fn restricted(&self, mask: u64) -> Vec<u64> {
        if let Some(t) = self.cache.borrow().get(&mask) {
            return t.clone();
        }
        let mut t = vec![0u64; self.n];
        for (r, k) in &self.rankings {
            if let Some(&c) = r.iter().find(|&&c| mask >> c & 1 == 1) {
                t[c] += k;
            }
        }
        let mut cache = self.cache.borrow_mut();
        if cache.len() < TALLY_CACHE_LIMIT {
            cache.insert(mask, t.clone());
        }
        t
    }

    /// Every candidate that wins under some resolution of the ties for last place; none
    /// when the ties branch into more than [`TIE_BRANCH_LIMIT`] sets of continuing
    /// candidates.
    fn possible_winners(&self, mask: u64, memo: &mut HashMap<u64, u64>) -> Option<u64> {
        if mask.count_ones() <= 1 {
            return Some(mask);
        }
        if let Some(&w) = memo.get(&mask) {
            return Some(w);
        }
        if memo.len() >= TIE_BRANCH_LIMIT {
            return None;
        }
        let t = self.restricted(mask);
        let cont = (0..self.n).filter(|&c| mask >> c & 1 == 1);
        let low = cont.clone().map(|c| t[c]).min().unwrap_or(0);
        let mut out = 0;
        for c in cont.filter(|&c| t[c] == low) {
            out |= self.possible_winners(mask & !(1 << c), memo)?;
        }
        memo.insert(mask, out);
        Some(out)
    }
}

/// The most sets of continuing candidates that resolving ties may visit.
const TIE_BRANCH_LIMIT: usize = 1 << 16;

/// The most restricted tallies kept in memory.
const TALLY_CACHE_LIMIT: usize = 1 << 18;

fn mask_of(cands: &[usize]) -> u64 {
    cands.iter().fold(0, |m, &c| m | 1 << c)
}

struct Scorer<'a> {
    t: &'a Tallies,
    measure: DifficultyMeasure,
    /// NEB (winner, loser) difficulty and margin.
    neb: Vec<Vec<(f64, u64)>>,
}

impl<'a> Scorer<'a> {
    fn new(t: &'a Tallies, measure: DifficultyMeasure) -> Self {
        let neb = (0..t.n)
            .map(|w| {
                (0..t.n)
                    .map(|l| {
                        if w == l {
                            return (f64::INFINITY, 0);
                        }
                        let tw = t.first[w];
                        let tl = t.restricted(mask_of(&[w, l]))[l];
                        (measure.difficulty(tw, tl, t.total), tw.saturating_sub(tl))
                    })
                    .collect()
            })
            .collect();
        Scorer { t, measure, neb }
    }

    /// The easiest assertion that contradicts the tail `pi` (`pi[0]` eliminated next,
    /// `pi`'s last the hypothetical winner); infinite difficulty when there is none.
    fn best(&self, pi: &[usize]) -> ScoredAssertion {
        let c = pi[0];
        let later = &pi[1..];
        let mut best = ScoredAssertion {
            assertion: Assertion::NotEliminatedBefore { winner: c, loser: c },
            difficulty: f64::INFINITY,
            margin: 0,
        };
        // NEB: c beats a candidate standing after it, or a candidate already out beats c.
        let mut neb_best = f64::MAX;
        for alt in (0..self.t.n).filter(|&a| a != c) {
            let (w, l) = if later.contains(&alt) { (c, alt) } else { (alt, c) };
            let (d, m) = self.neb[w][l];
            if d < neb_best {
                neb_best = d;
                best = ScoredAssertion {
                    assertion: Assertion::NotEliminatedBefore { winner: w, loser: l },
                    difficulty: d,
                    margin: m,
                };
            }
        }
        // NEN: with `pi` continuing, c has more top preferences than the weakest other.
        if pi.len() > 1 {
            let tallies = self.t.restricted(mask_of(pi));
            let tw = tallies[c];
            let mut loser = None;
            let mut tl = u64::MAX;
            for &o in later {
                if tallies[o] <= tl {
                    tl = tallies[o];
                    loser = Some(o);
                }
            }
            if let Some(l) = loser {
                let d = self.measure.difficulty(tw, tl, self.t.total);
                if d < best.difficulty {
                    let mut continuing = pi.to_vec();
                    continuing.sort_unstable();
                    best = ScoredAssertion {
                        assertion: Assertion::NotEliminatedNext { winner: c, loser: l, continuing },
                        difficulty: d,
                        margin: tw.saturating_sub(tl),
                    };
                }
            }
        }
        best
    }
}

/// A tail of an elimination order in the frontier.
struct Tail {
    pi: Vec<usize>,
    /// The easiest assertion found for `pi` or one of its suffixes.
    best: ScoredAssertion,
    /// That suffix's length.
    best_len: usize,
    /// The child already reached by a dive.
    dived: Option<usize>,
}

impl Tail {
    fn difficulty(&self) -> f64 {
        self.best.difficulty
    }
    fn best_suffix(&self) -> &[usize] {
        &self.pi[self.pi.len() - self.best_len..]
    }
    fn extend(&self, c: usize, s: &Scorer) -> Tail {
        let mut pi = Vec::with_capacity(self.pi.len() + 1);
        pi.push(c);
        pi.extend_from_slice(&self.pi);
        let a = s.best(&pi);
        let (best, best_len) =
            if a.difficulty < self.difficulty() { (a, pi.len()) } else { (self.best.clone(), self.best_len) };
        Tail { pi, best, best_len, dived: None }
    }
}

impl PartialEq for Tail {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Tail {}
impl PartialOrd for Tail {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Tail {
    fn cmp(&self, o: &Self) -> Ordering {
        self.difficulty().total_cmp(&o.difficulty())
    }
}

struct Search<'a> {
    scorer: Scorer<'a>,
    taken: Vec<ScoredAssertion>,
    frontier: BinaryHeap<Tail>,
    bound: f64,
}

impl Search<'_> {
    /// Takes the tail's best assertion and drops the frontier tails it rules out.
    fn take(&mut self, t: Tail) {
        if self.taken.iter().any(|a| a.assertion == t.best.assertion) {
            return;
        }
        let suffix = t.best_suffix().to_vec();
        self.frontier.retain(|f| !f.pi.ends_with(&suffix));
        self.taken.push(t.best);
    }

    /// A complete elimination order: its assertion raises the bound and is taken.
    fn complete(&mut self, t: Tail) -> std::result::Result<(), Vec<usize>> {
        if t.difficulty().is_infinite() {
            return Err(t.pi);
        }
        self.bound = self.bound.max(t.difficulty());
        self.take(t);
        Ok(())
    }
}

/// How an assertion bears on a tail of an elimination order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Contradicts,
    Allows,
    Undecided,
}

fn effect(a: &Assertion, tail: &[usize]) -> Effect {
    match a {
        Assertion::NotEliminatedBefore { winner, loser } => {
            for c in tail.iter().rev() {
                if c == winner {
                    return Effect::Allows;
                }
                if c == loser {
                    return Effect::Contradicts;
                }
            }
            Effect::Undecided
        }
        Assertion::NotEliminatedNext { winner, continuing, .. } => {
            let k = continuing.len();
            let last = if tail.len() > k { &tail[tail.len() - k..] } else { tail };
            if last.iter().any(|c| continuing.binary_search(c).is_err()) {
                return Effect::Allows;
            }
            if last.len() == k {
                if last[0] == *winner { Effect::Contradicts } else { Effect::Allows }
            } else if last.contains(winner) {
                Effect::Allows
            } else {
                Effect::Undecided
            }
        }
    }
}

/// A node of the tree of elimination-order tails pruned by the assertions.
struct PruneNode {
    pruned_by: Vec<usize>,
    children: Vec<PruneNode>,
    valid: bool,
}

fn prune_tree(parent: &[usize], c: usize, relevant: &[usize], all: &[Assertion], n: usize) -> PruneNode {
    let mut tail = Vec::with_capacity(parent.len() + 1);
    tail.push(c);
    tail.extend_from_slice(parent);
    let mut pruned_by = Vec::new();
    let mut open = Vec::new();
    for &i in relevant {
        match effect(&all[i], &tail) {
            Effect::Contradicts => pruned_by.push(i),
            Effect::Allows => {}
            Effect::Undecided => open.push(i),
        }
    }
    let mut valid = pruned_by.is_empty() && open.is_empty();
    let mut children = Vec::new();
    if pruned_by.is_empty() && !open.is_empty() {
        for d in (0..n).filter(|d| !tail.contains(d)) {
            let child = prune_tree(&tail, d, &open, all, n);
            valid |= child.valid;
            children.push(child);
        }
    }
    PruneNode { pruned_by, children, valid }
}

fn mark_forced(node: &PruneNode, used: &mut [bool]) {
    if !node.pruned_by.is_empty() {
        if node.children.is_empty() && node.pruned_by.len() == 1 {
            used[node.pruned_by[0]] = true;
        }
    } else {
        node.children.iter().for_each(|c| mark_forced(c, used));
    }
}

fn eliminated(node: &PruneNode, used: &[bool]) -> bool {
    node.pruned_by.iter().any(|&i| used[i])
        || (!node.children.is_empty() && node.children.iter().all(|c| eliminated(c, used)))
}

fn mark_rest(node: &PruneNode, used: &mut [bool]) {
    if !node.pruned_by.is_empty() {
        if !eliminated(node, used) {
            used[node.pruned_by[0]] = true;
        }
    } else {
        node.children.iter().for_each(|c| mark_rest(c, used));
    }
}

/// The canonical order of an assertion list: NEBs first, then NENs by the number
/// continuing; ties by winner, loser, continuing.
fn canonical(a: &Assertion, b: &Assertion) -> Ordering {
    use Assertion::*;
    match (a, b) {
        (NotEliminatedBefore { .. }, NotEliminatedNext { .. }) => Ordering::Less,
        (NotEliminatedNext { .. }, NotEliminatedBefore { .. }) => Ordering::Greater,
        (NotEliminatedBefore { winner: w1, loser: l1 }, NotEliminatedBefore { winner: w2, loser: l2 }) => {
            (w1, l1).cmp(&(w2, l2))
        }
        (
            NotEliminatedNext { winner: w1, loser: l1, continuing: c1 },
            NotEliminatedNext { winner: w2, loser: l2, continuing: c2 },
        ) => (c1.len(), w1, l1, c1).cmp(&(c2.len(), w2, l2, c2)),
    }
}

/// Whether every elimination order that the assertions allow ends with `winner`, and no
/// order ending with `winner` is ruled out (a check on an assertion set, from any source).
pub fn assertions_prove_winner(assertions: &[Assertion], winner: usize, n_candidates: usize) -> bool {
    let idx: Vec<usize> = (0..assertions.len()).collect();
    (0..n_candidates).all(|c| prune_tree(&[], c, &idx, assertions, n_candidates).valid == (c == winner))
}

/// Generates RAIRE assertions proving the IRV winner of `contest` (its declared winner,
/// when it has one, must be that winner).
pub fn generate_assertions(
    contest: &RaireContest,
    opts: &GenerateOptions,
) -> std::result::Result<AssertionSet, RaireError> {
    let id = contest.id.clone();
    let n = contest.candidates.len();
    if n == 0 {
        return Err(RaireError::NoCandidates(id));
    }
    if n > 64 {
        return Err(RaireError::TooManyCandidates { contest: id, candidates: n });
    }
    let names = |v: &[usize]| v.iter().map(|&c| contest.candidates[c].clone()).collect::<Vec<_>>();
    let t = Tallies::new(n, &contest.ballots);
    let all = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    let winners = t
        .possible_winners(all, &mut HashMap::new())
        .ok_or_else(|| RaireError::TooManyTies { contest: id.clone() })?;
    let winner_list: Vec<usize> = (0..n).filter(|&c| winners >> c & 1 == 1).collect();
    if winner_list.len() != 1 {
        return Err(RaireError::TiedWinners { contest: id, winners: names(&winner_list) });
    }
    let winner = winner_list[0];
    if let Some(d) = &contest.declared_winner
        && *d != contest.candidates[winner]
    {
        return Err(RaireError::WrongWinner {
            contest: id,
            declared: d.clone(),
            computed: contest.candidates[winner].clone(),
        });
    }
    let order = crate::raire::tabulate(n, &contest.ballots)
        .map(|r| r.elimination_order)
        .ok_or_else(|| RaireError::NoCandidates(id.clone()))?;
    let start = Instant::now();
    let scorer = Scorer::new(&t, opts.measure);
    let mut s = Search { scorer, taken: Vec::new(), frontier: BinaryHeap::new(), bound: 0.0 };
    for c in (0..n).filter(|&c| c != winner) {
        let best = s.scorer.best(&[c]);
        s.frontier.push(Tail { pi: vec![c], best, best_len: 1, dived: None });
    }
    let ruled_out = |pi: Vec<usize>| RaireError::CouldNotRuleOut { contest: id.clone(), order: names(&pi) };
    let mut steps = 0u64;
    while let Some(mut cur) = s.frontier.pop() {
        steps += 1;
        if let Some(limit) = opts.time_limit
            && steps.is_multiple_of(256)
            && start.elapsed() > limit
        {
            return Err(RaireError::TimedOut { contest: id, difficulty: cur.difficulty().max(s.bound) });
        }
        if cur.difficulty() <= s.bound {
            s.take(cur);
            continue;
        }
        if cur.dived.is_none() {
            // Dive: extend by the reported order's survivors, last-eliminated first.
            let mut last: Option<Tail> = None;
            for &c in order.iter().rev() {
                if cur.pi.contains(&c) {
                    continue;
                }
                let next = match last.take() {
                    Some(mut l) => {
                        l.dived = Some(c);
                        let nx = l.extend(c, &s.scorer);
                        s.frontier.push(l);
                        nx
                    }
                    None => {
                        cur.dived = Some(c);
                        cur.extend(c, &s.scorer)
                    }
                };
                if next.difficulty() <= s.bound {
                    s.take(next);
                    break;
                }
                last = Some(next);
            }
            if let Some(l) = last {
                s.complete(l).map_err(ruled_out)?;
                if cur.difficulty() <= s.bound {
                    s.take(cur);
                    continue;
                }
            }
        }
        for c in 0..n {
            if cur.pi.contains(&c) || cur.dived == Some(c) {
                continue;
            }
            let next = cur.extend(c, &s.scorer);
            if next.pi.len() == n {
                s.complete(next).map_err(ruled_out)?;
            } else {
                s.frontier.push(next);
            }
        }
    }
    let mut taken = s.taken;
    taken.sort_by(|a, b| canonical(&a.assertion, &b.assertion));
    let plain: Vec<Assertion> = taken.iter().map(|a| a.assertion.clone()).collect();
    let idx: Vec<usize> = (0..plain.len()).collect();
    let internal = |what: &str| RaireError::Internal { contest: id.clone(), what: what.to_owned() };
    let trees: Vec<(usize, PruneNode)> =
        (0..n).filter(|&c| c != winner).map(|c| (c, prune_tree(&[], c, &idx, &plain, n))).collect();
    if trees.iter().any(|(_, t)| t.valid) {
        return Err(internal("a losing candidate is not ruled out"));
    }
    if opts.trim == Trim::MinimizeTree {
        let mut used = vec![false; plain.len()];
        trees.iter().for_each(|(_, t)| mark_forced(t, &mut used));
        trees.iter().for_each(|(_, t)| mark_rest(t, &mut used));
        taken = taken.into_iter().zip(used).filter(|(_, u)| *u).map(|(a, _)| a).collect();
    }
    if taken.iter().any(|a| effect(&a.assertion, &order) != Effect::Allows) {
        return Err(internal("an assertion rules out the reported elimination order"));
    }
    let margin = taken.iter().map(|a| a.margin).min().unwrap_or(0);
    Ok(AssertionSet {
        contest: id,
        winner_name: contest.candidates[winner].clone(),
        candidates: contest.candidates.clone(),
        winner,
        ballots: t.total,
        measure: opts.measure,
        difficulty: s.bound,
        margin,
        assertions: taken,
    })
}

/// The risk measured for one assertion on a ballot-polling sample.
#[derive(Debug, Clone, Serialize)]
pub struct AssertionRisk {
    /// The assertion.
    pub assertion: Assertion,
    /// Its assorter mean on the sample.
    pub sample_mean: f64,
    /// ALPHA's p-value (sampling with replacement, prior at the generated margin).
    pub p_value: f64,
    /// Whether the p-value is at most the risk limit.
    pub confirmed: bool,
}

/// Measures each assertion's risk on a ballot-polling sample of rankings (indices into
/// `set.candidates`) with ALPHA: the winner is confirmed when every assertion is.
pub fn audit_assertions(set: &AssertionSet, sample: &[Vec<usize>], risk_limit: f64) -> Vec<AssertionRisk> {
    set.assertions
        .iter()
        .map(|a| {
            let xs: Vec<f64> = sample.iter().map(|b| a.assertion.assort(b)).collect();
            let mean = if xs.is_empty() { 0.5 } else { xs.iter().sum::<f64>() / xs.len() as f64 };
            let eta0 =
                (0.5 + a.margin as f64 / (2.0 * set.ballots.max(1) as f64)).clamp(0.5 + 1e-6, 1.0 - 1e-6);
            let p = crate::risk::alpha_pvalues(&xs, None, 1.0, eta0, 100.0).last().copied().unwrap_or(1.0);
            AssertionRisk {
                assertion: a.assertion.clone(),
                sample_mean: mean,
                p_value: p,
                confirmed: p <= risk_limit,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contest(n: usize, groups: &[(&[usize], usize)]) -> RaireContest {
        let mut ballots = Vec::new();
        for (r, k) in groups {
            ballots.extend(std::iter::repeat_n(r.to_vec(), *k));
        }
        RaireContest {
            id: "t".into(),
            candidates: (0..n).map(|i| format!("c{i}")).collect(),
            declared_winner: None,
            ballot_ids: vec![String::new(); ballots.len()],
            ballots,
        }
    }

    #[test]
    fn generated_assertions_hold_and_prove_the_winner() {
        // A guide-to-RAIRE-like contest with four candidates and transfers.
        let c = contest(4, &[(&[0, 1, 2], 50), (&[1, 0], 30), (&[2, 3], 25), (&[3, 2], 28), (&[3], 5)]);
        let set = generate_assertions(&c, &GenerateOptions::default()).expect("assertions");
        let r = crate::raire::tabulate(4, &c.ballots).expect("count");
        assert_eq!(set.winner, r.winner);
        assert!(set.assertions.iter().all(|a| a.assertion.mean(&c.ballots) > 0.5));
        let plain: Vec<Assertion> = set.assertions.iter().map(|a| a.assertion.clone()).collect();
        assert!(assertions_prove_winner(&plain, set.winner, 4));
        let hardest = set.assertions.iter().map(|a| a.difficulty).fold(0.0, f64::max);
        assert!(set.difficulty >= hardest - 1e-12 && set.difficulty.is_finite());
    }

    #[test]
    fn ties_and_wrong_declared_winners_are_errors() {
        let c = contest(2, &[(&[0], 5), (&[1], 5)]);
        assert!(matches!(
            generate_assertions(&c, &GenerateOptions::default()),
            Err(RaireError::TiedWinners { .. })
        ));
        let mut c = contest(2, &[(&[0], 6), (&[1], 5)]);
        c.declared_winner = Some("c1".into());
        assert!(matches!(
            generate_assertions(&c, &GenerateOptions::default()),
            Err(RaireError::WrongWinner { .. })
        ));
    }

    #[test]
    fn ties_among_many_candidates_are_bounded() {
        // 40 candidates with no votes: every order is a tie.
        let c = contest(40, &[(&[], 3)]);
        let start = Instant::now();
        let e = generate_assertions(&c, &GenerateOptions::default()).expect_err("no winner");
        assert!(matches!(e, RaireError::TooManyTies { .. } | RaireError::TiedWinners { .. }), "{e}");
        assert!(start.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn margin_difficulty_is_ballots_over_margin() {
        assert_eq!(DifficultyMeasure::Margin.difficulty(60, 40, 100), 5.0);
        assert_eq!(DifficultyMeasure::MarginSquared.difficulty(60, 40, 100), 25.0);
        assert!(DifficultyMeasure::Margin.difficulty(40, 40, 100).is_infinite());
    }
}
