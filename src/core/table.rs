//! The manager's job table, sans-IO like the jobs it holds (as quinn-proto
//! keeps its `Endpoint` pure): one job per kind and id, with later callers
//! joining it; unique job ids (generations), so a late event never reaches a
//! newer job of the same id; the cap on open streams; one timer for every
//! job; and the metrics of finished jobs.
//!
//! The browser layer feeds it events (`start`, `handle`, `on_timer`,
//! `nudge_all`, `stop`) and executes the [`Step`]s that `poll` hands out,
//! one at a time, calling no JS while it borrows the table. It is generic
//! over what a subscriber is (`S`: the page's callbacks) and what a job owns
//! (`R`: its request, stream and last record), so it holds no web types and
//! tests natively with a fake clock.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use super::config::Config;
use super::error::{validate_id, PollError};
use super::job::{Action, Input, Job};
use super::metrics::{Metrics, Outcome, Progress};

/// What a job watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    File,
    Project,
}

/// A job's identity for its whole life; never reused within a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(u32);

struct Entry<S, R> {
    kind: Kind,
    id: String,
    job: Job,
    subscribers: Vec<S>,
    resources: R,
    /// The wake time armed for this job; heap items that differ are stale.
    armed: Option<u64>,
    started: bool,
    /// Counted against the stream cap.
    stream_slot: bool,
}

/// What the browser layer must do next.
pub enum Step<S, R> {
    /// An action of a running job (never `ArmTimer`, which the table keeps,
    /// nor a terminal one, which comes as `Finished`).
    Act { job: JobId, action: Action },
    /// A job ended: its entry is gone, its subscribers hear the result once,
    /// and its resources are to be dropped.
    Finished(Ended<S, R>),
}

/// A job that left the table, finished or stopped.
pub struct Ended<S, R> {
    pub job: JobId,
    pub kind: Kind,
    pub id: String,
    /// `Err(PollError::Stopped)` for a stop.
    pub result: Result<Option<String>, PollError>,
    pub progress: Progress,
    /// How it ended; `None` for a stop.
    pub outcome: Option<Outcome>,
    pub subscribers: Vec<S>,
    pub resources: R,
}

/// Jobs handled per timer turn, so that thousands of jobs falling due
/// together never make one long task; the rest run on the next turn.
pub const TURN: usize = 256;

pub struct Table<S, R> {
    /// Ordered by id, so oldest first (and no hashing code in the wasm).
    entries: BTreeMap<JobId, Entry<S, R>>,
    by_key: BTreeMap<(Kind, String), JobId>,
    next_id: u32,
    wakes: BinaryHeap<Reverse<(u64, JobId)>>,
    queue: VecDeque<(JobId, Action)>,
    metrics: Metrics,
    max_streams: u32,
    streams: u32,
}

impl<S: Clone, R: Default> Table<S, R> {
    pub fn new(max_streams: u32) -> Self {
        Self {
            entries: BTreeMap::new(),
            by_key: BTreeMap::new(),
            next_id: 0,
            wakes: BinaryHeap::new(),
            queue: VecDeque::new(),
            metrics: Metrics::default(),
            max_streams,
            streams: 0,
        }
    }

    /// The running job of that kind and id.
    pub fn find(&self, kind: Kind, id: &str) -> Option<JobId> {
        self.by_key.get(&(kind, id.to_owned())).copied()
    }

    /// Starts a job, or adds `sub` to the running job of that kind and id
    /// (`cfg` is then unused). The job starts on the next timer turn, so no
    /// callback runs inside the caller. An invalid id makes a job that fails
    /// with `invalid_id` without any request.
    pub fn start(&mut self, now: u64, kind: Kind, id: &str, mut cfg: Config, sub: S) -> JobId {
        if let Some(job) = self.find(kind, id) {
            if let Some(e) = self.entries.get_mut(&job) {
                e.subscribers.push(sub);
            }
            return job;
        }
        let valid = validate_id(id);
        cfg.use_stream &= valid.is_ok() && self.streams < self.max_streams;
        let stream_slot = cfg.use_stream;
        self.streams += u32::from(stream_slot);
        let mut job = Job::new(cfg);
        if let Err(e) = valid {
            job.reject(e);
        }
        job.set_expected_duration(self.metrics.average_completion_time());
        self.next_id = self.next_id.wrapping_add(1);
        let handle = JobId(self.next_id);
        self.entries.insert(
            handle,
            Entry {
                kind,
                id: id.to_owned(),
                job,
                subscribers: vec![sub],
                resources: R::default(),
                armed: Some(now),
                started: false,
                stream_slot,
            },
        );
        self.by_key.insert((kind, id.to_owned()), handle);
        self.wakes.push(Reverse((now, handle)));
        handle
    }

    /// Feeds one input to a job; its actions join the queue. (`Input::Stop`
    /// is `stop`'s business: it must also take the entry out.)
    pub fn handle(&mut self, now: u64, job: JobId, input: Input) {
        if input == Input::Stop {
            return;
        }
        if let Some(e) = self.entries.get_mut(&job) {
            e.job.handle(now, input);
            self.collect(job);
        }
    }

    /// The table's timer fired: every job due by `now` (at most [`TURN`] of
    /// them) hears `Start` or `Timer`. True if more are due already.
    pub fn on_timer(&mut self, now: u64) -> bool {
        let mut handled = 0;
        while let Some(&Reverse((at, job))) = self.wakes.peek() {
            if at > now {
                break;
            }
            if handled == TURN {
                return true;
            }
            self.wakes.pop();
            let Some(e) = self.entries.get_mut(&job) else {
                continue;
            };
            if e.armed != Some(at) {
                continue;
            }
            e.armed = None;
            let input = if e.started {
                Input::Timer
            } else {
                Input::Start
            };
            e.started = true;
            e.job.handle(now, input);
            self.collect(job);
            handled += 1;
        }
        false
    }

    /// When the table's timer must fire next.
    pub fn next_wake(&mut self) -> Option<u64> {
        while let Some(&Reverse((at, job))) = self.wakes.peek() {
            match self.entries.get(&job) {
                Some(e) if e.armed == Some(at) => return Some(at),
                _ => {
                    self.wakes.pop();
                }
            }
        }
        None
    }

    /// Conditions improved for every job (see `Input::Nudge`).
    pub fn nudge_all(&mut self, now: u64) {
        let started: Vec<JobId> = self
            .entries
            .iter()
            .filter(|(_, e)| e.started)
            .map(|(job, _)| *job)
            .collect();
        for job in started {
            self.handle(now, job, Input::Nudge);
        }
    }

    /// Stops a job silently: its entry leaves the table at once, with what
    /// the caller must release.
    pub fn stop(&mut self, now: u64, kind: Kind, id: &str) -> Option<Ended<S, R>> {
        let job = self.find(kind, id)?;
        self.stop_job(now, job)
    }

    pub fn stop_all(&mut self, now: u64) -> Vec<Ended<S, R>> {
        let all: Vec<JobId> = self.entries.keys().copied().collect();
        all.into_iter()
            .filter_map(|job| self.stop_job(now, job))
            .collect()
    }

    fn stop_job(&mut self, now: u64, job: JobId) -> Option<Ended<S, R>> {
        let mut e = self.take(job)?;
        e.job.handle(now, Input::Stop);
        let progress = e.job.progress(now);
        Some(Ended {
            job,
            kind: e.kind,
            id: e.id,
            result: Err(PollError::Stopped),
            progress,
            outcome: None,
            subscribers: e.subscribers,
            resources: e.resources,
        })
    }

    /// The next step to execute, in order.
    pub fn poll(&mut self) -> Option<Step<S, R>> {
        while let Some((job, action)) = self.queue.pop_front() {
            if !self.entries.contains_key(&job) {
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

    /// Where the browser layer keeps a job's request, stream and record.
    pub fn resources(&mut self, job: JobId) -> Option<&mut R> {
        self.entries.get_mut(&job).map(|e| &mut e.resources)
    }

    pub fn subscribers(&self, job: JobId) -> Option<&[S]> {
        self.entries.get(&job).map(|e| e.subscribers.as_slice())
    }

    pub fn key(&self, job: JobId) -> Option<(Kind, &str)> {
        self.entries.get(&job).map(|e| (e.kind, e.id.as_str()))
    }

    pub fn job(&self, job: JobId) -> Option<&Job> {
        self.entries.get(&job).map(|e| &e.job)
    }

    pub fn contains(&self, job: JobId) -> bool {
        self.entries.contains_key(&job)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Progress of every running job, oldest first.
    pub fn statuses(&self, now: u64) -> Vec<(Kind, &str, Progress)> {
        self.entries
            .values()
            .map(|e| (e.kind, e.id.as_str(), e.job.progress(now)))
            .collect()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Moves the job's new actions into the queue; the table keeps the timer.
    fn collect(&mut self, job: JobId) {
        let Some(e) = self.entries.get_mut(&job) else {
            return;
        };
        while let Some(action) = e.job.poll_action() {
            match action {
                Action::ArmTimer { at } => {
                    e.armed = Some(at);
                    self.wakes.push(Reverse((at, job)));
                }
                action => self.queue.push_back((job, action)),
            }
        }
        if e.stream_slot && !e.job.holds_stream() {
            e.stream_slot = false;
            self.streams -= 1;
        }
    }

    fn finish(
        &mut self,
        job: JobId,
        result: Result<Option<String>, PollError>,
    ) -> Option<Ended<S, R>> {
        let e = self.take(job)?;
        let outcome = e.job.outcome();
        if let Some(o) = &outcome {
            self.metrics.record(o);
        }
        let mut progress = e.job.progress(0);
        progress.estimated_time_remaining = None;
        if let Some(o) = &outcome {
            // The job's own account of its end, not the caller's clock.
            progress.elapsed_time = o.duration;
            progress.channel = o.channel;
        }
        Some(Ended {
            job,
            kind: e.kind,
            id: e.id,
            result,
            progress,
            outcome,
            subscribers: e.subscribers,
            resources: e.resources,
        })
    }

    /// Takes the entry out of the table, releasing its key and stream slot.
    fn take(&mut self, job: JobId) -> Option<Entry<S, R>> {
        let e = self.entries.remove(&job)?;
        self.by_key.remove(&(e.kind, e.id.clone()));
        if e.stream_slot {
            self.streams -= 1;
        }
        Some(e)
    }
}
