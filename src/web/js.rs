//! Small helpers over raw JS values: the clock, logging, building plain
//! objects, and `JsonView` for values parsed by `JSON.parse`.

use alloc::string::String;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::record::JsonView;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub fn console_error(prefix: &str, what: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    pub fn console_log(prefix: &str, id: &str, what: &str);
}

/// Monotonic milliseconds: the job's clock.
pub fn now() -> u64 {
    performance_now() as u64
}

/// Wall-clock milliseconds since the Unix epoch (for Retry-After dates).
pub fn wall_clock() -> u64 {
    js_sys::Date::now() as u64
}

pub fn object() -> Object {
    Object::new()
}

pub fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a plain property on a fresh plain object cannot throw.
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// A parsed JSON value seen through the core's `JsonView`.
pub struct Js(pub JsValue);

impl JsonView for Js {
    fn get(&self, key: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        let v = get(&self.0, key);
        (!v.is_undefined()).then_some(Js(v))
    }

    fn at(&self, i: usize) -> Option<Self> {
        let a = self.0.dyn_ref::<Array>()?;
        (i < a.length() as usize).then(|| Js(a.get(i as u32)))
    }

    fn array_len(&self) -> Option<usize> {
        self.0.dyn_ref::<Array>().map(|a| a.length() as usize)
    }

    fn string(&self) -> Option<String> {
        self.0.as_string()
    }

    fn number(&self) -> Option<f64> {
        self.0.as_f64()
    }

    fn is_null(&self) -> bool {
        self.0.is_null() || self.0.is_undefined()
    }

    fn is_object(&self) -> bool {
        self.0.is_object() && !Array::is_array(&self.0)
    }
}
