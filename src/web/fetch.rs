//! One GET request, owned by an `InFlight` handle: dropping the handle aborts
//! the request and guarantees its callback never runs.
//!
//! The promise callbacks are one-shot JS functions that free themselves when
//! called. A fetch always settles (dropping the handle aborts it), so they
//! are always called and nothing leaks; they outlive the handle on purpose,
//! since a promise may still call them after an abort.

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::Cell;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, Response};

use super::js::{object, set};
use super::manager::{Event, Wake};

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, looked up at each call: works in windows and
    // workers, and lets tests install a fake.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;
    type Thenable;
    /// `Promise.resolve(v)`: a real promise even if a replaced fetch
    /// returned a plain value or a foreign thenable.
    #[wasm_bindgen(js_namespace = Promise, js_name = resolve)]
    fn promise_resolve(v: &JsValue) -> Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn settled(this: &Thenable, on_value: &JsValue, on_reason: &JsValue);
    type Callable;
    #[wasm_bindgen(method, js_name = bind)]
    fn bind_flag(this: &Callable, this_arg: &JsValue, flag: bool) -> JsValue;
}

/// What came back; `body` is read for 2xx only.
pub struct Fetched {
    pub status: u16,
    pub retry_after: Option<String>,
    pub date: Option<String>,
    pub body: Option<String>,
}

pub struct InFlight {
    abort: Option<AbortController>,
    alive: Rc<Cell<bool>>,
}

/// Calls `f` once with whether `p` was fulfilled, and its value or reason.
/// The two handlers are bound views of one self-freeing function: exactly
/// one of them runs. (No `instanceof` guessing: a replaced fetch may return
/// its own Response class.)
fn on_settled(p: &JsValue, f: impl FnOnce(bool, JsValue) + 'static) {
    let f: Callable = Closure::once_into_js(f).unchecked_into();
    let (on_value, on_reason) = (
        f.bind_flag(&JsValue::NULL, true),
        f.bind_flag(&JsValue::NULL, false),
    );
    promise_resolve(p).settled(&on_value, &on_reason);
}

impl InFlight {
    /// Sends the request; the job hears `Event::Fetched`, with `Err(())`
    /// when fetch rejects (network) or the body breaks off.
    pub fn send(url: &str, wake: Wake) -> Self {
        let abort = AbortController::new().ok();
        let init = object();
        let headers = object();
        set(&headers, "Accept", "application/json");
        set(&init, "headers", &*headers);
        set(&init, "cache", "no-store");
        if let Some(a) = &abort {
            set(&init, "signal", &JsValue::from(a.signal()));
        }
        let alive = Rc::new(Cell::new(true));
        let still = alive.clone();
        // `replace` makes delivery and cancellation mutually exclusive.
        let deliver = move |r: Result<Fetched, ()>| {
            if still.replace(false) {
                wake(Event::Fetched(r));
            }
        };
        let started = global_fetch(url, &init).unwrap_or_else(|e| Promise::reject(&e).into());
        let body_abort = abort.clone();
        on_settled(&started, move |ok, v| {
            if !ok {
                return deliver(Err(()));
            }
            let response: &Response = v.unchecked_ref();
            let status = response.status();
            let headers = response.headers();
            let header = |name: &str| headers.get(name).ok().flatten();
            let mut fetched = Fetched {
                status,
                retry_after: header("retry-after"),
                date: header("date"),
                body: None,
            };
            if !(200..300).contains(&status) {
                // The body of an error is not read: stop its download.
                if let Some(a) = &body_abort {
                    a.abort();
                }
                return deliver(Ok(fetched));
            }
            let text = response.text().unwrap_or_else(|e| Promise::reject(&e));
            on_settled(&text, move |ok, body| {
                // A body cut off mid-way is a network failure, not a bad record.
                fetched.body = body.as_string().filter(|_| ok);
                deliver(if fetched.body.is_some() {
                    Ok(fetched)
                } else {
                    Err(())
                });
            });
        });
        Self { abort, alive }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.alive.replace(false) {
            if let Some(a) = &self.abort {
                a.abort();
            }
        }
    }
}
