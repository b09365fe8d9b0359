//! A polling schedule learned from the completion times of finished jobs
//! (issue 10): poll densely where completion is likely, sparsely elsewhere.
//!
//! Per media kind, a [`Model`] keeps the last [`MAX_SAMPLES`] completion
//! times and fits a log-normal to them, blended with a prior worth one job.
//! Why a two-parameter fit rather than a histogram: a page sees tens of jobs,
//! not thousands, and a median and a spread are what decide where to poll; a
//! fit settles after about ten jobs where a histogram would still be noise.
//! From the fit, [`Model::schedule`] places poll times by dynamic programming
//! on a grid: fewest expected requests such that a share of jobs (half) is
//! seen within the lag goal and nearly all (95 %) within the tail goal, under
//! the job's request budget. The result is an [`Intervals`], so the job needs
//! no change. [`Model::eta`] is the conditional median of what remains.
//!
//! What is kept across reloads and tabs is `history::Saved`: timestamped
//! samples, merged by every writer.

use super::config::{Config, Media};
use super::lognormal::{MAX_SIGMA, MIN_SIGMA};
use super::schedule::{default_intervals, Intervals};

pub use super::lognormal::LogNormal;

/// Samples kept per kind, small enough to persist. Fewer make the fitted
/// spread noisy: from 32 it came out ±0.1 around the truth, and a fit too
/// narrow leaves long gaps where a few % of the jobs finish, which is the
/// p95 lag (11-14 s instead of 9 s for videos in the simulator).
pub const MAX_SAMPLES: usize = 128;
/// Longer completion times are absurd for a browser page: never learned.
pub const MAX_DURATION_MS: u64 = 86_400_000;
/// Shortest learned duration: below this a job finished at its first poll
/// and the time says nothing about the generation.
pub const MIN_DURATION_MS: u64 = 10;

/// Weight of the prior, in jobs.
const PRIOR_WEIGHT: f64 = 1.0;
/// Share of the fitted distribution the planned schedule covers; the rest is
/// left to the tail wait.
const HORIZON_QUANTILE: f64 = 0.999;
/// Grid points per lag goal in the search (resolution vs. work).
const STEPS_PER_LAG: f64 = 2.0;
/// Upper bound on grid points, so a huge timeout cannot make it slow.
const MAX_GRID: usize = 1500;
const SEARCH_ITERATIONS: u32 = 8;
/// Shares aimed at: the p50 and p95 targets plus a margin, as the fit is an
/// estimate.
const FAST_SHARE: f64 = 0.52;
const TAIL_SHARE: f64 = 0.955;
const MAX_PRICE: f64 = 1e6;
/// Rounds of shrinking the dense stretch by what the sparse polls cover.
const REFINE: u32 = 4;

/// Where the model starts before any job finished.
///
/// Image: median 10 s; video: median 2 min: the seed's description of the
/// product's generations, which the simulator's workloads also use. The
/// spread (0.7) is a little wider than the simulator's 0.6 on purpose: an
/// unknown spread should err towards polling a wider window. Unknown kind:
/// median 30 s and a very wide spread (1.2).
pub fn prior(media: Media) -> LogNormal {
    match media {
        Media::Image => LogNormal::new(10_000.0, 0.7),
        Media::Video => LogNormal::new(120_000.0, 0.7),
        Media::Any => LogNormal::new(30_000.0, 1.2),
    }
}

/// What a schedule aims for and what it must respect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    /// Half the jobs should be seen within this (detection lag p50).
    pub lag_ms: u64,
    /// 95 % of the jobs should be seen within this (detection lag p95).
    pub tail_lag_ms: u64,
    /// Round trip of one request, as assumed by the plan.
    pub rtt_ms: u64,
    /// No wait longer than this (the job caps waits at `maxDelay`).
    pub max_wait_ms: u64,
    /// The wait that repeats after the planned part.
    pub tail_wait_ms: u64,
    /// Requests allowed before `timeout_ms`: the schedule never plans more,
    /// so a wrong estimate cannot make a job fail with max_attempts.
    pub max_requests: u32,
    pub timeout_ms: u64,
}

impl Goal {
    /// What `cfg` aims at (`lagTarget`, `tailLagTarget`: by default the
    /// targets of its preset), within its budget. `_media` is the kind the
    /// plan is for (the targets are the configuration's own).
    pub fn for_config(_media: Media, cfg: &Config) -> Self {
        let (lag_ms, tail_lag_ms) = (cfg.lag_target, cfg.tail_lag_target);
        let max_wait_ms = cfg.max_delay.max(1);
        Self {
            lag_ms,
            tail_lag_ms,
            rtt_ms: 100,
            max_wait_ms,
            tail_wait_ms: tail_lag_ms.min(max_wait_ms),
            max_requests: cfg.max_attempts,
            timeout_ms: cfg.timeout,
        }
    }
}

/// The completion time a job seen complete at `seen_ms` teaches: the
/// midpoint since its last "not ready yet" (`pending_ms`) when polling saw
/// it (see [`Model::observe_between`]), else `seen_ms` (a stream's word).
pub fn completion_time(pending_ms: Option<u64>, seen_ms: u64) -> u64 {
    match pending_ms {
        Some(p) => {
            let lower = p.min(seen_ms);
            lower + (seen_ms - lower) / 2
        }
        None => seen_ms,
    }
}

/// Completion times of one media kind: the last [`MAX_SAMPLES`] in a ring.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    prior: LogNormal,
    samples: [u32; MAX_SAMPLES],
    len: usize,
    /// Where the next sample goes once the ring is full.
    next: usize,
}

impl Model {
    pub fn new(prior: LogNormal) -> Self {
        Self {
            prior,
            samples: [0; MAX_SAMPLES],
            len: 0,
            next: 0,
        }
    }

    /// Learns a finished job's completion time; `false` (ignored) when it
    /// is not plausible (below [`MIN_DURATION_MS`] or over a day).
    pub fn observe(&mut self, duration_ms: u64) -> bool {
        if !(MIN_DURATION_MS..=MAX_DURATION_MS).contains(&duration_ms) {
            return false;
        }
        let d = duration_ms as u32; // a day fits
        if self.len < MAX_SAMPLES {
            self.samples[self.len] = d;
            self.len += 1;
        } else {
            self.samples[self.next] = d;
            self.next = (self.next + 1) % MAX_SAMPLES;
        }
        true
    }

    /// Learns a job seen complete at `seen_ms` (elapsed) whose previous
    /// answer, at `pending_ms`, still said pending. The completion lies in
    /// between: learning the midpoint rather than `seen_ms` keeps the
    /// schedule's own gaps out of the estimate (else sparse polls would
    /// teach "later", which makes polls sparser still).
    pub fn observe_between(&mut self, pending_ms: u64, seen_ms: u64) -> bool {
        self.observe(completion_time(Some(pending_ms), seen_ms))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = u32> + '_ {
        let (newer, older) = self.samples[..self.len].split_at(self.next);
        older.iter().chain(newer).copied()
    }

    /// The prior updated with the samples, as a normal in log-time with a
    /// known-weight prior: the mean moves towards the samples' as they come
    /// in, and a disagreement between them widens the spread, so a wrong
    /// prior makes the schedule cautious rather than confident.
    pub fn estimate(&self) -> LogNormal {
        let n = self.len as f64;
        if self.len == 0 {
            return self.prior;
        }
        let mean = self.samples().map(|d| f64::from(d).ln()).sum::<f64>() / n;
        let var = self
            .samples()
            .map(|d| {
                let e = f64::from(d).ln() - mean;
                e * e
            })
            .sum::<f64>()
            / n;
        let k = PRIOR_WEIGHT;
        let total = k + n;
        let shift = mean - self.prior.mu;
        let mu = (k * self.prior.mu + n * mean) / total;
        let pooled =
            (k * self.prior.sigma * self.prior.sigma + n * var + k * n / total * shift * shift)
                / total;
        LogNormal {
            mu,
            sigma: pooled.sqrt().clamp(MIN_SIGMA, MAX_SIGMA),
        }
    }

    /// Expected remaining time after `elapsed_ms`, as a job of this kind
    /// reports it (`LogNormal::eta` of the estimate).
    pub fn eta(&self, elapsed_ms: u64) -> u64 {
        self.estimate().eta(elapsed_ms)
    }

    /// The schedule for the next job of this kind.
    pub fn schedule(&self, goal: &Goal) -> Intervals {
        plan(&self.estimate(), goal)
    }
}

/// Planned poll times (grid indices after the first poll, which is at 0) and
/// what the model predicts for them.
struct Plan {
    polls: Vec<u32>,
    /// Predicted share seen within the lag goal and within the tail goal.
    share: f64,
    tail_share: f64,
}

/// The time grid of one search and the model's probabilities on it.
struct Grid {
    step: f64,
    /// `cdf[k]`: probability that a poll at grid point `k` sees the result.
    cdf: Vec<f64>,
    /// The dense gap: a job that completes within it is seen within the lag
    /// goal.
    lag_steps: usize,
    tail_steps: usize,
    max_gap: usize,
}

impl Grid {
    fn new(dist: &LogNormal, goal: &Goal) -> Self {
        // The server reads the state half-way through the round trip and the
        // answer needs all of it: a poll at t sees a job done by t + rtt / 2
        // within the lag goal if it was done after t + rtt - lag.
        let half = goal.rtt_ms as f64 / 2.0;
        let window = (goal.lag_ms as f64 - half).max(1.0);
        let horizon = dist
            .quantile(HORIZON_QUANTILE)
            .min(goal.timeout_ms as f64)
            .max(window);
        let step = (window / STEPS_PER_LAG).max(horizon / MAX_GRID as f64);
        let n = (horizon / step).ceil() as usize;
        let cdf = (0..=n).map(|k| dist.cdf(k as f64 * step + half)).collect();
        let tail_window = (goal.tail_lag_ms as f64 - half).max(window);
        Self {
            step,
            cdf,
            lag_steps: ((window / step) as usize).max(1),
            tail_steps: ((tail_window / step) as usize).max(1),
            max_gap: ((goal.max_wait_ms as f64 / step) as usize).max(1),
        }
    }

    fn last(&self) -> usize {
        self.cdf.len() - 1
    }

    /// Probability that the job is still running when a poll at `k` is due:
    /// the poll after `k` costs this many requests per job.
    fn survive(&self, k: usize) -> f64 {
        1.0 - self.cdf[k]
    }

    /// Share of jobs a poll at `b` after one at `a` sees within `steps`.
    fn seen(&self, a: usize, b: usize, steps: usize) -> f64 {
        self.cdf[b] - self.cdf[a.max(b.saturating_sub(steps))]
    }

    /// Value of the sparse gap `a -> b` at tail price `price`.
    fn gap_value(&self, a: usize, b: usize, price: f64) -> f64 {
        self.survive(a) - price * self.seen(a, b, self.tail_steps)
    }

    /// Best sparse polls from 0 to each point (`to`) and from each point to
    /// the end (`from`), with the polls that reach them.
    fn sparse(&self, price: f64) -> Sparse {
        let n = self.last();
        let mut to = vec![f64::INFINITY; n + 1];
        let mut to_prev = vec![0u32; n + 1];
        to[0] = 1.0; // the first poll, at 0
        for b in 1..=n {
            for a in b.saturating_sub(self.max_gap)..b {
                let v = to[a] + self.gap_value(a, b, price);
                if v < to[b] {
                    to[b] = v;
                    to_prev[b] = a as u32;
                }
            }
        }
        let mut from = vec![f64::INFINITY; n + 1];
        let mut from_next = vec![n as u32; n + 1];
        from[n] = 0.0;
        for a in (0..n).rev() {
            for b in a + 1..=(a + self.max_gap).min(n) {
                let v = self.gap_value(a, b, price) + from[b];
                if v < from[a] {
                    from[a] = v;
                    from_next[a] = b as u32;
                }
            }
        }
        Sparse {
            to,
            to_prev,
            from,
            from_next,
        }
    }

    /// Cheapest plan at tail price `price` with one dense stretch (polls
    /// one lag goal apart) that covers `share` of the jobs, sparse polls
    /// before and after it.
    fn solve(&self, share: f64, price: f64) -> Plan {
        let n = self.last();
        let d = self.lag_steps;
        let sparse = self.sparse(price);
        // `strided[k]`: survival at k, k - d, k - 2d, ... summed: the cost of
        // dense polls in O(1).
        let mut strided = vec![0.0; n + 1];
        for k in 0..=n {
            strided[k] = self.survive(k) + if k >= d { strided[k - d] } else { 0.0 };
        }
        let mut best = (f64::INFINITY, 0usize, 0usize);
        let mut b = 0usize;
        for a in 0..=n {
            if share <= 0.0 {
                // No dense stretch: the sparse plan alone.
                best = (sparse.to[n], n, n);
                break;
            }
            b = b.max(a);
            while b < n && self.cdf[b] - self.cdf[a] < share {
                b += 1;
            }
            if self.cdf[b] - self.cdf[a] < share && a > 0 {
                break; // no later start covers enough either
            }
            // Polls at a + d, a + 2d, ..., b: each costs the survival at the
            // poll before it.
            let polls = (b - a).div_ceil(d);
            let last_from = a + (polls.max(1) - 1) * d;
            let dense = strided[last_from] - if a >= d { strided[a - d] } else { 0.0 };
            let dense = if polls == 0 { 0.0 } else { dense };
            let v = sparse.to[a] + dense - price * (self.cdf[b] - self.cdf[a]) + sparse.from[b];
            if v < best.0 {
                best = (v, a, b);
            }
        }
        let (_, a, b) = best;
        let mut polls = Vec::new();
        let mut k = a;
        while k > 0 {
            polls.push(k as u32);
            k = sparse.to_prev[k] as usize;
        }
        polls.reverse();
        let mut k = a;
        while k < b {
            k = (k + d).min(b);
            polls.push(k as u32);
        }
        let mut k = b;
        while k < n {
            k = sparse.from_next[k] as usize;
            polls.push(k as u32);
        }
        self.evaluate(polls)
    }

    /// [`Grid::solve`] at the lowest tail price that meets `want_tail`,
    /// searched from `guess` (the last round's price) and returned with it.
    fn for_tail(&self, dense: f64, want_tail: f64, guess: f64) -> (Plan, f64) {
        let at_zero = self.solve(dense, 0.0);
        if at_zero.tail_share >= want_tail {
            return (at_zero, 0.0);
        }
        let (mut lo, mut hi) = (guess / 2.0, guess.max(0.5));
        let mut at_hi = self.solve(dense, hi);
        while at_hi.tail_share < want_tail && hi < MAX_PRICE {
            lo = hi;
            hi *= 4.0;
            at_hi = self.solve(dense, hi);
        }
        if lo > 0.0 && self.solve(dense, lo).tail_share >= want_tail {
            lo = 0.0;
        }
        for _ in 0..SEARCH_ITERATIONS {
            let mid = (lo + hi) / 2.0;
            let p = self.solve(dense, mid);
            if p.tail_share >= want_tail {
                hi = mid;
                at_hi = p;
            } else {
                lo = mid;
            }
        }
        (at_hi, hi)
    }

    fn evaluate(&self, polls: Vec<u32>) -> Plan {
        let (mut share, mut tail_share, mut prev) = (0.0, 0.0, 0usize);
        for &p in &polls {
            let p = p as usize;
            share += self.seen(prev, p, self.lag_steps);
            tail_share += self.seen(prev, p, self.tail_steps);
            prev = p;
        }
        Plan {
            polls,
            share,
            tail_share,
        }
    }
}

struct Sparse {
    to: Vec<f64>,
    to_prev: Vec<u32>,
    from: Vec<f64>,
    from_next: Vec<u32>,
}

/// Fewest expected requests for `dist` that meet `goal`. The jobs seen
/// within the lag goal come from one dense stretch, placed where it costs
/// least (where the hazard is highest); the tail goal is a price per job seen
/// within it, searched by bisection, that sets the sparse polls around the
/// stretch (dynamic programming on the grid). When the plan would break the
/// request budget, the tail price and then the dense share give way.
pub fn plan(dist: &LogNormal, goal: &Goal) -> Intervals {
    let grid = Grid::new(dist, goal);
    let covered = grid.cdf[grid.last()];
    let want = FAST_SHARE * covered;
    let want_tail = TAIL_SHARE * covered;
    let fits = |p: &Plan| tail_wait(&grid, p, goal).is_some();
    // The sparse polls see some jobs within the lag goal too: the dense
    // stretch only needs to cover the rest.
    let mut dense = want;
    let (mut best, mut price) = grid.for_tail(dense, want_tail, 1.0);
    for _ in 0..REFINE {
        let next = (dense + want - best.share).max(0.0).min(want);
        if (next - dense).abs() < 0.002 {
            break;
        }
        let (p, at) = grid.for_tail(next, want_tail, price);
        dense = next;
        price = at;
        if p.share >= want || best.share < want {
            best = p;
        }
    }
    if !fits(&best) {
        // Over budget: the highest tail price that fits.
        let (mut lo, mut hi) = (0.0f64, price);
        best = grid.solve(dense, 0.0);
        for _ in 0..SEARCH_ITERATIONS {
            let mid = (lo + hi) / 2.0;
            let p = grid.solve(dense, mid);
            if fits(&p) {
                lo = mid;
                best = p;
            } else {
                hi = mid;
            }
        }
    }
    if !fits(&best) {
        // The largest dense share that fits.
        let (mut lo, mut hi) = (0.0f64, dense);
        best = grid.solve(0.0, 0.0);
        for _ in 0..SEARCH_ITERATIONS {
            let mid = (lo + hi) / 2.0;
            let p = grid.solve(mid, 0.0);
            if fits(&p) {
                lo = mid;
                best = p;
            } else {
                hi = mid;
            }
        }
    }
    match tail_wait(&grid, &best, goal) {
        Some(tail) => to_intervals(&grid, &best, tail),
        // Not even the sparsest plan fits the budget: a steady wait that does.
        None => Intervals::new(vec![steady_wait(goal)]).unwrap_or_else(default_intervals),
    }
}

/// The tail wait that keeps the plan within the request budget up to the
/// timeout: at least the goal's, at most the longest wait; `None` if even
/// that breaks the budget.
fn tail_wait(grid: &Grid, p: &Plan, goal: &Goal) -> Option<u64> {
    let end = grid.last() as f64 * grid.step;
    let rest = (goal.timeout_ms as f64 - end).max(0.0);
    let used = 1 + p.polls.len() as u64;
    let left = u64::from(goal.max_requests).checked_sub(used)?;
    let max_wait = goal.max_wait_ms.max(1);
    let want = goal.tail_wait_ms.clamp(1, max_wait);
    if rest <= 0.0 {
        return Some(want);
    }
    if left == 0 {
        return None;
    }
    let needed = (rest / left as f64).ceil() as u64;
    (needed <= max_wait).then_some(want.max(needed))
}

/// A constant wait that stays within the budget until the timeout.
fn steady_wait(goal: &Goal) -> u64 {
    let polls = u64::from(goal.max_requests.max(2) - 1);
    goal.timeout_ms
        .div_ceil(polls)
        .max(goal.tail_wait_ms)
        .max(1)
}

fn to_intervals(grid: &Grid, p: &Plan, tail: u64) -> Intervals {
    let mut waits = Vec::with_capacity(p.polls.len() + 1);
    let mut prev = 0u64;
    for &k in &p.polls {
        let t = (f64::from(k) * grid.step).round() as u64;
        waits.push(t.saturating_sub(prev).max(1));
        prev = t;
    }
    waits.push(tail);
    // Never empty (the tail wait is always there).
    Intervals::new(waits).unwrap_or_else(default_intervals)
}

/// One model per media kind: what the browser layer keeps per manager.
#[derive(Clone, Debug, PartialEq)]
pub struct Learned {
    pub image: Model,
    pub video: Model,
    pub any: Model,
}

impl Default for Learned {
    fn default() -> Self {
        Self {
            image: Model::new(prior(Media::Image)),
            video: Model::new(prior(Media::Video)),
            any: Model::new(prior(Media::Any)),
        }
    }
}

impl Learned {
    pub fn model(&self, media: Media) -> &Model {
        match media {
            Media::Image => &self.image,
            Media::Video => &self.video,
            Media::Any => &self.any,
        }
    }

    pub fn model_mut(&mut self, media: Media) -> &mut Model {
        match media {
            Media::Image => &mut self.image,
            Media::Video => &mut self.video,
            Media::Any => &mut self.any,
        }
    }

    /// Learns a job that completed after `duration_ms`. Only completions
    /// count: a failed or stopped job says nothing about generation time.
    pub fn observe(&mut self, media: Media, duration_ms: u64) -> bool {
        self.model_mut(media).observe(duration_ms)
    }

    /// [`Model::observe_between`] for a job of `media`.
    pub fn observe_between(&mut self, media: Media, pending_ms: u64, seen_ms: u64) -> bool {
        self.model_mut(media).observe_between(pending_ms, seen_ms)
    }

    /// The schedule for the next job of `media` run under `cfg`.
    pub fn schedule(&self, media: Media, cfg: &Config) -> Intervals {
        self.model(media).schedule(&Goal::for_config(media, cfg))
    }
}

/// The history a job of `kind` learns from and teaches: its endpoint's
/// (0: the file url template, 1: the project url template). Checkers learn
/// nothing: their durations say nothing about a generator.
pub fn history_slot(kind: super::table::Kind) -> Option<usize> {
    use super::table::Kind;
    match kind {
        Kind::File => Some(0),
        Kind::Project => Some(1),
        Kind::Check => None,
    }
}

/// Completed jobs of a kind before its learned schedule replaces the
/// preset's: a prior alone is a guess about the page's generator.
pub const LEARNED_AFTER: usize = 3;

/// The schedules and estimates planned from learned models, computed once
/// per history (`slot`), media kind and goal (which holds every limit of the
/// configuration a schedule must fit): a fit reads every sample.
#[derive(Clone, Debug, Default)]
pub struct Planned {
    entries: Vec<((usize, Media, Goal), Intervals, LogNormal)>,
}

impl Planned {
    /// Gives `cfg` the schedule and estimate learned in `model` (history
    /// `slot`), once the model has seen [`LEARNED_AFTER`] jobs; before,
    /// `cfg` keeps its preset.
    pub fn apply(&mut self, slot: usize, model: &Model, cfg: &mut Config) {
        if model.len() < LEARNED_AFTER {
            return;
        }
        let key = (slot, cfg.media, Goal::for_config(cfg.media, cfg));
        let found = self.entries.iter().find(|(k, ..)| *k == key);
        let (intervals, estimate) = match found {
            Some((_, s, e)) => (s.clone(), *e),
            None => {
                let made = (model.schedule(&key.2), model.estimate());
                self.entries.push((key, made.0.clone(), made.1));
                made
            }
        };
        cfg.intervals = intervals;
        cfg.estimate = Some(estimate);
    }

    /// The history of `slot` learned something: its plans are stale.
    pub fn forget(&mut self, slot: usize) {
        self.entries.retain(|((s, ..), ..)| *s != slot);
    }

    /// How many plans are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_goal() -> Goal {
        Goal::for_config(Media::Image, &Config::image())
    }

    /// Polls a schedule makes up to `timeout`, the first one included.
    fn polls_until(s: &Intervals, timeout: u64) -> usize {
        let mut t = 0;
        let mut n = 0;
        while t <= timeout {
            t += s.wait(n);
            n += 1;
        }
        n
    }

    /// Share of jobs drawn from `truth` that a schedule sees within
    /// `lag_ms`, with the goal's round trip (the server reads the state
    /// half-way), up to `until`.
    fn seen_within(s: &Intervals, truth: &LogNormal, goal: &Goal, lag_ms: u64, until: u64) -> f64 {
        let rtt = goal.rtt_ms as f64;
        let (mut t, mut seen_before, mut share) = (0.0, 0.0, 0.0);
        let mut n = 0;
        while t <= until as f64 {
            let seen = truth.cdf(t + rtt / 2.0);
            let fast_from = truth.cdf(t + rtt - lag_ms as f64).max(seen_before);
            share += (seen - fast_from).max(0.0);
            seen_before = seen;
            t += rtt + s.wait(n) as f64;
            n += 1;
        }
        share
    }

    /// The p95 tail share of videos with plans fitted to `samples` jobs
    /// drawn from the simulator's distribution, one fit per seed.
    fn tail_shares(samples: usize) -> Vec<f64> {
        let truth = LogNormal::new(120_000.0, 0.6);
        let cfg = Config::video();
        let goal = Goal::for_config(Media::Video, &cfg);
        (1..=12u64)
            .map(|seed| {
                let mut rng = crate::core::schedule::SplitMix64::new(seed);
                let mut unit = || ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
                let mut m = Model::new(prior(Media::Video));
                for _ in 0..samples {
                    // Box-Muller: one standard normal per pair of draws.
                    let (u1, u2) = (unit(), unit());
                    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                    m.observe((truth.mu + truth.sigma * z).exp() as u64);
                }
                let s = m.schedule(&goal);
                seen_within(&s, &truth, &goal, goal.tail_lag_ms, cfg.timeout)
            })
            .collect()
    }

    /// Requests a schedule costs per job drawn from `truth`, up to `until`:
    /// the first always goes, each later one only if the one before did not
    /// see the result (in the round-trip model of [`seen_within`]).
    fn expected_requests(s: &Intervals, truth: &LogNormal, goal: &Goal, until: u64) -> f64 {
        let rtt = goal.rtt_ms as f64;
        let (mut t, mut n, mut sum, mut seen_before) = (0.0, 0, 0.0, 0.0);
        while t <= until as f64 {
            sum += 1.0 - seen_before;
            seen_before = truth.cdf(t + rtt / 2.0);
            t += rtt + s.wait(n) as f64;
            n += 1;
        }
        sum
    }

    /// What a schedule does for jobs drawn from `truth` under `cfg`.
    #[derive(Debug)]
    struct Outcome {
        /// Share seen within the lag goal (p50) and the tail goal (p95).
        lag: f64,
        tail: f64,
        requests: f64,
        /// Requests sent before the timeout by a job that never completes.
        budget: usize,
    }

    fn outcome(s: &Intervals, truth: &LogNormal, goal: &Goal, cfg: &Config) -> Outcome {
        Outcome {
            lag: seen_within(s, truth, goal, goal.lag_ms, cfg.timeout),
            tail: seen_within(s, truth, goal, goal.tail_lag_ms, cfg.timeout),
            requests: expected_requests(s, truth, goal, cfg.timeout),
            budget: polls_until(s, cfg.timeout),
        }
    }

    /// What every plan must achieve for the distribution it was made for,
    /// among the jobs that finish before the timeout: about half seen
    /// within the lag goal (the plan is laid out on a grid of answers, and
    /// each real wait starts a round trip later, so a few per cent are
    /// lost), no fewer than the default progressive schedule sees, and 95 %
    /// within the tail goal; at less than 60 % of the requests of a steady
    /// poll that meets the lag goal everywhere; within the request budget,
    /// and every wait within `maxDelay`, the last (the one that repeats) no
    /// shorter than the tail goal asks.
    fn assert_plan_meets_its_goals(s: &Intervals, truth: &LogNormal, media: Media, cfg: &Config) {
        let goal = Goal::for_config(media, cfg);
        let plan = outcome(s, truth, &goal, cfg);
        let default = outcome(&default_intervals(), truth, &goal, cfg);
        let gap = goal.lag_ms - goal.rtt_ms * 3 / 2;
        let steady = outcome(&Intervals::new(vec![gap]).unwrap(), truth, &goal, cfg);
        let why =
            format!("plan {plan:?}, default schedule {default:?}, steady {steady:?}, waits {s:?}");
        assert!(
            steady.lag > 0.98,
            "the steady reference meets the lag goal: {why}"
        );
        let finishing = truth.cdf(cfg.timeout as f64);
        assert!(plan.lag >= 0.47 * finishing, "lag goal: {why}");
        assert!(plan.lag >= default.lag, "lag goal: {why}");
        assert!(plan.tail >= 0.95 * finishing, "tail goal: {why}");
        assert!(plan.requests < 0.6 * steady.requests, "requests: {why}");
        assert!(plan.budget <= cfg.max_attempts as usize, "budget: {why}");
        let waits = s.as_slice();
        assert!(
            waits.iter().all(|&w| (1..=cfg.max_delay).contains(&w)),
            "{why}"
        );
        let last = *waits.last().expect("a wait");
        assert!(last >= goal.tail_wait_ms, "tail wait: {why}");
    }

    #[test]
    fn a_full_history_keeps_the_tail_goal_at_least_as_well_as_a_short_one() {
        // The plan aims at 95.5 %; a fit from 128 samples stays near it.
        let min = |v: &[f64]| v.iter().copied().fold(1.0, f64::min);
        let full = tail_shares(MAX_SAMPLES);
        assert!(min(&full) >= 0.93, "{full:?}");
        // The reason the history is this long: fits of fewer jobs spread
        // wider around the truth, so their worst plan is no better.
        let short = tail_shares(32);
        assert!(min(&full) >= min(&short) - 0.01, "{full:?} vs {short:?}");
    }

    #[test]
    fn the_prior_schedule_meets_the_goals_of_its_kind() {
        let cfg = Config::image();
        let model = Model::new(prior(Media::Image));
        let s = model.schedule(&image_goal());
        assert_plan_meets_its_goals(&s, &model.estimate(), Media::Image, &cfg);
        // The first request still goes at once (the job's own rule); the
        // plan's first wait leaves the earliest, unlikely completions to it.
        let first = s.wait(0);
        assert!(first > image_goal().lag_ms, "{s:?}");
    }

    #[test]
    fn a_learned_schedule_meets_the_goals_and_costs_less_when_the_times_agree() {
        let cfg = Config::image();
        let goal = image_goal();
        let mut m = Model::new(prior(Media::Image));
        for d in [6_000, 8_000, 9_000, 10_000, 11_000, 12_000, 14_000, 20_000] {
            assert!(m.observe(d));
        }
        let learned = m.estimate();
        assert!(learned.sigma < prior(Media::Image).sigma, "{learned:?}");
        let s = m.schedule(&goal);
        assert_plan_meets_its_goals(&s, &learned, Media::Image, &cfg);
        // A narrower spread needs a shorter dense stretch: for the same
        // jobs, fewer requests than the prior's plan (which polls densely
        // over a wider window than they need).
        let before = Model::new(prior(Media::Image)).schedule(&goal);
        let (now, then) = (
            outcome(&s, &learned, &goal, &cfg),
            outcome(&before, &learned, &goal, &cfg),
        );
        assert!(now.requests < then.requests, "{now:?} vs {then:?}");
    }

    #[test]
    fn video_and_any_plans_meet_their_goals_too() {
        for (media, cfg) in [
            (Media::Video, Config::video()),
            (Media::Any, Config::default()),
        ] {
            let model = Model::new(prior(media));
            let s = model.schedule(&Goal::for_config(media, &cfg));
            assert_plan_meets_its_goals(&s, &model.estimate(), media, &cfg);
        }
    }

    #[test]
    fn eta_is_the_conditional_median() {
        let m = Model::new(prior(Media::Image));
        assert_eq!(m.eta(0), 10_000);
        // Half of those still running at the median finish by the 75th
        // percentile: 10 s * e^(0.7 * 0.674) = 16.03 s.
        assert_eq!(m.eta(10_000), 6034);
        // Later, the remaining time still grows more slowly than elapsed.
        let late = m.eta(60_000);
        assert!(late > 6034 && late < 60_000, "{late}");
        // The learned estimate feeds it as soon as jobs finish.
        let mut fast = Model::new(prior(Media::Image));
        for _ in 0..MAX_SAMPLES {
            fast.observe(5000);
        }
        assert!(fast.eta(0) < 5300, "{}", fast.eta(0));
        // Never more than a day, however slow the fit.
        let slow = LogNormal::new(10.0 * MAX_DURATION_MS as f64, 2.0);
        assert_eq!(slow.eta(0), MAX_DURATION_MS);
    }

    #[test]
    fn observe_ignores_absurd_durations_and_keeps_the_last_samples() {
        let mut m = Model::new(prior(Media::Video));
        assert!(!m.observe(0));
        assert!(!m.observe(MAX_DURATION_MS + 1));
        assert!(m.is_empty());
        let over = MAX_SAMPLES as u64 + 8;
        for d in 1..=over {
            assert!(m.observe(d * 1000));
        }
        assert_eq!(m.len(), MAX_SAMPLES);
        let kept: Vec<u32> = m.samples().collect();
        let want: Vec<u32> = (9..=over as u32).map(|d| d * 1000).collect();
        assert_eq!(kept, want);
        // The midpoint of the last pending answer and the completion.
        let mut m = Model::new(prior(Media::Video));
        assert!(m.observe_between(100_000, 110_000));
        assert_eq!(m.samples().collect::<Vec<_>>(), [105_000]);
    }

    #[test]
    fn a_wrong_prior_is_unlearned() {
        let truth = LogNormal::new(120_000.0, 0.6);
        let mut rng = crate::core::schedule::SplitMix64::new(7);
        let mut too_short = Model::new(LogNormal::new(40_000.0, 0.7));
        let mut too_long = Model::new(LogNormal::new(360_000.0, 0.7));
        for _ in 0..MAX_SAMPLES {
            let u = ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
            let d = truth.quantile(u) as u64;
            too_short.observe(d);
            too_long.observe(d);
        }
        for m in [&too_short, &too_long] {
            let median = m.estimate().median();
            assert!((100_000.0..145_000.0).contains(&median), "{median}");
        }
        // The plans converge: where the dense stretch starts.
        let goal = Goal::for_config(Media::Video, &Config::video());
        let dense_start = |m: &Model| {
            let s = m.schedule(&goal);
            let w = s.as_slice();
            let k = w.iter().position(|&x| x <= goal.lag_ms).unwrap_or(w.len());
            w[..k].iter().sum::<u64>()
        };
        let (a, b) = (dense_start(&too_short), dense_start(&too_long));
        assert!(a.abs_diff(b) < 20_000, "{a} vs {b}");
        let wrong = Model::new(LogNormal::new(40_000.0, 0.7));
        assert!(dense_start(&wrong) < a / 2);
    }

    #[test]
    fn schedules_stay_within_the_request_budget() {
        for media in [Media::Image, Media::Video, Media::Any] {
            for cfg in [Config::default(), Config::image(), Config::video()] {
                let goal = Goal::for_config(media, &cfg);
                for scale in [0.1, 1.0 / 3.0, 1.0, 3.0, 10.0] {
                    let p = prior(media);
                    let dist = LogNormal {
                        mu: p.mu + f64::ln(scale),
                        ..p
                    };
                    let s = plan(&dist, &goal);
                    let n = polls_until(&s, cfg.timeout);
                    assert!(n <= cfg.max_attempts as usize, "{media:?} {scale}: {n}");
                    assert!(s.as_slice().iter().all(|&w| w >= 1 && w <= cfg.max_delay));
                }
            }
        }
    }

    #[test]
    fn plans_wait_for_three_jobs_and_are_planned_once_per_goal() {
        let mut planned = Planned::default();
        let mut model = Model::new(prior(Media::Image));
        let preset = Config::image();
        for d in [9000, 10_000] {
            model.observe(d);
        }
        let mut cfg = preset.clone();
        planned.apply(0, &model, &mut cfg);
        assert_eq!(cfg, preset, "two jobs: the preset stays");
        model.observe(11_000);
        let mut cfg = preset.clone();
        planned.apply(0, &model, &mut cfg);
        assert_eq!(
            cfg.intervals,
            model.schedule(&Goal::for_config(Media::Image, &preset))
        );
        assert_eq!(cfg.estimate, Some(model.estimate()));
        // The same goal again: the cached plan (one entry); another slot or
        // limit: another plan.
        let mut again = preset.clone();
        planned.apply(0, &model, &mut again);
        assert_eq!(again, cfg);
        assert_eq!(planned.len(), 1);
        let mut longer = Config {
            timeout: 900_000,
            ..preset.clone()
        };
        planned.apply(0, &model, &mut longer);
        planned.apply(1, &model, &mut preset.clone());
        assert_eq!(planned.len(), 3);
        planned.forget(0);
        assert_eq!(planned.len(), 1, "slot 1's plan stays");
    }

    #[test]
    fn the_goal_is_the_configurations() {
        use crate::core::config::Options;
        let image = Goal::for_config(Media::Image, &Config::image());
        assert_eq!((image.lag_ms, image.tail_lag_ms), (1000, 4000));
        // `media` alone brings its kind's targets; options name their own.
        let read = |json: &str| -> Config {
            let o: Options = serde_json::from_str(json).unwrap();
            o.config(&Options::default()).unwrap()
        };
        let c = read(r#"{"media": "video"}"#);
        assert_eq!((c.lag_target, c.tail_lag_target), (2000, 9500));
        let c = read(r#"{"preset": "image", "lagTarget": 500, "tailLagTarget": 2000}"#);
        let goal = Goal::for_config(Media::Image, &c);
        assert_eq!((goal.lag_ms, goal.tail_lag_ms), (500, 2000));
        let o: Options =
            serde_json::from_str(r#"{"lagTarget": 5000, "tailLagTarget": 1000}"#).unwrap();
        assert!(
            o.config(&Options::default()).is_err(),
            "the tail is not before the median"
        );
        // A tighter goal plans denser polls.
        let mut model = Model::new(prior(Media::Image));
        for d in [8000, 10_000, 12_000] {
            model.observe(d);
        }
        let loose = model.schedule(&Goal::for_config(Media::Image, &Config::image()));
        let tight = model.schedule(&goal);
        let densest = |s: &Intervals| (0..64).map(|n| s.wait(n)).min().unwrap_or(0);
        assert!(densest(&tight) < densest(&loose), "{tight:?} vs {loose:?}");
    }
}
