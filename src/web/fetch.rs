//! One GET request, owned by an `InFlight` handle: dropping the handle aborts
//! the request and guarantees its callback never runs.

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::Cell;

use js_sys::futures::{spawn_local, JsFuture};
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

impl InFlight {
    /// Sends the request; the job hears `Event::Fetched`, with `Err(())`
    /// when fetch rejects (network).
    pub fn send(url: &str, wake: Wake) -> Self {
        let abort = AbortController::new().ok();
        let init = object();
        let headers = object();
        set(&headers, "Accept", "application/json");
        set(&init, "headers", headers);
        set(&init, "cache", "no-store");
        if let Some(a) = &abort {
            set(&init, "signal", a.signal());
        }
        let started = global_fetch(url, &init);
        let alive = Rc::new(Cell::new(true));
        let still = alive.clone();
        spawn_local(async move {
            let result = run(started).await;
            // `replace` makes delivery and cancellation mutually exclusive.
            if still.replace(false) {
                wake(Event::Fetched(result));
            }
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

async fn run(started: Result<Promise, JsValue>) -> Result<Fetched, ()> {
    let response: Response = JsFuture::from(started.map_err(drop)?)
        .await
        .map_err(drop)?
        .unchecked_into();
    let status = response.status();
    let headers = response.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let body = if (200..300).contains(&status) {
        let text = response.text().map_err(drop)?;
        // A body cut off mid-way is a network failure, not a bad record.
        Some(
            JsFuture::from(text)
                .await
                .map_err(drop)?
                .as_string()
                .unwrap_or_default(),
        )
    } else {
        None
    };
    Ok(Fetched {
        status,
        retry_after: header("retry-after"),
        date: header("date"),
        body,
    })
}
