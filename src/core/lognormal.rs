//! The log-normal distribution of completion times the learned schedule
//! fits (`learn`), and the standard normal it is built on. A job's
//! configuration carries one as its estimate, so this sits below both.

/// The widest and narrowest spreads a fit may take.
pub const MIN_SIGMA: f64 = 0.1;
pub const MAX_SIGMA: f64 = 2.0;
/// An estimate of the time left is at most a day.
const MAX_ETA_MS: f64 = 86_400_000.0;

/// A log-normal distribution of completion times (ms): `ln D ~ N(mu, sigma²)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogNormal {
    pub mu: f64,
    pub sigma: f64,
}

impl LogNormal {
    pub fn new(median_ms: f64, sigma: f64) -> Self {
        Self {
            mu: median_ms.max(1.0).ln(),
            sigma: sigma.clamp(MIN_SIGMA, MAX_SIGMA),
        }
    }

    pub fn median(&self) -> f64 {
        self.mu.exp()
    }

    /// P(D <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        normal_cdf((x.ln() - self.mu) / self.sigma)
    }

    /// The `p`-quantile, `p` in (0, 1).
    pub fn quantile(&self, p: f64) -> f64 {
        (self.mu + self.sigma * normal_quantile(p)).exp()
    }

    /// Median of what remains after `elapsed` ms without completion.
    pub fn conditional_median_remaining(&self, elapsed: f64) -> f64 {
        let survive = 1.0 - self.cdf(elapsed);
        if survive <= 1e-12 {
            // Far in the tail: the log-normal's hazard flattens; a fraction
            // of the elapsed time is the honest order of magnitude.
            return elapsed * self.sigma;
        }
        (self.quantile(1.0 - survive / 2.0) - elapsed).max(0.0)
    }

    /// `estimatedTimeRemaining` after `elapsed_ms` without completion: the
    /// conditional median in whole milliseconds, at most a day.
    pub fn eta(&self, elapsed_ms: u64) -> u64 {
        let r = self.conditional_median_remaining(elapsed_ms as f64);
        r.min(MAX_ETA_MS).round() as u64
    }
}

// ---------------------------------------------------------------------------
// The standard normal

/// Φ(z), from the complementary error function (fractional error < 1.2e-7,
/// Numerical Recipes' Chebyshev fit): std has no erf.
fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / core::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Φ⁻¹(p) by Acklam's rational approximation (relative error < 1.2e-9).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}
