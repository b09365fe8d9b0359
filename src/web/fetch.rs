//! One request, owned by an `InFlight` handle: dropping the handle aborts
//! it and guarantees that its callback never runs. A request is a GET of the
//! job's url, or a call of the page's own checker function.
//!
//! The request is `globalThis.fetch` (a page's `window`, a worker's `self`,
//! Node's global), looked up at each call so a page or a test that
//! replaced `fetch` is honoured, and awaited with `JsFuture` in a
//! `spawn_local` task. Nothing checks `instanceof`: a replaced fetch may
//! return its own Response class, read through its `status`, `headers` and
//! `text()`.

use std::cell::Cell;
use std::rc::Rc;

use std::future::Future;

use super::boundary::{field, header, thrown_message};
use crate::core::classify::{is_html, says_bad_url};
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, AbortSignal, Headers, RequestCache, RequestInit, Response};

/// Why a request failed before a status came back.
#[derive(Default)]
pub struct Failed {
    /// What fetch threw or rejected with, in its own words (`None`: it said
    /// nothing).
    pub said: Option<String>,
    /// It said the url could not be parsed (see `says_bad_url`).
    pub bad_url: bool,
    /// `globalThis.fetch` was not a function when it was called.
    pub no_fetch: bool,
}

/// What fetch threw or rejected with, and its `cause`'s words after it:
/// Node's fetch says only "fetch failed", its cause why (`connect
/// ECONNREFUSED 127.0.0.1:3000`, `getaddrinfo ENOTFOUND api.example`).
fn reason(v: JsValue) -> Failed {
    let said = thrown_message(&v);
    let cause = field(&v, "cause");
    let code = |v: &JsValue| field(v, "code").as_string();
    let code = code(&cause).or_else(|| code(&v));
    let bad_url = says_bad_url(said.as_deref(), code.as_deref());
    let said = match (said, thrown_message(&cause)) {
        (Some(s), Some(c)) if s != c => Some([&s, " (", &c, ")"].concat()),
        (s, c) => s.or(c),
    };
    Failed {
        bad_url,
        said,
        no_fetch: false,
    }
}

/// What came back; `body` is read for 2xx only.
pub struct Fetched {
    pub status: u16,
    pub retry_after: Option<String>,
    pub date: Option<String>,
    pub body: Option<String>,
    /// A 404 whose `Content-Type` names HTML (a framework's 404 page).
    pub html: bool,
    /// Where redirects took the request (`Response.url`), if they did.
    pub redirected_to: Option<String>,
}

pub struct InFlight {
    abort: Option<AbortController>,
    alive: Rc<Cell<bool>>,
}

impl InFlight {
    /// Sends the request; `done` hears the outcome once, with `Err(why)`
    /// when fetch rejects (network) or the body breaks off (`why`: the
    /// message of what it threw or rejected with), unless the handle was
    /// dropped first.
    pub fn send(url: &str, done: impl FnOnce(Result<Fetched, Failed>) + 'static) -> Self {
        let abort = AbortController::new().ok();
        let url = url.to_owned();
        let task_abort = abort.clone();
        Self::spawn(abort, get(url, task_abort), done)
    }

    /// Calls the page's checker (from a task: never inside the caller's
    /// stack) and awaits what it returns; a throw is an `Err`. A checker
    /// cannot be aborted: dropping the handle only discards its answer.
    pub fn check(checker: Function, done: impl FnOnce(Result<JsValue, JsValue>) + 'static) -> Self {
        let call = async move {
            let v = checker.call0(&JsValue::UNDEFINED)?;
            settle(&v).await
        };
        Self::spawn(None, call, done)
    }

    fn spawn<T: 'static>(
        abort: Option<AbortController>,
        work: impl Future<Output = T> + 'static,
        done: impl FnOnce(T) + 'static,
    ) -> Self {
        let alive = Rc::new(Cell::new(true));
        let still = alive.clone();
        spawn_local(async move {
            let r = work.await;
            // `replace` makes delivery and cancellation mutually exclusive.
            if still.replace(false) {
                done(r);
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

/// `v` awaited as a new promise resolved with it: a replaced fetch or a
/// checker may return a plain value, a foreign thenable, or a promise of the
/// page's whose `then` or `constructor` throws. `Promise.resolve(v)` would
/// read `v.constructor` (and throw through the module), and hand back `v`
/// itself, whose own `then` the await would call; resolving a new promise
/// with `v` reads `then` in a job of its own, and a throw rejects.
async fn settle(v: &JsValue) -> Result<JsValue, JsValue> {
    let v = v.clone();
    JsFuture::from(Promise::new(&mut |resolve, _| {
        let _ = resolve.call1(&JsValue::UNDEFINED, &v);
    }))
    .await
}

/// Starts the request; nothing but the returned promise outlives the call
/// (a thousand jobs waiting for answers hold only their promises).
///
/// `fetch` is looked up on `globalThis` at each call and given the url
/// as configured (a string, never a `Request`: in Node a relative url only
/// parses inside a test's mock, as the old module's `fetch(url)` did). A
/// missing `fetch` (`no_fetch`) or one that throws synchronously (a
/// network error) fails the request at once, not as an exception through
/// the job table.
fn send(url: String, abort: Option<&AbortController>) -> Result<JsValue, Failed> {
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_cache(RequestCache::NoStore);
    if let Ok(headers) = Headers::new() {
        let _ = headers.set("Accept", "application/json");
        init.set_headers(&headers);
    }
    let signal: Option<AbortSignal> = abort.map(AbortController::signal);
    init.set_signal(signal.as_ref());
    global_fetch(&url, &init).map_err(|e| Failed {
        no_fetch: !field(&js_sys::global(), "fetch").is_function(),
        ..reason(e)
    })
}

#[wasm_bindgen]
extern "C" {
    /// `globalThis.fetch(url, init)`, looked up at each call. Literally
    /// `globalThis`: under a test DOM (happy-dom, jsdom) `self` and `window`
    /// are the DOM's window with a `fetch` of its own, while a test mocks
    /// `globalThis.fetch`.
    #[wasm_bindgen(catch, js_namespace = globalThis, js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Result<JsValue, JsValue>;
}

async fn get(url: String, abort: Option<AbortController>) -> Result<Fetched, Failed> {
    let abort = abort.as_ref();
    let response = settle(&send(url, abort)?).await.map_err(reason)?;
    // A replaced fetch that resolves with no object (a mock that forgot to
    // return, `vi.fn()`) failed to fetch: reading its status would throw
    // through the task and leave the job waiting.
    if !response.is_object() {
        let got = match response.is_null() {
            true => "null".to_owned(),
            false => response.js_typeof().as_string().unwrap_or_default(),
        };
        let said = ["fetch resolved with ", &got, ", not a Response"].concat();
        return Err(Failed {
            said: Some(said),
            ..Failed::default()
        });
    }
    // Read with caught getters: a Proxy of a Response (or a mock's getter)
    // may throw ("Illegal invocation"), and a throw through the task would
    // stop every task of the module's executor.
    let got = |name: &str| js_sys::Reflect::get(&response, &JsValue::from_str(name));
    // A test's mock may give `ok` alone (`{ ok: true, json }`, enough for
    // the old module): 200 then; neither is an unreadable answer.
    let status = match got("status").map_err(reason)?.as_f64() {
        Some(s) => s as u16,
        None if got("ok").map_err(reason)?.is_truthy() => 200,
        None => 0,
    };
    // A mock's headers may be a plain object, or missing.
    let header = |name: &str| header(&response, name);
    let mut fetched = Fetched {
        status,
        retry_after: header("retry-after"),
        date: header("date"),
        body: None,
        // Read for a 404 only (the one answer whose words it changes), not
        // on every poll's way.
        html: status == 404 && header("content-type").is_some_and(|t| is_html(&t)),
        redirected_to: None,
    };
    if !(200..300).contains(&status) {
        // The body of an error is not read: stop its download.
        if let Some(a) = abort {
            a.abort();
        }
        return Ok(fetched);
    }
    // Read for a 2xx only: an unreadable one says where it was redirected.
    if got("redirected").is_ok_and(|r| r.is_truthy()) {
        fetched.redirected_to = got("url").ok().and_then(|u| u.as_string());
    }
    // `text()`, or a mock's `json()` alone (read back as its JSON text).
    let text = got("text").map_err(reason)?.is_function();
    let json = !text && got("json").map_err(reason)?.is_function();
    if !text && !json {
        return Err(Failed {
            said: Some("fetch resolved with an object that has neither text() nor json()".into()),
            ..Failed::default()
        });
    }
    let response: Response = response.clone().unchecked_into();
    let read = if json {
        response.json()
    } else {
        response.text()
    };
    // A body cut off mid-way is a network failure, not a bad record; a
    // mock's `json()` that rejects with a `SyntaxError` read no JSON: its
    // words stand for the body (an unreadable answer).
    let read: JsValue = read.map_err(reason)?.into();
    let body = match settle(&read).await {
        Err(e) if json && field(&e, "name").as_string().as_deref() == Some("SyntaxError") => {
            let said = thrown_message(&e).unwrap_or_default();
            JsValue::from(["json() rejected: ", &said].concat())
        }
        Ok(body) if json => js_sys::JSON::stringify(&body)
            .map(JsValue::from)
            .unwrap_or(body),
        read => read.map_err(reason)?,
    };
    let got = body.js_typeof().as_string().unwrap_or_default();
    let said = [
        "the response's ",
        if json { "json()" } else { "text()" },
        " resolved with ",
        &got,
        ", not ",
        if json { "JSON" } else { "a string" },
    ]
    .concat();
    fetched.body = Some(body.as_string().ok_or(Failed {
        said: Some(said),
        ..Failed::default()
    })?);
    Ok(fetched)
}
