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
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::{Function, Object, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::boundary::{
    field, file_view, message_type, project_view, stream_message, to_js, Settings,
};
use super::fetch::{Fetched, InFlight};
use super::page;
use super::sse::{EventStream, SseEvent};
use super::storage;
use super::tabs::{kind_from_name, kind_name, Leadership, Outgoing, Tabs, VERSION};
use crate::core::check::{checked_input, Checked};
use crate::core::config::{Config, Lenient, Media, Options};
use crate::core::error::{ErrorReport, PollError};
use crate::core::history::Saved;
use crate::core::job::{Action, Input, Mirror, Reply};
use crate::core::learn::{completion_time, Learned, Planned};
use crate::core::metrics::{Channel, MetricsReport, Progress, ProgressReport};
use crate::core::record::{fingerprint, State};
use crate::core::retry_after::{parse_http_date, parse_retry_after};
use crate::core::schedule::SplitMix64;
use crate::core::stream::{garbage_reason, StreamEvent};
use crate::core::table::{gate_key, Ended, JobId, Kind, Step, Table};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(prefix: &str, what: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(prefix: &str, id: &str, what: &str);
}

/// Timer turns per task in a hidden tab.
const HIDDEN_TURNS: usize = 8;

/// How long a leader keeps an ended job's lock after telling the others.
const END_GRACE_MS: u64 = 1000;

/// Monotonic milliseconds: the jobs' clock.
pub fn now() -> u64 {
    performance_now() as u64
}

/// Who hears about a job: the page's callbacks object (`onUpdate`, ...,
/// looked up when called), plus the resolve function for the Promise form.
/// The Promise form speaks the old module's language: its options'
/// `onProgress(attempt, elapsed, nextInterval, progress)` and
/// `onError(error, attempt)` (transient errors), and the outcome resolves
/// the promise instead of calling `onComplete` / `onError`.
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
    /// A checker job's function.
    checker: Option<Function>,
    /// This tab's claim to lead the job across tabs (`None`: not shared).
    leadership: Option<Leadership>,
    /// What a checker said of its last error, used instead of the error's
    /// own message.
    message: Option<String>,
    /// A tab joined before this job kept its record: the next record goes
    /// to the other tabs even if it is not new.
    resend: bool,
}

/// One event for the page.
enum Note<'a> {
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

fn call_with(this: &JsValue, f: &JsValue, args: &js_sys::Array) {
    let Some(f) = f.dyn_ref::<Function>() else {
        return;
    };
    if let Err(e) = f.apply(this, args) {
        console_error("smart-polling: a callback threw", &e);
    }
}

impl Subscriber {
    fn notify(&self, note: &Note) {
        let cb = &self.callbacks;
        let on = |name: &str, a: &JsValue, b: Option<u64>| call(cb, &field(cb, name), a, b);
        let num = |n: u64| JsValue::from_f64(n as f64);
        match (note, &self.resolve) {
            (Note::Update(r), _) => on("onUpdate", r, None),
            (Note::Progress(p), None) => on("onProgress", p, None),
            // The old module's `onProgress` runs once before each attempt.
            (Note::Progress(_), Some(_)) | (Note::Attempt(..), None) => {}
            (Note::Attempt(p, attempt, elapsed, wait), Some(_)) => {
                let args =
                    js_sys::Array::of4(&num(u64::from(*attempt)), &num(*elapsed), &num(*wait), p);
                call_with(cb, &field(cb, "onProgress"), &args);
            }
            (Note::Retry(e, _, _, d), None) => on("onRetry", e, Some(*d)),
            (Note::Retry(_, error, attempt, _), Some(_)) => {
                let args = js_sys::Array::of2(error, &num(u64::from(*attempt)));
                call_with(cb, &field(cb, "onError"), &args);
            }
            (Note::Complete(r, _), None) => on("onComplete", r, None),
            (Note::Error(e, _), None) => on("onError", e, None),
            (Note::Complete(_, result) | Note::Error(_, result), Some(resolve)) => {
                call(&JsValue::NULL, resolve, result, None)
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

fn result_report(
    r: Result<&JsValue, PollError>,
    message: Option<&str>,
    attempts: u32,
    duration: u64,
    channel: Channel,
) -> JsValue {
    let (data, failure, method) = match r {
        Ok(data) => (data.clone(), None, "success"),
        Err(e) => {
            let mut report = e.report(attempts);
            if let Some(m) = message {
                report.message = m;
            }
            let method = match e {
                PollError::Timeout | PollError::MaxAttempts => "timeout",
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
/// carrying `kind`, `status` and `retryable` too.
fn error_object(report: &ErrorReport) -> JsValue {
    let e = js_sys::Error::new(report.message);
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&e, &JsValue::from_str(k), &v);
    };
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

/// The history a job of `kind` learns from and teaches: its endpoint's
/// (file or project url template). Checkers learn nothing.
fn slot(kind: Kind) -> Option<usize> {
    match kind {
        Kind::File => Some(0),
        Kind::Project => Some(1),
        Kind::Check => None,
    }
}

pub struct Manager {
    table: RefCell<Table<Subscriber, Resources>>,
    settings: Settings,
    /// The configuration of a job started without overrides.
    base: Option<Config>,
    /// The origin of each kind's jobs (by `Kind as usize`).
    origins: [String; 3],
    /// Jitter seeds of jobs: one random draw per manager, not per job.
    seeds: RefCell<SplitMix64>,
    /// Sharing jobs with the other tabs (`None`: off, or not supported).
    tabs: RefCell<Option<Tabs>>,
    /// Whether another tab has spoken on the channel: until then a leader
    /// has nobody to tell (a follower's first word is its "hello").
    peers: Cell<bool>,
    /// Completion times per endpoint (file, project; see `slot`) and media
    /// kind, as kept in localStorage and merged with the other tabs' and
    /// managers' (`history`), the models they teach (`learned`), and the
    /// schedules and estimates derived from those, computed once per kind
    /// and limits (a fit reads every sample).
    history: RefCell<[Saved; 2]>,
    learned: RefCell<[Learned; 2]>,
    planned: RefCell<Planned>,
    /// New shared jobs whose lock is still to be asked for: a turn's worth
    /// per timer turn, so starting thousands of jobs stays cheap (they
    /// follow, sending nothing, until their claim is granted).
    claims: RefCell<VecDeque<JobId>>,
    /// Locks granted (name, release), to lead from the next turn on: the
    /// lock manager may grant hundreds at once, and each then sends a request.
    grants: RefCell<VecDeque<(String, Function)>>,
    /// The table's one timer and the time it is armed for.
    timer: RefCell<Option<(u64, Timeout)>>,
    draining: Cell<bool>,
    /// Locks of jobs that ended here, held until the time given (oldest
    /// first; dropping one releases it).
    ending: RefCell<VecDeque<(u64, Leadership)>>,
    /// `stopAllPolling` calls so far: an end being announced when one comes
    /// (from one of its own callbacks) tells the remaining callbacks nothing.
    stops: Cell<u32>,
    page: RefCell<Vec<page::Listener>>,
}

impl Manager {
    pub fn new(settings: Settings) -> Rc<Self> {
        // Checked by `read_settings` already.
        let base = Options::default().config(&settings.defaults).ok();
        let origins = [Kind::File, Kind::Project, Kind::Check].map(|k| settings.origin(k));
        let me = Rc::new(Self {
            table: RefCell::new(
                Table::with_budget(settings.max_streams, settings.budget)
                    .with_max_requests(settings.max_requests),
            ),
            settings,
            base,
            origins,
            seeds: RefCell::new(SplitMix64::new(
                (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64,
            )),
            timer: RefCell::new(None),
            draining: Cell::new(false),
            stops: Cell::new(0),
            ending: RefCell::new(VecDeque::new()),
            page: RefCell::new(Vec::new()),
            tabs: RefCell::new(None),
            peers: Cell::new(false),
            history: RefCell::new(Default::default()),
            learned: RefCell::new(Default::default()),
            planned: RefCell::new(Planned::default()),
            claims: RefCell::new(VecDeque::new()),
            grants: RefCell::new(VecDeque::new()),
        });
        if me.settings.share_across_tabs {
            let weak = Rc::downgrade(&me);
            let granted = weak.clone();
            let tabs = Tabs::open(
                me.settings.tabs_key(),
                move |message| {
                    if let Some(me) = weak.upgrade() {
                        me.on_tab_message(message);
                    }
                },
                move |lock, release| match granted.upgrade() {
                    Some(me) if me.wants(&lock) => {
                        me.grants.borrow_mut().push_back((lock, release));
                        me.rearm();
                    }
                    // Not wanted (its job was stopped): let go at once,
                    // not after the queue of wanted ones.
                    _ => {
                        let _ = release.call0(&JsValue::UNDEFINED);
                    }
                },
            );
            *me.tabs.borrow_mut() = tabs;
        }
        let weak = Rc::downgrade(&me);
        let listeners = page::watch(Rc::new(move |signal| {
            if let Some(me) = weak.upgrade() {
                let mut table = me.table.borrow_mut();
                match signal {
                    page::Signal::Offline => table.set_online(now(), false),
                    // Back from a pause; or an `online` this manager had
                    // not seen go (then it nudges like a visible tab).
                    page::Signal::Online if table.is_offline() => table.set_online(now(), true),
                    page::Signal::Online | page::Signal::Visible => table.nudge_all(now()),
                }
                drop(table);
                me.settle();
            }
        }));
        *me.page.borrow_mut() = listeners;
        me.load_history();
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
        self.start_with(kind, id, sub, overrides, None)
    }

    /// `start`, with the checker of a `Kind::Check` job (the first caller's
    /// is kept when later ones join).
    pub fn start_with(
        self: &Rc<Self>,
        kind: Kind,
        id: &str,
        sub: Subscriber,
        overrides: &Options,
        checker: Option<Function>,
    ) -> Result<(), PollError> {
        // Most starts have no overrides: their configuration is the base.
        let mut cfg = match &self.base {
            Some(base) if *overrides == Options::default() => base.clone(),
            _ => overrides.config(&self.settings.defaults)?,
        };
        if sub.resolve.is_some() {
            cfg.old_module_limits(overrides, &self.settings.defaults);
        }
        if overrides.seed.is_none() && self.settings.defaults.seed.is_none() {
            cfg.seed = self.seeds.borrow_mut().next_u64();
        }
        cfg.use_stream &= kind == Kind::File && self.settings.events_url.is_some();
        if let Some(slot) = slot(kind).filter(|_| {
            cfg.learn
                && cfg.media != Media::Any
                && !overrides.sets_waits()
                && !self.settings.defaults.sets_waits()
        }) {
            self.learned_schedule(slot, &mut cfg);
        }
        let origin = gate_key(kind, id, &self.origins[kind as usize]);
        let t = now();
        // navigator.onLine is the truth; its events may have come before
        // this manager listened.
        let online = page::online();
        if online == self.table.borrow().is_offline() {
            self.table.borrow_mut().set_online(t, online);
        }
        let shared = kind != Kind::Check && self.tabs.borrow().is_some();
        let (job, new) = {
            let mut table = self.table.borrow_mut();
            let before = table.len();
            let job = table.start_at(t, kind, id, &origin, cfg, sub);
            let new = table.len() > before;
            if let Some(r) = table.resources(job) {
                r.checker = r.checker.take().or(checker);
            }
            if new && shared {
                // Another tab may lead it: follow until this tab's lock.
                table.handle(t, job, Input::Follow);
            }
            (job, new)
        };
        if new && shared {
            self.claims.borrow_mut().push_back(job);
        }
        self.rearm_at(t);
        Ok(())
    }

    /// An image or video job polls where this page's own jobs of that kind
    /// completed (`core::learn`), and estimates its time left from them.
    fn learned_schedule(&self, slot: usize, cfg: &mut Config) {
        let learned = self.learned.borrow();
        let model = learned[slot].model(cfg.media);
        self.planned.borrow_mut().apply(slot, model, cfg);
    }

    /// The storage key of each slot's history: its url template's.
    fn history_key(&self, slot: usize) -> String {
        storage::key(match slot {
            0 => &self.settings.file_url,
            _ => &self.settings.project_url,
        })
    }

    /// Reads the stored histories (what other tabs and managers of these
    /// urls learned), merged with this manager's own.
    fn load_history(&self) {
        for slot in 0..2 {
            let stored = storage::load(&self.history_key(slot));
            let merged = stored.merge(&self.history.borrow()[slot]);
            self.learned.borrow_mut()[slot] = merged.learned();
            self.history.borrow_mut()[slot] = merged;
        }
        self.planned.borrow_mut().forget(0);
        self.planned.borrow_mut().forget(1);
    }

    /// Learns from a job this tab saw complete, and keeps it across reloads
    /// and tabs: read what is stored, add the sample, keep the newest.
    fn learn(&self, slot: usize, media: Media, pending: Option<u64>, duration: u64) {
        let at = js_sys::Date::now();
        let mut mine = self.history.borrow()[slot].clone();
        if !mine.record(media, at, completion_time(pending, duration)) {
            return;
        }
        let key = self.history_key(slot);
        let merged = storage::load(&key).merge(&mine);
        storage::save(&key, &merged);
        self.learned.borrow_mut()[slot] = merged.learned();
        self.history.borrow_mut()[slot] = merged;
        self.planned.borrow_mut().forget(slot);
    }

    /// Asks to lead a new shared job, and asks the leader (if any) for its
    /// state.
    fn claim(self: &Rc<Self>, job: JobId, kind: Kind, id: &str) {
        let name = match &*self.tabs.borrow() {
            Some(tabs) => tabs.lock_name(kind, id),
            None => return,
        };
        let lead = match &*self.tabs.borrow() {
            Some(tabs) => Leadership::request(tabs, &name),
            None => None,
        };
        match lead {
            Some(lead) => self.put(job, |r| &mut r.leadership, Some(lead)),
            // No lock after all: lead at once, alone.
            None => self.table.borrow_mut().handle(now(), job, Input::Lead),
        }
        let hello = to_js(&Outgoing {
            v: VERSION,
            kind_of_message: "hello",
            kind: kind_name(kind),
            id,
            attempt: 0,
            elapsed: 0,
            next_poll_in: None,
            channel: Channel::Polling,
            progress: None,
            position: 0,
            fingerprint: None,
            record: JsValue::UNDEFINED,
            result: None,
            url: None,
        });
        if let Some(tabs) = &*self.tabs.borrow() {
            tabs.post(&hello);
        }
    }

    /// This tab holds a job's lock: it leads the job from now on, or lets
    /// go of the lock at once if it no longer wants it.
    fn lead(&self, t: u64, lock: &str, release: Function) {
        let job = {
            let tabs = self.tabs.borrow();
            let mut table = self.table.borrow_mut();
            let job = tabs
                .as_ref()
                .and_then(|tabs| tabs.job_of(lock))
                .and_then(|(kind, id)| table.find(kind, id));
            let claim = job.and_then(|job| table.resources(job)?.leadership.as_mut());
            let granted = claim.is_some_and(|claim| claim.grant(release.clone()));
            job.filter(|_| granted)
        };
        match job {
            Some(job) => self.table.borrow_mut().handle(t, job, Input::Lead),
            None => {
                let _ = release.call0(&JsValue::UNDEFINED);
            }
        }
    }

    /// Whether a job here waits for this lock. (A lock callback runs in a
    /// task of its own: nothing is borrowed; if it were, `lead` decides.)
    fn wants(&self, lock: &str) -> bool {
        let (Ok(tabs), Ok(mut table)) = (self.tabs.try_borrow(), self.table.try_borrow_mut())
        else {
            return true;
        };
        let Some((kind, id)) = tabs.as_ref().and_then(|t| t.job_of(lock)) else {
            return false;
        };
        let Some(job) = table.find(kind, id) else {
            return false;
        };
        // No claim yet (it is being made): `lead` decides.
        table
            .resources(job)
            .is_some_and(|r| r.leadership.as_ref().is_none_or(|l| !l.is_leader()))
    }

    /// Whether this tab leads a shared job.
    fn leads(&self, job: JobId) -> bool {
        self.table
            .borrow_mut()
            .resources(job)
            .and_then(|r| r.leadership.as_ref())
            .is_some_and(Leadership::is_leader)
    }

    /// The leader tells the other tabs a job's state (or its end).
    fn broadcast(
        &self,
        job: JobId,
        what: &'static str,
        result: Option<(&'static str, Option<&str>)>,
        record: JsValue,
    ) {
        let message = {
            let table = self.table.borrow();
            let Some((kind, id)) = table.key(job).map(|(k, id)| (k, id.to_owned())) else {
                return;
            };
            let Some(j) = table.job(job) else {
                return;
            };
            let p = j.progress(now());
            let position = j.position();
            // A 53-bit fingerprint: it travels as a JS number.
            let fingerprint = (!record.is_undefined()).then(|| j.fingerprint() & ((1 << 53) - 1));
            to_js(&Outgoing {
                v: VERSION,
                kind_of_message: what,
                kind: kind_name(kind),
                id: &id,
                attempt: p.attempt,
                elapsed: p.elapsed_time,
                next_poll_in: p.next_poll_in,
                channel: p.channel,
                progress: p.progress,
                position,
                fingerprint,
                record,
                result: result.map(|(r, _)| r),
                url: result.and_then(|(_, u)| u),
            })
        };
        if let Some(tabs) = &*self.tabs.borrow() {
            tabs.post(&message);
        }
    }

    /// A message from another tab: trusted only as far as it checks out.
    fn on_tab_message(self: &Rc<Self>, message: JsValue) {
        let Some(m) = super::tabs::read_message(&message) else {
            return;
        };
        if m.v != Some(Lenient::Valid(VERSION)) {
            return; // another version: never trusted
        }
        self.peers.set(true);
        let (Some(Lenient::Valid(what)), Some(Lenient::Valid(kind)), Some(Lenient::Valid(id))) =
            (&m.kind_of_message, &m.kind, &m.id)
        else {
            return;
        };
        let Some(kind) = kind_from_name(kind) else {
            return;
        };
        let (job, following, media) = {
            let table = self.table.borrow();
            let Some(job) = table.find(kind, id) else {
                return;
            };
            let Some(j) = table.job(job) else {
                return;
            };
            (job, j.is_following(), j.config().media)
        };
        match what.as_str() {
            "hello" if self.leads(job) => {
                let last = self.table.borrow_mut().resources(job).map(|r| {
                    // None kept (nobody had asked): the next record goes out.
                    r.resend = r.last.is_undefined();
                    r.last.clone()
                });
                self.broadcast(job, "state", None, last.unwrap_or(JsValue::UNDEFINED));
            }
            "state" if following => {
                // A record must read as this tab would read it: an unsafe
                // url (or an unreadable record) drops the whole message.
                let record = m.record.clone();
                let fingerprint = match (&m.fingerprint, record.is_undefined()) {
                    (_, true) => None,
                    (Some(Lenient::Valid(fp)), false) => match read_state(kind, media, &record) {
                        Some(State::UnsafeUrl) | None => return,
                        Some(_) => Some(*fp),
                    },
                    _ => return,
                };
                let number = |v: &Option<Lenient<u64>>| match v {
                    Some(Lenient::Valid(n)) => Some(*n),
                    _ => None,
                };
                let (Some(Lenient::Valid(attempts)), Some(elapsed)) =
                    (&m.attempt, number(&m.elapsed))
                else {
                    return;
                };
                let mirror = Mirror {
                    attempts: *attempts,
                    elapsed,
                    next_poll_in: number(&m.next_poll_in),
                    channel: match &m.channel {
                        Some(Lenient::Valid(c)) if c == "sse" => Channel::Stream,
                        _ => Channel::Polling,
                    },
                    percent: match m.progress {
                        Some(Lenient::Valid(p)) if p <= 100 => Some(p),
                        _ => None,
                    },
                    position: match m.position {
                        Some(Lenient::Valid(p)) => p as usize,
                        _ => 0,
                    },
                    fingerprint,
                };
                let record = fingerprint.map(|_| record);
                self.deliver(job, Input::Mirror(mirror), record);
            }
            "end" if following => {
                let Some(Lenient::Valid(result)) = &m.result else {
                    return;
                };
                let outcome = if result == "complete" {
                    // Complete only with a record this tab reads as complete
                    // with the same (so safe) url.
                    let url = match &m.url {
                        Some(Lenient::Valid(u)) => u.clone(),
                        _ => return,
                    };
                    match read_state(kind, media, &m.record) {
                        Some(State::Complete { url: Some(u) }) if u == url => Ok(Some(url)),
                        _ => return,
                    }
                } else {
                    match shared_error(result) {
                        Some(e) => Err(e),
                        None => return,
                    }
                };
                let record = outcome.is_ok().then(|| m.record.clone());
                self.deliver(job, Input::MirrorEnd(outcome), record);
            }
            _ => {}
        }
    }

    /// Stops a job silently; true if there was one.
    pub fn stop(self: &Rc<Self>, kind: Kind, id: &str) -> bool {
        let ended = self.table.borrow_mut().stop(now(), kind, id);
        match ended {
            Some(e) => {
                self.log(&e.id, "stopped");
                settle_stopped(e);
                // Its request's room may go to a job waiting for it now.
                self.rearm();
                true
            }
            None => false,
        }
    }

    pub fn stop_all(&self) {
        self.stops.set(self.stops.get().wrapping_add(1));
        let ending = std::mem::take(&mut *self.ending.borrow_mut());
        drop(ending);
        self.claims.borrow_mut().clear();
        let grants = std::mem::take(&mut *self.grants.borrow_mut());
        release(grants);
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
            .map(|(kind, id, p)| progress_js(*kind, id, p, None))
            .collect()
    }

    /// The old module's `getPollingStatus()`: `{ pollId, attempts, elapsed,
    /// lastError? }` for every job, under the poll ids `file-{id}`,
    /// `project-{id}` or the checker's own.
    pub fn poll_statuses(&self) -> Vec<JsValue> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct PollStatus<'a> {
            poll_id: String,
            attempts: u32,
            elapsed: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            last_error: Option<&'a str>,
        }
        let t = now();
        let table = self.table.borrow();
        let list: Vec<PollStatus> = table
            .statuses(t)
            .into_iter()
            .map(|(kind, id, p)| {
                let last_error = table
                    .find(kind, id)
                    .and_then(|job| table.job(job))
                    .and_then(|j| j.consecutive_errors().1)
                    .filter(|_| p.attempt > 0)
                    .map(|e| e.message());
                PollStatus {
                    poll_id: poll_id(kind, id),
                    attempts: p.attempt,
                    elapsed: p.elapsed_time,
                    last_error,
                }
            })
            .collect();
        list.iter().map(to_js).collect()
    }

    pub fn metrics(&self) -> MetricsReport {
        self.table.borrow().report()
    }

    fn log(&self, id: &str, what: &str) {
        if self.settings.debug {
            console_log("smart-polling", id, what);
        }
    }

    /// `debug: true`: why a stream message was not understood, and its
    /// start (after `maxStreamGarbage` in a row the stream is closed).
    fn log_garbage(&self, job: JobId, raw: &str) {
        let id = self.table.borrow().key(job).map(|(_, id)| id.to_owned());
        let kind = message_type(raw);
        let start: String = raw.chars().take(200).collect();
        let what = [
            "stream message not understood: ",
            garbage_reason(kind.as_deref()),
            "; got: ",
            &start,
        ]
        .concat();
        self.log(&id.unwrap_or_default(), &what);
    }

    /// Arms the one timer for the table's next wake, unless it is armed
    /// earlier already (an early fire only finds nothing due).
    fn rearm(self: &Rc<Self>) {
        self.rearm_at(now());
    }

    /// `rearm` at `t`, the time the caller read already (a start reads it
    /// once: `performance.now()` from wasm is a call into JS).
    fn rearm_at(self: &Rc<Self>, t: u64) {
        let claims =
            (!self.claims.borrow().is_empty() || !self.grants.borrow().is_empty()).then_some(t);
        let ending = self.ending.borrow().front().map(|(at, _)| *at);
        let next = self.table.borrow_mut().next_wake();
        let next = [next, claims, ending].into_iter().flatten().min();
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
        let delay = at.saturating_sub(t).min(i32::MAX as u64) as u32;
        let me = self.clone();
        let timeout = Timeout::new(delay, move || me.on_timer());
        let old = self.timer.borrow_mut().replace((at, timeout));
        drop(old);
    }

    fn on_timer(self: &Rc<Self>) {
        // This timeout has fired: forget it (dropped after this turn).
        let fired = self.timer.borrow_mut().take();
        let t = now();
        let ended: Vec<_> = {
            let mut ending = self.ending.borrow_mut();
            let due = ending.iter().take_while(|(at, _)| *at <= t).count();
            ending.drain(..due).collect()
        };
        drop(ended);
        // A hidden tab's timers fire about once a second (or minute): there,
        // with no user to freeze, one task takes several turns.
        let turns = if page::hidden() { HIDDEN_TURNS } else { 1 };
        for _ in 0..turns {
            let t = now();
            let more = self.table.borrow_mut().on_timer(t);
            self.claim_some();
            // A granted lock's poll is due at once (the next turn sends it):
            // half a turn's worth, as the timer's jobs may have sent a
            // turn's worth already.
            let mut led = false;
            for _ in 0..crate::core::table::TURN / 2 {
                let Some((lock, release)) = self.grants.borrow_mut().pop_front() else {
                    break;
                };
                self.lead(t, &lock, release);
                led = true;
            }
            self.settle();
            let queued = !self.claims.borrow().is_empty() || !self.grants.borrow().is_empty();
            // A hidden tab's next timer may be a second (or a minute) away:
            // the polls just made due go in this task's next turn.
            if !more && !queued && !led {
                break;
            }
        }
        self.rearm();
        drop(fired);
    }

    /// Asks for the locks of up to a turn's worth of new shared jobs.
    fn claim_some(self: &Rc<Self>) {
        for _ in 0..crate::core::table::TURN {
            let next = self.claims.borrow_mut().pop_front();
            let Some(job) = next else {
                return;
            };
            let key = self
                .table
                .borrow()
                .key(job)
                .map(|(k, id)| (k, id.to_owned()));
            if let Some((kind, id)) = key {
                self.claim(job, kind, &id);
            }
        }
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
        Some((kind, self.settings.url(kind, id)))
    }

    fn act(self: &Rc<Self>, job: JobId, action: Action) {
        if self.settings.debug {
            let id = self.table.borrow().key(job).map(|(_, id)| id.to_owned());
            self.log(&id.unwrap_or_default(), action_name(&action));
        }
        match action {
            Action::SendRequest => {
                if !self.before_attempt(job) {
                    return; // a callback stopped the job
                }
                let Some((kind, url)) = self.url(job) else {
                    return;
                };
                let weak = Rc::downgrade(self);
                let request = if kind == Kind::Check {
                    let checker = self
                        .table
                        .borrow_mut()
                        .resources(job)
                        .and_then(|r| r.checker.clone());
                    let Some(checker) = checker else {
                        return;
                    };
                    InFlight::check(checker, move |r| on_checked(&weak, job, r))
                } else {
                    InFlight::send(&url, move |r| on_fetched(&weak, job, kind, r))
                };
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
                let shared = self.tabs.borrow().is_some();
                let record = {
                    let mut table = self.table.borrow_mut();
                    let keep = (shared && self.peers.get())
                        || table.job(job).is_some_and(|j| j.config().use_stream);
                    table.resources(job).map(|r| {
                        // Kept only where it is read: a stream's bare url
                        // completes it, a follower's "hello" is answered
                        // with it (once another tab has been heard from;
                        // before, a joining tab gets the next record, see
                        // `resend`). A thousand polling jobs alone in
                        // their tab keep no records.
                        if keep {
                            r.last = r.current.clone();
                        }
                        r.resend = false; // this record goes out below
                        r.current.clone()
                    })
                };
                if let Some(record) = record {
                    if self.peers.get() && self.leads(job) {
                        self.broadcast(job, "state", None, record.clone());
                    }
                    self.notify(job, &Note::Update(&record));
                }
            }
            Action::Progress(p) => {
                let role = self.role(job);
                let report = match self.table.borrow().key(job) {
                    Some((kind, id)) => progress_js(kind, id, &p, role),
                    None => return,
                };
                if role == Some("leader") && self.peers.get() {
                    self.broadcast(job, "state", None, JsValue::UNDEFINED);
                }
                self.notify(job, &Note::Progress(&report));
            }
            Action::Retry { error, delay } => {
                let (attempt, message) = {
                    let mut table = self.table.borrow_mut();
                    let attempt = table.job(job).map_or(0, |j| j.progress(0).attempt);
                    let message = table.resources(job).and_then(|r| r.message.clone());
                    (attempt, message)
                };
                let mut report = error.report(attempt);
                if let Some(m) = &message {
                    report.message = m;
                }
                let object = to_js(&report);
                let error = error_object(&report);
                self.notify(job, &Note::Retry(&object, &error, attempt, delay));
            }
            // The table keeps the timer and turns terminal actions into
            // `Finished`.
            Action::ArmTimer { .. } | Action::Complete { .. } | Action::Fail(_) => {}
        }
    }

    /// Tells the Promise form's subscribers that an attempt is about to go
    /// (the old module's `onProgress`); false if a callback ended the job.
    fn before_attempt(&self, job: JobId) -> bool {
        let note = {
            let table = self.table.borrow();
            let promised = table
                .subscribers(job)
                .is_some_and(|s| s.iter().any(|s| s.resolve.is_some()));
            let (Some(j), Some((kind, id))) = (table.job(job).filter(|_| promised), table.key(job))
            else {
                return true;
            };
            let p = j.progress(now());
            let report = progress_js(kind, id, &p, None);
            (report, p.attempt, p.elapsed_time, j.planned_wait())
        };
        self.notify(job, &Note::Attempt(&note.0, note.1, note.2, note.3));
        self.table.borrow().contains(job)
    }

    /// A request failed: if the browser says it is offline, every job pauses
    /// first (the failure then counts as no error). The `online` event
    /// resumes them.
    fn went_offline(&self) {
        if !page::online() {
            self.table.borrow_mut().set_online(now(), false);
        }
    }

    /// "leader" or "follower" for a job shared across tabs.
    fn role(&self, job: JobId) -> Option<&'static str> {
        let mut table = self.table.borrow_mut();
        let l = table.resources(job)?.leadership.as_ref()?;
        Some(if l.is_leader() { "leader" } else { "follower" })
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
            media,
            learns,
            last_pending,
            subscribers,
            resources,
            ..
        } = ended;
        // Learned once across tabs: by the tab that saw it (a follower only
        // heard of it).
        let heard = resources
            .leadership
            .as_ref()
            .is_some_and(|l| !l.is_leader());
        if let (Ok(_), Some(o), Some(slot), true) = (&result, &outcome, slot(kind), learns) {
            if !heard {
                let pending = last_pending.filter(|_| o.channel == Channel::Polling);
                self.learn(slot, media, pending, o.duration);
            }
        }
        let Resources {
            request,
            stream,
            current,
            last,
            message,
            leadership,
            ..
        } = resources;
        drop((request, stream));
        if leadership.as_ref().is_some_and(Leadership::is_leader) && outcome.is_some() {
            if self.peers.get() {
                self.broadcast_end(kind, &id, &result, &current, &last, &progress);
            }
            // The lock outlives the news a moment, so that no follower takes
            // over a job that has just ended (the channel and the lock
            // manager do not deliver in a common order). The settle loop
            // that called this re-arms the timer for it.
            if let Some(l) = leadership {
                self.ending
                    .borrow_mut()
                    .push_back((now() + END_GRACE_MS, l));
            }
        } else {
            // Releases the lock (a queued request lets go when granted).
            drop(leadership);
        }
        self.log(
            &id,
            result.as_ref().map_or_else(|e| e.kind(), |_| "complete"),
        );
        let attempts = progress.attempt;
        let (duration, channel) = outcome.map_or((progress.elapsed_time, progress.channel), |o| {
            (o.duration, o.channel)
        });
        // Promises always settle; callbacks stop once a callback stopped all.
        let epoch = self.stops.get();
        let told = |s: &&Subscriber| s.resolve.is_some() || self.stops.get() == epoch;
        match result {
            Ok(url) => {
                let record = if current.is_undefined() {
                    with_url(kind, &id, &last, url.as_deref())
                } else {
                    current
                };
                // The old module resolves a project with the matching entry.
                let data = match (kind, &url) {
                    (Kind::Project, Some(u)) => project_result(&id, &record, u),
                    _ => record.clone(),
                };
                let result = result_report(Ok(&data), None, attempts, duration, channel);
                for s in subscribers.iter().filter(|s| told(s)) {
                    s.notify(&Note::Complete(&record, &result));
                }
            }
            Err(e) => {
                // A checker's own words, for its failure or its last error.
                let message =
                    message.filter(|_| matches!(e, PollError::GenerationFailed | PollError::Check));
                let mut report = e.report(attempts);
                if let Some(m) = &message {
                    report.message = m;
                }
                let err = to_js(&report);
                let result = result_report(Err(e), message.as_deref(), attempts, duration, channel);
                for s in subscribers.iter().filter(|s| told(s)) {
                    s.notify(&Note::Error(&err, &result));
                }
            }
        }
    }

    /// Feeds a job one input with the record it carries, then runs its steps.
    fn deliver(self: &Rc<Self>, job: JobId, input: Input, record: Option<JsValue>) {
        self.deliver_checked(job, input, record, None);
    }

    /// `deliver`, with what a checker said of its error.
    fn deliver_checked(
        self: &Rc<Self>,
        job: JobId,
        input: Input,
        record: Option<JsValue>,
        message: Option<String>,
    ) {
        {
            let mut table = self.table.borrow_mut();
            if let Some(r) = table.resources(job) {
                r.current = record.unwrap_or(JsValue::UNDEFINED);
                r.message = message;
            }
            table.handle(now(), job, input);
        }
        self.settle();
        if !self.draining.get() {
            // Its steps have run: the record is not needed any more, unless
            // a tab that joined waits for one (a record that was news went
            // out with its `Update` already).
            let resend = self.table.borrow_mut().resources(job).and_then(|r| {
                let record = std::mem::take(&mut r.current);
                (std::mem::take(&mut r.resend) && record.is_object()).then_some(record)
            });
            if let Some(record) = resend {
                if self.leads(job) {
                    self.broadcast(job, "state", None, record);
                }
            }
        }
    }
}

/// Lets go of locks granted to jobs that are gone.
fn release(grants: VecDeque<(String, Function)>) {
    for (_, release) in grants {
        let _ = release.call0(&JsValue::UNDEFINED);
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
    // Only promises hear of a stop: most jobs need no result object.
    let mut result = None;
    for s in &subscribers {
        if let Some(resolve) = &s.resolve {
            let result = result.get_or_insert_with(|| {
                result_report(
                    Err(PollError::Stopped),
                    None,
                    progress.attempt,
                    progress.elapsed_time,
                    progress.channel,
                )
            });
            call(&JsValue::NULL, resolve, result, None);
        }
    }
}

impl Manager {
    /// The leader tells the other tabs how the job ended, when that is a
    /// fact about the generation (not this tab's own limit, nor a stop).
    fn broadcast_end(
        &self,
        kind: Kind,
        id: &str,
        result: &Result<Option<String>, PollError>,
        current: &JsValue,
        last: &JsValue,
        progress: &Progress,
    ) {
        let (what, url, record) = match result {
            Ok(url) => {
                // As `onComplete` gets it: a stream's bare url merged into
                // the last record (the other tabs check that it is complete).
                let record = if current.is_undefined() {
                    with_url(kind, id, last, url.as_deref())
                } else {
                    current.clone()
                };
                ("complete", url.as_deref(), record)
            }
            Err(e) if shared_error(e.kind()).is_some() => (e.kind(), None, JsValue::UNDEFINED),
            Err(_) => return,
        };
        let message = to_js(&Outgoing {
            v: VERSION,
            kind_of_message: "end",
            kind: kind_name(kind),
            id,
            attempt: progress.attempt,
            elapsed: progress.elapsed_time,
            next_poll_in: None,
            channel: progress.channel,
            progress: progress.progress,
            position: 0,
            fingerprint: None,
            record,
            result: Some(what),
            url,
        });
        if let Some(tabs) = &*self.tabs.borrow() {
            tabs.post(&message);
        }
    }
}

/// Errors that end a generation for every tab (what the server said of it);
/// a tab's own limits (timeout, attempts, errors in a row) and stops are not.
fn shared_error(kind: &str) -> Option<PollError> {
    Some(match kind {
        "generation_failed" => PollError::GenerationFailed,
        "invalid_url" => PollError::InvalidUrl,
        "unauthorized" => PollError::Unauthorized,
        "forbidden" => PollError::Forbidden,
        "not_found" => PollError::NotFound,
        _ => return None,
    })
}

/// How this tab reads a record from another tab.
fn read_state(kind: Kind, media: crate::core::config::Media, record: &JsValue) -> Option<State> {
    match kind {
        Kind::File => file_view(record).map(|v| crate::core::record::read_file(&v, media)),
        Kind::Project => project_view(record).map(|v| crate::core::record::read_project(&v, media)),
        Kind::Check => None,
    }
}

/// `{ url, projectId, ...value }` of the project entry holding `url`, as the
/// old module resolves `pollProjectCompletion`.
fn project_result(id: &str, record: &JsValue, url: &str) -> JsValue {
    let mut out = Object::new();
    let entries = field(record, "data");
    if let Some(entries) = entries.dyn_ref::<js_sys::Array>() {
        for entry in entries.iter() {
            let value = field(&entry, "value");
            if value.is_object() && field(&value, "url").as_string().as_deref() == Some(url) {
                out = own_copy(&value);
                break;
            }
        }
    }
    let _ = Reflect::set(&out, &"url".into(), &url.into());
    let _ = Reflect::set(&out, &"projectId".into(), &id.into());
    out.into()
}

/// A copy of a parsed record's own enumerable properties as plain data:
/// `JSON.parse` keeps `"__proto__"` as an ordinary key, which
/// `Object.assign` would turn into the copy's prototype (and so smuggle in
/// fields the url check never read); `Object.fromEntries` defines it as a
/// property like any other.
fn own_copy(from: &JsValue) -> Object {
    Object::from_entries(&Object::entries(from.unchecked_ref())).unwrap_or_default()
}

/// The record to hand `onComplete` when the stream sent only a url.
fn with_url(kind: Kind, id: &str, last: &JsValue, url: Option<&str>) -> JsValue {
    let record = if last.is_object() {
        own_copy(last)
    } else {
        let record = Object::new();
        let key = if kind == Kind::File {
            "id"
        } else {
            "projectId"
        };
        let _ = Reflect::set(&record, &key.into(), &id.into());
        record
    };
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
        Err(()) => {
            me.went_offline();
            (Input::RequestFailed(PollError::Network), None)
        }
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
            let status = Reply::Status {
                status: f.status,
                retry_after,
            };
            match f.body {
                Some(text) => match read_body(kind, media, &text, retry_after) {
                    // "202 Accepted" is pending, whatever its body holds.
                    (Input::Response(Reply::Unreadable), _) if f.status == 202 => {
                        (Input::Response(status), None)
                    }
                    read => read,
                },
                None => (Input::Response(status), None),
            }
        }
    };
    me.deliver(job, input, record);
}

/// What a checker said: `{ completed, data, error, shouldContinue }`, or a
/// throw (an `Error`, a string, anything: never a crash). A thrown object
/// with an HTTP `status` is classified like a response; a 429's
/// `retry-after` header (on it or on its `response`) is honoured.
fn on_checked(weak: &Weak<Manager>, job: JobId, r: Result<JsValue, JsValue>) {
    let Some(me) = weak.upgrade() else {
        return;
    };
    let text = |v: JsValue| v.as_string().filter(|s| !s.is_empty());
    let wall = || js_sys::Date::now() as u64;
    let (checked, data, message) = match r {
        Err(thrown) => {
            let retry_after = header(&thrown, "retry-after")
                .or_else(|| header(&field(&thrown, "response"), "retry-after"))
                .and_then(|v| parse_retry_after(&v, wall()));
            let message = text(field(&thrown, "message")).or_else(|| text(thrown.clone()));
            let status = field(&thrown, "status").as_f64();
            (
                Checked::Threw {
                    status,
                    retry_after,
                },
                None,
                message,
            )
        }
        Ok(answer) => {
            let data = field(&answer, "data");
            let error = text(field(&answer, "error"));
            let fingerprint = js_sys::JSON::stringify(&data)
                .ok()
                .and_then(|s| s.as_string())
                .map_or(0, |s| fingerprint(&s));
            // The server's hint, passed on: `retryAfter` (seconds, or an
            // HTTP date, as the header), or the header of a `response`.
            let retry_after = match field(&answer, "retryAfter") {
                v if v.as_f64().is_some() => {
                    js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string())
                }
                v => v.as_string(),
            }
            .or_else(|| header(&answer, "retry-after"))
            .or_else(|| header(&field(&answer, "response"), "retry-after"))
            .and_then(|v| parse_retry_after(&v, wall()));
            let checked = Checked::Answered {
                completed: field(&answer, "completed").is_truthy(),
                stop: field(&answer, "shouldContinue") == JsValue::FALSE,
                error: error.is_some(),
                fingerprint,
                retry_after,
            };
            (checked, Some(data), error)
        }
    };
    let input = checked_input(checked);
    if matches!(input, Input::RequestFailed(_)) {
        me.went_offline();
    }
    let record = data.filter(|_| matches!(input, Input::Response(Reply::Record { .. })));
    me.deliver_checked(job, input, record, message);
}

/// A header of a thrown error's `headers`: a `Headers` object or a plain one.
fn header(o: &JsValue, name: &str) -> Option<String> {
    if !o.is_object() {
        return None;
    }
    let headers = Reflect::get(o, &"headers".into())
        .ok()
        .filter(JsValue::is_object)?;
    let get = Reflect::get(&headers, &"get".into()).ok();
    let value = match get.as_ref().and_then(|g| g.dyn_ref::<Function>()) {
        Some(f) => f.call1(&headers, &name.into()).ok()?,
        None => Reflect::get(&headers, &name.into()).ok()?,
    };
    value.as_string()
}

fn read_body(
    kind: Kind,
    media: crate::core::config::Media,
    text: &str,
    retry_after: Option<u64>,
) -> (Input, Option<JsValue>) {
    let unreadable = (Input::Response(Reply::Unreadable), None);
    let Ok(value) = js_sys::JSON::parse(text) else {
        return unreadable;
    };
    match read_state(kind, media, &value) {
        Some(state) => {
            let reply = Reply::Record {
                state,
                fingerprint: fingerprint(text),
                retry_after,
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
            if me.settings.debug && event == StreamEvent::Garbage {
                me.log_garbage(job, &raw);
            }
            (Input::StreamMessage(event), record)
        }
    };
    me.deliver(job, input, record);
    // A poll the event made due (the catch-up, the fallback) goes at the next
    // timer turn; a hidden tab's next timer may be a second or a minute away:
    // there, take that turn in this task (with whatever else is due by now).
    // Visible tabs skip the check.
    if page::hidden()
        && me
            .table
            .borrow_mut()
            .next_wake()
            .is_some_and(|at| at <= now())
    {
        me.on_timer();
    }
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
