//! Small helpers over raw JS values: the clock, logging, building plain
//! objects, and `JsonView` for values parsed by `JSON.parse`.

use alloc::string::String;
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::core::record::JsonView;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub fn console_error(prefix: &str, what: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    pub fn console_log(prefix: &str, id: &str, what: &str);

    // `Reflect.set` and `Reflect.get` typed per value: the key crosses as
    // bytes, with no JS string handle to allocate and drop on our side.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn set_value(o: &Object, key: &str, v: &JsValue);
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn set_number(o: &Object, key: &str, v: f64);
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn set_text(o: &Object, key: &str, v: &str);
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn set_flag(o: &Object, key: &str, v: bool);
    #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
    fn get_key(o: &JsValue, key: &str) -> Result<JsValue, JsValue>;
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

/// A value for a property of a plain object.
pub trait Prop {
    fn set_on(self, o: &Object, key: &str);
}

impl Prop for f64 {
    fn set_on(self, o: &Object, key: &str) {
        set_number(o, key, self)
    }
}

impl Prop for u32 {
    fn set_on(self, o: &Object, key: &str) {
        set_number(o, key, self.into())
    }
}

impl Prop for u8 {
    fn set_on(self, o: &Object, key: &str) {
        set_number(o, key, self.into())
    }
}

impl Prop for u16 {
    fn set_on(self, o: &Object, key: &str) {
        set_number(o, key, self.into())
    }
}

impl Prop for bool {
    fn set_on(self, o: &Object, key: &str) {
        set_flag(o, key, self)
    }
}

impl Prop for &str {
    fn set_on(self, o: &Object, key: &str) {
        set_text(o, key, self)
    }
}

impl Prop for &JsValue {
    fn set_on(self, o: &Object, key: &str) {
        set_value(o, key, self)
    }
}

/// Sets a property of a fresh plain object (which cannot throw).
pub fn set(o: &Object, key: &str, value: impl Prop) {
    value.set_on(o, key)
}

/// A property of a JS value; `undefined` when it is not an object or a
/// getter throws.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        get_key(obj, key).unwrap_or(JsValue::UNDEFINED)
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
