//! Three tabs sharing jobs, driven by random starts, stops, tab closings,
//! server completions and clock steps: each tab a job table and its sharing
//! roles (`core::sharing::Roles`), executed as the browser layer does (the
//! simulator of tests/tabs.rs), wired through a fake lock manager (one
//! holder per name, requests granted in order after a random delay, a
//! closed tab's locks let go) and a fake channel (every other open tab,
//! after a random delay, first in first out per sender and receiver as
//! `BroadcastChannel` is). What the tabs rely on:
//! - at most one tab leads a job at any time, and only while it holds the
//!   job's lock; only the leader sends requests;
//! - each subscriber hears at most one ending; in an open tab, exactly one;
//! - when the leader's tab closes or stops its job, a waiting tab takes
//!   over: once the server completes, every open tab's job ends with the
//!   completion (or its stop), whoever led it;
//! - a completion the leader tells reaches its followers before its lock's
//!   grace is over: none of them takes over and polls the ended job (unless
//!   the leader's tab closes meanwhile, which lets go of the lock at once);
//! - no lock is kept: once every job ended, the locks are free.

#![cfg(not(target_arch = "wasm32"))]

mod harness;

use std::collections::{BTreeMap, HashMap, VecDeque};

use harness::browser::polling;
use harness::{done, pending};
use proptest::prelude::*;
use proptest::test_runner::Config as PropConfig;
use smart_polling::core::job::{Action, Input, Reply};
use smart_polling::core::record::State;
use smart_polling::core::sharing::{Do, Heard, Roles, Said};
use smart_polling::core::table::{Ended, JobId, Kind, Step, Table};
use smart_polling::Config;

const URL: &str = "https://cdn/x.png";
const IDS: [&str; 2] = ["a", "b"];
const TABS: usize = 3;

type Check = Result<(), TestCaseError>;
/// What a subscriber heard: a result url, or the error's kind.
type Ending = Result<Option<String>, String>;

#[derive(Clone, Debug)]
enum Op {
    Start(usize, usize),
    Stop(usize, usize),
    Close(usize),
    Advance(u64),
    /// The server's generation of that id completes.
    Done(usize),
}

#[derive(Clone, Debug)]
enum Event {
    Grant(String),
    Message(String, Said<'static>, Option<State>),
    Answer(JobId, Reply),
}

struct Tab {
    open: bool,
    table: Table<u32>,
    roles: Roles,
    holds: HashMap<String, JobId>,
    current: HashMap<JobId, State>,
    last: HashMap<JobId, State>,
}

struct World {
    now: u64,
    tabs: Vec<Tab>,
    locks: HashMap<String, (Option<usize>, VecDeque<usize>)>,
    inbox: Vec<(u64, u64, usize, Event)>,
    seq: u64,
    /// The last delivery time per (sender, receiver): the channel is FIFO.
    fifo: HashMap<(usize, usize), u64>,
    rng: u64,
    done: [bool; 2],
    /// Subscriber → (tab, id, endings heard, result of the last).
    subs: BTreeMap<u32, (usize, &'static str, u32, Option<Ending>)>,
    next_sub: u32,
    /// Jobs that followed in another tab when a leader told them of a
    /// completion, (leader's tab, tab, job): none of them may poll after it. A leader's tab that closes lets go of the
    /// lock before its grace is over: then a follower may take over and
    /// poll once more before the news arrives (a race of the platform).
    told: Vec<(usize, usize, JobId)>,
}

fn config() -> Config {
    Config {
        timeout: 600_000,
        ..polling()
    }
}

impl World {
    fn new(seed: u64) -> Self {
        let tab = || Tab {
            open: true,
            table: Table::new(0),
            roles: Roles::default(),
            holds: HashMap::new(),
            current: HashMap::new(),
            last: HashMap::new(),
        };
        World {
            now: 0,
            tabs: (0..TABS).map(|_| tab()).collect(),
            locks: HashMap::new(),
            inbox: Vec::new(),
            seq: 0,
            fifo: HashMap::new(),
            rng: seed | 1,
            done: [false; 2],
            subs: BTreeMap::new(),
            next_sub: 0,
            told: Vec::new(),
        }
    }

    /// A random delay below `max` (xorshift).
    fn delay(&mut self, max: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % max
    }

    fn send(&mut self, at: u64, tab: usize, e: Event) {
        self.seq += 1;
        self.inbox.push((at, self.seq, tab, e));
    }

    fn request_lock(&mut self, tab: usize, name: &str) {
        let (holder, queue) = self.locks.entry(name.to_owned()).or_default();
        if holder.is_none() {
            *holder = Some(tab);
            let at = self.now + self.delay(30);
            self.send(at, tab, Event::Grant(name.to_owned()));
        } else {
            queue.push_back(tab);
        }
    }

    fn release_lock(&mut self, tab: usize, name: &str) -> Check {
        prop_assert!(
            self.tabs[tab].holds.remove(name).is_some(),
            "let go of a lock not held"
        );
        self.hand_on(tab, name)
    }

    fn hand_on(&mut self, tab: usize, name: &str) -> Check {
        let Some((holder, queue)) = self.locks.get_mut(name) else {
            prop_assert!(false, "no such lock");
            return Ok(());
        };
        prop_assert_eq!(*holder, Some(tab), "the lock manager has another holder");
        *holder = queue.pop_front();
        if let Some(next) = *holder {
            let at = self.now + self.delay(30);
            self.send(at, next, Event::Grant(name.to_owned()));
        }
        Ok(())
    }

    fn post(&mut self, from: usize, id: &str, said: Said<'static>, record: Option<State>) {
        for to in (0..TABS).filter(|t| *t != from) {
            let at =
                (self.now + self.delay(800)).max(self.fifo.get(&(from, to)).copied().unwrap_or(0));
            self.fifo.insert((from, to), at);
            self.send(
                at,
                to,
                Event::Message(id.to_owned(), said.clone(), record.clone()),
            );
        }
    }

    fn start(&mut self, tab: usize, id: &'static str) -> Check {
        self.next_sub += 1;
        let sub = self.next_sub;
        self.subs.insert(sub, (tab, id, 0, None));
        let now = self.now;
        let t = &mut self.tabs[tab];
        let joined = t.table.find(Kind::File, id).is_some();
        let job = t.table.start(now, Kind::File, id, config(), sub);
        if !joined {
            t.roles.start(job);
        }
        self.run_roles(tab)
    }

    fn stop(&mut self, tab: usize, id: &str) -> Check {
        let Some(e) = self.tabs[tab].table.stop(self.now, Kind::File, id) else {
            return Ok(());
        };
        self.tabs[tab].roles.stopped(e.job);
        self.heard(&e, Err("stopped".into()))?;
        if self.tabs[tab].holds.get(id) == Some(&e.job) {
            self.release_lock(tab, id)?;
        }
        Ok(())
    }

    fn close(&mut self, tab: usize) -> Check {
        self.tabs[tab].open = false;
        self.told.retain(|t| t.0 != tab);
        let held: Vec<String> = self.tabs[tab].holds.keys().cloned().collect();
        for name in held {
            self.release_lock(tab, &name)?;
        }
        for (_, queue) in self.locks.values_mut() {
            queue.retain(|t| *t != tab);
        }
        Ok(())
    }

    fn heard(&mut self, e: &Ended<u32>, result: Ending) -> Check {
        for s in &e.subscribers {
            let sub = self.subs.get_mut(s).unwrap();
            prop_assert_eq!(sub.2, 0, "subscriber {} heard two endings", s);
            sub.2 += 1;
            sub.3 = Some(result.clone());
        }
        Ok(())
    }

    fn run_roles(&mut self, tab: usize) -> Check {
        let now = self.now;
        while let Some(d) = self.tabs[tab].roles.poll() {
            match d {
                Do::Claim(job) => {
                    let id = self.tabs[tab].table.key(job).expect("running").1.to_owned();
                    self.tabs[tab].roles.asked(job, true);
                    self.request_lock(tab, &id);
                    self.post(tab, &id, Said::hello(), None);
                }
                Do::Feed(job, input) => self.tabs[tab].table.handle(now, job, input),
                Do::Release(job) => {
                    let name = (self.tabs[tab].holds.iter())
                        .find(|(_, j)| **j == job)
                        .map(|(name, _)| name.clone());
                    prop_assert!(name.is_some(), "a released lock is held by its job");
                    self.release_lock(tab, &name.unwrap())?;
                }
            }
        }
        Ok(())
    }

    fn broadcast(&mut self, tab: usize, job: JobId, record: Option<State>) {
        let t = &self.tabs[tab];
        let (Some((_, id)), Some(j)) = (t.table.key(job), t.table.job(job)) else {
            return;
        };
        let said = Said::state(j, self.now, record.is_some());
        let id = id.to_owned();
        self.post(tab, &id, said, record);
    }

    fn settle(&mut self, tab: usize) -> Check {
        let now = self.now;
        while let Some(step) = self.tabs[tab].table.poll() {
            match step {
                Step::Act { job, action } => match action {
                    Action::SendRequest => {
                        let t = &self.tabs[tab];
                        let id = t.table.key(job).unwrap().1.to_owned();
                        prop_assert!(
                            t.roles.leads(job),
                            "tab {} polls {} and does not lead",
                            tab,
                            id
                        );
                        prop_assert_eq!(t.holds.get(&id), Some(&job), "polls without the lock");
                        prop_assert_eq!(self.locks[&id].0, Some(tab));
                        prop_assert!(
                            !self.told.iter().any(|t| (t.1, t.2) == (tab, job)),
                            "tab {} took over {} after it heard of its completion",
                            tab,
                            id
                        );
                        let reply = if self.done[IDS.iter().position(|i| *i == id).unwrap()] {
                            done(URL)
                        } else {
                            pending()
                        };
                        let at = now + 10 + self.delay(200);
                        self.send(at, tab, Event::Answer(job, reply));
                    }
                    Action::Update => {
                        let t = &mut self.tabs[tab];
                        let record = t.current.get(&job).cloned();
                        if let (true, Some(r)) = (t.roles.keeps_records(), &record) {
                            t.last.insert(job, r.clone());
                        }
                        if t.roles.updated(job) {
                            self.broadcast(tab, job, record);
                        }
                    }
                    Action::Progress(_) if self.tabs[tab].roles.tells(job) => {
                        self.broadcast(tab, job, None);
                    }
                    _ => {}
                },
                Step::Left(e) => self.heard(&e, Err("left".into()))?,
                Step::Finished(e) => {
                    let t = &mut self.tabs[tab];
                    let end = t.roles.ended(now, e.job, e.outcome.is_some());
                    let id = e.id.clone();
                    let said = Said::end(&e.result, &e.progress).map(|s| Said {
                        url: s.url.map(|u| &*Box::leak(u.to_owned().into_boxed_str())),
                        ..s
                    });
                    let record = e.result.clone().ok().map(|url| State::Complete { url });
                    let holds = t.holds.get(&id) == Some(&e.job);
                    let result = e.result.clone().map_err(|err| err.kind().to_owned());
                    self.heard(&e, result)?;
                    if end.tell && e.result.is_ok() {
                        // The end reaches them within 800 ms, before the
                        // lock's grace is over: they never take over.
                        for other in (0..TABS).filter(|o| *o != tab && self.tabs[*o].open) {
                            let t = &self.tabs[other];
                            let job = t.table.find(Kind::File, &id);
                            let follows = job.and_then(|j| t.table.job(j));
                            if follows.is_some_and(|j| j.is_running() && j.is_following()) {
                                self.told.push((tab, other, job.unwrap()));
                            }
                        }
                    }
                    if let (true, Some(said)) = (end.tell, said) {
                        self.post(tab, &id, said, record);
                    }
                    if holds && !end.hold {
                        self.release_lock(tab, &id)?;
                    }
                }
            }
        }
        self.run_roles(tab)
    }

    fn deliver(&mut self, tab: usize, job: JobId, input: Input, record: Option<State>) -> Check {
        let now = self.now;
        let t = &mut self.tabs[tab];
        if let Some(r) = &record {
            t.current.insert(job, r.clone());
        }
        t.table.handle(now, job, input);
        self.settle(tab)?;
        let t = &mut self.tabs[tab];
        let record = t.current.remove(&job);
        if record.is_some() && t.roles.resend(job) {
            self.broadcast(tab, job, record);
        }
        Ok(())
    }

    fn on_event(&mut self, tab: usize, e: Event) -> Check {
        if !self.tabs[tab].open {
            // The lock manager lets go of a closed page's grants.
            return match e {
                Event::Grant(name) => self.hand_on(tab, &name),
                _ => Ok(()),
            };
        }
        match e {
            Event::Grant(name) => {
                let t = &mut self.tabs[tab];
                let job = t.table.find(Kind::File, &name);
                match job.filter(|j| t.roles.granted(Some(*j))) {
                    Some(job) => {
                        t.holds.insert(name, job);
                    }
                    None => self.hand_on(tab, &name)?,
                }
            }
            Event::Answer(job, reply) => {
                let record = match &reply {
                    Reply::Record { state, .. } => Some(state.clone()),
                    _ => None,
                };
                self.deliver(tab, job, Input::Response(reply), record)?;
            }
            Event::Message(id, said, record) => {
                let t = &mut self.tabs[tab];
                let job = t.table.find(Kind::File, &id);
                let following = job
                    .and_then(|j| t.table.job(j))
                    .is_some_and(|j| j.is_following());
                let words = said.words(record.clone().map(Some));
                let heard = t.roles.hear(&words, job.map(|j| (j, following)));
                let Some(job) = job else {
                    return Ok(());
                };
                match heard {
                    Heard::Nothing => {}
                    Heard::Hello => {
                        let last = t.last.get(&job).cloned();
                        t.roles.answered(job, last.is_some());
                        self.broadcast(tab, job, last);
                    }
                    Heard::State {
                        mirror,
                        with_record,
                    } => {
                        let record = record.filter(|_| with_record);
                        self.deliver(tab, job, Input::Mirror(mirror), record)?;
                    }
                    Heard::End(outcome) => {
                        self.deliver(tab, job, Input::MirrorEnd(outcome), record)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// At most one open tab leads each id, and only with its lock.
    fn check(&mut self) -> Check {
        for id in IDS {
            let leaders: Vec<usize> = (0..TABS)
                .filter(|&t| self.tabs[t].open)
                .filter(|&t| {
                    let tab = &self.tabs[t];
                    tab.table
                        .find(Kind::File, id)
                        .is_some_and(|j| tab.roles.leads(j))
                })
                .collect();
            prop_assert!(leaders.len() <= 1, "{} led by tabs {:?}", id, leaders);
            if let Some(&t) = leaders.first() {
                prop_assert_eq!(
                    self.locks.get(id).and_then(|l| l.0),
                    Some(t),
                    "a leader without the lock"
                );
            }
        }
        Ok(())
    }

    /// Runs events in time order and timer turns until `limit`.
    fn run_until(&mut self, limit: u64) -> Check {
        loop {
            self.inbox.sort_by_key(|(at, seq, _, _)| (*at, *seq));
            let event_at = self.inbox.first().map(|(at, ..)| *at);
            let now = self.now;
            let timer_at = (self.tabs.iter_mut())
                .filter(|t| t.open)
                .filter_map(|t| {
                    [t.table.next_wake(), t.roles.next_wake(now)]
                        .into_iter()
                        .flatten()
                        .min()
                })
                .min();
            let Some(next) = event_at
                .into_iter()
                .chain(timer_at)
                .min()
                .filter(|n| *n <= limit)
            else {
                break;
            };
            self.now = self.now.max(next);
            if event_at == Some(next) {
                let (_, _, tab, e) = self.inbox.remove(0);
                self.on_event(tab, e)?;
            } else {
                for tab in 0..TABS {
                    if !self.tabs[tab].open {
                        continue;
                    }
                    let now = self.now;
                    let t = &mut self.tabs[tab];
                    let due = [t.table.next_wake(), t.roles.next_wake(now)]
                        .into_iter()
                        .flatten()
                        .min();
                    if due.is_some_and(|at| at <= now) {
                        t.table.on_timer(now);
                        t.roles.on_timer(now);
                        self.run_roles(tab)?;
                        self.settle(tab)?;
                    }
                }
            }
            self.check()?;
        }
        self.now = self.now.max(limit);
        Ok(())
    }

    fn apply(&mut self, op: Op) -> Check {
        match op {
            Op::Start(tab, id) if self.tabs[tab].open => self.start(tab, IDS[id])?,
            Op::Stop(tab, id) if self.tabs[tab].open => self.stop(tab, IDS[id])?,
            Op::Close(tab) if self.tabs[tab].open => self.close(tab)?,
            Op::Advance(ms) => self.run_until(self.now + ms)?,
            Op::Done(id) => self.done[id] = true,
            _ => {}
        }
        self.check()
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..TABS, 0..IDS.len()).prop_map(|(t, i)| Op::Start(t, i)),
        1 => (0..TABS, 0..IDS.len()).prop_map(|(t, i)| Op::Stop(t, i)),
        1 => (0..TABS).prop_map(Op::Close),
        6 => (0u64..3_000).prop_map(Op::Advance),
        1 => (0..IDS.len()).prop_map(Op::Done),
    ]
}

fn run(seed: u64, ops: Vec<Op>) -> Check {
    let mut w = World::new(seed);
    for op in ops {
        w.apply(op)?;
    }
    // The server completes everything: every open tab's job ends with the
    // completion, whoever leads, within a few polls and takeovers.
    w.done = [true; 2];
    w.run_until(w.now + 30_000)?;
    for (n, (tab, id, heard, result)) in &w.subs {
        if !w.tabs[*tab].open {
            continue;
        }
        prop_assert_eq!(
            *heard,
            1,
            "subscriber {} of {} in tab {} heard no end",
            n,
            id,
            tab
        );
        let completed = Some(Ok(Some(URL.to_owned())));
        let stopped = Some(Err("stopped".to_owned()));
        prop_assert!(
            *result == completed || *result == stopped,
            "subscriber {} of {} in tab {} heard {:?}",
            n,
            id,
            tab,
            result
        );
    }
    for t in w.tabs.iter().filter(|t| t.open) {
        prop_assert!(t.table.is_empty(), "a job outlived its completion");
    }
    for (name, (holder, queue)) in &w.locks {
        prop_assert!(
            holder.is_none() && queue.is_empty(),
            "lock {} kept: {:?} {:?}",
            name,
            holder,
            queue
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(PropConfig { cases: 300, failure_persistence: None, ..PropConfig::default() })]

    #[test]
    fn tabs_share_jobs_safely(seed in any::<u64>(), ops in prop::collection::vec(op(), 1..40)) {
        run(seed, ops)?;
    }
}
