//! Hybrid (stratified) audits with SUITE, as Arlo runs them: a stratum of cards with
//! cast-vote records audited by ballot comparison, a stratum without CVRs audited by
//! ballot polling, and the two p-values combined with Fisher's function, maximised over
//! the way the margin may be split between the strata.
//!
//! The method (Ottoboni, Stark, Lindeman and McBurnett, "Risk-limiting audits by
//! stratified union-intersection tests of elections (SUITE)", 2018), for each reported
//! winner–loser pair (w, ℓ) with overall margin V = T_w − T_ℓ:
//!
//! - The null hypothesis splits the margin: the CVR stratum overstates λV of it and the
//!   no-CVR stratum (1 − λ)V. For each λ on a grid between the values the strata's sizes
//!   allow, each stratum gives a p-value, and Fisher's combination
//!   P(λ) = Pr[χ²₄ ≥ −2 (ln p₁ + ln p₂)] (0 when either is 0) is formed; the audit's risk
//!   is the largest P over λ, and over pairs.
//! - CVR stratum (N₁ cards, n₁ sampled): the Kaplan–Markov bound with γ = 1.03905,
//!   U = 2N₁/V: p₁ = (1 − λ/(γU))^{n₁} (1 − 1/(2γ))^{−o₁} (1 − 1/γ)^{−o₂}
//!   (1 + 1/(2γ))^{−u₁} (1 + 1/γ)^{−u₂}, capped at 1; 1 when λ/(γU) ≥ 1, 0 when every
//!   card was sampled. Understatements are not credited (u₁ = u₂ = 0), as in Arlo.
//! - No-CVR stratum (N₂ cards, n₂ sampled without replacement, n_w for w, n_ℓ for ℓ): the
//!   likelihood ratio of the reported totals against the null with stratum margin
//!   (v_w − v_ℓ) − (1 − λ)V, maximised over the null's nuisance parameter (the winner's
//!   null total, found where the log-likelihood's derivative vanishes, by Brent's method,
//!   or at an end of its range); p₂ = min(1, 1/LR).
//! - The grid starts with step 0.05 and is refined around its maximum (step ÷ 10) until
//!   the modulus of continuity of the combination shows the maximum found is within the
//!   distance between the combined statistic and its α quantile.
//! - Sample sizes: the total n is split n₁ = ⌈n N₁/(N₁+N₂)⌉, n₂ = n − n₁; a hypothetical
//!   sample with the misstatement rates and the no-CVR vote shares seen so far (the
//!   reported shares before any sample) is tried at n growing by ×2 (first round) or ×1.1
//!   from max(5, n so far), then bisected until its risk falls within [0.8α, α]. The first
//!   round uses the pair of the weakest winner and strongest loser; later rounds the pair
//!   that needs most. A size reaching a stratum's card count is a full hand count.
//!
//! Arithmetic is f64 (Arlo computes the CVR stratum in 28-digit decimals and the rest in
//! f64); figures agree with Arlo's `suite.py` to float rounding
//! (`scripts/peers-audit-suite.sh`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{AuditError, Result};

/// γ of the Kaplan–Markov bound in the CVR stratum (Stark's tools, CORLA and Arlo).
pub const SUITE_GAMMA: f64 = 1.03905;

/// The smallest total sample a size search starts from.
pub const SUITE_MIN_SAMPLE: u64 = 5;

/// One-vote and two-vote over- and understatements seen in the CVR stratum for one pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Misstatements {
    /// One-vote overstatements.
    pub o1: u64,
    /// Two-vote overstatements.
    pub o2: u64,
    /// One-vote understatements.
    pub u1: u64,
    /// Two-vote understatements.
    pub u2: u64,
}

/// The CVR stratum of one contest: its cards, the reported votes on them, the cards
/// sampled and the misstatements per winner–loser pair.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComparisonStratum {
    /// Cards in the stratum.
    pub ballots: u64,
    /// Reported votes per choice in the stratum.
    pub totals: BTreeMap<String, u64>,
    /// Cards sampled so far.
    pub sample_size: u64,
    /// Misstatements per pair: winner → loser → counts (a pair not listed has none).
    pub misstatements: BTreeMap<String, BTreeMap<String, Misstatements>>,
}

impl ComparisonStratum {
    /// The misstatements recorded for (winner, loser).
    pub fn pair(&self, winner: &str, loser: &str) -> Misstatements {
        self.misstatements.get(winner).and_then(|m| m.get(loser)).copied().unwrap_or_default()
    }
}

/// The no-CVR stratum of one contest: its cards, the reported votes, the cards sampled
/// and the votes read on them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PollingStratum {
    /// Cards in the stratum.
    pub ballots: u64,
    /// Reported votes per choice in the stratum.
    pub totals: BTreeMap<String, u64>,
    /// Cards sampled so far.
    pub sample_size: u64,
    /// Votes per choice on the sampled cards.
    pub sample: BTreeMap<String, u64>,
}

/// A contest as SUITE sees it: the overall totals and the reported winners and losers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteContest {
    /// The contest's name.
    pub name: String,
    /// Overall reported votes per choice.
    pub totals: BTreeMap<String, u64>,
    /// Reported winners, most votes first.
    pub winners: Vec<String>,
    /// Reported losers, most votes first.
    pub losers: Vec<String>,
    /// Cards in both strata.
    pub ballots: u64,
}

impl SuiteContest {
    /// A contest with `winners` winners: the choices with most votes (ties broken by name).
    pub fn new(name: &str, totals: BTreeMap<String, u64>, winners: usize, ballots: u64) -> SuiteContest {
        let mut order: Vec<&String> = totals.keys().collect();
        order.sort_by(|a, b| totals[*b].cmp(&totals[*a]).then_with(|| a.cmp(b)));
        let (w, l) = order.split_at(winners.min(order.len()));
        SuiteContest {
            name: name.to_owned(),
            winners: w.iter().map(|s| (*s).clone()).collect(),
            losers: l.iter().map(|s| (*s).clone()).collect(),
            totals,
            ballots,
        }
    }

    fn votes(&self, choice: &str) -> u64 {
        self.totals.get(choice).copied().unwrap_or(0)
    }

    /// The reported margin of (winner, loser), in votes.
    pub fn margin(&self, winner: &str, loser: &str) -> i64 {
        self.votes(winner) as i64 - self.votes(loser) as i64
    }
}

fn get(m: &BTreeMap<String, u64>, k: &str) -> i64 {
    m.get(k).copied().unwrap_or(0) as i64
}

/// The CVR stratum's p-value for (winner, loser) under the null that it overstates
/// `null_lambda` of the overall margin `reported_margin`.
pub fn comparison_pvalue(
    stratum: &ComparisonStratum,
    reported_margin: f64,
    winner: &str,
    loser: &str,
    null_lambda: f64,
) -> f64 {
    if stratum.sample_size == 0 || reported_margin == 0.0 {
        return 1.0;
    }
    if stratum.sample_size == stratum.ballots {
        return 0.0;
    }
    let m = stratum.pair(winner, loser);
    let u = 2.0 * stratum.ballots as f64 / reported_margin;
    let x = null_lambda / (SUITE_GAMMA * u);
    if x >= 1.0 {
        // The null needs more overstatement than the stratum can hold.
        return 1.0;
    }
    let g = SUITE_GAMMA;
    let log_p = stratum.sample_size as f64 * (-x).ln_1p()
        - m.o1 as f64 * (-1.0 / (2.0 * g)).ln_1p()
        - m.o2 as f64 * (-1.0 / g).ln_1p()
        - m.u1 as f64 * (1.0 / (2.0 * g)).ln_1p()
        - m.u2 as f64 * (1.0 / g).ln_1p();
    log_p.exp().min(1.0)
}

/// Σ_{i<n} ln(a − i).
fn sum_ln(a: f64, n: i64) -> f64 {
    (0..n.max(0)).map(|i| (a - i as f64).ln()).sum()
}

/// Σ_{i<n} 1/(a − i).
fn sum_inv(a: f64, n: i64) -> f64 {
    (0..n.max(0)).map(|i| 1.0 / (a - i as f64)).sum()
}

/// The no-CVR stratum's p-value for (winner, loser) under the null that its margin is
/// (v_w − v_ℓ) − `null_lambda` × `reported_margin`.
pub fn polling_pvalue(
    stratum: &PollingStratum,
    reported_margin: f64,
    winner: &str,
    loser: &str,
    null_lambda: f64,
) -> f64 {
    if stratum.sample_size == 0 || reported_margin == 0.0 {
        return 1.0;
    }
    let n = stratum.ballots as i64;
    let (n_w, n_l) = (get(&stratum.sample, winner), get(&stratum.sample, loser));
    let n_u = stratum.sample_size as i64 - n_w - n_l;
    let (v_w, v_l) = (get(&stratum.totals, winner), get(&stratum.totals, loser));
    let v_u = n - v_w - v_l;
    let null_margin = (v_w - v_l) as f64 - null_lambda * reported_margin;
    if !(v_w >= n_w && v_l >= n_l && v_u >= n_u) {
        return 1.0;
    }
    let alt = sum_ln(v_w as f64, n_w) + sum_ln(v_l as f64, n_l) + sum_ln(v_u as f64, n_u);
    let nf = n as f64;
    let null_log = |nw: f64| {
        (if n_w > 0 { sum_ln(nw, n_w) } else { 0.0 })
            + (if n_l > 0 { sum_ln(nw - null_margin, n_l) } else { 0.0 })
            + (if n_u > 0 { sum_ln(nf - 2.0 * nw + null_margin, n_u) } else { 0.0 })
    };
    let upper = (nf - n_u as f64 + null_margin) / 2.0;
    let lower = (n_w as f64).max(n_l as f64 + null_margin);
    // A null margin the sample cannot have come from.
    if upper < n_w as f64 || upper - null_margin < n_l as f64 {
        return 0.0;
    }
    let derivative = |nw: f64| {
        sum_inv(nw, n_w) + sum_inv(nw - null_margin, n_l) - 2.0 * sum_inv(nf - 2.0 * nw + null_margin, n_u)
    };
    let nuisance = if derivative(upper) * derivative(lower) > 0.0 {
        if null_log(upper) >= null_log(lower) { upper } else { lower }
    } else {
        brent_root(derivative, lower, upper)
    };
    let lr = (alt - null_log(nuisance)).exp();
    (1.0 / lr).min(1.0)
}

/// A root of `f` in [a, b] (signs differ or one end is a root), by Brent's method with
/// the tolerances of SciPy's `brentq` (xtol 2e-12, rtol 4ε, 100 iterations).
fn brent_root(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const XTOL: f64 = 2e-12;
    const RTOL: f64 = 4.0 * f64::EPSILON;
    let (mut xpre, mut xcur) = (a, b);
    let (mut fpre, mut fcur) = (f(xpre), f(xcur));
    if fpre == 0.0 {
        return xpre;
    }
    if fcur == 0.0 {
        return xcur;
    }
    let (mut xblk, mut fblk, mut spre, mut scur) = (0.0, 0.0, 0.0, 0.0);
    for _ in 0..100 {
        if fpre != 0.0 && fcur != 0.0 && (fpre.signum() != fcur.signum()) {
            xblk = xpre;
            fblk = fpre;
            spre = xcur - xpre;
            scur = spre;
        }
        if fblk.abs() < fcur.abs() {
            xpre = xcur;
            xcur = xblk;
            xblk = xpre;
            fpre = fcur;
            fcur = fblk;
            fblk = fpre;
        }
        let delta = (XTOL + RTOL * xcur.abs()) / 2.0;
        let sbis = (xblk - xcur) / 2.0;
        if fcur == 0.0 || sbis.abs() < delta {
            return xcur;
        }
        if spre.abs() > delta && fcur.abs() < fpre.abs() {
            let stry = if xpre == xblk {
                -fcur * (xcur - xpre) / (fcur - fpre)
            } else {
                let dpre = (fpre - fcur) / (xpre - xcur);
                let dblk = (fblk - fcur) / (xblk - xcur);
                -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            };
            if 2.0 * stry.abs() < spre.abs().min(3.0 * sbis.abs() - delta) {
                spre = scur;
                scur = stry;
            } else {
                spre = sbis;
                scur = sbis;
            }
        } else {
            spre = sbis;
            scur = sbis;
        }
        xpre = xcur;
        fpre = fcur;
        if scur.abs() > delta {
            xcur += scur;
        } else {
            xcur += if sbis > 0.0 { delta } else { -delta };
        }
        fcur = f(xcur);
    }
    xcur
}

/// Pr[χ²₄ ≥ x], as 1 − cdf in f64 (the way Arlo forms it, so tiny values round alike).
fn chi2_4_sf(x: f64) -> f64 {
    let t = x / 2.0;
    let sf = (-t).exp() * (1.0 + t);
    1.0 - (1.0 - sf)
}

/// The x with Pr[χ²₄ ≤ x] = q (∞ at q = 1), by bisection on the closed form.
fn chi2_4_ppf(q: f64) -> f64 {
    let s = 1.0 - q;
    if s <= 0.0 {
        return f64::INFINITY;
    }
    if s >= 1.0 {
        return 0.0;
    }
    let sf = |t: f64| (-t).exp() * (1.0 + t);
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while sf(hi) > s {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        if sf(mid) > s { lo = mid } else { hi = mid }
    }
    2.0 * (lo + hi) / 2.0
}

/// NumPy's `arange(start, stop, step)`: ⌈(stop − start)/step⌉ values start + i·Δ, with
/// Δ = (start + step) − start.
fn arange(start: f64, stop: f64, step: f64) -> Vec<f64> {
    let len = ((stop - start) / step).ceil();
    if len.is_nan() || len <= 0.0 {
        return Vec::new();
    }
    let delta = (start + step) - start;
    (0..len as usize).map(|i| start + i as f64 * delta).collect()
}

/// The combined risk of one pair: the largest Fisher combination over the split λ, and
/// the λ where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairRisk {
    /// The maximised combined p-value.
    pub pvalue: f64,
    /// The share of the margin the null puts in the CVR stratum at the maximum.
    pub lambda: f64,
}

/// Fisher's combined p-value for (winner, loser), maximised over λ (SUITE's grid search
/// with its modulus-of-continuity stop). Err when the strata's totals do not add up to
/// the contest's margin.
pub fn fisher_combined_pvalue(
    alpha: f64,
    contest: &SuiteContest,
    cvr: &ComparisonStratum,
    no_cvr: &PollingStratum,
    winner: &str,
    loser: &str,
) -> Result<PairRisk> {
    let (cw, cl) = (get(&cvr.totals, winner), get(&cvr.totals, loser));
    let (bw, bl) = (get(&no_cvr.totals, winner), get(&no_cvr.totals, loser));
    let v = cw - cl + bw - bl;
    let reported = contest.margin(winner, loser);
    if v != reported {
        return Err(AuditError::Invalid(format!(
            "contest '{}': the strata's margins of {winner} over {loser} add to {v}, the contest's is {reported}",
            contest.name
        )));
    }
    if v == 0 {
        return Ok(PairRisk { pvalue: 1.0, lambda: 0.0 });
    }
    let (n1, n2) = (cvr.ballots as i64, no_cvr.ballots as i64);
    let vf = v as f64;
    let mut lambda_lower = ((cw - cl - n1).max(v - (bw - bl + n2))) as f64 / vf;
    let mut lambda_upper = ((cw - cl + n1).min(v - (bw - bl - n2))) as f64 / vf;
    let (wn, ln) = (get(&no_cvr.sample, winner) as f64, get(&no_cvr.sample, loser) as f64);
    let un = no_cvr.sample_size as f64 - wn - ln;
    let margin = reported as f64;
    let modulus = |delta: f64| {
        let t2 = 2.0 * cvr.sample_size as f64 * (1.0 + margin * delta / (2.0 * n1 as f64 * SUITE_GAMMA)).ln();
        2.0 * wn * (1.0 + margin * delta).ln()
            + 2.0 * ln * (1.0 + margin * delta).ln()
            + 2.0 * un * (1.0 + 2.0 * margin * delta).ln()
            + t2
    };
    let mut step = 0.05;
    // The refinement shrinks the step tenfold each pass: well before 40 passes the step
    // is below f64 resolution and the modulus is 0.
    for _ in 0..40 {
        let mut lambdas = arange(lambda_lower, lambda_upper + step, step);
        if lambdas.len() < 5 {
            // Arlo widens a short range this way (the +1 included).
            step = (lambda_upper + 1.0 - lambda_lower) / 5.0;
            lambdas = arange(lambda_lower, lambda_upper + step, step);
        }
        let mut best = PairRisk { pvalue: f64::NEG_INFINITY, lambda: lambda_lower };
        for &l in &lambdas {
            let p1 = comparison_pvalue(cvr, margin, winner, loser, l).min(1.0);
            let p2 = polling_pvalue(no_cvr, margin, winner, loser, 1.0 - l).min(1.0);
            let p = if p1 == 0.0 || p2 == 0.0 { 0.0 } else { chi2_4_sf(-2.0 * (p1.ln() + p2.ln())) };
            if p > best.pvalue {
                best = PairRisk { pvalue: p, lambda: l };
            }
        }
        if lambdas.is_empty() {
            return Ok(PairRisk { pvalue: 1.0, lambda: 0.0 });
        }
        if best.pvalue > alpha {
            return Ok(PairRisk { pvalue: best.pvalue.min(1.0), ..best });
        }
        let dist = (chi2_4_ppf(1.0 - best.pvalue) - chi2_4_ppf(1.0 - alpha)).abs();
        if modulus(step) <= dist {
            return Ok(PairRisk { pvalue: best.pvalue.min(1.0), ..best });
        }
        lambda_lower = best.lambda - 2.0 * step;
        lambda_upper = best.lambda + 2.0 * step;
        step /= 10.0;
    }
    Err(AuditError::Invalid(format!(
        "contest '{}': the combined p-value of {winner} over {loser} did not settle",
        contest.name
    )))
}

/// A contest's combined risk: the largest pair risk, and its pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteRisk {
    /// The risk (the largest combined p-value over pairs).
    pub pvalue: f64,
    /// The pair with that risk.
    pub winner: String,
    /// The pair's loser.
    pub loser: String,
    /// λ at the pair's maximum.
    pub lambda: f64,
}

/// The risk of a contest over all its winner–loser pairs. When a stratum has been
/// sampled in full its votes are known: the other stratum's p-value is taken at the
/// share of the margin that stratum must then hold (Arlo refuses this case).
pub fn suite_risk(
    alpha: f64,
    contest: &SuiteContest,
    cvr: &ComparisonStratum,
    no_cvr: &PollingStratum,
) -> Result<SuiteRisk> {
    let mut worst: Option<SuiteRisk> = None;
    for w in &contest.winners {
        for l in &contest.losers {
            let margin = contest.margin(w, l) as f64;
            let cvr_done = cvr.sample_size >= cvr.ballots;
            let bp_done = no_cvr.sample_size >= no_cvr.ballots;
            let r = if cvr_done && bp_done {
                PairRisk { pvalue: 0.0, lambda: 0.0 }
            } else if bp_done {
                // Known no-CVR margin: the CVR stratum must overstate the rest.
                let known = get(&no_cvr.sample, w) - get(&no_cvr.sample, l);
                let lambda = if margin == 0.0 { 1.0 } else { (margin - known as f64) / margin };
                let p = if lambda <= 0.0 { 1.0 } else { comparison_pvalue(cvr, margin, w, l, lambda) };
                PairRisk { pvalue: p, lambda }
            } else if cvr_done {
                let lambda = 0.0;
                PairRisk { pvalue: polling_pvalue(no_cvr, margin, w, l, 1.0 - lambda), lambda }
            } else {
                fisher_combined_pvalue(alpha, contest, cvr, no_cvr, w, l)?
            };
            if worst.as_ref().is_none_or(|x| r.pvalue > x.pvalue) {
                worst = Some(SuiteRisk {
                    pvalue: r.pvalue,
                    winner: w.clone(),
                    loser: l.clone(),
                    lambda: r.lambda,
                });
            }
        }
    }
    Ok(worst.unwrap_or(SuiteRisk { pvalue: 0.0, winner: String::new(), loser: String::new(), lambda: 0.0 }))
}

/// The risk of the hypothetical sample of `n` cards in all (SUITE's `try_n`).
fn try_n(
    n: u64,
    alpha: f64,
    contest: &SuiteContest,
    (winner, loser): (&str, &str),
    cvr: &ComparisonStratum,
    no_cvr: &PollingStratum,
    n_ratio: f64,
) -> Result<f64> {
    let n1_orig = cvr.sample_size;
    let n2_orig = no_cvr.sample_size;
    let m = cvr.pair(winner, loser);
    let rate = |x: u64| if n1_orig != 0 { x as f64 / n1_orig as f64 } else { 0.0 };
    let n1 = (n_ratio * n as f64).ceil() as u64;
    let n2 = n as i64 - n1 as i64;
    if n1 < n1_orig || n2 < n2_orig as i64 {
        return Ok(1.0);
    }
    let extra = n as f64 - n1_orig as f64;
    let hyp = Misstatements {
        o1: (rate(m.o1) * extra).ceil() as u64 + m.o1,
        o2: (rate(m.o2) * extra).ceil() as u64 + m.o2,
        u1: (rate(m.u1) * extra).floor() as u64 + m.u1,
        u2: (rate(m.u2) * extra).floor() as u64 + m.u2,
    };
    let mut hyp_cvr = ComparisonStratum {
        ballots: cvr.ballots,
        totals: cvr.totals.clone(),
        sample_size: n1,
        misstatements: BTreeMap::new(),
    };
    hyp_cvr.misstatements.entry(winner.to_owned()).or_default().insert(loser.to_owned(), hyp);
    let n2f = n2 as f64;
    let (vw, vl) = (get(&no_cvr.totals, winner), get(&no_cvr.totals, loser));
    let (add_w, add_l) = if n2_orig == 0 {
        let b = no_cvr.ballots as f64;
        (((n2f * (vw as f64 / b)) as i64).min(vw), ((n2f * (vl as f64 / b)).ceil() as i64).min(vl))
    } else {
        let grown = (n2 - n2_orig as i64) as f64;
        let p = n2_orig as f64;
        (
            ((grown * (get(&no_cvr.sample, winner) as f64 / p)) as i64).min(vw),
            ((grown * (get(&no_cvr.sample, loser) as f64 / p)).ceil() as i64).min(vl),
        )
    };
    let mut sample = no_cvr.sample.clone();
    *sample.entry(winner.to_owned()).or_default() = (get(&no_cvr.sample, winner) + add_w).max(0) as u64;
    *sample.entry(loser.to_owned()).or_default() = (get(&no_cvr.sample, loser) + add_l).max(0) as u64;
    let hyp_bp = PollingStratum {
        ballots: no_cvr.ballots,
        totals: no_cvr.totals.clone(),
        sample_size: (n2.max(0) as u64).min(no_cvr.ballots),
        sample,
    };
    Ok(fisher_combined_pvalue(alpha, contest, &hyp_cvr, &hyp_bp, winner, loser)?.pvalue)
}

/// Cards to sample in each stratum (cumulative, counting those already sampled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HybridSize {
    /// Cards of the CVR stratum.
    pub cvr: u64,
    /// Cards of the no-CVR stratum.
    pub no_cvr: u64,
    /// The search reached a stratum's every card: the contest needs a full hand count.
    pub full_hand_count: bool,
}

fn size_for_pair(
    alpha: f64,
    contest: &SuiteContest,
    cvr: &ComparisonStratum,
    no_cvr: &PollingStratum,
    winner: &str,
    loser: &str,
) -> Result<(u64, u64)> {
    let n_ratio = cvr.ballots as f64 / (cvr.ballots + no_cvr.ballots) as f64;
    let mut n = SUITE_MIN_SAMPLE.max(cvr.sample_size + no_cvr.sample_size);
    let coefficient = if cvr.sample_size == 0 && no_cvr.sample_size == 0 { 2.0 } else { 1.1 };
    let mut p = 1.0;
    while p > alpha {
        n = (coefficient * n as f64) as u64;
        if n > contest.ballots {
            let c = (n_ratio * contest.ballots as f64).ceil() as u64;
            return Ok((c, contest.ballots.saturating_sub(c)));
        }
        p = try_n(n, alpha, contest, (winner, loser), cvr, no_cvr, n_ratio)?;
    }
    let mut low = n as f64 / coefficient;
    let mut high = n as f64;
    let mut mid_p = 1.0;
    while mid_p > alpha || mid_p < 0.8 * alpha {
        let mid = ((low + high) / 2.0).floor();
        if mid == low || mid == high {
            break;
        }
        mid_p = try_n(mid as u64, alpha, contest, (winner, loser), cvr, no_cvr, n_ratio)?;
        if mid_p <= alpha {
            high = mid;
        } else {
            low = mid;
        }
    }
    let c = (n_ratio * high).ceil() as u64;
    Ok((c, (high - c as f64).ceil().max(0.0) as u64))
}

/// The cumulative sample sizes of both strata for the next round of a contest.
pub fn suite_sample_size(
    alpha: f64,
    contest: &SuiteContest,
    cvr: &ComparisonStratum,
    no_cvr: &PollingStratum,
) -> Result<HybridSize> {
    let pick = if cvr.sample_size == 0 && no_cvr.sample_size == 0 {
        // The weakest winner and strongest loser (first of equals in list order).
        let w = contest.winners.iter().min_by_key(|w| contest.votes(w));
        let l = contest.losers.iter().rev().max_by_key(|l| contest.votes(l));
        match (w, l) {
            (Some(w), Some(l)) => size_for_pair(alpha, contest, cvr, no_cvr, w, l)?,
            _ => return Ok(HybridSize { cvr: 0, no_cvr: 0, full_hand_count: false }),
        }
    } else {
        let mut best: Option<(u64, u64)> = None;
        for w in &contest.winners {
            for l in &contest.losers {
                let s = size_for_pair(alpha, contest, cvr, no_cvr, w, l)?;
                if best.is_none_or(|b| s.0 + s.1 > b.0 + b.1) {
                    best = Some(s);
                }
            }
        }
        match best {
            Some(b) => b,
            None => return Ok(HybridSize { cvr: 0, no_cvr: 0, full_hand_count: false }),
        }
    };
    let full = pick.0 >= cvr.ballots || pick.1 >= no_cvr.ballots;
    Ok(HybridSize { cvr: pick.0.min(cvr.ballots), no_cvr: pick.1.min(no_cvr.ballots), full_hand_count: full })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ln_choose_falling(a: f64, n: i64) -> f64 {
        (0..n).map(|i| (a - i as f64).ln()).sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        // The polling p-value maximises the null likelihood over a continuous nuisance
        // parameter: it is at least the brute-force maximum over whole vote counts, and
        // not far above it.
        #[test]
        fn polling_pvalue_bounds_the_whole_number_maximum(
            n in 40u64..400, w_share in 0.3f64..0.7, l_share in 0.1f64..0.3,
            frac in 0.05f64..0.5, lambda in 0.0f64..1.0, seed in 0u64..1000,
        ) {
            let v_w = (n as f64 * w_share) as i64;
            let v_l = ((n as f64 * l_share) as i64).min(n as i64 - v_w);
            let m = ((n as f64 * frac) as i64).max(1);
            // A sample in proportion, nudged by the seed.
            let s_w = ((m as f64 * w_share) as i64 + (seed % 3) as i64 - 1).clamp(0, v_w.min(m));
            let s_l = ((m as f64 * l_share) as i64).clamp(0, v_l.min(m - s_w));
            let st = PollingStratum {
                ballots: n,
                totals: [("w".to_owned(), v_w as u64), ("l".to_owned(), v_l as u64)].into(),
                sample_size: m as u64,
                sample: [("w".to_owned(), s_w as u64), ("l".to_owned(), s_l as u64)].into(),
            };
            let margin = (v_w - v_l) as f64 + 40.0;
            let p = polling_pvalue(&st, margin, "w", "l", lambda);
            let null_margin = (v_w - v_l) as f64 - lambda * margin;
            let s_u = m - s_w - s_l;
            let alt = ln_choose_falling(v_w as f64, s_w) + ln_choose_falling(v_l as f64, s_l)
                + ln_choose_falling((n as i64 - v_w - v_l) as f64, s_u);
            // Null totals with N_w − N_ℓ = null_margin: N_w + N_ℓ ≤ n.
            let mut best = f64::NEG_INFINITY;
            let mut nw = null_margin.max(0.0).ceil();
            while 2.0 * nw - null_margin <= n as f64 {
                let nl = nw - null_margin;
                let nu = n as f64 - nw - nl;
                if nw >= s_w as f64 && nl >= s_l as f64 && nu >= s_u as f64 {
                    let ll = ln_choose_falling(nw, s_w) + ln_choose_falling(nl, s_l) + ln_choose_falling(nu, s_u);
                    best = best.max(ll);
                }
                nw += 1.0;
            }
            if best.is_finite() && null_margin.fract() == 0.0 {
                let discrete = (best - alt).exp().min(1.0);
                prop_assert!(p >= discrete * (1.0 - 1e-9), "p {p} below the whole-number maximum {discrete}");
            }
            prop_assert!((0.0..=1.0).contains(&p));
        }

        // The maximised Fisher combination is at least the combination at any λ of the
        // range (the search's modulus-of-continuity guarantee, with its slack).
        #[test]
        fn combined_pvalue_is_a_maximum(
            n1 in 500u64..5000, n2 in 100u64..2000, lead in 0.02f64..0.2,
            s1 in 10u64..300, s2 in 10u64..100, probe in 0.0f64..1.0,
        ) {
            let (cw, cl) = ((n1 as f64 * (0.45 + lead)) as u64, (n1 as f64 * 0.45) as u64);
            let (bw, bl) = ((n2 as f64 * (0.45 + lead)) as u64, (n2 as f64 * 0.45) as u64);
            let totals: BTreeMap<String, u64> = [("w".to_owned(), cw + bw), ("l".to_owned(), cl + bl)].into();
            let contest = SuiteContest::new("c", totals, 1, n1 + n2);
            let cvr = ComparisonStratum {
                ballots: n1,
                totals: [("w".to_owned(), cw), ("l".to_owned(), cl)].into(),
                sample_size: s1.min(n1 - 1),
                misstatements: BTreeMap::new(),
            };
            let m = s2.min(n2 - 1);
            let bp = PollingStratum {
                ballots: n2,
                totals: [("w".to_owned(), bw), ("l".to_owned(), bl)].into(),
                sample_size: m,
                sample: [("w".to_owned(), (m as f64 * (0.45 + lead)) as u64), ("l".to_owned(), (m as f64 * 0.45) as u64)].into(),
            };
            let r = fisher_combined_pvalue(0.05, &contest, &cvr, &bp, "w", "l").expect("adds up");
            let v = (cw + bw) as f64 - (cl + bl) as f64;
            let lo = ((cw as f64 - cl as f64 - n1 as f64).max(v - (bw as f64 - bl as f64 + n2 as f64))) / v;
            let hi = ((cw as f64 - cl as f64 + n1 as f64).min(v - (bw as f64 - bl as f64 - n2 as f64))) / v;
            let l = lo + probe * (hi - lo);
            let p1 = comparison_pvalue(&cvr, v, "w", "l", l);
            let p2 = polling_pvalue(&bp, v, "w", "l", 1.0 - l);
            let at = if p1 == 0.0 || p2 == 0.0 { 0.0 } else { chi2_4_sf(-2.0 * (p1.ln() + p2.ln())) };
            if r.pvalue <= 0.05 {
                // Below α the search refines until no λ can lift the combination over α.
                prop_assert!(at <= 0.05 + 1e-9, "λ {l}: {at} above α while the maximum found is {}", r.pvalue);
            } else {
                prop_assert!(at <= r.pvalue + 0.05, "λ {l}: {at} far above the maximum {}", r.pvalue);
            }
        }
    }

    #[test]
    fn chi2_quantile_inverts_the_tail() {
        for &x in &[0.1, 1.0, 4.0, 9.49, 20.0, 60.0] {
            let q = 1.0 - (-x / 2.0_f64).exp() * (1.0 + x / 2.0);
            assert!((chi2_4_ppf(q) - x).abs() < 1e-6 * x.max(1.0), "{x}");
        }
    }

    #[test]
    fn brent_finds_a_root() {
        let r = brent_root(|x| x * x * x - 2.0 * x - 5.0, 2.0, 3.0);
        assert!((r * r * r - 2.0 * r - 5.0).abs() < 1e-9);
    }
}
