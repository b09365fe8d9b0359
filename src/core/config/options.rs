//! Options as they arrive from JS: every field optional and read leniently
//! ([`Lenient`]), so that validation in [`Options::config`] names the option
//! a value of the wrong type was given for; and the names serde knows them
//! by, for "did you mean".

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::{Config, Media, Preset};
use crate::core::error::PollError;

/// A value read from JS as it came, or `Invalid` when it had the wrong type:
/// validation can then name the option, which serde-wasm-bindgen's type
/// errors do not.
#[derive(Clone, Debug, PartialEq)]
pub enum Lenient<T> {
    Valid(T),
    Invalid,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Value-based deserializers (serde-wasm-bindgen, serde_json::Value)
        // are left whole by a failed read.
        Ok(T::deserialize(d).map_or(Lenient::Invalid, Lenient::Valid))
    }
}

/// Job options as they arrive from JS (`startPolling`'s overrides, the
/// manager's defaults): every field optional, values unchecked until
/// [`Options::config`]. A value of the wrong type reads as NaN or `Invalid`,
/// so validation reports it under its own name.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Options {
    pub preset: Option<Lenient<Preset>>,
    #[serde(deserialize_with = "numbers")]
    pub intervals: Option<Vec<f64>>,
    #[serde(deserialize_with = "number")]
    pub initial_delay: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub max_delay: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub backoff_multiplier: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub jitter: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub seed: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub max_attempts: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub timeout: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub max_not_found: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub rate_limit_delay: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub max_retry_after: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub request_timeout: Option<f64>,
    pub use_stream: Option<Lenient<bool>>,
    #[serde(deserialize_with = "number")]
    pub sse_connect_timeout: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub stream_poll_interval: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub max_stream_garbage: Option<f64>,
    pub media: Option<Lenient<Media>>,
    #[serde(deserialize_with = "number")]
    pub max_consecutive_errors: Option<f64>,
    pub learn: Option<Lenient<bool>>,
    #[serde(deserialize_with = "number")]
    pub lag_target: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub tail_lag_target: Option<f64>,
    /// The old polling module's names (`upstream-api.md`): `maxDuration` is
    /// `timeout`; `initialInterval` and `maxInterval` make its progression
    /// (first wait, then 2 s and 5 s, then the cap) and cap the backoff.
    #[serde(deserialize_with = "number")]
    pub max_duration: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub initial_interval: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub max_interval: Option<f64>,
}

impl Options {
    /// Whether the caller chose the waits (then no learned schedule).
    pub fn sets_waits(&self) -> bool {
        self.intervals.is_some() || self.initial_interval.is_some() || self.max_interval.is_some()
    }

    /// The job's configuration: the preset (this call's, else `base`'s),
    /// then `base`'s options, then this call's.
    pub fn config(&self, base: &Options) -> Result<Config, PollError> {
        let preset = match self.preset.as_ref().or(base.preset.as_ref()) {
            None => None,
            Some(Lenient::Valid(p)) => Some(*p),
            Some(Lenient::Invalid) => {
                return Err(PollError::InvalidConfig(
                    "preset must be \"image\" or \"video\"",
                ))
            }
        };
        let mut cfg = match preset {
            Some(Preset::Image) => Config::image(),
            Some(Preset::Video) => Config::video(),
            None => Config::default(),
        };
        cfg.apply(base)?;
        cfg.apply(self)?;
        if self.max_attempts.is_none() && base.max_attempts.is_some() {
            // The old module's names lift the attempt limit only where no
            // layer set one: the manager's `maxAttempts` still holds.
            cfg.apply_max_attempts(base)?;
        }
        Ok(cfg)
    }
}

/// A number option: `null` or `undefined` is "not given"; anything else
/// that is not a number reads as NaN, rejected by name.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<Lenient<f64>>::deserialize(d)?.map(|v| match v {
        Lenient::Valid(v) => v,
        Lenient::Invalid => f64::NAN,
    }))
}

fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
    Ok(
        Option::<Lenient<Vec<f64>>>::deserialize(d)?.map(|v| match v {
            Lenient::Valid(v) => v,
            Lenient::Invalid => vec![f64::NAN],
        }),
    )
}

/// The field names serde reads for `T`: serde-wasm-bindgen only looks up the
/// declared names, so an unknown or misspelt key is found by comparing the
/// object's own keys with these.
pub fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probe"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut names));
    names
}
