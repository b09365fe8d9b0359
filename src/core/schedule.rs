//! When to poll next: the progressive schedule for "not ready yet" and the
//! exponential backoff for errors. Both are plain iterators of waits in ms; the
//! job cuts every wait at its deadline.

/// SplitMix64: tiny, seedable, good enough for jitter. Tests pass a seed so
/// every wait is exact.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..=n` (the modulo bias is irrelevant at millisecond scale).
    pub fn up_to(&mut self, n: u64) -> u64 {
        match n.checked_add(1) {
            Some(m) => self.next_u64() % m,
            None => self.next_u64(),
        }
    }
}

/// How a backoff delay is randomised so that many clients do not retry in step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    /// The delay as computed.
    None,
    /// Uniform in `[0, d]` ("full jitter").
    Full,
    /// Uniform in `[d * (1 - f), d]` for a fraction `f` in `[0, 1]`; `Bounded(0.5)` is "equal jitter".
    Bounded(f64),
}

impl Jitter {
    pub fn apply(self, d: u64, rng: &mut SplitMix64) -> u64 {
        match self {
            Jitter::None => d,
            Jitter::Full => rng.up_to(d),
            Jitter::Bounded(f) => {
                let spread = (d as f64 * f.clamp(0.0, 1.0)) as u64;
                d - rng.up_to(spread)
            }
        }
    }
}

impl Jitter {
    /// Spreads a progressive wait around its value (the backoff's `apply`
    /// only shortens): `Bounded(f)` is uniform in `[d (1 - f/2), d (1 + f/2)]`,
    /// `Full` in `[d/2, 3d/2]`. Jobs started together then drift apart
    /// instead of polling in step.
    pub fn spread(self, d: u64, rng: &mut SplitMix64) -> u64 {
        let f = match self {
            Jitter::None => return d,
            Jitter::Full => 1.0,
            Jitter::Bounded(f) => f.clamp(0.0, 1.0),
        };
        let width = (d as f64 * f) as u64;
        (d - width / 2).saturating_add(rng.up_to(width))
    }
}

/// Exponential backoff: the n-th delay (from 0) is
/// `min(initial * multiplier^n, max)`, then jittered.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: u64,
    multiplier: f64,
    max: u64,
    jitter: Jitter,
    rng: SplitMix64,
    n: u32,
}

impl Backoff {
    pub fn new(initial: u64, multiplier: f64, max: u64) -> Self {
        Self {
            initial,
            multiplier,
            max,
            jitter: Jitter::None,
            rng: SplitMix64::new(0),
            n: 0,
        }
    }

    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = SplitMix64::new(seed);
        self
    }

    /// The un-jittered n-th delay.
    pub fn base_delay(&self, n: u32) -> u64 {
        let max = self.max as f64;
        let mut d = self.initial as f64;
        // No `powi` without std; the loop stops as soon as the cap is reached.
        if self.multiplier > 1.0 {
            for _ in 0..n {
                if d >= max {
                    break;
                }
                d *= self.multiplier;
            }
        }
        if d < max {
            d as u64
        } else {
            self.max
        }
    }

    /// The next delay, before jitter, without taking it.
    pub fn peek(&self) -> u64 {
        self.base_delay(self.n)
    }

    /// Starts over from the initial delay (after a success).
    pub fn reset(&mut self) {
        self.n = 0;
    }
}

impl Iterator for Backoff {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let d = self.base_delay(self.n);
        self.n = self.n.saturating_add(1);
        Some(self.jitter.apply(d, &mut self.rng))
    }
}

/// The seed's progressive schedule: 1 s for the first 5 polls, 2 s for the next
/// 5, 5 s for the next 10, 10 s thereafter.
pub fn default_intervals() -> Intervals {
    steps(&[(5, 1000), (5, 2000), (10, 5000), (1, 10_000)])
}

/// Images take seconds (median about 10 s): a steady 2 s while a result is
/// likely, tapering for the rare slow one. The simulator shows it beats both
/// the seed's schedule (whose 1 s start polls before any image can be ready)
/// and the old fixed 2 s loop.
pub fn image_intervals() -> Intervals {
    steps(&[(15, 2000), (10, 3000), (10, 5000), (1, 10_000)])
}

/// Videos take minutes: 3 s (as the old video hook) for half a minute, then 5 s
/// until about two minutes, then 10 s.
pub fn video_intervals() -> Intervals {
    steps(&[(10, 3000), (18, 5000), (1, 10_000)])
}

fn steps(spec: &[(usize, u64)]) -> Intervals {
    Intervals(
        spec.iter()
            .flat_map(|&(n, w)| core::iter::repeat_n(w, n))
            .collect(),
    )
}

/// A list of waits whose last entry repeats forever. Shared, not copied,
/// by the jobs of one configuration (thousands of jobs, one list).
#[derive(Clone, Debug)]
pub struct Intervals(std::rc::Rc<[u64]>);

impl PartialEq for Intervals {
    fn eq(&self, other: &Self) -> bool {
        // Shared lists are the common case: no need to compare their waits.
        self.same(other) || self.0 == other.0
    }
}

impl Intervals {
    /// `None` for an empty list.
    pub fn new(waits: Vec<u64>) -> Option<Self> {
        if waits.is_empty() {
            None
        } else {
            Some(Self(waits.into()))
        }
    }

    /// Whether another holder shares this list.
    pub fn is_shared(&self) -> bool {
        std::rc::Rc::strong_count(&self.0) > 1
    }

    /// Whether two holders share one list (not merely equal ones).
    pub fn same(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }

    /// The wait after the n-th poll (from 0).
    pub fn wait(&self, n: usize) -> u64 {
        self.0.get(n).or(self.0.last()).copied().unwrap_or(0)
    }

    /// How many polls the schedule would have made by `elapsed`: where a job
    /// that falls back from the stream late should resume, instead of starting
    /// again at the fastest rate.
    pub fn position_for_elapsed(&self, elapsed: u64) -> usize {
        let mut sum = 0u64;
        let mut n = 0usize;
        loop {
            let w = self.wait(n).max(1);
            if sum.saturating_add(w) > elapsed {
                return n;
            }
            sum += w;
            n += 1;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..).map(|n| self.wait(n))
    }

    pub fn as_slice(&self) -> &[u64] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_matches_the_seed() {
        let s = default_intervals();
        let first: Vec<u64> = s.iter().take(22).collect();
        let mut want = vec![1000; 5];
        want.extend([2000; 5]);
        want.extend([5000; 10]);
        want.extend([10_000; 2]);
        assert_eq!(first, want);
        assert_eq!(s.wait(1000), 10_000);
    }

    #[test]
    fn position_for_elapsed_skips_the_fast_start() {
        let s = default_intervals();
        assert_eq!(s.position_for_elapsed(0), 0);
        assert_eq!(s.position_for_elapsed(999), 0);
        assert_eq!(s.position_for_elapsed(5000), 5);
        // 5*1 + 5*2 + 10*5 = 65 s: the 10 s stage
        assert_eq!(s.position_for_elapsed(65_000), 20);
        assert_eq!(s.position_for_elapsed(95_000), 23);
    }

    #[test]
    fn empty_intervals_are_rejected() {
        assert!(Intervals::new(vec![]).is_none());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff::new(1000, 2.0, 30_000);
        let d: Vec<u64> = b.take(7).collect();
        assert_eq!(d, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    }

    #[test]
    fn backoff_survives_huge_exponents() {
        let mut b = Backoff::new(1000, 10.0, 30_000);
        assert_eq!(b.base_delay(u32::MAX), 30_000);
        assert_eq!(b.nth(500), Some(30_000));
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(500, 3.0, 100_000);
        b.next();
        b.next();
        b.reset();
        assert_eq!(b.next(), Some(500));
    }

    #[test]
    fn seeded_jitter_is_exact_and_in_range() {
        let full: Vec<u64> = Backoff::new(1000, 2.0, 30_000)
            .with_jitter(Jitter::Full)
            .with_seed(42)
            .take(6)
            .collect();
        let again: Vec<u64> = Backoff::new(1000, 2.0, 30_000)
            .with_jitter(Jitter::Full)
            .with_seed(42)
            .take(6)
            .collect();
        assert_eq!(full, again);
        for (d, cap) in full.iter().zip([1000, 2000, 4000, 8000, 16_000, 30_000]) {
            assert!(*d <= cap);
        }
        // Exact values for seed 42, computed by hand from SplitMix64.
        let mut rng = SplitMix64::new(42);
        let expected: Vec<u64> = [1000u64, 2000, 4000]
            .iter()
            .map(|&c| rng.next_u64() % (c + 1))
            .collect();
        assert_eq!(&full[..3], &expected[..]);

        let bounded: Vec<u64> = Backoff::new(1000, 2.0, 30_000)
            .with_jitter(Jitter::Bounded(0.25))
            .with_seed(7)
            .take(6)
            .collect();
        for (d, cap) in bounded
            .iter()
            .zip([1000u64, 2000, 4000, 8000, 16_000, 30_000])
        {
            assert!(*d <= cap && *d >= cap - cap / 4, "{d} vs {cap}");
        }
    }

    #[test]
    fn spread_is_centred_seeded_and_in_range() {
        let mut a = SplitMix64::new(9);
        let mut b = SplitMix64::new(9);
        let xs: Vec<u64> = (0..200)
            .map(|_| Jitter::Bounded(0.2).spread(2000, &mut a))
            .collect();
        let ys: Vec<u64> = (0..200)
            .map(|_| Jitter::Bounded(0.2).spread(2000, &mut b))
            .collect();
        assert_eq!(xs, ys, "the seed decides");
        assert!(xs.iter().all(|&x| (1800..=2200).contains(&x)));
        assert!(xs.iter().any(|&x| x < 1900) && xs.iter().any(|&x| x > 2100));
        assert_eq!(Jitter::None.spread(2000, &mut a), 2000);
    }

    #[test]
    fn splitmix_reference_values() {
        // Reference output of SplitMix64 seeded with 0.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }
}
