//! The job table driven by random sequences of starts, joins, answers,
//! stream events, stops, nudges and offline spells, on a fake clock and a
//! fake browser that fires the table's one timer whenever it is due. What a
//! page relies on, checked after every step:
//! - each subscriber hears exactly one ending (complete, error, its own
//!   limit, or stop), never before its own deadline has any say, never
//!   after it, and nothing after it;
//! - no step names a job that has left the table; no terminal action or
//!   timer is handed out as a plain step;
//! - one request out per job at most, and per origin never more than the
//!   cap (checkers excepted); no more streams open than the stream cap;
//! - a completion only after the server (or the stream) said so, with its url;
//! - progress goes forward (attempts, elapsed time);
//! - `len`, `polling`, `find`, `subscribers`, `statuses` and the metrics
//!   agree with the jobs the page started and has not heard end;
//! - no stalled job: a live table always has a wake-up, never a busy loop,
//!   and once the server only says "pending", every job polls again within
//!   a bounded gap until its subscribers' deadlines end it.

#![cfg(not(target_arch = "wasm32"))]

mod harness;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use harness::{done, pending_after, record, status_after};
use proptest::prelude::*;
use proptest::test_runner::Config as PropConfig;
use smart_polling::core::job::{Action, Input, Reply};
use smart_polling::core::record::{State, TaskStatus};
use smart_polling::core::schedule::{Intervals, Jitter};
use smart_polling::core::stream::StreamEvent;
use smart_polling::core::table::{gate_key, Ended, JobId, Kind, RetryBudget, Step, Table};
use smart_polling::{Config, PollError};

const IMAGE: &str = "https://x/a.png";
const VIDEO: &str = "https://x/v.mp4";
/// Ids the page starts: four valid ones and an invalid one.
const IDS: [&str; 5] = ["a", "b", "c", "d", "bad id"];
/// A request never out longer than this, nor a wait longer than this after
/// a "pending": `maxDelay` 8 s, Retry-After at most 5 s, request timeout 4 s.
const MAX_GAP: u64 = 8_000 + 5_000 + 4_000 + 3_000;

#[derive(Clone, Debug)]
enum Op {
    /// Id, kind, origin, timeout, limit of errors in a row, stream, seed.
    Start(usize, Kind, usize, u64, Option<u32>, bool, u64),
    Advance(u64),
    Answer(usize, Reply),
    Fail(usize),
    Stream(usize, Input),
    Stop(usize, Kind),
    StopAll,
    Nudge,
    Online(bool),
    /// A start or stop made by a page's callback, inside the next step.
    Inside(Box<Op>),
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        5 => (1u64..3).prop_map(|f| record(State::Pending, f)),
        1 => (0u64..5_000).prop_map(pending_after),
        2 => Just(done(IMAGE)),
        1 => Just(record(State::Failed, 9)),
        1 => Just(Reply::Unreadable),
        3 => (prop::sample::select(vec![403u16, 404, 429, 500, 503]), prop::option::of(0u64..5_000))
            .prop_map(|(s, ra)| status_after(s, ra)),
    ]
}

fn stream_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        Just(Input::StreamOpened),
        Just(Input::StreamFailed),
        Just(Input::StreamInterrupted),
        (0u8..=100).prop_map(|p| Input::StreamMessage(StreamEvent::Progress(p))),
        Just(Input::StreamMessage(StreamEvent::Result(VIDEO.into()))),
        Just(Input::StreamMessage(StreamEvent::Task(
            TaskStatus::Completed
        ))),
        Just(Input::StreamMessage(StreamEvent::Garbage)),
        Just(Input::StreamMessage(StreamEvent::File {
            state: State::Pending,
            fingerprint: 7,
            done: true
        })),
        Just(Input::Follow),
        Just(Input::Lead),
        Just(Input::StreamBusy),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let kind = prop::sample::select(vec![Kind::File, Kind::File, Kind::Project, Kind::Check]);
    let start = (
        0..IDS.len(),
        kind.clone(),
        0usize..2,
        prop::sample::select(vec![3_000u64, 10_000, 30_000, 60_000]),
        prop::option::of(1u32..4),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(i, k, o, t, e, s, seed)| Op::Start(i, k, o, t, e, s, seed));
    let stop = (0..IDS.len(), kind).prop_map(|(i, k)| Op::Stop(i, k));
    let inside = prop_oneof![start.clone(), stop.clone(), Just(Op::StopAll)]
        .prop_map(|op| Op::Inside(Box::new(op)));
    prop_oneof![
        4 => start,
        6 => (0u64..3_000).prop_map(Op::Advance),
        6 => (any::<usize>(), reply()).prop_map(|(i, r)| Op::Answer(i, r)),
        1 => any::<usize>().prop_map(Op::Fail),
        2 => (any::<usize>(), stream_input()).prop_map(|(i, s)| Op::Stream(i, s)),
        1 => stop,
        1 => Just(Op::StopAll),
        2 => inside,
        1 => Just(Op::Nudge),
        1 => any::<bool>().prop_map(Op::Online),
    ]
}

fn config(timeout: u64, errors: Option<u32>, stream: bool, seed: u64) -> Config {
    Config {
        intervals: Intervals::new(vec![500, 1000, 2000]).unwrap(),
        jitter: Jitter::Bounded(0.2),
        seed,
        max_delay: 8_000,
        rate_limit_delay: 5_000,
        max_retry_after: 5_000,
        request_timeout: 4_000,
        use_stream: stream,
        sse_connect_timeout: 2_000,
        stream_poll_interval: 0,
        // One job in four runs out of attempts early.
        max_attempts: if seed % 4 == 0 { 2 } else { 40 },
        max_not_found: 3,
        timeout,
        max_consecutive_errors: errors,
        ..Config::default()
    }
}

struct JobInfo {
    kind: Kind,
    id: &'static str,
    gate: String,
    live: bool,
    /// Result urls the server or the stream gave it.
    urls: Vec<&'static str>,
    attempt: u32,
    elapsed: u64,
    /// When it last sent a request (or the final phase began).
    last_sent: u64,
}

struct Sub {
    job: JobId,
    deadline: u64,
    errors: Option<u32>,
    ended: u32,
}

struct Sim {
    table: Table<u32>,
    now: u64,
    cap: u32,
    max_streams: u32,
    next_sub: u32,
    subs: BTreeMap<u32, Sub>,
    jobs: HashMap<JobId, JobInfo>,
    in_flight: BTreeSet<JobId>,
    streams: BTreeSet<JobId>,
    requests: u64,
    outcomes: u32,
    /// Checked only in the final phase, when the server says "pending".
    gap_check: bool,
    /// Offline: nothing may be sent.
    offline: bool,
    /// No request to an origin before this: a server's 429 said so.
    cooldown: HashMap<String, u64>,
    /// Ops a callback makes during the next step.
    inside: Vec<Op>,
}

type Check = Result<(), TestCaseError>;

impl Sim {
    fn new(cap: u32, max_streams: u32) -> Self {
        let budget = RetryBudget {
            size: 2.0,
            refill: 0.5,
        };
        Sim {
            table: Table::with_budget(max_streams, budget).with_max_requests(cap),
            now: 0,
            cap,
            max_streams,
            next_sub: 0,
            subs: BTreeMap::new(),
            jobs: HashMap::new(),
            in_flight: BTreeSet::new(),
            streams: BTreeSet::new(),
            requests: 0,
            outcomes: 0,
            gap_check: false,
            offline: false,
            cooldown: HashMap::new(),
            inside: Vec::new(),
        }
    }

    fn live(&self) -> impl Iterator<Item = (&JobId, &JobInfo)> {
        self.jobs.iter().filter(|(_, j)| j.live)
    }

    /// Marks the subscribers of an ending as having heard it.
    fn hear_end(&mut self, e: &Ended<u32>) -> Check {
        for s in &e.subscribers {
            let sub = self.subs.get_mut(s).expect("a known subscriber");
            prop_assert_eq!(sub.job, e.job, "an ending of another job");
            prop_assert_eq!(sub.ended, 0, "subscriber {} heard a second ending", s);
            sub.ended += 1;
            // Its own terms: a timeout only once its own deadline came, an
            // end by errors in a row only with a limit of its own.
            if matches!(e.result, Err(PollError::Timeout | PollError::TimeoutHeld)) {
                prop_assert!(self.now >= sub.deadline, "{} timed out early", s);
            }
            if matches!(e.result, Err(PollError::Server(_) | PollError::Network)) {
                prop_assert!(sub.errors.is_some(), "{} ended by errors, no limit", s);
            }
        }
        Ok(())
    }

    /// The job has left the table: what the executor holds goes.
    fn release(&mut self, job: JobId) -> Check {
        let info = self.jobs.get_mut(&job).expect("a known job");
        prop_assert!(info.live, "job {:?} ended twice", job);
        info.live = false;
        self.in_flight.remove(&job);
        self.streams.remove(&job);
        Ok(())
    }

    fn execute(&mut self, step: Step<u32>) -> Check {
        match step {
            Step::Act { job, action } => {
                let live = self.jobs.get(&job).is_some_and(|j| j.live);
                prop_assert!(
                    live && self.table.contains(job),
                    "{:?} for a gone job",
                    action
                );
                for s in self.table.subscribers(job).unwrap() {
                    prop_assert_eq!(self.subs[s].ended, 0, "heard {:?} after its end", action);
                }
                match action {
                    Action::SendRequest => {
                        prop_assert!(self.in_flight.insert(job), "two requests out for one job");
                        self.requests += 1;
                        let info = &self.jobs[&job];
                        prop_assert!(!self.offline, "a request while offline");
                        if self.gap_check {
                            let gap = self.now - info.last_sent;
                            prop_assert!(gap <= MAX_GAP, "{:?} polled after {} ms", job, gap);
                        }
                        // Checkers have gates of their own, and no cap.
                        if info.kind != Kind::Check {
                            let until = self.cooldown.get(&info.gate).copied().unwrap_or(0);
                            prop_assert!(self.now >= until, "sent in a cooldown until {}", until);
                            let out = (self.in_flight.iter())
                                .filter(|j| self.jobs[*j].kind != Kind::Check)
                                .filter(|j| self.jobs[*j].gate == info.gate)
                                .count();
                            prop_assert!(out as u32 <= self.cap, "{} requests out at once", out);
                        }
                        self.jobs.get_mut(&job).unwrap().last_sent = self.now;
                    }
                    Action::CancelRequest => {
                        self.in_flight.remove(&job);
                    }
                    Action::OpenStream => {
                        prop_assert!(self.streams.insert(job), "two streams for one job");
                        prop_assert!(self.streams.len() as u32 <= self.max_streams);
                    }
                    Action::CloseStream(_) => {
                        self.streams.remove(&job);
                    }
                    Action::Progress(p) => {
                        let info = self.jobs.get_mut(&job).unwrap();
                        prop_assert!(p.attempt >= info.attempt, "attempts went back");
                        prop_assert!(p.elapsed_time >= info.elapsed, "elapsed time went back");
                        info.attempt = p.attempt;
                        info.elapsed = p.elapsed_time;
                    }
                    Action::ArmTimer { .. } | Action::Complete { .. } | Action::Fail(_) => {
                        prop_assert!(false, "the table hands out {:?}", action);
                    }
                    _ => {}
                }
            }
            Step::Left(e) => {
                prop_assert!(e.result.is_err(), "a subscriber left with a success");
                prop_assert!(e.result != Err(PollError::Stopped));
                // Not asserted: the job goes on. Subscribers whose deadlines
                // fall together leave one by one, and the last one's leave
                // ends the job before the others' `Left` is handed out.
                if let Some(subs) = self.table.subscribers(e.job) {
                    prop_assert!(e.subscribers.iter().all(|s| !subs.contains(s)));
                }
                self.hear_end(&e)?;
            }
            Step::Finished(e) => {
                prop_assert!(!self.table.contains(e.job), "finished but in the table");
                prop_assert!(e.outcome.is_some(), "a job's own end has an outcome");
                prop_assert!(e.result != Err(PollError::Stopped));
                let info = &self.jobs[&e.job];
                prop_assert_eq!((e.kind, e.id.as_str()), (info.kind, info.id));
                if let Ok(url) = &e.result {
                    let said = url.as_deref().is_some_and(|u| info.urls.contains(&u));
                    prop_assert!(said, "completed with {:?}, heard {:?}", url, info.urls);
                }
                prop_assert!(e.progress.attempt >= info.attempt);
                self.outcomes += 1;
                self.release(e.job)?;
                self.hear_end(&e)?;
            }
        }
        Ok(())
    }

    fn drain(&mut self) -> Check {
        while let Some(step) = self.table.poll() {
            self.execute(step)?;
            if let Some(op) = self.inside.pop() {
                self.run_op(op, true)?;
            }
        }
        Ok(())
    }

    /// The table's timer fires at `now`, turn after turn while more is due.
    fn fire(&mut self) -> Check {
        for _ in 0..100 {
            let more = self.table.on_timer(self.now);
            self.drain()?;
            let due = self.table.next_wake().is_some_and(|w| w <= self.now);
            if !more && !due {
                return Ok(());
            }
        }
        prop_assert!(false, "a busy loop at {}", self.now);
        Ok(())
    }

    /// The clock runs to `to`, firing the timer at each wake-up on the way.
    fn advance(&mut self, to: u64) -> Check {
        while let Some(at) = self.table.next_wake().filter(|at| *at <= to) {
            self.now = self.now.max(at);
            self.fire()?;
        }
        self.now = self.now.max(to);
        Ok(())
    }

    fn pick(&self, i: usize, from: &BTreeSet<JobId>) -> Option<JobId> {
        (!from.is_empty()).then(|| *from.iter().nth(i % from.len()).unwrap())
    }

    fn feed(&mut self, job: JobId, input: Input) -> Check {
        let url = match &input {
            Input::Response(Reply::Record {
                state: State::Complete { .. },
                ..
            }) => Some(IMAGE),
            Input::StreamMessage(StreamEvent::Result(_)) => Some(VIDEO),
            _ => None,
        };
        self.jobs.get_mut(&job).unwrap().urls.extend(url);
        self.table.handle(self.now, job, input);
        self.drain()
    }

    fn stopped(&mut self, ended: Vec<Ended<u32>>) -> Check {
        for e in ended {
            // An end queued before a stop of all comes back with it, as it was.
            self.outcomes += u32::from(e.outcome.is_some());
            if self.jobs[&e.job].live {
                self.release(e.job)?;
            }
            self.hear_end(&e)?;
        }
        Ok(())
    }

    fn apply(&mut self, op: Op) -> Check {
        self.run_op(op, false)?;
        self.check()
    }

    /// Runs `op`, from a callback while the queue is stepped through if
    /// `inside`.
    fn run_op(&mut self, op: Op, inside: bool) -> Check {
        match op {
            Op::Start(id, kind, origin, timeout, errors, stream, seed) => {
                let name = IDS[id];
                let gate = gate_key(kind, name, ["https://one", "https://two"][origin]);
                let cfg = config(timeout, errors, stream, seed);
                self.next_sub += 1;
                let sub = self.next_sub;
                let now = self.now;
                let job = self.table.start_at(now, kind, name, &gate, cfg, sub);
                let info = self.jobs.entry(job).or_insert(JobInfo {
                    kind,
                    id: name,
                    gate,
                    live: true,
                    urls: Vec::new(),
                    attempt: 0,
                    elapsed: 0,
                    last_sent: now,
                });
                prop_assert!(
                    info.live && (info.kind, info.id) == (kind, name),
                    "joined a gone job"
                );
                let deadline = now + timeout;
                self.subs.insert(
                    sub,
                    Sub {
                        job,
                        deadline,
                        errors,
                        ended: 0,
                    },
                );
                prop_assert!(inside || self.table.poll().is_none(), "a step inside start");
            }
            Op::Advance(ms) => self.advance(self.now + ms)?,
            Op::Answer(i, reply) => {
                if let Some(job) = self.pick(i, &self.in_flight) {
                    self.in_flight.remove(&job);
                    let limited = match reply {
                        Reply::Status {
                            status: 429,
                            retry_after,
                        } => Some(retry_after),
                        _ => None,
                    };
                    self.feed(job, Input::Response(reply))?;
                    // Every job of the origin waits as asked (at most
                    // `maxRetryAfter`; `rateLimitDelay` without a word),
                    // even when the 429 was the job's last answer.
                    if let Some(retry_after) = limited {
                        let until = self.now + retry_after.map_or(5_000, |r| r.min(5_000));
                        let gate = self.jobs[&job].gate.clone();
                        let c = self.cooldown.entry(gate).or_default();
                        *c = (*c).max(until);
                    }
                }
            }
            Op::Fail(i) => {
                if let Some(job) = self.pick(i, &self.in_flight) {
                    self.in_flight.remove(&job);
                    self.feed(job, Input::RequestFailed(PollError::Network))?;
                }
            }
            Op::Stream(i, input) => {
                if let Some(job) = self.pick(i, &self.streams) {
                    if input == Input::StreamFailed {
                        self.streams.remove(&job);
                    }
                    self.feed(job, input)?;
                }
            }
            Op::Stop(i, kind) => {
                let ended = self.table.stop(self.now, kind, IDS[i]);
                if let Some(e) = &ended {
                    prop_assert_eq!(&e.result, &Err(PollError::Stopped));
                    prop_assert!(e.outcome.is_none(), "a stop is not an outcome");
                }
                self.stopped(ended.into_iter().collect())?;
                prop_assert!(inside || self.table.poll().is_none(), "a step after a stop");
            }
            Op::StopAll => {
                let ended = self.table.stop_all(self.now);
                self.stopped(ended)?;
                prop_assert!(self.live().next().is_none(), "a job outlived stop_all");
                prop_assert!(self.table.poll().is_none(), "a step after stop_all");
            }
            Op::Nudge => {
                self.table.nudge_all(self.now);
                self.drain()?;
            }
            Op::Online(on) => {
                self.table.set_online(self.now, on);
                self.offline = !on;
                self.drain()?;
            }
            Op::Inside(op) => self.inside.push(*op),
        }
        Ok(())
    }

    /// The table's own account agrees with what the page saw.
    fn check(&mut self) -> Check {
        let live: Vec<(JobId, Kind, &str)> = self.live().map(|(j, i)| (*j, i.kind, i.id)).collect();
        prop_assert_eq!(self.table.len(), live.len());
        // A checker's id is only a name: any non-empty one polls.
        let valid = |kind: &Kind, id: &str| *kind == Kind::Check || id != "bad id";
        let polling = live.iter().filter(|(_, k, id)| valid(k, id)).count();
        prop_assert_eq!(self.table.polling(), polling);
        prop_assert_eq!(self.table.statuses(self.now).len(), polling);
        for (job, kind, id) in &live {
            prop_assert_eq!(self.table.find(*kind, id), Some(*job));
            let mut want: Vec<u32> = (self.subs.iter())
                .filter(|(_, s)| s.job == *job && s.ended == 0)
                .map(|(n, _)| *n)
                .collect();
            let mut have = self.table.subscribers(*job).unwrap().to_vec();
            want.sort_unstable();
            have.sort_unstable();
            prop_assert_eq!(have, want, "the subscribers of {:?}", job);
        }
        for (n, s) in &self.subs {
            if s.ended == 0 {
                prop_assert!(
                    self.now < s.deadline,
                    "subscriber {} waits past its deadline",
                    n
                );
            }
        }
        // Each origin's gate counts what its jobs hold: requests out, streams.
        prop_assert_eq!(self.table.gate_counts_disagree(), None);
        prop_assert_eq!(self.table.metrics().total_requests(), self.requests);
        prop_assert_eq!(self.table.metrics().finished(), self.outcomes);
        if !self.table.is_empty() {
            prop_assert!(self.table.next_wake().is_some(), "live jobs and no wake-up");
        }
        Ok(())
    }

    /// Back online, every stream failed, and a server that answers every
    /// request "pending" after 50 ms: every job keeps polling until its
    /// subscribers' deadlines end it, and each subscriber hears one ending.
    fn finish(&mut self) -> Check {
        for op in std::mem::take(&mut self.inside) {
            self.apply(op)?;
        }
        self.table.set_online(self.now, true);
        self.offline = false;
        self.drain()?;
        for job in std::mem::take(&mut self.streams) {
            self.feed(job, Input::StreamFailed)?;
        }
        self.gap_check = true;
        let now = self.now;
        for j in self.jobs.values_mut() {
            j.last_sent = j.last_sent.max(now);
        }
        let end = self.subs.values().map(|s| s.deadline).max().unwrap_or(0);
        let mut sent: HashMap<JobId, u64> = HashMap::new();
        while self.now <= end {
            for job in self.in_flight.clone() {
                let at = *sent.entry(job).or_insert(self.now);
                if at + 50 <= self.now {
                    sent.remove(&job);
                    self.in_flight.remove(&job);
                    self.feed(job, Input::Response(record(State::Pending, 1)))?;
                }
            }
            sent.retain(|j, _| self.in_flight.contains(j));
            for job in &self.in_flight {
                sent.entry(*job).or_insert(self.now);
            }
            let answer = sent.values().map(|t| t + 50).min();
            let next = self.table.next_wake().into_iter().chain(answer).min();
            let Some(next) = next else { break };
            self.advance(next.max(self.now))?;
            self.check()?;
        }
        prop_assert!(self.table.is_empty(), "jobs outlived every deadline");
        for (n, s) in &self.subs {
            prop_assert_eq!(s.ended, 1, "subscriber {} heard {} endings", n, s.ended);
        }
        Ok(())
    }
}

fn run(cap: u32, max_streams: u32, ops: Vec<Op>) -> Check {
    let mut sim = Sim::new(cap, max_streams);
    for op in ops {
        sim.apply(op)?;
    }
    sim.finish()
}

proptest! {
    #![proptest_config(PropConfig { cases: 400, failure_persistence: None, ..PropConfig::default() })]

    #[test]
    fn table_invariants(
        cap in 1u32..4,
        max_streams in 0u32..3,
        ops in prop::collection::vec(op(), 1..80),
    ) {
        run(cap, max_streams, ops)?;
    }
}
