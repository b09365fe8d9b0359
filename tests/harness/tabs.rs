//! Tabs that share jobs, natively (tests/tabs.rs, tests/roles_properties.rs):
//! each tab a job table and its sharing roles (`core::sharing::Roles`),
//! executed the way the browser layer does, wired through a fake lock
//! manager (Web Locks: one holder per name, requests granted in order, a
//! closed tab's locks let go) and a fake channel (`BroadcastChannel`: every
//! other tab), against a fake server. What varies from test to test (the
//! delays, the server's answers, checks on the way) is a [`Sim`]'s.

use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;

use smart_polling::core::job::{Action, Input, Reply};
use smart_polling::core::record::State;
use smart_polling::core::sharing::{Do, Heard, Said};
use smart_polling::core::table::{Ended, JobId, Kind, Step};
use smart_polling::Config;

pub use super::tab::Tab;

/// What a test decides; the hooks get the whole world, as the browser would
/// see it at that moment.
pub trait Sim: Sized {
    type Sub: Clone + Debug;
    fn config(&self) -> Config;
    /// When the lock manager's grant reaches a tab, from now.
    fn grant_delay(w: &mut World<Self>) -> u64;
    /// When a message posted now from `from` reaches `to`.
    fn message_at(w: &mut World<Self>, from: usize, to: usize) -> u64;
    /// The server's answer to `tab`'s request for `id`, and when it comes.
    fn answer(w: &mut World<Self>, tab: usize, id: &str) -> (u64, Reply);
    /// A request is about to go.
    fn on_request(_w: &World<Self>, _tab: usize, _job: JobId) {}
    /// Subscribers leave a job on their own terms.
    fn on_left(_w: &mut World<Self>, _tab: usize, _e: &Ended<Self::Sub>) {}
    /// A job ended; `tell`: this tab tells the others.
    fn on_finished(_w: &mut World<Self>, _tab: usize, _e: &Ended<Self::Sub>, _tell: bool) {}
    /// After each event or timer turn of `run_until`.
    fn after_step(_w: &World<Self>) {}
}

/// A message on the channel: what was said, with the record sent along as
/// the receiver reads it.
#[derive(Clone, Debug)]
pub struct Message {
    pub id: String,
    pub said: Said<'static>,
    pub record: Option<State>,
}

#[derive(Clone, Debug)]
pub enum Event {
    /// The lock manager grants this tab the lock of that name.
    Grant(String),
    Message(Message),
    /// The server's answer to this tab's request.
    Answer(JobId, Reply),
}

pub struct World<M: Sim> {
    pub now: u64,
    pub tabs: Vec<Tab<M::Sub>>,
    /// Lock name → holder and the tabs waiting, in order.
    pub locks: HashMap<String, (Option<usize>, VecDeque<usize>)>,
    /// (when, order, tab, event).
    inbox: Vec<(u64, u64, usize, Event)>,
    seq: u64,
    pub sim: M,
}

impl<M: Sim> World<M> {
    pub fn new(tabs: usize, sim: M) -> Self {
        World {
            now: 0,
            tabs: (0..tabs).map(|_| Tab::new()).collect(),
            locks: HashMap::new(),
            inbox: Vec::new(),
            seq: 0,
            sim,
        }
    }

    fn send(&mut self, at: u64, tab: usize, e: Event) {
        self.seq += 1;
        self.inbox.push((at, self.seq, tab, e));
    }

    // The lock manager.

    fn request_lock(&mut self, tab: usize, name: &str) {
        let (holder, queue) = self.locks.entry(name.to_owned()).or_default();
        if holder.is_none() {
            *holder = Some(tab);
            let at = self.now + M::grant_delay(self);
            self.send(at, tab, Event::Grant(name.to_owned()));
        } else {
            queue.push_back(tab);
        }
    }

    /// The job's handle lets go of its lock.
    fn release_lock(&mut self, tab: usize, name: &str) {
        assert!(
            self.tabs[tab].holds.remove(name).is_some(),
            "let go of a lock not held"
        );
        self.hand_on(tab, name);
    }

    /// The lock manager passes a lock `tab` holds to the next request.
    fn hand_on(&mut self, tab: usize, name: &str) {
        let next = match self.locks.get_mut(name) {
            Some((holder, queue)) if *holder == Some(tab) => {
                *holder = queue.pop_front();
                *holder
            }
            _ => panic!("the lock manager has another holder"),
        };
        if let Some(next) = next {
            let at = self.now + M::grant_delay(self);
            self.send(at, next, Event::Grant(name.to_owned()));
        }
    }

    // The channel.

    fn post(&mut self, from: usize, id: &str, said: Said<'static>, record: Option<State>) {
        self.tabs[from].said.push((self.now, said.what));
        let m = Message {
            id: id.to_owned(),
            said,
            record,
        };
        for to in 0..self.tabs.len() {
            if to != from {
                let at = M::message_at(self, from, to);
                self.send(at, to, Event::Message(m.clone()));
            }
        }
    }

    // Each tab's browser layer.

    /// Starts (or joins) the file job `id` in `tab` for `sub`.
    pub fn start(&mut self, tab: usize, id: &str, sub: M::Sub) -> JobId {
        let cfg = self.sim.config();
        self.start_with(tab, id, cfg, sub)
    }

    /// `start`, on terms of its own.
    pub fn start_with(&mut self, tab: usize, id: &str, cfg: Config, sub: M::Sub) -> JobId {
        let now = self.now;
        let t = &mut self.tabs[tab];
        let joined = t.job(id).is_some();
        let job = t.table.start(now, Kind::File, id, cfg, sub);
        if !joined {
            t.roles
                .start(job, smart_polling::core::sharing::lock_key(Kind::File, id));
        }
        self.run_roles(tab);
        job
    }

    /// Stops the job of `id` in `tab`, if it runs.
    pub fn stop(&mut self, tab: usize, id: &str) -> Option<Ended<M::Sub>> {
        let now = self.now;
        let e = self.tabs[tab].table.stop(now, Kind::File, id)?;
        let keep = self.tabs[tab].roles.stopped(now, e.job);
        // Its lock handle is dropped: a held lock goes (unless the roles
        // keep it for a grace); a queued request stays queued (let go of
        // when granted).
        if !keep && self.tabs[tab].holds.get(id) == Some(&e.job) {
            self.release_lock(tab, id);
        }
        Some(e)
    }

    pub fn close(&mut self, tab: usize) {
        self.tabs[tab].open = false;
        let held: Vec<String> = self.tabs[tab].holds.keys().cloned().collect();
        for name in held {
            self.release_lock(tab, &name);
        }
        for (_, queue) in self.locks.values_mut() {
            queue.retain(|t| *t != tab);
        }
    }

    /// The tab's page goes into the back/forward cache (`pagehide`).
    pub fn away(&mut self, tab: usize) {
        self.tabs[tab].roles.away();
        self.run_roles(tab);
        self.settle(tab);
        self.tabs[tab].away = true;
        // The browser layer withdraws its requests still queued.
        for (_, queue) in self.locks.values_mut() {
            queue.retain(|t| *t != tab);
        }
    }

    /// The tab's page is shown again (`pageshow`): what reached it meanwhile
    /// comes in now, in order.
    pub fn back(&mut self, tab: usize) {
        self.tabs[tab].away = false;
        self.tabs[tab].roles.back();
    }

    fn run_roles(&mut self, tab: usize) {
        let now = self.now;
        while let Some(d) = self.tabs[tab].roles.poll() {
            match d {
                Do::Claim(job) => {
                    let id = self.tabs[tab].table.key(job).expect("running").1.to_owned();
                    self.tabs[tab].asked += 1;
                    self.tabs[tab].roles.asked(job, true);
                    self.request_lock(tab, &id);
                    let first_wait = self.tabs[tab].table.job(job).expect("running");
                    let first_wait = first_wait.config().intervals.wait(0);
                    self.post(tab, &id, Said::hello(first_wait), None);
                }
                Do::Feed(job, input) => self.tabs[tab].table.handle(now, job, input),
                Do::Hand { ended, to } => {
                    let holder = (self.tabs[tab].holds.values_mut())
                        .find(|j| **j == ended)
                        .expect("a handed lock is held by the ended job");
                    *holder = to;
                }
                Do::Release(job) | Do::StepDown(job) => {
                    let name = (self.tabs[tab].holds.iter())
                        .find(|(_, j)| **j == job)
                        .map(|(name, _)| name.clone())
                        .expect("a released lock is held by its job");
                    self.release_lock(tab, &name);
                }
            }
        }
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

    fn settle(&mut self, tab: usize) {
        let now = self.now;
        while let Some(step) = self.tabs[tab].table.poll() {
            let attempt =
                |t: &Tab<M::Sub>, job| t.table.job(job).map_or(0, |j| j.progress(now).attempt);
            match step {
                Step::Act { job, action } => match action {
                    Action::SendRequest => {
                        M::on_request(self, tab, job);
                        let attempt = attempt(&self.tabs[tab], job);
                        self.tabs[tab].requests.push((now, job, attempt));
                        let id = self.tabs[tab].table.key(job).expect("running").1.to_owned();
                        let (at, reply) = M::answer(self, tab, &id);
                        self.send(at, tab, Event::Answer(job, reply));
                    }
                    Action::Update => {
                        let t = &mut self.tabs[tab];
                        let record = t.current.get(&job).cloned();
                        if let (true, Some(r)) = (t.roles.keeps_records(), &record) {
                            t.last.insert(job, r.clone());
                        }
                        t.updates.push((now, job));
                        if t.roles.updated(job) {
                            self.broadcast(tab, job, record);
                        }
                    }
                    Action::Attempted => {
                        let attempt = attempt(&self.tabs[tab], job);
                        self.tabs[tab].attempted.push((now, job, attempt));
                    }
                    Action::Retry { error, .. } | Action::RetryHeard { error, .. } => {
                        self.tabs[tab].retried.push((now, job, error));
                    }
                    Action::Progress(_) if self.tabs[tab].roles.tells(job) => {
                        self.broadcast(tab, job, None);
                    }
                    Action::NudgeLeader { within } => {
                        let id = self.tabs[tab].table.key(job).expect("running").1.to_owned();
                        self.post(tab, &id, Said::nudge(within), None);
                    }
                    _ => {}
                },
                Step::Left(e) => {
                    M::on_left(self, tab, &e);
                    self.tabs[tab].ended.push((now, e));
                }
                Step::Finished(e) => {
                    let t = &mut self.tabs[tab];
                    let end = t.roles.ended(now, e.job, e.outcome.is_some());
                    if end.seen_here && e.result.is_ok() {
                        t.learned.push(e.job);
                    }
                    let id = e.id.clone();
                    let said = Said::end(&e.result, &e.progress).map(|s| Said {
                        url: s.url.map(|u| &*Box::leak(u.to_owned().into_boxed_str())),
                        ..s
                    });
                    let record = e.result.clone().ok().map(|url| State::Complete { url });
                    let holds = t.holds.get(&id) == Some(&e.job);
                    M::on_finished(self, tab, &e, end.tell);
                    self.tabs[tab].ended.push((now, e));
                    if let (true, Some(said)) = (end.tell, said) {
                        self.post(tab, &id, said, record);
                    }
                    if holds && !end.hold {
                        self.release_lock(tab, &id);
                    }
                }
            }
        }
        self.run_roles(tab);
    }

    /// Feeds an input with the record it carries, then runs the steps.
    fn deliver(&mut self, tab: usize, job: JobId, input: Input, record: Option<State>) {
        let now = self.now;
        let t = &mut self.tabs[tab];
        if let Some(r) = &record {
            t.current.insert(job, r.clone());
        }
        t.table.handle(now, job, input);
        self.settle(tab);
        let t = &mut self.tabs[tab];
        let record = t.current.remove(&job);
        if record.is_some() && t.roles.resend(job) {
            self.broadcast(tab, job, record);
        }
    }

    /// An event reaches its tab; a closed tab's grant goes on to the next
    /// request (the lock manager lets go of a closed page's locks).
    fn deliver_event(&mut self, tab: usize, e: Event) {
        match e {
            e if self.tabs[tab].open => self.on_event(tab, e),
            Event::Grant(name) => self.hand_on(tab, &name),
            _ => {}
        }
    }

    fn on_event(&mut self, tab: usize, e: Event) {
        match e {
            Event::Grant(name) => {
                let t = &mut self.tabs[tab];
                let job = t.job(&name);
                match job.filter(|j| t.roles.granted(Some(*j))) {
                    Some(job) => {
                        t.holds.insert(name, job);
                    }
                    // Not wanted: let go at once.
                    None => self.hand_on(tab, &name),
                }
            }
            Event::Answer(job, reply) => {
                let record = match &reply {
                    Reply::Record { state, .. } => Some(state.clone()),
                    _ => None,
                };
                self.deliver(tab, job, Input::Response(reply), record);
            }
            Event::Message(m) => {
                let t = &mut self.tabs[tab];
                let job = t.job(&m.id);
                let following = job
                    .and_then(|j| t.table.job(j))
                    .is_some_and(|j| j.is_following());
                let words = m.said.words(m.record.clone().map(Some));
                let heard = t.roles.hear(&words, job.map(|j| (j, following)));
                let Some(job) = job else {
                    return;
                };
                match heard {
                    Heard::Nothing => {}
                    Heard::Hello { within } => {
                        let last = t.last.get(&job).cloned();
                        t.roles.answered(job, last.is_some());
                        self.broadcast(tab, job, last);
                        if let Some(within) = within {
                            self.tabs[tab].table.nudge_from_tab(self.now, job, within);
                            self.settle(tab);
                        }
                    }
                    Heard::State {
                        mirror,
                        with_record,
                    } => {
                        let record = m.record.filter(|_| with_record);
                        self.deliver(tab, job, Input::Mirror(mirror), record);
                    }
                    Heard::End(outcome) => {
                        self.deliver(tab, job, Input::MirrorEnd(outcome), m.record);
                    }
                    Heard::Nudge { within } => {
                        t.table.nudge_from_tab(self.now, job, within);
                        self.settle(tab);
                    }
                }
            }
        }
    }

    /// Runs every open tab until `limit`: events in order of time, then
    /// timer turns.
    pub fn run_until(&mut self, limit: u64) {
        loop {
            self.inbox.sort_by_key(|(at, seq, _, _)| (*at, *seq));
            // What reaches a tab that is away waits until it is back.
            let first = (self.inbox.iter()).position(|(_, _, tab, _)| !self.tabs[*tab].away);
            let event_at = first.map(|i| self.inbox[i].0);
            let now = self.now;
            let timer_at = (self.tabs.iter_mut())
                .filter(|t| t.open && !t.away)
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
                let (_, _, tab, e) = self.inbox.remove(first.unwrap_or(0));
                self.deliver_event(tab, e);
            } else {
                for tab in 0..self.tabs.len() {
                    let now = self.now;
                    let t = &mut self.tabs[tab];
                    let due = [t.table.next_wake(), t.roles.next_wake(now)]
                        .into_iter()
                        .flatten()
                        .min()
                        .is_some_and(|at| at <= now);
                    if t.open && !t.away && due {
                        self.turn(tab);
                    }
                }
            }
            M::after_step(self);
        }
        self.now = self.now.max(limit);
    }

    /// One timer turn of a tab, as the manager's `on_timer` takes it.
    pub fn turn(&mut self, tab: usize) {
        let now = self.now;
        let t = &mut self.tabs[tab];
        // As the browser layer does: sharing first, then the table.
        t.roles.on_timer(now);
        self.run_roles(tab);
        self.tabs[tab].table.on_timer(now);
        self.settle(tab);
    }

    /// Delivers the events due by now.
    pub fn run_events(&mut self) {
        loop {
            self.inbox.sort_by_key(|(at, seq, _, _)| (*at, *seq));
            match self.inbox.first() {
                Some((at, ..)) if *at <= self.now => {
                    let (_, _, tab, e) = self.inbox.remove(0);
                    self.deliver_event(tab, e);
                }
                _ => return,
            }
        }
    }

    pub fn requests_by(&self, tab: usize) -> Vec<u64> {
        self.tabs[tab].requests.iter().map(|(t, ..)| *t).collect()
    }
}
