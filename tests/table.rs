//! The manager's job table driven by a fake browser and a fake clock:
//! deduplication and joining, generations, one timer for every job, the turn
//! bound, the stream cap, stops, metrics and statuses, and the re-entrant
//! calls the browser layer makes while it steps through the queue. Asserted
//! as requests made, steps emitted and times waited.

use std::collections::{BTreeSet, HashMap, VecDeque};

use smart_polling::core::job::{Action, Input, Reply};
use smart_polling::core::record::State;
use smart_polling::core::schedule::{Intervals, Jitter};
use smart_polling::core::stream::StreamEvent;
use smart_polling::core::table::{Ended, JobId, Kind, Step, Table, TURN};
use smart_polling::{Channel, Config, PollError};

type Sub = &'static str;
/// What the fake browser keeps per job: the name of every step it executed.
type Res = Vec<&'static str>;

/// One step as the browser saw it, for order assertions.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Act(JobId, &'static str),
    Left(JobId),
    Finished(JobId),
}

fn name(a: &Action) -> &'static str {
    match a {
        Action::SendRequest => "send",
        Action::CancelRequest => "cancel",
        Action::ArmTimer { .. } => "arm",
        Action::OpenStream => "open",
        Action::CloseStream => "close",
        Action::Update => "update",
        Action::Progress(_) => "progress",
        Action::Retry { .. } => "retry",
        Action::Complete { .. } => "complete",
        Action::Fail(_) => "fail",
    }
}

/// Polling only, no jitter, one wait of 1 s repeated: exact times.
fn polling() -> Config {
    Config {
        intervals: Intervals::new(vec![1000]).unwrap(),
        jitter: Jitter::None,
        use_stream: false,
        request_timeout: 5000,
        timeout: 60_000,
        ..Config::default()
    }
}

fn every(ms: u64) -> Config {
    Config {
        intervals: Intervals::new(vec![ms]).unwrap(),
        ..polling()
    }
}

fn streaming() -> Config {
    Config {
        use_stream: true,
        sse_connect_timeout: 2000,
        stream_poll_interval: 0,
        ..polling()
    }
}

fn pending() -> Reply {
    Reply::Record {
        state: State::Pending,
        fingerprint: 1,
    }
}

fn done(url: &str) -> Reply {
    Reply::Record {
        state: State::Complete {
            url: Some(url.into()),
        },
        fingerprint: 2,
    }
}

fn status(status: u16) -> Reply {
    Reply::Status {
        status,
        retry_after: None,
    }
}

/// A fake browser: one timer for the table, a request and a stream per job,
/// scripted replies, and a log of every step with its time.
struct Browser {
    table: Table<Sub, Res>,
    now: u64,
    log: Vec<(u64, JobId, Action)>,
    seen: Vec<Seen>,
    ended: Vec<(u64, Ended<Sub, Res>)>,
    in_flight: BTreeSet<JobId>,
    streams: BTreeSet<JobId>,
    script: HashMap<JobId, VecDeque<Reply>>,
    /// Times the table's timer fired.
    turns: Vec<u64>,
}

impl Browser {
    fn new(max_streams: u32) -> Self {
        Self {
            table: Table::new(max_streams),
            now: 0,
            log: Vec::new(),
            seen: Vec::new(),
            ended: Vec::new(),
            in_flight: BTreeSet::new(),
            streams: BTreeSet::new(),
            script: HashMap::new(),
            turns: Vec::new(),
        }
    }

    fn start(&mut self, kind: Kind, id: &str, sub: Sub) -> JobId {
        self.start_with(kind, id, polling(), sub)
    }

    fn start_with(&mut self, kind: Kind, id: &str, cfg: Config, sub: Sub) -> JobId {
        self.table.start(self.now, kind, id, cfg, sub)
    }

    fn script(&mut self, job: JobId, replies: impl IntoIterator<Item = Reply>) {
        self.script.entry(job).or_default().extend(replies);
    }

    /// Executes one step the way the browser layer does.
    fn execute(&mut self, step: Step<Sub, Res>) -> Seen {
        let seen = match step {
            Step::Act { job, action } => {
                match &action {
                    Action::SendRequest => {
                        assert!(self.in_flight.insert(job), "two requests in flight")
                    }
                    Action::CancelRequest => {
                        self.in_flight.remove(&job);
                    }
                    Action::OpenStream => assert!(self.streams.insert(job), "two streams"),
                    Action::CloseStream => {
                        self.streams.remove(&job);
                    }
                    Action::ArmTimer { .. } => panic!("the table keeps the timers"),
                    Action::Complete { .. } | Action::Fail(_) => {
                        panic!("terminal actions come as Finished")
                    }
                    _ => {}
                }
                let res = self
                    .table
                    .resources(job)
                    .expect("a step for a job that is not in the table");
                res.push(name(&action));
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
                let job = e.job;
                self.ended.push((self.now, e));
                Seen::Finished(job)
            }
        };
        self.seen.push(seen.clone());
        seen
    }

    /// Polls and executes one step.
    fn step(&mut self) -> Option<Seen> {
        let step = self.table.poll()?;
        Some(self.execute(step))
    }

    /// Executes every queued step.
    fn drain(&mut self) -> Vec<Seen> {
        let mut out = Vec::new();
        while let Some(s) = self.step() {
            out.push(s);
        }
        out
    }

    /// The table's timer fires at `now`: turns until nothing more is due.
    fn fire(&mut self) -> Vec<Seen> {
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

    fn respond(&mut self, job: JobId, reply: Reply) -> Vec<Seen> {
        assert!(self.in_flight.remove(&job), "no request to answer");
        self.table.handle(self.now, job, Input::Response(reply));
        self.drain()
    }

    fn feed(&mut self, job: JobId, input: Input) -> Vec<Seen> {
        self.table.handle(self.now, job, input);
        self.drain()
    }

    /// Answers the requests in flight that have a scripted reply; true if any.
    fn answer(&mut self) -> bool {
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
    fn run_until(&mut self, limit: u64) {
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

    /// Times at which `job` sent requests.
    fn requests(&self, job: JobId) -> Vec<u64> {
        self.log
            .iter()
            .filter(|(_, j, a)| *j == job && *a == Action::SendRequest)
            .map(|(t, _, _)| *t)
            .collect()
    }

    /// Names of the steps executed for `job`.
    fn acts(&self, job: JobId) -> Vec<&'static str> {
        self.log
            .iter()
            .filter(|(_, j, _)| *j == job)
            .map(|(_, _, a)| name(a))
            .collect()
    }

    fn count(&self, job: JobId, what: &str) -> usize {
        self.acts(job).iter().filter(|a| **a == what).count()
    }

    fn ended(&self, job: JobId) -> &Ended<Sub, Res> {
        let mut it = self.ended.iter().filter(|(_, e)| e.job == job);
        let (_, e) = it.next().expect("the job ended");
        assert!(it.next().is_none(), "a job ended twice");
        e
    }

    fn ended_at(&self, job: JobId) -> u64 {
        self.ended.iter().find(|(_, e)| e.job == job).unwrap().0
    }

    fn has_ended(&self, job: JobId) -> bool {
        self.ended.iter().any(|(_, e)| e.job == job)
    }
}

// 1. Deduplication and joining.

#[test]
fn a_second_start_joins_the_running_job() {
    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "abc", "first");
    assert_eq!(b.start(Kind::File, "abc", "second"), a);
    assert_eq!(b.table.len(), 1);
    assert_eq!(b.table.find(Kind::File, "abc"), Some(a));
    assert_eq!(b.table.subscribers(a), Some(&["first", "second"][..]));

    b.script(a, [pending(), pending(), done("https://cdn/a.png")]);
    b.run_until(1500);
    assert_eq!(b.requests(a), vec![0, 1000], "one request stream");

    // A caller joining a job under way adds no request either.
    assert_eq!(b.start(Kind::File, "abc", "late"), a);
    assert_eq!(b.table.len(), 1);
    b.run_until(20_000);
    assert_eq!(b.requests(a), vec![0, 1000, 2000]);

    let e = b.ended(a);
    assert_eq!(e.result, Ok(Some("https://cdn/a.png".into())));
    assert_eq!(e.subscribers, vec!["first", "second", "late"]);
    assert_eq!((e.kind, e.id.as_str()), (Kind::File, "abc"));
    assert_eq!(b.ended_at(a), 2000);
    assert!(b.table.is_empty());
}

#[test]
fn the_same_id_as_file_and_as_project_is_two_jobs() {
    let mut b = Browser::new(0);
    let f = b.start(Kind::File, "abc", "file");
    let p = b.start(Kind::Project, "abc", "project");
    assert_ne!(f, p);
    assert_eq!(b.table.len(), 2);
    assert_eq!(b.table.key(f), Some((Kind::File, "abc")));
    assert_eq!(b.table.key(p), Some((Kind::Project, "abc")));
    assert_eq!(b.table.find(Kind::Project, "abc"), Some(p));

    b.script(f, [pending(), done("https://cdn/f.png")]);
    b.script(
        p,
        [Reply::Record {
            state: State::Complete { url: None },
            fingerprint: 5,
        }],
    );
    b.run_until(20_000);
    assert_eq!(b.requests(f), vec![0, 1000]);
    assert_eq!(b.requests(p), vec![0]);
    assert_eq!(b.ended(f).subscribers, vec!["file"]);
    assert_eq!(b.ended(p).subscribers, vec!["project"]);
    assert_eq!(b.ended(p).result, Ok(None));
    assert_eq!(b.ended(p).kind, Kind::Project);
}

// 2. Nothing happens inside `start`.

#[test]
fn no_step_before_the_first_timer_turn() {
    let mut b = Browser::new(0);
    b.now = 500;
    let a = b.start(Kind::File, "a1", "s");
    assert!(b.table.poll().is_none(), "start runs no step");
    assert_eq!(b.start(Kind::File, "a1", "t"), a);
    assert!(b.table.poll().is_none(), "nor does joining");
    assert_eq!(b.table.next_wake(), Some(500), "due at once");
    assert_eq!(b.table.job(a).unwrap().progress(500).attempt, 0);

    assert!(!b.table.on_timer(499));
    assert!(b.table.poll().is_none(), "not due before its time");

    let out = b.fire();
    assert_eq!(out, vec![Seen::Act(a, "send"), Seen::Act(a, "progress")]);
    assert_eq!(b.requests(a), vec![500]);
    match &b.log[1].2 {
        Action::Progress(p) => {
            assert_eq!(p.attempt, 1);
            assert_eq!(p.elapsed_time, 0);
        }
        other => panic!("{other:?}"),
    }
    // The request now bounds the wake: its timeout.
    assert_eq!(b.table.next_wake(), Some(5500));
}

// 3. Generations.

#[test]
fn a_restarted_id_is_a_new_generation_and_late_events_are_ignored() {
    let mut b = Browser::new(0);
    let old = b.start(Kind::File, "gen", "s1");
    b.script(old, [done("https://cdn/1.png")]);
    b.run_until(0);
    assert_eq!(b.ended(old).result, Ok(Some("https://cdn/1.png".into())));
    assert!(!b.table.contains(old));
    assert!(b.table.resources(old).is_none());
    assert!(b.table.subscribers(old).is_none());
    assert!(b.table.key(old).is_none());
    assert!(b.table.job(old).is_none());
    assert_eq!(b.table.find(Kind::File, "gen"), None);

    b.now = 100;
    let new = b.start(Kind::File, "gen", "s2");
    assert_ne!(new, old);
    assert_eq!(
        b.table.resources(new),
        Some(&mut Vec::new()),
        "fresh resources"
    );
    b.fire();
    assert_eq!(b.requests(new), vec![100]);

    // Late events for the old generation: a response, a stream failure, a
    // timer, a stop by handle. None reaches the new job.
    for input in [
        Input::Response(done("https://cdn/stale.png")),
        Input::Response(status(403)),
        Input::StreamFailed,
        Input::Timer,
        Input::Stop,
    ] {
        b.table.handle(100, old, input);
        assert!(b.table.poll().is_none());
    }
    assert!(b.table.resources(old).is_none());
    assert!(b.table.contains(new));
    assert_eq!(b.table.job(new).unwrap().progress(100).attempt, 1);
    assert!(!b.table.job(new).unwrap().is_finished());

    // The new job's own request is still the one in flight.
    b.respond(new, pending());
    b.script(new, [done("https://cdn/2.png")]);
    b.run_until(10_000);
    assert_eq!(b.requests(new), vec![100, 1100]);
    let e = b.ended(new);
    assert_eq!(e.result, Ok(Some("https://cdn/2.png".into())));
    assert_eq!(e.subscribers, vec!["s2"]);
    assert_eq!(
        e.resources,
        vec!["send", "progress", "update", "progress", "send", "progress", "update"]
    );
}

// 4. One timer for every job.

#[test]
fn next_wake_is_the_earliest_over_all_jobs() {
    let mut b = Browser::new(0);
    assert_eq!(b.table.next_wake(), None, "empty table");
    let a = b.start_with(Kind::File, "a", every(1000), "a");
    let c = b.start_with(Kind::File, "c", every(3000), "c");
    b.fire();
    assert_eq!(b.requests(a), vec![0]);
    assert_eq!(b.requests(c), vec![0]);
    assert_eq!(b.table.next_wake(), Some(5000), "both request timeouts");

    b.respond(a, pending());
    assert_eq!(b.table.next_wake(), Some(1000), "a re-armed earlier");
    b.respond(c, pending());
    assert_eq!(b.table.next_wake(), Some(1000));

    b.now = 1000;
    let out = b.fire();
    assert_eq!(out, vec![Seen::Act(a, "send"), Seen::Act(a, "progress")]);
    // a waits for its request (timeout at 6000), c for its next poll (3000).
    assert_eq!(b.table.next_wake(), Some(3000));

    // c stopped: its wake is stale. a's first wake (5000) is stale too, as
    // a re-armed since.
    assert!(b.table.stop(1000, Kind::File, "c").is_some());
    assert_eq!(b.table.next_wake(), Some(6000));

    b.table.stop(1000, Kind::File, "a").unwrap();
    assert_eq!(b.table.next_wake(), None);
    assert!(b.table.is_empty());
}

#[test]
fn stale_wakes_fire_nothing() {
    let mut b = Browser::new(0);
    let a = b.start_with(Kind::File, "a", every(10_000), "a");
    let gone = b.start(Kind::File, "gone", "g");
    b.fire();
    assert_eq!(b.table.next_wake(), Some(5000), "both request timeouts");
    b.respond(a, pending()); // a: wake 5000 -> 10 000
    b.table.stop(0, Kind::File, "gone").unwrap(); // its wake at 5000 is stale
    b.in_flight.remove(&gone);

    // The timer fires at 5000 (say the browser armed it before): both
    // wakes there are stale, and nothing runs.
    b.now = 5000;
    assert!(!b.table.on_timer(5000));
    assert!(b.table.poll().is_none());
    assert_eq!(b.requests(a), vec![0]);
    assert_eq!(b.table.next_wake(), Some(10_000));

    b.script(a, [pending()]);
    b.run_until(10_000);
    assert_eq!(b.requests(a), vec![0, 10_000]);
    assert_eq!(b.requests(gone), vec![0]);
    assert_eq!(b.turns, vec![0, 10_000], "the browser's own turns");
}

#[test]
fn requests_of_many_jobs_follow_each_schedule() {
    let mut b = Browser::new(0);
    let fast = b.start_with(Kind::File, "fast", every(1000), "f");
    let slow = b.start_with(Kind::Project, "slow", every(2500), "s");
    b.script(fast, std::iter::repeat_n(pending(), 5));
    b.script(slow, std::iter::repeat_n(pending(), 3));
    b.run_until(5000);
    assert_eq!(b.requests(fast), vec![0, 1000, 2000, 3000, 4000, 5000]);
    assert_eq!(b.requests(slow), vec![0, 2500, 5000]);
    // One timer: it fired at each distinct due time, not once per job.
    assert_eq!(b.turns, vec![0, 1000, 2000, 2500, 3000, 4000, 5000]);
}

// 5. The turn bound.

#[test]
fn a_timer_turn_handles_at_most_turn_jobs() {
    let mut b = Browser::new(0);
    let jobs: Vec<JobId> = (0..TURN + 10)
        .map(|i| {
            let id = format!("j{i}");
            b.start(Kind::File, &id, "s")
        })
        .collect();
    assert!(b.table.on_timer(0), "more are due");
    b.drain();
    let sent: Vec<JobId> = jobs
        .iter()
        .copied()
        .filter(|j| b.requests(*j) == [0])
        .collect();
    assert_eq!(sent.len(), TURN);
    assert_eq!(sent, jobs[..TURN], "in order of their wakes");
    assert_eq!(b.table.next_wake(), Some(0), "the rest are still due");

    assert!(!b.table.on_timer(0));
    b.drain();
    assert!(jobs.iter().all(|j| b.requests(*j) == [0]));
    assert_eq!(b.count(jobs[0], "send"), 1);
    assert_eq!(b.table.next_wake(), Some(5000));
}

#[test]
fn exactly_turn_jobs_due_fit_in_one_turn() {
    let mut b = Browser::new(0);
    let jobs: Vec<JobId> = (0..TURN)
        .map(|i| b.start(Kind::Project, &format!("p{i}"), "s"))
        .collect();
    assert!(!b.table.on_timer(0));
    b.drain();
    assert!(jobs.iter().all(|j| b.requests(*j) == [0]));
}

// 6. The stream cap.

#[test]
fn the_stream_cap_is_freed_by_a_fallback_or_an_end() {
    let mut b = Browser::new(2);
    let s1 = b.start_with(Kind::File, "s1", streaming(), "1");
    let s2 = b.start_with(Kind::File, "s2", streaming(), "2");
    let s3 = b.start_with(Kind::File, "s3", streaming(), "3");
    b.fire();
    assert_eq!(b.acts(s1), vec!["open", "progress"]);
    assert_eq!(b.acts(s2), vec!["open", "progress"]);
    assert_eq!(b.acts(s3), vec!["send", "progress"], "over the cap: polls");
    assert!(!b.table.job(s3).unwrap().config().use_stream);

    // s1's stream fails: it polls, and its slot is free.
    b.now = 100;
    assert_eq!(
        b.feed(s1, Input::StreamFailed),
        vec![
            Seen::Act(s1, "close"),
            Seen::Act(s1, "send"),
            Seen::Act(s1, "progress")
        ]
    );
    let s4 = b.start_with(Kind::File, "s4", streaming(), "4");
    let s5 = b.start_with(Kind::File, "s5", streaming(), "5");
    b.fire();
    assert_eq!(b.acts(s4), vec!["open", "progress"]);
    assert_eq!(b.acts(s5), vec!["send", "progress"]);

    // s2 completes on its stream: its slot is free again.
    b.now = 200;
    let out = b.feed(
        s2,
        Input::StreamMessage(StreamEvent::Result("https://cdn/2.mp4".into())),
    );
    assert_eq!(out, vec![Seen::Act(s2, "close"), Seen::Finished(s2)]);
    assert_eq!(b.ended(s2).result, Ok(Some("https://cdn/2.mp4".into())));
    let s6 = b.start_with(Kind::File, "s6", streaming(), "6");
    let s7 = b.start_with(Kind::File, "s7", streaming(), "7");
    b.fire();
    assert_eq!(b.acts(s6), vec!["open", "progress"]);
    assert_eq!(b.acts(s7), vec!["send", "progress"]);
    assert_eq!(b.streams, [s4, s6].into_iter().collect());
}

#[test]
fn the_stream_cap_is_freed_by_a_connect_timeout_or_a_stop() {
    let mut b = Browser::new(1);
    let a = b.start_with(Kind::File, "a", streaming(), "a");
    b.fire();
    assert_eq!(b.acts(a), vec!["open", "progress"]);
    assert_eq!(b.table.next_wake(), Some(2000), "the connect timeout");

    // The stream never opens: the table's timer makes it fall back.
    b.now = 2000;
    b.fire();
    assert_eq!(
        b.acts(a),
        vec!["open", "progress", "close", "send", "progress"]
    );
    let c = b.start_with(Kind::File, "c", streaming(), "c");
    b.fire();
    assert_eq!(b.acts(c), vec!["open", "progress"]);

    // Stopping the job that holds the slot frees it.
    let e = b.table.stop(2000, Kind::File, "c").unwrap();
    assert_eq!(e.result, Err(PollError::Stopped));
    b.streams.remove(&c); // the browser drops the resources
    let d = b.start_with(Kind::Project, "d", streaming(), "d");
    b.fire();
    assert_eq!(b.acts(d), vec!["open", "progress"]);
    assert!(b.table.job(d).unwrap().config().use_stream);
}

#[test]
fn an_invalid_id_takes_no_stream_slot() {
    let mut b = Browser::new(1);
    let bad = b.start_with(Kind::File, "../x", streaming(), "bad");
    let good = b.start_with(Kind::File, "good", streaming(), "good");
    b.fire();
    assert_eq!(b.acts(bad), Vec::<&str>::new());
    assert_eq!(b.ended(bad).result, Err(PollError::InvalidId));
    assert_eq!(b.acts(good), vec!["open", "progress"]);
}

#[test]
fn a_cap_of_zero_means_polling_only() {
    let mut b = Browser::new(0);
    let a = b.start_with(Kind::File, "a", streaming(), "a");
    b.fire();
    assert_eq!(b.acts(a), vec!["send", "progress"]);
}

// 7. Stop.

#[test]
fn stop_removes_the_job_at_once_and_drops_its_queued_steps() {
    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "a", "a1");
    assert_eq!(b.start(Kind::File, "a", "a2"), a);
    let c = b.start(Kind::File, "c", "c");
    b.table.resources(a).unwrap().push("mine");

    // A turn queues both jobs' steps; a is stopped before any is executed.
    assert!(!b.table.on_timer(0));
    b.now = 10;
    let e = b.table.stop(10, Kind::File, "a").expect("a was running");
    assert_eq!(e.job, a);
    assert_eq!((e.kind, e.id.as_str()), (Kind::File, "a"));
    assert_eq!(e.result, Err(PollError::Stopped));
    assert_eq!(e.outcome, None);
    assert_eq!(e.subscribers, vec!["a1", "a2"]);
    assert_eq!(e.resources, vec!["mine"]);
    assert_eq!(e.progress.attempt, 1);
    assert_eq!(e.progress.elapsed_time, 10);
    assert_eq!(e.progress.next_poll_in, None);

    assert!(!b.table.contains(a));
    assert_eq!(b.table.find(Kind::File, "a"), None);
    assert_eq!(
        b.drain(),
        vec![Seen::Act(c, "send"), Seen::Act(c, "progress")]
    );
    assert!(b.acts(a).is_empty(), "no step of a stopped job");
    assert_eq!(
        b.table.metrics().total_requests(),
        1,
        "a's request never went"
    );
    assert_eq!(b.table.metrics().finished(), 0);

    // Stopping again, or an unknown job, is nothing.
    assert!(b.table.stop(10, Kind::File, "a").is_none());
    assert!(b.table.stop(10, Kind::Project, "c").is_none());
    assert_eq!(b.table.len(), 1);

    // The id is free: a new start is a new job.
    let a2 = b.start(Kind::File, "a", "again");
    assert_ne!(a2, a);
}

#[test]
fn a_stopped_job_hears_nothing_more() {
    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "a", "a");
    b.fire();
    b.respond(a, pending());
    let e = b.table.stop(500, Kind::File, "a").unwrap();
    assert_eq!(e.resources, vec!["send", "progress", "update", "progress"]);
    // Its timer at 1000 and a late response find nothing.
    b.run_until(10_000);
    b.table.handle(10_000, a, Input::Response(pending()));
    b.table.nudge_all(10_000);
    assert!(b.table.poll().is_none());
    assert_eq!(b.requests(a), vec![0]);
    assert!(b.ended.is_empty(), "a stop is not a Finished step");
}

#[test]
fn stop_all_empties_the_table() {
    let mut b = Browser::new(1);
    let a = b.start(Kind::File, "a", "a");
    let s = b.start_with(Kind::File, "s", streaming(), "s");
    b.fire();
    let p = b.start(Kind::Project, "p", "p"); // not started yet
    b.respond(a, pending());

    let all = b.table.stop_all(700);
    let ids: Vec<JobId> = all.iter().map(|e| e.job).collect();
    assert_eq!(ids, vec![a, s, p], "oldest first");
    assert!(all.iter().all(|e| e.result == Err(PollError::Stopped)));
    assert!(all.iter().all(|e| e.outcome.is_none()));
    assert_eq!(all[2].progress.elapsed_time, 0, "p never started");
    assert_eq!(all[0].progress.elapsed_time, 700);
    assert!(b.table.is_empty());
    assert_eq!(b.table.len(), 0);
    assert_eq!(b.table.next_wake(), None);
    assert!(b.table.poll().is_none());
    assert!(b.table.statuses(700).is_empty());
    assert!(b.table.stop_all(700).is_empty());
    assert_eq!(b.table.metrics().finished(), 0);

    // The stream slot came back.
    b.in_flight.clear();
    b.streams.clear();
    b.now = 700;
    let t = b.start_with(Kind::File, "t", streaming(), "t");
    b.fire();
    assert_eq!(b.acts(t), vec!["open", "progress"]);
}

// 8. Invalid id.

#[test]
fn an_invalid_id_fails_at_the_first_turn_without_a_request() {
    let mut b = Browser::new(0);
    let bad = b.start(Kind::File, "../x", "s");
    assert_eq!(b.start(Kind::File, "../x", "t"), bad, "joined like any job");
    assert!(b.table.poll().is_none());
    let out = b.fire();
    assert_eq!(out, vec![Seen::Finished(bad)]);
    let e = b.ended(bad);
    assert_eq!(e.result, Err(PollError::InvalidId));
    assert_eq!(e.subscribers, vec!["s", "t"]);
    assert_eq!(e.id, "../x");
    assert_eq!(e.outcome.unwrap().attempts, 0);
    assert_eq!(b.table.metrics().total_requests(), 0);
    assert_eq!(b.table.metrics().error_distribution(), &[("invalid_id", 1)]);
    assert!(b.table.is_empty());
    assert_eq!(b.table.next_wake(), None);
}

// 9. Metrics.

#[test]
fn metrics_count_requests_and_finished_jobs_not_stopped_ones() {
    let mut b = Browser::new(0);
    let ok = b.start(Kind::File, "ok", "s");
    let bad = b.start(Kind::File, "bad", "s");
    let gone = b.start(Kind::File, "gone", "s");
    let timeout = b.start_with(
        Kind::Project,
        "slow",
        Config {
            timeout: 2500,
            ..polling()
        },
        "s",
    );
    b.script(ok, [pending(), pending(), done("https://cdn/ok.png")]);
    b.script(bad, [status(403)]);
    b.script(gone, [pending()]);
    b.script(timeout, std::iter::repeat_n(pending(), 10));
    b.run_until(1000);
    assert!(b.table.stop(1000, Kind::File, "gone").is_some());
    b.in_flight.remove(&gone);
    b.run_until(20_000);

    assert_eq!(b.requests(ok), vec![0, 1000, 2000]);
    assert_eq!(b.requests(bad), vec![0]);
    assert_eq!(b.requests(gone), vec![0, 1000]);
    assert_eq!(b.requests(timeout), vec![0, 1000, 2000]);
    assert_eq!(b.ended(bad).result, Err(PollError::Forbidden));
    assert_eq!(b.ended(timeout).result, Err(PollError::Timeout));
    assert_eq!(b.ended_at(timeout), 2500);

    let m = b.table.metrics();
    assert_eq!(
        m.total_requests(),
        9,
        "every request, the stopped job's too"
    );
    assert_eq!(m.finished(), 3, "the stopped job is not recorded");
    assert_eq!(m.success_rate(), 1.0 / 3.0);
    assert_eq!(m.average_completion_time(), Some(2000));
    assert_eq!(m.error_distribution(), &[("forbidden", 1), ("timeout", 1)]);
    assert_eq!(m.average_attempts(), (3.0 + 1.0 + 3.0) / 3.0);
    let r = m.report();
    assert_eq!(r.completed_jobs, 1, "successes only");
    assert_eq!(r.failed_jobs, 2);
    assert_eq!(r.total_requests, 9);
    assert_eq!(r.average_completion_time, 2000);
    let count = |kind: &str| {
        r.error_distribution
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, n)| *n)
    };
    assert_eq!(count("forbidden"), Some(1));
    assert_eq!(count("stopped"), None);

    // The outcome the table recorded is the one the Finished step carries.
    let o = b.ended(ok).outcome.unwrap();
    assert_eq!((o.error, o.duration, o.attempts), (None, 2000, 3));
    assert_eq!(b.ended(ok).progress.elapsed_time, 2000);
    assert_eq!(b.ended(ok).progress.channel, Channel::Polling);
}

#[test]
fn past_completions_give_new_jobs_an_eta() {
    let mut b = Browser::new(0);
    let first = b.start(Kind::File, "first", "s");
    assert_eq!(
        b.table
            .job(first)
            .unwrap()
            .progress(0)
            .estimated_time_remaining,
        None,
        "no history yet"
    );
    b.script(
        first,
        [pending(), pending(), pending(), done("https://cdn/1.png")],
    );
    b.run_until(10_000);
    assert_eq!(b.table.metrics().average_completion_time(), Some(3000));

    let next = b.start(Kind::File, "next", "s");
    b.fire();
    let statuses = b.table.statuses(11_000);
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].2.estimated_time_remaining, Some(2000));
    assert!(b.table.contains(next));
}

#[test]
fn a_finished_job_reports_no_time_remaining() {
    let mut b = Browser::new(0);
    let first = b.start(Kind::File, "first", "s");
    b.script(
        first,
        [pending(), pending(), pending(), done("https://cdn/1.png")],
    );
    b.run_until(10_000);
    assert_eq!(b.table.metrics().average_completion_time(), Some(3000));

    // The next job ends after 1 s; the typical job takes 3 s.
    let next = b.start(Kind::File, "next", "s");
    b.script(next, [pending(), done("https://cdn/2.png")]);
    b.run_until(20_000);
    let e = b.ended(next);
    assert_eq!(e.result, Ok(Some("https://cdn/2.png".into())));
    assert_eq!(e.progress.elapsed_time, 1000);
    // Today: Some(3000), computed as if the job had just started (elapsed 0
    // at time 0), and inconsistent with elapsed_time = 1000 beside it.
    assert!(
        matches!(e.progress.estimated_time_remaining, None | Some(0)),
        "{:?}",
        e.progress.estimated_time_remaining
    );
}

// 10. Statuses.

#[test]
fn statuses_list_running_jobs_oldest_first() {
    let mut b = Browser::new(0);
    assert!(b.table.statuses(0).is_empty());
    // Names in reverse order, so neither name nor hash order is start order.
    let names: Vec<String> = (0..20).rev().map(|i| format!("id{i:02}")).collect();
    let mut jobs = Vec::new();
    for (i, id) in names.iter().enumerate() {
        b.now = i as u64 * 10;
        let kind = if i % 2 == 0 {
            Kind::File
        } else {
            Kind::Project
        };
        jobs.push((kind, id.clone(), b.start(kind, id, "s")));
        b.fire();
    }
    b.now = 1000;
    let got: Vec<(Kind, String)> = b
        .table
        .statuses(1000)
        .into_iter()
        .map(|(k, id, _)| (k, id.to_owned()))
        .collect();
    let want: Vec<(Kind, String)> = jobs.iter().map(|(k, id, _)| (*k, id.clone())).collect();
    assert_eq!(got, want);

    let st = b.table.statuses(1000);
    assert_eq!(st[0].2.elapsed_time, 1000, "started at 0");
    assert_eq!(st[19].2.elapsed_time, 810, "started at 190");
    assert!(st.iter().all(|(_, _, p)| p.attempt == 1));

    // A stopped job and a finished one leave the list.
    let (k0, id0, _) = jobs[0].clone();
    b.table.stop(1000, k0, &id0).unwrap();
    let j5 = jobs[5].2;
    b.respond(j5, done("https://cdn/5.png"));
    let st = b.table.statuses(1000);
    assert_eq!(st.len(), 18);
    assert_eq!(st[0].1, jobs[1].1);
    assert!(st.iter().all(|(_, id, _)| *id != jobs[5].1));
}

#[test]
fn a_job_not_yet_started_has_a_blank_status() {
    let mut b = Browser::new(0);
    b.now = 300;
    b.start(Kind::Project, "p", "s");
    let st = b.table.statuses(900);
    assert_eq!(st.len(), 1);
    assert_eq!((st[0].0, st[0].1), (Kind::Project, "p"));
    assert_eq!(st[0].2.attempt, 0);
    assert_eq!(st[0].2.elapsed_time, 0);
}

// 11. Re-entrancy, as the browser layer does it.

#[test]
fn stopping_another_job_between_two_polls_silences_it() {
    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "a", "a");
    let c = b.start(Kind::File, "c", "c");
    let d = b.start(Kind::File, "d", "d");
    assert!(!b.table.on_timer(0));
    assert_eq!(b.step(), Some(Seen::Act(a, "send")));
    // a's request callback stops c.
    assert!(b.table.stop(0, Kind::File, "c").is_some());
    assert_eq!(
        b.drain(),
        vec![
            Seen::Act(a, "progress"),
            Seen::Act(d, "send"),
            Seen::Act(d, "progress")
        ]
    );
    assert!(b.acts(c).is_empty());
    assert_eq!(b.table.metrics().total_requests(), 2);
}

#[test]
fn stopping_the_job_being_stepped_drops_its_remaining_steps() {
    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "a", "a");
    let c = b.start(Kind::File, "c", "c");
    b.fire();
    b.respond(c, pending());
    // a's record arrives and completes it: update, then Finished.
    assert!(b.in_flight.remove(&a));
    b.table
        .handle(0, a, Input::Response(done("https://cdn/a.png")));
    assert_eq!(b.step(), Some(Seen::Act(a, "update")));
    // The page's onUpdate stops the job: no Finished follows, and the
    // metrics do not count it.
    let e = b.table.stop(0, Kind::File, "a").unwrap();
    assert_eq!(e.result, Err(PollError::Stopped));
    assert_eq!(b.drain(), vec![]);
    assert!(!b.has_ended(a));
    assert_eq!(b.table.metrics().finished(), 0);
    assert_eq!(b.table.len(), 1);
}

#[test]
fn a_job_started_between_two_polls_waits_for_the_next_turn() {
    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "a", "a");
    let c = b.start(Kind::File, "c", "c");
    assert!(!b.table.on_timer(0));
    assert_eq!(b.step(), Some(Seen::Act(a, "send")));
    b.now = 5;
    let n = b.start(Kind::Project, "n", "n");
    assert_eq!(
        b.drain(),
        vec![
            Seen::Act(a, "progress"),
            Seen::Act(c, "send"),
            Seen::Act(c, "progress")
        ]
    );
    assert!(b.acts(n).is_empty());
    assert_eq!(b.table.next_wake(), Some(5), "the browser re-arms for it");
    b.fire();
    assert_eq!(b.requests(n), vec![5]);
    assert_eq!(b.requests(a), vec![0]);
}

#[test]
fn a_response_between_two_polls_queues_after_what_is_queued() {
    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "a", "a");
    let c = b.start(Kind::File, "c", "c");
    assert!(!b.table.on_timer(0));
    assert_eq!(b.step(), Some(Seen::Act(a, "send")));
    // The fetch of a answers at once (a cached response, say).
    assert!(b.in_flight.remove(&a));
    b.table.handle(0, a, Input::Response(pending()));
    assert_eq!(
        b.drain(),
        vec![
            Seen::Act(a, "progress"),
            Seen::Act(c, "send"),
            Seen::Act(c, "progress"),
            Seen::Act(a, "update"),
            Seen::Act(a, "progress"),
        ]
    );
}

#[test]
fn a_caller_joining_before_the_finished_step_hears_the_result() {
    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "a", "first");
    b.fire();
    assert!(b.in_flight.remove(&a));
    b.table
        .handle(0, a, Input::Response(done("https://cdn/a.png")));
    assert_eq!(b.step(), Some(Seen::Act(a, "update")));
    // onUpdate starts the same job: it joins, and hears the end.
    assert_eq!(b.start(Kind::File, "a", "joiner"), a);
    assert_eq!(b.drain(), vec![Seen::Finished(a)]);
    assert_eq!(b.ended(a).subscribers, vec!["first", "joiner"]);
    assert!(b.table.is_empty());
}

#[test]
fn restarting_an_id_from_its_finished_step_makes_a_new_job() {
    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "a", "first");
    let c = b.start(Kind::File, "c", "c");
    b.fire();
    assert!(b.in_flight.remove(&a));
    b.table.handle(0, a, Input::Response(status(500))); // retry in 1 s
    assert!(b.in_flight.remove(&c));
    b.table.handle(0, c, Input::Response(status(404)));
    assert!(b.table.contains(a));

    let mut a2 = None;
    b.now = 1000;
    assert!(!b.table.on_timer(1000));
    while let Some(step) = b.table.poll() {
        let seen = b.execute(step);
        if let Seen::Act(j, "send") = seen {
            if j == a {
                // a's request callback stops it and starts it again.
                b.table.stop(1000, Kind::File, "a").unwrap();
                b.in_flight.remove(&a);
                a2 = Some(b.start(Kind::File, "a", "second"));
            }
        }
    }
    let a2 = a2.unwrap();
    assert_ne!(a2, a);
    assert_eq!(b.requests(a), vec![0, 1000]);
    assert!(b.acts(a2).is_empty());
    assert_eq!(b.requests(c), vec![0, 1000]);
    assert_eq!(b.table.subscribers(a2), Some(&["second"][..]));
    b.fire();
    assert_eq!(b.requests(a2), vec![1000]);
}

// Nudges and the generic parameters.

#[test]
fn nudge_all_polls_started_idle_jobs_now() {
    let mut b = Browser::new(0);
    let idle = b.start_with(Kind::File, "idle", every(10_000), "i");
    let busy = b.start(Kind::File, "busy", "b");
    b.fire();
    b.respond(idle, pending()); // next poll at 10 000
    b.now = 2000;
    let later = b.start(Kind::File, "later", "l");
    b.table.nudge_all(2000);
    b.drain();
    assert_eq!(b.requests(idle), vec![0, 2000], "polled at once");
    assert_eq!(b.requests(busy), vec![0], "its request is still in flight");
    assert!(
        b.acts(later).is_empty(),
        "not started: its first turn decides"
    );
    b.fire();
    assert_eq!(b.requests(later), vec![2000]);
}

#[test]
fn the_table_is_generic_over_subscribers_and_resources() {
    let mut t: Table<u32, ()> = Table::new(0);
    let a = t.start(0, Kind::File, "x", polling(), 7);
    assert_eq!(t.start(0, Kind::File, "x", polling(), 8), a);
    t.on_timer(0);
    let mut sends = 0;
    while let Some(step) = t.poll() {
        if let Step::Act {
            action: Action::SendRequest,
            ..
        } = step
        {
            sends += 1;
        }
    }
    assert_eq!(sends, 1);
    t.handle(0, a, Input::Response(Reply::Unreadable));
    assert!(matches!(
        t.poll(),
        Some(Step::Act {
            action: Action::Retry {
                error: PollError::InvalidResponse,
                delay: 1000
            },
            ..
        })
    ));
    let e = t.stop(0, Kind::File, "x").unwrap();
    assert_eq!(e.subscribers, vec![7, 8]);
    assert!(t.poll().is_none());
}
