//! Near-duplicates across Message-IDs: a forgery that copies a real message's text and
//! changes a few words, under a new Message-ID. MinHash over word 3-shingles with
//! locality-sensitive banding finds the pairs without comparing every message with every
//! other; only pairs of an authentic message and one that is not are reported.

use std::borrow::Cow;
use std::collections::HashMap;

use scrutineer_core::splitmix::mix;
use serde::{Deserialize, Serialize};

use crate::dkim::Verdict;

/// Hash functions in a signature.
const HASHES: usize = 16;
/// Rows per band (HASHES / ROWS bands).
const ROWS: usize = 4;
/// Words a text needs for a signature (shorter texts are too easily alike).
const MIN_WORDS: usize = 12;
/// The estimated Jaccard similarity from which two texts are near-duplicates.
pub const NEAR_DUPLICATE_SIMILARITY: f64 = 0.5;
/// A band bucket with more members than this is boilerplate (a footer, a template) and
/// is not paired.
const MAX_BUCKET: usize = 64;

/// The MinHash signature of a text's word 3-shingles (lower case), if it is long enough.
pub fn text_signature(text: &str) -> Option<[u32; HASHES]> {
    text_signature_of_words(&text.split_whitespace().collect::<Vec<_>>())
}

/// [`text_signature`] of a text already split at whitespace (the verifier splits each
/// message's text once for this and for its content digest).
pub(crate) fn text_signature_of_words(words: &[&str]) -> Option<[u32; HASHES]> {
    if words.len() < MIN_WORDS {
        return None;
    }
    // An ASCII word is lower-cased byte by byte as it is hashed (the same bytes as
    // `to_lowercase`, without a string per word); only the others are converted.
    let words: Vec<Cow<'_, str>> = words
        .iter()
        .map(|w| if w.is_ascii() { Cow::Borrowed(*w) } else { Cow::Owned(w.to_lowercase()) })
        .collect();
    let mut sig = [u32::MAX; HASHES];
    for w in words.windows(3) {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for word in w {
            for b in word.bytes().map(|b| b.to_ascii_lowercase()).chain([b' ']) {
                h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
            }
        }
        for (i, slot) in sig.iter_mut().enumerate() {
            let v = (mix(h ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 32) as u32;
            *slot = (*slot).min(v);
        }
    }
    Some(sig)
}

/// One side of a near-duplicate pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearMember {
    /// `Message-ID`.
    pub message_id: String,
    /// `file:offset`.
    pub at: String,
    /// Its verdict.
    pub verdict: Verdict,
}

/// A message that is not authentic whose text nearly repeats an authentic one's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearDuplicate {
    /// The authentic message.
    pub authentic: NearMember,
    /// The other.
    pub suspect: NearMember,
    /// Estimated Jaccard similarity of their word 3-shingles.
    pub similarity: f64,
}

/// The signatures of distinct texts, for pairing at the end.
#[derive(Default)]
pub(crate) struct NearIndex {
    entries: Vec<([u32; HASHES], NearMember)>,
}

impl NearIndex {
    pub(crate) fn add(&mut self, sig: [u32; HASHES], member: NearMember) {
        self.entries.push((sig, member));
    }

    /// Every pair of an authentic and a non-authentic message with different
    /// Message-IDs whose texts are near-duplicates, best first.
    pub(crate) fn pairs(&self) -> Vec<NearDuplicate> {
        let mut buckets: HashMap<(usize, [u32; ROWS]), Vec<usize>> = HashMap::new();
        for (i, (sig, _)) in self.entries.iter().enumerate() {
            for band in 0..HASHES / ROWS {
                let mut key = [0u32; ROWS];
                key.copy_from_slice(&sig[band * ROWS..(band + 1) * ROWS]);
                buckets.entry((band, key)).or_default().push(i);
            }
        }
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for members in buckets.values().filter(|m| m.len() > 1 && m.len() <= MAX_BUCKET) {
            for &a in members {
                for &b in members {
                    let (sa, ma) = &self.entries[a];
                    let (sb, mb) = &self.entries[b];
                    if ma.verdict != Verdict::Authentic
                        || mb.verdict == Verdict::Authentic
                        || ma.message_id == mb.message_id
                    {
                        continue;
                    }
                    if !seen.insert((a, b)) {
                        continue;
                    }
                    let same = sa.iter().zip(sb).filter(|(x, y)| x == y).count();
                    let similarity = same as f64 / HASHES as f64;
                    if similarity >= NEAR_DUPLICATE_SIMILARITY {
                        out.push(NearDuplicate { authentic: ma.clone(), suspect: mb.clone(), similarity });
                    }
                }
            }
        }
        out.sort_by(|x, y| {
            y.similarity.total_cmp(&x.similarity).then_with(|| x.suspect.at.cmp(&y.suspect.at))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "The committee will meet on Thursday to approve the final budget for the autumn campaign and the field offices in the three northern counties";

    #[test]
    fn a_few_changed_words_stay_near_and_another_text_does_not() {
        let a = text_signature(TEXT).expect("long enough");
        let b = text_signature(&TEXT.replace("Thursday", "Friday")).expect("long enough");
        let c = text_signature("Please find attached the minutes of the last meeting of the volunteers and the schedule for the canvassing weekend in the city").expect("long");
        let same = |x: &[u32; HASHES], y: &[u32; HASHES]| x.iter().zip(y).filter(|(p, q)| p == q).count();
        assert!(same(&a, &b) >= 8, "{}", same(&a, &b));
        assert!(same(&a, &c) <= 2, "{}", same(&a, &c));
        assert!(text_signature("too short to say anything").is_none());
    }

    /// The signature as first written: each word lower-cased into a string of its own.
    fn literal_signature(text: &str) -> Option<[u32; HASHES]> {
        let words: Vec<String> = text.split_whitespace().map(|w| w.to_lowercase()).collect();
        if words.len() < MIN_WORDS {
            return None;
        }
        let mut sig = [u32::MAX; HASHES];
        for w in words.windows(3) {
            let joined: String = w.iter().map(|x| format!("{x} ")).collect();
            let h = joined
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
            for (i, slot) in sig.iter_mut().enumerate() {
                *slot = (*slot).min((mix(h ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 32) as u32);
            }
        }
        Some(sig)
    }

    proptest::proptest! {
        #[test]
        fn signatures_match_the_literal_reading_whatever_the_case_and_script(words in proptest::collection::vec(
            proptest::sample::select(vec!["Budget", "BUDGET", "budget", "\u{d6}ffentlich", "\u{3a3}\u{39f}\u{3a3}", "\u{130}stanbul",
                "\u{212a}elvin", "Stra\u{df}e", "a\u{b}b", "x\u{a0}y", "Z", "\u{1e9e}"]), 0..40)) {
            let text = words.join(" ");
            proptest::prop_assert_eq!(text_signature(&text), literal_signature(&text));
        }
    }
}
