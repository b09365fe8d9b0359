//! The manager's job table, sans-IO like the jobs it holds (as quinn-proto
//! keeps its `Endpoint` pure): one job per kind and id, with later callers
//! joining it on their own terms; unique job ids (generations), so a late
//! event never reaches a newer job of the same id; the cap on open streams,
//! and a pause of new streams when they keep failing to open; one timer for
//! every job; what jobs to one origin share (a cooldown after a 429, a retry
//! budget, a cap on connections: requests out and streams); and metrics.
//!
//! This file holds the registry (starts, joins, lookups, steps handed out);
//! `timer` when jobs wake, `ending` how they leave, `audit` its accounts.
//!
//! The browser layer feeds it events (`start`, `handle`, `on_timer`,
//! `nudge_all`, `stop`) and executes the [`Step`]s that `poll` hands out,
//! one at a time, calling no JS while it borrows the table. It is generic
//! over what a subscriber is (`S`: the page's callbacks) and owns none of
//! the executor's handles (a job's request, stream, lock and records are
//! the browser layer's, keyed by [`JobId`]), so it holds no web types and
//! tests natively with a fake clock.

mod audit;
mod ending;
mod streams;
mod terms;
mod timer;

use std::{cmp::Reverse, collections::BinaryHeap, rc::Rc};

use rustc_hash::FxHashMap;

use super::config::{Config, Media};
use super::error::{validate_key, PollError};
use super::fifo::Fifo;
use super::gate::{Due, Gates, Pass};
use super::id_map::IdMap;
use super::job::{Action, Input, Job, Reply};
use super::metrics::{Metrics, MetricsReport, Outcome, Progress};

pub use super::gate::RetryBudget;
pub use super::job_id::JobId;
use super::schedule::Intervals;
use streams::Streams;
pub use streams::{STREAM_PAUSE_MS, STREAM_TRIES};
use terms::Terms;
use timer::Network;
pub use timer::{turns_per_task, LATE_MS, OFFLINE_RECHECK_MS, TAB_NUDGE_MIN_MS};

/// What a job watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    File,
    Project,
    /// A page's own async checker (`smartPollingManager.startPolling`): no
    /// url is built from its id, which is only a name.
    Check,
}

struct Entry<S> {
    kind: Kind,
    /// Shared with the key in `by_key`, and the origin with `origins`.
    id: Rc<str>,
    origin: Rc<str>,
    job: Job,
    subscribers: Vec<S>,
    /// `terms[i]` belongs to `subscribers[i]`.
    terms: Vec<Terms>,
    /// The wake time armed for this job; heap items that differ are stale.
    armed: Option<u64>,
    started: bool,
    /// Counted against the stream cap.
    stream_slot: bool,
    /// It has had a 429: it probes an origin only if no other job will.
    saw_429: bool,
    /// Its request is out: counted against the origin's cap.
    request_slot: bool,
}

/// What the browser layer must do next.
pub enum Step<S> {
    /// An action of a running job (never `ArmTimer`, which the table keeps,
    /// nor a terminal one, which comes as `Finished`).
    Act { job: JobId, action: Action },
    /// Subscribers leave a job on their own terms (their deadline passed,
    /// or too many errors in a row for them); each hears `result` once. The
    /// executor releases nothing: the job goes on, or (when the last of
    /// several leaving at once took it) comes as `Finished`.
    Left(Ended<S>),
    /// A job ended: its entry is gone, its subscribers hear the result once,
    /// and what the executor holds for it is to be dropped.
    Finished(Ended<S>),
}

/// Subscribers that left a job, or a job that left the table.
pub struct Ended<S> {
    pub job: JobId,
    pub kind: Kind,
    pub id: String,
    /// `Err(PollError::Stopped)` for a stop.
    pub result: Result<Option<String>, PollError>,
    pub progress: Progress,
    /// How the job ended; `None` for a stop or while it goes on.
    pub outcome: Option<Outcome>,
    /// What the job waited for, and when its last "not ready yet" came: what
    /// a learned schedule learns from a completion.
    pub media: Media,
    /// Whether the job teaches the learned schedule (option `learn`).
    pub learns: bool,
    pub last_pending: Option<u64>,
    /// The last of the errors in a row the job was in when it ended (a
    /// timeout's real cause): `None` without one.
    pub erring: Option<PollError>,
    pub subscribers: Vec<S>,
}

enum Queued<S> {
    Act(Action),
    /// Already out of the table (or out of the job): hand it out as is.
    Left(Ended<S>),
    Finished(Ended<S>),
}

/// Jobs handled per timer turn, so that thousands of jobs falling due
/// together never make one long task; the rest run on the next turn. (A
/// `fetch` call costs the page up to a millisecond: 16 of them, with the
/// rest of a turn, stay well under the 50 ms of a long task.)
pub const TURN: usize = 16;

pub struct Table<S> {
    /// In id order, so oldest first (every input looks its job up by a
    /// binary search). Boxed: a slot is a pointer, not a whole entry, and
    /// the vector moves slots when it compacts.
    entries: IdMap<Box<Entry<S>>>,
    /// Running jobs by id, one map per kind.
    /// Hashed (Fx: the ids are the page's own, and SipHash was a third of
    /// a start): a lookup and an insert per start, whatever the number of
    /// jobs (a tree compared strings a dozen times at 10 000).
    by_key: [FxHashMap<Rc<str>, JobId>; 3],
    /// What the jobs to each origin share (cooldown, probe, budget, cap).
    gates: Gates,
    next_id: u32,
    next_sub: u32,
    wakes: BinaryHeap<Reverse<(u64, JobId)>>,
    /// Subscribers' own deadlines.
    deadlines: BinaryHeap<Reverse<(u64, JobId, u32)>>,
    queue: Fifo<(JobId, Queued<S>)>,
    metrics: Metrics,
    streams: Streams,
    /// Jobs started at one instant: (when, how many).
    burst: (u64, u32),
    /// Inside `due_deadlines` (a last look feeds its job).
    in_deadlines: bool,
    /// The distinct configurations and schedules of running jobs: a new
    /// job's is swapped for an equal one held already, so thousands of jobs
    /// share one.
    configs: Vec<Rc<Config>>,
    schedules: Vec<Intervals>,
    /// Offline, every job is paused (see `set_online`).
    net: Network,
    /// Callers that joined a running job (when, the job, their first
    /// wait): looked at in the next turn (`nudge_joined`), not in the start.
    joined: Vec<(u64, JobId, u64)>,
}

/// How many distinct configurations and schedules are shared at most (more
/// are kept per job).
const SHARED: usize = 16;

impl<S: Clone> Table<S> {
    pub fn new(max_streams: u32) -> Self {
        Self::with_budget(max_streams, RetryBudget::default())
    }

    pub fn with_budget(max_streams: u32, budget: RetryBudget) -> Self {
        Self {
            entries: IdMap::default(),
            by_key: Default::default(),
            gates: Gates::new(budget),
            next_id: 0,
            next_sub: 0,
            wakes: BinaryHeap::new(),
            deadlines: BinaryHeap::new(),
            queue: Fifo::new(),
            metrics: Metrics::default(),
            streams: Streams::new(max_streams),
            burst: (u64::MAX, 0),
            in_deadlines: false,
            configs: Vec::new(),
            schedules: Vec::new(),
            net: Network::default(),
            joined: Vec::new(),
        }
    }

    /// At most `n` connections (requests out, streams) per origin, at least
    /// one; a job due beyond that waits for room. No cap by default.
    pub fn with_max_requests(mut self, n: u32) -> Self {
        self.gates.set_max_requests(n);
        self
    }

    /// An equal schedule already held, or this one, held from now on.
    fn share(&mut self, intervals: Intervals) -> Intervals {
        self.schedules.retain(Intervals::is_shared);
        if let Some(held) = self.schedules.iter().find(|s| **s == intervals) {
            return held.clone();
        }
        if self.schedules.len() < SHARED {
            self.schedules.push(intervals.clone());
        }
        intervals
    }

    /// An equal configuration already held, or this one, held from now on.
    fn share_config(&mut self, cfg: Config) -> Rc<Config> {
        self.configs.retain(|c| Rc::strong_count(c) > 1);
        if let Some(held) = self.configs.iter().find(|c| ***c == cfg) {
            return held.clone();
        }
        let cfg = Rc::new(cfg);
        if self.configs.len() < SHARED {
            self.configs.push(cfg.clone());
        }
        cfg
    }

    /// The running job of that kind and id.
    pub fn find(&self, kind: Kind, id: &str) -> Option<JobId> {
        self.by_key[kind as usize].get(id).copied()
    }

    /// Whether a job polls `id`: one refused at its start (an invalid id)
    /// is in the table until the next turn tells its end, but polls not.
    pub fn is_polling(&self, kind: Kind, id: &str) -> bool {
        (self.find(kind, id))
            .is_some_and(|job| self.entries.get(job).is_some_and(|e| !e.job.is_rejected()))
    }

    /// How many jobs poll (see `is_polling`).
    pub fn polling(&self) -> usize {
        self.entries
            .iter()
            .filter(|(_, e)| !e.job.is_rejected())
            .count()
    }

    /// `start` for jobs that all share one origin.
    pub fn start(&mut self, now: u64, kind: Kind, id: &str, cfg: Config, sub: S) -> JobId {
        self.start_at(now, kind, id, "", cfg, sub)
    }

    /// Starts a job, or adds `sub` to the running job of that kind and id.
    /// Either way the subscriber's terms come from `cfg`: its `timeout` is
    /// its own deadline (a later one keeps the job running longer), and its
    /// `maxConsecutiveErrors` its own limit. The job starts on the next
    /// timer turn, so no callback runs inside the caller. An invalid id
    /// makes a job that fails with `invalid_id` without any request.
    pub fn start_at(
        &mut self,
        now: u64,
        kind: Kind,
        id: &str,
        origin: &str,
        mut cfg: Config,
        sub: S,
    ) -> JobId {
        self.next_sub = self.next_sub.wrapping_add(1);
        let mut terms = Terms::new(self.next_sub, now, &cfg);
        let (handle, joined) = match self.find(kind, id) {
            Some(job) => (job, Some(cfg.intervals.wait(0))),
            None => {
                // Error limits are each subscriber's, not the job's.
                cfg.max_consecutive_errors = None;
                (self.insert(now, kind, id, origin, cfg), None)
            }
        };
        terms.within = joined;
        if let Some(e) = self.entries.get_mut(handle) {
            e.subscribers.push(sub);
            e.terms.push(terms);
            e.job.extend_deadline(terms.deadline);
            self.deadlines
                .push(Reverse((terms.deadline, handle, terms.id)));
        }
        if let Some(within) = joined {
            self.joined.push((now, handle, within));
        }
        handle
    }

    fn insert(&mut self, now: u64, kind: Kind, id: &str, origin: &str, mut cfg: Config) -> JobId {
        cfg.intervals = self.share(cfg.intervals);
        let valid = validate_key(kind == Kind::Check, id);
        // A herd: beyond a turn of jobs started in the same millisecond,
        // first polls are spread over the first wait (at most `maxDelay`),
        // so a page starting thousands of jobs does not send them at once.
        if self.burst.0 == now {
            self.burst.1 += 1;
        } else {
            self.burst = (now, 1);
        }
        let first = if self.burst.1 as usize > TURN {
            let spread = cfg.intervals.wait(0).min(cfg.max_delay).max(1);
            now + u64::from(self.next_id.wrapping_add(1)).wrapping_mul(2_654_435_761) % spread
        } else {
            now
        };
        // Offline, a stream could only fail: the job polls once back online.
        // Streams count against the origin's connections (`Gates::may_stream`).
        let wanted =
            cfg.use_stream && valid.is_ok() && !self.net.offline && self.gates.may_stream(origin);
        cfg.use_stream = self.streams.admit(now, wanted);
        let stream_slot = cfg.use_stream;
        // The seed is the job's own: configurations are shared without it.
        let seed = std::mem::take(&mut cfg.seed);
        let mut job = Job::with_seed(self.share_config(cfg), seed);
        if let Err(e) = valid {
            job.reject(e);
        }
        if self.net.offline {
            job.handle(now, Input::Offline);
        }
        job.set_expected_duration(self.metrics.average_completion_time_of(job.config().media));
        self.next_id = self.next_id.wrapping_add(1);
        let handle = JobId(self.next_id);
        let origin = self.gates.join(origin);
        if stream_slot {
            self.gates.stream(&origin, true);
        }
        let id: Rc<str> = id.into();
        self.by_key[kind as usize].insert(id.clone(), handle);
        self.entries.insert(
            handle,
            Box::new(Entry {
                kind,
                id,
                origin,
                job,
                // Most jobs have one subscriber: no room for four.
                subscribers: Vec::with_capacity(1),
                terms: Vec::with_capacity(1),
                armed: Some(first),
                started: false,
                stream_slot,
                saw_429: false,
                request_slot: false,
            }),
        );
        self.wakes.push(Reverse((first, handle)));
        handle
    }

    /// Feeds one input to a job; its actions join the queue. (`Input::Stop`
    /// is `stop`'s business: it must also take the entry out.)
    pub fn handle(&mut self, now: u64, job: JobId, input: Input) {
        if input == Input::Stop {
            return;
        }
        // Deadlines passed a late turn ago first: a lock granted, or
        // another tab's word, in a turn that came late must not end a job
        // without its last look.
        self.deadlines_due_by(now, now.saturating_sub(LATE_MS));
        if let (Input::Follow, Some(e)) = (&input, self.entries.get_mut(job)) {
            // Before a start nothing comes of it (thousands of shared jobs
            // start so); a running job steps down: its request and stream go.
            let running = e.job.is_running();
            e.job.handle(now, input);
            if running {
                self.collect(now, job);
            }
            return;
        }
        let good = matches!(
            input,
            Input::Response(Reply::Record { .. } | Reply::Said { .. })
        );
        // Any answer but a 429 ends an origin's probing.
        let answered = match &input {
            Input::Response(Reply::Status { status, .. }) => *status != 429,
            Input::Response(_) => true,
            _ => false,
        };
        let Some(e) = self.entries.get_mut(job) else {
            return;
        };
        let first_429 =
            !e.saw_429 && matches!(input, Input::Response(Reply::Status { status: 429, .. }));
        if first_429 {
            e.saw_429 = true;
            self.gates.first_429(&e.origin);
        }
        self.gates.heard(&e.origin, now, good, answered);
        let opening = matches!(input, Input::StreamOpened | Input::StreamMessage(_));
        let is_429 = matches!(input, Input::Response(Reply::Status { status: 429, .. }));
        e.job.handle(now, input);
        if is_429 {
            // The origin's wait, even if the job ends on it (no retry queued).
            self.gates.rate_limited(&e.origin, e.job.not_before());
        }
        if opening && e.job.streaming() {
            self.streams.opened();
        }
        self.collect(now, job);
    }

    /// The next step to execute, in order.
    pub fn poll(&mut self) -> Option<Step<S>> {
        while let Some((job, queued)) = self.queue.pop_front() {
            let action = match queued {
                Queued::Left(ended) => return Some(Step::Left(ended)),
                Queued::Finished(ended) => return Some(Step::Finished(ended)),
                Queued::Act(action) => action,
            };
            if !self.entries.contains(job) {
                continue; // stopped or finished meanwhile
            }
            let result = match action {
                Action::Complete { url } => Ok(url),
                Action::Fail(e) => Err(e),
                action => {
                    if action == Action::SendRequest {
                        self.metrics.count_request();
                    }
                    return Some(Step::Act { job, action });
                }
            };
            return self.finish(job, result).map(Step::Finished);
        }
        None
    }

    pub fn subscribers(&self, job: JobId) -> Option<&[S]> {
        self.entries.get(job).map(|e| e.subscribers.as_slice())
    }

    pub fn key(&self, job: JobId) -> Option<(Kind, &str)> {
        self.entries.get(job).map(|e| (e.kind, &*e.id))
    }

    pub fn job(&self, job: JobId) -> Option<&Job> {
        self.entries.get(job).map(|e| &e.job)
    }

    pub fn contains(&self, job: JobId) -> bool {
        self.entries.contains(job)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Progress of every running job, oldest first.
    pub fn statuses(&self, now: u64) -> Vec<(Kind, &str, Progress)> {
        (self.entries.iter())
            .filter(|(_, e)| !e.job.is_rejected())
            .map(|(_, e)| (e.kind, &*e.id, e.job.progress(now)))
            .collect()
    }

    /// The jobs that `keep`, oldest first.
    fn ids(&self, keep: impl Fn(&Entry<S>) -> bool) -> Vec<JobId> {
        (self.entries.iter())
            .filter(|(_, e)| keep(e))
            .map(|(job, _)| job)
            .collect()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// `metrics()` for the page, with the retry budget of each origin.
    pub fn report(&self) -> MetricsReport {
        let mut report = self.metrics.report();
        report.retry_budget = self.gates.report();
        report
    }

    /// The tokens an origin has left (a fresh origin has a full budget).
    pub fn retry_tokens(&self, origin: &str) -> f64 {
        self.gates.tokens(origin)
    }
}

/// The key of the gate a job passes (cooldown, probe, retry budget, cap on
/// requests out): the origin of its url for file and project jobs (`origin`,
/// "" for urls relative to the page), and its own poll id for a checker,
/// which calls whatever API it likes: a checker's 429 or errors must never
/// hold the file jobs, nor theirs a checker.
pub fn gate_key(kind: Kind, id: &str, origin: &str) -> String {
    match kind {
        Kind::Check => ["check:", id].concat(),
        Kind::File | Kind::Project => origin.to_owned(),
    }
}
