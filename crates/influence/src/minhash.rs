//! MinHash signatures and banded locality-sensitive hashing.
//!
//! Used twice: to find near-identical texts (Jaccard over word sets) and to find
//! accounts whose sets of active minutes overlap (synchronised activity), without
//! comparing every pair. Candidates from the buckets are always verified with the exact
//! Jaccard or intersection, so LSH only decides what is compared, never what matches.

use rayon::prelude::*;

use crate::normalize::mix64;

/// Banding: `bands × rows` hash functions; a pair becomes a candidate when all `rows`
/// values of at least one band agree. The S-curve threshold is about
/// `(1/bands)^(1/rows)`.
#[derive(Debug, Clone, Copy)]
pub struct Banding {
    pub bands: usize,
    pub rows: usize,
}

impl Banding {
    pub fn hashes(self) -> usize {
        self.bands * self.rows
    }
}

/// The MinHash signature of a set of element hashes.
pub fn signature(elements: &[u32], banding: Banding, seed: u64) -> Vec<u64> {
    let k = banding.hashes();
    let mut sig = vec![u64::MAX; k];
    for &e in elements {
        let base = mix64(e as u64 ^ seed);
        for (i, slot) in sig.iter_mut().enumerate() {
            let h = mix64(base.wrapping_add((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
            if h < *slot {
                *slot = h;
            }
        }
    }
    sig
}

/// Exact Jaccard similarity of two sorted, de-duplicated sets.
pub fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let inter = intersection_size(a, b);
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// Size of the intersection of two sorted, de-duplicated sets.
pub fn intersection_size(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Candidate pairs `(i, j)`, `i < j`, indices into `sets`, that share a band. Buckets
/// larger than `max_bucket` are skipped (their count is returned): a set that many
/// others look like is background, and comparing all of them would be quadratic.
pub fn candidate_pairs(
    sets: &[&[u32]],
    banding: Banding,
    seed: u64,
    max_bucket: usize,
) -> (Vec<(u32, u32)>, usize) {
    matching_pairs(sets, banding, seed, max_bucket, |_, _| true)
}

/// The candidate pairs of [`candidate_pairs`] that pass `keep`, sorted. Candidates are
/// checked as their bucket is visited, so they are never all held at once: texts made
/// of a small vocabulary can give hundreds of millions of candidates and few matches.
///
/// Only the band keys of each signature are kept (`bands` values per set, not
/// `bands × rows`), and buckets are runs of a sorted `(key, set)` list rather than a
/// hash map of vectors: on millions of sets this is what keeps memory flat.
pub fn matching_pairs(
    sets: &[&[u32]],
    banding: Banding,
    seed: u64,
    max_bucket: usize,
    keep: impl Fn(u32, u32) -> bool + Sync,
) -> (Vec<(u32, u32)>, usize) {
    let bands = banding.bands;
    let keys = band_keys(sets, banding, seed);
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut skipped = 0;
    let mut bucketed: Vec<(u64, u32)> = Vec::with_capacity(sets.len());
    for band in 0..bands {
        bucketed.clear();
        bucketed.extend(
            (0..sets.len()).filter(|&i| !sets[i].is_empty()).map(|i| (keys[i * bands + band], i as u32)),
        );
        bucketed.par_sort_unstable();
        let buckets: Vec<&[(u64, u32)]> =
            bucketed.chunk_by(|x, y| x.0 == y.0).filter(|m| m.len() >= 2).collect();
        skipped += buckets.iter().filter(|m| m.len() > max_bucket).count();
        let mut found: Vec<(u32, u32)> = buckets
            .par_iter()
            .filter(|m| m.len() <= max_bucket)
            .flat_map_iter(|members| {
                // Sorted by set index within a bucket, so `a < b`.
                let mut found = Vec::new();
                for (x, &(_, a)) in members.iter().enumerate() {
                    for &(_, b) in &members[x + 1..] {
                        if keep(a, b) {
                            found.push((a, b));
                        }
                    }
                }
                found
            })
            .collect();
        // Two sorted runs: the stable sort finds them and merges in one pass, so the pairs
        // of earlier bands are not sorted again.
        found.par_sort_unstable();
        pairs.extend(found);
        pairs.sort();
        pairs.dedup();
    }
    (pairs, skipped)
}

/// The connected components of the pairs of [`matching_pairs`] that pass `keep`, and the
/// number of buckets skipped for their size.
///
/// The components are exactly those of the matching pairs, but a pair is not tested
/// when its sets are joined already, by an earlier band or by matches found earlier in
/// its bucket: a bucket of 500 copies of one text costs about 500 tests instead of
/// 125,000, and no list of matching pairs is built. Only a bucket of sets that match
/// nothing still tests every pair, as [`matching_pairs`] does.
pub fn matching_components(
    sets: &[&[u32]],
    banding: Banding,
    seed: u64,
    max_bucket: usize,
    keep: impl Fn(u32, u32) -> bool + Sync,
) -> (DisjointSets, usize) {
    let bands = banding.bands;
    let keys = band_keys(sets, banding, seed);
    let mut dsu = DisjointSets::new(sets.len());
    let mut skipped = 0;
    let mut bucketed: Vec<(u64, u32)> = Vec::with_capacity(sets.len());
    let mut roots: Vec<u32> = Vec::with_capacity(sets.len());
    for band in 0..bands {
        bucketed.clear();
        bucketed.extend(
            (0..sets.len()).filter(|&i| !sets[i].is_empty()).map(|i| (keys[i * bands + band], i as u32)),
        );
        bucketed.par_sort_unstable();
        // Components as the earlier bands left them, read-only while buckets are tested
        // side by side.
        roots.clear();
        roots.extend((0..sets.len() as u32).map(|i| dsu.find(i)));
        let buckets: Vec<&[(u64, u32)]> =
            bucketed.chunk_by(|x, y| x.0 == y.0).filter(|m| m.len() >= 2).collect();
        skipped += buckets.iter().filter(|m| m.len() > max_bucket).count();
        let joins: Vec<(u32, u32)> = buckets
            .par_iter()
            .filter(|m| m.len() <= max_bucket)
            .flat_map_iter(|members| {
                // A union-find over the bucket's positions, started from the components
                // of earlier bands: members already joined are never tested again.
                let mut local: Vec<usize> = (0..members.len()).collect();
                let mut first_of_root: rustc_hash::FxHashMap<u32, usize> = rustc_hash::FxHashMap::default();
                for (x, &(_, a)) in members.iter().enumerate() {
                    let r = *first_of_root.entry(roots[a as usize]).or_insert(x);
                    local[x] = r;
                }
                fn top(local: &mut [usize], mut x: usize) -> usize {
                    while local[x] != x {
                        local[x] = local[local[x]];
                        x = local[x];
                    }
                    x
                }
                let mut joins = Vec::new();
                // Sorted by set index within a bucket, so `a < b`.
                for (x, &(_, b)) in members.iter().enumerate().skip(1) {
                    for (y, &(_, a)) in members[..x].iter().enumerate() {
                        let (ry, rx) = (top(&mut local, y), top(&mut local, x));
                        if ry != rx && keep(a, b) {
                            local[ry.max(rx)] = ry.min(rx);
                            joins.push((a, b));
                        }
                    }
                }
                joins
            })
            .collect();
        for (a, b) in joins {
            dsu.union(a, b);
        }
    }
    (dsu, skipped)
}

/// The `bands` band keys of every set's signature, `bands` values per set.
fn band_keys(sets: &[&[u32]], banding: Banding, seed: u64) -> Vec<u64> {
    let (bands, rows) = (banding.bands, banding.rows);
    let mut keys = vec![0u64; sets.len() * bands];
    if bands > 0 {
        keys.par_chunks_mut(bands).zip(sets.par_iter()).for_each(|(out, set)| {
            let sig = signature(set, banding, seed);
            for (band, key) in out.iter_mut().enumerate() {
                let mut h = band as u64;
                for v in &sig[band * rows..(band + 1) * rows] {
                    h = mix64(h ^ v);
                }
                *key = h;
            }
        });
    }
    keys
}

/// Union-find with path halving, for clustering near-duplicate texts.
pub struct DisjointSets {
    parent: Vec<u32>,
}

impl DisjointSets {
    pub fn new(n: usize) -> DisjointSets {
        DisjointSets { parent: (0..n as u32).collect() }
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller index becomes the root, so cluster ids are deterministic.
            let (lo, hi) = (ra.min(rb), ra.max(rb));
            self.parent[hi as usize] = lo;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_and_intersection() {
        assert_eq!(intersection_size(&[1, 2, 3, 5], &[2, 3, 4, 5]), 3);
        assert!((jaccard(&[1, 2, 3, 5], &[2, 3, 4, 5]) - 0.6).abs() < 1e-12);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
    }

    #[test]
    fn similar_sets_become_candidates_and_disjoint_ones_do_not() {
        let a: Vec<u32> = (0..40).collect();
        let mut b = a.clone();
        b[0] = 1000; // Jaccard 39/41
        let c: Vec<u32> = (5000..5040).collect();
        let sets: Vec<&[u32]> = vec![&a, &b, &c];
        let (pairs, _) = candidate_pairs(&sets, Banding { bands: 5, rows: 4 }, 7, 100);
        assert!(pairs.contains(&(0, 1)));
        assert!(!pairs.iter().any(|&(x, y)| x == 2 || y == 2));
    }

    /// Buckets as a hash map of signature bands, the plain way, for comparison.
    fn reference_pairs(
        sets: &[&[u32]],
        banding: Banding,
        seed: u64,
        max_bucket: usize,
    ) -> (Vec<(u32, u32)>, usize) {
        use std::collections::HashMap;
        let sigs: Vec<Vec<u64>> = sets.iter().map(|s| signature(s, banding, seed)).collect();
        let (mut pairs, mut skipped) = (Vec::new(), 0);
        for band in 0..banding.bands {
            let mut buckets: HashMap<u64, Vec<u32>> = HashMap::new();
            for (i, sig) in sigs.iter().enumerate().filter(|(i, _)| !sets[*i].is_empty()) {
                let mut h = band as u64;
                for v in &sig[band * banding.rows..(band + 1) * banding.rows] {
                    h = mix64(h ^ v);
                }
                buckets.entry(h).or_default().push(i as u32);
            }
            for m in buckets.values().filter(|m| m.len() >= 2) {
                if m.len() > max_bucket {
                    skipped += 1;
                    continue;
                }
                for (x, &a) in m.iter().enumerate() {
                    pairs.extend(m[x + 1..].iter().map(|&b| (a.min(b), a.max(b))));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        (pairs, skipped)
    }

    proptest::proptest! {
        #[test]
        fn sorted_buckets_agree_with_hash_buckets(
            raw in proptest::collection::vec(proptest::collection::btree_set(0u32..12, 0..6), 0..40),
            max_bucket in 2usize..8,
        ) {
            let owned: Vec<Vec<u32>> = raw.into_iter().map(|s| s.into_iter().collect()).collect();
            let sets: Vec<&[u32]> = owned.iter().map(Vec::as_slice).collect();
            let banding = Banding { bands: 3, rows: 2 };
            let (want, skipped) = reference_pairs(&sets, banding, 5, max_bucket);
            proptest::prop_assert_eq!(candidate_pairs(&sets, banding, 5, max_bucket), (want.clone(), skipped));
            let even: Vec<(u32, u32)> = want.into_iter().filter(|(a, b)| (a + b) % 2 == 0).collect();
            proptest::prop_assert_eq!(
                matching_pairs(&sets, banding, 5, max_bucket, |a, b| (a + b) % 2 == 0),
                (even, skipped)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn components_agree_with_the_union_of_matching_pairs(
            raw in proptest::collection::vec(proptest::collection::btree_set(0u32..10, 0..5), 0..60),
            max_bucket in 2usize..12,
            modulus in 1u32..4,
        ) {
            let owned: Vec<Vec<u32>> = raw.into_iter().map(|s| s.into_iter().collect()).collect();
            let sets: Vec<&[u32]> = owned.iter().map(Vec::as_slice).collect();
            let banding = Banding { bands: 3, rows: 2 };
            // A relation that is not transitive, so that skipping joined pairs matters.
            let keep = |a: u32, b: u32| (a * 7 + b * 3).is_multiple_of(modulus + 1) || jaccard(sets[a as usize], sets[b as usize]) >= 0.6;
            let (pairs, skipped) = matching_pairs(&sets, banding, 5, max_bucket, keep);
            let mut want = DisjointSets::new(sets.len());
            for (a, b) in pairs {
                want.union(a, b);
            }
            let (mut got, got_skipped) = matching_components(&sets, banding, 5, max_bucket, keep);
            proptest::prop_assert_eq!(got_skipped, skipped);
            for i in 0..sets.len() as u32 {
                proptest::prop_assert_eq!(got.find(i), want.find(i));
            }
        }
    }

    #[test]
    fn minhash_estimates_jaccard() {
        // Over many hash functions the share of equal minima estimates Jaccard.
        let a: Vec<u32> = (0..100).collect();
        let b: Vec<u32> = (50..150).collect(); // J = 50/150
        let banding = Banding { bands: 64, rows: 4 };
        let (sa, sb) = (signature(&a, banding, 1), signature(&b, banding, 1));
        let agree = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / sa.len() as f64;
        assert!((agree - 1.0 / 3.0).abs() < 0.08, "estimate {agree}");
    }

    #[test]
    fn union_find_clusters() {
        let mut d = DisjointSets::new(5);
        d.union(3, 4);
        d.union(4, 1);
        assert_eq!(d.find(3), 1);
        assert_eq!(d.find(0), 0);
    }
}
