//! The learned completion times, kept across reloads in `localStorage`.
//! Storage that is missing, blocked (private mode, sandboxed frames) or full
//! changes nothing but the learning; what is read back is validated by the
//! core (`Learned::restore`) and ignored when it does not check out.

use js_sys::{Function, Reflect, JSON};
use wasm_bindgen::prelude::*;

use crate::core::learn::{Learned, Saved};

const KEY: &str = "smart-polling/learned";

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

/// The saved history, or the priors.
pub fn load() -> Learned {
    let saved = storage()
        .and_then(|s| call(&s, "getItem", &[&KEY.into()]))
        .and_then(|v| v.as_string())
        .and_then(|text| JSON::parse(&text).ok())
        .and_then(|v| serde_wasm_bindgen::from_value::<Saved>(v).ok());
    Learned::restore_or_default(saved.as_ref())
}

pub fn save(learned: &Learned) {
    let Some(s) = storage() else {
        return;
    };
    let value = super::boundary::to_js(&learned.save());
    if let Some(text) = JSON::stringify(&value).ok().and_then(|t| t.as_string()) {
        // Full storage throws: the learning is only kept in memory then.
        let _ = call(&s, "setItem", &[&KEY.into(), &text.into()]);
    }
}
