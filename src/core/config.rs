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


use super::error::PollError;
use super::schedule::{default_intervals, image_intervals, video_intervals, Intervals, Jitter};

/// What kind of result a job waits for; decides which urls count as the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Media {
    /// Any url counts, as the old video hook did.
    #[default]
    Any,
    Image,
    Video,
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
            ..Self::default()
        }
    }

    /// Preset for video generations: slower start, longer limits.
    pub fn video() -> Self {
        Self {
            intervals: video_intervals(),
            media: Media::Video,
            timeout: 600_000,
            max_attempts: 90,
            ..Self::default()
        }
    }

    /// Applies options coming from JS (numbers as f64), validating each one.
    pub fn apply(&mut self, o: &Options) -> Result<(), PollError> {
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
        set_count(
            &mut self.max_attempts,
            o.max_attempts,
            "maxAttempts must be a whole number >= 1",
        )?;
        set_count(
            &mut self.max_not_found,
            o.max_not_found,
            "maxNotFound must be a whole number >= 1",
        )?;
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
        if let Some(b) = o.use_stream {
            self.use_stream = b;
        }
        if let Some(m) = o.media {
            self.media = m;
        }
        if self.max_delay < self.initial_delay {
            return Err(PollError::InvalidConfig(
                "maxDelay must not be less than initialDelay",
            ));
        }
        Ok(())
    }
}

/// Options as they arrive from JS: every field optional, numbers unchecked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    pub intervals: Option<Vec<f64>>,
    pub initial_delay: Option<f64>,
    pub max_delay: Option<f64>,
    pub backoff_multiplier: Option<f64>,
    pub jitter: Option<f64>,
    pub seed: Option<f64>,
    pub max_attempts: Option<f64>,
    pub timeout: Option<f64>,
    pub max_not_found: Option<f64>,
    pub rate_limit_delay: Option<f64>,
    pub max_retry_after: Option<f64>,
    pub request_timeout: Option<f64>,
    pub use_stream: Option<bool>,
    pub sse_connect_timeout: Option<f64>,
    pub stream_poll_interval: Option<f64>,
    pub max_stream_garbage: Option<f64>,
    pub media: Option<Media>,
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

fn positive_ms(v: f64, why: &'static str) -> Result<u64, PollError> {
    match ms(v, why)? {
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
mod tests {
    use super::*;

    fn apply(o: Options) -> Result<Config, PollError> {
        let mut c = Config::default();
        c.apply(&o).map(|_| c)
    }

    #[test]
    fn seed_names_and_defaults() {
        let c = Config::default();
        assert_eq!(c.initial_delay, 1000);
        assert_eq!(c.max_delay, 30_000);
        assert_eq!(c.backoff_multiplier, 2.0);
        assert_eq!(c.request_timeout, 15_000);
        assert_eq!(c.sse_connect_timeout, 10_000);
    }

    #[test]
    fn valid_options_apply() {
        let c = apply(Options {
            intervals: Some(vec![10.0, 20.0]),
            timeout: Some(5000.0),
            max_attempts: Some(3.0),
            jitter: Some(0.0),
            backoff_multiplier: Some(1.5),
            use_stream: Some(false),
            ..Options::default()
        })
        .unwrap();
        assert_eq!(c.intervals.as_slice(), &[10, 20]);
        assert_eq!(c.timeout, 5000);
        assert_eq!(c.max_attempts, 3);
        assert_eq!(c.jitter, Jitter::None);
        assert_eq!(c.backoff_multiplier, 1.5);
        assert!(!c.use_stream);
    }

    #[test]
    fn invalid_options_say_what_is_wrong() {
        let cases = [
            (
                Options {
                    timeout: Some(-1.0),
                    ..Default::default()
                },
                "timeout",
            ),
            (
                Options {
                    timeout: Some(f64::NAN),
                    ..Default::default()
                },
                "timeout",
            ),
            (
                Options {
                    timeout: Some(0.0),
                    ..Default::default()
                },
                "timeout",
            ),
            (
                Options {
                    max_delay: Some(f64::INFINITY),
                    ..Default::default()
                },
                "maxDelay",
            ),
            (
                Options {
                    backoff_multiplier: Some(0.0),
                    ..Default::default()
                },
                "backoffMultiplier",
            ),
            (
                Options {
                    backoff_multiplier: Some(0.5),
                    ..Default::default()
                },
                "backoffMultiplier",
            ),
            (
                Options {
                    intervals: Some(vec![]),
                    ..Default::default()
                },
                "intervals",
            ),
            (
                Options {
                    intervals: Some(vec![100.0, -5.0]),
                    ..Default::default()
                },
                "intervals",
            ),
            (
                Options {
                    max_attempts: Some(0.0),
                    ..Default::default()
                },
                "maxAttempts",
            ),
            (
                Options {
                    max_attempts: Some(2.5),
                    ..Default::default()
                },
                "maxAttempts",
            ),
            (
                Options {
                    jitter: Some(1.5),
                    ..Default::default()
                },
                "jitter",
            ),
            (
                Options {
                    initial_delay: Some(5000.0),
                    max_delay: Some(100.0),
                    ..Default::default()
                },
                "maxDelay must not",
            ),
        ];
        for (o, field) in cases {
            match apply(o) {
                Err(PollError::InvalidConfig(msg)) => assert!(msg.starts_with(field), "{msg}"),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn presets() {
        let i = Config::image();
        assert_eq!(i.media, Media::Image);
        assert_eq!((i.intervals.wait(0), i.intervals.wait(14)), (2000, 2000));
        assert_eq!(
            (i.intervals.wait(15), i.intervals.wait(100)),
            (3000, 10_000)
        );
        let v = Config::video();
        assert_eq!(v.media, Media::Video);
        assert_eq!(v.intervals.wait(0), 3000);
    }
}
