//! One tab of the tabs harness (`super::tabs`): its table and sharing
//! roles, and what the browser layer keeps and a test reads.

use std::collections::HashMap;

use smart_polling::core::record::State;
use smart_polling::core::sharing::Roles;
use smart_polling::core::table::{Ended, JobId, Kind, Table};

/// One tab: a table, its roles, and what the browser layer keeps.
pub struct Tab<S> {
    pub open: bool,
    /// Its page is in the back/forward cache (or frozen): it runs no code,
    /// and what reaches it waits until it is back.
    pub away: bool,
    pub table: Table<S>,
    pub roles: Roles,
    /// Locks this tab holds, by name, and the job each is for (as the
    /// browser layer's handle is the job's).
    pub holds: HashMap<String, JobId>,
    /// The record of the input being handled, and the last one kept.
    pub current: HashMap<JobId, State>,
    pub last: HashMap<JobId, State>,
    /// Requests this tab sent: (time, job, the job's attempt).
    pub requests: Vec<(u64, JobId, u32)>,
    /// `onUpdate` calls: (time, job).
    pub updates: Vec<(u64, JobId)>,
    /// Another tab's requests heard as attempts (the old module's
    /// `onProgress`): (time, job, the attempt).
    pub attempted: Vec<(u64, JobId, u32)>,
    /// `onRetry` calls: (time, job, the error), its own or the leader's.
    pub retried: Vec<(u64, JobId, smart_polling::PollError)>,
    pub ended: Vec<(u64, Ended<S>)>,
    /// Completions this tab learned from (it polled them itself).
    pub learned: Vec<JobId>,
    /// Lock requests this tab made.
    pub asked: usize,
    pub said: Vec<(u64, &'static str)>,
}

impl<S: Clone> Tab<S> {
    pub(super) fn new() -> Self {
        Tab {
            open: true,
            away: false,
            table: Table::new(0),
            roles: Roles::default(),
            holds: HashMap::new(),
            current: HashMap::new(),
            last: HashMap::new(),
            requests: Vec::new(),
            updates: Vec::new(),
            attempted: Vec::new(),
            retried: Vec::new(),
            ended: Vec::new(),
            learned: Vec::new(),
            asked: 0,
            said: Vec::new(),
        }
    }

    pub fn job(&self, id: &str) -> Option<JobId> {
        self.table.find(Kind::File, id)
    }

    pub fn result(&self, id: &str) -> Option<&Result<Option<String>, smart_polling::PollError>> {
        self.ended
            .iter()
            .find(|(_, e)| e.id == id && e.outcome.is_some())
            .map(|(_, e)| &e.result)
    }

    pub fn role(&self, id: &str) -> Option<&'static str> {
        self.roles.role_name(self.job(id)?)
    }
}
