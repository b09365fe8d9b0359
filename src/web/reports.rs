//! What the page asks of a manager: the progress of every job, the old
//! module's statuses, and the metrics.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::manager::{now, Manager};
use super::subscriber::{poll_id, progress_js};

use super::boundary::to_js;
use crate::core::metrics::{MetricsReport, Progress};
use crate::core::table::Kind;

impl Manager {
    /// Progress of every running job, as page objects, with its role
    /// across tabs as `onProgress` has it (built after the borrow, though
    /// building them runs no user code).
    pub fn statuses(&self) -> Vec<JsValue> {
        let t = now();
        let list: Vec<(Kind, String, Progress, Option<&'static str>)> = {
            let (table, roles) = (self.table.borrow(), self.roles.borrow());
            table
                .statuses(t)
                .into_iter()
                .map(|(kind, id, p)| {
                    let role = table.find(kind, id).and_then(|job| roles.role_name(job));
                    (kind, id.to_owned(), p, role)
                })
                .collect()
        };
        list.iter()
            .map(|(kind, id, p, role)| progress_js(*kind, id, p, *role))
            .collect()
    }

    /// The old module's `getPollingStatus()`: `{ pollId, attempts, elapsed,
    /// lastError? }` for every job, under the poll ids `file-{id}`,
    /// `project-{id}` or the checker's own.
    pub fn poll_statuses(&self) -> Vec<JsValue> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct PollStatus {
            poll_id: String,
            attempts: u32,
            elapsed: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            last_error: Option<String>,
        }
        let t = now();
        let table = self.table.borrow();
        let jobs = self.jobs.borrow();
        let list: Vec<PollStatus> = table
            .statuses(t)
            .into_iter()
            .map(|(kind, id, p)| {
                let job = table.find(kind, id);
                // While errors run in a row (an answer clears it, as in the
                // old module), in a checker's own words or what fetch said,
                // as its failure would carry them.
                let last_error = (job.and_then(|job| table.job(job)))
                    .and_then(|j| Some(j.consecutive_errors()).filter(|(n, _)| *n > 0)?.1)
                    .filter(|_| p.attempt > 0)
                    .map(|e| {
                        let r = job.and_then(|job| jobs.get(job));
                        let said = r.and_then(|r| {
                            let before = r.said_before.as_ref().filter(|(was, _)| *was == e);
                            r.message.as_deref().or(before.map(|(_, s)| s.as_str()))
                        });
                        e.report_said(0, said, None).message.to_owned()
                    });
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
}
