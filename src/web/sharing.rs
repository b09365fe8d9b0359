//! Executing the sharing of jobs across tabs, as `core::sharing::Roles`
//! decides it: lock requests (a Web Lock per job) and grants, the channel's
//! messages out and in, and the locks held a moment after an end.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::answers::{completed_record, read_state};
use super::manager::{now, Manager, SHARING_OFF};

use super::boundary::to_js;
use super::tabs::{kind_from_name, kind_name, Leadership, Outgoing};
use crate::core::config::Lenient;
use crate::core::error::PollError;
use crate::core::metrics::Progress;
use crate::core::sharing::{Do, Heard, Said, Words};
use crate::core::table::{JobId, Kind};

impl Manager {
    /// Executes what the roles decided.
    pub(super) fn run_roles(&self, t: u64) {
        loop {
            let next = self.roles.borrow_mut().poll();
            match next {
                Some(Do::Claim(job)) => self.claim(job),
                Some(Do::Feed(job, input)) => self.table.borrow_mut().handle(t, job, input),
                // The job's lock handle goes: the lock is let go of.
                Some(Do::StepDown(job)) => self.put(job, |r| &mut r.leadership, None),
                // The ended job's lock, held still, goes on to the new job.
                Some(Do::Hand { ended, to }) => {
                    let lock = {
                        let mut held = self.held.borrow_mut();
                        let i = held.iter().position(|(j, _)| *j == ended);
                        i.map(|i| held.swap_remove(i).1)
                    };
                    self.put(to, |r| &mut r.leadership, lock);
                }
                Some(Do::Release(job)) => {
                    let lock = {
                        let mut held = self.held.borrow_mut();
                        let i = held.iter().position(|(j, _)| *j == job);
                        i.map(|i| held.swap_remove(i))
                    };
                    drop(lock);
                }
                None => return,
            }
        }
    }

    /// Asks for a shared job's lock, and asks the leader (if any) for its
    /// state.
    fn claim(&self, job: JobId) {
        let Some((kind, id)) = self
            .table
            .borrow()
            .key(job)
            .map(|(k, id)| (k, id.to_owned()))
        else {
            return;
        };
        // Asked before the request goes: a lock manager that grants inside
        // the request (a polyfill may) then finds the job waiting for it.
        self.roles.borrow_mut().asked(job, true);
        let lead = match &*self.tabs.borrow() {
            Some(tabs) => Leadership::request(tabs, &tabs.lock_name(kind, &id)),
            None => None,
        };
        let Some(lead) = lead else {
            self.roles.borrow_mut().asked(job, false);
            return;
        };
        // Granted already (at once, or an earlier claim's request): that
        // lock stays, and this request is withdrawn as `lead` drops. Else it
        // stands for an earlier claim still queued (withdrawn as the page
        // went away, or not).
        let held = (self.jobs.borrow().get(job))
            .is_some_and(|r| r.leadership.as_ref().is_some_and(Leadership::granted));
        if !held {
            self.put(job, |r| &mut r.leadership, Some(lead));
        }
        let first_wait = (self.table.borrow().job(job)).map_or(0, |j| j.config().intervals.wait(0));
        self.say(kind, &id, &Said::hello(first_wait), JsValue::UNDEFINED);
    }

    /// This tab holds the lock named `lock`: the job waiting for it takes it
    /// (and leads from a coming turn), or it is let go of at once.
    pub(super) fn on_grant(self: &Rc<Self>, lock: String, release: Function) {
        // A lock callback runs in a task of its own, so nothing is borrowed;
        // if something were, the grant waits for the next task (a timer
        // without a handle: it fires at once and lets the lock go, or gives
        // it to its job, so nothing outlives that task).
        let (Ok(tabs), Ok(table), Ok(mut jobs), Ok(mut roles)) = (
            self.tabs.try_borrow(),
            self.table.try_borrow(),
            self.jobs.try_borrow_mut(),
            self.roles.try_borrow_mut(),
        ) else {
            let me = self.clone();
            Timeout::new(0, move || me.on_grant(lock, release)).forget();
            return;
        };
        let job = (tabs.as_ref())
            .and_then(|tabs| tabs.job_of(&lock))
            .and_then(|(kind, id)| table.find(kind, id));
        let taken = roles.granted(job) && {
            let r = job.and_then(|job| jobs.get_mut(job));
            match r.map(|r| &mut r.leadership) {
                Some(Some(claim)) => claim.grant(release.clone()),
                Some(slot @ None) => {
                    // Granted before its own claim went (an earlier job's
                    // request): held from now on.
                    *slot = tabs.as_ref().map(|t| Leadership::held(t, release.clone()));
                    slot.is_some()
                }
                None => false,
            }
        };
        drop((tabs, table, jobs, roles));
        if taken {
            self.rearm();
        } else {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }

    /// The page goes away: the lock requests still queued are withdrawn
    /// (`Roles::back` asks for them again).
    pub(super) fn withdraw_claims(&self) {
        let mut requests = Vec::new();
        for (_, r) in self.jobs.borrow_mut().iter_mut() {
            requests.extend(r.leadership.as_mut().and_then(Leadership::take_request));
        }
        for (_, claim) in self.held.borrow_mut().iter_mut() {
            requests.extend(claim.take_request());
        }
        // After the borrows: `abort` runs the signal's listeners.
        for request in requests {
            request.abort();
        }
    }

    /// The browser refused a lock request as not allowed here (a sandboxed
    /// iframe): the jobs waiting for their locks lead alone, and later jobs
    /// ask for none (`Tabs` remembers).
    pub(super) fn on_locks_refused(self: &Rc<Self>) {
        self.log("", SHARING_OFF);
        let alone = self.roles.borrow_mut().refused();
        for job in alone {
            self.put(job, |r| &mut r.leadership, None);
        }
        self.run_roles(now());
        self.settle();
    }

    /// Tells the other tabs what `said` says of a job, with `record`.
    fn say(&self, kind: Kind, id: &str, said: &Said, record: JsValue) {
        let message = to_js(&Outgoing::new(kind_name(kind), id, said, record));
        if let Some(tabs) = &*self.tabs.borrow() {
            tabs.post(&message);
        }
    }

    /// A caller joined a job that another tab leads, wanting a check within
    /// `within` ms: the leading tab is asked.
    pub(super) fn nudge_leader(&self, job: JobId, within: u64) {
        let key = self
            .table
            .borrow()
            .key(job)
            .map(|(k, id)| (k, id.to_owned()));
        if let Some((kind, id)) = key {
            self.say(kind, &id, &Said::nudge(within), JsValue::UNDEFINED);
        }
    }

    /// The leader tells the other tabs a job's state, with its record if
    /// there is one.
    pub(super) fn broadcast(&self, job: JobId, record: JsValue) {
        let (kind, id, said) = {
            let table = self.table.borrow();
            let (Some((kind, id)), Some(j)) = (table.key(job), table.job(job)) else {
                return;
            };
            let said = Said::state(j, now(), !record.is_undefined());
            (kind, id.to_owned(), said)
        };
        self.say(kind, &id, &said, record);
    }

    /// A message from another tab: trusted only as far as it checks out.
    pub(super) fn on_tab_message(self: &Rc<Self>, message: JsValue) {
        // As JSON data first: a clone may be cyclic or too deep for serde.
        let json = super::boundary::as_json(&message, crate::core::sharing::VERSION);
        let Some(m) = json.as_ref().and_then(super::tabs::read_message) else {
            return;
        };
        let valid = |v: &Option<Lenient<String>>| match v {
            Some(Lenient::Valid(s)) => Some(s.clone()),
            _ => None,
        };
        let number = |v: &Option<Lenient<u64>>| match v {
            Some(Lenient::Valid(n)) => Some(*n),
            _ => None,
        };
        let kind = valid(&m.kind).as_deref().and_then(kind_from_name);
        let id = valid(&m.id);
        let job = {
            let table = self.table.borrow();
            kind.zip(id.as_deref())
                .and_then(|(kind, id)| table.find(kind, id))
                .and_then(|job| Some((job, table.job(job)?)))
                .map(|(job, j)| (job, j.is_following(), j.config().media))
        };
        let what = valid(&m.kind_of_message);
        let channel = valid(&m.channel);
        let result = valid(&m.result);
        let url = valid(&m.url);
        let words = Words {
            v: match m.v {
                Some(Lenient::Valid(v)) => Some(v),
                _ => None,
            },
            what: what.as_deref(),
            attempt: match m.attempt {
                Some(Lenient::Valid(a)) => Some(a),
                _ => None,
            },
            elapsed: number(&m.elapsed),
            next_poll_in: number(&m.next_poll_in),
            channel: channel.as_deref(),
            progress: match m.progress {
                Some(Lenient::Valid(p)) => Some(p),
                _ => None,
            },
            position: match m.position {
                Some(Lenient::Valid(p)) => Some(p),
                _ => None,
            },
            fingerprint: number(&m.fingerprint),
            record: match (kind, job) {
                (Some(kind), Some((_, _, media))) if !m.record.is_undefined() => {
                    Some(read_state(kind, media, &m.record))
                }
                _ => None,
            },
            result: result.as_deref(),
            url: url.as_deref(),
            errors: match m.errors {
                Some(Lenient::Valid(n)) => Some(n),
                _ => None,
            },
            error: match m.error {
                Some(Lenient::Valid(code)) => Some(code),
                _ => None,
            },
        };
        let heard = (self.roles.borrow_mut()).hear(&words, job.map(|(job, f, _)| (job, f)));
        let Some((job, _, _)) = job else {
            return;
        };
        match heard {
            Heard::Nothing => {}
            Heard::Hello { within } => {
                let last = self.jobs.borrow().get(job).map(|r| r.last.clone());
                let last = last.unwrap_or(JsValue::UNDEFINED);
                self.roles.borrow_mut().answered(job, !last.is_undefined());
                self.broadcast(job, last);
                if let Some(within) = within {
                    self.table.borrow_mut().nudge_from_tab(now(), job, within);
                    self.settle();
                }
            }
            Heard::State {
                mirror,
                with_record,
            } => {
                let record = with_record.then(|| m.record.clone());
                self.deliver(job, crate::core::job::Input::Mirror(mirror), record);
            }
            Heard::End(outcome) => {
                let record = outcome.is_ok().then(|| m.record.clone());
                self.deliver(job, crate::core::job::Input::MirrorEnd(outcome), record);
            }
            Heard::Nudge { within } => {
                self.log(
                    id.as_deref().unwrap_or_default(),
                    "another tab asked for a check",
                );
                self.table.borrow_mut().nudge_from_tab(now(), job, within);
                self.settle();
            }
        }
    }

    /// The leader tells the other tabs how the job ended, when that is a
    /// fact about the generation (not this tab's own limit, nor a stop).
    pub(super) fn broadcast_end(
        &self,
        kind: Kind,
        id: &str,
        result: &Result<Option<String>, PollError>,
        current: &JsValue,
        last: &JsValue,
        progress: &Progress,
    ) {
        let Some(said) = Said::end(result, progress) else {
            return;
        };
        // As `onComplete` gets it (the other tabs check that it is complete).
        let record = match result {
            Ok(url) => completed_record(kind, id, current, last, url.as_deref()),
            Err(_) => JsValue::UNDEFINED,
        };
        self.say(kind, id, &said, record);
    }
}
