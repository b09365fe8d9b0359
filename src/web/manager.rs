//! The executor of a manager's job table.
//!
//! Rules that keep it re-entrant (a callback may stop or start jobs, or
//! dispatch a page event, while its job's steps run):
//! - no `RefCell` borrow is held while JS runs: steps are taken from the
//!   table one at a time and executed after the borrow ends, and a resource
//!   (timer, request, stream) replaced or removed is dropped after it;
//! - every resource a job owns lives in its entry and is cancelled by
//!   `Drop`, so removing the entry (stop, finish) releases everything;
//! - events carry the job's [`JobId`], never reused, so a late event never
//!   reaches a newer job of the same id;
//! - one drain loop at a time: an event that arrives while steps run (a page
//!   event dispatched from inside a callback) only queues its steps, which
//!   the running loop then executes in order.
//!
//! Lifetime: the table's one gloo-timers `Timeout` holds the manager
//! strongly, and it is armed exactly while jobs run (a running job always
//! has a deadline). So a manager the page no longer references finishes
//! its jobs and then goes away; requests, streams and page listeners hold
//! it weakly.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::{Function, Object, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::boundary::{file_view, project_view, stream_message, to_js, Settings};
use super::fetch::{Fetched, InFlight};
use super::page;
use super::sse::{EventStream, SseEvent};
use crate::core::config::Options;
use crate::core::error::{ErrorReport, PollError};
use crate::core::job::{Action, Input, Reply};
use crate::core::metrics::{Channel, MetricsReport, Progress, ProgressReport};
use crate::core::record::fingerprint;
use crate::core::retry_after::{parse_http_date, parse_retry_after};
use crate::core::table::{Ended, JobId, Kind, Step, Table};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(prefix: &str, what: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(prefix: &str, id: &str, what: &str);
}

/// Monotonic milliseconds: the jobs' clock.
pub fn now() -> u64 {
    performance_now() as u64
}

/// Who hears about a job: the page's callbacks object (`onUpdate`, ...,
/// looked up when called), plus the resolve function for the Promise form,
/// which hears the outcome instead of `onComplete` / `onError` / `onRetry`.
#[derive(Clone)]
pub struct Subscriber {
    callbacks: JsValue,
    resolve: Option<Function>,
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

/// What a job owns in the browser; dropping it cancels everything.
#[derive(Default)]
pub struct Resources {
    request: Option<InFlight>,
    stream: Option<EventStream>,
    /// The record of the input being handled, for `Update` and `Complete`.
    current: JsValue,
    /// The last record seen, for `onComplete` when the stream sent a url.
    last: JsValue,
}

/// One event for the page.
enum Note<'a> {
    Update(&'a JsValue),
    Progress(&'a JsValue),
    Retry(&'a JsValue, u64),
    /// Terminal; the `PollingResult` goes to promises.
    Complete(&'a JsValue, &'a JsValue),
    Error(&'a JsValue, &'a JsValue),
}

/// Calls `this[name](a, b?)` as a method; a throwing callback is reported
/// and changes nothing.
fn call(this: &JsValue, f: &JsValue, a: &JsValue, b: Option<u64>) {
    let Some(f) = f.dyn_ref::<Function>() else {
        return;
    };
    let r = match b {
        None => f.call1(this, a),
        Some(b) => f.call2(this, a, &JsValue::from_f64(b as f64)),
    };
    if let Err(e) = r {
        console_error("smart-polling: a callback threw", &e);
    }
}

fn method(o: &JsValue, name: &str) -> JsValue {
    if o.is_object() {
        Reflect::get(o, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

impl Subscriber {
    fn notify(&self, note: &Note) {
        let cb = &self.callbacks;
        let on = |name: &str, a: &JsValue, b: Option<u64>| call(cb, &method(cb, name), a, b);
        match (note, &self.resolve) {
            (Note::Update(r), _) => on("onUpdate", r, None),
            (Note::Progress(p), _) => on("onProgress", p, None),
            (Note::Retry(e, d), None) => on("onRetry", e, Some(*d)),
            (Note::Complete(r, _), None) => on("onComplete", r, None),
            (Note::Error(e, _), None) => on("onError", e, None),
            (Note::Complete(_, result) | Note::Error(_, result), Some(resolve)) => {
                call(&JsValue::NULL, resolve, result, None)
            }
            (Note::Retry(..), Some(_)) => {}
        }
    }
}

/// `PollingResult`, as the Promise form resolves.
#[derive(Serialize)]
struct ResultReport<'a> {
    success: bool,
    #[serde(
        with = "serde_wasm_bindgen::preserve",
        skip_serializing_if = "JsValue::is_undefined"
    )]
    data: JsValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorReport<'a>>,
    attempts: u32,
    duration: u64,
    method: &'static str,
    channel: Channel,
}

fn result_report(
    r: Result<&JsValue, PollError>,
    attempts: u32,
    duration: u64,
    channel: Channel,
) -> JsValue {
    let (data, error, method) = match r {
        Ok(data) => (data.clone(), None, "success"),
        Err(e) => (
            JsValue::UNDEFINED,
            Some(e.report(attempts)),
            match e {
                PollError::Timeout | PollError::MaxAttempts => "timeout",
                PollError::RateLimited => "rate_limited",
                _ => "error",
            },
        ),
    };
    to_js(&ResultReport {
        success: error.is_none(),
        data,
        error,
        attempts,
        duration,
        method,
        channel,
    })
}

/// A job's progress for the page, under the id key of its kind.
pub fn progress_js(kind: Kind, id: &str, p: &Progress) -> JsValue {
    let report: ProgressReport = match kind {
        Kind::File => p.report(Some(id), None),
        Kind::Project => p.report(None, Some(id)),
    };
    to_js(&report)
}

pub struct Manager {
    table: RefCell<Table<Subscriber, Resources>>,
    settings: Settings,
    /// The table's one timer and the time it is armed for.
    timer: RefCell<Option<(u64, Timeout)>>,
    draining: Cell<bool>,
    page: RefCell<Vec<page::Listener>>,
}

impl Manager {
    pub fn new(settings: Settings) -> Rc<Self> {
        let me = Rc::new(Self {
            table: RefCell::new(Table::with_budget(settings.max_streams, settings.budget)),
            settings,
            timer: RefCell::new(None),
            draining: Cell::new(false),
            page: RefCell::new(Vec::new()),
        });
        let weak = Rc::downgrade(&me);
        let listeners = page::watch(Rc::new(move || {
            if let Some(me) = weak.upgrade() {
                me.table.borrow_mut().nudge_all(now());
                me.settle();
            }
        }));
        *me.page.borrow_mut() = listeners;
        me
    }

    /// Starts a job, or joins the running one with that kind and id. The
    /// options are validated either way.
    pub fn start(
        self: &Rc<Self>,
        kind: Kind,
        id: &str,
        sub: Subscriber,
        overrides: &Options,
    ) -> Result<(), PollError> {
        let mut cfg = overrides.config(&self.settings.defaults)?;
        if overrides.seed.is_none() && self.settings.defaults.seed.is_none() {
            cfg.seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        }
        cfg.use_stream &= kind == Kind::File && self.settings.events_url.is_some();
        let (_, origin) = self.settings.url(kind, id);
        self.table
            .borrow_mut()
            .start_at(now(), kind, id, &origin, cfg, sub);
        self.rearm();
        Ok(())
    }

    /// Stops a job silently; true if there was one.
    pub fn stop(&self, kind: Kind, id: &str) -> bool {
        let ended = self.table.borrow_mut().stop(now(), kind, id);
        match ended {
            Some(e) => {
                self.log(&e.id, "stopped");
                settle_stopped(e);
                true
            }
            None => false,
        }
    }

    pub fn stop_all(&self) {
        let all = self.table.borrow_mut().stop_all(now());
        let timer = self.timer.borrow_mut().take();
        drop(timer);
        for e in all {
            settle_stopped(e);
        }
    }

    pub fn is_active(&self, kind: Kind, id: &str) -> bool {
        self.table.borrow().find(kind, id).is_some()
    }

    pub fn active_count(&self) -> usize {
        self.table.borrow().len()
    }

    /// Progress of every running job, as page objects (built after the
    /// borrow, though building them runs no user code).
    pub fn statuses(&self) -> Vec<JsValue> {
        let t = now();
        let list: Vec<(Kind, String, Progress)> = self
            .table
            .borrow()
            .statuses(t)
            .into_iter()
            .map(|(kind, id, p)| (kind, id.to_owned(), p))
            .collect();
        list.iter()
            .map(|(kind, id, p)| progress_js(*kind, id, p))
            .collect()
    }

    pub fn metrics(&self) -> MetricsReport {
        self.table.borrow().report()
    }

    fn log(&self, id: &str, what: &str) {
        if self.settings.debug {
            console_log("smart-polling", id, what);
        }
    }

    /// Arms the one timer for the table's next wake, unless it is armed
    /// earlier already (an early fire only finds nothing due).
    fn rearm(self: &Rc<Self>) {
        let next = self.table.borrow_mut().next_wake();
        let Some(at) = next else {
            let old = self.timer.borrow_mut().take();
            drop(old);
            return;
        };
        if matches!(&*self.timer.borrow(), Some((armed, _)) if *armed <= at) {
            return;
        }
        // setTimeout wraps delays above 2^31-1 ms to "at once": clamp, and
        // let the table re-arm when it wakes early.
        let delay = at.saturating_sub(now()).min(i32::MAX as u64) as u32;
        let me = self.clone();
        let timeout = Timeout::new(delay, move || me.on_timer());
        let old = self.timer.borrow_mut().replace((at, timeout));
        drop(old);
    }

    fn on_timer(self: &Rc<Self>) {
        // This timeout has fired: forget it (dropped after this turn).
        let fired = self.timer.borrow_mut().take();
        let more = self.table.borrow_mut().on_timer(now());
        self.settle();
        if more {
            self.rearm();
        }
        drop(fired);
    }

    /// Executes every queued step, then re-arms the timer.
    fn settle(self: &Rc<Self>) {
        if self.draining.replace(true) {
            return; // the running loop will take the new steps in order
        }
        loop {
            let step = self.table.borrow_mut().poll();
            match step {
                Some(Step::Act { job, action }) => self.act(job, action),
                Some(Step::Left(ended)) => self.finish(ended),
                Some(Step::Finished(ended)) => self.finish(ended),
                None => break,
            }
        }
        self.draining.set(false);
        self.rearm();
    }

    /// Puts a resource into the job's entry; the old one (or the new one, if
    /// the job is gone) is dropped after the borrow.
    fn put<T>(&self, job: JobId, slot: fn(&mut Resources) -> &mut T, value: T) {
        let old = match self.table.borrow_mut().resources(job) {
            Some(r) => std::mem::replace(slot(r), value),
            None => value,
        };
        drop(old);
    }

    fn url(&self, job: JobId) -> Option<(Kind, String)> {
        let table = self.table.borrow();
        let (kind, id) = table.key(job)?;
        Some((kind, self.settings.url(kind, id).0))
    }

    fn act(self: &Rc<Self>, job: JobId, action: Action) {
        if self.settings.debug {
            let id = self.table.borrow().key(job).map(|(_, id)| id.to_owned());
            self.log(&id.unwrap_or_default(), action_name(&action));
        }
        match action {
            Action::SendRequest => {
                let Some((kind, url)) = self.url(job) else {
                    return;
                };
                let weak = Rc::downgrade(self);
                let request = InFlight::send(&url, move |r| on_fetched(&weak, job, kind, r));
                self.put(job, |r| &mut r.request, Some(request));
            }
            Action::CancelRequest => self.put(job, |r| &mut r.request, None),
            Action::OpenStream => {
                let url = {
                    let table = self.table.borrow();
                    let id = table.key(job).map(|(_, id)| id);
                    self.settings
                        .events_url
                        .as_deref()
                        .zip(id)
                        .map(|(t, id)| t.replacen("{id}", id, 1))
                };
                let weak = Rc::downgrade(self);
                let stream = EventStream::open(url.as_deref(), move |ev| on_stream(&weak, job, ev));
                self.put(job, |r| &mut r.stream, Some(stream));
            }
            Action::CloseStream => self.put(job, |r| &mut r.stream, None),
            Action::Update => {
                let record = self.table.borrow_mut().resources(job).map(|r| {
                    r.last = r.current.clone();
                    r.current.clone()
                });
                if let Some(record) = record {
                    self.notify(job, &Note::Update(&record));
                }
            }
            Action::Progress(p) => {
                let report = match self.table.borrow().key(job) {
                    Some((kind, id)) => progress_js(kind, id, &p),
                    None => return,
                };
                self.notify(job, &Note::Progress(&report));
            }
            Action::Retry { error, delay } => {
                let attempt = self
                    .table
                    .borrow()
                    .job(job)
                    .map_or(0, |j| j.progress(0).attempt);
                let report = to_js(&error.report(attempt));
                self.notify(job, &Note::Retry(&report, delay));
            }
            // The table keeps the timer and turns terminal actions into
            // `Finished`.
            Action::ArmTimer { .. } | Action::Complete { .. } | Action::Fail(_) => {}
        }
    }

    /// Tells each subscriber, stopping as soon as a callback stopped the job.
    fn notify(&self, job: JobId, note: &Note) {
        let subscribers = match self.table.borrow().subscribers(job) {
            Some(s) => s.to_vec(),
            None => return,
        };
        for s in &subscribers {
            if !self.table.borrow().contains(job) {
                return;
            }
            s.notify(note);
        }
    }

    /// A finished job (already out of the table, metrics recorded), or
    /// subscribers leaving a job that goes on: resources go (a leaving
    /// subscriber's are empty), then each subscriber hears the outcome once.
    fn finish(&self, ended: Ended<Subscriber, Resources>) {
        let Ended {
            kind,
            id,
            result,
            progress,
            outcome,
            subscribers,
            resources,
            ..
        } = ended;
        let Resources {
            request,
            stream,
            current,
            last,
        } = resources;
        drop((request, stream));
        self.log(
            &id,
            result.as_ref().map_or_else(|e| e.kind(), |_| "complete"),
        );
        let attempts = progress.attempt;
        let (duration, channel) =
            outcome.map_or((0, Channel::Polling), |o| (o.duration, o.channel));
        match result {
            Ok(url) => {
                let record = if current.is_undefined() {
                    with_url(kind, &id, &last, url.as_deref())
                } else {
                    current
                };
                let result = result_report(Ok(&record), attempts, duration, channel);
                for s in &subscribers {
                    s.notify(&Note::Complete(&record, &result));
                }
            }
            Err(e) => {
                let err = to_js(&e.report(attempts));
                let result = result_report(Err(e), attempts, duration, channel);
                for s in &subscribers {
                    s.notify(&Note::Error(&err, &result));
                }
            }
        }
    }

    /// Feeds a job one input with the record it carries, then runs its steps.
    fn deliver(self: &Rc<Self>, job: JobId, input: Input, record: Option<JsValue>) {
        {
            let mut table = self.table.borrow_mut();
            if let Some(r) = table.resources(job) {
                r.current = record.unwrap_or(JsValue::UNDEFINED);
            }
            table.handle(now(), job, input);
        }
        self.settle();
    }
}

/// A stopped job: its resources are released (after the table's borrow:
/// `Drop` runs JS), callbacks hear nothing more, and promises resolve as
/// "stopped" so no `await` hangs forever.
fn settle_stopped(ended: Ended<Subscriber, Resources>) {
    let Ended {
        progress,
        subscribers,
        resources,
        ..
    } = ended;
    drop(resources);
    let result = result_report(
        Err(PollError::Stopped),
        progress.attempt,
        progress.elapsed_time,
        progress.channel,
    );
    for s in &subscribers {
        if let Some(resolve) = &s.resolve {
            call(&JsValue::NULL, resolve, &result, None);
        }
    }
}

/// The record to hand `onComplete` when the stream sent only a url.
fn with_url(kind: Kind, id: &str, last: &JsValue, url: Option<&str>) -> JsValue {
    let record = Object::new();
    if last.is_object() {
        Object::assign(&record, last.unchecked_ref());
    } else {
        let key = if kind == Kind::File {
            "id"
        } else {
            "projectId"
        };
        let _ = Reflect::set(&record, &key.into(), &id.into());
    }
    if let Some(u) = url {
        let _ = Reflect::set(&record, &"url".into(), &u.into());
    }
    record.into()
}

fn on_fetched(weak: &Weak<Manager>, job: JobId, kind: Kind, r: Result<Fetched, ()>) {
    let Some(me) = weak.upgrade() else {
        return;
    };
    let Some(media) = me.table.borrow().job(job).map(|j| j.config().media) else {
        return;
    };
    let (input, record) = match r {
        Err(()) => (Input::RequestFailed(PollError::Network), None),
        Ok(Fetched {
            body: Some(text), ..
        }) => read_body(kind, media, &text),
        Ok(f) => {
            let wall = f
                .date
                .as_deref()
                .and_then(parse_http_date)
                .unwrap_or_else(|| js_sys::Date::now() as u64);
            let retry_after = f
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, wall));
            let reply = Reply::Status {
                status: f.status,
                retry_after,
            };
            (Input::Response(reply), None)
        }
    };
    me.deliver(job, input, record);
}

fn read_body(
    kind: Kind,
    media: crate::core::config::Media,
    text: &str,
) -> (Input, Option<JsValue>) {
    let unreadable = (Input::Response(Reply::Unreadable), None);
    let Ok(value) = js_sys::JSON::parse(text) else {
        return unreadable;
    };
    let state = match kind {
        Kind::File => file_view(&value).map(|v| crate::core::record::read_file(&v, media)),
        Kind::Project => project_view(&value).map(|v| crate::core::record::read_project(&v, media)),
    };
    match state {
        Some(state) => {
            let reply = Reply::Record {
                state,
                fingerprint: fingerprint(text),
            };
            (Input::Response(reply), Some(value))
        }
        None => unreadable,
    }
}

fn on_stream(weak: &Weak<Manager>, job: JobId, ev: SseEvent) {
    let Some(me) = weak.upgrade() else {
        return;
    };
    let Some(media) = me.table.borrow().job(job).map(|j| j.config().media) else {
        return;
    };
    let (input, record) = match ev {
        SseEvent::Open => (Input::StreamOpened, None),
        SseEvent::Error => (Input::StreamFailed, None),
        SseEvent::Message(raw) => {
            let (event, record) = stream_message(&raw, media);
            (Input::StreamMessage(event), record)
        }
    };
    me.deliver(job, input, record);
}

fn action_name(a: &Action) -> &'static str {
    match a {
        Action::SendRequest => "request",
        Action::CancelRequest => "cancel request",
        Action::ArmTimer { .. } => "arm timer",
        Action::OpenStream => "open stream",
        Action::CloseStream => "close stream",
        Action::Update => "update",
        Action::Progress(_) => "progress",
        Action::Retry { error, .. } => error.kind(),
        Action::Complete { .. } => "complete",
        Action::Fail(e) => e.kind(),
    }
}
