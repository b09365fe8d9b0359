//! The manager's settings and a job's options, read from the page's
//! objects with serde-wasm-bindgen once `checks` has vetted them (unknown
//! keys refused, read once into a plain object), and validated by name.
//!
//! Two serde-wasm-bindgen facts shape this: it only looks up the field
//! names a struct declares, so unknown keys are found by comparing the
//! object's own keys with serde's field lists; and its type errors do not
//! name the field, so option fields are read leniently and validated by name
//! (see [`Lenient`]).

use std::ops::RangeInclusive;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::boundary::{config_error, range_error};
use super::checks::{check_callbacks, check_keys, snapshot, unreadable};
use crate::core::config::{field_names, Lenient, Options};
use crate::core::table::{Kind, RetryBudget};
use crate::core::template;

/// The manager's own options; the rest of `ManagerOptions` are job options.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SettingsIn {
    file_url: Option<Lenient<String>>,
    project_url: Option<Lenient<String>>,
    /// Kept as the raw value: `null` means "polling only", `undefined` the
    /// default url (serde-wasm-bindgen reads both as `None`).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    events_url: JsValue,
    max_streams: Option<Lenient<f64>>,
    max_concurrent_requests: Option<Lenient<f64>>,
    debug: Option<Lenient<bool>>,
    retry_budget: Option<Lenient<f64>>,
    retry_refill: Option<Lenient<f64>>,
    share_across_tabs: Option<Lenient<bool>>,
    events_with_credentials: Option<Lenient<bool>>,
}

/// The validated manager-wide settings.
pub struct Settings {
    pub file_url: String,
    pub project_url: String,
    /// `None`: polling only.
    pub events_url: Option<String>,
    pub max_streams: u32,
    /// Requests out at once per origin.
    pub max_requests: u32,
    pub debug: bool,
    pub budget: RetryBudget,
    /// One job per id across the tabs of this browser profile.
    pub share_across_tabs: bool,
    /// Open the event stream with `withCredentials` (cookies to another
    /// origin).
    pub events_with_credentials: bool,
    /// Defaults for every job of this manager.
    pub defaults: Options,
}

impl Settings {
    /// What managers must share to share jobs across tabs: the same urls.
    pub fn tabs_key(&self) -> String {
        let events = self.events_url.as_deref().unwrap_or("-");
        [
            "smart-polling/1/",
            &self.file_url,
            "|",
            &self.project_url,
            "|",
            events,
        ]
        .concat()
    }

    /// The url of a job.
    pub fn url(&self, kind: Kind, id: &str) -> String {
        match kind {
            Kind::File => template::fill(&self.file_url, id),
            Kind::Project => template::fill(&self.project_url, id),
            // A checker fetches what it likes.
            Kind::Check => String::new(),
        }
    }

    /// The origin whose cooldown and retry budget a job shares ("" for
    /// urls relative to the page, and for checkers: the page's origin).
    pub fn origin(&self, kind: Kind) -> String {
        match kind {
            Kind::File => origin_of(&self.file_url),
            Kind::Project => origin_of(&self.project_url),
            Kind::Check => String::new(),
        }
    }
}

/// `scheme://host[:port]` of an absolute http(s) url; "" for a relative one.
pub fn origin_of(url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .map(|r| ("https://", r))
        .or_else(|| url.strip_prefix("http://").map(|r| ("http://", r)));
    match rest {
        Some((scheme, r)) => {
            let host = r.split(['/', '?', '#']).next().unwrap_or_default();
            [scheme, &host.to_ascii_lowercase()].concat()
        }
        None => String::new(),
    }
}

const FILE_URL: &str = "/api/file/{id}";
const PROJECT_URL: &str = "/api/project/{id}";
const EVENTS_URL: &str = "/api/events/file.{id}";
const MAX_STREAMS: u32 = 2;
/// The browsers' own limit of connections per host over HTTP/1.1: more
/// requests out at once would only queue in the browser.
const MAX_REQUESTS: u32 = 6;

impl Settings {
    /// The module's shared manager (the old module's functions): polling
    /// only until `configureDefaults` names a stream.
    pub fn helpers() -> Self {
        Self {
            events_url: None,
            ..Self::default()
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            file_url: FILE_URL.into(),
            project_url: PROJECT_URL.into(),
            events_url: Some(EVENTS_URL.into()),
            max_streams: MAX_STREAMS,
            max_requests: MAX_REQUESTS,
            debug: false,
            budget: RetryBudget::default(),
            share_across_tabs: true,
            events_with_credentials: false,
            defaults: Options::default(),
        }
    }
}

/// Reads an options object (absent: all defaults), refusing unknown keys.
fn read<T: DeserializeOwned + Default>(
    o: &JsValue,
    known: &[&[&str]],
    promised: bool,
) -> Result<T, JsValue> {
    let manager = field_names::<SettingsIn>();
    from(&vetted(o, known, manager, promised)?.map_or(JsValue::UNDEFINED, Into::into))
}

/// The page's options object checked (an object, no unknown key) and read
/// once into a plain one (`None`: not given).
fn vetted(
    o: &JsValue,
    known: &[&[&str]],
    manager: &[&str],
    promised: bool,
) -> Result<Option<js_sys::Object>, JsValue> {
    if o.is_undefined() || o.is_null() {
        return Ok(None);
    }
    let array = super::boundary::is_array(o).map_err(|e| unreadable("its keys", &e))?;
    if !o.is_object() || array {
        return Err(range_error("options must be an object"));
    }
    check_keys(o, known, manager, promised)?;
    snapshot(o, known).map(Some)
}

/// A vetted copy read into `T` (`undefined`: all defaults).
fn from<T: DeserializeOwned + Default>(o: &JsValue) -> Result<T, JsValue> {
    if o.is_undefined() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(o.clone()).map_err(|_| range_error("options are unreadable"))
}

/// `new PollingManager(options)`: stream first.
pub fn read_settings(o: &JsValue) -> Result<Settings, JsValue> {
    read_settings_with(o, Some(EVENTS_URL))
}

/// Manager options, with `events` the stream's url when `eventsUrl` is not
/// given (`None`: polling only, as the old module's functions do).
pub fn read_settings_with(o: &JsValue, events: Option<&str>) -> Result<Settings, JsValue> {
    let known = [field_names::<SettingsIn>(), field_names::<Options>()];
    // Read once (each getter runs once), then into both types.
    let o: JsValue = vetted(o, &known, &[], false)?.map_or(JsValue::UNDEFINED, Into::into);
    let s: SettingsIn = from(&o)?;
    let defaults: Options = from(&o)?;
    // Validate the job defaults now, so a bad one throws from the constructor.
    defaults.config(&Options::default()).map_err(config_error)?;
    let url = |v: Option<Lenient<String>>, default: &str, why: &str| match v {
        None => Ok(default.to_owned()),
        Some(Lenient::Valid(u)) if template::has_id(&u) => Ok(u),
        Some(_) => Err(range_error(why)),
    };
    let events_url = if s.events_url.is_null() {
        None
    } else if s.events_url.is_undefined() {
        events.map(str::to_owned)
    } else {
        let u = s.events_url.as_string().filter(|u| template::has_id(u));
        Some(u.ok_or_else(|| range_error("eventsUrl must be null or a string containing {id}"))?)
    };
    let whole =
        |v: Option<Lenient<f64>>, default: u32, range: RangeInclusive<f64>, why: &str| match v {
            None => Ok(default),
            Some(Lenient::Valid(n)) if range.contains(&n) && n.fract() == 0.0 => Ok(n as u32),
            Some(_) => Err(range_error(why)),
        };
    let max_streams = whole(
        s.max_streams,
        MAX_STREAMS,
        0.0..=64.0,
        "maxStreams must be a whole number from 0 to 64",
    )?;
    let max_requests = whole(
        s.max_concurrent_requests,
        MAX_REQUESTS,
        1.0..=1024.0,
        "maxConcurrentRequests must be a whole number from 1 to 1024",
    )?;
    let budget_number = |v: Option<Lenient<f64>>, default: f64, why: &str| match v {
        None => Ok(default),
        Some(Lenient::Valid(n)) if n.is_finite() && n >= 0.0 => Ok(n),
        Some(_) => Err(range_error(why)),
    };
    let budget = RetryBudget {
        size: budget_number(
            s.retry_budget,
            RetryBudget::default().size,
            "retryBudget must be a finite number >= 0",
        )?,
        refill: budget_number(
            s.retry_refill,
            RetryBudget::default().refill,
            "retryRefill must be a finite number >= 0",
        )?,
    };
    let share_across_tabs = match s.share_across_tabs {
        None => true,
        Some(Lenient::Valid(b)) => b,
        Some(Lenient::Invalid) => return Err(range_error("shareAcrossTabs must be true or false")),
    };
    let flag = |v: Option<Lenient<bool>>, why: &str| match v {
        None => Ok(false),
        Some(Lenient::Valid(b)) => Ok(b),
        Some(Lenient::Invalid) => Err(range_error(why)),
    };
    let debug = flag(s.debug, "debug must be true or false")?;
    let events_with_credentials = flag(
        s.events_with_credentials,
        "eventsWithCredentials must be true or false",
    )?;
    Ok(Settings {
        file_url: url(
            s.file_url,
            FILE_URL,
            "fileUrl must be a string containing {id}",
        )?,
        project_url: url(
            s.project_url,
            PROJECT_URL,
            "projectUrl must be a string containing {id}",
        )?,
        events_url,
        max_streams,
        max_requests,
        debug,
        budget,
        share_across_tabs,
        events_with_credentials,
        defaults,
    })
}

/// The callbacks a Promise helper's options may carry besides job options.
pub const POLL_CALLBACKS: &[&str] = &["onUpdate", "onProgress", "onError"];

/// `startPolling`'s overrides, or a Promise helper's options (`extra` lists
/// the callback names it also accepts).
pub fn read_options(o: &JsValue, extra: &[&str]) -> Result<Options, JsValue> {
    if o.is_undefined() || o.is_null() {
        return Ok(Options::default()); // the common case: no serde probe
    }
    let options = read(o, &[field_names::<Options>(), extra], !extra.is_empty())?;
    check_callbacks(o, extra, || &[])?;
    Ok(options)
}
