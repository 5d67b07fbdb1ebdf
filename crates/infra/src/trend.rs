//! Is activity ramping up? Daily and weekly counts per jurisdiction, and a one-sided
//! Poisson rate-ratio test of the most recent weeks against the weeks before.
//!
//! Under "no change", weekly counts are Poisson with one rate, so given the total `n`
//! of the recent `k` weeks and the `b` baseline weeks, the recent count is
//! Binomial(`n`, `k/(k+b)`). The p-value is the upper tail `P(X >= recent)`: the chance
//! of at least this much recent activity if nothing changed. A ramp-up is reported when
//! `p < alpha` (default 0.01: about one false alarm in a hundred flat series tested) and
//! the rate ratio is at least [`MIN_RATIO`] (so that a tiny, merely significant rise on
//! a huge baseline is not called a ramp-up). The test is exact; the only assumption is
//! the Poisson one, which over-dispersed series (bursty weeks) violate in the direction
//! of more false alarms, hence the ratio floor.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use scrutineer_core::stats::ln_factorial;
use serde::Serialize;

/// Smallest recent/baseline weekly-rate ratio called a ramp-up.
pub const MIN_RATIO: f64 = 1.5;
/// Default significance level.
pub const ALPHA: f64 = 0.01;

/// Counts per day for one series (a jurisdiction or all of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DailySeries {
    /// Count per day that had any.
    pub days: BTreeMap<NaiveDate, u64>,
}

impl DailySeries {
    /// Adds `n` to the day's count.
    pub fn add(&mut self, day: NaiveDate, n: u64) {
        *self.days.entry(day).or_default() += n;
    }

    /// Weekly totals in 7-day windows ending on `last` (the final window is the most
    /// recent complete week), oldest first, starting with the window holding the first
    /// day seen.
    pub fn weekly(&self, last: NaiveDate) -> Vec<(NaiveDate, u64)> {
        let Some((&first, _)) = self.days.iter().next() else { return Vec::new() };
        let span = (last - first).num_days().max(0);
        let weeks = span / 7 + 1;
        let mut out = Vec::with_capacity(weeks as usize);
        for w in (0..weeks).rev() {
            let end = last - Duration::days(7 * w);
            let start = end - Duration::days(6);
            let n = self.days.range(start..=end).map(|(_, n)| *n).sum();
            out.push((start, n));
        }
        out
    }
}

/// The outcome of the ramp-up test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RampTest {
    /// Weeks in the recent window.
    pub recent_weeks: usize,
    /// Weeks before it (the baseline).
    pub baseline_weeks: usize,
    /// Events in the recent weeks.
    pub recent: u64,
    /// Events in the baseline weeks.
    pub baseline: u64,
    /// Recent weekly rate over baseline weekly rate (infinite when the baseline is 0).
    pub ratio: f64,
    /// One-sided p-value: the chance of at least this many recent events if the rate
    /// did not change.
    pub p_value: f64,
    /// The significance level tested at.
    pub alpha: f64,
    /// `p_value < alpha` and `ratio >= MIN_RATIO`.
    pub ramp_up: bool,
}

/// Tests the last `k` weekly counts against all the earlier ones.
pub fn ramp_test(weekly: &[u64], k: usize, alpha: f64) -> Option<RampTest> {
    if k == 0 || weekly.len() <= k {
        return None;
    }
    let (base, recent) = weekly.split_at(weekly.len() - k);
    let b = base.len();
    let x: u64 = recent.iter().sum();
    let y: u64 = base.iter().sum();
    let n = x + y;
    let p0 = k as f64 / (k + b) as f64;
    let p_value = if n == 0 { 1.0 } else { binomial_upper_tail(n, x, p0) };
    let ratio = if y == 0 {
        if x == 0 { 1.0 } else { f64::INFINITY }
    } else {
        (x as f64 / k as f64) / (y as f64 / b as f64)
    };
    Some(RampTest {
        recent_weeks: k,
        baseline_weeks: b,
        recent: x,
        baseline: y,
        ratio,
        p_value,
        alpha,
        ramp_up: p_value < alpha && ratio >= MIN_RATIO,
    })
}

/// `P(X >= x)` for `X ~ Binomial(n, p)`, summed in log space.
pub fn binomial_upper_tail(n: u64, x: u64, p: f64) -> f64 {
    if x == 0 {
        return 1.0;
    }
    if x > n {
        return 0.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let ln_n = ln_factorial(n);
    let mut total = 0.0;
    let mut max_term = f64::NEG_INFINITY;
    for i in x..=n {
        let lt = ln_n - ln_factorial(i) - ln_factorial(n - i) + i as f64 * lp + (n - i) as f64 * lq;
        max_term = max_term.max(lt);
        let t = lt.exp();
        total += t;
        // Past the mode, terms only shrink: stop once they no longer matter.
        if lt < max_term - 40.0 {
            break;
        }
    }
    total.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_series_is_not_a_ramp_up() {
        let weekly = [100, 97, 104, 99, 101, 98, 103, 100, 96, 102];
        let t = ramp_test(&weekly, 2, ALPHA).expect("test");
        assert!(!t.ramp_up, "{t:?}");
        assert!(t.p_value > 0.1, "{t:?}");
    }

    #[test]
    fn doubling_in_the_last_two_weeks_is_a_ramp_up() {
        let weekly = [100, 97, 104, 99, 101, 98, 103, 100, 200, 205];
        let t = ramp_test(&weekly, 2, ALPHA).expect("test");
        assert!(t.ramp_up, "{t:?}");
        assert!(t.p_value < 1e-6, "{t:?}");
        assert!((t.ratio - 2.03).abs() < 0.05, "{t:?}");
    }

    #[test]
    fn tail_matches_direct_sums() {
        // P(X >= 3), X ~ Bin(5, 0.5) = 16/32.
        assert!((binomial_upper_tail(5, 3, 0.5) - 0.5).abs() < 1e-9);
        // P(X >= 1), X ~ Bin(10, 0.1) = 1 - 0.9^10.
        assert!((binomial_upper_tail(10, 1, 0.1) - (1.0 - 0.9f64.powi(10))).abs() < 1e-9);
        assert!((ln_factorial(10) - 3_628_800f64.ln()).abs() < 1e-9);
    }

    /// Flat weekly series, Poisson(`mean`) each week, from a fixed LCG.
    fn flat_series(seed: u64, trials: usize, weeks: usize, mean: f64) -> Vec<Vec<u64>> {
        let mut state = seed;
        let mut uniform = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64) / ((1u64 << 53) as f64)
        };
        let l = (-mean).exp();
        (0..trials)
            .map(|_| {
                (0..weeks)
                    .map(|_| {
                        // Knuth's Poisson sampler.
                        let mut k = 0;
                        let mut p = 1.0;
                        loop {
                            p *= uniform();
                            if p <= l {
                                break k;
                            }
                            k += 1;
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Share of the series whose p-value is below `level`.
    fn share_below(series: &[Vec<u64>], level: f64) -> f64 {
        let below =
            series.iter().filter(|w| ramp_test(w, 2, ALPHA).is_some_and(|t| t.p_value < level)).count();
        below as f64 / series.len() as f64
    }

    #[test]
    fn p_value_is_calibrated_on_flat_series() {
        // Under "no change" an exact (conservative) test has P(p < a) <= a for every a,
        // and close to a when the counts are large enough for the binomial to be nearly
        // continuous. Measured on the p-value itself, not on `ramp_up`: the 1.5x ratio
        // floor alone already removes every alarm on Poisson(50) weeks, so a p-value that
        // is always 0 (or always 1) would pass a test of `ramp_up` and fails this one.
        let trials = 4000;
        let series = flat_series(42, trials, 12, 50.0);
        for level in [0.01, 0.05, 0.2, 0.5] {
            let share = share_below(&series, level);
            // Three binomial standard errors of the share, above and below.
            let se = (level * (1.0 - level) / trials as f64).sqrt();
            assert!(share <= level + 3.0 * se, "P(p < {level}) = {share}: too many alarms");
            assert!(share >= 0.8 * level - 3.0 * se, "P(p < {level}) = {share}: too few alarms");
        }
    }

    #[test]
    fn false_alarm_rate_where_the_ratio_floor_does_not_bind_is_at_most_alpha() {
        // Poisson(3) weeks: any p < alpha needs a recent rate well above 1.5x, so the
        // floor removes no alarm and `ramp_up` is the p-value's decision alone.
        let trials = 4000;
        let series = flat_series(7, trials, 12, 3.0);
        let mut significant = 0;
        let mut alarms = 0;
        for w in &series {
            let t = ramp_test(w, 2, ALPHA).expect("12 weeks");
            significant += usize::from(t.p_value < ALPHA);
            alarms += usize::from(t.ramp_up);
        }
        assert_eq!(alarms, significant, "the ratio floor bound: pick a smaller mean");
        let rate = alarms as f64 / trials as f64;
        let se = (ALPHA * (1.0 - ALPHA) / trials as f64).sqrt();
        assert!(rate <= ALPHA + 3.0 * se, "{alarms} false alarms in {trials} flat series");
        assert!(alarms > 0, "no alarm at all in {trials} series: the p-value cannot be below alpha");
    }

    #[test]
    fn ratio_floor_removes_alarms_on_large_flat_series() {
        // Poisson(50) weeks: what the floor is for. Significant-but-small rises may occur;
        // none is reported.
        let series = flat_series(42, 2000, 12, 50.0);
        assert!(series.iter().all(|w| !ramp_test(w, 2, ALPHA).expect("12 weeks").ramp_up));
    }

    #[test]
    fn weekly_windows_end_on_the_last_day() {
        let mut s = DailySeries::default();
        let d0 = NaiveDate::from_ymd_opt(2024, 10, 1).expect("date");
        for i in 0..21 {
            s.add(d0 + Duration::days(i), 1);
        }
        let w = s.weekly(d0 + Duration::days(20));
        assert_eq!(w.iter().map(|(_, n)| *n).collect::<Vec<_>>(), vec![7, 7, 7]);
    }
}
