//! serde at the boundary between JS and Rust: what the page receives is
//! written with serde-wasm-bindgen's JSON-compatible serializer (plain
//! objects, never `Map`s); records and stream messages are read into views
//! with `serde_wasm_bindgen::from_value`. (Options: `settings`.)

use js_sys::{Function, RangeError, Reflect};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_wasm_bindgen::Serializer;
use wasm_bindgen::prelude::*;

use crate::core::config::{Lenient, Media};
use crate::core::error::PollError;
use crate::core::nesting::{self, MAX_NESTING};
use crate::core::record::{FileView, ProjectView};
use crate::core::stream::{EventView, MessageKind, MessageObject, StreamEvent};

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
    /// Caught: a test helper may make `console.error` throw.
    #[wasm_bindgen(catch, js_namespace = console, js_name = error)]
    fn console_error_or_throw(prefix: &str, what: &JsValue) -> Result<(), JsValue>;
    /// `Array.isArray(v)`, caught: a revoked Proxy (an Immer draft after
    /// its reducer returned) throws.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub(super) fn is_array(v: &JsValue) -> Result<bool, JsValue>;
}

/// `console.error(prefix, what)`; a console that throws is ignored.
pub(super) fn console_error(prefix: &str, what: &JsValue) {
    let _ = console_error_or_throw(prefix, what);
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

/// `raw` parsed as JSON, unless it is not JSON or nests deeper than any
/// record (`core::nesting`): what serde-wasm-bindgen reads must not be deep
/// enough to overflow the stack when it describes a wrong type.
pub fn parse_json(raw: &str) -> Option<JsValue> {
    parse_within(raw, MAX_NESTING)
}

fn parse_within(raw: &str, max: usize) -> Option<JsValue> {
    if !nesting::within(raw, max) {
        return None;
    }
    js_sys::JSON::parse(raw).ok()
}

/// Another tab's message as JSON data: a structured clone may be cyclic,
/// deeper than JSON allows, or hold Maps and BigInts, none of which serde
/// must see (`None`: it is not JSON data). Its version is checked first, so
/// a message of another version costs nothing more.
pub fn as_json(message: &JsValue, version: u32) -> Option<JsValue> {
    if field(message, "v").as_f64() != Some(f64::from(version)) {
        return None;
    }
    let text = js_sys::JSON::stringify(message).ok()?.as_string()?;
    // The record the leader read, one level down in the message.
    parse_within(&text, MAX_NESTING + 1)
}

/// A plain JSON object (not an array) read into a view.
pub fn view<T: DeserializeOwned>(v: &JsValue) -> Option<T> {
    if !v.is_object() || is_array(v).unwrap_or(true) {
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
    let parsed = parse_json(raw);
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
    let text = || record_text(&object);
    let event = crate::core::stream::read_message(kind.as_deref(), read, text, media);
    let record = matches!(event, StreamEvent::File { .. }).then(|| object.clone());
    (event, record)
}

/// A record as JSON, compact (`JSON.stringify`): what its fingerprint is
/// of, whether it came from a poll or the stream.
pub fn record_text(record: &JsValue) -> String {
    js_sys::JSON::stringify(record)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// The envelope's `type` of a stream message, when it has a string one.
pub fn message_type(raw: &str) -> Option<String> {
    let parsed = parse_json(raw)?;
    match view::<Envelope>(&parsed)?.kind {
        Some(Lenient::Valid(kind)) => Some(kind),
        _ => None,
    }
}

/// A header of `o.headers` (a response's, a mock's, a thrown error's): a
/// `Headers` object or a plain one, read with caught getters.
pub fn header(o: &JsValue, name: &str) -> Option<String> {
    if !o.is_object() {
        return None;
    }
    let headers = Reflect::get(o, &"headers".into())
        .ok()
        .filter(JsValue::is_object)?;
    let get = Reflect::get(&headers, &"get".into()).ok();
    let value = match get.as_ref().and_then(|g| g.dyn_ref::<Function>()) {
        Some(f) => f.call1(&headers, &name.into()).ok()?,
        None => Reflect::get(&headers, &name.into()).ok()?,
    };
    // A hand-made error may set a number (`{ "retry-after": 3 }`).
    match value.as_f64() {
        Some(_) => value
            .unchecked_ref::<js_sys::Number>()
            .to_string_with_radix(10)
            .ok()
            .map(String::from),
        None => value.as_string(),
    }
}
