//! The learned completion times as they are kept across reloads and shared
//! between tabs and managers (localStorage, one key per endpoint template):
//! timestamped samples per media kind. Writers merge instead of overwriting:
//! read what is stored, add what this writer knows, keep the newest
//! [`MAX_SAMPLES`] per kind. A sample is its time and its duration, so the
//! same sample read back from two writers counts once.

use serde::{Deserialize, Serialize};

use super::config::Media;
use super::learn::{Learned, MAX_DURATION_MS, MAX_SAMPLES, MIN_DURATION_MS};

/// Version of [`Saved`]; anything else is ignored (version 1 had no times).
pub const VERSION: u32 = 2;

/// How far past the reader's clock a stored sample may be dated (another
/// tab's clock read a moment later, rounding).
pub const FUTURE_SLACK_MS: f64 = 60_000.0;

/// One completion: `[when (ms since the epoch), how long it took (ms)]`.
pub type Sample = (f64, f64);

/// The persisted form, oldest first per kind. About 20 bytes of JSON per
/// sample: a few KB per kind at most.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub v: u32,
    #[serde(default)]
    pub image: Vec<Sample>,
    #[serde(default)]
    pub video: Vec<Sample>,
    #[serde(default)]
    pub any: Vec<Sample>,
}

/// Why a stored history was not trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected {
    Version,
    TooManySamples,
    /// Negative, NaN, under [`MIN_DURATION_MS`], over a day or fractional.
    Duration,
    /// Not a finite time at or after the epoch, or later than the reader's
    /// clock (by more than [`FUTURE_SLACK_MS`]): a clock that was ahead
    /// would keep such samples the newest, and the history frozen.
    Time,
}

impl Default for Saved {
    fn default() -> Self {
        Self {
            v: VERSION,
            image: Vec::new(),
            video: Vec::new(),
            any: Vec::new(),
        }
    }
}

impl Saved {
    fn kind(&self, media: Media) -> &Vec<Sample> {
        match media {
            Media::Image => &self.image,
            Media::Video => &self.video,
            Media::Any => &self.any,
        }
    }

    fn kind_mut(&mut self, media: Media) -> &mut Vec<Sample> {
        match media {
            Media::Image => &mut self.image,
            Media::Video => &mut self.video,
            Media::Any => &mut self.any,
        }
    }

    /// Adds a completion of `media` that took `duration_ms`, learned at
    /// `at` (wall-clock ms); `false` (ignored) when it is not plausible.
    pub fn record(&mut self, media: Media, at: f64, duration_ms: u64) -> bool {
        if !(MIN_DURATION_MS..=MAX_DURATION_MS).contains(&duration_ms) || !valid_time(at) {
            return false;
        }
        let list = self.kind_mut(media);
        list.push((at.floor(), duration_ms as f64));
        if list.len() > MAX_SAMPLES {
            list.drain(..list.len() - MAX_SAMPLES);
        }
        true
    }

    /// Every sample of both, each once, oldest first, the newest
    /// [`MAX_SAMPLES`] per kind.
    pub fn merge(&self, other: &Saved) -> Saved {
        let mut out = Saved::default();
        for media in [Media::Image, Media::Video, Media::Any] {
            let mut all = sorted(self.kind(media), other.kind(media));
            all.dedup();
            let keep = all.len().saturating_sub(MAX_SAMPLES);
            *out.kind_mut(media) = all.split_off(keep);
        }
        out
    }

    /// The history if every part of it is valid at wall-clock time `now`
    /// (ms since the epoch), else why not: a caller then starts from nothing
    /// (the priors), and the next completion replaces it.
    pub fn check(self, now: f64) -> Result<Saved, Rejected> {
        if self.v != VERSION {
            return Err(Rejected::Version);
        }
        for media in [Media::Image, Media::Video, Media::Any] {
            let list = self.kind(media);
            if list.len() > MAX_SAMPLES {
                return Err(Rejected::TooManySamples);
            }
            for &(at, d) in list {
                let duration = d.is_finite()
                    && d.fract() == 0.0
                    && (MIN_DURATION_MS as f64..=MAX_DURATION_MS as f64).contains(&d);
                if !duration {
                    return Err(Rejected::Duration);
                }
                if !valid_time(at) || at > now + FUTURE_SLACK_MS {
                    return Err(Rejected::Time);
                }
            }
        }
        Ok(self)
    }

    /// The models these samples teach, oldest sample first.
    pub fn learned(&self) -> Learned {
        let mut learned = Learned::default();
        for media in [Media::Image, Media::Video, Media::Any] {
            for &(_, d) in self.kind(media) {
                learned.observe(media, d as u64);
            }
        }
        learned
    }

    /// Samples of `media`, oldest first.
    pub fn samples(&self, media: Media) -> &[Sample] {
        self.kind(media)
    }
}

/// The samples of both lists, sorted by time, then duration (stably, as
/// `sort_by` did; `total_cmp` is a total order). An insertion sort: each
/// list is sorted already, unless a stored one was written otherwise
/// (`check` does not ask for an order) or the clock went back between two
/// `record`s, and each has at most [`MAX_SAMPLES`], so this is cheap; std's
/// stable sort cost 2.1 KB gzipped of the `.wasm`.
fn sorted(a: &[Sample], b: &[Sample]) -> Vec<Sample> {
    let order = |x: &Sample, y: &Sample| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1));
    let mut all: Vec<Sample> = Vec::with_capacity(a.len() + b.len());
    for &s in a.iter().chain(b) {
        // After the last sample not greater (so equal ones keep their order).
        let at = all
            .iter()
            .rposition(|x| order(x, &s).is_le())
            .map_or(0, |i| i + 1);
        all.insert(at, s);
    }
    all
}

fn valid_time(at: f64) -> bool {
    at.is_finite() && at >= 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(media: Media, at: f64, d: u64) -> Saved {
        let mut s = Saved::default();
        assert!(s.record(media, at, d));
        s
    }

    #[test]
    fn two_writers_keep_each_others_samples() {
        let a = one(Media::Image, 1000.0, 5000).merge(&one(Media::Image, 3000.0, 7000));
        let b = one(Media::Image, 2000.0, 6000).merge(&one(Media::Video, 2500.0, 30_000));
        let merged = a.merge(&b);
        assert_eq!(
            merged.image,
            vec![(1000.0, 5000.0), (2000.0, 6000.0), (3000.0, 7000.0)],
            "oldest first, both writers'"
        );
        assert_eq!(merged.video, vec![(2500.0, 30_000.0)]);
        assert_eq!(merged, b.merge(&a), "the order of writers does not matter");
    }

    #[test]
    fn a_sample_read_back_twice_counts_once() {
        let stored = one(Media::Image, 1000.0, 5000);
        let mine = stored.merge(&one(Media::Image, 2000.0, 6000));
        // This tab writes back what it read plus its own: nothing doubles.
        let again = stored.merge(&mine).merge(&mine);
        assert_eq!(again.image.len(), 2);
        // A different duration at the same instant is another job.
        let other = again.merge(&one(Media::Image, 1000.0, 9000));
        assert_eq!(other.image.len(), 3);
    }

    #[test]
    fn the_newest_samples_are_kept() {
        let mut a = Saved::default();
        let mut b = Saved::default();
        for i in 0..MAX_SAMPLES as u64 {
            a.record(Media::Video, (2 * i) as f64, 20_000 + i);
            b.record(Media::Video, (2 * i + 1) as f64, 40_000 + i);
        }
        let merged = a.merge(&b);
        assert_eq!(merged.video.len(), MAX_SAMPLES);
        let oldest = merged.video[0].0;
        assert_eq!(oldest, MAX_SAMPLES as f64, "the older half went");
        assert!(merged.video.windows(2).all(|w| w[0].0 < w[1].0));
        // One writer's own list is capped as it records.
        let mut c = Saved::default();
        for i in 0..(MAX_SAMPLES as u64 + 5) {
            c.record(Media::Any, i as f64, 1000);
        }
        assert_eq!(c.any.len(), MAX_SAMPLES);
        assert_eq!(c.any[0].0, 5.0);
    }

    #[test]
    fn implausible_samples_are_not_recorded() {
        let mut s = Saved::default();
        assert!(!s.record(Media::Image, 1.0, 5));
        assert!(!s.record(Media::Image, 1.0, MAX_DURATION_MS + 1));
        assert!(!s.record(Media::Image, f64::NAN, 5000));
        assert!(!s.record(Media::Image, -1.0, 5000));
        assert_eq!(s, Saved::default());
    }

    #[test]
    fn stored_histories_are_checked_whole() {
        let ok = one(Media::Image, 1000.0, 5000);
        assert_eq!(ok.clone().check(1000.0), Ok(ok.clone()));
        let bad = |f: fn(&mut Saved)| {
            let mut s = ok.clone();
            f(&mut s);
            s.check(1000.0)
        };
        assert_eq!(bad(|s| s.v = 1), Err(Rejected::Version));
        assert_eq!(bad(|s| s.image.push((1.0, 0.5))), Err(Rejected::Duration));
        assert_eq!(
            bad(|s| s.video.push((1.0, f64::NAN))),
            Err(Rejected::Duration)
        );
        assert_eq!(bad(|s| s.any.push((-5.0, 5000.0))), Err(Rejected::Time));
        assert_eq!(
            bad(|s| s.any.push((f64::INFINITY, 5000.0))),
            Err(Rejected::Time)
        );
        // Dated after the reader's clock: a clock that was ahead.
        assert_eq!(
            bad(|s| s.video.push((1000.0 + FUTURE_SLACK_MS + 1.0, 5000.0))),
            Err(Rejected::Time)
        );
        assert_eq!(
            bad(|s| s.video.push((1000.0 + FUTURE_SLACK_MS, 5000.0))).map(|s| s.video.len()),
            Ok(1),
            "within the slack"
        );
        assert_eq!(
            bad(|s| s.image = vec![(1.0, 5000.0); MAX_SAMPLES + 1]),
            Err(Rejected::TooManySamples)
        );
        // Version 1 (no times) reads as another version, never as garbage.
        let v1: Result<Saved, _> = serde_json::from_str(r#"{"v":1,"image":[5000,6000]}"#);
        assert!(v1.is_err() || v1.unwrap().check(1000.0).is_err());
    }

    #[test]
    fn round_trips_through_json_and_teaches_the_models() {
        let mut s = Saved::default();
        for (i, d) in [4000u64, 5000, 6000].into_iter().enumerate() {
            s.record(Media::Image, i as f64, d);
        }
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(
            text,
            r#"{"v":2,"image":[[0.0,4000.0],[1.0,5000.0],[2.0,6000.0]],"video":[],"any":[]}"#
        );
        let back: Saved = serde_json::from_str(&text).unwrap();
        let learned = back.check(2.0).unwrap().learned();
        assert_eq!(
            learned.model(Media::Image).samples().collect::<Vec<_>>(),
            vec![4000, 5000, 6000]
        );
        assert!(learned.model(Media::Video).is_empty());
    }
}
