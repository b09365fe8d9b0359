//! serde at the boundary between JS and Rust. Options are read with
//! `serde_wasm_bindgen::from_value`; what the page receives is written with
//! its JSON-compatible serializer (plain objects, never `Map`s).
//!
//! Two serde-wasm-bindgen facts shape this file: it only looks up the field
//! names a struct declares, so unknown keys are found by comparing the
//! object's own keys with serde's field lists; and its type errors do not
//! name the field, so option fields are read leniently and validated by name
//! (see [`Lenient`]).

use std::ops::RangeInclusive;

use js_sys::{Array, Object, RangeError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_wasm_bindgen::Serializer;
use wasm_bindgen::prelude::*;

use crate::core::config::Media;
use crate::core::config::{field_names, Lenient, Options};
use crate::core::error::PollError;
use crate::core::record::{FileView, ProjectView};
use crate::core::stream::{EventView, MessageKind, MessageObject, StreamEvent};
use crate::core::suggest::{misnamed_callback, nearest};
use crate::core::table::{Kind, RetryBudget};
use crate::core::template;

/// Plain objects for maps, `null` for unit: what `JSON.parse` would give.
const JSON: Serializer = Serializer::json_compatible();

/// `v[key]`, or `undefined` when `v` is not an object or the getter throws.
pub fn field(v: &JsValue, key: &str) -> JsValue {
    if v.is_object() {
        js_sys::Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// What a thrown or rejected value says: its `message`, or itself when it is
/// a string (`None` when empty or neither).
pub fn thrown_message(v: &JsValue) -> Option<String> {
    let text = |v: JsValue| v.as_string().filter(|s| !s.is_empty());
    text(field(v, "message")).or_else(|| text(v.clone()))
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub(super) fn console_error(prefix: &str, what: &JsValue);
}

/// A value for the page. Our report types serialize; should one not (a
/// record's value the JSON serializer refuses), the page is told on the
/// console with serde's reason, and the callback gets `undefined`.
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> JsValue {
    v.serialize(&JSON).unwrap_or_else(|e| {
        let e = JsValue::from(e);
        console_error(
            "smart-polling: a value could not be handed to the page (a bug: please report it):",
            &e,
        );
        JsValue::UNDEFINED
    })
}

/// Configuration mistakes are the caller's bug: a RangeError, as the
/// platform throws for a bad argument.
pub fn range_error(message: &str) -> JsValue {
    RangeError::new(message).into()
}

pub fn config_error(e: PollError) -> JsValue {
    range_error(e.message())
}

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
            defaults: Options::default(),
        }
    }
}

/// Refuses any own key of `o` that none of `known` lists, naming the
/// nearest known one.
fn check_keys(o: &JsValue, known: &[&[&str]]) -> Result<(), JsValue> {
    for key in Object::keys(o.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.iter().any(|list| list.contains(&key.as_str())) {
            return Err(unknown("option", &key, &known.concat()));
        }
    }
    Ok(())
}

/// `unknown option "maxDurration"; did you mean "maxDuration"?`
fn unknown(what: &str, key: &str, known: &[&str]) -> JsValue {
    let hint = match nearest(key, known) {
        Some(k) => ["; did you mean \"", k, "\"?"].concat(),
        None => String::new(),
    };
    range_error(&["unknown ", what, " \"", key, "\"", &hint].concat())
}

/// The callbacks a `PollingCallbacks` object may carry.
pub const CALLBACKS: &[&str] = &["onUpdate", "onProgress", "onComplete", "onError", "onRetry"];

/// Checks the callbacks of `o` among `known`: each one given must be a
/// function (a TypeError names it), and an own key that looks like a
/// callback (`on` and a capital) but is none of them is refused as an
/// unknown option is. Other own keys (a class instance's fields) are left
/// alone, except, on a plain object literal, a job option's name among
/// `options` with a value (`timeout: 5000` beside `onComplete`): the job
/// would run without it, so it is refused with where it goes.
pub fn check_callbacks(
    o: &JsValue,
    known: &[&str],
    options: fn() -> &'static [&'static str],
) -> Result<(), JsValue> {
    if o.is_undefined() || o.is_null() {
        return Ok(());
    }
    if !o.is_object() {
        return Err(js_sys::TypeError::new(
            "callbacks must be an object with onUpdate, onProgress, onComplete, onError or onRetry",
        )
        .into());
    }
    // A plain object: its prototype is `Object.prototype` (whose own is
    // null), or null. A class instance's fields are its own business.
    let proto = Object::get_prototype_of(o);
    let plain = proto.is_null() || Object::get_prototype_of(&proto).is_null();
    for key in Object::keys(o.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if misnamed_callback(&key, known) {
            return Err(unknown("callback", &key, known));
        }
        // (listed only for a key that is no callback: most calls have none)
        if plain
            && !known.contains(&key.as_str())
            && options().contains(&key.as_str())
            && !field(o, &key).is_undefined()
        {
            return Err(range_error(
                &[
                    "\"",
                    &key,
                    "\" is a job option, not a callback: pass it in the third argument, (id, callbacks, { ",
                    &key,
                    " })",
                ]
                .concat(),
            ));
        }
    }
    for name in known {
        let f = field(o, name);
        if !(f.is_undefined() || f.is_null() || f.is_function()) {
            let got = f.js_typeof().as_string().unwrap_or_default();
            return Err(js_sys::TypeError::new(
                &[name, " must be a function (got ", &got, ")"].concat(),
            )
            .into());
        }
    }
    Ok(())
}

/// Reads an options object (absent: all defaults), refusing unknown keys.
fn read<T: DeserializeOwned + Default>(o: &JsValue, known: &[&[&str]]) -> Result<T, JsValue> {
    if o.is_undefined() || o.is_null() {
        return Ok(T::default());
    }
    if !o.is_object() || Array::is_array(o) {
        return Err(range_error("options must be an object"));
    }
    check_keys(o, known)?;
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
    let s: SettingsIn = read(o, &known)?;
    let defaults: Options = read(o, &known)?;
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
    let debug = match s.debug {
        None => false,
        Some(Lenient::Valid(b)) => b,
        Some(Lenient::Invalid) => return Err(range_error("debug must be true or false")),
    };
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
    let options = read(o, &[field_names::<Options>(), extra])?;
    check_callbacks(o, extra, || &[])?;
    Ok(options)
}

/// A plain JSON object (not an array) read into a view.
pub fn view<T: DeserializeOwned>(v: &JsValue) -> Option<T> {
    if !v.is_object() || Array::is_array(v) {
        return None;
    }
    serde_wasm_bindgen::from_value(v.clone()).ok()
}

pub fn file_view(v: &JsValue) -> Option<FileView> {
    view(v)
}

pub fn project_view(v: &JsValue) -> Option<ProjectView> {
    view(v)
}

/// A stream message's envelope: `{ type, object }`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Envelope {
    #[serde(rename = "type")]
    kind: Option<Lenient<String>>,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    object: JsValue,
}

/// Reads one stream message; the `file` message's record comes back too,
/// for `onUpdate` / `onComplete`.
pub fn stream_message(raw: &str, media: Media) -> (StreamEvent, Option<JsValue>) {
    let parsed = js_sys::JSON::parse(raw).ok();
    let envelope: Option<Envelope> = parsed.as_ref().and_then(view);
    let (kind, object) = match envelope {
        Some(Envelope {
            kind: Some(Lenient::Valid(kind)),
            object,
        }) => (Some(kind), object),
        _ => (None, JsValue::UNDEFINED),
    };
    let read = |kind: MessageKind| {
        Some(match kind {
            MessageKind::File => MessageObject::File(view::<FileView>(&object)?),
            _ => MessageObject::Event(view::<EventView>(&object)?),
        })
    };
    let event = crate::core::stream::read_message(kind.as_deref(), read, raw, media);
    let record = matches!(event, StreamEvent::File { .. }).then(|| object.clone());
    (event, record)
}

/// The envelope's `type` of a stream message, when it has a string one.
pub fn message_type(raw: &str) -> Option<String> {
    let parsed = js_sys::JSON::parse(raw).ok()?;
    match view::<Envelope>(&parsed)?.kind {
        Some(Lenient::Valid(kind)) => Some(kind),
        _ => None,
    }
}
