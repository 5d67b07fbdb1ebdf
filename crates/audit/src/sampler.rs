//! Rivest's consistent SHA-256 sampler (`consistent_sampler.py`, 2018), as used by Arlo.
//!
//! Every object (here a ballot, named `BATCH-POSITION`) gets a pseudorandom "ticket
//! number", a hexadecimal fraction in (0, 1) derived from the public seed and the
//! object's id with SHA-256; objects are drawn in order of increasing ticket number.
//! Sampling with replacement gives a drawn object a new, larger ticket of the next
//! generation. Anyone with the seed and the manifest can reproduce the sample, and the
//! sample of a sub-collection is the sub-sequence of the sample of the whole.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::Serialize;
use sha2::{Digest, Sha256};

fn sha256_hex(input: &str) -> String {
    hex::encode(Sha256::digest(input.as_bytes()))
}

/// SHA-256 in counter mode, seeded with a string: `sha256(sha256(seed) + counter)`.
struct Prng {
    seed_hash: String,
    counter: u64,
}

impl Prng {
    fn new(seed: &str) -> Prng {
        Prng { seed_hash: sha256_hex(seed), counter: 0 }
    }

    fn next_hex(&mut self) -> String {
        let out = sha256_hex(&format!("{}{}", self.seed_hash, self.counter));
        self.counter += 1;
        out
    }
}

/// A ticket: ordered by ticket number, then id, then generation (as Python orders tuples).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Ticket {
    /// Hexadecimal digits of a fraction in (0, 1).
    pub ticket_number: String,
    /// The ballot's id (`BATCH-POSITION`).
    pub id: String,
    /// 1 for the first draw of this object, 2 for its second (with replacement) and so on.
    pub generation: u64,
}

/// The sampler for one seed.
#[derive(Debug, Clone)]
pub struct ConsistentSampler {
    seed_hash: String,
}

impl ConsistentSampler {
    /// A sampler seeded with the public seed.
    pub fn new(seed: &str) -> ConsistentSampler {
        ConsistentSampler { seed_hash: sha256_hex(seed) }
    }

    fn seed_id(&self, id: &str) -> String {
        format!("{}:id:{}", self.seed_hash, id)
    }

    /// The generation-1 ticket of an object.
    pub fn first_ticket(&self, id: &str) -> Ticket {
        let mut prng = Prng::new(&self.seed_id(id));
        Ticket { ticket_number: prng.next_hex(), id: id.to_owned(), generation: 1 }
    }

    /// The generation-1 ticket number, as its 32 bytes, of the object whose id is the
    /// concatenation of `parts` (the hexadecimal digits of
    /// [`ConsistentSampler::first_ticket`] decoded): orders the same way, without building
    /// the id or strings for objects that are not drawn.
    pub(crate) fn first_digest_of(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Sha256::new().chain_update(self.seed_hash.as_bytes()).chain_update(b":id:");
        for p in parts {
            h.update(p);
        }
        let inner = h.finalize();
        let mut hex_buf = [0u8; 64];
        hex::encode_to_slice(inner, &mut hex_buf).unwrap_or_default();
        Sha256::new().chain_update(hex_buf).chain_update(b"0").finalize().into()
    }

    /// The next-generation ticket: uniform in (previous ticket number, 1).
    pub fn next_ticket(&self, t: &Ticket) -> Ticket {
        let seed_id_gen = format!("{}:gen:{}", sha256_hex(&self.seed_id(&t.id)), t.generation);
        let mut prng = Prng::new(&seed_id_gen);
        let x = format!("{}0", t.ticket_number.to_ascii_lowercase());
        let keep = x.bytes().position(|b| b < b'f').unwrap_or(x.len());
        let mut y = String::new();
        while y <= x {
            y = format!("{}{}", &x[..keep], prng.next_hex());
        }
        Ticket { ticket_number: y, id: t.id.clone(), generation: t.generation + 1 }
    }

    /// Draws `take` tickets from `ids` in sampling order. Only the `take` smallest first
    /// tickets are kept while scanning, so memory stays proportional to the sample: the
    /// first `take` draws, with or without replacement, can only come from those.
    pub fn sample<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
        take: usize,
        with_replacement: bool,
    ) -> Vec<Ticket> {
        if take == 0 {
            return Vec::new();
        }
        let mut best: BinaryHeap<Ticket> = BinaryHeap::with_capacity(take + 1);
        for id in ids {
            let t = self.first_ticket(id);
            if best.len() < take {
                best.push(t);
            } else if best.peek().is_some_and(|top| t < *top) {
                best.pop();
                best.push(t);
            }
        }
        let mut heap: BinaryHeap<Reverse<Ticket>> = best.into_iter().map(Reverse).collect();
        let mut out = Vec::with_capacity(take);
        while out.len() < take {
            let Some(Reverse(t)) = heap.pop() else { break };
            if with_replacement {
                heap.push(Reverse(self.next_ticket(&t)));
            }
            out.push(t);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Test vectors: the docstring of `sampler` in Rivest's consistent_sampler.py
    // (ron-rivest/consistent_sampler), seed 31415; ticket numbers are shown there
    // truncated to 10 hex digits.
    const SIX: [&str; 6] = ["A-1", "A-2", "A-3", "B-1", "B-2", "B-3"];

    fn short(t: &Ticket) -> (String, String, u64) {
        (t.ticket_number[..10].to_owned(), t.id.clone(), t.generation)
    }

    #[test]
    fn shuffle_matches_rivest_test_vector() {
        let s = ConsistentSampler::new("31415");
        let got: Vec<_> = s.sample(SIX, 6, false).iter().map(short).collect();
        let want = [
            ("209a9f6594", "B-1"),
            ("5ee90a669e", "B-2"),
            ("710ef2b7e8", "A-2"),
            ("b1d8c28550", "B-3"),
            ("f45c80bcba", "A-1"),
            ("fa2132c79a", "A-3"),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1.as_str(), g.2), (w.0, w.1, 1));
        }
    }

    #[test]
    fn with_replacement_matches_rivest_test_vector() {
        let s = ConsistentSampler::new("31415");
        let got: Vec<_> = s.sample(SIX, 16, true).iter().map(short).collect();
        let want = [
            ("209a9f6594", "B-1", 1),
            ("5ee90a669e", "B-2", 1),
            ("710ef2b7e8", "A-2", 1),
            ("8704614710", "A-2", 2),
            ("8f0c665c4d", "B-1", 2),
            ("92aa5399e1", "B-2", 2),
            ("b1d8c28550", "B-3", 1),
            ("c8452c3bbb", "B-2", 3),
            ("caa8e0b0a4", "B-2", 4),
            ("cc06f5af2f", "A-2", 3),
            ("d627dddead", "B-2", 5),
            ("d75e31e7f6", "B-1", 3),
            ("daa7724be1", "A-2", 4),
            ("dc13dd0827", "B-3", 2),
            ("e08d22b5cf", "A-2", 5),
            ("e18947e4d9", "B-1", 4),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1.as_str(), g.2), w);
        }
    }

    #[test]
    fn single_object_generations_match_rivest_including_leading_fs() {
        let s = ConsistentSampler::new("31415");
        let got = s.sample(["B-1"], 16, true);
        let want10 = [
            "209a9f6594",
            "8f0c665c4d",
            "d75e31e7f6",
            "e18947e4d9",
            "fa1b2102f7",
            "fc2d94ccc0",
            "fe2ed840ee",
            "fe55dc4fec",
            "ff9698db68",
            "ff9e896e8d",
            "ffaa0f9834",
            "ffcd39533d",
            "ffd981a8e0",
            "fffe8a89ba",
            "ffff92a180",
        ];
        for (g, w) in got.iter().zip(want10) {
            assert_eq!(&g.ticket_number[..10], w);
        }
        // Rivest prints the 16th as "(f*5)d6feefd1d9": five f's, then the digits.
        let last = &got[15].ticket_number;
        assert!(last.starts_with("fffff"));
        assert_eq!(&last[5..15], "d6feefd1d9");
    }

    #[test]
    fn subset_sample_is_consistent_with_superset() {
        let s = ConsistentSampler::new("31415");
        let sub: Vec<_> = s.sample(["B-1", "B-2", "B-3"], 3, false).into_iter().map(|t| t.id).collect();
        assert_eq!(sub, ["B-1", "B-2", "B-3"]);
        let take3: Vec<_> = s.sample(SIX, 3, false).into_iter().map(|t| t.id).collect();
        assert_eq!(take3, ["B-1", "B-2", "A-2"]);
    }

    #[test]
    fn first_digest_is_the_first_ticket_number() {
        let s = ConsistentSampler::new("31415");
        for id in SIX {
            let (a, b) = id.split_at(1);
            assert_eq!(
                hex::encode(s.first_digest_of(&[a.as_bytes(), b.as_bytes()])),
                s.first_ticket(id).ticket_number
            );
        }
    }
}
