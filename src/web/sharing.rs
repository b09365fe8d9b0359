//! Executing the sharing of jobs across tabs: claims (a Web Lock per job),
//! leads, the channel's messages out and in, and the end a leader tells.

use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::answers::{read_state, with_url};
use super::manager::{now, Manager};

use super::boundary::to_js;
use super::tabs::{kind_from_name, kind_name, Leadership, Outgoing};
use crate::core::config::Lenient;
use crate::core::error::PollError;
use crate::core::job::Input;
use crate::core::metrics::{Channel, Progress};
use crate::core::sharing::{heard, shared_kind, Heard, Words, VERSION};
use crate::core::table::{JobId, Kind};

impl Manager {
    /// Asks to lead a new shared job, and asks the leader (if any) for its
    /// state.
    pub(super) fn claim(self: &Rc<Self>, job: JobId, kind: Kind, id: &str) {
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
    pub(super) fn lead(&self, t: u64, lock: &str, release: Function) {
        let job = {
            let tabs = self.tabs.borrow();
            let job = tabs
                .as_ref()
                .and_then(|tabs| tabs.job_of(lock))
                .and_then(|(kind, id)| self.table.borrow().find(kind, id));
            let mut jobs = self.jobs.borrow_mut();
            let claim = job.and_then(|job| jobs.get_mut(&job)?.leadership.as_mut());
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
    pub(super) fn wants(&self, lock: &str) -> bool {
        let (Ok(tabs), Ok(table), Ok(jobs)) = (
            self.tabs.try_borrow(),
            self.table.try_borrow(),
            self.jobs.try_borrow(),
        ) else {
            return true;
        };
        let Some((kind, id)) = tabs.as_ref().and_then(|t| t.job_of(lock)) else {
            return false;
        };
        let Some(job) = table.find(kind, id) else {
            return false;
        };
        // No claim yet (it is being made): `lead` decides.
        jobs.get(&job)
            .is_some_and(|r| r.leadership.as_ref().is_none_or(|l| !l.is_leader()))
    }

    /// Whether this tab leads a shared job.
    pub(super) fn leads(&self, job: JobId) -> bool {
        self.jobs
            .borrow()
            .get(&job)
            .and_then(|r| r.leadership.as_ref())
            .is_some_and(Leadership::is_leader)
    }

    /// The leader tells the other tabs a job's state (or its end).
    pub(super) fn broadcast(
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
    pub(super) fn on_tab_message(self: &Rc<Self>, message: JsValue) {
        let Some(m) = super::tabs::read_message(&message) else {
            return;
        };
        let v = match m.v {
            Some(Lenient::Valid(v)) => Some(v),
            _ => None,
        };
        if v != Some(VERSION) {
            return; // another version: never trusted, nor counted as a peer
        }
        self.peers.set(true);
        let valid = |v: &Option<Lenient<String>>| match v {
            Some(Lenient::Valid(s)) => Some(s.clone()),
            _ => None,
        };
        let (Some(kind), Some(id)) = (valid(&m.kind), valid(&m.id)) else {
            return;
        };
        let Some(kind) = kind_from_name(&kind) else {
            return;
        };
        let (job, following, media) = {
            let table = self.table.borrow();
            let Some(job) = table.find(kind, &id) else {
                return;
            };
            let Some(j) = table.job(job) else {
                return;
            };
            (job, j.is_following(), j.config().media)
        };
        let number = |v: &Option<Lenient<u64>>| match v {
            Some(Lenient::Valid(n)) => Some(*n),
            _ => None,
        };
        let what = valid(&m.kind_of_message);
        let channel = valid(&m.channel);
        let result = valid(&m.result);
        let url = valid(&m.url);
        let words = Words {
            v,
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
            record: (!m.record.is_undefined()).then(|| read_state(kind, media, &m.record)),
            result: result.as_deref(),
            url: url.as_deref(),
        };
        match heard(&words, self.leads(job), following) {
            Heard::Nothing => {}
            Heard::Hello => {
                let last = self.jobs.borrow_mut().get_mut(&job).map(|r| {
                    // None kept (nobody had asked): the next record goes out.
                    r.resend = r.last.is_undefined();
                    r.last.clone()
                });
                self.broadcast(job, "state", None, last.unwrap_or(JsValue::UNDEFINED));
            }
            Heard::State {
                mirror,
                with_record,
            } => {
                let record = with_record.then(|| m.record.clone());
                self.deliver(job, Input::Mirror(mirror), record);
            }
            Heard::End(outcome) => {
                let record = outcome.is_ok().then(|| m.record.clone());
                self.deliver(job, Input::MirrorEnd(outcome), record);
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
            Err(e) => match shared_kind(e) {
                Some(kind) => (kind, None, JsValue::UNDEFINED),
                None => return,
            },
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

impl Manager {
    /// Lets go of locks granted to jobs that are gone.
    pub(super) fn release(grants: VecDeque<(String, Function)>) {
        for (_, release) in grants {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}
