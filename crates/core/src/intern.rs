//! Compact string interning: every id is stored once in one byte arena and referred to
//! by a `u32`.
//!
//! Reading a state's files is mostly hash-table probes into tables of tens of millions of
//! ids (voters, envelopes, accounts), and each probe is a cache miss. The table here is
//! built for that: open addressing with linear probing, one 32-byte slot holding the full
//! hash and, for ids of up to [`INLINE`] bytes (voter numbers, envelope ids, NC's
//! voter/date keys, account ids), the id itself, so that a probe touches one cache line
//! instead of the table, an offsets array and the arena. [`Interner::prefetch`] lets a
//! reader start the miss for a row a few rows ahead of the probe.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

/// Ids of up to this many bytes are compared inside the slot; longer ones in the arena.
pub const INLINE: usize = 19;

/// The table grows when more than this share of its slots is used.
const MAX_LOAD_PERCENT: usize = 80;

/// One slot: `tag` is the key's hash with the lowest bit set (0: empty).
#[derive(Clone, Copy, Default)]
#[repr(C, align(32))]
struct Slot {
    tag: u64,
    id: u32,
    len: u8,
    key: [u8; INLINE],
}

#[derive(Default)]
pub struct Interner {
    arena: Vec<u8>,
    ends: Vec<u64>,
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`: a slot index is the hash's top bits.
    shift: u32,
}

fn hash(bytes: &[u8]) -> u64 {
    FxBuildHasher.hash_one(bytes)
}

impl Interner {
    pub fn new() -> Interner {
        Interner::default()
    }

    /// Makes room for `n` more ids of about `avg_len` bytes, so that growth never rehashes.
    pub fn reserve(&mut self, n: usize, avg_len: usize) {
        self.arena.reserve(n * avg_len);
        self.ends.reserve(n);
        let want = self.ends.len() + n;
        if want * 100 > self.slots.len() * MAX_LOAD_PERCENT {
            self.resize(slots_for(want));
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get_str(&self, id: u32) -> &str {
        std::str::from_utf8(self.get(id)).unwrap_or("<non-utf8>")
    }

    pub fn get(&self, id: u32) -> &[u8] {
        slice(&self.arena, &self.ends, id)
    }

    /// Asks the processor to start loading the slot where `key`'s probe begins, so that a
    /// later [`Interner::lookup`] or [`Interner::intern`] of it finds the line in cache.
    pub fn prefetch(&self, key: &[u8]) {
        if !self.slots.is_empty() {
            prefetch(&self.slots[(hash(key) >> self.shift) as usize]);
        }
    }

    pub fn lookup(&self, key: &[u8]) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let tag = hash(key) | 1;
        self.probe(tag, key).ok()
    }

    /// The id of `key`, and whether it was new.
    pub fn intern(&mut self, key: &[u8]) -> (u32, bool) {
        if (self.ends.len() + 1) * 100 > self.slots.len() * MAX_LOAD_PERCENT {
            self.resize(slots_for((self.ends.len() + 1) * 2));
        }
        let tag = hash(key) | 1;
        match self.probe(tag, key) {
            Ok(id) => (id, false),
            Err(at) => {
                let id = self.ends.len() as u32;
                self.arena.extend_from_slice(key);
                self.ends.push(self.arena.len() as u64);
                let mut slot = Slot { tag, id, len: key.len().min(u8::MAX as usize) as u8, key: [0; INLINE] };
                if key.len() <= INLINE {
                    slot.key[..key.len()].copy_from_slice(key);
                }
                self.slots[at] = slot;
                (id, true)
            }
        }
    }

    /// `Ok(id)` where `key` is, else `Err(index)` of the empty slot that ends its probe.
    #[inline]
    fn probe(&self, tag: u64, key: &[u8]) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let mut i = (tag >> self.shift) as usize;
        // Short keys are compared as whole zero-padded arrays: a few loads, no memcmp call.
        let mut padded = [0u8; INLINE];
        if key.len() <= INLINE {
            padded[..key.len()].copy_from_slice(key);
        }
        loop {
            let s = &self.slots[i];
            if s.tag == 0 {
                return Err(i);
            }
            if s.tag == tag && s.len as usize == key.len().min(u8::MAX as usize) {
                let same = if key.len() <= INLINE {
                    s.key == padded
                } else {
                    slice(&self.arena, &self.ends, s.id) == key
                };
                if same {
                    return Ok(s.id);
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn resize(&mut self, n_slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); n_slots]);
        self.shift = 64 - n_slots.trailing_zeros();
        let mask = n_slots - 1;
        for s in old.into_iter().filter(|s| s.tag != 0) {
            let mut i = (s.tag >> self.shift) as usize;
            while self.slots[i].tag != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

/// The power of two of slots that holds `n` ids under the maximum load.
fn slots_for(n: usize) -> usize {
    (n * 100 / MAX_LOAD_PERCENT + 1).next_power_of_two().max(16)
}

fn slice<'a>(arena: &'a [u8], ends: &[u64], id: u32) -> &'a [u8] {
    let i = id as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &arena[start..ends[i] as usize]
}

/// Asks the processor to start loading the cache line holding `value`, so that a read of
/// it a little later does not wait on memory. A prefetch is only a hint: it never faults
/// and changes no memory, whatever the address.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub fn prefetch<T>(value: &T) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: `_mm_prefetch` needs only SSE, which every x86_64 processor has; the pointer
    // comes from a reference, and a prefetch neither reads into Rust values nor faults.
    unsafe { _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>()) }
}

/// Elsewhere a no-op: the hint is an optimisation only.
#[cfg(not(target_arch = "x86_64"))]
pub fn prefetch<T>(_value: &T) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_looks_up() {
        let mut i = Interner::new();
        let words: Vec<String> = (0..10_000).map(|n| format!("id{n}")).collect();
        for (n, w) in words.iter().enumerate() {
            assert_eq!(i.intern(w.as_bytes()), (n as u32, true));
        }
        for (n, w) in words.iter().enumerate() {
            i.prefetch(w.as_bytes());
            assert_eq!(i.intern(w.as_bytes()), (n as u32, false));
            assert_eq!(i.lookup(w.as_bytes()), Some(n as u32));
            assert_eq!(i.get_str(n as u32), w);
        }
        assert_eq!(i.lookup(b"nope"), None);
        assert_eq!(i.intern(b""), (10_000, true));
        assert_eq!(i.get(10_000), b"");
        assert_eq!(i.lookup(b""), Some(10_000));
    }

    #[test]
    fn long_keys_and_keys_sharing_a_prefix_stay_apart() {
        let mut i = Interner::new();
        i.reserve(4, 12);
        let long = |n: usize| format!("{}{n}", "x".repeat(INLINE + n % 300));
        for n in 0..2_000 {
            assert_eq!(i.intern(long(n).as_bytes()), (n as u32, true));
        }
        // Exactly INLINE bytes, and one more: the boundary between slot and arena compares.
        let edge = "y".repeat(INLINE);
        let (a, _) = i.intern(edge.as_bytes());
        let (b, new) = i.intern(format!("{edge}y").as_bytes());
        assert!(new && a != b);
        for n in 0..2_000 {
            assert_eq!(i.lookup(long(n).as_bytes()), Some(n as u32), "{n}");
            assert_eq!(i.get(n as u32), long(n).as_bytes());
        }
        assert_eq!(i.lookup(edge.as_bytes()), Some(a));
        assert_eq!(i.lookup(&edge.as_bytes()[1..]), None);
    }

    proptest::proptest! {
        /// Against a `HashMap` model: keys around the inline limit, collisions of prefixes,
        /// growth from an empty table.
        #[test]
        fn agrees_with_a_hash_map(keys in proptest::collection::vec(
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..(2 * INLINE + 2)), 1..400)) {
            let mut model = std::collections::HashMap::new();
            let mut i = Interner::new();
            for k in &keys {
                let expected = model.get(k).copied();
                let (id, new) = i.intern(k);
                proptest::prop_assert_eq!(new, expected.is_none());
                if let Some(e) = expected {
                    proptest::prop_assert_eq!(id, e);
                } else {
                    model.insert(k.clone(), id);
                }
            }
            proptest::prop_assert_eq!(i.len(), model.len());
            for (k, &id) in &model {
                proptest::prop_assert_eq!(i.lookup(k), Some(id));
                proptest::prop_assert_eq!(i.get(id), k.as_slice());
                let mut other = k.clone();
                other.push(0);
                proptest::prop_assert_eq!(i.lookup(&other), model.get(&other).copied());
            }
        }
    }

    #[test]
    fn reserve_then_fill_never_loses_an_id() {
        let mut i = Interner::new();
        i.intern(b"before");
        i.reserve(50_000, 8);
        let slots = i.slots.len();
        for n in 0..50_000u32 {
            assert_eq!(i.intern(&n.to_le_bytes()), (n + 1, true));
        }
        assert_eq!(i.slots.len(), slots, "a reserved table does not grow");
        assert_eq!(i.lookup(b"before"), Some(0));
        assert!((0..50_000u32).all(|n| i.lookup(&n.to_le_bytes()) == Some(n + 1)));
    }
}
