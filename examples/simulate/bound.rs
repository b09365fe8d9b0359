//! A lower bound on the mean requests per job of *any* polling policy that
//! meets given lag goals: how far a target is from what can be done at all,
//! not from what our planner does.
//!
//! The simulator's server reads a job's state halfway through a round trip
//! in `LATENCY_MIN..=LATENCY_MAX` ms. So a request sent at `t` sees a job
//! done at `d` only if `d <= t + LATENCY_MAX / 2`, and its answer comes at
//! best `t + LATENCY_MIN - d` ms after `d`. Relaxed to their best case:
//! - every request sent at `t < d - LATENCY_MAX / 2` is a miss, and the job
//!   makes one more request once (if ever) it sends at or after that;
//! - the lag is within `goal` only if that request goes by
//!   `d + goal - LATENCY_MIN`.
//!
//! Every run of the simulator that sees every job obeys the relaxed rules,
//! so the relaxed optimum bounds it from below (a policy that gives up on
//! some jobs is handled by the caller: see `completion_cost`). In this
//! simulator a "pending" answer says nothing about when the job will end,
//! durations are independent draws and jobs run one after another, so a
//! policy's send times for a job, until it sees it, are a random sequence
//! independent of that job's duration (round trips, jitter, what it learned
//! from earlier jobs): a mixture of fixed sequences. For any multipliers
//! `λ, μ >= 0`, weak duality then bounds `E[requests]` from below by the
//! minimum over send times of `E[requests - λ·fast - μ·fast_tail]`, plus
//! `λ·needed + μ·needed_tail`. The bound is in expectation over the
//! distribution: a schedule fitted to one sample of it is not covered on
//! that sample. The minimum is an exact dynamic programme over send times
//! in whole milliseconds (the simulator's clock), here with every job seen
//! in the end, and optionally the first send at once and no gap longer than
//! a wait cap: the kinds of policy the product allows.

use std::collections::VecDeque;

/// The share of jobs in the far tail that a bound may treat as seen early.
const IGNORED_TAIL: f64 = 1e-7;

/// Jobs that must be within `lag_ms`, as a share of all jobs.
#[derive(Clone, Copy, Debug)]
pub struct Goal {
    pub lag_ms: u64,
    pub share: f64,
}

/// The relaxed problem for one distribution of durations.
pub struct Relaxed {
    /// `seen[i]`: the share of jobs a send at `t = i - offset` sees (done
    /// by `t + LATENCY_MAX / 2`), for `t` in `-offset..=horizon`.
    seen: Vec<f64>,
    offset: usize,
    latency: (u64, u64),
    /// Whether the first request goes at once (at 0), as every policy in
    /// the simulator sends it.
    at_once: bool,
    /// The longest time between two sends (from the start, for the first).
    max_gap: Option<usize>,
}

/// The cheapest send times for one pair of multipliers.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// E[requests - λ·fast - μ·fast_tail] per job, minimised.
    pub value: f64,
    pub sends: Vec<u64>,
    /// Per job: mean requests, share within the goal, within the tail goal.
    pub requests: f64,
    pub fast: f64,
    pub fast_tail: f64,
}

impl Relaxed {
    /// `cdf(d)`: the share of jobs done by `d` ms (whole ms; all of them
    /// from `cap_ms` on); `latency`: the round trip's range in ms. Sends are
    /// considered up to the point where every job is seen, lag goals up to
    /// `max_window_ms`.
    pub fn new(
        cdf: impl Fn(f64) -> f64,
        cap_ms: u64,
        latency: (u64, u64),
        max_window_ms: u64,
    ) -> Self {
        let reach = latency.1 / 2;
        let horizon = cap_ms.saturating_sub(reach) as usize;
        let offset = (max_window_ms + reach) as usize + 2;
        let mut seen: Vec<f64> = (0..=offset + horizon)
            .map(|i| {
                let d = i as f64 - offset as f64 + reach as f64;
                if d >= cap_ms as f64 {
                    1.0
                } else {
                    cdf(d).clamp(0.0, 1.0)
                }
            })
            .collect();
        // Past the point where all but `IGNORED_TAIL` of the jobs are seen,
        // a send is taken to see them all: only more generous, and far
        // shorter for a long thin tail.
        if let Some(end) = seen.iter().position(|&f| f >= 1.0 - IGNORED_TAIL) {
            seen.truncate(end.max(offset) + 1);
            if let Some(last) = seen.last_mut() {
                *last = 1.0;
            }
        }
        Self {
            seen,
            offset,
            latency,
            at_once: false,
            max_gap: None,
        }
    }

    /// Only policies that wait at most `ms` after an answer: sends at most
    /// `ms` plus a round trip apart.
    pub fn max_wait(self, ms: u64) -> Self {
        Self {
            max_gap: Some((ms + self.latency.1) as usize),
            ..self
        }
    }

    /// Only policies whose first request goes at once.
    pub fn at_once(self) -> Self {
        Self {
            at_once: true,
            ..self
        }
    }

    /// An empirical distribution: `durations` in ms, each with equal weight.
    #[cfg(test)]
    pub fn from_sample(durations: &[u64], latency: (u64, u64), max_window_ms: u64) -> Self {
        let mut sorted = durations.to_vec();
        sorted.sort_unstable();
        let n = sorted.len().max(1) as f64;
        let cap = sorted.last().copied().unwrap_or(0);
        let cdf = |d: f64| sorted.partition_point(|&x| x as f64 <= d) as f64 / n;
        Self::new(cdf, cap, latency, max_window_ms)
    }

    /// The most requests a job may need to be seen at all once its policy
    /// gave up on it: sends from 0 to the horizon, no further apart than
    /// the longest gap.
    pub fn completion_cost(&self) -> f64 {
        self.max_gap
            .map_or(1, |g| self.horizon().div_ceil(g).max(1)) as f64
    }

    fn horizon(&self) -> usize {
        self.seen.len() - 1 - self.offset
    }

    /// Share of jobs seen by a send at `t` (`t` at least `-offset`).
    fn f(&self, t: i64) -> f64 {
        let i = (t + self.offset as i64).clamp(0, self.seen.len() as i64 - 1);
        self.seen[i as usize]
    }

    /// A send at `t` brings the lag within `lag_ms` only for jobs that it is
    /// the first to see and that it could not see at `t - window` already
    /// (durations are whole milliseconds, like send times).
    fn window(&self, lag_ms: u64) -> i64 {
        (lag_ms + self.latency.1 / 2 + 1) as i64 - self.latency.0 as i64
    }

    /// Requests - λ·(jobs within `goal`) - μ·(jobs within `tail`) per job,
    /// minimised over all send times in `0..=horizon` (a later send sees
    /// nothing more); `tail` no tighter than `goal`.
    pub fn solve(&self, goal: u64, lambda: f64, tail: u64, mu: f64) -> Solution {
        let (w1, w2) = (self.window(goal), self.window(tail));
        assert!(w1 <= w2 && w2 < self.offset as i64 && lambda >= 0.0 && mu >= 0.0);
        let horizon = self.horizon();
        // value[t]: the best over send times that end with a send at t;
        // every job not yet seen after τ pays the next send.
        let mut value = vec![0.0f64; horizon + 1];
        let mut prev = vec![usize::MAX; horizon + 1];
        let next_cost = |value: &[f64], tau: usize| value[tau] + 1.0 - self.f(tau as i64);
        // The previous send τ falls in one of three stretches before t:
        // A, τ <= t - w2: sliding minimum of cost;
        // B, t - w2 < τ <= t - w1: sliding minimum of cost + μ·F(τ);
        // C, t - w1 < τ < t: sliding minimum of cost + (λ + μ)·F(τ);
        // each only from t - gap on;
        // or there is no send before (`usize::MAX`): every job pays this
        // one, which must then be at 0 if the first send goes at once, and
        // within the longest gap of the start.
        let gap = self.max_gap.map_or(i64::MAX, |g| g as i64);
        let none = (1.0, usize::MAX);
        let (mut next_a, mut next_b) = (0usize, 0usize);
        let mut stretch_a: VecDeque<(usize, f64)> = VecDeque::new();
        let mut stretch_b: VecDeque<(usize, f64)> = VecDeque::new();
        let mut stretch_c: VecDeque<(usize, f64)> = VecDeque::new();
        let push = |dq: &mut VecDeque<(usize, f64)>, tau: usize, key: f64| {
            while dq.back().is_some_and(|&(_, k)| k >= key) {
                dq.pop_back();
            }
            dq.push_back((tau, key));
        };
        for t in 0..=horizon {
            let ti = t as i64;
            while next_a < t && next_a as i64 <= ti - w2 {
                push(&mut stretch_a, next_a, next_cost(&value, next_a));
                next_a += 1;
            }
            while stretch_a
                .front()
                .is_some_and(|&(tau, _)| (tau as i64) < ti - gap)
            {
                stretch_a.pop_front();
            }
            while next_b < t && next_b as i64 <= ti - w1 {
                let key = next_cost(&value, next_b) + mu * self.f(next_b as i64);
                push(&mut stretch_b, next_b, key);
                next_b += 1;
            }
            while stretch_b
                .front()
                .is_some_and(|&(tau, _)| tau as i64 <= ti - w2 || (tau as i64) < ti - gap)
            {
                stretch_b.pop_front();
            }
            if t > 0 {
                let key = next_cost(&value, t - 1) + (lambda + mu) * self.f(ti - 1);
                push(&mut stretch_c, t - 1, key);
            }
            while stretch_c
                .front()
                .is_some_and(|&(tau, _)| tau as i64 <= ti - w1 || (tau as i64) < ti - gap)
            {
                stretch_c.pop_front();
            }
            let ft = self.f(ti);
            let within1 = ft - self.f(ti - w1);
            let within2 = ft - self.f(ti - w2);
            let first = t == 0 || (!self.at_once && ti <= gap);
            let a = match stretch_a.front() {
                Some(&(tau, key)) if !first || key < none.0 => (key, tau),
                _ if first => none,
                _ => (f64::INFINITY, usize::MAX),
            };
            let mut best = (a.0 - lambda * within1 - mu * within2, a.1);
            if let Some(&(tau, key)) = stretch_b.front() {
                let v = key - lambda * within1 - mu * ft;
                if v < best.0 {
                    best = (v, tau);
                }
            }
            if let Some(&(tau, key)) = stretch_c.front() {
                let v = key - (lambda + mu) * ft;
                if v < best.0 {
                    best = (v, tau);
                }
            }
            (value[t], prev[t]) = best;
        }
        // Every job must be seen: the last send is at the horizon.
        let (best_value, mut last) = (value[horizon], horizon);
        let mut sends = Vec::new();
        while last != usize::MAX {
            sends.push(last as u64);
            last = prev[last];
        }
        sends.reverse();
        let (requests, fast, fast_tail) = self.evaluate(&sends, goal, tail);
        Solution {
            value: best_value,
            sends,
            requests,
            fast,
            fast_tail,
        }
    }

    /// Relaxed mean requests, and shares within `goal` and `tail`, of
    /// increasing send times.
    pub fn evaluate(&self, sends: &[u64], goal: u64, tail: u64) -> (f64, f64, f64) {
        let (w1, w2) = (self.window(goal), self.window(tail));
        let (mut requests, mut fast, mut fast_tail) = (0.0, 0.0, 0.0);
        let mut before: Option<i64> = None;
        for &t in sends {
            let t = t as i64;
            let seen_before = before.map_or(0.0, |b| self.f(b));
            requests += 1.0 - seen_before;
            let from = |w: i64| before.map_or(t - w, |b| b.max(t - w));
            fast += self.f(t) - self.f(from(w1));
            fast_tail += self.f(t) - self.f(from(w2));
            before = Some(t);
        }
        (requests, fast, fast_tail)
    }

    /// The largest lower bound found on mean requests per job for policies
    /// meeting `goal` (and `tail`, if any). The dual is concave and any
    /// multipliers give a valid bound; nested bisection on the shares (its
    /// subgradients) only tightens it.
    pub fn bound(&self, goal: Goal, tail: Option<Goal>) -> f64 {
        let tail_goal = tail.unwrap_or(Goal {
            lag_ms: goal.lag_ms,
            share: 0.0,
        });
        let over_lambda = |mu: f64| -> (f64, f64) {
            let dual = |lambda: f64| {
                let s = self.solve(goal.lag_ms, lambda, tail_goal.lag_ms, mu);
                let d = s.value + lambda * goal.share + mu * tail_goal.share;
                (d, s)
            };
            let best_of = |lambda| {
                let (d, s) = dual(lambda);
                (d, s.fast_tail)
            };
            let search = bisect(goal.share, 24, |lambda| {
                let (d, s) = dual(lambda);
                (d, s.fast)
            });
            best_of(search.best)
        };
        if tail.is_none() {
            return over_lambda(0.0).0;
        }
        over_lambda(bisect(tail_goal.share, 16, over_lambda).best).0
    }
}

impl Relaxed {
    /// The cheapest send times found that reach both shares: for a few
    /// tail multipliers, the smallest goal multiplier whose relaxed optimum
    /// reaches `goal`. A schedule, not a bound: what the bound's own
    /// programme would plan knowing the distribution.
    pub fn cheapest(&self, goal: Goal, tail: Goal) -> Option<Solution> {
        let solve = |lambda, mu| self.solve(goal.lag_ms, lambda, tail.lag_ms, mu);
        let mut best: Option<Solution> = None;
        for mu in [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0] {
            let search = bisect(goal.share, 24, |lambda| {
                let s = solve(lambda, mu);
                (s.value + lambda * goal.share, s.fast)
            });
            let Some(lambda) = search.reaching else {
                continue;
            };
            let s = solve(lambda, mu);
            let meets = s.fast >= goal.share && s.fast_tail >= tail.share;
            if meets && best.as_ref().is_none_or(|b| s.requests < b.requests) {
                best = Some(s);
            }
        }
        best
    }
}

/// A search over one multiplier: the one with the best dual value seen,
/// and the smallest seen whose relaxed optimum reaches the share (`None` if
/// none does).
struct Search {
    best: f64,
    reaching: Option<f64>,
}

/// Bisects on a multiplier of a concave dual `dual(m) = (value, share
/// reached)`, towards the point where the share is just reached.
fn bisect(share: f64, iterations: u32, dual: impl Fn(f64) -> (f64, f64)) -> Search {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let mut best = (dual(lo).0, lo);
    loop {
        let (d, reached) = dual(hi);
        if d > best.0 {
            best = (d, hi);
        }
        if reached >= share {
            break;
        }
        if hi > 1e9 {
            return Search {
                best: best.1,
                reaching: None,
            };
        }
        (lo, hi) = (hi, hi * 2.0);
    }
    for _ in 0..iterations {
        let mid = 0.5 * (lo + hi);
        let (d, reached) = dual(mid);
        if d > best.0 {
            best = (d, mid);
        }
        if reached < share {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Search {
        best: best.1,
        reaching: Some(hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round trip 2-4 ms: a send sees jobs done up to 2 ms later, and a
    /// job is within a goal if it is seen by the goal (less 2 ms) after it
    /// finished.
    const LATENCY: (u64, u64) = (2, 4);
    const DURATIONS: [u64; 9] = [3, 4, 4, 6, 9, 10, 11, 13, 15];

    fn relaxed() -> Relaxed {
        Relaxed::from_sample(&DURATIONS, LATENCY, 8)
    }

    /// The relaxed rules applied job by job, apart from `evaluate`.
    fn by_job(sends: &[u64], goal: u64, tail: u64) -> (f64, f64, f64) {
        let n = DURATIONS.len() as f64;
        let (mut requests, mut fast, mut fast_tail) = (0.0, 0.0, 0.0);
        for &d in &DURATIONS {
            let seen = d.saturating_sub(LATENCY.1 / 2);
            let first = sends.iter().position(|&t| t >= seen);
            requests += first.map_or(sends.len(), |i| i + 1) as f64;
            if let Some(i) = first {
                // At best the answer comes LATENCY.0 after the send.
                let answered = sends[i] + LATENCY.0;
                fast += f64::from(u8::from(answered <= d + goal));
                fast_tail += f64::from(u8::from(answered <= d + tail));
            }
        }
        (requests / n, fast / n, fast_tail / n)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn evaluate_follows_the_relaxed_rules_job_by_job() {
        let r = relaxed();
        for sends in [
            vec![],
            vec![0],
            vec![2, 5, 9],
            vec![1, 2, 3, 8, 13],
            vec![13],
        ] {
            // (Sends that miss some jobs are evaluated too.)
            let (a, b) = (r.evaluate(&sends, 2, 5), by_job(&sends, 2, 5));
            assert!(
                close(a.0, b.0) && close(a.1, b.1) && close(a.2, b.2),
                "{sends:?}: {a:?} vs {b:?}"
            );
        }
    }

    /// Every schedule the relaxed problem allows: sends in `0..=horizon`,
    /// the last at the horizon, the first at 0 if `at_once`, none further
    /// apart (or from 0) than the longest gap.
    fn every_schedule(r: &Relaxed) -> impl Iterator<Item = Vec<u64>> {
        let horizon = r.horizon() as u64;
        let at_once = r.at_once;
        let gap = r.max_gap.map_or(u64::MAX, |g| g as u64);
        (0u32..1 << (horizon + 1))
            .filter(move |mask| mask >> horizon & 1 == 1 && (!at_once || mask & 1 == 1))
            .map(move |mask| {
                (0..=horizon)
                    .filter(|t| mask >> t & 1 == 1)
                    .collect::<Vec<_>>()
            })
            .filter(move |sends| {
                let from_start = std::iter::once(&0).chain(sends.iter());
                from_start.zip(sends.iter()).all(|(a, b)| b - a <= gap)
            })
    }

    /// The kinds of policy the tests compare: any, first send at once, at
    /// once with waits of at most 6 (sends at most 10 apart), any with the
    /// same cap, and at once with sends at most 5 apart (shorter than the
    /// longest window).
    fn kinds() -> [Relaxed; 5] {
        [
            relaxed(),
            relaxed().at_once(),
            relaxed().at_once().max_wait(6),
            relaxed().max_wait(6),
            relaxed().at_once().max_wait(1),
        ]
    }

    #[test]
    fn the_programme_finds_the_exhaustive_optimum() {
        for r in kinds() {
            assert_eq!(r.horizon(), 13);
            for (goal, tail) in [(1, 1), (2, 5), (3, 8), (0, 4)] {
                for (lambda, mu) in [(0.0, 0.0), (3.0, 0.0), (7.5, 2.0), (1.0, 9.0), (20.0, 20.0)] {
                    let objective = |s: &[u64]| {
                        let (q, f, g) = r.evaluate(s, goal, tail);
                        q - lambda * f - mu * g
                    };
                    let best = every_schedule(&r)
                        .map(|s| objective(&s))
                        .fold(f64::INFINITY, f64::min);
                    let s = r.solve(goal, lambda, tail, mu);
                    let case = format!("{} {:?} {goal} {tail} {lambda} {mu}", r.at_once, r.max_gap);
                    assert!(close(s.value, best), "{case}: {} vs {best}", s.value);
                    assert!(close(objective(&s.sends), best), "{case}");
                    assert_eq!(s.sends.last(), Some(&13));
                    if r.at_once {
                        assert_eq!(s.sends.first(), Some(&0));
                    }
                }
            }
        }
    }

    /// The cheapest mixture of two schedules (`(requests, fast, fast_tail)`
    /// each) that reaches both shares on average, if any.
    fn mixed(x: (f64, f64, f64), y: (f64, f64, f64), a: f64, b: f64) -> Option<f64> {
        // Weight w on y: each share is linear in w.
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        for (cx, cy, want) in [(x.1, y.1, a), (x.2, y.2, b)] {
            let slope = cy - cx;
            if slope.abs() < 1e-12 {
                if cx < want - 1e-12 {
                    return None;
                }
            } else if slope > 0.0 {
                lo = lo.max((want - cx) / slope);
            } else {
                hi = hi.min((want - cx) / slope);
            }
        }
        (lo <= hi + 1e-12).then(|| {
            let cost = |w: f64| x.0 + w * (y.0 - x.0);
            cost(lo).min(cost(hi.max(lo)))
        })
    }

    /// Every allowed schedule's `(requests, fast, fast_tail)`, the cheapest
    /// for each pair of shares.
    fn outcomes(r: &Relaxed, goal: u64, tail: u64) -> Vec<(f64, f64, f64)> {
        let mut best: Vec<(f64, f64, f64)> = Vec::new();
        for sends in every_schedule(r) {
            let o = r.evaluate(&sends, goal, tail);
            match best.iter_mut().find(|b| close(b.1, o.1) && close(b.2, o.2)) {
                Some(b) if o.0 < b.0 => *b = o,
                Some(_) => {}
                None => best.push(o),
            }
        }
        best
    }

    /// The cheapest mixture of at most two allowed schedules that reaches
    /// both shares on average.
    fn cheapest_mixture(r: &Relaxed, goal: Goal, tail: Goal) -> f64 {
        let points = outcomes(r, goal.lag_ms, tail.lag_ms);
        let mut best = f64::INFINITY;
        for &x in &points {
            for &y in &points {
                if let Some(c) = mixed(x, y, goal.share, tail.share) {
                    best = best.min(c);
                }
            }
        }
        best
    }

    #[test]
    fn the_bound_is_below_every_mixture_of_schedules_that_meets_the_goals() {
        let goal = Goal {
            lag_ms: 2,
            share: 0.5,
        };
        let tail = Goal {
            lag_ms: 5,
            share: 0.8,
        };
        let no_tail = Goal {
            lag_ms: 5,
            share: 0.0,
        };
        for r in kinds() {
            let bound = r.bound(goal, Some(tail));
            let fixed = every_schedule(&r)
                .filter_map(|sends| {
                    let (q, f, g) = r.evaluate(&sends, goal.lag_ms, tail.lag_ms);
                    (f >= goal.share && g >= tail.share).then_some(q)
                })
                .fold(f64::INFINITY, f64::min);
            let mixture = cheapest_mixture(&r, goal, tail);
            assert!(mixture <= fixed + 1e-9);
            assert!(bound <= mixture + 1e-9, "{bound} > {mixture}");
            // Randomising between schedules is what the bound allows, and
            // with one goal two schedules are all a mixture needs: there
            // the bound is the cheapest mixture, found by the bisection.
            let one = r.bound(goal, None);
            assert!((one - cheapest_mixture(&r, goal, no_tail)).abs() < 1e-6);
            assert!(one <= bound + 1e-9);
            // The programme's own cheapest schedule meets the goals, costs
            // no less than the bound, and no less than the exhaustive best.
            let s = r.cheapest(goal, tail).expect("a schedule meets the goals");
            let (q, f, g) = r.evaluate(&s.sends, goal.lag_ms, tail.lag_ms);
            assert!(f >= goal.share && g >= tail.share && close(q, s.requests));
            assert!(q >= fixed - 1e-9 && q >= bound - 1e-9);
        }
        // Seeing every job from 0 takes one send, or two 10 apart by 13, or
        // three 5 apart.
        let costs: Vec<f64> = kinds().iter().map(Relaxed::completion_cost).collect();
        assert_eq!(costs, [1.0, 1.0, 2.0, 2.0, 3.0]);
        // The longest gap binds: the fewest requests take more with it.
        let [_, at_once, capped, ..] = kinds();
        assert!(capped.solve(1, 0.0, 1, 0.0).value > at_once.solve(1, 0.0, 1, 0.0).value + 0.1);
        // A first request at 0 sees none of these jobs and changes no lag:
        // it costs exactly one more.
        let (free, at_once) = (
            relaxed().bound(goal, None),
            relaxed().at_once().bound(goal, None),
        );
        assert!(close(at_once, free + 1.0), "{free} vs {at_once}");
    }
}
