//! Tabs that share jobs, natively: two or three "tabs", each a job table
//! and the sharing roles (`core::sharing::Roles`) executed the way the
//! browser layer does, wired through a fake lock manager (Web Locks: one
//! holder per name, requests granted in order, a closed tab's locks let go)
//! and a fake channel (`BroadcastChannel`: every other open tab, after a
//! delay), against one fake server. Asserted as requests made, what each
//! tab's subscribers heard, who learned from an end, and when.

mod harness;

use std::collections::{HashMap, VecDeque};

use harness::browser::polling;
use harness::{done, pending};
use smart_polling::core::job::{Action, Input, Reply};
use smart_polling::core::record::State;
use smart_polling::core::sharing::{Do, Heard, Roles, Said, END_GRACE_MS};
use smart_polling::core::table::{Ended, JobId, Kind, Step, Table, TURN};

const URL: &str = "https://cdn/x.png";

/// A message on the channel: what was said, with the record sent along as
/// the receiver reads it.
#[derive(Clone, Debug)]
struct Message {
    id: String,
    said: Said<'static>,
    record: Option<State>,
}

#[derive(Clone, Debug)]
enum Event {
    /// The lock manager grants this tab the lock of that name.
    Grant(String),
    Message(Message),
    /// The server's answer to this tab's request.
    Answer(JobId, Reply),
}

/// One tab: a table, its roles, and what the browser layer keeps.
struct Tab {
    open: bool,
    table: Table<&'static str>,
    roles: Roles,
    /// Locks this tab holds, by name, and the job each is for (as the
    /// browser layer's handle is the job's).
    holds: HashMap<String, JobId>,
    /// The record of the input being handled, and the last one kept.
    current: HashMap<JobId, State>,
    last: HashMap<JobId, State>,
    /// Requests this tab sent: (time, job, the job's attempt).
    requests: Vec<(u64, JobId, u32)>,
    /// `onUpdate` calls: (time, job).
    updates: Vec<(u64, JobId)>,
    /// Another tab's requests heard as attempts (the old module's
    /// `onProgress`): (time, job, the attempt).
    attempted: Vec<(u64, JobId, u32)>,
    ended: Vec<(u64, Ended<&'static str>)>,
    /// Completions this tab learned from (it polled them itself).
    learned: Vec<JobId>,
    /// Lock requests this tab made.
    asked: usize,
    said: Vec<(u64, &'static str)>,
}

impl Tab {
    fn new() -> Self {
        Tab {
            open: true,
            table: Table::new(0),
            roles: Roles::default(),
            holds: HashMap::new(),
            current: HashMap::new(),
            last: HashMap::new(),
            requests: Vec::new(),
            updates: Vec::new(),
            attempted: Vec::new(),
            ended: Vec::new(),
            learned: Vec::new(),
            asked: 0,
            said: Vec::new(),
        }
    }

    fn job(&self, id: &str) -> Option<JobId> {
        self.table.find(Kind::File, id)
    }

    fn result(&self, id: &str) -> Option<&Result<Option<String>, smart_polling::PollError>> {
        self.ended
            .iter()
            .find(|(_, e)| e.id == id && e.outcome.is_some())
            .map(|(_, e)| &e.result)
    }

    fn role(&self, id: &str) -> Option<&'static str> {
        self.roles.role_name(self.job(id)?)
    }
}

struct World {
    now: u64,
    tabs: Vec<Tab>,
    /// Lock name → holder and the tabs waiting, in order.
    locks: HashMap<String, (Option<usize>, VecDeque<usize>)>,
    /// (when, order, tab, event).
    inbox: Vec<(u64, u64, usize, Event)>,
    seq: u64,
    /// The channel's delay; locks are granted at once.
    latency: u64,
    /// The server's job completes at this time.
    done_at: u64,
    /// Answer time of the server.
    rtt: u64,
}

impl World {
    fn new(tabs: usize, done_at: u64) -> Self {
        World {
            now: 0,
            tabs: (0..tabs).map(|_| Tab::new()).collect(),
            locks: HashMap::new(),
            inbox: Vec::new(),
            seq: 0,
            latency: 5,
            done_at,
            rtt: 50,
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
            self.send(self.now, tab, Event::Grant(name.to_owned()));
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
            self.send(self.now, next, Event::Grant(name.to_owned()));
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
                self.send(self.now + self.latency, to, Event::Message(m.clone()));
            }
        }
    }

    // Each tab's browser layer.

    fn start(&mut self, tab: usize, id: &str) -> JobId {
        let now = self.now;
        let t = &mut self.tabs[tab];
        let job = t.table.start(now, Kind::File, id, polling(), "sub");
        t.roles.start(job);
        self.run_roles(tab);
        job
    }

    fn stop(&mut self, tab: usize, id: &str) {
        let now = self.now;
        let e = self.tabs[tab]
            .table
            .stop(now, Kind::File, id)
            .expect("running");
        self.tabs[tab].roles.stopped(e.job);
        // Its lock handle is dropped: a held lock goes; a queued request
        // stays queued (let go of when granted).
        if self.tabs[tab].holds.get(id) == Some(&e.job) {
            self.release_lock(tab, id);
        }
    }

    fn close(&mut self, tab: usize) {
        self.tabs[tab].open = false;
        let held: Vec<String> = self.tabs[tab].holds.keys().cloned().collect();
        for name in held {
            self.release_lock(tab, &name);
        }
        for (_, queue) in self.locks.values_mut() {
            queue.retain(|t| *t != tab);
        }
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
                    self.post(tab, &id, Said::hello(), None);
                }
                Do::Feed(job, input) => self.tabs[tab].table.handle(now, job, input),
                Do::Release(job) => {
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
            let attempt = |t: &Tab, job| t.table.job(job).map_or(0, |j| j.progress(now).attempt);
            match step {
                Step::Act { job, action } => match action {
                    Action::SendRequest => {
                        let attempt = attempt(&self.tabs[tab], job);
                        self.tabs[tab].requests.push((now, job, attempt));
                        let reply = if now >= self.done_at {
                            done(URL)
                        } else {
                            pending()
                        };
                        self.send(now + self.rtt, tab, Event::Answer(job, reply));
                    }
                    Action::Update => {
                        let t = &mut self.tabs[tab];
                        let record = t.current.get(&job).cloned();
                        if t.roles.keeps_records() {
                            if let Some(r) = &record {
                                t.last.insert(job, r.clone());
                            }
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
                    Action::Progress(_) if self.tabs[tab].roles.tells(job) => {
                        self.broadcast(tab, job, None);
                    }
                    _ => {}
                },
                Step::Left(e) => self.tabs[tab].ended.push((now, e)),
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
                    t.ended.push((now, e));
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
                    Heard::Hello => {
                        let last = t.last.get(&job).cloned();
                        t.roles.answered(job, last.is_some());
                        self.broadcast(tab, job, last);
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
                }
            }
        }
    }

    /// Runs every open tab until `limit`: events in order of time, then
    /// timer turns.
    fn run_until(&mut self, limit: u64) {
        loop {
            self.inbox.sort_by_key(|(at, seq, _, _)| (*at, *seq));
            let event_at = self.inbox.first().map(|(at, ..)| *at);
            let now = self.now;
            let timer_at = (self.tabs.iter_mut())
                .filter(|t| t.open)
                .filter_map(|tab| {
                    let table = tab.table.next_wake();
                    let roles = tab.roles.next_wake(now);
                    [table, roles].into_iter().flatten().min()
                })
                .min();
            let next = match (event_at, timer_at) {
                (Some(e), Some(t)) => e.min(t),
                (e, t) => match e.or(t) {
                    Some(x) => x,
                    None => break,
                },
            };
            if next > limit {
                break;
            }
            self.now = self.now.max(next);
            if event_at == Some(next) {
                let (_, _, tab, e) = self.inbox.remove(0);
                self.deliver_event(tab, e);
                continue;
            }
            for tab in 0..self.tabs.len() {
                if !self.tabs[tab].open {
                    continue;
                }
                let now = self.now;
                let t = &mut self.tabs[tab];
                let due = [t.table.next_wake(), t.roles.next_wake(now)]
                    .into_iter()
                    .flatten()
                    .min()
                    .is_some_and(|at| at <= now);
                if due {
                    self.turn(tab);
                }
            }
        }
        self.now = self.now.max(limit);
    }

    /// One timer turn of a tab, as the manager's `on_timer` takes it.
    fn turn(&mut self, tab: usize) {
        let now = self.now;
        let t = &mut self.tabs[tab];
        t.table.on_timer(now);
        t.roles.on_timer(now);
        self.run_roles(tab);
        self.settle(tab);
    }

    /// Delivers the events due by now.
    fn run_events(&mut self) {
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

    fn leaders(&self, tab: usize) -> usize {
        let t = &self.tabs[tab];
        (t.ended.iter().map(|(_, e)| e.id.clone()))
            .chain((0..1000).map(|i| format!("j{i}")))
            .filter(|id| t.role(id) == Some("leader"))
            .count()
    }

    fn requests_by(&self, tab: usize) -> Vec<u64> {
        self.tabs[tab].requests.iter().map(|(t, ..)| *t).collect()
    }
}

#[test]
fn two_tabs_watching_one_id_share_one_poller() {
    let mut w = World::new(2, 5000);
    w.start(0, "a");
    w.run_until(300);
    w.start(1, "a");
    w.run_until(20_000);

    assert_eq!(w.tabs[0].asked, 1);
    assert_eq!(w.tabs[1].asked, 1);
    assert!(w.requests_by(0).len() >= 5, "the first tab polls");
    assert!(w.requests_by(1).is_empty(), "the second sends nothing");
    for tab in 0..2 {
        assert_eq!(
            w.tabs[tab].result("a"),
            Some(&Ok(Some(URL.to_owned()))),
            "tab {tab} completed"
        );
    }
    // The end reached the follower through the channel, a moment later.
    let at = |tab: usize| w.tabs[tab].ended[0].0;
    assert_eq!(at(1), at(0) + w.latency);
    // Learned once: by the tab that polled it.
    assert_eq!(w.tabs[0].learned.len(), 1);
    assert!(w.tabs[1].learned.is_empty());
}

#[test]
fn the_follower_mirrors_the_leaders_state() {
    let mut w = World::new(2, 60_000);
    w.start(0, "a");
    w.run_until(100);
    w.start(1, "a");
    w.run_until(4_500);
    assert_eq!(w.tabs[0].role("a"), Some("leader"));
    assert_eq!(w.tabs[1].role("a"), Some("follower"));
    let progress = |tab: usize| {
        let t = &w.tabs[tab];
        let job = t.job("a").unwrap();
        t.table.job(job).unwrap().progress(w.now)
    };
    assert!(progress(0).attempt >= 4);
    assert_eq!(progress(1).attempt, progress(0).attempt, "mirrored");
    assert!(w.requests_by(1).is_empty());
}

#[test]
fn a_follower_hears_each_of_the_leaders_requests_as_an_attempt() {
    let mut w = World::new(2, 60_000);
    w.start(0, "a");
    w.run_until(100);
    w.start(1, "a");
    w.run_until(6_500);
    let leader: Vec<u32> = w.tabs[0].requests.iter().map(|r| r.2).collect();
    let heard: Vec<u32> = w.tabs[1].attempted.iter().map(|a| a.2).collect();
    assert!(leader.len() >= 5, "{leader:?}");
    // Each once, in order (the first as the follower joins, after it was
    // made: its first attempt, as a job of its own would call it).
    assert_eq!(heard, leader, "follower heard {heard:?}");
    // A channel's latency after each of the leader's requests goes.
    for (a, r) in w.tabs[1].attempted.iter().zip(&w.tabs[0].requests).skip(1) {
        assert_eq!(a.0, r.0 + w.latency, "{a:?} after {r:?}");
    }
    assert!(w.tabs[0].attempted.is_empty(), "the leader makes its own");
}

#[test]
fn when_the_leaders_tab_closes_a_follower_takes_over_without_restarting() {
    let mut w = World::new(2, 9000);
    w.start(0, "a");
    w.run_until(100);
    w.start(1, "a");
    w.run_until(4_500);
    let before = w.tabs[0].requests.last().unwrap().2;
    assert!(before >= 4);
    w.close(0);
    w.run_until(30_000);

    let taken = w.tabs[1].requests.first().expect("the follower polls now");
    assert!(
        taken.0 >= 4_500 && taken.0 <= 4_500 + 100,
        "at once: {taken:?}"
    );
    assert!(
        taken.2 > before,
        "attempts go on from the leader's ({before}), not from 1: {taken:?}"
    );
    assert_eq!(w.tabs[1].result("a"), Some(&Ok(Some(URL.to_owned()))));
    assert_eq!(w.tabs[1].learned.len(), 1, "it polled the end itself");
}

#[test]
fn with_three_tabs_one_follower_takes_over_and_the_other_follows_it() {
    let mut w = World::new(3, 9000);
    w.start(0, "a");
    w.run_until(100);
    w.start(1, "a");
    w.run_until(200);
    w.start(2, "a");
    w.run_until(3_000);
    w.close(0);
    w.run_until(30_000);

    // The lock goes to the request made first.
    assert!(!w.requests_by(1).is_empty(), "the second tab leads");
    assert!(w.requests_by(2).is_empty(), "the third still follows");
    assert_eq!(w.tabs[1].role("a"), None, "ended");
    for tab in [1, 2] {
        assert_eq!(w.tabs[tab].result("a"), Some(&Ok(Some(URL.to_owned()))));
    }
    assert_eq!(w.tabs[1].learned.len(), 1);
    assert!(w.tabs[2].learned.is_empty());
    // Never two pollers at once: the second tab's requests all came after
    // the first tab's last.
    let last = w.requests_by(0).into_iter().max().unwrap();
    assert!(w.requests_by(1).iter().all(|t| *t > last));
}

#[test]
fn a_leader_that_stops_its_job_hands_it_over() {
    let mut w = World::new(2, 9000);
    w.start(0, "a");
    w.run_until(100);
    w.start(1, "a");
    w.run_until(2_500);
    let job = w.tabs[0].job("a").unwrap();
    assert!(w.tabs[0].roles.leads(job));
    w.stop(0, "a");
    assert_eq!(w.tabs[0].roles.role_name(job), None, "the roles forget it");
    w.run_until(30_000);
    assert!(!w.requests_by(1).is_empty(), "the follower took over");
    assert_eq!(w.tabs[1].result("a"), Some(&Ok(Some(URL.to_owned()))));
    assert!(w.tabs[0].result("a").is_none());
    let said: Vec<&str> = w.tabs[0].said.iter().map(|(_, what)| *what).collect();
    assert!(!said.contains(&"end"), "a stop tells nobody: {said:?}");
    // A grant for the stopped job's name would be let go of at once.
    assert!(!w.tabs[0].roles.granted(Some(job)));
}

#[test]
fn a_grant_for_a_job_whose_claim_has_not_gone_yet_is_taken() {
    // Tab 1 follows "a", stops it (its lock request stays queued) and
    // starts "a" again; the leader's tab closes before the new job's claim
    // goes: the old request's grant reaches the new job, which leads with
    // it and asks for no second lock.
    let mut w = World::new(2, 9000);
    w.start(0, "a");
    w.run_until(100);
    w.start(1, "a");
    w.run_until(2_000);
    assert_eq!(w.tabs[1].asked, 1);
    w.stop(1, "a");
    let again = w.start(1, "a");
    w.close(0);
    w.run_until(30_000);
    assert_eq!(w.tabs[1].asked, 1, "the stale grant served");
    assert!(w.tabs[1].requests.iter().all(|(_, j, _)| *j == again));
    assert!(!w.tabs[1].requests.is_empty(), "the new job polls");
    assert_eq!(w.tabs[1].result("a"), Some(&Ok(Some(URL.to_owned()))));
    assert!(w.locks["a"].0.is_none(), "let go at its end");
}

#[test]
fn a_job_that_ends_in_the_leading_tab_is_not_taken_over() {
    // The channel is slow and the lock manager fast: the leader's lock
    // outlives the news, so the follower hears the end before any grant.
    let mut w = World::new(2, 3000);
    w.latency = END_GRACE_MS / 2;
    w.start(0, "a");
    w.run_until(100);
    w.start(1, "a");
    w.run_until(20_000);
    assert!(w.requests_by(1).is_empty(), "the follower never polled");
    assert_eq!(w.tabs[1].result("a"), Some(&Ok(Some(URL.to_owned()))));
    let ended = w.tabs[0].ended[0].0;
    // The lock went a grace period after the end: to the follower's queued
    // request, which no job wanted any more.
    assert!(w.locks["a"].0.is_none(), "let go");
    assert!(w.tabs[0]
        .said
        .iter()
        .any(|(t, what)| *t == ended && *what == "end"));
}

#[test]
fn a_tab_that_joins_later_gets_the_record_though_it_has_not_changed() {
    let mut w = World::new(2, 60_000);
    w.start(0, "a");
    w.run_until(2_500);
    // The leader had nobody to tell: it kept no record.
    assert!(w.tabs[0].last.is_empty());
    w.start(1, "a");
    w.run_until(5_000);
    let job = w.tabs[1].job("a").unwrap();
    let updates: Vec<u64> = (w.tabs[1].updates.iter())
        .filter(|(_, j)| *j == job)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(updates.len(), 1, "one update, with the unchanged record");
    // The leader's next answer after the hello carried it.
    let answer = (w.tabs[0].requests.iter())
        .map(|(t, ..)| t + w.rtt)
        .find(|t| *t > 2_500)
        .unwrap();
    assert_eq!(updates[0], answer + w.latency);
}

#[test]
fn claims_go_a_turn_at_a_time_and_grants_half_a_turn() {
    let mut w = World::new(1, u64::MAX);
    let n = 3 * TURN + 1;
    for i in 0..n {
        w.start(0, &format!("j{i}"));
    }
    assert_eq!(w.tabs[0].asked, 0, "none inside the start");
    let mut turns = 0;
    while w.leaders(0) < n {
        let (asked, leaders) = (w.tabs[0].asked, w.leaders(0));
        w.turn(0);
        // A tab alone: each lock is granted at once (an event after the
        // turn), and its job leads from a coming turn.
        w.run_events();
        assert!(w.tabs[0].asked - asked <= TURN, "claims per turn");
        assert!(w.leaders(0) - leaders <= TURN / 2, "new leaders per turn");
        turns += 1;
        assert!(turns < 100, "every job leads in the end");
    }
    assert_eq!(w.tabs[0].asked, n);
    // Then each polls (a herd started in one millisecond spreads its first
    // polls over the first wait, 1 s).
    w.run_until(999);
    let mut polled: Vec<JobId> = w.tabs[0].requests.iter().map(|(_, j, _)| *j).collect();
    polled.sort();
    polled.dedup();
    assert_eq!(polled.len(), n);
    assert_eq!(w.tabs[0].requests.len(), n, "once each");
}

#[test]
fn a_tab_alone_says_nothing_but_its_hello_and_keeps_no_records() {
    let mut w = World::new(1, 3000);
    w.start(0, "a");
    w.run_until(10_000);
    assert_eq!(w.tabs[0].result("a"), Some(&Ok(Some(URL.to_owned()))));
    let said: Vec<&str> = w.tabs[0].said.iter().map(|(_, what)| *what).collect();
    assert_eq!(said, vec!["hello"]);
    assert!(w.tabs[0].last.is_empty());
    assert_eq!(w.tabs[0].learned.len(), 1);
    assert!(w.locks["a"].0.is_none(), "its lock went with the job");
}
