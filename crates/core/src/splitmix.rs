//! SplitMix64 (Steele, Lea and Flood 2014): the finaliser that engines use to derive
//! independent hash functions from one, and the small generator built on it that
//! simulations and tests draw reproducible numbers from.

/// The generator's increment: 2^64 divided by the golden ratio, odd.
pub const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser (the MurmurHash3 `fmix64` variant): a bijection on `u64`
/// with good avalanche.
pub fn finalise(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One SplitMix64 step as a pure function: the output for state `z`, before `z` advances
/// by [`GOLDEN_GAMMA`].
pub fn mix(z: u64) -> u64 {
    finalise(z.wrapping_add(GOLDEN_GAMMA))
}

/// The SplitMix64 generator: small, fast and reproducible from its seed (not for secrets).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let out = mix(self.state);
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        out
    }

    /// A number below `n` (which must not be 0), by the remainder: biased by at most
    /// `n / 2^64`, which no simulation here can see.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence() {
        // The first outputs of the reference implementation (Vigna's splitmix64.c)
        // from seed 1234567.
        let mut g = SplitMix64::new(1_234_567);
        let got: Vec<u64> = (0..5).map(|_| g.next_u64()).collect();
        assert_eq!(
            got,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821
            ]
        );
    }

    #[test]
    fn finalise_is_a_bijection_on_samples() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000u64 {
            assert!(seen.insert(finalise(i.wrapping_mul(0x1000_0000_0000_0001))));
        }
        assert_eq!(finalise(0), 0);
    }
}
