//! A job's end: its resources released (a leader's lock held a moment
//! longer), the other tabs told, and each subscriber told once.

use wasm_bindgen::prelude::*;

use super::answers::{project_result, with_url};
use super::manager::{now, Manager, Resources};
use super::subscriber::{call, result_report, Note, Subscriber};
use crate::core::learn::history_slot;
use crate::core::sharing::END_GRACE_MS;

use super::boundary::to_js;
use super::tabs::Leadership;
use crate::core::error::PollError;
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
            ..
        } = ended;
        // A finished job's resources go; leaving subscribers own none.
        let resources = if owned {
            self.jobs.borrow_mut().remove(&job).unwrap_or_default()
        } else {
            Resources::default()
        };
        // Learned once across tabs: by the tab that saw it (a follower only
        // heard of it).
        let heard = resources
            .leadership
            .as_ref()
            .is_some_and(|l| !l.is_leader());
        if let (Ok(_), Some(o), Some(slot), true) = (&result, &outcome, history_slot(kind), learns)
        {
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
        let resources = self.jobs.borrow_mut().remove(&job);
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
}
