//! Three tabs sharing jobs, driven by random starts, stops, tab closings,
//! server completions and clock steps: each tab a job table and its sharing
//! roles (`core::sharing::Roles`), executed as the browser layer does (the
//! simulator of tests/harness/tabs.rs, shared with tests/tabs.rs), wired
//! through a fake lock manager (one holder per name, requests granted in
//! order after a random delay, a closed tab's locks let go) and a fake
//! channel (every other open tab, after a random delay, first in first out
//! per sender and receiver as `BroadcastChannel` is). What the tabs rely on:
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

use std::collections::{BTreeMap, HashMap};

use harness::browser::polling;
use harness::tabs::{Sim, World};
use harness::{done, pending};
use proptest::prelude::*;
use proptest::test_runner::Config as PropConfig;
use smart_polling::core::job::Reply;
use smart_polling::core::table::{Ended, JobId, Kind};
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

/// Random delays (lock grants 0-30 ms, messages 0-800 ms, answers 10-210
/// ms), the server's state per id, and what the checks need to know. A
/// broken rule panics, which proptest takes as a failure and shrinks.
struct Random {
    rng: u64,
    /// The last delivery time per (sender, receiver): the channel is FIFO.
    fifo: HashMap<(usize, usize), u64>,
    done: [bool; 2],
    /// Subscriber → (tab, id, endings heard, result of the last).
    subs: BTreeMap<u32, (usize, &'static str, u32, Option<Ending>)>,
    next_sub: u32,
    /// Jobs that followed in another tab when a leader told them of a
    /// completion, (leader's tab, tab, job): none of them may poll after it.
    /// A leader's tab that closes lets go of the lock before its grace is
    /// over: then a follower may take over and poll once more before the
    /// news arrives (a race of the platform).
    told: Vec<(usize, usize, JobId)>,
}

impl Random {
    /// A random delay below `max` (xorshift).
    fn delay(&mut self, max: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % max
    }

    fn heard(&mut self, e: &Ended<u32>, result: Ending) {
        for s in &e.subscribers {
            let sub = self.subs.get_mut(s).unwrap();
            assert_eq!(sub.2, 0, "subscriber {s} heard two endings");
            sub.2 += 1;
            sub.3 = Some(result.clone());
        }
    }
}

impl Sim for Random {
    type Sub = u32;

    fn config(&self) -> Config {
        Config {
            timeout: 600_000,
            ..polling()
        }
    }

    fn grant_delay(w: &mut World<Self>) -> u64 {
        w.sim.delay(30)
    }

    fn message_at(w: &mut World<Self>, from: usize, to: usize) -> u64 {
        let after = w.sim.fifo.get(&(from, to)).copied().unwrap_or(0);
        let at = (w.now + w.sim.delay(800)).max(after);
        w.sim.fifo.insert((from, to), at);
        at
    }

    fn answer(w: &mut World<Self>, _: usize, id: &str) -> (u64, Reply) {
        let reply = if w.sim.done[IDS.iter().position(|i| *i == id).unwrap()] {
            done(URL)
        } else {
            pending()
        };
        (w.now + 10 + w.sim.delay(200), reply)
    }

    fn on_request(w: &World<Self>, tab: usize, job: JobId) {
        let t = &w.tabs[tab];
        let id = t.table.key(job).unwrap().1;
        assert!(t.roles.leads(job), "tab {tab} polls {id} and does not lead");
        assert_eq!(t.holds.get(id), Some(&job), "polls without the lock");
        assert_eq!(w.locks[id].0, Some(tab));
        assert!(
            !w.sim.told.iter().any(|t| (t.1, t.2) == (tab, job)),
            "tab {tab} took over {id} after it heard of its completion"
        );
    }

    fn on_left(w: &mut World<Self>, _: usize, e: &Ended<u32>) {
        w.sim.heard(e, Err("left".into()));
    }

    fn on_finished(w: &mut World<Self>, tab: usize, e: &Ended<u32>, tell: bool) {
        w.sim
            .heard(e, e.result.clone().map_err(|err| err.kind().to_owned()));
        if tell && e.result.is_ok() {
            // The end reaches them within 800 ms, before the lock's grace
            // is over: they never take over.
            for other in (0..TABS).filter(|o| *o != tab && w.tabs[*o].open) {
                let t = &w.tabs[other];
                let job = t.table.find(Kind::File, &e.id);
                let follows = job.and_then(|j| t.table.job(j));
                if follows.is_some_and(|j| j.is_running() && j.is_following()) {
                    w.sim.told.push((tab, other, job.unwrap()));
                }
            }
        }
    }

    /// At most one open tab leads each id, and only with its lock.
    fn after_step(w: &World<Self>) {
        for id in IDS {
            let leaders: Vec<usize> = (0..TABS)
                .filter(|&t| w.tabs[t].open)
                .filter(|&t| {
                    let tab = &w.tabs[t];
                    tab.job(id).is_some_and(|j| tab.roles.leads(j))
                })
                .collect();
            assert!(leaders.len() <= 1, "{id} led by tabs {leaders:?}");
            if let Some(&t) = leaders.first() {
                assert_eq!(
                    w.locks.get(id).and_then(|l| l.0),
                    Some(t),
                    "a leader without the lock"
                );
            }
        }
    }
}

fn apply(w: &mut World<Random>, op: Op) {
    match op {
        Op::Start(tab, id) if w.tabs[tab].open => {
            w.sim.next_sub += 1;
            let sub = w.sim.next_sub;
            w.sim.subs.insert(sub, (tab, IDS[id], 0, None));
            w.start(tab, IDS[id], sub);
        }
        Op::Stop(tab, id) if w.tabs[tab].open => {
            if let Some(e) = w.stop(tab, IDS[id]) {
                w.sim.heard(&e, Err("stopped".into()));
            }
        }
        Op::Close(tab) if w.tabs[tab].open => {
            w.close(tab);
            w.sim.told.retain(|t| t.0 != tab);
        }
        Op::Advance(ms) => w.run_until(w.now + ms),
        Op::Done(id) => w.sim.done[id] = true,
        _ => {}
    }
    Random::after_step(w);
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
    let sim = Random {
        rng: seed | 1,
        fifo: HashMap::new(),
        done: [false; 2],
        subs: BTreeMap::new(),
        next_sub: 0,
        told: Vec::new(),
    };
    let mut w = World::new(TABS, sim);
    for op in ops {
        apply(&mut w, op);
    }
    // The server completes everything: every open tab's job ends with the
    // completion, whoever leads, within a few polls and takeovers.
    w.sim.done = [true; 2];
    w.run_until(w.now + 30_000);
    for (n, (tab, id, heard, result)) in &w.sim.subs {
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
