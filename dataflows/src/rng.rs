//! A small deterministic PRNG (xoshiro256**) seeded from (run seed, generation, slot).

use serde::{Deserialize, Serialize};

/// SplitMix64 step: advances `state` and returns a well-mixed 64-bit value.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The fixed mixing function used to derive per-(generation, slot) seeds.
///
/// It is part of the determinism contract: changing it changes every run's result.
pub fn mix(seed: u64, generation: u64, slot: u64) -> u64 {
    let mut state = seed;
    let a = splitmix64(&mut state);
    let mut state = a ^ generation.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let b = splitmix64(&mut state);
    let mut state = b ^ slot.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7);
    splitmix64(&mut state)
}

/// A deterministic xoshiro256** generator.
///
/// Every random draw in evoflow comes from an `Rng` built by [`Rng::for_slot`] from the run
/// seed, the generation and the population slot being produced, so results never depend on
/// which worker draws them or in which order workers run. There is no global or thread-local
/// generator.
///
/// ```
/// use evoflow_dataflows::Rng;
/// let mut a = Rng::for_slot(42, 3, 7);
/// let mut b = Rng::for_slot(42, 3, 7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let x = a.next_f64();
/// assert!((0.0..1.0).contains(&x));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator seeded from a single `u64` (expanded with SplitMix64).
    pub fn from_seed(seed: u64) -> Rng {
        let mut state = seed;
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        Rng { s }
    }

    /// The generator for one slot of one generation of a run.
    pub fn for_slot(seed: u64, generation: u64, slot: u64) -> Rng {
        Rng::from_seed(mix(seed, generation, slot))
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform `f64` in `[0, 1)` with 53 bits of precision.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `[0, n)` without modulo bias (Lemire's method). Returns 0 when `n == 0`.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut m = (self.next_u64() as u128) * (n as u128);
        // The rejection threshold (a division) is needed only when the low half is below n,
        // which is rare; the draws accepted are the same either way.
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = (self.next_u64() as u128) * (n as u128);
            }
        }
        (m >> 64) as u64
    }

    /// A uniform index in `[0, n)`.
    #[inline]
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Shuffles `items` in place (Fisher–Yates), every order equally likely.
    #[inline]
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.index(i + 1));
        }
    }

    /// A uniform integer in the inclusive range `[low, high]` (`low` when `high < low`).
    pub fn range_i64(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        let span = (high as i128 - low as i128) as u128 + 1;
        if span > u64::MAX as u128 {
            return self.next_u64() as i64;
        }
        (low as i128 + self.below(span as u64) as i128) as i64
    }

    /// A uniform `f64` in `[low, high)`.
    pub fn range_f64(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }

    /// `true` with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// A standard normal sample (Box–Muller; one sample per call, nothing cached).
    pub fn gaussian(&mut self) -> f64 {
        // 1 - u is in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A normal sample with the given mean and standard deviation.
    pub fn normal(&mut self, mean: f64, std_dev: f64) -> f64 {
        mean + std_dev * self.gaussian()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_seed_generation_and_slot() {
        let base = Rng::for_slot(1, 2, 3).next_u64();
        assert_ne!(base, Rng::for_slot(2, 2, 3).next_u64());
        assert_ne!(base, Rng::for_slot(1, 3, 3).next_u64());
        assert_ne!(base, Rng::for_slot(1, 2, 4).next_u64());
        // Swapping generation and slot must not collide.
        assert_ne!(Rng::for_slot(1, 2, 3).next_u64(), Rng::for_slot(1, 3, 2).next_u64());
    }

    #[test]
    fn known_value_pins_the_algorithm() {
        // xoshiro256** reference: state [1, 2, 3, 4] yields 11520 then 0.
        let mut r = Rng { s: [1, 2, 3, 4] };
        assert_eq!(r.next_u64(), 11520);
        assert_eq!(r.next_u64(), 0);
        assert_eq!(r.next_u64(), 1509978240);
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = Rng::from_seed(9);
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[r.index(7)] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
        assert_eq!(r.below(0), 0);
        for _ in 0..1000 {
            let x = r.range_i64(-3, 3);
            assert!((-3..=3).contains(&x));
        }
    }

    #[test]
    fn below_draws_what_plain_lemire_rejection_draws() {
        // The reference: compute the threshold on every draw.
        fn reference(rng: &mut Rng, n: u64) -> u64 {
            let threshold = n.wrapping_neg() % n;
            loop {
                let m = (rng.next_u64() as u128) * (n as u128);
                if (m as u64) >= threshold {
                    return (m >> 64) as u64;
                }
            }
        }
        for n in [1u64, 2, 3, 7, 1000, (1 << 63) + 1, u64::MAX] {
            let (mut fast, mut plain) = (Rng::from_seed(n), Rng::from_seed(n));
            for _ in 0..2_000 {
                assert_eq!(fast.below(n), reference(&mut plain, n), "n = {n}");
            }
        }
    }

    #[test]
    fn shuffle_is_a_deterministic_permutation() {
        let mut v: Vec<usize> = (0..50).collect();
        Rng::from_seed(3).shuffle(&mut v);
        let mut w: Vec<usize> = (0..50).collect();
        Rng::from_seed(3).shuffle(&mut w);
        assert_eq!(v, w);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn gaussian_has_unit_moments() {
        let mut r = Rng::from_seed(5);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| r.gaussian()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        assert!(xs.iter().all(|x| x.is_finite()));
    }
}
