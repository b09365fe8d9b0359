//! Who leads each shared job in this tab, as a state machine: events in
//! (a job started, its lock asked for or granted, a message heard, a timer
//! turn, an end) at a given `now`, [`Do`]s out. A new shared job follows
//! and queues its claim; claims are asked a turn's worth per timer turn, so
//! starting thousands of jobs stays cheap; grants are taken up half a
//! turn's worth per turn, as each new leader polls at once; a leader whose
//! job ends keeps the lock [`END_GRACE_MS`] longer, so that no follower
//! takes over a job that has just ended (the channel and the lock manager
//! do not deliver in a common order). A job of the same name started in
//! this tab meanwhile (a reload's recovery check timed out, its fallback
//! starts) takes that lock over and leads at once: the lock is never free,
//! so no follower of the ended job can take it before it hears the end.
//!
//! The browser layer asks for the locks, holds them (a granted lock goes to
//! the job's handle at once, so a stop lets go of it), sends and reads the
//! messages, and keeps the records; it asks here when to speak.

use crate::core::fifo::Fifo;

use super::words::{heard, same_version, Heard, Words, END_GRACE_MS};
use crate::core::id_map::IdMap;
use crate::core::job::Input;
use crate::core::job_id::JobId;
use crate::core::table::TURN;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Its lock is still to be asked for.
    Queued,
    /// Its lock is asked for: another tab may lead it.
    Asked,
    /// Its lock is granted: it leads from a coming turn.
    Granted,
    /// It polls, and tells the other tabs.
    Leads,
}

struct Shared {
    role: Role,
    /// A tab joined before this job had a record to send: its next record
    /// goes out even if it is not new.
    resend: bool,
    /// Its lock's name, as a key (`lock_key`).
    key: Box<str>,
    /// It took over the lock of an ended job of its name, which keeps that
    /// job's grace until this time: a stop or a silent end before it holds
    /// the lock until then still.
    handed_until: u64,
}

/// What the browser layer must do for a shared job.
#[derive(Clone, Debug, PartialEq)]
pub enum Do {
    /// Ask for the job's lock and say hello to its leader (`Said::hello`),
    /// then report with [`Roles::asked`].
    Claim(JobId),
    /// Feed the job an input: `Follow` when it starts, `Lead` when this tab
    /// takes the lead.
    Feed(JobId, Input),
    /// Let go of the lock of a job that ended here.
    Release(JobId),
    /// Let go of the lock a running job holds: it follows from now (its
    /// page goes away for a while; see [`Roles::away`]).
    StepDown(JobId),
    /// The lock an ended job still holds goes to the new job of the same
    /// name (see [`Roles::start`]): it leads from a coming turn.
    Hand { ended: JobId, to: JobId },
}

/// How a shared job's end goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    /// Tell the other tabs how it ended (`Said::end`, if they share it).
    pub tell: bool,
    /// Keep its lock until a [`Do::Release`]; else it goes with the job.
    pub hold: bool,
    /// This tab polled the end itself (only then does it learn from it).
    pub seen_here: bool,
}

#[derive(Default)]
pub struct Roles {
    /// Another tab has spoken: until then a leader has nobody to tell (a
    /// follower's first word is its "hello").
    peers: bool,
    /// The page is in the back/forward cache, frozen or unloading (see
    /// `away`).
    away: bool,
    jobs: IdMap<Shared>,
    claims: Fifo<JobId>,
    grants: Fifo<JobId>,
    /// Locks of jobs that ended here, held until the time given.
    ending: Fifo<(u64, JobId)>,
    /// The keys of those still held (one handed on is not here).
    ending_keys: Vec<(Box<str>, JobId)>,
    out: Fifo<Do>,
}

impl Roles {
    /// A new shared job, its lock's name as `key`: it follows until its
    /// lock is granted, or, if a job of that name ended here and holds its
    /// lock still (and the page is not away), until the next turn, as that
    /// lock is handed to it.
    pub fn start(&mut self, job: JobId, key: Box<str>) {
        let held = (self.ending_keys.iter())
            .position(|(k, _)| *k == key)
            .filter(|_| !self.away);
        if let Some(i) = held {
            let (_, ended) = self.ending_keys.swap_remove(i);
            let until = (self.ending.iter())
                .find(|(_, j)| *j == ended)
                .map_or(0, |(at, _)| *at);
            let shared = Shared {
                role: Role::Granted,
                resend: false,
                key,
                handed_until: until,
            };
            self.jobs.insert(job, shared);
            self.grants.push_back(job);
            self.out.push_back(Do::Hand { ended, to: job });
            self.out.push_back(Do::Feed(job, Input::Follow));
            return;
        }
        let shared = Shared {
            role: Role::Queued,
            resend: false,
            key,
            handed_until: 0,
        };
        self.jobs.insert(job, shared);
        self.claims.push_back(job);
        self.out.push_back(Do::Feed(job, Input::Follow));
    }

    /// The job's lock is being asked for (told before the request goes, so
    /// a grant inside the request finds the job waiting); `false`: it could
    /// not be (no lock manager after all), so this tab leads the job alone,
    /// and shares nothing.
    pub fn asked(&mut self, job: JobId, asked: bool) {
        if !asked {
            if self.jobs.remove(job).is_some() {
                self.out.push_back(Do::Feed(job, Input::Lead));
            }
            return;
        }
        if let Some(s) = self.jobs.get_mut(job).filter(|s| s.role == Role::Queued) {
            s.role = Role::Asked;
        }
    }

    /// The browser refused this tab's lock requests (a sandboxed iframe's
    /// `SecurityError`: it has a lock manager, which rejects every request
    /// later): the jobs still waiting for a lock lead alone, as where there
    /// is none. Returns them.
    pub fn refused(&mut self) -> Vec<JobId> {
        let waiting: Vec<JobId> = (self.jobs.iter())
            .filter(|(_, s)| matches!(s.role, Role::Queued | Role::Asked))
            .map(|(job, _)| job)
            .collect();
        for &job in &waiting {
            self.asked(job, false);
        }
        waiting
    }

    /// A lock was granted to this tab, for `job` (`None`: no running job has
    /// its name). True if the job takes it (it leads from a coming turn);
    /// otherwise the lock is let go of at once (its job was stopped, or
    /// holds one already).
    pub fn granted(&mut self, job: Option<JobId>) -> bool {
        let Some((job, s)) = job.and_then(|j| Some((j, self.jobs.get_mut(j)?))) else {
            return false;
        };
        if !matches!(s.role, Role::Queued | Role::Asked) {
            return false;
        }
        if self.away {
            s.role = Role::Queued; // let go of; asked for again when back
            return false;
        }
        s.role = Role::Granted;
        self.grants.push_back(job);
        true
    }

    /// A timer turn, run before the table's (so a new leader polls in the
    /// same turn): locks of ended jobs let go of when due, a turn's worth
    /// of claims, and half a turn's worth of grants (a new leader's poll is
    /// due at once, beside the table's other due jobs). True if this turn
    /// did or left work: in a hidden tab the next turn then comes in the
    /// same task.
    pub fn on_timer(&mut self, now: u64) -> bool {
        while let Some(&(_, job)) = self.ending.front().filter(|(at, _)| *at <= now) {
            self.ending.pop_front();
            self.release_ended(job);
        }
        if self.away {
            return false;
        }
        let mut claimed = 0;
        while claimed < TURN {
            let Some(job) = self.claims.pop_front() else {
                break;
            };
            if self.role(job) == Some(Role::Queued) {
                self.out.push_back(Do::Claim(job));
                claimed += 1;
            }
        }
        let mut led = 0;
        while led < TURN / 2 {
            let Some(job) = self.grants.pop_front() else {
                break;
            };
            if let Some(s) = self.jobs.get_mut(job).filter(|s| s.role == Role::Granted) {
                s.role = Role::Leads;
                self.out.push_back(Do::Feed(job, Input::Lead));
                led += 1;
            }
        }
        led > 0 || !self.claims.is_empty() || !self.grants.is_empty()
    }

    /// The next thing to do, in order.
    pub fn poll(&mut self) -> Option<Do> {
        self.out.pop_front()
    }

    /// The page goes away, its code stopped (the back/forward cache,
    /// frozen, or an unload, whose aborted requests are no news for the
    /// other tabs): leading there would stall the other tabs for minutes, so
    /// each job it leads lets go of its lock and follows (the next tab in
    /// the lock's queue takes over), ended jobs' locks go, and the browser
    /// layer withdraws the requests still queued (a grant would stall the
    /// others too). Nothing is asked for or taken until [`Roles::back`].
    pub fn away(&mut self) {
        self.away = true;
        for (job, s) in self.jobs.iter_mut() {
            // Requests still queued are withdrawn by the browser layer.
            let held = matches!(s.role, Role::Leads | Role::Granted);
            if held || s.role == Role::Asked {
                s.role = Role::Queued;
            }
            if held {
                self.out.push_back(Do::StepDown(job));
                self.out.push_back(Do::Feed(job, Input::Follow));
            }
            // A lock taken over by hand went with it: no grace to keep.
            s.handed_until = 0;
        }
        for (_, job) in self.ending.take_all() {
            self.release_ended(job);
        }
    }

    /// An ended job's lock goes, unless it was handed on (`start`).
    fn release_ended(&mut self, job: JobId) {
        if let Some(i) = self.ending_keys.iter().position(|(_, j)| *j == job) {
            self.ending_keys.swap_remove(i);
            self.out.push_back(Do::Release(job));
        }
    }

    /// The page is back (`pageshow` with `persisted`, `resume`): the jobs
    /// that stepped down ask for their locks again, from the next turn
    /// (they follow whoever leads now, or lead if nobody does).
    pub fn back(&mut self) {
        if !std::mem::take(&mut self.away) {
            return;
        }
        // One queued before is queued twice: the second pop skips it.
        let queued = self.jobs.iter().filter(|(_, s)| s.role == Role::Queued);
        self.claims.extend(queued.map(|(job, _)| job));
    }

    /// When a timer turn is due for sharing's sake.
    pub fn next_wake(&self, now: u64) -> Option<u64> {
        if self.away {
            return None; // no lock is held, none is asked for
        }
        if !self.claims.is_empty() || !self.grants.is_empty() {
            return Some(now);
        }
        self.ending.front().map(|(at, _)| *at)
    }

    /// What a message from another tab means for `job` (the running job it
    /// names, and whether that job follows), if anything. Any message of
    /// this version means this tab has peers.
    pub fn hear(&mut self, w: &Words, job: Option<(JobId, bool)>) -> Heard {
        if !same_version(w) {
            return Heard::Nothing;
        }
        self.peers = true;
        match job {
            Some((job, following)) => heard(w, self.leads(job), following),
            None => Heard::Nothing,
        }
    }

    /// A "hello" was answered, `with_record` if the job's last record went
    /// along; if not, its next record goes out even if it is not new.
    pub fn answered(&mut self, job: JobId, with_record: bool) {
        if let Some(s) = self.jobs.get_mut(job) {
            s.resend = !with_record;
        }
    }

    /// The job has a new record (`Update`): true if it goes to the other
    /// tabs. Either way no resend is due any more.
    pub fn updated(&mut self, job: JobId) -> bool {
        if let Some(s) = self.jobs.get_mut(job) {
            s.resend = false;
        }
        self.tells(job)
    }

    /// After an input's steps ran: true if the record it carried goes to a
    /// tab that joined (see `answered`).
    pub fn resend(&mut self, job: JobId) -> bool {
        let leads = self.leads(job);
        let due = self
            .jobs
            .get_mut(job)
            .is_some_and(|s| std::mem::take(&mut s.resend));
        due && leads
    }

    /// Whether this tab tells the others of the job's state.
    pub fn tells(&self, job: JobId) -> bool {
        self.peers && self.leads(job)
    }

    /// Whether records are kept after their steps: a joining tab's "hello"
    /// is answered with the last one. A tab alone keeps none.
    pub fn keeps_records(&self) -> bool {
        self.peers
    }

    pub fn leads(&self, job: JobId) -> bool {
        self.role(job) == Some(Role::Leads)
    }

    /// "leader" or "follower" for a shared job, once known: a job whose
    /// lock is still asked for follows only if another tab has spoken (a
    /// job alone in its tab is named when it leads).
    pub fn role_name(&self, job: JobId) -> Option<&'static str> {
        match self.role(job)? {
            Role::Leads => Some("leader"),
            Role::Queued | Role::Asked if self.peers => Some("follower"),
            Role::Queued | Role::Asked | Role::Granted => None,
        }
    }

    fn role(&self, job: JobId) -> Option<Role> {
        self.jobs.get(job).map(|s| s.role)
    }

    /// A job ended at `now`, by its own rules (`outcome`), or as its last
    /// subscribers left. A job that is not shared was seen here.
    pub fn ended(&mut self, now: u64, job: JobId, outcome: bool) -> End {
        let Some(s) = self.jobs.remove(job) else {
            return End {
                tell: false,
                hold: false,
                seen_here: true,
            };
        };
        let leads = s.role == Role::Leads;
        let tell = leads && outcome;
        let at = if tell {
            now + END_GRACE_MS
        } else {
            s.handed_until
        };
        let hold = self.keep(now, job, s, at);
        End {
            tell: tell && self.peers,
            hold,
            seen_here: leads,
        }
    }

    /// A job was stopped at `now`: its lock goes with it, unless it took
    /// the lock over from an ended job whose grace still runs (true: the
    /// browser layer keeps the lock until a [`Do::Release`]).
    pub fn stopped(&mut self, now: u64, job: JobId) -> bool {
        match self.jobs.remove(job) {
            Some(s) => {
                let at = s.handed_until;
                self.keep(now, job, s, at)
            }
            None => false,
        }
    }

    /// Keeps an ended job's lock until `at`, if that is still to come.
    fn keep(&mut self, now: u64, job: JobId, s: Shared, at: u64) -> bool {
        let held = matches!(s.role, Role::Leads | Role::Granted);
        if !held || at <= now || self.away {
            return false;
        }
        self.ending.push_back((at, job));
        self.ending_keys.push((s.key, job));
        true
    }

    /// Every job was stopped: every lock goes, held ones included.
    pub fn stop_all(&mut self) {
        self.jobs.clear();
        self.claims.clear();
        self.grants.clear();
        self.out.clear();
        for (_, job) in self.ending.take_all() {
            self.release_ended(job);
        }
    }
}

#[cfg(test)]
mod tests;
