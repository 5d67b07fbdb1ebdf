//! Round-by-round ballot polling: Minerva (Zagórski, McClearn, Morin, Vora and Zagórski,
//! "Minerva — an efficient risk-limiting ballot polling audit", USENIX Security 2021) and
//! Providence (Broadrick, Vora and Zagórski, "Providence: a flexible round-by-round
//! risk-limiting audit", USENIX Security 2023), for one (reported winner, reported loser)
//! pair, sampling with replacement.
//!
//! Both tests look at the sample only at the end of each round. With `n_j` the pair's
//! cumulative sample after round `j` (ballots for the winner or the loser), `k_j` the
//! winner's votes among them and `p` the winner's reported share of the pair:
//!
//! - **Minerva**: `A_j(k)` and `N_j(k)` are the probabilities, under the reported share
//!   and under a tie (`p = 1/2`), that the audit has not stopped before round `j` and
//!   has `k` winner votes after it (the binomial distributions of each round convolved,
//!   with the stopped paths `k ≥ kmin_i` of every earlier round removed). The p-value is
//!   `Σ_{i≥k_j} N_j(i) / Σ_{i≥k_j} A_j(i)`; `kmin_j` is the smallest `k > n_j/2` whose
//!   p-value is at most α. It depends on the round schedule only.
//! - **Providence**: the p-value is the likelihood ratio of the previous round's tally,
//!   `Bin(k_{j−1}; n_{j−1}, 1/2) / Bin(k_{j−1}; n_{j−1}, p)`, times the tail ratio of this
//!   round's new draws, `P(Bin(n_j − n_{j−1}, 1/2) ≥ k_j − k_{j−1}) / P(Bin(n_j − n_{j−1}, p)
//!   ≥ k_j − k_{j−1})`. In round 1 the two tests are the same.
//!
//! The audit stops at the first round whose p-value is at most α with `k_j > n_j/2`.
//! Binomial probabilities are exact (Loader's saddle-point form, relative error about
//! 10⁻¹⁵); masses below 10⁻³⁰⁰ are dropped, which changes no p-value above 10⁻²⁹⁰.

use serde::{Deserialize, Serialize};

/// Mass below this is dropped from a distribution.
const TINY: f64 = 1e-300;
/// Mass below this is dropped when only a round's stopping region and chance are wanted
/// (the p-values near α and the chance do not move).
const COARSE: f64 = 1e-40;

/// Which round-by-round test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoundByRound {
    /// Minerva: every earlier round's stopping region is removed from the distributions.
    Minerva,
    /// Providence: the previous round's likelihood ratio times this round's tail ratio.
    Providence,
}

/// What is wrong with a round-by-round question.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RoundsError {
    /// The reported winner does not lead the pair.
    #[error("the reported winner's share of the pair must lie in (1/2, 1], got {0}")]
    Share(f64),
    /// α outside (0, 1).
    #[error("the risk limit must lie in (0, 1), got {0}")]
    RiskLimit(f64),
    /// A stopping probability outside (0, 1).
    #[error("a stopping probability must lie in (0, 1), got {0}")]
    StoppingProbability(f64),
    /// A round's cumulative sample does not grow.
    #[error("round {round}: the cumulative sample {drawn} does not exceed the previous round's {previous}")]
    NotIncreasing {
        /// The round (from 1).
        round: usize,
        /// Its cumulative sample.
        drawn: u64,
        /// The previous round's.
        previous: u64,
    },
    /// More winner votes than ballots.
    #[error("round {round}: {winner} winner votes in a cumulative sample of {drawn}")]
    TooManyWinnerVotes {
        /// The round (from 1).
        round: usize,
        /// Winner votes.
        winner: u64,
        /// The cumulative sample.
        drawn: u64,
    },
    /// The cumulative winner votes fell, or the loser's did.
    #[error("round {round}: the cumulative tallies fell (winner {winner} after {previous_winner})")]
    TallyFell {
        /// The round (from 1).
        round: usize,
        /// Winner votes now.
        winner: u64,
        /// Winner votes the round before.
        previous_winner: u64,
    },
    /// The question asks about rounds after the audit stopped.
    #[error("round {round} follows round {stopped}, where the audit stopped")]
    AfterStop {
        /// The round asked about.
        round: usize,
        /// The round where it stopped.
        stopped: usize,
    },
}

/// One round's cumulative pairwise sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairRound {
    /// Ballots for the winner or the loser drawn so far.
    pub drawn: u64,
    /// Of which for the winner.
    pub winner: u64,
}

/// One round's measurement.
#[derive(Debug, Clone, Serialize)]
pub struct RoundRisk {
    /// The round (from 1).
    pub round: usize,
    /// The cumulative pairwise sample.
    pub drawn: u64,
    /// The winner's votes in it.
    pub winner: u64,
    /// The p-value (not capped at 1; [`RoundRisk::risk`] is).
    pub p_value: f64,
    /// The fewest winner votes that would have stopped the audit this round; `None` when
    /// none would.
    pub kmin: Option<u64>,
    /// Whether the audit stops this round.
    pub stop: bool,
}

impl RoundRisk {
    /// The p-value capped at 1.
    pub fn risk(&self) -> f64 {
        self.p_value.min(1.0)
    }
}

/// A round size for a wanted stopping probability.
#[derive(Debug, Clone, Serialize)]
pub struct RoundSize {
    /// The stopping probability asked for.
    pub target: f64,
    /// The cumulative pairwise sample after the round.
    pub drawn: u64,
    /// The winner votes (cumulative) that stop the audit at that size.
    pub kmin: u64,
    /// The chance of stopping in that round if the reported share is right, given the
    /// rounds so far (at least `target`).
    pub chance: f64,
}

fn check_share(share: f64) -> Result<(), RoundsError> {
    if share > 0.5 && share <= 1.0 { Ok(()) } else { Err(RoundsError::Share(share)) }
}

fn check_alpha(alpha: f64) -> Result<(), RoundsError> {
    if alpha > 0.0 && alpha < 1.0 { Ok(()) } else { Err(RoundsError::RiskLimit(alpha)) }
}

// ---------------------------------------------------------------------------------------
// Binomial probabilities (Loader 2000, "Fast and accurate computation of binomial
// probabilities"): the saddle-point expansion with Stirling's error term and the
// deviance term computed without cancellation.

/// ln n! − ((n + ½) ln n − n + ½ ln 2π), Stirling's error.
fn stirling_error(n: u64) -> f64 {
    let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    if n == 0 {
        return 0.0; // not used: the saddle-point form needs 0 < k < n
    }
    let x = n as f64;
    if n <= 15 {
        let ln_fact: f64 = (2..=n).map(|i| (i as f64).ln()).sum();
        return ln_fact - (x + 0.5) * x.ln() + x - half_ln_2pi;
    }
    let xx = x * x;
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n > 500 {
        (S0 - S1 / xx) / x
    } else if n > 80 {
        (S0 - (S1 - S2 / xx) / xx) / x
    } else if n > 35 {
        (S0 - (S1 - (S2 - S3 / xx) / xx) / xx) / x
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / xx) / xx) / xx) / xx) / x
    }
}

/// x ln(x/m) + m − x, the deviance term, by its series when x is near m.
fn deviance(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            ej *= v2;
            let s1 = s + ej / (2 * j + 1) as f64;
            if s1 == s {
                return s1;
            }
            s = s1;
        }
        s
    } else {
        x * (x / m).ln() + m - x
    }
}

/// ln P(Bin(n, p) = k).
pub(crate) fn binomial_ln_pmf(k: u64, n: u64, p: f64) -> f64 {
    if k > n {
        return f64::NEG_INFINITY;
    }
    let q = 1.0 - p;
    if p == 0.0 {
        return if k == 0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if q == 0.0 {
        return if k == n { 0.0 } else { f64::NEG_INFINITY };
    }
    let nf = n as f64;
    if k == 0 {
        return if p < 0.1 { -deviance(nf, nf * q) - nf * p } else { nf * q.ln() };
    }
    if k == n {
        return if q < 0.1 { -deviance(nf, nf * p) - nf * q } else { nf * p.ln() };
    }
    let kf = k as f64;
    let lc = stirling_error(n)
        - stirling_error(k)
        - stirling_error(n - k)
        - deviance(kf, nf * p)
        - deviance(nf - kf, nf * q);
    let lf = (2.0 * std::f64::consts::PI).ln() + kf.ln() + (-kf / nf).ln_1p();
    lc - 0.5 * lf
}

/// A distribution over winner votes: `mass[i]` is the probability of `lo + i`.
#[derive(Debug, Clone)]
struct Band {
    lo: u64,
    mass: Vec<f64>,
}

impl Band {
    fn point(k: u64) -> Band {
        Band { lo: k, mass: vec![1.0] }
    }

    /// Bin(n, p), the masses above [`TINY`]: the mode's mass exactly, the others by the
    /// ratio of neighbouring masses (relative error below 10⁻¹¹ over 10⁵ steps).
    fn binomial(n: u64, p: f64, tiny: f64) -> Band {
        let mode = (((n + 1) as f64 * p).floor() as u64).min(n);
        let at_mode = binomial_ln_pmf(mode, n, p).exp();
        let odds = p / (1.0 - p);
        let mut down = Vec::new();
        let (mut k, mut m) = (mode, at_mode);
        while k > 0 {
            m *= k as f64 / (n - k + 1) as f64 / odds;
            if m <= tiny || m.is_nan() {
                break;
            }
            k -= 1;
            down.push(m);
        }
        let lo = mode - down.len() as u64;
        down.reverse();
        down.push(at_mode);
        let (mut k, mut m) = (mode, at_mode);
        while k < n {
            m *= (n - k) as f64 / (k + 1) as f64 * odds;
            if m <= tiny || m.is_nan() {
                break;
            }
            k += 1;
            down.push(m);
        }
        Band { lo, mass: down }
    }

    fn convolve(&self, other: &Band, tiny: f64) -> Band {
        if self.mass.is_empty() || other.mass.is_empty() {
            return Band { lo: self.lo + other.lo, mass: Vec::new() };
        }
        let mut out = vec![0.0; self.mass.len() + other.mass.len() - 1];
        for (i, &a) in self.mass.iter().enumerate() {
            if a == 0.0 {
                continue;
            }
            for (o, &b) in out[i..].iter_mut().zip(&other.mass) {
                *o += a * b;
            }
        }
        let mut band = Band { lo: self.lo + other.lo, mass: out };
        band.trim(tiny);
        band
    }

    fn trim(&mut self, tiny: f64) {
        let first = self.mass.iter().position(|&m| m > tiny).unwrap_or(self.mass.len());
        let last = self.mass.iter().rposition(|&m| m > tiny).map_or(first, |p| p + 1);
        self.mass = self.mass[first..last].to_vec();
        self.lo += first as u64;
    }

    /// Keeps the mass below `k`.
    fn below(&mut self, k: u64) {
        let keep = k.saturating_sub(self.lo).min(self.mass.len() as u64) as usize;
        self.mass.truncate(keep);
    }

    /// `tails[i]` = mass at or above `lo + i` (summed from the top, small terms first).
    fn tails(&self) -> Vec<f64> {
        let mut t = vec![0.0; self.mass.len() + 1];
        for i in (0..self.mass.len()).rev() {
            t[i] = t[i + 1] + self.mass[i];
        }
        t
    }
}

fn tail_at(tails: &[f64], lo: u64, k: u64) -> f64 {
    if k <= lo { tails[0] } else { tails.get((k - lo) as usize).copied().unwrap_or(0.0) }
}

/// p-value from the two tails: 0 when the tie's tail is empty.
fn ratio(null_tail: f64, alt_tail: f64) -> f64 {
    if null_tail <= 0.0 {
        0.0
    } else if alt_tail <= 0.0 {
        f64::INFINITY
    } else {
        null_tail / alt_tail
    }
}

/// One round's candidate distributions: p-value as a function of cumulative winner votes.
struct RoundTails {
    null_lo: u64,
    null: Vec<f64>,
    alt_lo: u64,
    alt: Vec<f64>,
    /// Multiplies the null tail (Providence's previous likelihood ratio).
    factor: f64,
    /// The lowest and highest kmin searched.
    floor: u64,
    top: u64,
    /// Tails of the round's new draws under the reported share.
    fresh_lo: u64,
    fresh: Vec<f64>,
}

impl RoundTails {
    fn p_value(&self, k: u64) -> f64 {
        ratio(self.factor * tail_at(&self.null, self.null_lo, k), tail_at(&self.alt, self.alt_lo, k))
    }

    /// Smallest k > n/2 (and at least the votes before the round) with p-value ≤ α.
    fn kmin(&self, n: u64, alpha: f64) -> Option<u64> {
        let start = (n / 2 + 1).max(self.floor);
        let top = self.top.min(n);
        (start..=top).find(|&k| self.p_value(k) <= alpha)
    }
}

/// One pair's round-by-round audit, taken a round at a time: [`PairAudit::take`] measures
/// a round from its cumulative tallies, [`PairAudit::next_size`] sizes the next one.
#[derive(Debug, Clone)]
pub struct PairAudit {
    method: RoundByRound,
    share: f64,
    alpha: f64,
    /// Cumulative sample and winner votes after the last round.
    drawn: u64,
    winner: u64,
    rounds: usize,
    /// Minerva: the not-yet-stopped mass under the reported share and under a tie.
    alt: Band,
    null: Band,
}

impl PairAudit {
    /// An audit of a pair whose winner has `share` of the pair's reported votes, at risk
    /// limit `alpha`, before any round.
    pub fn new(method: RoundByRound, share: f64, alpha: f64) -> Result<PairAudit, RoundsError> {
        check_share(share)?;
        check_alpha(alpha)?;
        Ok(PairAudit {
            method,
            share,
            alpha,
            drawn: 0,
            winner: 0,
            rounds: 0,
            alt: Band::point(0),
            null: Band::point(0),
        })
    }

    /// The cumulative pairwise sample after the last round taken.
    pub fn drawn(&self) -> u64 {
        self.drawn
    }

    /// A round taking the cumulative sample to `n` (> the current one): its tails, and
    /// for Minerva the new not-yet-stopped bands before the round's stopping region is cut.
    /// Masses below `tiny` are dropped.
    fn round(&self, n: u64, tiny: f64) -> (RoundTails, Option<(Band, Band)>) {
        let fresh = n - self.drawn;
        let alt_round = Band::binomial(fresh, self.share, tiny);
        let null_round = Band::binomial(fresh, 0.5, tiny);
        let (fresh_lo, fresh_tails) = (alt_round.lo, alt_round.tails());
        let (alt, null, factor, keep) = match self.method {
            RoundByRound::Minerva => {
                let coarse = |b: &Band| {
                    let mut b = b.clone();
                    b.trim(tiny);
                    b
                };
                let alt = coarse(&self.alt).convolve(&alt_round, tiny);
                let null = coarse(&self.null).convolve(&null_round, tiny);
                (alt.clone(), null.clone(), 1.0, Some((alt, null)))
            }
            RoundByRound::Providence => {
                let shift = |b: Band| Band { lo: b.lo + self.winner, mass: b.mass };
                let (k, m) = (self.winner as f64, (self.drawn - self.winner) as f64);
                let mut ln_lr = k * (0.5 / self.share).ln();
                if m > 0.0 {
                    ln_lr += m * (0.5 / (1.0 - self.share)).ln();
                }
                (shift(alt_round), shift(null_round), ln_lr.exp(), None)
            }
        };
        // Providence's p-value is conditional on the tally so far; Minerva's kmin is a
        // property of the round schedule, over every cumulative tally.
        let (floor, top) = match self.method {
            RoundByRound::Minerva => (0, n),
            RoundByRound::Providence => (self.winner, self.winner + fresh),
        };
        let tails = RoundTails {
            fresh_lo,
            fresh: fresh_tails,
            null_lo: null.lo,
            null: null.tails(),
            alt_lo: alt.lo,
            alt: alt.tails(),
            factor,
            floor,
            top,
        };
        (tails, keep)
    }

    /// Takes a round with its observed cumulative tallies: its p-value, kmin and decision.
    /// A round after the one that stopped is still measured; callers stop at `stop`.
    pub fn take(&mut self, r: PairRound) -> Result<RoundRisk, RoundsError> {
        let round = self.rounds + 1;
        if r.drawn <= self.drawn {
            return Err(RoundsError::NotIncreasing { round, drawn: r.drawn, previous: self.drawn });
        }
        if r.winner > r.drawn {
            return Err(RoundsError::TooManyWinnerVotes { round, winner: r.winner, drawn: r.drawn });
        }
        if r.winner < self.winner || r.drawn - r.winner < self.drawn - self.winner {
            return Err(RoundsError::TallyFell { round, winner: r.winner, previous_winner: self.winner });
        }
        let (tails, keep) = self.round(r.drawn, TINY);
        let p_value = tails.p_value(r.winner);
        let kmin = tails.kmin(r.drawn, self.alpha);
        let stop = kmin.is_some_and(|k| r.winner >= k) && p_value <= self.alpha;
        if let Some((mut alt, mut null)) = keep {
            if let Some(k) = kmin {
                alt.below(k);
                null.below(k);
            }
            self.alt = alt;
            self.null = null;
        }
        self.drawn = r.drawn;
        self.winner = r.winner;
        self.rounds = round;
        Ok(RoundRisk { round, drawn: r.drawn, winner: r.winner, p_value, kmin, stop })
    }

    /// The stopping region and chance of a next round taking the cumulative sample to `n`.
    /// `None` when no tally stops it, or `n` does not exceed the sample so far.
    pub fn chance(&self, n: u64) -> Option<(u64, f64)> {
        if n <= self.drawn {
            return None;
        }
        let (tails, _) = self.round(n, COARSE);
        let kmin = tails.kmin(n, self.alpha)?;
        // Given the tallies so far, the round stops when its new draws hold at least
        // kmin − k winner votes.
        Some((kmin, tail_at(&tails.fresh, tails.fresh_lo, kmin.saturating_sub(self.winner))))
    }

    /// The cumulative size of the next round whose chance of stopping (if the reported
    /// share is right, given the rounds so far) reaches `target`: found by doubling the
    /// round and then bisecting to a size that reaches it where one ballot fewer does not,
    /// then the smallest size reaching it in a window of 3√n + 20 sizes below that one.
    /// `None` when no size up to `max_drawn` does.
    pub fn next_size(&self, target: f64, max_drawn: u64) -> Result<Option<RoundSize>, RoundsError> {
        if !(target > 0.0 && target < 1.0) {
            return Err(RoundsError::StoppingProbability(target));
        }
        let reaches = |n: u64| self.chance(n).filter(|&(_, c)| c >= target);
        let mut lo = self.drawn; // never reaches (or is the current sample)
        let mut step = 1u64;
        let hi = loop {
            let n = (self.drawn + step).min(max_drawn);
            if n <= lo {
                return Ok(None);
            }
            if reaches(n).is_some() {
                break n;
            }
            if n == max_drawn {
                return Ok(None);
            }
            lo = n;
            step *= 2;
        };
        let mut hi = hi;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if reaches(mid).is_some() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        // The chance is a sawtooth in the size (it drops each time kmin steps up), so
        // smaller sizes than the bisection's crossing may reach the target too: look
        // through a window of 3√n + 20 sizes below it and keep the smallest that does.
        let window = (3 * (hi as f64).sqrt() as u64 + 20).min(hi - self.drawn - 1);
        let mut best = hi;
        for n in (hi - window..hi).rev() {
            if reaches(n).is_some() {
                best = n;
            }
        }
        let (kmin, chance) = self.chance(best).unwrap_or((best, 0.0));
        Ok(Some(RoundSize { target, drawn: best, kmin, chance }))
    }
}

/// The p-value, stopping region and decision of each round of one pair's audit, given
/// the cumulative pairwise samples and the winner's votes in them: `share` is the
/// winner's reported share of the pair's votes, `alpha` the risk limit. The rounds after
/// the one where the audit stops are refused.
pub fn round_risks(
    method: RoundByRound,
    share: f64,
    alpha: f64,
    rounds: &[PairRound],
) -> Result<Vec<RoundRisk>, RoundsError> {
    let mut state = PairAudit::new(method, share, alpha)?;
    let mut out: Vec<RoundRisk> = Vec::with_capacity(rounds.len());
    for r in rounds {
        if let Some(stopped) = out.last().filter(|x| x.stop) {
            return Err(RoundsError::AfterStop { round: out.len() + 1, stopped: stopped.round });
        }
        out.push(state.take(*r)?);
    }
    Ok(out)
}

/// The next round's cumulative pairwise size for each wanted stopping probability, after
/// `rounds` (none for the first round), searched up to `max_drawn` ballots; `None` for a
/// probability no size up to it reaches. In the first round Minerva and Providence agree.
pub fn next_round_sizes(
    method: RoundByRound,
    share: f64,
    alpha: f64,
    rounds: &[PairRound],
    targets: &[f64],
    max_drawn: u64,
) -> Result<Vec<Option<RoundSize>>, RoundsError> {
    let mut state = PairAudit::new(method, share, alpha)?;
    for (i, r) in rounds.iter().enumerate() {
        let risk = state.take(*r)?;
        if risk.stop {
            return Err(RoundsError::AfterStop { round: i + 2, stopped: i + 1 });
        }
    }
    targets.iter().map(|&t| state.next_size(t, max_drawn)).collect()
}

/// What a round schedule costs if the reported share is right.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleWork {
    /// The chance of stopping in each round (not before).
    pub stop_in_round: Vec<f64>,
    /// The chance of not stopping within the schedule.
    pub never: f64,
    /// The expected cumulative pairwise sample, counting an audit that never stops at the
    /// schedule's last size.
    pub expected_drawn: f64,
}

/// The chance of stopping in each round of a schedule of cumulative pairwise sizes, and
/// the expected sample, if the winner's share of the pair is `share` as reported.
/// Exact: Minerva's not-yet-stopped distribution is carried from round to round; for
/// Providence, whose stopping region depends on the previous tally, each previous tally
/// gets its own region. Rounds after the chance of not having stopped falls below 10⁻¹²
/// are given chance 0.
pub fn schedule_work(
    method: RoundByRound,
    share: f64,
    alpha: f64,
    sizes: &[u64],
) -> Result<ScheduleWork, RoundsError> {
    check_share(share)?;
    check_alpha(alpha)?;
    let mut alt = Band::point(0);
    let mut null = Band::point(0);
    let mut stop_in_round = Vec::with_capacity(sizes.len());
    let mut prev = 0u64;
    for (i, &n) in sizes.iter().enumerate() {
        if n <= prev {
            return Err(RoundsError::NotIncreasing { round: i + 1, drawn: n, previous: prev });
        }
        let fresh_alt = Band::binomial(n - prev, share, COARSE);
        let fresh_null = Band::binomial(n - prev, 0.5, COARSE);
        let first = i == 0;
        let stopped = if method == RoundByRound::Minerva || first {
            // The region k ≥ kmin over the cumulative tally.
            let a = alt.convolve(&fresh_alt, COARSE);
            let z = null.convolve(&fresh_null, COARSE);
            let (ta, tz) = (a.tails(), z.tails());
            let p = |k: u64| ratio(tail_at(&tz, z.lo, k), tail_at(&ta, a.lo, k));
            let kmin = (n / 2 + 1..=n).find(|&k| p(k) <= alpha);
            let stopped = kmin.map_or(0.0, |k| tail_at(&ta, a.lo, k));
            let (mut a, mut z) = (a, z);
            if let Some(k) = kmin {
                a.below(k);
                z.below(k);
            }
            alt = a;
            null = z;
            stopped
        } else {
            // Providence: from a previous tally k, the round stops when its new draws
            // hold i winner votes with σ(k)·τ(i) ≤ α and k + i > n/2, τ the new draws'
            // tail ratio (decreasing in i).
            let (ta, tz) = (fresh_alt.tails(), fresh_null.tails());
            let tau = |i: u64| ratio(tail_at(&tz, fresh_null.lo, i), tail_at(&ta, fresh_alt.lo, i));
            let top = n - prev;
            let mut next = vec![0.0; alt.mass.len() + fresh_alt.mass.len()];
            let lo = alt.lo + fresh_alt.lo;
            let mut stopped = 0.0;
            for (j, &m) in alt.mass.iter().enumerate() {
                let k = alt.lo + j as u64;
                let ln_sigma = k as f64 * (0.5 / share).ln()
                    + if prev > k { (prev - k) as f64 * (0.5 / (1.0 - share)).ln() } else { 0.0 };
                let start = (n / 2 + 1).saturating_sub(k);
                let need = (start..=top).find(|&i| ln_sigma.exp() * tau(i) <= alpha);
                let cut = need.unwrap_or(top + 1);
                stopped += m * tail_at(&ta, fresh_alt.lo, cut);
                for (x, &b) in fresh_alt.mass.iter().enumerate() {
                    if fresh_alt.lo + (x as u64) < cut {
                        next[j + x] += m * b;
                    }
                }
            }
            let mut band = Band { lo, mass: next };
            band.trim(COARSE);
            alt = band;
            stopped
        };
        stop_in_round.push(stopped);
        prev = n;
        if alt.mass.iter().sum::<f64>() < 1e-12 {
            // Later rounds can change nothing that shows.
            stop_in_round.resize(sizes.len(), 0.0);
            break;
        }
    }
    let never = (1.0 - stop_in_round.iter().sum::<f64>()).max(0.0);
    let last = sizes.last().copied().unwrap_or(0) as f64;
    let expected_drawn =
        sizes.iter().zip(&stop_in_round).map(|(&n, &s)| n as f64 * s).sum::<f64>() + never * last;
    Ok(ScheduleWork { stop_in_round, never, expected_drawn })
}

/// A round-by-round question about one winner-loser pair, as a file: the reported votes,
/// the rounds so far and the stopping probabilities wanted for the next round.
/// `scrutineer audit rounds --input FILE` answers a list of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundsQuestion {
    /// Minerva or Providence.
    pub method: RoundByRound,
    /// The risk limit α.
    pub risk_limit: f64,
    /// The reported winner's votes.
    pub winner_votes: u64,
    /// The reported loser's votes.
    pub loser_votes: u64,
    /// Ballots in the contest (default: the pair's votes); sizes in ballots are the pair's
    /// sizes scaled by ballots / (winner + loser votes), rounded up.
    #[serde(default)]
    pub ballots: Option<u64>,
    /// The cumulative pairwise samples so far.
    #[serde(default)]
    pub rounds: Vec<PairRound>,
    /// Stopping probabilities wanted for the next round.
    #[serde(default)]
    pub stopping_probabilities: Vec<f64>,
    /// The largest cumulative pairwise sample searched (default: the pair's votes).
    #[serde(default)]
    pub max_drawn: Option<u64>,
    /// Cumulative pairwise sizes of a next round whose stopping region and chance to report.
    #[serde(default)]
    pub check_sizes: Vec<u64>,
}

/// A next-round size in a [`RoundsAnswer`].
#[derive(Debug, Clone, Serialize)]
pub struct NextRound {
    /// The pair's cumulative size, its stopping region and chance.
    #[serde(flatten)]
    pub pair: RoundSize,
    /// The round's new draws in ballots of the contest (the pair's new draws scaled).
    pub ballots: u64,
}

/// The stopping region and chance of a next round of a given size.
#[derive(Debug, Clone, Serialize)]
pub struct SizeCheck {
    /// The cumulative pairwise size.
    pub drawn: u64,
    /// The fewest cumulative winner votes that stop the audit there, if any.
    pub kmin: Option<u64>,
    /// The chance of stopping there if the reported share is right (0 without a kmin).
    pub chance: f64,
}

/// The answer to a [`RoundsQuestion`].
#[derive(Debug, Clone, Serialize)]
pub struct RoundsAnswer {
    /// The winner's reported share of the pair.
    pub share: f64,
    /// Each round's measurement.
    pub rounds: Vec<RoundRisk>,
    /// For each stopping probability asked, the next round (`None`: none up to the
    /// largest size searched); empty once the audit has stopped.
    pub next: Vec<Option<NextRound>>,
    /// The sizes asked about in `check_sizes`; empty once the audit has stopped.
    pub checks: Vec<SizeCheck>,
}

impl RoundsQuestion {
    /// Answers the question.
    pub fn answer(&self) -> Result<RoundsAnswer, RoundsError> {
        let votes = self.winner_votes + self.loser_votes;
        let share = if votes == 0 { 0.5 } else { self.winner_votes as f64 / votes as f64 };
        let rounds = round_risks(self.method, share, self.risk_limit, &self.rounds)?;
        let mut state = PairAudit::new(self.method, share, self.risk_limit)?;
        for r in &self.rounds {
            state.take(*r)?;
        }
        let (mut next, mut checks) = (Vec::new(), Vec::new());
        if !rounds.last().is_some_and(|r| r.stop) {
            let scale = self.ballots.unwrap_or(votes).max(votes) as f64 / votes as f64;
            for &t in &self.stopping_probabilities {
                let size = state.next_size(t, self.max_drawn.unwrap_or(votes))?;
                next.push(size.map(|pair| {
                    let ballots = ((pair.drawn - state.drawn()) as f64 * scale).ceil() as u64;
                    NextRound { pair, ballots }
                }));
            }
            for &n in self.check_sizes.iter().filter(|&&n| n > state.drawn()) {
                let (kmin, chance) = state.chance(n).map_or((None, 0.0), |(k, c)| (Some(k), c));
                checks.push(SizeCheck { drawn: n, kmin, chance });
            }
        }
        Ok(RoundsAnswer { share, rounds, next, checks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(Bin(n, p) = k) summed in linear space from the recurrence, for small n.
    fn pmf_by_recurrence(n: u64, p: f64) -> Vec<f64> {
        let mut v = vec![(1.0 - p).powi(n as i32)];
        for k in 1..=n {
            let prev = v[k as usize - 1];
            v.push(prev * (n - k + 1) as f64 / k as f64 * p / (1.0 - p));
        }
        v
    }

    #[test]
    fn binomial_pmf_matches_the_recurrence_and_sums_to_one() {
        for (n, p) in [(1u64, 0.5), (7, 0.3), (40, 0.6), (200, 0.55), (500, 0.51)] {
            let want = pmf_by_recurrence(n, p);
            for (k, w) in want.iter().enumerate() {
                let got = binomial_ln_pmf(k as u64, n, p).exp();
                assert!((got - w).abs() <= 1e-12 * w.max(1e-300), "n {n} p {p} k {k}: {got} vs {w}");
            }
            let b = Band::binomial(n, p, TINY);
            let total: f64 = b.mass.iter().sum();
            assert!((total - 1.0).abs() < 1e-12, "n {n}: {total}");
        }
        // At n = 10⁶, where summing logs loses 10⁻⁸: C(2m, m)/4ᵐ = (πm)^(−½)(1 − 1/(8m) + 1/(128m²) + …).
        let m = 500_000f64;
        let want =
            -0.5 * (std::f64::consts::PI * m).ln() + (-1.0 / (8.0 * m) + 1.0 / (128.0 * m * m)).ln_1p();
        let got = binomial_ln_pmf(500_000, 1_000_000, 0.5);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }

    /// The p-value of a single round by brute force: tails of the two binomials.
    fn first_round_p(n: u64, k: u64, p: f64) -> f64 {
        let a = pmf_by_recurrence(n, p);
        let z = pmf_by_recurrence(n, 0.5);
        z[k as usize..].iter().sum::<f64>() / a[k as usize..].iter().sum::<f64>()
    }

    #[test]
    fn first_round_is_the_tail_ratio_for_both_methods() {
        for (n, k, p) in [(100u64, 60u64, 0.6), (96, 56, 0.6), (50, 40, 0.7), (30, 16, 0.55)] {
            let want = first_round_p(n, k, p);
            for m in [RoundByRound::Minerva, RoundByRound::Providence] {
                let r = round_risks(m, p, 0.1, &[PairRound { drawn: n, winner: k }]).expect("valid");
                assert!(
                    (r[0].p_value - want).abs() < 1e-12 * want,
                    "{m:?} {n} {k}: {} vs {want}",
                    r[0].p_value
                );
                assert_eq!(r[0].stop, want <= 0.1);
            }
        }
    }

    /// Minerva's second round by brute force: the paths of round 1 below kmin₁, extended
    /// by every outcome of round 2.
    #[test]
    fn minerva_second_round_removes_the_first_rounds_stopping_region() {
        let (p, alpha, n1, n2) = (0.6, 0.1, 50u64, 110u64);
        let kmin1 = (n1 / 2 + 1..=n1).find(|&k| first_round_p(n1, k, p) <= alpha).expect("kmin");
        let (a1, z1) = (pmf_by_recurrence(n1, p), pmf_by_recurrence(n1, 0.5));
        let (a2, z2) = (pmf_by_recurrence(n2 - n1, p), pmf_by_recurrence(n2 - n1, 0.5));
        let k1 = kmin1 - 3;
        for k2 in [k1 + 30, k1 + 36, k1 + 40] {
            let (mut na, mut nz) = (0.0, 0.0);
            for i in 0..kmin1 as usize {
                for j in 0..=(n2 - n1) as usize {
                    if (i + j) as u64 >= k2 {
                        na += a1[i] * a2[j];
                        nz += z1[i] * z2[j];
                    }
                }
            }
            let want = nz / na;
            let r = round_risks(
                RoundByRound::Minerva,
                p,
                alpha,
                &[PairRound { drawn: n1, winner: k1 }, PairRound { drawn: n2, winner: k2 }],
            )
            .expect("valid");
            assert_eq!(r[0].kmin, Some(kmin1));
            assert!(!r[0].stop);
            assert!((r[1].p_value - want).abs() < 1e-12 * want, "k2 {k2}: {} vs {want}", r[1].p_value);
        }
    }

    #[test]
    fn providence_second_round_is_the_likelihood_ratio_times_the_new_tail_ratio() {
        let (p, n1, k1, n2, k2) = (0.6f64, 100u64, 54u64, 200u64, 113u64);
        let lr = (0.5f64 / p).powi(k1 as i32) * (0.5 / (1.0 - p)).powi((n1 - k1) as i32);
        let want = lr * first_round_p(n2 - n1, k2 - k1, p);
        let r = round_risks(
            RoundByRound::Providence,
            p,
            0.1,
            &[PairRound { drawn: n1, winner: k1 }, PairRound { drawn: n2, winner: k2 }],
        )
        .expect("valid");
        assert!((r[1].p_value - want).abs() < 1e-12 * want, "{} vs {want}", r[1].p_value);
    }

    #[test]
    fn round_sizes_reach_their_stopping_probability_and_one_fewer_does_not() {
        for m in [RoundByRound::Minerva, RoundByRound::Providence] {
            let sizes = next_round_sizes(m, 0.6, 0.1, &[], &[0.7, 0.8, 0.9], 1_000_000).expect("valid");
            let mut last = 0;
            for s in sizes.iter().map(|s| s.as_ref().expect("reachable")) {
                assert!(s.chance >= s.target);
                let state = PairAudit::new(m, 0.6, 0.1).expect("valid");
                // Nothing in the window below reaches it.
                for n in s.drawn.saturating_sub(20).max(1)..s.drawn {
                    let below = state.chance(n).map_or(0.0, |(_, c)| c);
                    assert!(below < s.target, "{m:?} {}: {below} at {n}", s.drawn);
                }
                assert!(s.drawn >= last);
                last = s.drawn;
            }
        }
    }

    #[test]
    fn bad_questions_are_refused_by_name() {
        let r = |rounds: &[PairRound]| round_risks(RoundByRound::Minerva, 0.6, 0.1, rounds);
        assert_eq!(
            r(&[PairRound { drawn: 10, winner: 5 }, PairRound { drawn: 10, winner: 6 }])
                .expect_err("refused"),
            RoundsError::NotIncreasing { round: 2, drawn: 10, previous: 10 }
        );
        assert!(matches!(
            r(&[PairRound { drawn: 10, winner: 11 }]),
            Err(RoundsError::TooManyWinnerVotes { .. })
        ));
        assert!(matches!(
            r(&[PairRound { drawn: 10, winner: 5 }, PairRound { drawn: 20, winner: 4 }]),
            Err(RoundsError::TallyFell { .. })
        ));
        assert_eq!(
            round_risks(RoundByRound::Minerva, 0.5, 0.1, &[]).expect_err("refused"),
            RoundsError::Share(0.5)
        );
        assert_eq!(
            round_risks(RoundByRound::Minerva, 0.6, 1.0, &[]).expect_err("refused"),
            RoundsError::RiskLimit(1.0)
        );
        assert!(matches!(
            r(&[PairRound { drawn: 100, winner: 100 }, PairRound { drawn: 200, winner: 150 }]),
            Err(RoundsError::AfterStop { round: 2, stopped: 1 })
        ));
    }

    /// Arlo's expected Minerva and Providence p-values (`tests/audit_math/test_minerva.py`
    /// and `test_minerva2.py`, computed there by Athena and r2b2), as the pairwise
    /// samples they hold: (method, the winner's share of the pair, rounds, p-value).
    #[test]
    fn p_values_equal_arlos_test_vectors() {
        let pr = |d, w| PairRound { drawn: d, winner: w };
        let (m, p) = (RoundByRound::Minerva, RoundByRound::Providence);
        let cases: [(RoundByRound, f64, Vec<PairRound>, f64); 9] = [
            (m, 0.6, vec![pr(96, 56)], 0.0933945799801079),
            (m, 0.6, vec![pr(80, 40)], 0.5596434615209632),
            (m, 0.6, vec![pr(80, 40), pr(180, 110)], 0.006382031505998192),
            (m, 2.0 / 3.0, vec![pr(58, 40)], 0.0064653703790821795),
            (m, 2.0 / 3.0, vec![pr(60, 30)], 0.552702598296842),
            (m, 2.0 / 3.0, vec![pr(60, 30), pr(135, 80)], 0.083535346859948),
            (m, 0.51, vec![pr(10090, 5100)], 0.16896200607848647),
            (m, 0.51, vec![pr(10090, 5100), pr(20090, 10200)], 0.03907953348498701),
            (p, 450.0 / 850.0, vec![pr(100, 54), pr(200, 109)], 0.3614293635757271),
        ];
        for (method, share, rounds, want) in cases {
            let got = round_risks(method, share, 0.1, &rounds).expect("valid");
            let last = got.last().expect("a round").p_value;
            assert!((last - want).abs() <= 1e-9 * want, "{method:?} {rounds:?}: {last} vs Arlo's {want}");
        }
        // Every winner vote in a large first round: the tie's tail underflows, risk 0.
        let s = 2_453_876.0 / (2_453_876.0 + 2_358_432.0);
        let got = round_risks(m, s, 0.1, &[pr(17605, 17605)]).expect("valid");
        assert_eq!((got[0].p_value, got[0].stop), (0.0, true));
    }

    #[test]
    fn schedule_work_round_one_is_the_first_rounds_chance_and_adds_up() {
        for m in [RoundByRound::Minerva, RoundByRound::Providence] {
            let size =
                next_round_sizes(m, 0.6, 0.1, &[], &[0.8], 100_000).expect("valid")[0].clone().expect("size");
            let w = schedule_work(m, 0.6, 0.1, &[size.drawn, size.drawn * 2, size.drawn * 3]).expect("valid");
            assert!(
                (w.stop_in_round[0] - size.chance).abs() < 1e-12,
                "{m:?}: {:?} vs {}",
                w.stop_in_round,
                size.chance
            );
            let total: f64 = w.stop_in_round.iter().sum::<f64>() + w.never;
            assert!((total - 1.0).abs() < 1e-9 && w.never < 0.05, "{m:?}: {w:?}");
            assert!(w.expected_drawn > size.drawn as f64 && w.expected_drawn < (size.drawn * 3) as f64);
        }
        // Providence's round 2 from a brute-force sum over round 1's tallies.
        let (p, alpha, n1, n2) = (0.6f64, 0.1, 40u64, 90u64);
        let w = schedule_work(RoundByRound::Providence, p, alpha, &[n1, n2]).expect("valid");
        let a1 = pmf_by_recurrence(n1, p);
        let a2 = pmf_by_recurrence(n2 - n1, p);
        let z2 = pmf_by_recurrence(n2 - n1, 0.5);
        let kmin1 = (n1 / 2 + 1..=n1).find(|&k| first_round_p(n1, k, p) <= alpha).expect("kmin");
        let mut want = 0.0;
        for k1 in 0..kmin1 {
            let sigma = (0.5 / p).powi(k1 as i32) * (0.5 / (1.0 - p)).powi((n1 - k1) as i32);
            for i in 0..=(n2 - n1) {
                let tail = |v: &[f64]| v[i as usize..].iter().sum::<f64>();
                if k1 + i > n2 / 2 && sigma * tail(&z2) / tail(&a2) <= alpha {
                    want += a1[k1 as usize] * a2[i as usize];
                }
            }
        }
        assert!((w.stop_in_round[1] - want).abs() < 1e-12, "{} vs {want}", w.stop_in_round[1]);
    }

    /// Minerva's kmin is the schedule's: found over every tally, also those beyond what the
    /// observed first round can reach in the second.
    #[test]
    fn minerva_kmin_does_not_depend_on_the_observed_tally() {
        let (p, alpha, n1, n2) = (0.7, 0.05, 20u64, 30u64);
        let kmin1 = (n1 / 2 + 1..=n1).find(|&k| first_round_p(n1, k, p) <= alpha).expect("kmin");
        let (a1, z1) = (pmf_by_recurrence(n1, p), pmf_by_recurrence(n1, 0.5));
        let (a2, z2) = (pmf_by_recurrence(n2 - n1, p), pmf_by_recurrence(n2 - n1, 0.5));
        let brute = |k2: u64| {
            let (mut na, mut nz) = (0.0, 0.0);
            for i in 0..kmin1 as usize {
                for j in 0..=(n2 - n1) as usize {
                    if (i + j) as u64 >= k2 {
                        na += a1[i] * a2[j];
                        nz += z1[i] * z2[j];
                    }
                }
            }
            nz / na
        };
        let want = (n2 / 2 + 1..=n2).find(|&k| brute(k) <= alpha);
        for k1 in [2u64, 8, kmin1 - 1] {
            let r = round_risks(
                RoundByRound::Minerva,
                p,
                alpha,
                &[PairRound { drawn: n1, winner: k1 }, PairRound { drawn: n2, winner: k1 + 1 }],
            )
            .expect("valid");
            assert_eq!(r[1].kmin, want, "first round {k1} of {n1}");
        }
        assert!(want.is_some_and(|k| k > 2 + (n2 - n1)), "the case must reach past the first tally");
    }
}
