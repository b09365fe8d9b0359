//! The learned completion times, kept across reloads in `localStorage`, one
//! key per endpoint template (`smart-polling/learned/` + the url template),
//! so managers of different APIs never mix their histories. Tabs and
//! managers of one template share the key and merge on write (read, add,
//! keep the newest: `core::history`). Storage that is missing, blocked
//! (private mode, sandboxed frames) or full changes nothing but the
//! learning; what is read back is checked whole by the core and ignored when
//! it does not check out.

use js_sys::{Function, Reflect, JSON};
use wasm_bindgen::prelude::*;

use crate::core::history::Saved;

/// Where the history of jobs on `template` is kept.
pub fn key(template: &str) -> String {
    ["smart-polling/learned/", template].concat()
}

fn storage() -> Option<JsValue> {
    let global: JsValue = js_sys::global().into();
    // The getter itself throws where storage is blocked.
    Reflect::get(&global, &"localStorage".into())
        .ok()
        .filter(JsValue::is_object)
}

fn call(target: &JsValue, name: &str, args: &[&JsValue]) -> Option<JsValue> {
    let f = Reflect::get(target, &name.into()).ok()?;
    let f = f.dyn_ref::<Function>()?;
    match args {
        [a] => f.call1(target, a).ok(),
        [a, b] => f.call2(target, a, b).ok(),
        _ => None,
    }
}

/// The stored history under `key`, or an empty one.
pub fn load(key: &str) -> Saved {
    let now = js_sys::Date::now();
    storage()
        .and_then(|s| call(&s, "getItem", &[&key.into()]))
        .and_then(|v| v.as_string())
        .and_then(|text| super::boundary::parse_json(&text))
        .and_then(|v| serde_wasm_bindgen::from_value::<Saved>(v).ok())
        .and_then(|saved| saved.check(now).ok())
        .unwrap_or_default()
}

pub fn save(key: &str, history: &Saved) {
    let Some(s) = storage() else {
        return;
    };
    let value = super::boundary::to_js(history);
    if let Some(text) = JSON::stringify(&value).ok().and_then(|t| t.as_string()) {
        // Full storage throws: the learning is only kept in memory then.
        let _ = call(&s, "setItem", &[&key.into(), &text.into()]);
    }
}
