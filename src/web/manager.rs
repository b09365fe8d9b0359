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
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::Function;

use wasm_bindgen::prelude::*;

use super::subscriber::Subscriber;

use super::fetch::InFlight;
use super::page;
use super::settings::Settings;
use super::sse::EventStream;
use super::tabs::{Leadership, Tabs};
use crate::core::clock::Clock;
use crate::core::config::{Config, Media, Options};
use crate::core::error::{invalid_id_words, validate_key, PollError};
use crate::core::history::Saved;
use crate::core::id_map::IdMap;
use crate::core::job::Input;
use crate::core::learn::history_slot;
use crate::core::learn::{Learned, Planned};
use crate::core::schedule::SplitMix64;
use crate::core::sharing::{lock_key, Roles};
use crate::core::table::{gate_key, turns_per_task, JobId, Kind, Step, Table};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    /// Caught: a test helper may make the console throw.
    #[wasm_bindgen(catch, js_namespace = console, js_name = log)]
    fn console_log(prefix: &str, id: &str, what: &str) -> Result<(), JsValue>;
}

thread_local! {
    static CLOCK: Cell<Clock> = Cell::new(Clock::default());
}

/// `debug`'s words where this tab cannot share its jobs with the others.
pub(super) const SHARING_OFF: &str = "sharing across tabs is off here: no Web Locks or BroadcastChannel, or the browser refused them (privacy settings, an opaque origin such as a sandboxed iframe); each tab polls on its own (shareAcrossTabs: false says so on purpose)";

/// Monotonic milliseconds: the jobs' clock (`performance.now()`, moved on
/// by timers that fire while it stands still: [`Clock`]).
pub fn now() -> u64 {
    clock(|c, raw| c.read(raw))
}

/// The table's timer, armed at `armed` for `delay` ms, has fired.
fn timer_fired(armed: u64, delay: u64) {
    clock(|c, raw| c.timer_fired(raw, armed, delay));
}

fn clock(f: impl FnOnce(&mut Clock, u64) -> u64) -> u64 {
    CLOCK.with(|cell| {
        let mut c = cell.get();
        let t = f(&mut c, performance_now() as u64);
        cell.set(c);
        t
    })
}

/// What a job owns in the browser; dropping it cancels everything.
#[derive(Default)]
pub struct Resources {
    pub(super) request: Option<InFlight>,
    pub(super) stream: Option<EventStream>,
    /// The record of the input being handled, for `Update` and `Complete`.
    pub(super) current: JsValue,
    /// The last record seen, for `onComplete` when the stream sent a url.
    pub(super) last: JsValue,
    /// A checker job's function.
    pub(super) checker: Option<Function>,
    /// This tab's claim to lead the job across tabs (`None`: not shared).
    pub(super) leadership: Option<Leadership>,
    /// What a checker said of its last error, used instead of the error's
    /// own message.
    pub(super) message: Option<String>,
    /// While the next request is out: the last error and what was said of
    /// it (`getPollingStatus`'s `lastError`, as the old module kept it).
    pub(super) said_before: Option<(PollError, String)>,
    /// The HTTP status of the answer being handled (`None` before one came
    /// back): an unreadable answer's or a 408's error carries it.
    pub(super) status: Option<u16>,
    /// What the checker threw in its last call (`undefined` if it
    /// answered): the Promise form's `onError` error carries it as `cause`.
    pub(super) thrown: JsValue,
}

pub struct Manager {
    pub(super) table: RefCell<Table<Subscriber>>,
    /// What each running job owns here (the table holds none of it): added
    /// when a job starts, dropped when it ends or stops.
    pub(super) jobs: RefCell<IdMap<Resources>>,
    pub(super) settings: Settings,
    /// The configuration of a job started without overrides.
    pub(super) base: Option<Config>,
    /// The origin of each kind's jobs (by `Kind as usize`).
    pub(super) origins: [String; 3],
    /// Jitter seeds of jobs: one random draw per manager, not per job.
    pub(super) seeds: RefCell<SplitMix64>,
    /// Sharing jobs with the other tabs (`None`: off, or not supported).
    pub(super) tabs: RefCell<Option<Tabs>>,
    /// Who leads each shared job here, and when this tab speaks.
    pub(super) roles: RefCell<Roles>,
    /// Locks of jobs that ended here, held until `roles` lets go of them.
    pub(super) held: RefCell<Vec<(JobId, Leadership)>>,
    /// Completion times per endpoint (file, project; see `slot`) and media
    /// kind, as kept in localStorage and merged with the other tabs' and
    /// managers' (`history`), the models they teach (`learned`), and the
    /// schedules and estimates derived from those, computed once per kind
    /// and limits (a fit reads every sample).
    pub(super) history: RefCell<[Saved; 2]>,
    pub(super) learned: RefCell<[Learned; 2]>,
    pub(super) planned: RefCell<Planned>,
    /// The table's one timer and the time it is armed for.
    pub(super) timer: RefCell<Option<(u64, Timeout)>>,
    pub(super) draining: Cell<bool>,
    /// `stopAllPolling` calls so far: an end being announced when one comes
    /// (from one of its own callbacks) tells the remaining callbacks nothing.
    pub(super) stops: Cell<u32>,
    pub(super) page: RefCell<Vec<page::Listener>>,
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
            jobs: RefCell::new(IdMap::default()),
            settings,
            base,
            origins,
            seeds: RefCell::new(SplitMix64::new(
                (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64,
            )),
            timer: RefCell::new(None),
            draining: Cell::new(false),
            stops: Cell::new(0),
            page: RefCell::new(Vec::new()),
            tabs: RefCell::new(None),
            roles: RefCell::new(Roles::default()),
            held: RefCell::new(Vec::new()),
            history: RefCell::new(Default::default()),
            learned: RefCell::new(Default::default()),
            planned: RefCell::new(Planned::default()),
        });
        if me.settings.share_across_tabs {
            let weak = Rc::downgrade(&me);
            let granted = weak.clone();
            let refused = weak.clone();
            let tabs = Tabs::open(
                me.settings.tabs_key(),
                move |message| {
                    if let Some(me) = weak.upgrade() {
                        me.on_tab_message(message);
                    }
                },
                move |lock, release| match granted.upgrade() {
                    Some(me) => me.on_grant(lock, release),
                    None => {
                        let _ = release.call0(&JsValue::UNDEFINED);
                    }
                },
                move || {
                    if let Some(me) = refused.upgrade() {
                        me.on_locks_refused();
                    }
                },
            );
            if tabs.is_none() {
                me.log("", SHARING_OFF);
            }
            *me.tabs.borrow_mut() = tabs;
        }
        let weak = Rc::downgrade(&me);
        let listeners = page::watch(Rc::new(move |signal| {
            let Some(me) = weak.upgrade() else {
                return;
            };
            match signal {
                // Another tab leads while this page runs no code.
                page::Signal::Away => {
                    me.roles.borrow_mut().away();
                    me.run_roles(now());
                    me.withdraw_claims();
                    if let Some(tabs) = &*me.tabs.borrow() {
                        tabs.close_channel();
                    }
                }
                page::Signal::Back => {
                    if let Some(tabs) = &*me.tabs.borrow() {
                        tabs.reopen_channel();
                    }
                    me.roles.borrow_mut().back();
                }
                page::Signal::Offline => me.set_network(now(), false),
                // Back from a pause; or an `online` this manager had not
                // seen go (then it nudges like a visible tab).
                page::Signal::Online if me.table.borrow().is_offline() => {
                    me.set_network(now(), true)
                }
                _ => me.table.borrow_mut().nudge_all(now()),
            }
            me.settle();
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
        // Without an EventSource the job polls from the start: no stream
        // to fail first, and progress never says "sse".
        cfg.use_stream &=
            kind == Kind::File && self.settings.events_url.is_some() && page::can_stream();
        if let Some(slot) = history_slot(kind).filter(|_| {
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
            self.set_network(t, online);
        }
        let shared = kind != Kind::Check && self.tabs.borrow().is_some();
        let (job, new) = {
            let mut table = self.table.borrow_mut();
            let before = table.len();
            let job = table.start_at(t, kind, id, &origin, cfg, sub);
            let new = table.len() > before;
            (job, new)
        };
        {
            // The first caller's checker is kept.
            let mut jobs = self.jobs.borrow_mut();
            let r = jobs.get_or_insert_with(job, Resources::default);
            r.checker = r.checker.take().or(checker);
            if new && validate_key(kind == Kind::Check, id).is_err() {
                r.message = Some(invalid_id_words(id));
            }
        }
        if new && shared {
            // Another tab may lead it: it follows until this tab's lock.
            self.roles.borrow_mut().start(job, lock_key(kind, id));
            self.run_roles(t);
        }
        self.rearm_at(t);
        Ok(())
    }

    /// Stops a job silently; true if there was one.
    pub fn stop(self: &Rc<Self>, kind: Kind, id: &str) -> bool {
        let ended = self.table.borrow_mut().stop(now(), kind, id);
        match ended {
            Some(e) => {
                self.log(&e.id, "stopped");
                self.settle_stopped(e);
                // Its request's room may go to a job waiting for it now.
                self.rearm();
                true
            }
            None => false,
        }
    }

    pub fn stop_all(&self) {
        self.stops.set(self.stops.get().wrapping_add(1));
        self.roles.borrow_mut().stop_all();
        self.run_roles(now());
        let all = self.table.borrow_mut().stop_all(now());
        let timer = self.timer.borrow_mut().take();
        drop(timer);
        let owned = std::mem::take(&mut *self.jobs.borrow_mut());
        drop(owned);
        for e in all {
            self.settle_stopped(e);
        }
    }

    pub fn is_active(&self, kind: Kind, id: &str) -> bool {
        self.table.borrow().is_polling(kind, id)
    }

    pub fn active_count(&self) -> usize {
        self.table.borrow().polling()
    }

    pub fn has_jobs(&self) -> bool {
        !self.table.borrow().is_empty()
    }

    pub(super) fn log(&self, id: &str, what: &str) {
        if self.settings.debug {
            let _ = console_log("smart-polling", id, what);
        }
    }

    /// Arms the one timer for the table's next wake, unless it is armed
    /// earlier already (an early fire only finds nothing due).
    pub(super) fn rearm(self: &Rc<Self>) {
        self.rearm_at(now());
    }

    /// `rearm` at `t`, the time the caller read already (a start reads it
    /// once: `performance.now()` from wasm is a call into JS).
    pub(super) fn rearm_at(self: &Rc<Self>, t: u64) {
        let sharing = self.roles.borrow().next_wake(t);
        let next = self.table.borrow_mut().next_wake();
        let next = [next, sharing].into_iter().flatten().min();
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
        let timeout = Timeout::new(delay, move || {
            timer_fired(t, u64::from(delay));
            me.on_timer();
        });
        let old = self.timer.borrow_mut().replace((at, timeout));
        drop(old);
    }

    pub(super) fn on_timer(self: &Rc<Self>) {
        // This timeout has fired: forget it (dropped after this turn).
        let fired = self.timer.borrow_mut().take();
        // A hidden tab's timers fire about once a second (or minute): there,
        // with no user to freeze, one task takes several turns.
        let turns = turns_per_task(page::hidden());
        for _ in 0..turns {
            let t = now();
            // Sharing first: a job that takes the lead now polls in this
            // turn's table step, not the next turn's.
            let sharing = self.roles.borrow_mut().on_timer(t);
            self.run_roles(t);
            let more = self.table.borrow_mut().on_timer(t);
            // Paused offline: back online? (The `online` event may not come.)
            let recheck = self.table.borrow_mut().take_recheck();
            if recheck && page::online() {
                self.set_network(t, true);
            }
            self.settle();
            // A hidden tab's next timer may be a second (or a minute) away:
            // the polls just made due go in this task's next turn.
            if !more && !sharing {
                break;
            }
        }
        self.rearm();
        drop(fired);
    }

    /// Executes every queued step, then re-arms the timer.
    pub(super) fn settle(self: &Rc<Self>) {
        if self.draining.replace(true) {
            return; // the running loop will take the new steps in order
        }
        loop {
            let step = self.table.borrow_mut().poll();
            match step {
                Some(Step::Act { job, action }) => self.act(job, action),
                Some(Step::Left(ended)) => self.finish(ended, false),
                Some(Step::Finished(ended)) => self.finish(ended, true),
                None => break,
            }
        }
        self.draining.set(false);
        self.rearm();
    }

    /// Feeds a job one input with the record it carries, then runs its steps.
    pub(super) fn deliver(self: &Rc<Self>, job: JobId, input: Input, record: Option<JsValue>) {
        self.deliver_checked(job, input, record, None);
    }

    /// `deliver`, with what a checker said of its error.
    pub(super) fn deliver_checked(
        self: &Rc<Self>,
        job: JobId,
        input: Input,
        record: Option<JsValue>,
        message: Option<String>,
    ) {
        if let Some(r) = self.jobs.borrow_mut().get_mut(job) {
            r.current = record.unwrap_or(JsValue::UNDEFINED);
            r.message = message;
            r.said_before = None;
        }
        self.table.borrow_mut().handle(now(), job, input);
        self.settle();
        if !self.draining.get() {
            // Its steps have run: the record is not needed any more, unless
            // a tab that joined waits for one (a record that was news went
            // out with its `Update` already).
            let record = (self.jobs.borrow_mut().get_mut(job))
                .map(|r| std::mem::take(&mut r.current))
                .filter(JsValue::is_object);
            if let Some(record) = record.filter(|_| self.roles.borrow_mut().resend(job)) {
                self.broadcast(job, record);
            }
        }
    }
}
