//! Windowed co-occurrence: which pairs of accounts did the same thing within the time
//! window, and how often.
//!
//! Two counts are kept per pair, because they answer different questions:
//! - the *directed weight* `w(a→b)`: the number of distinct posts of `a` for which `b`
//!   has a post with the same item within ± window. This is the QUT toolkit's edge
//!   weight, kept so that exported edges agree with it;
//! - the *shared-item count* `x(a,b)`: the number of distinct items on which both
//!   acted within the window. It is symmetric, and it is what the null model tests.
//!
//! The loop sorts actions by (item, time) and scans each item's run with two pointers,
//! in parallel across a few runs of whole items; repeats of a pair are counted in a small
//! direct-mapped cache, and what it evicts is counted by sorting packed pair keys in
//! blocks and merging the counted blocks, which keeps memory proportional to the
//! distinct pairs rather than to the matches.

use rayon::prelude::*;

use crate::corpus::Action;

/// Pair counts of one behaviour before filtering.
#[derive(Debug, Default, Clone)]
pub struct CoOccurrence {
    /// `(a, b, w(a→b))` for every ordered pair with `w ≥ 1`, sorted by `(a, b)`.
    pub directed: Vec<(u32, u32, u32)>,
    /// `(a, b, x(a,b))` with `a < b`, sorted.
    pub shared: Vec<(u32, u32, u32)>,
    /// Distinct items per account (`k_a` of the null model), indexed by account.
    pub items_per_account: Vec<u32>,
    /// Σ_i d_i over items, where d_i is the number of distinct accounts with item i.
    pub incidences: f64,
    /// Σ_i d_i (d_i − 1): the null model's total pair mass, checked by the tests against
    /// a direct count.
    #[cfg_attr(not(test), allow(dead_code))]
    pub pair_mass: f64,
    /// Per account, Σ (d_i − 1) over the items it acted on: how crowded its items are.
    pub crowding: Vec<f64>,
    /// Items whose pairs were not enumerated because too many accounts acted on them.
    pub crowd_items: usize,
}

#[inline]
fn pack(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

#[inline]
fn unpack(k: u64) -> (u32, u32) {
    ((k >> 32) as u32, k as u32)
}

/// Sorts packed pair keys. The blocks are large and the keys are integers whose high bytes
/// mostly agree (account ids are small), so a radix sort over only the bytes that differ
/// beats a comparison sort several times; short slices go to the comparison sort.
fn sort_keys(keys: &mut [u64]) {
    if keys.len() < 256 {
        keys.sort_unstable();
    } else {
        radsort::sort(keys);
    }
}

/// Sorted `keys` into sorted `(key, run length)`.
fn count_runs(keys: &[u64]) -> Vec<(u64, u32)> {
    keys.chunk_by(|x, y| x == y).map(|run| (run[0], run.len() as u32)).collect()
}

/// Merges two sorted `(key, count)` lists, adding the counts of equal keys.
fn merge_counts(a: Vec<(u64, u32)>, b: Vec<(u64, u32)>) -> Vec<(u64, u32)> {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Spilled `(pair, count)` entries are counted into the sorted list whenever this many
/// have piled up (or as many as there are counted pairs, whichever is larger, so that the
/// merging stays linear overall): memory follows the distinct pairs, not the matches.
const FLUSH_AT: usize = if cfg!(test) { 4 } else { 1 << 20 };

/// Most slots of a [`PairCounter`]'s cache, as a power of two: 128 K slots are 2 MiB.
/// Measured on 1 M posts with a few dozen thousand pairs coinciding millions of times,
/// 16 K slots evicted nearly every match; the cache is sized by the work given to it.
const MAX_CACHE_BITS: u32 = if cfg!(test) { 2 } else { 17 };
const MIN_CACHE_BITS: u32 = if cfg!(test) { 1 } else { 10 };

/// Counts packed pair keys. Coordinated accounts coincide again and again, so a few
/// thousand pairs make up most of the matches: a small direct-mapped cache counts repeats
/// of a pair in place, and only what it evicts goes to the sort-and-merge count.
#[derive(Default)]
struct PairCounter {
    /// log2 of the cache's slots.
    bits: u32,
    /// `(key, count)`; a count of 0 marks an empty slot. Allocated on first use.
    cache: Vec<(u64, u32)>,
    /// Evicted entries not yet counted.
    spilled: Vec<(u64, u32)>,
    /// Sorted `(key, count)`, keys distinct.
    counted: Vec<(u64, u32)>,
}

impl PairCounter {
    /// A counter for about `matches` matches.
    fn for_matches(matches: usize) -> PairCounter {
        let bits = matches.max(1).ilog2().clamp(MIN_CACHE_BITS, MAX_CACHE_BITS);
        PairCounter { bits, ..PairCounter::default() }
    }

    #[inline]
    fn add(&mut self, key: u64) {
        if self.cache.is_empty() {
            self.bits = self.bits.max(MIN_CACHE_BITS);
            self.cache = vec![(0, 0); 1 << self.bits];
        }
        // Multiplicative hashing: the top bits of the product mix both accounts.
        let slot = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - self.bits)) as usize;
        let entry = &mut self.cache[slot];
        if entry.0 == key && entry.1 > 0 {
            entry.1 += 1;
        } else {
            if entry.1 > 0 {
                self.spilled.push(*entry);
            }
            *entry = (key, 1);
        }
    }

    fn flush_if_full(&mut self) {
        if self.spilled.len() >= FLUSH_AT.max(self.counted.len()) {
            self.flush();
        }
    }

    /// Counts the spilled entries into the sorted list.
    fn flush(&mut self) {
        if self.spilled.is_empty() {
            return;
        }
        radsort::sort_by_key(&mut self.spilled, |&(key, _)| key);
        let block: Vec<(u64, u32)> = self
            .spilled
            .chunk_by(|x, y| x.0 == y.0)
            .map(|run| (run[0].0, run.iter().map(|&(_, n)| n).sum()))
            .collect();
        self.spilled.clear();
        self.counted = merge_counts(std::mem::take(&mut self.counted), block);
    }

    /// Every count, sorted by key.
    fn finish(mut self) -> Vec<(u64, u32)> {
        let cache = std::mem::take(&mut self.cache);
        self.spilled.extend(cache.into_iter().filter(|&(_, n)| n > 0));
        self.flush();
        self.counted
    }

    fn merge(self, other: PairCounter) -> PairCounter {
        let counted = merge_counts(self.finish(), other.finish());
        PairCounter { bits: 0, cache: Vec::new(), spilled: Vec::new(), counted }
    }
}

/// What the per-item scans emit, merged across threads.
#[derive(Default)]
struct Emitted {
    /// Ordered pair `(a, b)` once for each post of `a` matched by `b`, for posts holding
    /// one item: each is a distinct post, so these simply add up.
    directed: PairCounter,
    /// `(packed pair, post)` for posts holding several items, which must count once
    /// however many of their items matched.
    multi: Vec<(u64, u32)>,
    /// `(a, b)`, `a < b`, once per item the pair coincided on.
    shared: PairCounter,
    /// `(a, b)`, `a < b`, once per item on which every account acted once (and no post
    /// holds several items) and the two acted within the window. There a pair is
    /// matched exactly once from each side and shared once, so this one count stands
    /// for `(a, b)` and `(b, a)` in `directed` and for `(a, b)` in `shared`: a third of
    /// the counting, over half the pairs.
    both: PairCounter,
    /// Length of `multi` after its last de-duplication.
    multi_deduped: usize,
    /// Scratch: one item's shared pairs, for de-duplication.
    item_shared: Vec<u64>,
    /// Per account, the stamp of the last post it was counted a partner of.
    seen: Vec<u32>,
    stamp: u32,
}

/// Sorted `(packed pair, count)` into `(a, b, count)`.
fn unpack_counts(counted: Vec<(u64, u32)>) -> Vec<(u32, u32, u32)> {
    counted
        .into_iter()
        .map(|(k, n)| {
            let (a, b) = unpack(k);
            (a, b, n)
        })
        .collect()
}

impl Emitted {
    /// A fresh stamp for [`Emitted::seen`].
    fn next_stamp(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.fill(0);
            self.stamp = 1;
        }
    }

    fn flush_if_full(&mut self) {
        self.directed.flush_if_full();
        self.shared.flush_if_full();
        self.both.flush_if_full();
        if self.multi.len() >= FLUSH_AT.max(2 * self.multi_deduped) {
            radsort::sort_by_key(&mut self.multi, |&(pair, post)| (pair, post));
            self.multi.dedup();
            self.multi_deduped = self.multi.len();
        }
    }

    fn merge(mut self, mut other: Emitted) -> Emitted {
        self.directed = self.directed.merge(other.directed);
        self.shared = self.shared.merge(other.shared);
        self.both = self.both.merge(other.both);
        if self.multi.len() < other.multi.len() {
            std::mem::swap(&mut self.multi, &mut other.multi);
        }
        self.multi.extend(other.multi);
        self.multi_deduped = 0;
        self
    }
}

/// Splits `actions` (sorted by item) into about `n` runs of similar length, never
/// splitting an item.
fn item_pieces(actions: &[Action], n: usize) -> Vec<&[Action]> {
    let target = actions.len().div_ceil(n.max(1)).max(1);
    let mut pieces = Vec::with_capacity(n + 1);
    let mut rest = actions;
    while !rest.is_empty() {
        let mut end = target.min(rest.len());
        while end < rest.len() && rest[end].item == rest[end - 1].item {
            end += 1;
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// The per-item scan. `group` is one item's actions sorted by time. `multi_posts` marks
/// the posts that hold several items (empty when no post can).
fn scan_item(group: &[Action], window: i64, multi_posts: &[bool], out: &mut Emitted) {
    if group.len() < 2 {
        return;
    }
    let first_account = group[0].account;
    if group.iter().all(|a| a.account == first_account) {
        return;
    }
    // When every account acts once on the item, each pair is met from one post of its
    // lower account only, so the shared pairs need no de-duplication.
    let once_each = {
        out.next_stamp();
        let stamp = out.stamp;
        group.iter().all(|a| std::mem::replace(&mut out.seen[a.account as usize], stamp) != stamp)
    };
    if once_each && !group.iter().any(|a| multi_posts.get(a.post as usize).copied().unwrap_or(false)) {
        // Each pair once, from its earlier action (`group` is sorted by time): see
        // `Emitted::both`. The accounts are distinct, so no partner repeats.
        let mut hi = 0usize;
        for (i, act) in group.iter().enumerate() {
            hi = hi.max(i + 1);
            while hi < group.len() && group[hi].time <= act.time + window {
                hi += 1;
            }
            for other in &group[i + 1..hi] {
                let (a, b) = (act.account.min(other.account), act.account.max(other.account));
                out.both.add(pack(a, b));
            }
        }
        return;
    }
    let mut lo = 0usize;
    let mut hi = 0usize;
    out.item_shared.clear();
    for act in group {
        while group[lo].time < act.time - window {
            lo += 1;
        }
        while hi < group.len() && group[hi].time <= act.time + window {
            hi += 1;
        }
        // Each partner account once per post: the stamp marks accounts already seen for
        // this post, which is cheaper than sorting the window's accounts.
        out.next_stamp();
        let multi = multi_posts.get(act.post as usize).copied().unwrap_or(false);
        for other in &group[lo..hi] {
            let b = other.account;
            if b == act.account {
                continue;
            }
            let seen = &mut out.seen[b as usize];
            if *seen == out.stamp {
                continue;
            }
            *seen = out.stamp;
            if multi {
                out.multi.push((pack(act.account, b), act.post));
            } else {
                out.directed.add(pack(act.account, b));
            }
            if act.account < b {
                if once_each {
                    out.shared.add(pack(act.account, b));
                } else {
                    out.item_shared.push(pack(act.account, b));
                }
            }
        }
    }
    // A pair counts once per item however many times it coincided on it.
    sort_keys(&mut out.item_shared);
    let Emitted { item_shared, shared, .. } = out;
    item_shared.dedup();
    for &key in item_shared.iter() {
        shared.add(key);
    }
}

/// Counts co-occurrences of `actions` (sorted in place by item and time) within
/// `window` seconds.
///
/// `posts_may_repeat` says whether one post can hold several items (links): then the
/// directed weight must count each post once even when several of its items matched
/// the same partner, so matches of such posts are kept with their post until the end;
/// every other match is a distinct post already and is counted as it comes.
///
/// Items acted on by more than `max_item_accounts` distinct accounts (0: no limit) are
/// counted in the null-model statistics but their pairs are not enumerated.
///
/// `singles` are actions whose item no other action has (see
/// [`crate::corpus::Corpus::take_singles`]), kept apart because they need no sorting:
/// they count in the statistics only. The result is the same as with them in `actions`.
pub fn co_occurrence(
    actions: &mut [Action],
    singles: &[Action],
    window: i64,
    n_accounts: usize,
    max_item_accounts: usize,
    posts_may_repeat: bool,
) -> CoOccurrence {
    actions.par_sort_unstable_by_key(|a| (a.item, a.time, a.account));

    // Item statistics for the null model: distinct accounts per item, distinct items
    // per account.
    let mut items_per_account = vec![0u32; n_accounts];
    let mut crowding = vec![0f64; n_accounts];
    let mut incidences = 0f64;
    let mut pair_mass = 0f64;
    let mut start = 0;
    let mut accounts_of_item: Vec<u32> = Vec::new();
    let mut crowd: Vec<u64> = Vec::new();
    while start < actions.len() {
        let item = actions[start].item;
        let mut end = start + 1;
        while end < actions.len() && actions[end].item == item {
            end += 1;
        }
        accounts_of_item.clear();
        accounts_of_item.extend(actions[start..end].iter().map(|a| a.account));
        accounts_of_item.sort_unstable();
        accounts_of_item.dedup();
        let d = accounts_of_item.len() as f64;
        incidences += d;
        pair_mass += d * (d - 1.0);
        for &a in &accounts_of_item {
            items_per_account[a as usize] += 1;
            crowding[a as usize] += d - 1.0;
        }
        if max_item_accounts > 0 && accounts_of_item.len() > max_item_accounts {
            crowd.push(item);
        }
        start = end;
    }
    // An item of one action: one incidence, no pair mass, no crowding (sums of whole
    // numbers, exact in any order).
    for a in singles {
        incidences += 1.0;
        items_per_account[a.account as usize] += 1;
    }

    // Posts that hold more than one item of this behaviour.
    let mut multi_posts: Vec<bool> = Vec::new();
    if posts_may_repeat {
        let n_posts = actions.iter().chain(singles).map(|a| a.post as usize + 1).max().unwrap_or(0);
        let mut seen = vec![false; n_posts];
        multi_posts = vec![false; n_posts];
        for a in actions.iter().chain(singles) {
            let p = a.post as usize;
            if seen[p] {
                multi_posts[p] = true;
            }
            seen[p] = true;
        }
    }

    // `crowd` is sorted because items were visited in order.
    let crowd_items = crowd.len();
    // A few runs of whole items per thread, each with its own counters: a piece per
    // rayon split would give each of hundreds of pieces its own cache to fill and drain.
    let pieces = item_pieces(actions, rayon::current_num_threads() * 4);
    let emitted = pieces
        .into_par_iter()
        .map(|piece| {
            let mut out = Emitted {
                seen: vec![0; n_accounts],
                directed: PairCounter::for_matches(piece.len()),
                shared: PairCounter::for_matches(piece.len()),
                both: PairCounter::for_matches(piece.len()),
                ..Emitted::default()
            };
            for group in piece.chunk_by(|x, y| x.item == y.item) {
                if crowd.binary_search(&group[0].item).is_err() {
                    scan_item(group, window, &multi_posts, &mut out);
                    out.flush_if_full();
                }
            }
            out
        })
        .reduce(Emitted::default, Emitted::merge);
    let Emitted { mut multi, directed, shared, both, .. } = emitted;
    let both = both.finish();
    let mut reversed: Vec<(u64, u32)> = both
        .iter()
        .map(|&(k, n)| {
            let (a, b) = unpack(k);
            (pack(b, a), n)
        })
        .collect();
    radsort::sort_by_key(&mut reversed, |&(k, _)| k);
    let mut directed_counts = merge_counts(merge_counts(directed.finish(), both.clone()), reversed);
    let shared_counts = merge_counts(shared.finish(), both);

    if !multi.is_empty() {
        // Distinct posts per ordered pair among multi-item posts, added to the rest.
        multi.par_sort_unstable();
        multi.dedup();
        let keys: Vec<u64> = multi.into_iter().map(|(k, _)| k).collect();
        directed_counts = merge_counts(directed_counts, count_runs(&keys));
    }
    let directed = unpack_counts(directed_counts);
    let shared = unpack_counts(shared_counts);

    CoOccurrence { directed, shared, items_per_account, incidences, pair_mass, crowding, crowd_items }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(item: u64, time: i64, account: u32, post: u32) -> Action {
        Action { item, time, account, post }
    }

    /// A direct transcription of the definition, for comparison.
    type Counts = Vec<(u32, u32, u32)>;

    fn brute(actions: &[Action], window: i64) -> (Counts, Counts) {
        use std::collections::{BTreeMap, BTreeSet};
        let mut dir: BTreeMap<(u32, u32), BTreeSet<u32>> = BTreeMap::new();
        let mut sh: BTreeMap<(u32, u32), BTreeSet<u64>> = BTreeMap::new();
        for x in actions {
            for y in actions {
                if x.item == y.item && x.account != y.account && (x.time - y.time).abs() <= window {
                    dir.entry((x.account, y.account)).or_default().insert(x.post);
                    let k = (x.account.min(y.account), x.account.max(y.account));
                    sh.entry(k).or_default().insert(x.item);
                }
            }
        }
        (
            dir.into_iter().map(|((a, b), s)| (a, b, s.len() as u32)).collect(),
            sh.into_iter().map(|((a, b), s)| (a, b, s.len() as u32)).collect(),
        )
    }

    #[test]
    fn matches_the_definition_on_a_small_case() {
        let actions = vec![
            act(1, 0, 0, 0),
            act(1, 30, 1, 1),
            act(1, 200, 2, 2),
            act(2, 10, 0, 3),
            act(2, 65, 1, 4),
            act(2, 80, 2, 5),
            // One post with two links both matched by the same partner counts once.
            act(3, 500, 0, 6),
            act(4, 500, 0, 6),
            act(3, 510, 1, 7),
            act(4, 520, 1, 8),
        ];
        let got = co_occurrence(&mut actions.clone(), &[], 60, 3, 0, true);
        let (dir, sh) = brute(&actions, 60);
        assert_eq!(got.directed, dir);
        assert_eq!(got.shared, sh);
        assert_eq!(got.items_per_account, vec![4, 4, 2]);
    }

    #[test]
    fn crowd_items_count_in_the_null_model_but_make_no_pairs() {
        // Item 1 is acted on by three accounts, item 2 by two.
        let actions =
            vec![act(1, 0, 0, 0), act(1, 1, 1, 1), act(1, 2, 2, 2), act(2, 0, 0, 3), act(2, 5, 1, 4)];
        let got = co_occurrence(&mut actions.clone(), &[], 60, 3, 2, false);
        assert_eq!(got.crowd_items, 1);
        assert_eq!(got.shared, vec![(0, 1, 1)]);
        assert_eq!(got.items_per_account, vec![2, 2, 1]);
        assert_eq!(got.pair_mass, 3.0 * 2.0 + 2.0);
    }

    proptest::proptest! {
        #[test]
        fn posts_with_several_items_count_once(
            raw in proptest::collection::vec((proptest::collection::btree_set(0u64..5, 1..4), 0i64..300, 0u32..4), 0..40),
            window in 0i64..120,
        ) {
            // One post: an account, a time and a set of items (links).
            let actions: Vec<Action> = raw
                .iter()
                .enumerate()
                .flat_map(|(p, (items, t, a))| items.iter().map(move |&i| act(i, *t, *a, p as u32)))
                .collect();
            let (dir, sh) = brute(&actions, window);
            let got = co_occurrence(&mut actions.clone(), &[], window, 4, 0, true);
            proptest::prop_assert_eq!(&got.directed, &dir);
            proptest::prop_assert_eq!(&got.shared, &sh);
            // Actions of items acted on once, kept apart, change nothing.
            let mut per_item = std::collections::HashMap::new();
            for a in &actions {
                *per_item.entry(a.item).or_insert(0) += 1;
            }
            let (mut rest, singles): (Vec<Action>, Vec<Action>) =
                actions.iter().partition(|a| per_item[&a.item] > 1);
            let split = co_occurrence(&mut rest, &singles, window, 4, 0, true);
            proptest::prop_assert_eq!(&split.directed, &got.directed);
            proptest::prop_assert_eq!(&split.shared, &got.shared);
            proptest::prop_assert_eq!(&split.items_per_account, &got.items_per_account);
            proptest::prop_assert_eq!(split.incidences, got.incidences);
            proptest::prop_assert_eq!(split.pair_mass, got.pair_mass);
            proptest::prop_assert_eq!(&split.crowding, &got.crowding);
        }

        #[test]
        fn agrees_with_brute_force(raw in proptest::collection::vec((0u64..6, 0i64..400, 0u32..5), 0..60), window in 0i64..120) {
            let actions: Vec<Action> = raw.iter().enumerate().map(|(i, &(item, t, a))| act(item, t, a, i as u32)).collect();
            let (dir, sh) = brute(&actions, window);
            // Every post holds one item here, so both ways of counting posts must agree.
            for posts_may_repeat in [false, true] {
                let got = co_occurrence(&mut actions.clone(), &[], window, 5, 0, posts_may_repeat);
                proptest::prop_assert_eq!(&got.directed, &dir);
                proptest::prop_assert_eq!(&got.shared, &sh);
            }
        }
    }
}
