//! Detection: from a [`Corpus`] to filtered behaviour edges and ranked networks.

use std::time::Instant;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::cooccur::{CoOccurrence, co_occurrence};
use crate::corpus::{Action, Corpus};
use crate::evidence::{AccountEvidence, CommunityEvidence, Pruned};
use crate::minhash::{
    Banding, DisjointSets, candidate_pairs, intersection_size, jaccard, matching_components,
};
use crate::nullmodel::{expected_shared, poisson_upper_log10};
use crate::params::{Behaviour, EdgeFilter, ScanParams};

/// A kept pair of one behaviour (undirected, `a < b`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairEdge {
    pub a: u32,
    pub b: u32,
    /// Distinct items (or minutes, for sync) the two shared within the window.
    pub shared: u32,
    /// Expected shared count under the null model.
    pub expected: f64,
    /// log10 of the Poisson tail probability of `shared` given `expected`.
    pub log10_p: f64,
}

/// Counts that say what the filter did; the run summary stores them as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BehaviourStats {
    /// Actions of this behaviour.
    pub actions: usize,
    /// Pairs of accounts that shared an item.
    pub candidate_pairs: usize,
    /// Pairs below the minimum shared count.
    pub below_min_count: usize,
    /// Pairs whose overlap chance explains.
    pub explained_by_chance: usize,
    /// Pairs kept.
    pub kept_pairs: usize,
    /// Directed edges kept.
    pub directed_edges: usize,
    /// log10 of the per-pair significance level used (α / M); `None` when not finite
    /// (no pair to test), which JSON cannot hold.
    pub log10_threshold: Option<f64>,
    /// Near-duplicate texts merged into another text's item (co_tweet only).
    pub near_duplicates_merged: usize,
    /// LSH buckets too large to compare (background), skipped.
    pub crowded_buckets_skipped: usize,
    /// Items shared by more accounts than the crowd limit: in the null model, not paired.
    pub crowd_items_skipped: usize,
    /// Of `kept_pairs`, those that failed the pair test alone but were kept by the group
    /// test (see the crate README): ties inside a group far denser than chance allows.
    #[serde(default)]
    pub kept_by_group_test: usize,
}

/// The edges of one behaviour after filtering.
#[derive(Debug, Clone, Serialize)]
pub struct BehaviourEdges {
    pub behaviour: Behaviour,
    /// `(a, b, w(a→b))`, only pairs whose undirected edge was kept and `w ≥ min_count`.
    pub directed: Vec<(u32, u32, u32)>,
    pub pairs: Vec<PairEdge>,
    pub stats: BehaviourStats,
    /// Pairs the pair test did not keep whose p-value is still below
    /// [`ScanParams::group_alpha`], with their directed weights: the group test's input.
    #[serde(skip)]
    pub suggestive: Vec<PairEdge>,
    #[serde(skip)]
    pub suggestive_directed: Vec<(u32, u32, u32)>,
    /// Actions of this behaviour with items after near-duplicate merging, kept for
    /// evidence (what each network shared), sorted by item. Actions of items acted on
    /// once are left out (evidence is what accounts shared) unless near-duplicate texts
    /// were merged.
    #[serde(skip)]
    pub actions: Vec<Action>,
}

impl BehaviourEdges {
    /// The evidence actions sorted by item: detection leaves them so, and they are sorted
    /// into a copy only if not.
    pub fn actions_by_item(&self) -> std::borrow::Cow<'_, [Action]> {
        if self.actions.is_sorted_by_key(|a| a.item) {
            std::borrow::Cow::Borrowed(&self.actions)
        } else {
            let mut copy = self.actions.clone();
            copy.sort_unstable_by_key(|a| a.item);
            std::borrow::Cow::Owned(copy)
        }
    }
}

/// A community in the multiplex network.
#[derive(Debug, Clone, Serialize)]
pub struct Community {
    pub members: Vec<u32>,
}

pub struct Detection {
    /// Seconds per stage (the explaining stages are added by [`crate::analyse`]).
    pub times: StageTimes,
    pub behaviours: Vec<BehaviourEdges>,
    /// Combined undirected weights `(a, b, Σ shared)` over kept pairs of all behaviours.
    pub combined: Vec<(u32, u32, f64)>,
    /// Communities of at least the minimum size, largest first, after the account-level
    /// test ([`crate::evidence`]).
    pub communities: Vec<Community>,
    /// What each placed account's placement rests on.
    pub evidence: FxHashMap<u32, AccountEvidence>,
    /// Per community (same order as `communities`): totals for the benign explanations.
    pub community_evidence: Vec<CommunityEvidence>,
    /// Accounts Leiden placed that the account-level test removed, with the reason.
    pub pruned: Vec<Pruned>,
}

/// Seconds per stage of [`analyse`](crate::analyse), so that a benchmark shows where a
/// scan's time goes. The behaviours run side by side, so their per-behaviour stages
/// (`key`, `count`, `filter`) are sums over behaviours and may exceed the wall time they
/// took together (`behaviours`); the other stages run one after another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimes {
    /// Keying the actions: merging near-duplicate texts into one item, setting apart the
    /// items acted on once (summed over behaviours).
    pub key: f64,
    /// Counting co-occurrences per account pair within the window (summed over behaviours).
    pub count: f64,
    /// The chance filter: the pair tests and the false-discovery control (summed over
    /// behaviours).
    pub filter: f64,
    /// Wall time of the behaviours' key, count and filter stages together.
    pub behaviours: f64,
    /// Combining the behaviours' edges and the group test.
    pub group: f64,
    /// Leiden communities.
    pub communities: f64,
    /// The account-level test (pruning to a fixed point).
    pub prune: f64,
    /// Explaining and ranking the networks (attribution, benign explanations).
    pub explain: f64,
    /// Who led inside each network and the cross-platform spread.
    pub lead_and_spread: f64,
}

/// Runs every enabled behaviour, the filter, and community detection.
pub fn detect(corpus: &mut Corpus, params: &ScanParams) -> Detection {
    let n_accounts = corpus.accounts.len();
    let mut times = StageTimes::default();
    let started = Instant::now();
    let mut merge_seconds = 0.0;
    // Each behaviour's input, taken out of the corpus: actions (near-duplicate texts merged
    // first, which needs the corpus) or, for sync, active minutes; and (texts merged,
    // crowded buckets skipped).
    type Input = (Behaviour, Vec<Action>, Vec<(u32, u32)>, Option<(usize, usize)>);
    let mut inputs: Vec<Input> = Vec::new();
    for b in Behaviour::ALL {
        if !params.has(b) {
            continue;
        }
        let mut actions = Vec::new();
        let mut minutes = Vec::new();
        let mut merged = None;
        if b == Behaviour::Sync {
            minutes = std::mem::take(&mut corpus.minutes);
        } else {
            actions = std::mem::take(&mut corpus.actions[b.index()]);
            if b == Behaviour::CoTweet && params.text_similarity < 1.0 {
                let begun = Instant::now();
                merged = Some(merge_near_duplicates(corpus, &mut actions, params));
                merge_seconds += begun.elapsed().as_secs_f64();
            }
        }
        inputs.push((b, actions, minutes, merged));
    }
    let corpus: &Corpus = corpus;
    // The behaviours are independent, so they run side by side: one's serial stretches
    // (item statistics, merging counts) overlap another's parallel scan.
    let timed: Vec<(BehaviourEdges, [f64; 3])> = inputs
        .into_par_iter()
        .map(|(b, mut actions, minutes, merged)| match b {
            Behaviour::Sync => {
                let begun = Instant::now();
                let e = sync_edges(minutes, params);
                // Sync's minutes are counted and tested in one pass.
                (e, [0.0, begun.elapsed().as_secs_f64(), 0.0])
            }
            _ => {
                let begun = Instant::now();
                // Most items are acted on once; only the rest need sorting and scanning.
                // Merging near-duplicates joins items, so then every action stays.
                let singles = if merged.is_none() { corpus.take_singles(&mut actions) } else { Vec::new() };
                let merged = merged.unwrap_or_default();
                let keyed = begun.elapsed().as_secs_f64();
                // Only links and single hashtags can put several items in one post.
                let posts_may_repeat = matches!(b, Behaviour::CoLink | Behaviour::CoTag);
                let co = co_occurrence(
                    &mut actions,
                    &singles,
                    params.window_secs,
                    n_accounts,
                    params.max_item_accounts,
                    posts_may_repeat,
                );
                let counted = begun.elapsed().as_secs_f64();
                // Links are read by site: the co-link test also expects what reading the same
                // sites gives (see `sitenull`).
                let sites = (b == Behaviour::CoLink)
                    .then(|| crate::sitenull::SiteReading::from_actions(corpus, &actions));
                let mut e = filter_edges(b, co, params, actions.len() + singles.len(), sites.as_ref());
                e.stats.near_duplicates_merged = merged.0;
                e.stats.crowded_buckets_skipped = merged.1;
                e.actions = actions;
                let filtered = begun.elapsed().as_secs_f64();
                (e, [keyed, counted - keyed, filtered - counted])
            }
        })
        .collect();
    let mut behaviours = Vec::with_capacity(timed.len());
    times.key = merge_seconds;
    for (e, [key, count, filter]) in timed {
        times.key += key;
        times.count += count;
        times.filter += filter;
        behaviours.push(e);
    }
    times.behaviours = started.elapsed().as_secs_f64();
    let mut begun = Instant::now();
    let lap = |begun: &mut Instant| {
        let s = begun.elapsed().as_secs_f64();
        *begun = Instant::now();
        s
    };
    let mut combined = combine(&behaviours);
    if crate::group::promote(&mut behaviours, &combined, n_accounts, params) > 0 {
        combined = combine(&behaviours);
    }
    times.group = lap(&mut begun);
    let communities = communities(n_accounts, &combined, params);
    times.communities = lap(&mut begun);
    let placement = crate::evidence::prune(corpus, &behaviours, communities, params);
    times.prune = lap(&mut begun);
    Detection {
        times,
        behaviours,
        combined,
        communities: placement.communities,
        evidence: placement.evidence,
        community_evidence: placement.per_community,
        pruned: placement.pruned,
    }
}

fn filter_edges(
    behaviour: Behaviour,
    co: CoOccurrence,
    params: &ScanParams,
    n_actions: usize,
    sites: Option<&crate::sitenull::SiteReading>,
) -> BehaviourEdges {
    let mut stats = BehaviourStats {
        actions: n_actions,
        candidate_pairs: co.shared.len(),
        crowd_items_skipped: co.crowd_items,
        ..Default::default()
    };
    // Directed weights by pair, to apply the minimum count in either direction.
    let mut max_directed: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    for &(a, b, w) in &co.directed {
        let key = (a.min(b), a.max(b));
        let e = max_directed.entry(key).or_insert(0);
        *e = (*e).max(w);
    }

    let mut tested = Vec::new();
    for &(a, b, x) in &co.shared {
        let w = max_directed.get(&(a, b)).copied().unwrap_or(0);
        if w < params.min_count {
            stats.below_min_count += 1;
            continue;
        }
        let expected = expected_shared(
            co.items_per_account[a as usize],
            co.items_per_account[b as usize],
            co.crowding[a as usize],
            co.crowding[b as usize],
            co.incidences,
        ) + sites.map_or(0.0, |s| s.expected(a, b));
        let log10_p = poisson_upper_log10(x, expected);
        tested.push(PairEdge { a, b, shared: x, expected, log10_p });
    }
    let (pairs, threshold, suggestive) = apply_filter(tested, params, co.shared.len(), &mut stats);
    stats.log10_threshold = threshold.is_finite().then_some(threshold);
    stats.kept_pairs = pairs.len();
    let kept: rustc_hash::FxHashSet<(u32, u32)> = pairs.iter().map(|p| (p.a, p.b)).collect();
    let weak: rustc_hash::FxHashSet<(u32, u32)> = suggestive.iter().map(|p| (p.a, p.b)).collect();
    let mut directed = Vec::new();
    let mut suggestive_directed = Vec::new();
    for (a, b, w) in co.directed {
        if w < params.min_count {
            continue;
        }
        let key = (a.min(b), a.max(b));
        if kept.contains(&key) {
            directed.push((a, b, w));
        } else if weak.contains(&key) {
            suggestive_directed.push((a, b, w));
        }
    }
    stats.directed_edges = directed.len();
    BehaviourEdges { behaviour, directed, pairs, stats, suggestive, suggestive_directed, actions: Vec::new() }
}

/// Merges co-tweet items whose texts are near-duplicates (Jaccard ≥ threshold over word
/// sets), rewriting the actions' items to one representative per cluster. Returns the
/// number of texts merged and of crowded buckets skipped.
fn merge_near_duplicates(corpus: &mut Corpus, actions: &mut [Action], params: &ScanParams) -> (usize, usize) {
    let mut items: Vec<u64> = corpus
        .text_tokens
        .iter()
        .filter(|(_, t)| t.len() >= params.min_tokens_near_dup)
        .map(|(k, _)| *k)
        .collect();
    items.sort_unstable();
    if items.len() < 2 {
        return (0, 0);
    }
    let sets: Vec<&[u32]> = items.iter().map(|k| corpus.text_tokens[k].as_slice()).collect();
    let similarity = params.text_similarity;
    let (mut dsu, skipped) =
        matching_components(&sets, Banding { bands: 5, rows: 4 }, params.seed, 500, |i, j| {
            let (a, b) = (sets[i as usize], sets[j as usize]);
            // Jaccard is at most the smaller set's size over the larger's: sets of very
            // different sizes are told apart without intersecting them.
            let (short, long) = (a.len().min(b.len()), a.len().max(b.len()));
            (short as f64) >= similarity * long as f64 && jaccard(a, b) >= similarity
        });
    let mut remap: FxHashMap<u64, u64> = FxHashMap::default();
    for i in 0..items.len() as u32 {
        let root = dsu.find(i);
        if root != i {
            remap.insert(items[i as usize], items[root as usize]);
        }
    }
    for a in actions.iter_mut() {
        if let Some(&r) = remap.get(&a.item) {
            a.item = r;
        }
    }
    // The token sets are no longer needed; free them before the heavy stages.
    corpus.text_tokens = FxHashMap::default();
    (remap.len(), skipped)
}

/// Synchronised activity: accounts active in the same minutes far more than chance.
/// Minutes are the items; candidate pairs come from MinHash over each account's set of
/// active minutes; the exact overlap is tested with the same null model.
fn sync_edges(mut minutes: Vec<(u32, u32)>, params: &ScanParams) -> BehaviourEdges {
    minutes.par_sort_unstable();
    minutes.dedup();
    let mut stats = BehaviourStats { actions: minutes.len(), ..Default::default() };

    // Per-account minute lists (CSR) of eligible accounts.
    let mut eligible: Vec<u32> = Vec::new();
    let mut offsets: Vec<usize> = vec![0];
    let mut flat: Vec<u32> = Vec::new();
    let mut i = 0;
    while i < minutes.len() {
        let a = minutes[i].0;
        let mut j = i;
        while j < minutes.len() && minutes[j].0 == a {
            j += 1;
        }
        if (j - i) as u32 >= params.sync_min_minutes {
            eligible.push(a);
            flat.extend(minutes[i..j].iter().map(|&(_, m)| m));
            offsets.push(flat.len());
        }
        i = j;
    }
    drop(minutes);
    let sets: Vec<&[u32]> = (0..eligible.len()).map(|k| &flat[offsets[k]..offsets[k + 1]]).collect();

    let mut per_minute: FxHashMap<u32, u32> = FxHashMap::default();
    for s in &sets {
        for &m in *s {
            *per_minute.entry(m).or_insert(0) += 1;
        }
    }
    let incidences: f64 = per_minute.values().map(|&d| d as f64).sum();
    let crowding: Vec<f64> = sets
        .iter()
        .map(|s| s.iter().map(|m| per_minute.get(m).copied().unwrap_or(1) as f64 - 1.0).sum())
        .collect();

    let (candidates, skipped) =
        candidate_pairs(&sets, Banding { bands: 10, rows: 2 }, params.seed ^ 0x5eed, 200);
    stats.candidate_pairs = candidates.len();
    stats.crowded_buckets_skipped = skipped;
    let tested: Vec<Option<PairEdge>> = candidates
        .par_iter()
        .map(|&(i, j)| {
            let (si, sj) = (sets[i as usize], sets[j as usize]);
            let x = intersection_size(si, sj) as u32;
            if x < params.sync_min_count {
                return None;
            }
            let expected = expected_shared(
                si.len() as u32,
                sj.len() as u32,
                crowding[i as usize],
                crowding[j as usize],
                incidences,
            );
            let log10_p = poisson_upper_log10(x, expected);
            let (a, b) = (eligible[i as usize], eligible[j as usize]);
            Some(PairEdge { a: a.min(b), b: a.max(b), shared: x, expected, log10_p })
        })
        .collect();
    let mut kept_candidates = Vec::new();
    for t in tested {
        match t {
            None => stats.below_min_count += 1,
            Some(p) => kept_candidates.push(p),
        }
    }
    // Synchronised minutes are the weakest tie and give no account evidence: they take no
    // part in the group test.
    let (pairs, threshold, _) = apply_filter(kept_candidates, params, stats.candidate_pairs, &mut stats);
    stats.log10_threshold = threshold.is_finite().then_some(threshold);
    stats.kept_pairs = pairs.len();
    let mut directed: Vec<(u32, u32, u32)> =
        pairs.iter().flat_map(|p| [(p.a, p.b, p.shared), (p.b, p.a, p.shared)]).collect();
    directed.sort_unstable();
    stats.directed_edges = directed.len();
    BehaviourEdges {
        behaviour: Behaviour::Sync,
        directed,
        pairs,
        stats,
        suggestive: Vec::new(),
        suggestive_directed: Vec::new(),
        actions: Vec::new(),
    }
}

/// Applies the edge filter to tested pairs; `m` is the number of pairs tested (pairs
/// that share nothing cannot pass and are not counted). Returns the kept pairs and the
/// log10 p-value threshold that was used, and the pairs it dropped whose p-value is
/// still below the group test's level ([`ScanParams::group_alpha`]).
fn apply_filter(
    mut tested: Vec<PairEdge>,
    params: &ScanParams,
    m: usize,
    stats: &mut BehaviourStats,
) -> (Vec<PairEdge>, f64, Vec<PairEdge>) {
    let m = m.max(1) as f64;
    let threshold = match params.edge_filter {
        EdgeFilter::None => 0.0,
        EdgeFilter::Bonferroni => (params.alpha / m).log10(),
        EdgeFilter::Poisson => {
            // Benjamini–Hochberg: the largest k with p_(k) ≤ k α / m.
            tested.sort_by(|x, y| x.log10_p.total_cmp(&y.log10_p));
            let mut cut = f64::NEG_INFINITY;
            for (k, p) in tested.iter().enumerate() {
                let bound = ((k + 1) as f64 * params.alpha / m).log10();
                if p.log10_p <= bound {
                    cut = bound;
                }
            }
            cut
        }
    };
    let before = tested.len();
    let group_level = if params.group_alpha > 0.0 { params.group_alpha.log10() } else { f64::NEG_INFINITY };
    let (mut tested, dropped): (Vec<PairEdge>, Vec<PairEdge>) =
        tested.into_iter().partition(|p| p.log10_p <= threshold);
    stats.explained_by_chance += before - tested.len();
    let mut suggestive: Vec<PairEdge> = dropped.into_iter().filter(|p| p.log10_p <= group_level).collect();
    tested.sort_by_key(|p| (p.a, p.b));
    suggestive.sort_by_key(|p| (p.a, p.b));
    (tested, threshold, suggestive)
}

/// Sums kept pairs across behaviours into one undirected weighted graph.
pub(crate) fn combine(behaviours: &[BehaviourEdges]) -> Vec<(u32, u32, f64)> {
    let mut acc: FxHashMap<(u32, u32), f64> = FxHashMap::default();
    for b in behaviours {
        for p in &b.pairs {
            *acc.entry((p.a, p.b)).or_insert(0.0) += p.shared as f64;
        }
    }
    let mut out: Vec<(u32, u32, f64)> = acc.into_iter().map(|((a, b), w)| (a, b, w)).collect();
    out.sort_by_key(|&(a, b, _)| (a, b));
    out
}

/// Leiden (modularity, seeded) on the combined graph; communities below the minimum
/// size are dropped.
pub(crate) fn communities(
    n_accounts: usize,
    combined: &[(u32, u32, f64)],
    params: &ScanParams,
) -> Vec<Community> {
    if combined.is_empty() {
        return Vec::new();
    }
    // Re-index the accounts that have edges, so isolated accounts cost nothing.
    let mut local: FxHashMap<u32, usize> = FxHashMap::default();
    let mut global: Vec<u32> = Vec::new();
    for &(a, b, _) in combined {
        for x in [a, b] {
            local.entry(x).or_insert_with(|| {
                global.push(x);
                global.len() - 1
            });
        }
    }
    let _ = n_accounts;
    let mut builder = leiden_rs::GraphDataBuilder::new(global.len());
    for &(a, b, w) in combined {
        // Indices come from `local` and weights are positive counts, so this cannot fail.
        let _ = builder.add_edge(local[&a], local[&b], w);
    }
    let membership: Vec<usize> = match builder.build() {
        Ok(graph) => {
            let config = leiden_rs::LeidenConfig {
                seed: Some(params.seed),
                resolution: params.resolution,
                quality: leiden_rs::QualityType::Modularity,
                ..Default::default()
            };
            match leiden_rs::Leiden::new(config).run(&graph) {
                Ok(result) => (0..global.len()).map(|v| result.partition.community_of(v)).collect(),
                Err(_) => connected_components(global.len(), combined, &local),
            }
        }
        Err(_) => connected_components(global.len(), combined, &local),
    };
    let mut groups: FxHashMap<usize, Vec<u32>> = FxHashMap::default();
    for (v, c) in membership.into_iter().enumerate() {
        groups.entry(c).or_default().push(global[v]);
    }
    let mut out: Vec<Community> = groups
        .into_values()
        .filter(|m| m.len() >= params.min_network_size)
        .map(|mut members| {
            members.sort_unstable();
            Community { members }
        })
        .collect();
    out.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.members.cmp(&b.members)));
    out
}

/// Fallback partition if the Leiden library reports an error: components of the graph.
fn connected_components(n: usize, combined: &[(u32, u32, f64)], local: &FxHashMap<u32, usize>) -> Vec<usize> {
    let mut dsu = DisjointSets::new(n);
    for &(a, b, _) in combined {
        dsu.union(local[&a] as u32, local[&b] as u32);
    }
    (0..n as u32).map(|v| dsu.find(v) as usize).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::post::{Post, PostKind};

    /// SplitMix64, so every case is the same on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn pair(a: u32, b: u32, p: f64) -> PairEdge {
        PairEdge { a, b, shared: 1, expected: 0.0, log10_p: p.log10() }
    }

    fn filter(p_values: &[f64], m: usize, edge_filter: EdgeFilter, alpha: f64) -> (BTreeSet<u32>, usize) {
        let tested: Vec<PairEdge> =
            p_values.iter().enumerate().map(|(i, &p)| pair(i as u32, 1000, p)).collect();
        let params = ScanParams { edge_filter, alpha, ..ScanParams::default() };
        let mut stats = BehaviourStats::default();
        let (kept, _, _) = apply_filter(tested, &params, m, &mut stats);
        (kept.iter().map(|p| p.a).collect(), stats.explained_by_chance)
    }

    /// Benjamini–Hochberg as its paper states it, in plain probabilities: sort the
    /// p-values, find the largest rank k with p_(k) ≤ k α / m, reject the k smallest.
    fn benjamini_hochberg(p_values: &[f64], m: usize, alpha: f64) -> BTreeSet<u32> {
        let mut order: Vec<usize> = (0..p_values.len()).collect();
        order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
        let k = (1..=order.len()).rev().find(|&k| p_values[order[k - 1]] <= k as f64 * alpha / m as f64);
        order.iter().take(k.unwrap_or(0)).map(|&i| i as u32).collect()
    }

    #[test]
    fn benjamini_hochberg_on_a_worked_example() {
        // Ten p-values at α = 0.05: the bounds k α / m are 0.005, 0.010, 0.015, ...; only
        // the two smallest lie under theirs (0.039 > 0.015 and nothing later catches up).
        let p = [0.216, 0.001, 0.039, 0.008, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212];
        let (kept, dropped) = filter(&p, p.len(), EdgeFilter::Poisson, 0.05);
        assert_eq!(kept, BTreeSet::from([1, 3]));
        assert_eq!(dropped, 8);
        // A later p-value under its bound rescues every smaller one, even those above
        // their own bounds: 0.02 ≤ 4 × 0.05 / 10 keeps 0.011 and 0.012 as well.
        let p = [0.001, 0.011, 0.012, 0.02, 0.5];
        let (kept, _) = filter(&p, 10, EdgeFilter::Poisson, 0.05);
        assert_eq!(kept, BTreeSet::from([0, 1, 2, 3]));
        // Pairs not tested still count in m: the same p-values among 1,000 pairs keep one.
        let (kept, _) = filter(&p, 1000, EdgeFilter::Poisson, 0.05);
        assert_eq!(kept, BTreeSet::new());
        let (kept, _) = filter(&[1e-6, 0.001], 1000, EdgeFilter::Poisson, 0.05);
        assert_eq!(kept, BTreeSet::from([0]));
    }

    #[test]
    fn poisson_filter_is_benjamini_hochberg_and_bonferroni_is_alpha_over_m() {
        let mut rng = Rng(11);
        for case in 0..400 {
            let n = 1 + rng.below(60) as usize;
            let m = n + rng.below(200) as usize;
            let alpha = [0.01, 0.05, 0.2][case % 3];
            // A mix of strong signals and uniform noise, as real pairs are; every other
            // case with p-values scattered about their own bounds k α / m, where the
            // largest passing rank is often not the first to fail.
            let p: Vec<f64> = if case % 2 == 0 {
                (0..n)
                    .map(|_| if rng.below(3) == 0 { rng.unit() * 1e-4 } else { rng.unit().max(1e-300) })
                    .collect()
            } else {
                (0..n).map(|k| (k + 1) as f64 * alpha / m as f64 * (0.5 + rng.unit())).collect()
            };
            let (kept, dropped) = filter(&p, m, EdgeFilter::Poisson, alpha);
            assert_eq!(kept, benjamini_hochberg(&p, m, alpha), "case {case}: p = {p:?}, m = {m}");
            assert_eq!(kept.len() + dropped, n);
            let (kept, _) = filter(&p, m, EdgeFilter::Bonferroni, alpha);
            let want: BTreeSet<u32> = (0..n as u32).filter(|&i| p[i as usize] <= alpha / m as f64).collect();
            assert_eq!(kept, want, "case {case}");
            let (kept, dropped) = filter(&p, m, EdgeFilter::None, alpha);
            assert_eq!((kept.len(), dropped), (n, 0));
        }
    }

    /// The null model's inputs recomputed from the definition: each eligible account's
    /// distinct minutes, the number of eligible accounts active in each minute.
    fn sync_by_brute_force(minutes: &[(u32, u32)], params: &ScanParams) -> BTreeMap<(u32, u32), (u32, f64)> {
        let mut sets: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
        for &(a, m) in minutes {
            sets.entry(a).or_default().insert(m);
        }
        sets.retain(|_, s| s.len() as u32 >= params.sync_min_minutes);
        let mut active: BTreeMap<u32, u32> = BTreeMap::new();
        for s in sets.values() {
            for &m in s {
                *active.entry(m).or_default() += 1;
            }
        }
        let incidences: f64 = active.values().map(|&d| f64::from(d)).sum();
        let crowding = |s: &BTreeSet<u32>| s.iter().map(|m| f64::from(active[m] - 1)).sum::<f64>();
        let mut out = BTreeMap::new();
        for (&a, sa) in &sets {
            for (&b, sb) in sets.range(a + 1..) {
                let shared = sa.intersection(sb).count() as u32;
                if shared >= params.sync_min_count {
                    let expected = expected_shared(
                        sa.len() as u32,
                        sb.len() as u32,
                        crowding(sa),
                        crowding(sb),
                        incidences,
                    );
                    out.insert((a, b), (shared, expected));
                }
            }
        }
        out
    }

    #[test]
    fn sync_edges_match_a_brute_force_count_over_minute_sets() {
        let mut rng = Rng(5);
        for case in 0..20 {
            let mut minutes = Vec::new();
            // Teams active in the same minutes (each member misses a few), and loners
            // active in random minutes of the same day, some of them briefly.
            let mut account = 0u32;
            for _ in 0..3 {
                let shared: Vec<u32> = (0..30).map(|_| rng.below(1440) as u32).collect();
                for _ in 0..4 {
                    for &m in &shared {
                        if rng.below(10) != 0 {
                            minutes.push((account, m));
                        }
                    }
                    account += 1;
                }
            }
            for _ in 0..30 {
                for _ in 0..rng.below(40) {
                    minutes.push((account, rng.below(1440) as u32));
                }
                account += 1;
            }
            // Repeats of a minute count once.
            minutes.extend_from_slice(&minutes.clone()[..20]);
            let params = ScanParams { edge_filter: EdgeFilter::None, seed: case, ..ScanParams::default() };
            let want = sync_by_brute_force(&minutes, &params);
            let got = sync_edges(minutes.clone(), &params);
            // MinHash proposes the candidates, so a pair of unlike accounts may go
            // unproposed; every pair it reports must be exact, and no team pair missed.
            for p in &got.pairs {
                let (shared, expected) =
                    want.get(&(p.a, p.b)).unwrap_or_else(|| panic!("case {case}: {p:?}"));
                assert_eq!(p.shared, *shared, "case {case}: {p:?}");
                assert!((p.expected - expected).abs() <= 1e-9 * expected.max(1.0), "case {case}: {p:?}");
                assert_eq!(p.log10_p, poisson_upper_log10(p.shared, p.expected));
            }
            for a in 0..12u32 {
                for b in a + 1..12 {
                    if a / 4 == b / 4 {
                        assert!(
                            got.pairs.iter().any(|p| (p.a, p.b) == (a, b)),
                            "case {case}: team pair {a}-{b}"
                        );
                    }
                }
            }
            let s = &got.stats;
            assert_eq!(s.below_min_count + s.explained_by_chance + s.kept_pairs, s.candidate_pairs);
            assert_eq!(s.directed_edges, 2 * s.kept_pairs);
            let distinct: BTreeSet<(u32, u32)> = minutes.iter().copied().collect();
            assert_eq!(s.actions, distinct.len());

            // With the default filter, the teams stay and no loner is tied to anyone.
            let params = ScanParams { seed: case, ..ScanParams::default() };
            let got = sync_edges(minutes, &params);
            assert!(got.pairs.iter().all(|p| p.b < 12 && p.a / 4 == p.b / 4), "case {case}: {:?}", got.pairs);
            assert_eq!(got.pairs.len(), 3 * 6, "case {case}");
        }
    }

    fn at(t: i64) -> chrono::DateTime<Utc> {
        Utc.timestamp_opt(t, 0).single().expect("valid time")
    }

    #[test]
    fn co_hashtag_pairs_match_a_direct_computation() {
        let tags =
            ["Vote", "vote", "#Election2024", "fraud", "Fraud", "#", "", "rigged", "MAGA", "stopthesteal"];
        let window = 3600;
        let mut rng = Rng(3);
        for case in 0..10 {
            let mut posts = Vec::new();
            for k in 0..300 {
                let account = format!("acct{}", rng.below(25));
                let t = 1_725_148_800 + rng.below(4 * 86_400) as i64;
                let kind = if rng.below(5) == 0 { PostKind::Retweet } else { PostKind::Original };
                let mut post = Post::new(&account, at(t), kind, format!("post {k}"));
                post.hashtags = (0..rng.below(4))
                    .map(|_| tags[rng.below(tags.len() as u64) as usize].to_string())
                    .collect();
                if kind == PostKind::Retweet {
                    post.retweeted_id = Some(format!("orig{k}"));
                }
                posts.push(post);
            }
            // Directly: the set of lower-cased tags without `#` of each original post,
            // and per pair of accounts the distinct sets both posted within the window.
            let items: Vec<(String, i64, BTreeSet<String>)> = posts
                .iter()
                .filter(|p| p.kind != PostKind::Retweet)
                .map(|p| {
                    let set: BTreeSet<String> = p
                        .hashtags
                        .iter()
                        .map(|t| t.trim_start_matches('#').to_lowercase())
                        .filter(|t| !t.is_empty())
                        .collect();
                    (p.account.clone(), p.time.timestamp(), set)
                })
                .filter(|(_, _, set)| !set.is_empty())
                .collect();
            let mut want: BTreeMap<(String, String), BTreeSet<&BTreeSet<String>>> = BTreeMap::new();
            for x in &items {
                for y in &items {
                    if x.0 < y.0 && x.2 == y.2 && (x.1 - y.1).abs() <= window {
                        want.entry((x.0.clone(), y.0.clone())).or_default().insert(&x.2);
                    }
                }
            }
            let want: BTreeMap<(String, String), u32> =
                want.into_iter().map(|(k, sets)| (k, sets.len() as u32)).collect();

            let params = ScanParams {
                behaviours: vec![Behaviour::CoHashtag],
                window_secs: window,
                min_count: 1,
                edge_filter: EdgeFilter::None,
                ..ScanParams::default()
            };
            let mut corpus = Corpus::new(&params);
            for p in posts {
                corpus.add(p);
            }
            let detection = detect(&mut corpus, &params);
            assert_eq!(detection.behaviours.len(), 1);
            let got: BTreeMap<(String, String), u32> = detection.behaviours[0]
                .pairs
                .iter()
                .map(|p| {
                    let (a, b) = (corpus.account_key(p.a).to_owned(), corpus.account_key(p.b).to_owned());
                    (if a < b { (a, b) } else { (b, a) }, p.shared)
                })
                .collect();
            assert!(!want.is_empty(), "case {case}: the case must pair someone");
            assert_eq!(got, want, "case {case}");
        }
    }

    #[test]
    fn leiden_recovers_planted_cliques() {
        let mut rng = Rng(9);
        for case in 0..10 {
            // Cliques of 4 to 9 accounts on shuffled ids, tied strongly inside and by a
            // few weak edges between cliques.
            let sizes: Vec<u32> = (0..6).map(|_| 4 + rng.below(6) as u32).collect();
            let total: u32 = sizes.iter().sum();
            let mut ids: Vec<u32> = (0..total).map(|i| i * 3 + 1).collect();
            for i in (1..ids.len()).rev() {
                ids.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let mut cliques: Vec<Vec<u32>> = Vec::new();
            let mut start = 0;
            for &s in &sizes {
                let mut members = ids[start as usize..(start + s) as usize].to_vec();
                members.sort_unstable();
                cliques.push(members);
                start += s;
            }
            let mut edges: BTreeMap<(u32, u32), f64> = BTreeMap::new();
            for c in &cliques {
                for (i, &a) in c.iter().enumerate() {
                    for &b in &c[i + 1..] {
                        edges.insert((a.min(b), a.max(b)), 5.0 + rng.below(5) as f64);
                    }
                }
            }
            for _ in 0..8 {
                let (x, y) = (rng.below(6) as usize, rng.below(6) as usize);
                if x != y {
                    let a = cliques[x][rng.below(cliques[x].len() as u64) as usize];
                    let b = cliques[y][rng.below(cliques[y].len() as u64) as usize];
                    edges.insert((a.min(b), a.max(b)), 1.0);
                }
            }
            let combined: Vec<(u32, u32, f64)> = edges.into_iter().map(|((a, b), w)| (a, b, w)).collect();
            let params = ScanParams { min_network_size: 3, seed: case, ..ScanParams::default() };
            let got: BTreeSet<Vec<u32>> =
                communities(total as usize * 3, &combined, &params).into_iter().map(|c| c.members).collect();
            let want: BTreeSet<Vec<u32>> = cliques.into_iter().collect();
            assert_eq!(got, want, "case {case}");
        }
    }

    #[test]
    fn communities_below_the_minimum_size_are_dropped_and_order_is_largest_first() {
        // A triangle and a 5-clique, joined by nothing.
        let mut combined = vec![(0, 1, 3.0), (0, 2, 3.0), (1, 2, 3.0)];
        for a in 10..15u32 {
            for b in a + 1..15 {
                combined.push((a, b, 3.0));
            }
        }
        let params = ScanParams { min_network_size: 3, ..ScanParams::default() };
        let got: Vec<Vec<u32>> = communities(15, &combined, &params).into_iter().map(|c| c.members).collect();
        assert_eq!(got, vec![vec![10, 11, 12, 13, 14], vec![0, 1, 2]]);
        let params = ScanParams { min_network_size: 4, ..ScanParams::default() };
        let got: Vec<Vec<u32>> = communities(15, &combined, &params).into_iter().map(|c| c.members).collect();
        assert_eq!(got, vec![vec![10, 11, 12, 13, 14]]);
        assert!(communities(15, &[], &params).is_empty());
    }
}
