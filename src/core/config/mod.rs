//! Job configuration: the seed's `PollingConfig` names and defaults, plus what
//! a production poller needs. All durations are milliseconds.
//!
//! Why the defaults differ from the seed's table: with `maxAttempts: 20` the
//! progressive schedule gives up after about 65 s (5x1 s + 5x2 s + 10x5 s),
//! and with `timeout: 300000` a 5-minute video is declared failed a few seconds
//! before its result could be seen. So the strict overall `timeout` is the bound
//! that matters and defaults to the seed's other figure, 7 minutes; `maxAttempts`
//! is a safety net on the request count, 60 by default, which the default
//! schedule reaches only after about 7.5 minutes (20 polls in 65 s, then 10 s
//! apart). A 5-minute video therefore completes under the defaults (tested).
//!
//! This file holds the resolved [`Config`] and the rules that check and
//! apply options to it; `options` the options as they arrive from JS.

use serde::Deserialize;

mod options;
pub use options::{field_names, Lenient, Options};

use super::error::PollError;
use super::schedule::{default_intervals, image_intervals, video_intervals, Intervals, Jitter};

/// What kind of result a job waits for; decides which urls count as the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Media {
    /// Any url counts, as the old video hook did.
    #[default]
    Any,
    Image,
    Video,
}

impl Media {
    /// The default `(lagTarget, tailLagTarget)` of a learned schedule for
    /// jobs of this kind: image results are near, video ones far.
    pub fn targets(self) -> (u64, u64) {
        match self {
            Media::Image => (1000, 4000),
            Media::Video => (2000, 9500),
            Media::Any => (2000, 9000),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Waits between polls while the result is not ready; the last one repeats.
    pub intervals: Intervals,
    /// First error backoff delay.
    pub initial_delay: u64,
    /// Cap of the error backoff and of the progressive waits.
    pub max_delay: u64,
    pub backoff_multiplier: f64,
    pub jitter: Jitter,
    /// Seed of the jitter; the browser layer draws one per job.
    pub seed: u64,
    /// Requests per job before giving up with `max_attempts`.
    pub max_attempts: u32,
    /// Strict overall time limit of a job.
    pub timeout: u64,
    /// Consecutive 404s before giving up with `not_found`.
    pub max_not_found: u32,
    /// Wait after a 429 without a usable Retry-After (the seed's 60 s).
    pub rate_limit_delay: u64,
    /// Cap on what a server's Retry-After can make us wait.
    pub max_retry_after: u64,
    /// Per-request timeout.
    pub request_timeout: u64,
    /// Whether to try the event stream first.
    pub use_stream: bool,
    /// How long the stream may take to open before polling takes over.
    pub sse_connect_timeout: u64,
    /// While the stream is open, poll this often anyway, in case a proxy
    /// buffers the stream or it stalls silently (0 = never).
    pub stream_poll_interval: u64,
    /// Unreadable stream messages in a row before the stream is dropped.
    pub max_stream_garbage: u32,
    pub media: Media,
    /// Transient errors in a row (not 429s or 404s) before giving up with
    /// the last of them; `None`: no limit but the timeout.
    pub max_consecutive_errors: Option<u32>,
    /// The distribution of completion times learned for this kind of job
    /// (see `learn`): `estimatedTimeRemaining` comes from it.
    pub estimate: Option<super::lognormal::LogNormal>,
    /// What a learned schedule aims at: half the jobs seen within
    /// `lag_target` ms of their completion, 95 % within `tail_lag_target`.
    pub lag_target: u64,
    pub tail_lag_target: u64,
    /// Whether the job polls on the schedule learned from this page's
    /// completed jobs (after a few) and teaches it its own completion;
    /// `false` keeps the presets.
    pub learn: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            intervals: default_intervals(),
            initial_delay: 1000,
            max_delay: 30_000,
            backoff_multiplier: 2.0,
            jitter: Jitter::Bounded(0.2),
            seed: 0,
            max_attempts: 60,
            timeout: 420_000,
            max_not_found: 10,
            rate_limit_delay: 60_000,
            max_retry_after: 300_000,
            request_timeout: 15_000,
            use_stream: true,
            sse_connect_timeout: 10_000,
            stream_poll_interval: 30_000,
            max_stream_garbage: 3,
            media: Media::Any,
            max_consecutive_errors: None,
            estimate: None,
            lag_target: Media::Any.targets().0,
            tail_lag_target: Media::Any.targets().1,
            learn: true,
        }
    }
}

impl Config {
    /// Preset for image generations: a schedule tuned for jobs of seconds,
    /// image results only.
    pub fn image() -> Self {
        Self {
            intervals: image_intervals(),
            media: Media::Image,
            lag_target: Media::Image.targets().0,
            tail_lag_target: Media::Image.targets().1,
            ..Self::default()
        }
    }

    /// Preset for video generations: slower start, longer limits.
    pub fn video() -> Self {
        Self {
            intervals: video_intervals(),
            media: Media::Video,
            timeout: 600_000,
            // The learned schedule polls densely where videos finish: 150
            // attempts leave room for its slow tail (see BENCHMARKS.md).
            max_attempts: 150,
            lag_target: Media::Video.targets().0,
            tail_lag_target: Media::Video.targets().1,
            ..Self::default()
        }
    }

    /// Applies options coming from JS (numbers as f64), validating each one.
    pub fn apply(&mut self, o: &Options) -> Result<(), PollError> {
        self.apply_upstream(o)?;
        if let Some(list) = &o.intervals {
            let mut waits = Vec::with_capacity(list.len());
            for &w in list {
                waits.push(positive_ms(
                    w,
                    "intervals must be finite numbers of milliseconds > 0",
                )?);
            }
            self.intervals = Intervals::new(waits)
                .ok_or(PollError::InvalidConfig("intervals must not be empty"))?;
        }
        set_ms(
            &mut self.initial_delay,
            o.initial_delay,
            "initialDelay must be a finite number of milliseconds > 0",
        )?;
        set_ms(
            &mut self.max_delay,
            o.max_delay,
            "maxDelay must be a finite number of milliseconds > 0",
        )?;
        set_ms(
            &mut self.timeout,
            o.timeout,
            "timeout must be a finite number of milliseconds > 0",
        )?;
        set_ms(
            &mut self.request_timeout,
            o.request_timeout,
            "requestTimeout must be a finite number of milliseconds > 0",
        )?;
        set_ms(
            &mut self.sse_connect_timeout,
            o.sse_connect_timeout,
            "sseConnectTimeout must be a finite number of milliseconds > 0",
        )?;
        set_ms(
            &mut self.rate_limit_delay,
            o.rate_limit_delay,
            "rateLimitDelay must be a finite number of milliseconds > 0",
        )?;
        set_ms(
            &mut self.max_retry_after,
            o.max_retry_after,
            "maxRetryAfter must be a finite number of milliseconds > 0",
        )?;
        if let Some(v) = o.stream_poll_interval {
            self.stream_poll_interval = ms(
                v,
                "streamPollInterval must be a finite number of milliseconds >= 0",
            )?;
        }
        if let Some(m) = o.backoff_multiplier {
            if !(m.is_finite() && m >= 1.0) {
                return Err(PollError::InvalidConfig(
                    "backoffMultiplier must be a finite number >= 1",
                ));
            }
            self.backoff_multiplier = m;
        }
        if let Some(j) = o.jitter {
            if !(0.0..=1.0).contains(&j) {
                return Err(PollError::InvalidConfig(
                    "jitter must be a fraction from 0 to 1",
                ));
            }
            self.jitter = if j == 0.0 {
                Jitter::None
            } else if j == 1.0 {
                Jitter::Full
            } else {
                Jitter::Bounded(j)
            };
        }
        self.apply_max_attempts(o)?;
        set_count(
            &mut self.max_not_found,
            o.max_not_found,
            "maxNotFound must be a whole number >= 1",
        )?;
        if let Some(v) = o.max_consecutive_errors {
            let mut n = 0;
            set_count(
                &mut n,
                Some(v),
                "maxConsecutiveErrors must be a whole number >= 1",
            )?;
            self.max_consecutive_errors = Some(n);
        }
        set_count(
            &mut self.max_stream_garbage,
            o.max_stream_garbage,
            "maxStreamGarbage must be a whole number >= 1",
        )?;
        if let Some(s) = o.seed {
            if !(s.is_finite() && s >= 0.0) {
                return Err(PollError::InvalidConfig(
                    "seed must be a finite number >= 0",
                ));
            }
            self.seed = s as u64;
        }
        match o.use_stream {
            None => {}
            Some(Lenient::Valid(b)) => self.use_stream = b,
            Some(Lenient::Invalid) => {
                return Err(PollError::InvalidConfig("useStream must be true or false"))
            }
        }
        set_ms(
            &mut self.lag_target,
            o.lag_target,
            "lagTarget must be a finite number of milliseconds > 0",
        )?;
        set_ms(
            &mut self.tail_lag_target,
            o.tail_lag_target,
            "tailLagTarget must be a finite number of milliseconds > 0",
        )?;
        if self.tail_lag_target < self.lag_target {
            return Err(PollError::InvalidConfig(
                "tailLagTarget must not be less than lagTarget",
            ));
        }
        match o.learn {
            None => {}
            Some(Lenient::Valid(b)) => self.learn = b,
            Some(Lenient::Invalid) => {
                return Err(PollError::InvalidConfig("learn must be true or false"))
            }
        }
        match o.media {
            None => {}
            Some(Lenient::Valid(m)) => {
                self.media = m;
                // The kind's targets, unless the options name their own.
                if o.lag_target.is_none() && o.tail_lag_target.is_none() {
                    (self.lag_target, self.tail_lag_target) = m.targets();
                }
            }
            Some(Lenient::Invalid) => {
                return Err(PollError::InvalidConfig(
                    "media must be \"any\", \"image\" or \"video\"",
                ))
            }
        }
        if self.max_delay < self.initial_delay {
            return Err(PollError::InvalidConfig(
                "maxDelay must not be less than initialDelay (1000 unless set)",
            ));
        }
        Ok(())
    }
}

/// A preset: the starting point that options then override.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Image,
    Video,
}

/// The old module's limit of transient errors in a row, kept by the
/// Promise form when no layer sets `maxConsecutiveErrors`.
pub const OLD_MAX_CONSECUTIVE_ERRORS: u32 = 5;

/// The old module's default `maxInterval`: the cap of its waits, the
/// waits after errors included. The Promise form keeps it when no layer
/// sets `maxInterval` or `maxDelay`.
pub const OLD_MAX_INTERVAL: u64 = 10_000;

impl Config {
    /// The Promise form speaks for the old module: only the limits it had
    /// (`maxDuration`, `maxConsecutiveErrors` 5) end a call early; no wait
    /// is longer than its `maxInterval` (10 s), unless the call (`call`) or
    /// its manager (`manager`) sets another cap or the waits themselves
    /// (`intervals`); and a 429 that names no wait backs off as an error
    /// does (from `initialDelay`, doubling), as the old module's did, unless
    /// a layer sets `rateLimitDelay`: 60 s would outlast the short checks
    /// its callers make (10 s, 15 s).
    pub fn old_module_limits(&mut self, call: &Options, manager: &Options) {
        let capped = |o: &Options| o.sets_waits() || o.max_delay.is_some();
        if !capped(call) && !capped(manager) {
            self.max_delay = self.max_delay.min(OLD_MAX_INTERVAL).max(self.initial_delay);
        }
        if call.rate_limit_delay.is_none() && manager.rate_limit_delay.is_none() {
            self.rate_limit_delay = self.rate_limit_delay.min(self.initial_delay);
        }
        if call.max_consecutive_errors.is_none() {
            self.max_consecutive_errors = self
                .max_consecutive_errors
                .or(Some(OLD_MAX_CONSECUTIVE_ERRORS));
        }
        if call.max_attempts.is_none() && manager.max_attempts.is_none() {
            self.max_attempts = u32::MAX;
        }
        if call.max_not_found.is_none() && manager.max_not_found.is_none() {
            self.max_not_found = u32::MAX;
        }
    }

    fn apply_max_attempts(&mut self, o: &Options) -> Result<(), PollError> {
        set_count(
            &mut self.max_attempts,
            o.max_attempts,
            "maxAttempts must be a whole number >= 1",
        )
    }

    /// The old module's options, applied first so this package's own names
    /// win when both are given.
    fn apply_upstream(&mut self, o: &Options) -> Result<(), PollError> {
        set_ms(
            &mut self.timeout,
            o.max_duration,
            "maxDuration must be a finite number of milliseconds > 0",
        )?;
        let upstream = o.max_duration.is_some()
            || o.initial_interval.is_some()
            || o.max_interval.is_some()
            || o.max_consecutive_errors.is_some();
        if upstream && o.max_attempts.is_none() {
            // The old module had no attempt limit: it polled until
            // `maxDuration` (short waits would otherwise run out first).
            self.max_attempts = u32::MAX;
        }
        if o.initial_interval.is_none() && o.max_interval.is_none() {
            return Ok(());
        }
        let mut first = 1000;
        let mut cap = 10_000;
        set_ms(
            &mut first,
            o.initial_interval,
            "initialInterval must be a finite number of milliseconds > 0",
        )?;
        set_ms(
            &mut cap,
            o.max_interval,
            "maxInterval must be a finite number of milliseconds > 0",
        )?;
        if cap < first {
            return Err(PollError::InvalidConfig(
                "maxInterval must not be less than initialInterval (1000 unless set)",
            ));
        }
        // The old progression: 1 s -> 2 s -> 5 s -> the cap, one step per poll.
        let mut waits = vec![first];
        for step in [2000, 5000, cap] {
            if step > *waits.last().unwrap_or(&0) && step <= cap {
                waits.push(step);
            }
        }
        self.intervals = Intervals::new(waits).unwrap_or_else(default_intervals);
        self.max_delay = cap;
        self.initial_delay = self.initial_delay.min(cap);
        Ok(())
    }
}

/// Largest duration accepted: 2^53 ms, beyond which f64 stops being exact.
const MAX_MS: f64 = 9_007_199_254_740_992.0;

fn ms(v: f64, why: &'static str) -> Result<u64, PollError> {
    if v.is_finite() && (0.0..=MAX_MS).contains(&v) {
        Ok(v as u64)
    } else {
        Err(PollError::InvalidConfig(why))
    }
}

/// More than 0: a fraction of a millisecond (`0.5`) waits 1 ms, as the
/// message (`> 0`) promises, rather than failing as `0`.
fn positive_ms(v: f64, why: &'static str) -> Result<u64, PollError> {
    match ms(v.ceil(), why)? {
        0 => Err(PollError::InvalidConfig(why)),
        n => Ok(n),
    }
}

fn set_ms(slot: &mut u64, v: Option<f64>, why: &'static str) -> Result<(), PollError> {
    if let Some(v) = v {
        *slot = positive_ms(v, why)?;
    }
    Ok(())
}

fn set_count(slot: &mut u32, v: Option<f64>, why: &'static str) -> Result<(), PollError> {
    if let Some(v) = v {
        if !(v >= 1.0 && v <= u32::MAX as f64 && f64::from(v as u32) == v) {
            return Err(PollError::InvalidConfig(why));
        }
        *slot = v as u32;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
