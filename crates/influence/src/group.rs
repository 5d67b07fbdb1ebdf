//! The group test: ties each too weak to pass the pair test, kept when they lie inside
//! a group far denser than chance allows.
//!
//! The pair test ([`crate::nullmodel`]) controls the false discovery rate over every
//! pair of accounts that shared an item, tens of thousands on a modest collection. An
//! operation that hides (copies hours apart, laundered links, a new hashtag at every
//! push) leaves each of its pairs only a handful of shared items, with p-values around
//! 1e-4 to 1e-6 that this many tests cannot single out. What gives it away is that those
//! weak ties are not scattered: twenty accounts with a hundred of them among their 190
//! pairs, where chance scatters a few dozen over thousands of accounts.
//!
//! The test:
//!
//! * A pair is **suggestive** in a behaviour when its p-value is at most
//!   [`ScanParams::group_alpha`] (default 1e-3); kept pairs count too. Under the null
//!   model a pair is suggestive in one of the `B` tested behaviours with probability at
//!   most `q = B · max(group_alpha, the largest kept p-value)` (synchronised minutes,
//!   the weakest tie, take no part).
//! * Leiden groups the graph of kept and suggestive pairs. For a group of `n` accounts
//!   with `e` of its `M = n(n − 1)/2` pairs suggestive, the chance that `M` independent
//!   pairs give `e` or more is at most `exp(−M · KL(e/M ‖ q))` (the Chernoff bound of the
//!   binomial tail).
//! * Leiden chose the group to be dense, so the bound is multiplied by the number of
//!   groups it could have chosen: every set of `n` of the `N` accounts of the collection,
//!   for any `n` — `N · C(N, n)`. A group whose bound stays below
//!   [`ScanParams::alpha`] is **dense beyond chance**, and its suggestive pairs are kept
//!   as edges (counted in [`crate::BehaviourStats::kept_by_group_test`]).
//!
//! The union over all subsets makes the test conservative: a group needs both size and
//! density (five accounts with eight of their ten pairs suggestive do not pass among
//! 50,000 accounts; twenty with a hundred of their 190 do, by hundreds of orders of
//! magnitude). It adds edges only; every account they tie is still held to the
//! account-level evidence test ([`crate::evidence`]), which is what protects readers of
//! one site and audiences of one event, whose ties are dense for reasons of their own.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::detect::{BehaviourEdges, communities};
use crate::params::{Behaviour, ScanParams};

/// Natural log of the Chernoff bound on `P(Binomial(m, q) ≥ e)`: `−m · KL(e/m ‖ q)` when
/// `e/m > q`, else 0.
pub fn binomial_upper_ln_bound(e: u64, m: u64, q: f64) -> f64 {
    if m == 0 || q >= 1.0 {
        return 0.0;
    }
    let p = (e as f64 / m as f64).min(1.0);
    if p <= q {
        return 0.0;
    }
    if q <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let kl = if p >= 1.0 { -q.ln() } else { p * (p / q).ln() + (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln() };
    -(m as f64) * kl
}

/// ln of the number of groups of `n` among `accounts` that Leiden could have chosen,
/// over every size: `ln N + ln C(N, n)`.
pub fn ln_groups(accounts: u64, n: u64) -> f64 {
    use scrutineer_core::stats::ln_factorial;
    if n > accounts {
        return 0.0;
    }
    (accounts.max(1) as f64).ln() + ln_factorial(accounts) - ln_factorial(n) - ln_factorial(accounts - n)
}

/// Runs the group test on the suggestive pairs of `behaviours` and moves those of dense
/// groups into the kept pairs. Returns the number of pairs kept by it.
pub fn promote(
    behaviours: &mut [BehaviourEdges],
    combined: &[(u32, u32, f64)],
    n_accounts: usize,
    params: &ScanParams,
) -> usize {
    if params.group_alpha <= 0.0 || behaviours.iter().all(|b| b.suggestive.is_empty()) {
        return 0;
    }
    let tested: Vec<&BehaviourEdges> =
        behaviours.iter().filter(|b| b.behaviour != Behaviour::Sync && b.stats.candidate_pairs > 0).collect();
    let largest_kept =
        tested.iter().flat_map(|b| b.pairs.iter().map(|p| p.log10_p)).fold(f64::NEG_INFINITY, f64::max);
    let level = params.group_alpha.max(10f64.powf(largest_kept));
    let q = (tested.len() as f64 * level).min(1.0);

    // Kept and suggestive pairs of the tested behaviours, as one set of account pairs,
    // and the graph Leiden groups: every kept tie (sync included) and the suggestive ones.
    let mut suggestive: FxHashSet<(u32, u32)> = FxHashSet::default();
    let mut graph: FxHashMap<(u32, u32), f64> = combined.iter().map(|&(a, b, w)| ((a, b), w)).collect();
    for b in &tested {
        for p in b.pairs.iter().chain(&b.suggestive) {
            suggestive.insert((p.a, p.b));
        }
        for p in &b.suggestive {
            *graph.entry((p.a, p.b)).or_insert(0.0) += p.shared as f64;
        }
    }
    let mut graph: Vec<(u32, u32, f64)> = graph.into_iter().map(|((a, b), w)| (a, b, w)).collect();
    graph.sort_by_key(|&(a, b, _)| (a, b));
    let groups = communities(n_accounts, &graph, params);

    let ln_alpha = params.alpha.ln();
    let mut group_of: FxHashMap<u32, usize> = FxHashMap::default();
    for (g, c) in groups.iter().enumerate() {
        let n = c.members.len() as u64;
        let members: FxHashSet<u32> = c.members.iter().copied().collect();
        let e = suggestive.iter().filter(|(a, b)| members.contains(a) && members.contains(b)).count() as u64;
        let bound = binomial_upper_ln_bound(e, n * (n - 1) / 2, q) + ln_groups(n_accounts as u64, n);
        if bound <= ln_alpha {
            group_of.extend(c.members.iter().map(|&m| (m, g)));
        }
    }
    if group_of.is_empty() {
        return 0;
    }
    let inside =
        |a: u32, b: u32| matches!((group_of.get(&a), group_of.get(&b)), (Some(x), Some(y)) if x == y);
    let mut total = 0;
    for b in behaviours.iter_mut() {
        let (promoted, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut b.suggestive).into_iter().partition(|p| inside(p.a, p.b));
        b.suggestive = rest;
        if promoted.is_empty() {
            continue;
        }
        let (directed, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut b.suggestive_directed).into_iter().partition(|&(x, y, _)| inside(x, y));
        b.suggestive_directed = rest;
        b.stats.kept_by_group_test += promoted.len();
        b.stats.kept_pairs += promoted.len();
        b.stats.explained_by_chance -= promoted.len();
        b.stats.directed_edges += directed.len();
        total += promoted.len();
        b.pairs.extend(promoted);
        b.pairs.sort_by_key(|p| (p.a, p.b));
        b.directed.extend(directed);
        b.directed.sort_unstable();
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chernoff_bound_lies_above_the_exact_binomial_tail() {
        // Exact tail by summing the probability mass function in logs.
        fn exact_ln(e: u64, m: u64, q: f64) -> f64 {
            use scrutineer_core::stats::ln_factorial;
            let terms: Vec<f64> = (e..=m)
                .map(|k| {
                    ln_factorial(m) - ln_factorial(k) - ln_factorial(m - k)
                        + k as f64 * q.ln()
                        + (m - k) as f64 * (1.0 - q).ln()
                })
                .collect();
            let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
        }
        for &(e, m, q) in
            &[(3u64, 10u64, 0.05), (10, 45, 0.01), (100, 190, 0.005), (5, 1000, 0.001), (45, 45, 0.2)]
        {
            let bound = binomial_upper_ln_bound(e, m, q);
            let exact = exact_ln(e, m, q);
            assert!(bound >= exact - 1e-9, "e={e} m={m} q={q}: bound {bound} below exact {exact}");
            // and not uselessly loose: within a few nats plus a log factor of the tail
            assert!(
                bound <= exact + 2.0 + (m as f64).ln(),
                "e={e} m={m} q={q}: bound {bound}, exact {exact}"
            );
        }
        assert_eq!(binomial_upper_ln_bound(1, 100, 0.05), 0.0);
    }

    #[test]
    fn the_number_of_groups_grows_with_the_collection_and_the_group() {
        assert!((ln_groups(10, 2) - (10f64.ln() + 45f64.ln())).abs() < 1e-9);
        assert!(ln_groups(50_000, 5) > ln_groups(4_000, 5));
        assert!(ln_groups(4_000, 20) > ln_groups(4_000, 5));
    }

    #[test]
    fn a_small_dense_group_among_many_accounts_does_not_pass_and_a_large_one_does() {
        let q = 5.0 * 1e-3;
        let small = binomial_upper_ln_bound(8, 10, q) + ln_groups(50_000, 5);
        let large = binomial_upper_ln_bound(100, 190, q) + ln_groups(50_000, 20);
        assert!(small > 0.01f64.ln(), "small {small}");
        assert!(large < 0.01f64.ln() - 100.0, "large {large}");
    }
}
