//! Who leads each shared job in this tab, as a state machine: events in
//! (a job started, its lock asked for or granted, a message heard, a timer
//! turn, an end) at a given `now`, [`Do`]s out. A new shared job follows
//! and queues its claim; claims are asked a turn's worth per timer turn, so
//! starting thousands of jobs stays cheap; grants are taken up half a
//! turn's worth per turn, as each new leader polls at once; a leader whose
//! job ends keeps the lock [`END_GRACE_MS`] longer, so that no follower
//! takes over a job that has just ended (the channel and the lock manager
//! do not deliver in a common order).
//!
//! The browser layer asks for the locks, holds them (a granted lock goes to
//! the job's handle at once, so a stop lets go of it), sends and reads the
//! messages, and keeps the records; it asks here when to speak.

use std::collections::VecDeque;

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
    /// The page is in the back/forward cache or frozen (see `away`).
    away: bool,
    jobs: IdMap<Shared>,
    claims: VecDeque<JobId>,
    grants: VecDeque<JobId>,
    /// Locks of jobs that ended here, held until the time given.
    ending: VecDeque<(u64, JobId)>,
    out: VecDeque<Do>,
}

impl Roles {
    /// A new shared job: it follows until its lock is granted.
    pub fn start(&mut self, job: JobId) {
        let shared = Shared {
            role: Role::Queued,
            resend: false,
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
            self.out.push_back(Do::Release(job));
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

    /// The page goes away, its code stopped (the back/forward cache, or
    /// frozen): leading there would stall the other tabs for minutes, so
    /// each job it leads lets go of its lock and follows (the next tab in
    /// the lock's queue takes over at once), and ended jobs' locks go too.
    /// No lock is asked for or taken until [`Roles::back`].
    pub fn away(&mut self) {
        self.away = true;
        for (job, s) in self.jobs.iter_mut() {
            if matches!(s.role, Role::Leads | Role::Granted) {
                s.role = Role::Queued;
                self.out.push_back(Do::StepDown(job));
                self.out.push_back(Do::Feed(job, Input::Follow));
            }
        }
        for (_, job) in std::mem::take(&mut self.ending) {
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
        let hold = leads && outcome;
        if hold {
            self.ending.push_back((now + END_GRACE_MS, job));
        }
        End {
            tell: hold && self.peers,
            hold,
            seen_here: leads,
        }
    }

    /// A job was stopped: its lock goes with it.
    pub fn stopped(&mut self, job: JobId) {
        self.jobs.remove(job);
    }

    /// Every job was stopped: every lock goes, held ones included.
    pub fn stop_all(&mut self) {
        self.jobs.clear();
        self.claims.clear();
        self.grants.clear();
        self.out.clear();
        for (_, job) in std::mem::take(&mut self.ending) {
            self.out.push_back(Do::Release(job));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::sharing::{Said, VERSION};

    fn drain(r: &mut Roles) -> Vec<Do> {
        std::iter::from_fn(|| r.poll()).collect()
    }

    #[test]
    fn a_tab_that_goes_away_lets_go_of_its_locks_and_asks_again_when_back() {
        let mut r = Roles::default();
        let (a, b, c) = (JobId(1), JobId(2), JobId(3));
        for job in [a, b, c] {
            r.start(job);
        }
        r.on_timer(0);
        drain(&mut r);
        for job in [a, b, c] {
            r.asked(job, true);
        }
        assert!(r.granted(Some(a)) && r.granted(Some(b)));
        r.on_timer(0);
        drain(&mut r);
        assert!(r.leads(a) && r.leads(b));
        // b ends here and holds its lock a moment; c waits for its lock.
        assert!(r.ended(0, b, true).hold);

        r.away();
        assert_eq!(
            drain(&mut r),
            vec![Do::StepDown(a), Do::Feed(a, Input::Follow), Do::Release(b)]
        );
        assert!(!r.leads(a));
        assert!(!r.granted(Some(c)), "no lock is taken while away");
        assert!(!r.on_timer(5000));
        assert_eq!(r.next_wake(5000), None);
        assert!(drain(&mut r).is_empty(), "nothing is asked for while away");

        r.back();
        assert_eq!(r.next_wake(6000), Some(6000));
        r.on_timer(6000);
        assert_eq!(drain(&mut r), vec![Do::Claim(a), Do::Claim(c)]);
        r.asked(a, true);
        r.asked(c, true);
        assert!(r.granted(Some(a)));
        r.on_timer(6000);
        assert_eq!(drain(&mut r), vec![Do::Feed(a, Input::Lead)]);
        // Back twice, or without having gone: nothing more.
        r.back();
        assert!(!r.on_timer(7000));
    }

    #[test]
    fn a_job_without_a_lock_manager_leads_alone_and_shares_nothing() {
        let mut r = Roles::default();
        let job = JobId(1);
        r.start(job);
        assert_eq!(drain(&mut r), vec![Do::Feed(job, Input::Follow)]);
        assert!(r.on_timer(0) || r.next_wake(0).is_none());
        assert_eq!(drain(&mut r), vec![Do::Claim(job)]);
        r.asked(job, false);
        assert_eq!(drain(&mut r), vec![Do::Feed(job, Input::Lead)]);
        assert_eq!(r.role_name(job), None);
        assert!(!r.granted(Some(job)), "a late grant is let go of");
        assert_eq!(
            r.ended(5, job, true),
            End {
                tell: false,
                hold: false,
                seen_here: true
            }
        );
    }

    #[test]
    fn only_messages_of_this_version_make_peers() {
        let mut r = Roles::default();
        let job = JobId(1);
        r.start(job);
        r.on_timer(0);
        r.asked(job, true);
        assert!(r.granted(Some(job)));
        r.on_timer(1);
        assert!(r.leads(job));
        assert!(!r.tells(job), "nobody to tell yet");
        let mut hello = Said::hello(1000).words(None);
        hello.v = Some(VERSION + 1);
        assert_eq!(r.hear(&hello, Some((job, false))), Heard::Nothing);
        assert!(!r.keeps_records() && !r.tells(job));
        hello.v = Some(VERSION);
        // A message about another job still says another tab is there.
        assert_eq!(r.hear(&hello, None), Heard::Nothing);
        assert!(r.keeps_records() && r.tells(job));
        assert_eq!(
            r.hear(&hello, Some((job, false))),
            Heard::Hello { within: Some(1000) }
        );
    }

    #[test]
    fn a_job_is_named_a_follower_only_when_another_tab_is_there() {
        let mut r = Roles::default();
        let (a, b) = (JobId(1), JobId(2));
        r.start(a);
        r.on_timer(0);
        r.asked(a, true);
        assert_eq!(r.role_name(a), None, "alone: not known yet");
        assert!(r.granted(Some(a)));
        assert_eq!(r.role_name(a), None, "it leads from the next turn");
        r.on_timer(1);
        assert_eq!(r.role_name(a), Some("leader"));
        r.hear(&Said::hello(1000).words(None), None);
        r.start(b);
        r.on_timer(1);
        r.asked(b, true);
        assert_eq!(r.role_name(b), Some("follower"), "another tab spoke");
    }

    #[test]
    fn grants_go_only_to_jobs_that_wait_for_them() {
        let mut r = Roles::default();
        let (a, b) = (JobId(1), JobId(2));
        r.start(a);
        r.start(b);
        r.on_timer(0);
        r.asked(a, true);
        r.asked(b, true);
        r.stopped(b);
        assert!(!r.granted(Some(b)), "stopped");
        assert!(!r.granted(None), "no job of that name");
        assert!(r.granted(Some(a)));
        assert!(!r.granted(Some(a)), "it holds one already");
        assert_eq!(r.next_wake(7), Some(7), "it leads from the next turn");
    }

    #[test]
    fn a_leaders_lock_outlives_its_end_by_the_grace_and_a_stop_all_lets_go() {
        let mut r = Roles::default();
        let (a, b) = (JobId(1), JobId(2));
        for job in [a, b] {
            r.start(job);
        }
        r.on_timer(0);
        for job in [a, b] {
            r.asked(job, true);
            r.granted(Some(job));
        }
        r.on_timer(0);
        drain(&mut r);
        let end = r.ended(100, a, true);
        assert!(end.hold && end.seen_here && !end.tell);
        // A stop (no outcome) lets go at once.
        assert!(!r.ended(100, b, false).hold);
        assert_eq!(r.next_wake(100), Some(100 + END_GRACE_MS));
        r.on_timer(100 + END_GRACE_MS - 1);
        assert_eq!(drain(&mut r), vec![]);
        r.on_timer(100 + END_GRACE_MS);
        assert_eq!(drain(&mut r), vec![Do::Release(a)]);

        let c = JobId(3);
        r.start(c);
        r.on_timer(0);
        r.asked(c, true);
        r.granted(Some(c));
        r.on_timer(0);
        r.ended(200, c, true);
        drain(&mut r);
        r.stop_all();
        assert_eq!(drain(&mut r), vec![Do::Release(c)]);
        assert_eq!(r.next_wake(300), None);
    }
}
