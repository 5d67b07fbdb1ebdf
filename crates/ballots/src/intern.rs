//! Compact string interning: every id is stored once in one byte arena and referred to
//! by a `u32`. For tens of millions of ids this takes about a third of the memory of a
//! `HashMap<String, u32>` and no allocation per id.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

#[derive(Default)]
pub struct Interner {
    arena: Vec<u8>,
    ends: Vec<u64>,
    table: HashTable<u32>,
}

fn hash(bytes: &[u8]) -> u64 {
    FxBuildHasher.hash_one(bytes)
}

impl Interner {
    pub fn new() -> Interner {
        Interner::default()
    }

    pub fn with_capacity(n: usize) -> Interner {
        Interner {
            arena: Vec::with_capacity(n * 12),
            ends: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
        }
    }

    /// Makes room for `n` more ids of about `avg_len` bytes, so that growth never rehashes.
    pub fn reserve(&mut self, n: usize, avg_len: usize) {
        self.arena.reserve(n * avg_len);
        self.ends.reserve(n);
        let (arena, ends) = (&self.arena, &self.ends);
        self.table.reserve(n, |&i| hash(slice(arena, ends, i)));
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
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }

    pub fn lookup(&self, key: &[u8]) -> Option<u32> {
        let (arena, ends) = (&self.arena, &self.ends);
        self.table.find(hash(key), |&id| slice(arena, ends, id) == key).copied()
    }

    /// The id of `key`, and whether it was new.
    pub fn intern(&mut self, key: &[u8]) -> (u32, bool) {
        let h = hash(key);
        let (arena, ends) = (&self.arena, &self.ends);
        if let Some(&id) = self.table.find(h, |&id| slice(arena, ends, id) == key) {
            return (id, false);
        }
        let id = self.ends.len() as u32;
        self.arena.extend_from_slice(key);
        self.ends.push(self.arena.len() as u64);
        let (arena, ends) = (&self.arena, &self.ends);
        self.table.insert_unique(h, id, |&i| hash(slice(arena, ends, i)));
        (id, true)
    }
}

fn slice<'a>(arena: &'a [u8], ends: &[u64], id: u32) -> &'a [u8] {
    let i = id as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &arena[start..ends[i] as usize]
}

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
            assert_eq!(i.intern(w.as_bytes()), (n as u32, false));
            assert_eq!(i.lookup(w.as_bytes()), Some(n as u32));
            assert_eq!(i.get_str(n as u32), w);
        }
        assert_eq!(i.lookup(b"nope"), None);
        assert_eq!(i.intern(b""), (10_000, true));
        assert_eq!(i.get(10_000), b"");
    }
}
