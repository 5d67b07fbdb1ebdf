//! A set of item keys whose slot for a key can be prefetched before the key is inserted.
//!
//! Ingest asks, for every item of every post, whether the item was seen before (its label
//! is copied only on a second sighting). The set outgrows the caches early, so each
//! question was a cache miss; [`KeySet::prefetch`] lets the committing thread start
//! loading the slot of a post's items a few posts ahead, as it does for account slots.
//! Keys are already hashes, so a multiply spreads them; open addressing, linear probing.

use scrutineer_core::intern::prefetch;

#[derive(Debug)]
pub struct KeySet {
    /// Keys in their slots; 0 marks an empty slot (the key 0 is kept in `has_zero`).
    slots: Vec<u64>,
    /// Keys in `slots`.
    len: usize,
    has_zero: bool,
    /// 64 minus log2 of the number of slots.
    shift: u32,
}

const INITIAL_SLOTS: usize = 1024;

impl Default for KeySet {
    fn default() -> KeySet {
        KeySet::with_capacity(0)
    }
}

impl KeySet {
    /// An empty set with room for `keys` keys before it grows. Growing copies every key
    /// into a table twice the size, a cache miss each: when the count is known roughly,
    /// that is work saved.
    pub fn with_capacity(keys: usize) -> KeySet {
        let slots = keys.saturating_mul(2).next_power_of_two().max(INITIAL_SLOTS);
        KeySet { slots: vec![0; slots], len: 0, has_zero: false, shift: 64 - slots.ilog2() }
    }

    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0 && !self.has_zero
    }

    /// Starts loading the slot where the probe for `key` begins.
    pub fn prefetch(&self, key: u64) {
        prefetch(&self.slots[self.home(key)]);
    }

    /// Adds `key`; `true` if it was not in the set.
    pub fn insert(&mut self, key: u64) -> bool {
        if key == 0 {
            return !std::mem::replace(&mut self.has_zero, true);
        }
        // At most half full, so probes stay short.
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let at = self.slot(key);
        if self.slots[at] == key {
            return false;
        }
        self.slots[at] = key;
        self.len += 1;
        true
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, key: u64) -> bool {
        if key == 0 {
            return self.has_zero;
        }
        self.slots[self.slot(key)] == key
    }

    /// The slot of a non-zero `key`: where it is, or the empty slot where it would go.
    fn slot(&self, key: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        while self.slots[at] != 0 && self.slots[at] != key {
            at = (at + 1) & mask;
        }
        at
    }

    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.shift -= 1;
        // The keys are distinct, so each finds an empty slot.
        for key in old.into_iter().filter(|&k| k != 0) {
            let at = self.slot(key);
            self.slots[at] = key;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::Strategy;
    use std::collections::HashSet;

    proptest::proptest! {
        #[test]
        fn inserts_answer_as_a_hash_set(keys in proptest::collection::vec(
            // Few distinct values (repeats), zero, and keys that share their home slot.
            proptest::prop_oneof![0u64..64, proptest::num::u64::ANY, (0u64..8).prop_map(|k| k << 60)],
            0..5000,
        )) {
            let mut set = if keys.len() % 2 == 0 { KeySet::default() } else { KeySet::with_capacity(keys.len() / 3) };
            let mut want = HashSet::new();
            for k in keys {
                proptest::prop_assert_eq!(set.contains(k), want.contains(&k), "key {} before", k);
                proptest::prop_assert_eq!(set.insert(k), want.insert(k), "key {}", k);
                proptest::prop_assert!(set.contains(k), "key {} after", k);
                proptest::prop_assert!(!set.contains(k ^ 1) || want.contains(&(k ^ 1)), "key {} neighbour", k);
            }
        }
    }
}
