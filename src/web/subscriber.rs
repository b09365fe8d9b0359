//! Who hears about a job and how: the page's callbacks object (looked up
//! when due, called as its methods) or the Promise form's resolve, the
//! notes they hear, and the shapes they get (`PollingResult`, the old
//! module's `Error`, progress).

use std::cell::RefCell;

use js_sys::{Function, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::boundary::{console_error, field, to_js};
use crate::core::error::{ErrorReport, PollError};
use crate::core::metrics::{Channel, Progress, ProgressReport};
use crate::core::table::Kind;

/// Who hears about a job: the page's callbacks object (`onUpdate`, ...,
/// looked up when called), plus the resolve function for the Promise form.
/// The Promise form speaks the old module's language: its options'
/// `onProgress(attempt, elapsed, nextInterval, progress)` and
/// `onError(error, attempt)` (transient errors), and the outcome resolves
/// the promise instead of calling `onComplete` / `onError`.
#[derive(Clone)]
pub struct Subscriber {
    pub(super) callbacks: JsValue,
    pub(super) resolve: Option<Function>,
}

impl Subscriber {
    pub fn callbacks(o: JsValue) -> Self {
        Self {
            callbacks: o,
            resolve: None,
        }
    }

    pub fn promise(resolve: Function, o: JsValue) -> Self {
        Self {
            callbacks: o,
            resolve: Some(resolve),
        }
    }
}

/// One event for the page.
pub(super) enum Note<'a> {
    Update(&'a JsValue),
    Progress(&'a JsValue),
    /// A request (or checker call) is about to go: the progress object, then
    /// the old module's attempt (from 1), elapsed time and the wait that
    /// follows the attempt (for the Promise form's `onProgress` only).
    Attempt(&'a JsValue, u32, u64, u64),
    /// The error object, the same as an `Error` (for the Promise form), and
    /// the wait before the next request.
    Retry(&'a JsValue, &'a JsValue, u32, u64),
    /// Terminal; the `PollingResult` goes to promises.
    Complete(&'a JsValue, &'a JsValue),
    Error(&'a JsValue, &'a JsValue),
}

/// Calls `f(a, b?)` as a method of `this`; a throwing callback (or an
/// `async` one that rejects) is reported by its name (`onUpdate`) and
/// changes nothing.
pub(super) fn call(this: &JsValue, name: &'static str, f: &JsValue, a: &JsValue, b: Option<u64>) {
    let Some(f) = f.dyn_ref::<Function>() else {
        return;
    };
    returned(
        name,
        match b {
            None => f.call1(this, a),
            Some(b) => f.call2(this, a, &JsValue::from_f64(b as f64)),
        },
    );
}

fn call_with(this: &JsValue, name: &'static str, args: &js_sys::Array) {
    let f = field(this, name);
    if let Some(f) = f.dyn_ref::<Function>() {
        returned(name, f.apply(this, args));
    }
}

thread_local! {
    /// One rejection handler per callback name, made at its first `async`
    /// call and kept: a handler per call would stay behind every promise
    /// that resolves.
    static REJECTED: RefCell<Vec<(&'static str, JsValue)>> = const { RefCell::new(Vec::new()) };
}

#[wasm_bindgen]
extern "C" {
    /// A promise a callback returned.
    type Returned;
    /// `promise.then(onFulfilled, onRejected)`, caught: a Proxy of a
    /// promise, or a subclass's own `then`, may throw.
    #[wasm_bindgen(method, catch, js_name = then)]
    fn then_or(
        this: &Returned,
        on_fulfilled: &JsValue,
        on_rejected: &JsValue,
    ) -> Result<JsValue, JsValue>;
}

/// A callback's throw, or its promise's rejection (an `async` callback's):
/// on the console, as nobody else holds that promise (left alone, it is an
/// unhandled rejection, which ends a Node process).
fn returned(name: &'static str, r: Result<JsValue, JsValue>) {
    let v = match r {
        Ok(v) => v,
        Err(e) => return threw(name, &e),
    };
    let Some(p) = v.dyn_ref::<Promise>() else {
        return;
    };
    // Out of the borrow before `then` runs: a subclass's may call back.
    let on_rejected = REJECTED.with_borrow_mut(|all| {
        if let Some((_, h)) = all.iter().find(|(n, _)| *n == name) {
            return h.clone();
        }
        let h =
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| threw(name, &e)).into_js_value();
        all.push((name, h.clone()));
        h
    });
    if let Err(e) = p
        .unchecked_ref::<Returned>()
        .then_or(&JsValue::UNDEFINED, &on_rejected)
    {
        threw(name, &e);
    }
}

/// `console.error("smart-polling: the onUpdate callback threw", error)`.
fn threw(name: &str, e: &JsValue) {
    console_error(
        &["smart-polling: the ", name, " callback threw"].concat(),
        e,
    );
}

impl Subscriber {
    pub(super) fn notify(&self, note: &Note) {
        let cb = &self.callbacks;
        let on = |name: &'static str, a: &JsValue, b: Option<u64>| {
            call(cb, name, &field(cb, name), a, b)
        };
        let num = |n: u64| JsValue::from_f64(n as f64);
        match (note, &self.resolve) {
            (Note::Update(r), _) => on("onUpdate", r, None),
            (Note::Progress(p), None) => on("onProgress", p, None),
            // The old module's `onProgress` runs once before each attempt.
            (Note::Progress(_), Some(_)) | (Note::Attempt(..), None) => {}
            (Note::Attempt(p, attempt, elapsed, wait), Some(_)) => {
                let args =
                    js_sys::Array::of4(&num(u64::from(*attempt)), &num(*elapsed), &num(*wait), p);
                call_with(cb, "onProgress", &args);
            }
            (Note::Retry(e, _, _, d), None) => on("onRetry", e, Some(*d)),
            (Note::Retry(_, error, attempt, _), Some(_)) => {
                let args = js_sys::Array::of2(error, &num(u64::from(*attempt)));
                call_with(cb, "onError", &args);
            }
            (Note::Complete(r, _), None) => on("onComplete", r, None),
            (Note::Error(e, _), None) => on("onError", e, None),
            (Note::Complete(_, result) | Note::Error(_, result), Some(resolve)) => {
                call(&JsValue::NULL, "resolve", resolve, result, None)
            }
        }
    }
}

/// `PollingResult`, as the Promise form resolves: the old module's shape
/// (`error` a message for the UI), plus the structured `failure` and the
/// channel.
#[derive(Serialize)]
struct ResultReport<'a> {
    success: bool,
    #[serde(
        with = "serde_wasm_bindgen::preserve",
        skip_serializing_if = "JsValue::is_undefined"
    )]
    data: JsValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<ErrorReport<'a>>,
    attempts: u32,
    duration: u64,
    method: &'static str,
    channel: Channel,
}

pub(super) fn result_report(
    r: Result<&JsValue, PollError>,
    message: Option<&str>,
    status: Option<u16>,
    attempts: u32,
    duration: u64,
    channel: Channel,
) -> JsValue {
    let (data, failure, method) = match r {
        Ok(data) => (data.clone(), None, "success"),
        Err(e) => {
            let report = e.report_said(attempts, message, status);
            let method = match e {
                PollError::Timeout | PollError::TimeoutHeld | PollError::MaxAttempts => "timeout",
                PollError::RateLimited => "rate_limited",
                _ => "error",
            };
            (JsValue::UNDEFINED, Some(report), method)
        }
    };
    to_js(&ResultReport {
        success: failure.is_none(),
        data,
        error: failure.as_ref().map(|f| f.message),
        failure,
        attempts,
        duration,
        method,
        channel,
    })
}

/// An error as a JS `Error` (the old module's `onError(error, attempt)`),
/// carrying `kind`, `status` and `retryable` too, and as its `cause` what a
/// checker threw (`undefined`: none).
pub(super) fn error_object(report: &ErrorReport, thrown: &JsValue) -> JsValue {
    let e = js_sys::Error::new(report.message);
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&e, &JsValue::from_str(k), &v);
    };
    if !thrown.is_undefined() {
        set("cause", thrown.clone());
    }
    set("kind", report.kind.into());
    if let Some(s) = report.status {
        set("status", s.into());
    }
    set("retryable", report.retryable.into());
    e.into()
}

/// The old module's name for a job.
pub fn poll_id(kind: Kind, id: &str) -> String {
    match kind {
        Kind::File => ["file-", id].concat(),
        Kind::Project => ["project-", id].concat(),
        Kind::Check => id.to_owned(),
    }
}

/// The job a poll id names: a checker's own id first, then `file-{id}` and
/// `project-{id}`.
pub fn parse_poll_id(poll_id: &str) -> [(Kind, &str); 3] {
    let file = poll_id.strip_prefix("file-").unwrap_or("");
    let project = poll_id.strip_prefix("project-").unwrap_or("");
    [
        (Kind::Check, poll_id),
        (Kind::File, file),
        (Kind::Project, project),
    ]
}

/// A job's progress for the page, under the id key of its kind.
pub fn progress_js(kind: Kind, id: &str, p: &Progress, tab: Option<&'static str>) -> JsValue {
    let mut report: ProgressReport = match kind {
        Kind::File => p.report(Some(id), None),
        Kind::Project => p.report(None, Some(id)),
        Kind::Check => p.report(None, None),
    };
    report.tab = tab;
    to_js(&report)
}
