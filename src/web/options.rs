//! Reading the JS option objects. Values of the wrong type become NaN (or an
//! error) so the core's validation reports them with its messages.

use alloc::string::String;
use alloc::vec;
use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::js::get;
use crate::core::config::{Config, Media, Options};
use crate::core::error::PollError;

/// The manager-wide settings.
pub struct Settings {
    pub file_url: String,
    pub project_url: String,
    /// `None`: polling only.
    pub events_url: Option<String>,
    pub max_streams: u32,
    pub debug: bool,
    /// Defaults for every job of this manager.
    pub defaults: JobOptions,
}

/// Per-job options: a preset plus overrides.
#[derive(Clone, Default)]
pub struct JobOptions {
    pub preset: Option<Media>,
    pub options: Options,
}

impl JobOptions {
    /// `base` overridden by `self`; the seed is left to the caller when unset.
    pub fn config(&self, base: &JobOptions) -> Result<Config, PollError> {
        let preset = self.preset.or(base.preset);
        let mut cfg = match preset {
            Some(Media::Image) => Config::image(),
            Some(Media::Video) => Config::video(),
            _ => Config::default(),
        };
        cfg.apply(&base.options)?;
        cfg.apply(&self.options)?;
        Ok(cfg)
    }

    pub fn has_seed(&self) -> bool {
        self.options.seed.is_some()
    }
}

const FILE_URL: &str = "/api/file/{id}";
const PROJECT_URL: &str = "/api/project/{id}";
const EVENTS_URL: &str = "/api/events/file.{id}";
const MAX_STREAMS: u32 = 2;

impl Default for Settings {
    fn default() -> Self {
        Self {
            file_url: FILE_URL.into(),
            project_url: PROJECT_URL.into(),
            events_url: Some(EVENTS_URL.into()),
            max_streams: MAX_STREAMS,
            debug: false,
            defaults: JobOptions::default(),
        }
    }
}

pub fn read_settings(o: &JsValue) -> Result<Settings, PollError> {
    let url = |key: &str, default: &str, why: &'static str| -> Result<String, PollError> {
        match get(o, key) {
            v if v.is_undefined() => Ok(default.into()),
            v => v
                .as_string()
                .filter(|s| super::manager::find_id(s).is_some())
                .ok_or(PollError::InvalidConfig(why)),
        }
    };
    let file_url = url(
        "fileUrl",
        FILE_URL,
        "fileUrl must be a string containing {id}",
    )?;
    let project_url = url(
        "projectUrl",
        PROJECT_URL,
        "projectUrl must be a string containing {id}",
    )?;
    let events_url = match get(o, "eventsUrl") {
        v if v.is_null() => None,
        _ => Some(url(
            "eventsUrl",
            EVENTS_URL,
            "eventsUrl must be null or a string containing {id}",
        )?),
    };
    let max_streams = match number(o, "maxStreams") {
        None => MAX_STREAMS,
        Some(n) if (0.0..=64.0).contains(&n) && f64::from(n as u32) == n => n as u32,
        Some(_) => {
            return Err(PollError::InvalidConfig(
                "maxStreams must be a whole number from 0 to 64",
            ))
        }
    };
    let defaults = read_job_options(o)?;
    // Validate the defaults now, so a bad option throws from the constructor.
    defaults.config(&JobOptions::default())?;
    Ok(Settings {
        file_url,
        project_url,
        events_url,
        max_streams,
        debug: get(o, "debug").is_truthy(),
        defaults,
    })
}

pub fn read_job_options(o: &JsValue) -> Result<JobOptions, PollError> {
    let n = |key: &str| number(o, key);
    let intervals = match get(o, "intervals") {
        v if v.is_undefined() => None,
        v => Some(match v.dyn_ref::<Array>() {
            Some(a) => a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect(),
            None => vec![f64::NAN],
        }),
    };
    let use_stream = match get(o, "useStream") {
        v if v.is_undefined() => None,
        v => Some(v.is_truthy()),
    };
    let preset = media(o, "preset", "preset must be \"image\" or \"video\"")?;
    let media = media(o, "media", "media must be \"any\", \"image\" or \"video\"")?;
    Ok(JobOptions {
        preset,
        options: Options {
            intervals,
            initial_delay: n("initialDelay"),
            max_delay: n("maxDelay"),
            backoff_multiplier: n("backoffMultiplier"),
            jitter: n("jitter"),
            seed: n("seed"),
            max_attempts: n("maxAttempts"),
            timeout: n("timeout"),
            max_not_found: n("maxNotFound"),
            rate_limit_delay: n("rateLimitDelay"),
            max_retry_after: n("maxRetryAfter"),
            request_timeout: n("requestTimeout"),
            use_stream,
            sse_connect_timeout: n("sseConnectTimeout"),
            stream_poll_interval: n("streamPollInterval"),
            max_stream_garbage: n("maxStreamGarbage"),
            media,
        },
    })
}

/// A number option: absent → None, not a number → NaN (rejected later).
fn number(o: &JsValue, key: &str) -> Option<f64> {
    match get(o, key) {
        v if v.is_undefined() => None,
        v => Some(v.as_f64().unwrap_or(f64::NAN)),
    }
}

fn media(o: &JsValue, key: &str, why: &'static str) -> Result<Option<Media>, PollError> {
    let v = get(o, key);
    if v.is_undefined() {
        return Ok(None);
    }
    match v.as_string().as_deref() {
        Some("any") => Ok(Some(Media::Any)),
        Some("image") => Ok(Some(Media::Image)),
        Some("video") => Ok(Some(Media::Video)),
        _ => Err(PollError::InvalidConfig(why)),
    }
}
