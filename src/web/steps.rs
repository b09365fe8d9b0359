//! Executing a job's steps: a request, a stream, an update, progress, a
//! retry, each for the subscribers; resources replaced after the borrow.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::answers::{on_checked, on_fetched, on_stream};
use super::manager::{now, Manager, Resources};
use super::subscriber::{error_object, progress_js, Note};

use super::boundary::{message_type, to_js};
use super::fetch::InFlight;
use super::page;
use super::slots::{self, Slot};
use super::sse::{EventStream, SseEvent};
use crate::core::error::PollError;
use crate::core::job::{Action, Closed};
use crate::core::stream::garbage_reason;
use crate::core::table::{JobId, Kind};
use crate::core::template;

impl Manager {
    /// `debug: true`: why a stream message was not understood, and its
    /// start (after `maxStreamGarbage` in a row the stream is closed).
    pub(super) fn log_garbage(&self, job: JobId, raw: &str) {
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

    /// `smart-polling file_1 response not understood: HTTP 200, body: <!doctype html>…`
    pub(super) fn log_unreadable(&self, job: JobId, status: u16, body: &str) {
        let id = self.table.borrow().key(job).map(|(_, id)| id.to_owned());
        let start: String = body.chars().take(200).collect();
        // Three digits (statuses are 100-599), with no formatting code.
        let digit = |n: u16| char::from(b'0' + (n % 10) as u8);
        let code: String = [digit(status / 100), digit(status / 10), digit(status)]
            .iter()
            .collect();
        let what = ["response not understood: HTTP ", &code, ", body: ", &start].concat();
        self.log(&id.unwrap_or_default(), &what);
    }

    /// Puts a resource into the job's entry; the old one (or the new one, if
    /// the job is gone) is dropped after the borrow.
    pub(super) fn put<T>(&self, job: JobId, slot: fn(&mut Resources) -> &mut T, value: T) {
        let old = match self.jobs.borrow_mut().get_mut(job) {
            Some(r) => std::mem::replace(slot(r), value),
            None => value,
        };
        drop(old);
    }

    pub(super) fn url(&self, job: JobId) -> Option<(Kind, String)> {
        let table = self.table.borrow();
        let (kind, id) = table.key(job)?;
        Some((kind, self.settings.url(kind, id)))
    }

    pub(super) fn act(self: &Rc<Self>, job: JobId, action: Action) {
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
                let last = (self.table.borrow().job(job)).and_then(|j| j.consecutive_errors().1);
                if let Some(r) = self.jobs.borrow_mut().get_mut(job) {
                    // Until this request's answer: nothing said before it
                    // describes its error (a request timeout of our own),
                    // but it still describes the last one.
                    r.status = None;
                    r.said_before = last.zip(r.message.take());
                }
                let weak = Rc::downgrade(self);
                let request = if kind == Kind::Check {
                    let checker = self.jobs.borrow().get(job).and_then(|r| r.checker.clone());
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
            // The leading tab's request, for this tab's Promise form.
            Action::Attempted => {
                self.before_attempt(job);
            }
            Action::OpenStream => {
                let url = {
                    let table = self.table.borrow();
                    let id = table.key(job).map(|(_, id)| id);
                    self.settings
                        .events_url
                        .as_deref()
                        .zip(id)
                        .map(|(t, id)| template::fill(t, id))
                };
                let weak = Rc::downgrade(self);
                let credentials = self.settings.events_with_credentials;
                let open = move |url: Option<&str>, slot| {
                    let weak = weak.clone();
                    EventStream::open(url, credentials, slot, move |ev| on_stream(&weak, job, ev))
                };
                // A place among this browser's streams to the host first
                // (`slots`), for a manager that shares with the other tabs
                // (Web Locks and `BroadcastChannel`); the stream opens then.
                let host = url.as_deref().map(slots::host_of).unwrap_or_default();
                let wanted = Rc::new(Cell::new(true));
                let (asked, weak, later) = (wanted.clone(), Rc::downgrade(self), open.clone());
                let to = url.clone();
                let granted = move |slot: Option<Slot>| {
                    let Some(me) = weak.upgrade().filter(|_| asked.get()) else {
                        return; // the job closed its stream meanwhile
                    };
                    match slot {
                        Some(slot) => {
                            let stream = later(to.as_deref(), Some(slot));
                            me.put(job, |r| &mut r.stream, Some(stream));
                        }
                        None => on_stream(&weak, job, SseEvent::Busy),
                    }
                };
                let shares = self.tabs.borrow().is_some();
                match slots::locks().filter(|_| shares) {
                    // The wait in place before the claim, which may answer
                    // within the call.
                    Some(locks) => {
                        let claiming = EventStream::Claiming(wanted);
                        self.put(job, |r| &mut r.stream, Some(claiming));
                        slots::claim(locks, &host, granted);
                    }
                    None => self.put(job, |r| &mut r.stream, Some(open(url.as_deref(), None))),
                }
            }
            Action::CloseStream(_) => self.put(job, |r| &mut r.stream, None),
            Action::Update => {
                let record = {
                    let keep = self.roles.borrow().keeps_records()
                        || (self.table.borrow().job(job)).is_some_and(|j| j.config().use_stream);
                    self.jobs.borrow_mut().get_mut(job).map(|r| {
                        // Kept only where it is read: a stream's bare url
                        // completes it, a follower's "hello" is answered
                        // with it (once another tab has been heard from;
                        // before, a joining tab gets the next record, see
                        // `resend`). A thousand polling jobs alone in
                        // their tab keep no records.
                        if keep {
                            r.last = r.current.clone();
                        }
                        r.current.clone()
                    })
                };
                if let Some(record) = record {
                    if self.roles.borrow_mut().updated(job) {
                        self.broadcast(job, record.clone());
                    }
                    self.notify(job, &Note::Update(&record));
                }
            }
            Action::Progress(p) => {
                let role = self.roles.borrow().role_name(job);
                let report = match self.table.borrow().key(job) {
                    Some((kind, id)) => progress_js(kind, id, &p, role),
                    None => return,
                };
                if self.roles.borrow().tells(job) {
                    self.broadcast(job, JsValue::UNDEFINED);
                }
                self.notify(job, &Note::Progress(&report));
            }
            Action::Retry { error, delay } | Action::RetryHeard { error, delay } => {
                self.tell_retry(job, error, delay)
            }
            // What a checker said of an error, polling going on: told as a
            // transient `check_failed`, in its words.
            Action::Reported { delay } => self.tell_retry(job, PollError::Check, delay),
            Action::NudgeLeader { within } => self.nudge_leader(job, within),
            // The table keeps the timer and turns terminal actions into
            // `Finished`.
            Action::ArmTimer { .. } | Action::Complete { .. } | Action::Fail(_) => {}
        }
    }

    /// A transient error, and the wait before the next request.
    fn tell_retry(&self, job: JobId, error: PollError, delay: u64) {
        let attempt = (self.table.borrow().job(job)).map_or(0, |j| j.progress(0).attempt);
        let (message, status, thrown) = (self.jobs.borrow().get(job))
            .map_or((None, None, JsValue::UNDEFINED), |r| {
                (r.message.clone(), r.status, r.thrown.clone())
            });
        // The leading tab's 503 (no words come with it): its code still.
        let message = message.or_else(|| error.code_words());
        let report = error.report_said(attempt, message.as_deref(), status);
        let object = to_js(&report);
        let error = error_object(&report, &thrown);
        self.notify(job, &Note::Retry(&object, &error, attempt, delay));
    }

    /// Tells the Promise form's subscribers that an attempt is about to go
    /// (the old module's `onProgress`); false if a callback ended the job.
    pub(super) fn before_attempt(&self, job: JobId) -> bool {
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
    pub(super) fn went_offline(&self) {
        if !page::online() {
            self.set_network(now(), false);
        }
    }

    /// The browser went offline or came back: the table pauses or resumes
    /// its jobs, and `debug` says so when that changed anything.
    pub(super) fn set_network(&self, t: u64, online: bool) {
        if self.table.borrow_mut().set_online(t, online) {
            self.log(
                "",
                match online {
                    true => "online: paused jobs poll now",
                    false => "offline: jobs pause (nothing sent, no error counted)",
                },
            );
        }
    }

    /// Tells each subscriber, stopping as soon as a callback stopped the job.
    pub(super) fn notify(&self, job: JobId, note: &Note) {
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
}

pub(super) fn action_name(a: &Action) -> &'static str {
    match a {
        Action::SendRequest => "request",
        Action::CancelRequest => "cancel request",
        Action::ArmTimer { .. } => "arm timer",
        Action::OpenStream => "open stream",
        Action::CloseStream(Closed::Ended) => "close stream",
        Action::CloseStream(Closed::Refused) => {
            "stream failed before it opened (the route answered an error or there is none, or the connection broke before it answered): polling"
        }
        Action::CloseStream(Closed::Failed) => {
            "stream closed by the browser: the server refused its reconnection (an error status, or not text/event-stream): polling"
        }
        Action::CloseStream(Closed::NotBack) => {
            "stream connection dropped and was not open again within sseConnectTimeout (keep it above the server's retry:): polling"
        }
        Action::CloseStream(Closed::Flapping) => {
            "stream connection dropped three times in a row less than 10 s after opening: polling"
        }
        Action::CloseStream(Closed::Paused) => {
            "stream did not open, nor did the one before: new jobs poll without it for 5 minutes (check eventsUrl, or set it to null; over HTTP/1.1, other tabs' streams may hold the browser's 6 connections to the host)"
        }
        Action::CloseStream(Closed::NotOpened) => {
            "stream did not open within sseConnectTimeout (over HTTP/1.1, the browser's 6 connections to the host may all be in use): polling"
        }
        Action::CloseStream(Closed::Handed) => "stream closed: another tab leads while this page is away",
        Action::CloseStream(Closed::Busy) => {
            "stream not opened: this browser's tabs hold 4 streams to its host already (HTTP/1.1 gives a host 6 connections): polling"
        }
        Action::CloseStream(Closed::Garbage) => {
            "stream sent maxStreamGarbage unreadable messages in a row: polling"
        }
        Action::Update => "update",
        Action::Attempted => "attempted (another tab)",
        Action::Progress(_) => "progress",
        Action::Retry { error, .. } => error.kind(),
        Action::RetryHeard { .. } => "the leading tab's transient error",
        Action::Reported { .. } => "the checker told an error (not counted)",
        Action::NudgeLeader { .. } => "a caller joined: the leading tab is asked to check",
        Action::Complete { .. } => "complete",
        Action::Fail(e) => e.kind(),
    }
}
