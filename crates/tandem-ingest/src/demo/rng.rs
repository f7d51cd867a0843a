//! The demo's own PRNG: xoshiro256** seeded through splitmix64. Owning the algorithm (rather than
//! borrowing a crate's, whose choices may change between versions) and using only integer
//! arithmetic and basic IEEE operations keeps the demo identical on every machine.

pub(super) struct Rng {
    state: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// One independent stream per generation phase, so that a change in one phase (say, more
    /// enablers) leaves the draws of the others, and hence most of the ecosystem, unchanged.
    pub fn stream(seed: u64, phase: &str) -> Rng {
        // FNV-1a of the phase name.
        let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
        for byte in phase.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01B3);
        }
        let mut mix = seed ^ hash;
        // splitmix64 is a bijection of its counter, so at most one of four outputs can be zero:
        // the xoshiro state is never all zeros.
        let state = [
            splitmix64(&mut mix),
            splitmix64(&mut mix),
            splitmix64(&mut mix),
            splitmix64(&mut mix),
        ];
        Rng { state }
    }

    pub fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = &mut self.state;
        let result = s1.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = *s1 << 17;
        *s2 ^= *s0;
        *s3 ^= *s1;
        *s1 ^= *s2;
        *s0 ^= *s3;
        *s2 ^= t;
        *s3 = s3.rotate_left(45);
        result
    }

    /// A uniform index in `0..n` (0 when `n` is 0), by Lemire's multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A uniform number in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// A uniform integer in `low..=high`.
    pub fn between(&mut self, low: u32, high: u32) -> u32 {
        let span = high.saturating_sub(low) as usize + 1;
        low + self.below(span) as u32
    }

    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    /// `expected` rounded up or down at random so that the mean is exactly `expected`: counts
    /// drawn this way hit their targets with far less noise than binomial draws would.
    pub fn round_random(&mut self, expected: f64) -> u64 {
        if expected.is_nan() || expected <= 0.0 {
            return 0;
        }
        (expected + self.unit()) as u64
    }

    /// `k` distinct indices from `0..n` (all of them when `k ≥ n`), by a partial Fisher–Yates.
    pub fn sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut indices: Vec<usize> = (0..n).collect();
        let k = k.min(n);
        for i in 0..k {
            let j = i + self.below(n - i);
            indices.swap(i, j);
        }
        indices.truncate(k);
        indices
    }
}

/// A non-empty table to draw from uniformly. Pools are `static`s, so the emptiness check in
/// [`Pool::new`] runs at compile time.
pub(super) struct Pool<T: 'static> {
    items: &'static [T],
}

impl<T> Pool<T> {
    pub const fn new(items: &'static [T]) -> Pool<T> {
        assert!(!items.is_empty(), "a pool needs at least one item");
        Pool { items }
    }

    pub fn pick(&self, rng: &mut Rng) -> &'static T {
        // `below(len)` < len and `new` refused an empty table, so the index is in range.
        &self.items[rng.below(self.items.len())]
    }

    #[cfg(test)]
    pub fn items(&self) -> &'static [T] {
        self.items
    }
}

/// A non-empty table of items with integer weights, checked at compile time like [`Pool`].
pub(super) struct Weighted<T: Copy + 'static> {
    items: &'static [(T, u32)],
    total: u32,
}

impl<T: Copy> Weighted<T> {
    pub const fn new(items: &'static [(T, u32)]) -> Weighted<T> {
        let mut total = 0;
        let mut i = 0;
        while i < items.len() {
            total += items[i].1;
            i += 1;
        }
        assert!(total > 0, "weights must not all be zero");
        Weighted { items, total }
    }

    pub fn pick(&self, rng: &mut Rng) -> T {
        let mut rest = rng.below(self.total as usize) as u32;
        for &(item, weight) in self.items {
            if rest < weight {
                return item;
            }
            rest -= weight;
        }
        // `rest` < total, so the loop has returned; `new` refused an empty table.
        self.items[0].0
    }

    #[cfg(test)]
    pub fn items(&self) -> impl Iterator<Item = T> {
        self.items.iter().map(|&(item, _)| item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // First outputs of Vigna's splitmix64.c for seed 0.
        let mut state = 0;
        assert_eq!(splitmix64(&mut state), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(&mut state), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn streams_are_reproducible_and_independent() {
        let draw = |seed, phase| {
            let mut rng = Rng::stream(seed, phase);
            (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, "groups"), draw(7, "groups"));
        assert_ne!(draw(7, "groups"), draw(7, "ties"));
        assert_ne!(draw(7, "groups"), draw(8, "groups"));
    }

    #[test]
    fn draws_stay_in_range_and_are_roughly_uniform() {
        let mut rng = Rng::stream(1, "test");
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            let i = rng.below(6);
            counts[i] += 1;
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            assert!((3..=5).contains(&rng.between(3, 5)));
        }
        for c in counts {
            assert!((9_400..10_600).contains(&c), "{counts:?}");
        }
        assert_eq!(rng.below(0), 0);
        let sample = rng.sample(10, 4);
        let mut sorted = sample.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 4);
        assert!(sample.iter().all(|&i| i < 10));
        assert_eq!(rng.sample(3, 9).len(), 3);
    }

    #[test]
    fn random_rounding_keeps_the_mean() {
        let mut rng = Rng::stream(2, "test");
        let total: u64 = (0..10_000).map(|_| rng.round_random(0.37)).sum();
        assert!((3_550..3_850).contains(&total), "{total}");
        assert_eq!(rng.round_random(0.0), 0);
        assert_eq!(rng.round_random(f64::NAN), 0);
        assert!((4..=5).contains(&rng.round_random(4.5)));
    }
}
