//! The fake browser of the job table: one timer for the table, a request
//! and a stream per job, scripted replies or a fake server with latency,
//! and a log of every step with its time (tests/table.rs).

use std::collections::{BTreeSet, HashMap, VecDeque};

use smart_polling::core::job::{Action, Input, Reply};
use smart_polling::core::schedule::{Intervals, Jitter};
use smart_polling::core::table::{Ended, JobId, Kind, RetryBudget, Step, Table};
use smart_polling::{Config, PollError};

pub type Sub = &'static str;
/// What the fake browser keeps per job: the name of every step it executed.
pub type Res = Vec<&'static str>;

/// One step as the browser saw it, for order assertions.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    Act(JobId, &'static str),
    Left(JobId),
    Finished(JobId),
}

pub fn name(a: &Action) -> &'static str {
    match a {
        Action::SendRequest => "send",
        Action::CancelRequest => "cancel",
        Action::ArmTimer { .. } => "arm",
        Action::OpenStream => "open",
        Action::CloseStream(_) => "close",
        Action::Update => "update",
        Action::Attempted => "attempted",
        Action::Progress(_) => "progress",
        Action::Retry { .. } => "retry",
        Action::RetryHeard { .. } => "retry heard",
        Action::Reported { .. } => "reported",
        Action::NudgeLeader { .. } => "nudge leader",
        Action::Complete { .. } => "complete",
        Action::Fail(_) => "fail",
    }
}

/// Polling only, no jitter, one wait of 1 s repeated: exact times.
pub fn polling() -> Config {
    Config {
        intervals: Intervals::new(vec![1000]).unwrap(),
        jitter: Jitter::None,
        use_stream: false,
        request_timeout: 5000,
        timeout: 60_000,
        ..Config::default()
    }
}

pub fn every(ms: u64) -> Config {
    Config {
        intervals: Intervals::new(vec![ms]).unwrap(),
        ..polling()
    }
}

pub fn streaming() -> Config {
    Config {
        use_stream: true,
        sse_connect_timeout: 2000,
        stream_poll_interval: 0,
        ..polling()
    }
}

/// A fake browser: one timer for the table, a request and a stream per job,
/// scripted replies, and a log of every step with its time.
pub struct Browser {
    pub table: Table<Sub>,
    pub now: u64,
    pub log: Vec<(u64, JobId, Action)>,
    pub seen: Vec<Seen>,
    pub ended: Vec<(u64, Ended<Sub>)>,
    /// What the executor holds per running job (the table holds none of
    /// it): here, the name of every step executed for it.
    pub res: HashMap<JobId, Res>,
    /// What a finished job held when it ended.
    pub released: HashMap<JobId, Res>,
    pub in_flight: BTreeSet<JobId>,
    pub streams: BTreeSet<JobId>,
    pub script: HashMap<JobId, VecDeque<Reply>>,
    /// Times the table's timer fired.
    pub turns: Vec<u64>,
    /// When each job's request in flight was sent.
    pub sent_at: HashMap<JobId, u64>,
    /// Every reply the fake server gave, with its time.
    pub replies: Vec<(u64, JobId, Reply)>,
}

impl Browser {
    pub fn new(max_streams: u32) -> Self {
        Self::with_table(Table::new(max_streams))
    }

    pub fn with_budget(max_streams: u32, budget: RetryBudget) -> Self {
        Self::with_table(Table::with_budget(max_streams, budget))
    }

    pub fn with_table(table: Table<Sub>) -> Self {
        Self {
            table,
            now: 0,
            log: Vec::new(),
            seen: Vec::new(),
            ended: Vec::new(),
            res: HashMap::new(),
            released: HashMap::new(),
            in_flight: BTreeSet::new(),
            streams: BTreeSet::new(),
            script: HashMap::new(),
            turns: Vec::new(),
            sent_at: HashMap::new(),
            replies: Vec::new(),
        }
    }

    pub fn start_at(&mut self, kind: Kind, id: &str, origin: &str, cfg: Config, sub: Sub) -> JobId {
        self.table.start_at(self.now, kind, id, origin, cfg, sub)
    }

    pub fn start(&mut self, kind: Kind, id: &str, sub: Sub) -> JobId {
        self.start_with(kind, id, polling(), sub)
    }

    pub fn start_with(&mut self, kind: Kind, id: &str, cfg: Config, sub: Sub) -> JobId {
        self.table.start(self.now, kind, id, cfg, sub)
    }

    pub fn script(&mut self, job: JobId, replies: impl IntoIterator<Item = Reply>) {
        self.script.entry(job).or_default().extend(replies);
    }

    /// Executes one step the way the browser layer does.
    pub fn execute(&mut self, step: Step<Sub>) -> Seen {
        let seen = match step {
            Step::Act { job, action } => {
                match &action {
                    Action::SendRequest => {
                        assert!(self.in_flight.insert(job), "two requests in flight");
                        self.sent_at.insert(job, self.now);
                    }
                    Action::CancelRequest => {
                        self.in_flight.remove(&job);
                    }
                    Action::OpenStream => assert!(self.streams.insert(job), "two streams"),
                    Action::CloseStream(_) => {
                        self.streams.remove(&job);
                    }
                    Action::ArmTimer { .. } => panic!("the table keeps the timers"),
                    Action::Complete { .. } | Action::Fail(_) => {
                        panic!("terminal actions come as Finished")
                    }
                    _ => {}
                }
                assert!(
                    self.table.contains(job),
                    "a step for a job that is not in the table"
                );
                self.res.entry(job).or_default().push(name(&action));
                self.log.push((self.now, job, action.clone()));
                Seen::Act(job, name(&action))
            }
            Step::Left(e) => {
                assert!(
                    self.table.contains(e.job),
                    "subscribers left a job that goes on"
                );
                let job = e.job;
                self.ended.push((self.now, e));
                Seen::Left(job)
            }
            Step::Finished(e) => {
                assert!(!self.table.contains(e.job), "a finished job left the table");
                // A job that ends by its own rules releases what it holds
                // first; one whose last subscriber left on its own terms
                // is released with its resources, as a stop is.
                let by_terms = e.outcome.is_some()
                    && matches!(
                        e.result,
                        Err(PollError::Timeout)
                            | Err(PollError::Server(_))
                            | Err(PollError::Network)
                    );
                if !by_terms {
                    assert!(
                        !self.in_flight.contains(&e.job) && !self.streams.contains(&e.job),
                        "a job ended holding a request or a stream"
                    );
                }
                self.in_flight.remove(&e.job);
                self.streams.remove(&e.job);
                let held = self.res.remove(&e.job).unwrap_or_default();
                self.released.insert(e.job, held);
                let job = e.job;
                self.ended.push((self.now, e));
                Seen::Finished(job)
            }
        };
        self.seen.push(seen.clone());
        seen
    }

    /// Polls and executes one step.
    pub fn step(&mut self) -> Option<Seen> {
        let step = self.table.poll()?;
        Some(self.execute(step))
    }

    /// Executes every queued step.
    pub fn drain(&mut self) -> Vec<Seen> {
        let mut out = Vec::new();
        while let Some(s) = self.step() {
            out.push(s);
        }
        out
    }

    /// The table's timer fires at `now`: turns until nothing more is due.
    pub fn fire(&mut self) -> Vec<Seen> {
        self.turns.push(self.now);
        let mut out = Vec::new();
        loop {
            let more = self.table.on_timer(self.now);
            out.extend(self.drain());
            if !more {
                return out;
            }
        }
    }

    pub fn respond(&mut self, job: JobId, reply: Reply) -> Vec<Seen> {
        assert!(self.in_flight.remove(&job), "no request to answer");
        self.replies.push((self.now, job, reply.clone()));
        self.table.handle(self.now, job, Input::Response(reply));
        self.drain()
    }

    pub fn feed(&mut self, job: JobId, input: Input) -> Vec<Seen> {
        self.table.handle(self.now, job, input);
        self.drain()
    }

    /// Answers the requests in flight that have a scripted reply; true if any.
    pub fn answer(&mut self) -> bool {
        let due: Vec<JobId> = self
            .in_flight
            .iter()
            .copied()
            .filter(|j| self.script.get(j).is_some_and(|s| !s.is_empty()))
            .collect();
        for job in &due {
            let reply = self.script.get_mut(job).unwrap().pop_front().unwrap();
            self.respond(*job, reply);
        }
        !due.is_empty()
    }

    /// Runs the fake clock: answers what is scripted, fires the table's
    /// timer whenever it is due, up to `limit`; the clock then reads `limit`.
    pub fn run_until(&mut self, limit: u64) {
        loop {
            while self.answer() {}
            match self.table.next_wake() {
                Some(at) if at <= limit => {
                    self.now = self.now.max(at);
                    self.fire();
                }
                _ => break,
            }
        }
        self.now = self.now.max(limit);
    }

    /// Runs the fake clock against a fake server: every request is answered
    /// `latency` ms after it was sent, with `server(job, now)`; the table's
    /// timer fires whenever it is due (answers first at equal times).
    pub fn serve_until(
        &mut self,
        limit: u64,
        latency: u64,
        mut server: impl FnMut(JobId, u64) -> Reply,
    ) {
        let mut guard = 0u64;
        loop {
            guard += 1;
            assert!(guard < 10_000_000, "the fake clock does not advance");
            loop {
                let mut due: Vec<(u64, JobId)> = self
                    .in_flight
                    .iter()
                    .map(|j| (self.sent_at[j] + latency, *j))
                    .filter(|(t, _)| *t <= self.now)
                    .collect();
                if due.is_empty() {
                    break;
                }
                due.sort();
                for (_, job) in due {
                    if self.in_flight.contains(&job) {
                        let reply = server(job, self.now);
                        self.respond(job, reply);
                    }
                }
            }
            let answer = self
                .in_flight
                .iter()
                .map(|j| self.sent_at[j] + latency)
                .min();
            let wake = self.table.next_wake();
            match wake.into_iter().chain(answer).min() {
                Some(at) if at <= limit => {
                    self.now = self.now.max(at);
                    if wake.is_some_and(|w| w <= self.now) {
                        self.fire();
                    }
                }
                _ => break,
            }
        }
        self.now = self.now.max(limit);
    }

    /// Replies `job` received with that status.
    pub fn replies_with(&self, job: JobId, status: u16) -> usize {
        self.replies
            .iter()
            .filter(|(_, j, r)| {
                *j == job && matches!(r, Reply::Status { status: s, .. } if *s == status)
            })
            .count()
    }

    /// Every request sent, by any job, with its time.
    pub fn all_requests(&self) -> Vec<(u64, JobId)> {
        self.log
            .iter()
            .filter(|(_, _, a)| *a == Action::SendRequest)
            .map(|(t, j, _)| (*t, *j))
            .collect()
    }

    /// The `Retry` actions executed for `job`: (time, error, delay).
    pub fn retries(&self, job: JobId) -> Vec<(u64, PollError, u64)> {
        self.log
            .iter()
            .filter(|(_, j, _)| *j == job)
            .filter_map(|(t, _, a)| match a {
                Action::Retry { error, delay } => Some((*t, *error, *delay)),
                _ => None,
            })
            .collect()
    }

    /// Times at which `job` sent requests.
    pub fn requests(&self, job: JobId) -> Vec<u64> {
        self.log
            .iter()
            .filter(|(_, j, a)| *j == job && *a == Action::SendRequest)
            .map(|(t, _, _)| *t)
            .collect()
    }

    /// Names of the steps executed for `job`.
    pub fn acts(&self, job: JobId) -> Vec<&'static str> {
        self.log
            .iter()
            .filter(|(_, j, _)| *j == job)
            .map(|(_, _, a)| name(a))
            .collect()
    }

    pub fn count(&self, job: JobId, what: &str) -> usize {
        self.acts(job).iter().filter(|a| **a == what).count()
    }

    pub fn ended(&self, job: JobId) -> &Ended<Sub> {
        let mut it = self.ended.iter().filter(|(_, e)| e.job == job);
        let (_, e) = it.next().expect("the job ended");
        assert!(it.next().is_none(), "a job ended twice");
        e
    }

    pub fn ended_at(&self, job: JobId) -> u64 {
        self.ended.iter().find(|(_, e)| e.job == job).unwrap().0
    }

    pub fn has_ended(&self, job: JobId) -> bool {
        self.ended.iter().any(|(_, e)| e.job == job)
    }
}
