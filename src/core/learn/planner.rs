//! The planner: from a fitted distribution and the goals, the poll times
//! that see a share of jobs within the lag goal and nearly all within the
//! tail goal with the fewest expected requests (dynamic programming on a
//! time grid, then a tail wait), as an [`Intervals`].

use super::{Goal, LogNormal};
use crate::core::schedule::{default_intervals, Intervals};

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
