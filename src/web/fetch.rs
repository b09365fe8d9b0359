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
    fn global_fetch(url: &str, init: &JsValue) -> Result<Promise, JsValue>;
    type Thenable;
    /// `promise.then(f, f)`: `f` hears the value or the reason, once.
    #[wasm_bindgen(method, js_name = then)]
    fn settled(this: &Thenable, f: &JsValue, g: &JsValue);
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

/// Calls `f` once with whatever `p` settles to.
fn on_settled(p: &Promise, f: impl FnOnce(JsValue) + 'static) {
    let f = Closure::once_into_js(f);
    p.unchecked_ref::<Thenable>().settled(&f, &f);
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
        let started = global_fetch(url, &init).unwrap_or_else(|e| Promise::reject(&e));
        on_settled(&started, move |v| {
            // A fulfilled fetch is always a Response; a rejection never is.
            let Some(response) = v.dyn_ref::<Response>() else {
                return deliver(Err(()));
            };
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
                return deliver(Ok(fetched));
            }
            let text = response.text().unwrap_or_else(|e| Promise::reject(&e));
            on_settled(&text, move |body| {
                // A body cut off mid-way is a network failure, not a bad record.
                fetched.body = body.as_string();
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
