//! A place among the event streams this browser's tabs hold to one host.
//! Over HTTP/1.1 a browser opens at most 6 connections per host, for all
//! its tabs together, and an open stream keeps one for as long as it is
//! open: the tabs together keep [`STREAM_SLOTS`] of them for streams (a Web
//! Lock per place, asked for with `ifAvailable`, so a tab that closes lets
//! go of its places), and leave the rest to requests. A [`Slot`] owns its
//! lock; dropping it lets go.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::boundary::field;

/// Streams to one host that this browser's tabs may hold at once.
pub const STREAM_SLOTS: u32 = 4;

#[wasm_bindgen]
extern "C" {
    /// A promise, for `then` with plain functions.
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_with(this: &Thenable, on_fulfilled: &JsValue, on_rejected: &JsValue) -> JsValue;
}

/// A place held (its lock's release), or none to hold where the browser
/// has no Web Locks or refused them: the stream opens unbounded.
pub struct Slot {
    release: Option<Function>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

type Granted = Rc<RefCell<Option<Box<dyn FnOnce(Option<Slot>)>>>>;

/// `navigator.locks` and its `request`, where the browser has Web Locks.
pub fn locks() -> Option<(JsValue, Function)> {
    let global: JsValue = js_sys::global().into();
    let locks = field(&field(&global, "navigator"), "locks");
    let request = field(&locks, "request").dyn_into::<Function>().ok()?;
    Some((locks, request))
}

/// The host a stream's place is counted for: its url's origin, or the
/// page's own for a relative url (one host, one budget, however written).
pub fn host_of(url: &str) -> String {
    match super::settings::origin_of(url) {
        o if o.is_empty() => {
            let location = field(&js_sys::global().into(), "location");
            field(&location, "origin").as_string().unwrap_or_default()
        }
        o => o,
    }
}

/// Asks `locks` for a place for a stream to `host`; `granted` hears a
/// `Slot`, or `None` when the tabs hold every place. It usually hears it in
/// a task of its own, but may within this call (a `request` that throws):
/// the caller has its wait in place first.
pub fn claim(locks: (JsValue, Function), host: &str, granted: impl FnOnce(Option<Slot>) + 'static) {
    let granted: Granted = Rc::new(RefCell::new(Some(Box::new(granted))));
    let name = ["smart-polling stream ", host, " #"].concat();
    ask(Rc::new((locks.0, locks.1, name)), 0, granted);
}

/// Tries the `i`th place, then the next, until one is free or none is left.
fn ask(locks: Rc<(JsValue, Function, String)>, i: u32, granted: Granted) {
    let give = |granted: &Granted, slot| {
        let f = granted.borrow_mut().take();
        if let Some(f) = f {
            f(slot);
        }
    };
    if i >= STREAM_SLOTS {
        return give(&granted, None);
    }
    let (manager, request, name) = &*locks;
    let options = Object::new();
    let _ = Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
    let next = locks.clone();
    let heard = granted.clone();
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        if lock.is_null() || lock.is_undefined() {
            ask(next, i + 1, heard);
            return JsValue::UNDEFINED;
        }
        // Held until the promise settles: when the `Slot` is dropped.
        let mut release = None;
        let held = Promise::new(&mut |resolve, _| release = Some(resolve));
        give(&heard, Some(Slot { release }));
        held.into()
    });
    let place = [name.as_str(), &char::from(b'0' + i as u8).to_string()].concat();
    match request.call3(manager, &place.into(), &options, &callback) {
        // A browser that refuses the lock later (a sandboxed frame): the
        // stream opens unbounded, as without Web Locks.
        // One handler for both ways, so that it is called (and freed) once:
        // the request fulfils with `undefined` (a place let go of, or none
        // free and the next one asked), and rejects with a reason.
        Ok(asked) => {
            let settled = Closure::once_into_js(move |reason: JsValue| {
                if !reason.is_undefined() {
                    give(&granted, Some(Slot { release: None }));
                }
            });
            Promise::resolve(&asked)
                .unchecked_ref::<Thenable>()
                .then_with(&settled, &settled);
        }
        Err(_) => give(&granted, Some(Slot { release: None })),
    }
}
