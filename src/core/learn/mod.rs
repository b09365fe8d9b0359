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
//! This file holds the models and the cache of plans; `planner` the
//! search; `tests` what a plan must achieve.
//!
//! What is kept across reloads and tabs is `history::Saved`: timestamped
//! samples, merged by every writer.

use super::config::{Config, Media};
use super::lognormal::{MAX_SIGMA, MIN_SIGMA};
use super::schedule::Intervals;

mod planner;
pub use planner::plan;

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
mod tests;
