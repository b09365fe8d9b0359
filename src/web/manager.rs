//! The manager's state and the executor of job actions.
//!
//! Rules that keep it re-entrant: no `RefCell` borrow is held while JS runs
//! (user callbacks, `fetch`, `new EventSource`); every resource a job owns
//! (timer, request, stream) lives in its entry and is cancelled by `Drop`;
//! every async completion carries the job's generation, so a late event can
//! never reach a newer job with the same id.

use alloc::borrow::ToOwned;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Function, Object, JSON};
use wasm_bindgen::prelude::*;

use super::fetch::{Fetched, InFlight};
use super::js::{console_error, console_log, get, now, object, set, wall_clock, Js};
use super::options::{JobOptions, Settings};
use super::sse::{EventStream, SseEvent};
use super::timer::{self, Timer};
use crate::core::config::Media;
use crate::core::error::PollError;
use crate::core::job::{Action, Input, Job, Reply};
use crate::core::metrics::{Channel, Metrics, Progress};
use crate::core::record::{fingerprint, read_file, read_project, JsonView};
use crate::core::retry_after::{parse_http_date, parse_retry_after};
use crate::core::stream::read_message;

/// Everything that reaches a job from outside: its start, its timer, its
/// request's outcome, its stream.
pub enum Event {
    Start,
    Timer,
    Fetched(Result<Fetched, ()>),
    Stream(SseEvent),
}

/// A job's one entry point for events; it holds the manager weakly, so a
/// pending timer or request never keeps a dropped manager alive.
pub type Wake = Rc<dyn Fn(Event)>;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Project,
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
    pub fn callbacks(o: &JsValue) -> Self {
        Self {
            callbacks: o.clone(),
            resolve: None,
        }
    }

    pub fn promise(resolve: Function, o: &JsValue) -> Self {
        Self {
            callbacks: o.clone(),
            resolve: Some(resolve),
        }
    }
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

/// Calls a page callback with `this` set to its object (so methods work); a
/// throwing callback is reported and changes nothing.
fn call(this: &JsValue, f: &JsValue, a: &JsValue, b: Option<f64>) {
    let Some(f) = f.dyn_ref::<Function>() else {
        return;
    };
    let r = match b {
        None => f.call1(this, a),
        Some(b) => f.call2(this, a, &JsValue::from_f64(b)),
    };
    if let Err(e) = r {
        console_error("smart-polling: a callback threw", &e);
    }
}

impl Subscriber {
    fn notify(&self, note: &Note) {
        let cb = &self.callbacks;
        let on = |name: &str, a: &JsValue, b: Option<f64>| call(cb, &get(cb, name), a, b);
        match (note, &self.resolve) {
            (Note::Update(r), _) => on("onUpdate", r, None),
            (Note::Progress(p), _) => on("onProgress", p, None),
            (Note::Retry(e, d), None) => on("onRetry", e, Some(*d as f64)),
            (Note::Complete(r, _), None) => on("onComplete", r, None),
            (Note::Error(e, _), None) => on("onError", e, None),
            (Note::Complete(_, result) | Note::Error(_, result), Some(resolve)) => {
                call(&JsValue::NULL, resolve, result, None)
            }
            (Note::Retry(..), Some(_)) => {}
        }
    }
}

struct Entry {
    id: String,
    kind: Kind,
    generation: u32,
    job: Job,
    subscribers: Vec<Subscriber>,
    timer: Option<Timer>,
    request: Option<InFlight>,
    stream: Option<EventStream>,
    wake: Wake,
    /// The last record seen, for `onComplete` when the stream only sent a url.
    last_record: JsValue,
    /// Executing actions: a nudge from inside one of its callbacks (a page
    /// event dispatched synchronously) is ignored rather than nested.
    busy: bool,
}

pub struct Inner {
    settings: Settings,
    jobs: Vec<Entry>,
    next_generation: u32,
    metrics: Metrics,
}

/// The manager's state. No borrow is ever held while JS runs, so a failed
/// borrow would be a bug: it traps, without the message formatting that a
/// `RefCell` panic pulls into the wasm.
pub struct State(RefCell<Inner>);

impl State {
    pub fn new(inner: Inner) -> Self {
        Self(RefCell::new(inner))
    }

    pub fn get(&self) -> core::cell::RefMut<'_, Inner> {
        match self.0.try_borrow_mut() {
            Ok(inner) => inner,
            Err(_) => core::arch::wasm32::unreachable(),
        }
    }
}

pub type Shared = Rc<State>;

impl Inner {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            jobs: Vec::new(),
            next_generation: 0,
            metrics: Metrics::default(),
        }
    }

    fn find(&self, kind: Kind, id: &str) -> Option<usize> {
        self.jobs.iter().position(|e| e.kind == kind && e.id == id)
    }

    /// Where the job of that generation is (generations are unique within a
    /// manager, so ids need not be compared).
    fn index(&self, generation: u32) -> Option<usize> {
        self.jobs.iter().position(|e| e.generation == generation)
    }

    fn entry(&mut self, generation: u32) -> Option<&mut Entry> {
        self.jobs.iter_mut().find(|e| e.generation == generation)
    }

    pub fn is_active(&self, kind: Kind, id: &str) -> bool {
        self.find(kind, id).is_some()
    }

    pub fn active_count(&self) -> usize {
        self.jobs.len()
    }

    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// Progress of every job, as plain data (JS objects are built after the
    /// borrow ends).
    pub fn statuses(&self) -> Vec<(String, Progress)> {
        let t = now();
        self.jobs
            .iter()
            .map(|e| (e.id.clone(), e.job.progress(t)))
            .collect()
    }

    fn url(&self, kind: Kind, id: &str) -> String {
        let template = match kind {
            Kind::File => &self.settings.file_url,
            Kind::Project => &self.settings.project_url,
        };
        fill(template, id)
    }
}

/// Starts a job, or adds the subscriber to the running job with that id.
pub fn start(
    shared: &Shared,
    kind: Kind,
    id: &str,
    sub: Subscriber,
    overrides: &JobOptions,
) -> Result<(), PollError> {
    let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
    let (wake, generation) = {
        let mut inner = shared.get();
        if let Some(i) = inner.find(kind, id) {
            if let Some(e) = inner.jobs.get_mut(i) {
                e.subscribers.push(sub);
            }
            return Ok(());
        }
        let mut cfg = overrides.config(&inner.settings.defaults)?;
        let valid = crate::core::error::validate_id(id);
        if !overrides.has_seed() && !inner.settings.defaults.has_seed() {
            cfg.seed = seed;
        }
        let streams = inner.jobs.iter().filter(|e| e.job.holds_stream()).count();
        cfg.use_stream = cfg.use_stream
            && kind == Kind::File
            && inner.settings.events_url.is_some()
            && streams < inner.settings.max_streams as usize;
        cfg.use_stream &= valid.is_ok();
        let mut job = Job::new(cfg);
        if let Err(e) = valid {
            job.reject(e);
        }
        job.set_expected_duration(inner.metrics.average_completion_time());
        inner.next_generation = inner.next_generation.wrapping_add(1);
        let generation = inner.next_generation;
        let weak = Rc::downgrade(shared);
        let owner = id.to_owned();
        let wake: Wake = Rc::new(move |ev| {
            if let Some(shared) = weak.upgrade() {
                on_event(&shared, &owner, generation, ev);
            }
        });
        inner.jobs.push(Entry {
            id: id.to_owned(),
            kind,
            generation,
            job,
            subscribers: vec![sub],
            timer: None,
            request: None,
            stream: None,
            wake: wake.clone(),
            last_record: JsValue::UNDEFINED,
            busy: false,
        });
        (wake, generation)
    };
    // Start from a timer: no callback ever runs inside `startPolling`.
    let timer = timer::arm(now(), wake, Event::Start);
    drop(put(shared, generation, |e| &mut e.timer, Some(timer)));
    Ok(())
}

fn on_event(shared: &Shared, id: &str, generation: u32, ev: Event) {
    match ev {
        Event::Start => dispatch(shared, id, generation, Input::Start, None),
        Event::Timer => dispatch(shared, id, generation, Input::Timer, None),
        Event::Fetched(r) => on_fetched(shared, id, generation, r),
        Event::Stream(s) => on_stream(shared, id, generation, s),
    }
}

/// Tells every job that conditions improved (see `Input::Nudge`).
pub fn nudge_all(shared: &Shared) {
    let jobs: Vec<(String, u32)> = shared
        .get()
        .jobs
        .iter()
        .map(|e| (e.id.clone(), e.generation))
        .collect();
    for (id, generation) in jobs {
        dispatch(shared, &id, generation, Input::Nudge, None);
    }
}

/// Stops a job silently; true if there was one.
pub fn stop(shared: &Shared, kind: Kind, id: &str) -> bool {
    let (entry, debug) = {
        let mut inner = shared.get();
        let Some(i) = inner.find(kind, id) else {
            return false;
        };
        (inner.jobs.swap_remove(i), inner.settings.debug)
    };
    if debug {
        console_log("smart-polling", id, "stopped");
    }
    settle_stopped(entry);
    true
}

pub fn stop_all(shared: &Shared) {
    let all = core::mem::take(&mut shared.get().jobs);
    for entry in all {
        settle_stopped(entry);
    }
}

/// A stopped job: its resources are released (after the borrow: Drop runs
/// JS), callbacks hear nothing more, and promises resolve as "stopped" so no
/// `await` hangs forever.
fn settle_stopped(entry: Entry) {
    let Entry {
        mut job,
        subscribers,
        timer,
        request,
        stream,
        ..
    } = entry;
    let t = now();
    job.handle(t, Input::Stop);
    drop((timer, request, stream));
    let p = job.progress(t);
    let err = error_object(PollError::Stopped, p.attempt);
    let result = result_object(
        &Err((PollError::Stopped, &err)),
        p.attempt,
        p.elapsed_time,
        p.channel,
    );
    for s in &subscribers {
        if let Some(resolve) = &s.resolve {
            call(&JsValue::NULL, resolve, &result, None);
        }
    }
}

/// Feeds one input to a job and executes what it asks for.
fn dispatch(shared: &Shared, id: &str, generation: u32, input: Input, current: Option<JsValue>) {
    let t = now();
    match shared.get().entry(generation) {
        Some(e) if e.busy && matches!(input, Input::Nudge) => return,
        Some(e) => {
            e.busy = true;
            e.job.handle(t, input);
        }
        None => return,
    }
    // One action at a time, the borrow released before each runs; a
    // callback that stops the job ends the loop.
    while let Some(action) = next_action(shared, generation) {
        if !execute(shared, id, generation, t, action, current.as_ref()) {
            break;
        }
    }
    if let Some(e) = shared.get().entry(generation) {
        e.busy = false;
    }
}

fn next_action(shared: &Shared, generation: u32) -> Option<Action> {
    shared
        .get()
        .entry(generation)
        .and_then(|e| e.job.poll_action())
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

/// Executes one action; false once the job is gone (stopped from a callback,
/// or finished).
fn execute(
    shared: &Shared,
    id: &str,
    generation: u32,
    t: u64,
    action: Action,
    current: Option<&JsValue>,
) -> bool {
    let (kind, wake, subscribers, debug) = {
        let mut inner = shared.get();
        let debug = inner.settings.debug;
        let Some(e) = inner.entry(generation) else {
            return false;
        };
        (e.kind, e.wake.clone(), e.subscribers.clone(), debug)
    };
    if debug {
        console_log("smart-polling", id, action_name(&action));
    }
    let notify = |note: Note| {
        for s in &subscribers {
            // A callback may have stopped the job: stay silent from then on.
            if !alive(shared, generation) {
                return;
            }
            s.notify(&note);
        }
    };
    match action {
        Action::SendRequest => {
            let url = {
                let mut inner = shared.get();
                inner.metrics.count_request();
                inner.url(kind, id)
            };
            let request = InFlight::send(&url, wake);
            drop(put(shared, generation, |e| &mut e.request, Some(request)));
        }
        Action::CancelRequest => {
            let request = take(shared, generation, |e| e.request.take());
            drop(request);
        }
        Action::ArmTimer { at } => {
            let timer = timer::arm(at, wake, Event::Timer);
            drop(put(shared, generation, |e| &mut e.timer, Some(timer)));
        }
        Action::OpenStream => {
            let url = shared
                .get()
                .settings
                .events_url
                .as_deref()
                .map(|t| fill(t, id));
            let stream = EventStream::open(url.as_deref(), wake);
            drop(put(shared, generation, |e| &mut e.stream, Some(stream)));
        }
        Action::CloseStream => {
            let stream = take(shared, generation, |e| e.stream.take());
            drop(stream);
        }
        Action::Update => {
            let record = current.cloned().unwrap_or(JsValue::UNDEFINED);
            drop(put(
                shared,
                generation,
                |e| &mut e.last_record,
                record.clone(),
            ));
            notify(Note::Update(&record));
        }
        Action::Progress(p) => notify(Note::Progress(&progress_object(id, &p))),
        Action::Retry { error, delay } => {
            let attempt = progress_of(shared, generation, t).map_or(0, |p| p.attempt);
            notify(Note::Retry(&error_object(error, attempt), delay));
        }
        Action::Complete { url } => finish(shared, id, generation, Ok(url), current),
        Action::Fail(e) => finish(shared, id, generation, Err(e), current),
    }
    alive(shared, generation)
}

fn alive(shared: &Shared, generation: u32) -> bool {
    shared.get().entry(generation).is_some()
}

/// Puts `value` into a slot of the job's entry and hands back what must be
/// dropped (the old value, or `value` if the job is gone): the caller drops
/// it after the borrow has ended, since dropping a resource runs JS.
fn put<T>(shared: &Shared, generation: u32, slot: fn(&mut Entry) -> &mut T, value: T) -> T {
    match shared.get().entry(generation) {
        Some(e) => core::mem::replace(slot(e), value),
        None => value,
    }
}

fn take<T>(shared: &Shared, generation: u32, f: impl FnOnce(&mut Entry) -> Option<T>) -> Option<T> {
    shared.get().entry(generation).and_then(f)
}

fn progress_of(shared: &Shared, generation: u32, t: u64) -> Option<Progress> {
    shared.get().entry(generation).map(|e| e.job.progress(t))
}

/// The url for an id: the template with its `{id}` replaced (byte search:
/// no string-pattern machinery in the wasm).
pub fn fill(template: &str, id: &str) -> String {
    let mut out = String::new();
    match find_id(template) {
        Some(i) => {
            // "{id}" is ASCII, so both cuts are on char boundaries.
            out.push_str(template.get(..i).unwrap_or_default());
            out.push_str(id);
            out.push_str(template.get(i + 4..).unwrap_or_default());
        }
        None => out.push_str(template),
    }
    out
}

/// Where `{id}` stands in a url template.
pub fn find_id(template: &str) -> Option<usize> {
    template.as_bytes().windows(4).position(|w| w == b"{id}")
}

/// Removes the finished job, records it, then tells every subscriber once.
fn finish(
    shared: &Shared,
    id: &str,
    generation: u32,
    result: Result<Option<String>, PollError>,
    current: Option<&JsValue>,
) {
    let entry = {
        let mut inner = shared.get();
        let Some(i) = inner.index(generation) else {
            return;
        };
        let entry = inner.jobs.swap_remove(i);
        if let Some(o) = entry.job.outcome() {
            inner.metrics.record(&o);
        }
        entry
    };
    let Entry {
        job,
        subscribers,
        last_record,
        timer,
        request,
        stream,
        ..
    } = entry;
    drop((timer, request, stream));
    let (attempts, duration, channel) = job.outcome().map_or((0, 0, Channel::Polling), |o| {
        (o.attempts, o.duration, o.channel)
    });
    match result {
        Ok(url) => {
            let record = match current {
                Some(r) => r.clone(),
                None => with_url(id, &last_record, url.as_deref()),
            };
            let result = result_object(&Ok(&record), attempts, duration, channel);
            for s in &subscribers {
                s.notify(&Note::Complete(&record, &result));
            }
        }
        Err(e) => {
            let err = error_object(e, attempts);
            let result = result_object(&Err((e, &err)), attempts, duration, channel);
            for s in &subscribers {
                s.notify(&Note::Error(&err, &result));
            }
        }
    }
}

/// The record to hand `onComplete` when the stream sent only a url.
fn with_url(id: &str, last: &JsValue, url: Option<&str>) -> JsValue {
    let record = object();
    if last.is_object() {
        Object::assign(&record, last.unchecked_ref());
    } else {
        set(&record, "id", id);
    }
    if let Some(u) = url {
        set(&record, "url", u);
    }
    record.into()
}

fn on_fetched(shared: &Shared, id: &str, generation: u32, r: Result<Fetched, ()>) {
    let Some((kind, media)) = shared
        .get()
        .entry(generation)
        .map(|e| (e.kind, e.job.config().media))
    else {
        return;
    };
    let (input, current) = match r {
        Err(()) => (Input::RequestFailed(PollError::Network), None),
        Ok(Fetched {
            body: Some(text), ..
        }) => read_body(kind, media, &text),
        Ok(f) => {
            let wall = f
                .date
                .as_deref()
                .and_then(parse_http_date)
                .unwrap_or_else(wall_clock);
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
    dispatch(shared, id, generation, input, current);
}

fn read_body(kind: Kind, media: Media, text: &str) -> (Input, Option<JsValue>) {
    let Ok(value) = JSON::parse(text) else {
        return (Input::Response(Reply::Unreadable), None);
    };
    let view = Js(value);
    let state = match kind {
        Kind::File => read_file(&view, media),
        Kind::Project => read_project(&view, media),
    };
    match state {
        Ok(state) => {
            let reply = Reply::Record {
                state,
                fingerprint: fingerprint(text),
            };
            (Input::Response(reply), Some(view.0))
        }
        Err(_) => (Input::Response(Reply::Unreadable), None),
    }
}

fn on_stream(shared: &Shared, id: &str, generation: u32, ev: SseEvent) {
    let Some(media) = shared.get().entry(generation).map(|e| e.job.config().media) else {
        return;
    };
    let (input, current) = match ev {
        SseEvent::Open => (Input::StreamOpened, None),
        SseEvent::Error => (Input::StreamFailed, None),
        SseEvent::Message(raw) => {
            let parsed = JSON::parse(&raw).ok().map(Js);
            let event = read_message(parsed.as_ref(), &raw, media);
            // A `file` message carries the record for onUpdate/onComplete.
            let record = parsed.and_then(|m| m.get("object")).map(|o| o.0);
            let current = match event {
                crate::core::stream::StreamEvent::File { .. } => record,
                _ => None,
            };
            (Input::StreamMessage(event), current)
        }
    };
    dispatch(shared, id, generation, input, current);
}

pub fn progress_object(id: &str, p: &Progress) -> JsValue {
    let o = object();
    set(&o, "fileId", id);
    set(&o, "attempt", p.attempt);
    set(&o, "maxAttempts", p.max_attempts);
    set(&o, "nextPollIn", p.next_poll_in.unwrap_or(0) as f64);
    set(&o, "elapsedTime", p.elapsed_time as f64);
    if let Some(eta) = p.estimated_time_remaining {
        set(&o, "estimatedTimeRemaining", eta as f64);
    }
    set(&o, "channel", p.channel.as_str());
    if let Some(pc) = p.progress {
        set(&o, "progress", pc);
    }
    o.into()
}

pub fn error_object(e: PollError, attempt: u32) -> JsValue {
    let o = object();
    set(&o, "kind", e.kind());
    set(&o, "message", e.message());
    if let Some(s) = e.status() {
        set(&o, "status", s);
    }
    set(&o, "attempt", attempt);
    set(&o, "retryable", e.retryable());
    o.into()
}

fn result_object(
    r: &Result<&JsValue, (PollError, &JsValue)>,
    attempts: u32,
    duration: u64,
    channel: Channel,
) -> JsValue {
    let o = object();
    set(&o, "success", r.is_ok());
    let method = match r {
        Ok(data) => {
            set(&o, "data", *data);
            "success"
        }
        Err((e, err)) => {
            set(&o, "error", *err);
            match e {
                PollError::Timeout | PollError::MaxAttempts => "timeout",
                PollError::RateLimited => "rate_limited",
                _ => "error",
            }
        }
    };
    set(&o, "attempts", attempts);
    set(&o, "duration", duration as f64);
    set(&o, "method", method);
    set(&o, "channel", channel.as_str());
    o.into()
}

pub fn metrics_object(m: &Metrics) -> JsValue {
    let o = object();
    set(
        &o,
        "averageCompletionTime",
        m.average_completion_time().unwrap_or(0) as f64,
    );
    set(&o, "successRate", m.success_rate());
    let dist = object();
    for (kind, n) in m.error_distribution() {
        set(&dist, kind, *n);
    }
    set(&o, "errorDistribution", &*dist);
    set(&o, "averageAttempts", m.average_attempts());
    set(&o, "totalRequests", m.total_requests() as f64);
    set(&o, "completedJobs", m.finished());
    o.into()
}
