//! Counter-based randomness: every draw is a pure function of (seed, entity, stream), so
//! chunks of a scenario can be generated in parallel and in any order with identical output.

/// One SplitMix64 step as a pure function of the state.
pub use scrutineer_core::splitmix::mix;

/// A stream of draws for one entity.
pub struct Draws {
    state: u64,
}

impl Draws {
    pub fn new(seed: u64, entity: u64, stream: u64) -> Draws {
        Draws { state: mix(mix(seed ^ mix(entity)) ^ stream.wrapping_mul(0xD134_2543_DE82_EF95)) }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { ((self.next_u64() as u128 * n as u128) >> 64) as u64 }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}
