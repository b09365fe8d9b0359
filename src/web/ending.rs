//! A job's end: its resources released (a leader's lock held a moment
//! longer), the other tabs told, and each subscriber told once.

use wasm_bindgen::prelude::*;

use super::answers::{completed_record, project_result};
use super::manager::{now, Manager, Resources};
use super::subscriber::{call, result_report, Note, Subscriber};
use crate::core::learn::history_slot;
use crate::core::sharing::End;

use super::boundary::to_js;
use crate::core::error::{timeout_said, PollError};
use crate::core::metrics::Channel;
use crate::core::table::{Ended, Kind};

impl Manager {
    /// A finished job (already out of the table, metrics recorded), or
    /// subscribers leaving a job that goes on: resources go (a leaving
    /// subscriber's are empty), then each subscriber hears the outcome once.
    pub(super) fn finish(&self, ended: Ended<Subscriber>, owned: bool) {
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
            job,
            erring,
            ..
        } = ended;
        // A finished job's resources go; leaving subscribers own none, but
        // hear the words and status of the error they leave on.
        let resources = if owned {
            self.jobs.borrow_mut().remove(job).unwrap_or_default()
        } else {
            let jobs = self.jobs.borrow();
            let r = jobs.get(job);
            Resources {
                message: r.and_then(|r| r.message.clone()),
                said_before: r.and_then(|r| r.said_before.clone()),
                status: r.and_then(|r| r.status),
                ..Resources::default()
            }
        };
        let end = if owned {
            self.roles.borrow_mut().ended(now(), job, outcome.is_some())
        } else {
            End {
                tell: false,
                hold: false,
                seen_here: true,
            }
        };
        // Learned once across tabs: by the tab that saw it (a follower only
        // heard of it).
        if let (Ok(_), Some(o), Some(slot), true) = (&result, &outcome, history_slot(kind), learns)
        {
            if end.seen_here {
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
            said_before,
            status,
            leadership,
            ..
        } = resources;
        drop((request, stream));
        if end.tell {
            self.broadcast_end(kind, &id, &result, &current, &last, &progress);
        }
        match leadership {
            // The lock outlives the news a moment (`Roles` says when it
            // goes); the settle loop that called this re-arms the timer.
            Some(l) if end.hold => self.held.borrow_mut().push((job, l)),
            // Releases the lock, or withdraws its queued request.
            other => drop(other),
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
                let record = completed_record(kind, &id, &current, &last, url.as_deref());
                // The old module resolves a project with the matching entry.
                let data = match (kind, &url) {
                    (Kind::Project, Some(u)) => project_result(&id, &record, u),
                    _ => record.clone(),
                };
                let result = result_report(Ok(&data), None, None, attempts, duration, channel);
                for s in subscribers.iter().filter(|s| told(s)) {
                    s.notify(&Note::Complete(&record, &result));
                }
            }
            Err(e) => {
                // A checker's own words or what fetch said; an unreadable
                // answer's or a 408's status. A timeout's: what kept the
                // job from its result (the device offline, errors in a row).
                let (words, why) = match e {
                    PollError::Timeout => {
                        // With a request out at the deadline, the last
                        // error's words were set aside as it went.
                        let before = said_before.filter(|(was, _)| Some(*was) == erring);
                        let last = message
                            .as_deref()
                            .or(before.as_ref().map(|(_, s)| s.as_str()));
                        timeout_said(progress.waiting_for_network, erring, last)
                    }
                    // A 4xx's or 5xx's code, where no words came with it.
                    _ => (e.code_words(), None),
                };
                let (said, status) = match e {
                    PollError::Timeout => (words.as_deref(), why),
                    _ => (message.as_deref().or(words.as_deref()), status),
                };
                let err = to_js(&e.report_said(attempts, said, status));
                let result = result_report(Err(e), said, status, attempts, duration, channel);
                for s in subscribers.iter().filter(|s| told(s)) {
                    s.notify(&Note::Error(&err, &result));
                }
            }
        }
    }

    /// A stopped job: its resources are released (after the table's borrow:
    /// `Drop` runs JS), callbacks hear nothing more, and promises resolve as
    /// "stopped" so no `await` hangs forever.
    pub(super) fn settle_stopped(&self, ended: Ended<Subscriber>) {
        let Ended {
            job,
            progress,
            subscribers,
            ..
        } = ended;
        let keep = self.roles.borrow_mut().stopped(now(), job);
        let mut resources = self.jobs.borrow_mut().remove(job);
        // A lock taken over from an ended job keeps that job's grace.
        if let Some(l) = resources
            .as_mut()
            .and_then(|r| r.leadership.take())
            .filter(|_| keep)
        {
            self.held.borrow_mut().push((job, l));
        }
        drop(resources);
        // Only promises hear of a stop: most jobs need no result object.
        let mut result = None;
        for s in &subscribers {
            if let Some(resolve) = &s.resolve {
                let result = result.get_or_insert_with(|| {
                    result_report(
                        Err(PollError::Stopped),
                        None,
                        None,
                        progress.attempt,
                        progress.elapsed_time,
                        progress.channel,
                    )
                });
                call(&JsValue::NULL, "resolve", resolve, result, None);
            }
        }
    }
}
