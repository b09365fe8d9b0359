//! The page's objects checked before serde reads them: option keys no
//! option has (with the nearest name), callbacks objects (names that look
//! like a callback but are none, job options among them, callbacks that are
//! no functions), and an options object read once into a plain one, so a
//! getter that throws is an error of the call, not a throw through the
//! module.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use super::boundary::{field, is_array, range_error, thrown_message};
use crate::core::suggest::{misnamed_callback, nearest};

/// Refuses any own key of `o` that none of `known` lists, naming the
/// nearest known one, or, for a job's options, where a manager option or
/// a callback goes (`manager`: the manager options' names, empty for the
/// manager's own; `promised`: a Promise helper's options, whose outcome is
/// the promise, else `startPolling`'s, whose callbacks come before them).
pub(super) fn check_keys(
    o: &JsValue,
    known: &[&[&str]],
    manager: &[&str],
    promised: bool,
) -> Result<(), JsValue> {
    let keys = own_keys(o).map_err(|e| unreadable("its keys", &e))?;
    for key in keys.iter() {
        let key = key.as_string().unwrap_or_default();
        if known.iter().any(|list| list.contains(&key.as_str())) {
            continue;
        }
        let at = |s: &str| ["\"", &key, "\" ", s].concat();
        return Err(if manager.contains(&key.as_str()) {
            range_error(&at("is a manager option: pass it to new PollingManager({ ... }), or to configureDefaults() for the Promise helpers"))
        } else if CALLBACKS.contains(&key.as_str()) && promised {
            range_error(&at("is not taken here: a Promise helper's outcome is its promise (its options take onUpdate, onProgress and onError)"))
        } else if CALLBACKS.contains(&key.as_str()) {
            range_error(&at("is a callback: pass it in startPolling's callbacks (its second argument), not its options"))
        } else {
            unknown("option", &key, &known.concat())
        });
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
    // null), or null. A class instance's fields, whatever their names, are
    // its own business (a card's `this.onClose`).
    // (through Reflect, caught: a Proxy's trap may throw)
    let proto = |o: &JsValue| js_sys::Reflect::get_prototype_of(o).map(JsValue::from);
    let mine = proto(o).map_err(|e| unreadable("its prototype", &e))?;
    let plain = mine.is_null() || proto(&mine).map_or(true, |p| p.is_null());
    if !plain {
        return check_functions(o, known);
    }
    let keys = own_keys(o).map_err(|e| unreadable("its keys", &e))?;
    for key in keys.iter() {
        let key = key.as_string().unwrap_or_default();
        if misnamed_callback(&key, known) {
            return Err(unknown("callback", &key, known));
        }
        // (listed only for a key that is no callback: most calls have none)
        if !known.contains(&key.as_str())
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
    check_functions(o, known)
}

/// Each of the `known` callbacks that is present is a function.
fn check_functions(o: &JsValue, known: &[&str]) -> Result<(), JsValue> {
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

#[wasm_bindgen]
extern "C" {
    /// `Object.keys(o)`, caught: a Proxy's `ownKeys` trap may throw.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn own_keys(o: &JsValue) -> Result<Array, JsValue>;
}

/// How many items an array may have: no option has more (`intervals` of
/// 4 096 waits is already absurd), and a sparse array's `length` may be in
/// the billions.
const ITEMS: u32 = 4096;

/// The page's object read once, each name `known` lists, into plain data:
/// a getter (or a Proxy's trap, or a revoked Proxy) that throws, at any
/// depth, is an error of the call here. serde-wasm-bindgen reads fields
/// without catching, and a throw through the module would skip its
/// cleanup: the manager left borrowed (`free()` would then fail), the
/// shadow stack not given back (repeated, memory is corrupted for every
/// job on the page).
pub(super) fn snapshot(o: &JsValue, known: &[&[&str]]) -> Result<Object, JsValue> {
    let copy = Object::new();
    for name in known.iter().flat_map(|list| list.iter()) {
        let key = JsValue::from_str(name);
        let v = js_sys::Reflect::get(o, &key).map_err(|e| unreadable(name, &e))?;
        if !v.is_undefined() {
            let v = plain(&v).map_err(|e| unreadable(name, &e))?;
            let _ = js_sys::Reflect::set(&copy, &key, &v);
        }
    }
    Ok(copy)
}

/// An option's value as plain data, read with caught reads: an array's (or
/// a typed array's) items copied (`intervals`), an object as an empty one
/// (no option takes one, so it is refused whatever it holds), functions
/// and primitives as they are.
fn plain(v: &JsValue) -> Result<JsValue, JsValue> {
    let flat = |v: JsValue| match v.is_object() {
        true => Object::new().into(),
        false => v,
    };
    if !v.is_object() || !(is_array(v)? || js_sys::ArrayBuffer::is_view(v)) {
        return Ok(flat(v.clone()));
    }
    let length = js_sys::Reflect::get(v, &"length".into())?
        .as_f64()
        .unwrap_or(0.0);
    if length > f64::from(ITEMS) {
        return Err("it has more than 4096 items".into());
    }
    let length = length as u32;
    let copy = Array::new();
    for i in 0..length {
        copy.push(&flat(js_sys::Reflect::get_u32(v, i)?));
    }
    Ok(copy.into())
}

/// `options are unreadable: reading "timeout" threw (boom); pass a plain object`
pub(super) fn unreadable(name: &str, thrown: &JsValue) -> JsValue {
    let why = thrown_message(thrown).unwrap_or_default();
    range_error(
        &[
            "options are unreadable: reading \"",
            name,
            "\" threw (",
            &why,
            "); pass a plain object",
        ]
        .concat(),
    )
}
