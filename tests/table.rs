//! The manager's job table driven by a fake browser and a fake clock:
//! deduplication and joining, generations, one timer for every job, the turn
//! bound, the stream cap, stops, metrics and statuses, and the re-entrant
//! calls the browser layer makes while it steps through the queue; the
//! subscribers' own terms (deadlines, limits on errors in a row), the
//! per-origin cooldown after a 429 and the per-origin retry budget, against
//! a fake server with latency. Asserted as requests made, steps emitted and
//! times waited.

mod harness;

use std::collections::BTreeSet;

use harness::browser::{every, polling, streaming, Browser, Seen};
use harness::{done, pending, pending_after, rate_limited, record, status};
use smart_polling::core::job::{Action, Closed, Input, Reply};
use smart_polling::core::metrics::RetryBudgetReport;
use smart_polling::core::record::State;
use smart_polling::core::schedule::{Intervals, Jitter};
use smart_polling::core::stream::StreamEvent;
use smart_polling::core::table::{
    gate_key, JobId, Kind, RetryBudget, Step, Table, OFFLINE_RECHECK_MS, STREAM_PAUSE_MS,
    STREAM_TRIES, TURN,
};
use smart_polling::{Channel, Config, PollError};

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
fn jobs_with_equal_schedules_share_one_list() {
    let mut b = Browser::new(0);
    // Each config builds its own list, as each start does.
    let a = b.start(Kind::File, "a", "a");
    let c = b.start(Kind::File, "c", "c");
    let other = b.start_with(Kind::File, "o", every(700), "o");
    let list = |b: &Browser, j| b.table.job(j).unwrap().config().intervals.clone();
    assert!(list(&b, a).same(&list(&b, c)), "equal lists: one held");
    let config = |b: &Browser, j| b.table.job(j).unwrap().config() as *const Config;
    assert_eq!(
        config(&b, a),
        config(&b, c),
        "equal configurations: one held"
    );
    assert_ne!(config(&b, a), config(&b, other));
    assert!(!list(&b, a).same(&list(&b, other)));
    assert_eq!(list(&b, other).wait(0), 700);
    // The shared list outlives the job that brought it.
    b.table.stop(b.now, Kind::File, "a");
    let d = b.start(Kind::File, "d", "d");
    assert!(list(&b, c).same(&list(&b, d)));
}

#[test]
fn jobs_sharing_a_configuration_keep_their_own_jitter() {
    let mut b = Browser::new(0);
    let jittered = |seed| Config {
        jitter: Jitter::Bounded(0.5),
        seed,
        ..polling()
    };
    let x = b.start_with(Kind::File, "x", jittered(1), "x");
    let y = b.start_with(Kind::File, "y", jittered(2), "y");
    let config = |b: &Browser, j| b.table.job(j).unwrap().config() as *const Config;
    assert_eq!(config(&b, x), config(&b, y), "one configuration held");
    b.script(x, [pending(), pending()]);
    b.script(y, [pending(), pending()]);
    b.run_until(3000);
    assert_ne!(b.requests(x), b.requests(y), "each its own seed");
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
    b.script(p, [record(State::Complete { url: None }, 5)]);
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
    assert!(!b.res.contains_key(&old), "released");
    assert!(b.table.subscribers(old).is_none());
    assert!(b.table.key(old).is_none());
    assert!(b.table.job(old).is_none());
    assert_eq!(b.table.find(Kind::File, "gen"), None);

    b.now = 100;
    let new = b.start(Kind::File, "gen", "s2");
    assert_ne!(new, old);
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
    assert!(!b.res.contains_key(&old), "released");
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
        b.released[&new],
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
    // Started over three milliseconds (no herd spreading), all due at 10.
    let jobs: Vec<JobId> = (0..TURN + 10)
        .map(|i| {
            b.now = (i % 3) as u64;
            let id = format!("j{i}");
            b.start(Kind::File, &id, "s")
        })
        .collect();
    b.now = 10;
    assert!(b.table.on_timer(10), "more are due");
    b.drain();
    let sent: Vec<JobId> = jobs
        .iter()
        .copied()
        .filter(|j| b.requests(*j) == [10])
        .collect();
    assert_eq!(sent.len(), TURN);
    // Due in order of their wake times: the first left is the TURN-th.
    let mut due: Vec<u64> = (0..TURN + 10).map(|i| (i % 3) as u64).collect();
    due.sort();
    assert_eq!(
        b.table.next_wake(),
        Some(due[TURN]),
        "the rest are still due"
    );

    assert!(!b.table.on_timer(10));
    b.drain();
    assert!(jobs.iter().all(|j| b.requests(*j) == [10]));
    assert_eq!(b.count(jobs[0], "send"), 1);
}

#[test]
fn a_herd_started_at_once_spreads_its_first_polls_over_the_first_wait() {
    let mut b = Browser::new(0);
    let n = 10 * TURN;
    let jobs: Vec<JobId> = (0..n)
        .map(|i| b.start(Kind::File, &format!("h{i}"), "s"))
        .collect();
    for j in &jobs {
        b.script(*j, std::iter::repeat_n(pending(), 3));
    }
    b.run_until(999);
    let firsts: Vec<u64> = jobs.iter().map(|j| b.requests(*j)[0]).collect();
    assert!(
        firsts[..TURN].iter().all(|&t| t == 0),
        "a turn's worth at once"
    );
    assert!(
        firsts.iter().all(|&t| t < 1000),
        "all within the first wait (1 s)"
    );
    // No 100 ms window gets much more than its share of the rest.
    let mut per = [0usize; 10];
    for &t in &firsts[TURN..] {
        per[(t / 100) as usize] += 1;
    }
    let mean = (n - TURN) / 10;
    assert!(per.iter().all(|&c| c <= 2 * mean), "{per:?}");
}

#[test]
fn a_herds_spread_is_capped_by_max_delay_as_every_wait() {
    // A learned schedule's first wait can be seconds; `maxDelay` caps every
    // wait but a server's, the herd's spread of first polls included.
    let mut b = Browser::new(0);
    let cfg = Config {
        intervals: Intervals::new(vec![7000]).unwrap(),
        initial_delay: 5,
        max_delay: 5,
        ..polling()
    };
    let n = 4 * TURN;
    let jobs: Vec<JobId> = (0..n)
        .map(|i| b.start_with(Kind::File, &format!("h{i}"), cfg.clone(), "s"))
        .collect();
    for j in &jobs {
        b.script(*j, [pending()]);
    }
    b.run_until(100);
    let first = |j: &JobId| b.requests(*j).first().copied().unwrap_or(u64::MAX);
    let firsts: Vec<u64> = jobs.iter().map(first).collect();
    assert!(
        firsts.iter().all(|&t| t <= 5),
        "all within maxDelay: {firsts:?}"
    );
    assert!(firsts.iter().any(|&t| t > 0), "still spread: {firsts:?}");
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

    // s1's stream fails: it polls at the next turn, and its slot is free.
    b.now = 100;
    assert_eq!(
        b.feed(s1, Input::StreamFailed),
        vec![Seen::Act(s1, "close"), Seen::Act(s1, "progress")]
    );
    let s4 = b.start_with(Kind::File, "s4", streaming(), "4");
    let s5 = b.start_with(Kind::File, "s5", streaming(), "5");
    b.fire();
    assert_eq!(b.requests(s1), vec![100]);
    assert_eq!(b.acts(s4), vec!["open", "progress"]);
    assert_eq!(b.acts(s5), vec!["send", "progress"]);

    // s2 completes on its stream (its record fetched): its slot is free again.
    b.now = 200;
    b.feed(
        s2,
        Input::StreamMessage(StreamEvent::Result("https://cdn/2.mp4".into())),
    );
    b.fire();
    assert_eq!(b.requests(s2), vec![200], "the result's record");
    let out = b.respond(s2, done("https://cdn/2.mp4"));
    assert!(
        out.ends_with(&[Seen::Act(s2, "close"), Seen::Finished(s2)]),
        "{out:?}"
    );
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

/// Why each of `job`'s streams closed, in order.
fn closes(b: &Browser, job: JobId) -> Vec<Closed> {
    b.log
        .iter()
        .filter_map(|(_, j, a)| match a {
            Action::CloseStream(why) if *j == job => Some(*why),
            _ => None,
        })
        .collect()
}

/// Found by tests/table_properties.rs: the server's wait was dropped when
/// no retry followed it.
#[test]
fn a_429_that_ends_its_job_still_cools_its_origin_down() {
    for (name, cfg, result) in [
        (
            "last attempt",
            Config {
                max_attempts: 1,
                ..polling()
            },
            PollError::MaxAttempts,
        ),
        (
            "deadline",
            Config {
                timeout: 100,
                ..polling()
            },
            // (no request was held back: a plain timeout)
            PollError::Timeout,
        ),
    ] {
        let mut b = Browser::new(0);
        let a = b.start_at(Kind::File, "a", "https://one", cfg, "a");
        b.fire();
        b.now = 100;
        b.respond(a, rate_limited(5_000));
        assert_eq!(b.ended(a).result, Err(result), "{name}");
        let next = b.start_at(Kind::File, "b", "https://one", polling(), "b");
        let other = b.start_at(Kind::File, "c", "https://two", polling(), "c");
        b.run_until(10_000);
        let first = b.requests(next)[0];
        // (the first after a cooldown is the origin's probe, a little later)
        assert!(
            (5_100..6_100).contains(&first),
            "{name}: sent at {first}, asked for 5 s"
        );
        assert_eq!(
            b.requests(other)[0],
            100,
            "{name}: another origin is not held"
        );
    }
}

#[test]
fn streams_that_keep_failing_to_open_are_paused_for_new_jobs() {
    let mut b = Browser::new(8);
    // A server with no stream route: the first stream is refused, the job
    // polls at once.
    let a = b.start_with(Kind::File, "a", streaming(), "a");
    b.fire();
    b.now = 100;
    b.feed(a, Input::StreamFailed);
    b.fire();
    assert_eq!(closes(&b, a), vec![Closed::Refused]);
    assert_eq!(b.requests(a), vec![100]);
    // The second does not open within sseConnectTimeout: that is two in a
    // row, and the pause begins (the page's log says so).
    let c = b.start_with(Kind::File, "c", streaming(), "c");
    b.fire();
    b.now = 2100;
    b.fire();
    assert_eq!(closes(&b, c), vec![Closed::Paused]);
    assert_eq!(b.requests(c), vec![2100]);
    // Jobs started in the pause poll at once and open no stream.
    let d = b.start_with(Kind::File, "d", streaming(), "d");
    b.fire();
    assert_eq!(b.acts(d), vec!["send", "progress"]);
    assert!(!b.table.job(d).unwrap().config().use_stream);
    b.now = 2100 + STREAM_PAUSE_MS - 1;
    let e = b.start_with(Kind::File, "e", streaming(), "e");
    b.fire();
    assert!(!b.table.job(e).unwrap().config().use_stream);
    // After it, the next job tries again; one more refusal pauses again.
    b.now = 2100 + STREAM_PAUSE_MS;
    let f = b.start_with(Kind::File, "f", streaming(), "f");
    b.fire();
    assert_eq!(b.acts(f), vec!["open", "progress"]);
    b.now += 50;
    b.feed(f, Input::StreamFailed);
    assert_eq!(closes(&b, f), vec![Closed::Paused]);
    let g = b.start_with(Kind::File, "g", streaming(), "g");
    b.fire();
    assert!(!b.table.job(g).unwrap().config().use_stream);
    assert_eq!(STREAM_TRIES, 2);
}

#[test]
fn a_stream_that_opens_ends_a_pause_and_refusals_offline_do_not_count() {
    let mut b = Browser::new(8);
    let a = b.start_with(Kind::File, "a", streaming(), "a");
    let c = b.start_with(Kind::File, "c", streaming(), "c");
    let e = b.start_with(Kind::File, "e", streaming(), "e");
    b.fire();
    b.now = 100;
    b.feed(a, Input::StreamFailed);
    b.feed(c, Input::StreamFailed);
    assert_eq!(closes(&b, c), vec![Closed::Paused]);
    // e's stream, asked for before the pause, opens: the route works.
    b.feed(e, Input::StreamOpened);
    let d = b.start_with(Kind::File, "d", streaming(), "d");
    let d2 = b.start_with(Kind::File, "d2", streaming(), "d2");
    b.fire();
    assert_eq!(b.acts(d), vec!["open", "progress"], "the pause is over");

    // Offline, streams fail whatever the route: none counts, and a job
    // started offline opens none (it polls once back online).
    b.now = 200;
    b.table.set_online(200, false);
    b.feed(d, Input::StreamFailed);
    b.feed(d2, Input::StreamFailed);
    assert_eq!(
        closes(&b, d2),
        vec![Closed::Refused],
        "two in a row, no pause"
    );
    b.feed(e, Input::StreamFailed);
    let f = b.start_with(Kind::File, "f", streaming(), "f");
    b.fire();
    assert!(!b.table.job(f).unwrap().config().use_stream);
    assert!(!b.acts(f).contains(&"open"), "{:?}", b.acts(f));
    b.now = 300;
    b.table.set_online(300, true);
    b.drain();
    let g = b.start_with(Kind::File, "g", streaming(), "g");
    b.fire();
    assert_eq!(b.acts(g), vec!["open", "progress"]);
    // Two refusals just before the browser knew it was offline: coming
    // back online forgets them.
    b.now = 400;
    let h = b.start_with(Kind::File, "h", streaming(), "h");
    b.fire();
    b.feed(g, Input::StreamFailed);
    b.feed(h, Input::StreamFailed);
    assert_eq!(closes(&b, h), vec![Closed::Paused]);
    b.table.set_online(400, false);
    b.table.set_online(450, true);
    b.drain();
    b.now = 450;
    let i = b.start_with(Kind::File, "i", streaming(), "i");
    b.fire();
    assert_eq!(b.acts(i), vec!["open", "progress"]);
}

#[test]
fn a_stream_that_opens_ends_the_run_of_refusals_and_a_drop_is_not_one() {
    let mut b = Browser::new(8);
    let a = b.start_with(Kind::File, "a", streaming(), "a");
    let c = b.start_with(Kind::File, "c", streaming(), "c");
    b.fire();
    b.now = 100;
    b.feed(a, Input::StreamFailed);
    // c's stream opens (here by its first message): the run is over.
    b.feed(c, Input::StreamMessage(StreamEvent::Progress(5)));
    b.now = 200;
    let d = b.start_with(Kind::File, "d", streaming(), "d");
    b.fire();
    b.now = 300;
    b.feed(d, Input::StreamFailed);
    assert_eq!(
        closes(&b, d),
        vec![Closed::Refused],
        "one in a row, not two"
    );
    // An open stream that drops was no refusal: the next job still streams.
    b.now = 400;
    b.feed(c, Input::StreamFailed);
    assert_eq!(closes(&b, c), vec![Closed::Failed]);
    let h = b.start_with(Kind::File, "h", streaming(), "h");
    b.fire();
    assert_eq!(b.acts(h), vec!["open", "progress"]);
    // Jobs that stop or end on their stream do not count either.
    b.table.stop(400, Kind::File, "h").unwrap();
    b.streams.remove(&h);
    let i = b.start_with(Kind::File, "i", streaming(), "i");
    b.fire();
    assert_eq!(b.acts(i), vec!["open", "progress"]);
}

#[test]
fn streams_with_no_place_among_the_tabs_start_no_pause() {
    // "Busy" says nothing of the route: two in a row do not pause streams.
    let mut b = Browser::new(4);
    let a = b.start_with(Kind::File, "a", streaming(), "a");
    let c = b.start_with(Kind::File, "c", streaming(), "c");
    b.fire();
    b.now = 10;
    b.feed(a, Input::StreamBusy);
    b.feed(c, Input::StreamBusy);
    assert_eq!(closes(&b, a), vec![Closed::Busy]);
    assert_eq!(closes(&b, c), vec![Closed::Busy]);
    let d = b.start_with(Kind::File, "d", streaming(), "d");
    b.fire();
    assert_eq!(
        b.acts(d),
        vec!["open", "progress"],
        "the next job tries its stream"
    );
    assert_eq!(b.requests(a), vec![10], "a polls at once");
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
    b.res.entry(a).or_default().push("mine");

    // A turn queues both jobs' steps; a is stopped before any is executed.
    assert!(!b.table.on_timer(0));
    b.now = 10;
    let e = b.table.stop(10, Kind::File, "a").expect("a was running");
    assert_eq!(e.job, a);
    assert_eq!((e.kind, e.id.as_str()), (Kind::File, "a"));
    assert_eq!(e.result, Err(PollError::Stopped));
    assert_eq!(e.outcome, None);
    assert_eq!(e.subscribers, vec!["a1", "a2"]);
    // The table hands back the job's key: the executor drops what it holds.
    assert_eq!(b.res.remove(&e.job), Some(vec!["mine"]));
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
    assert_eq!(
        b.res.remove(&e.job),
        Some(vec!["send", "progress", "update", "progress"])
    );
    // Its timer at 1000 and a late response find nothing.
    b.run_until(10_000);
    b.table.handle(10_000, a, Input::Response(pending()));
    b.table.nudge_all(10_000);
    assert!(b.table.poll().is_none());
    assert_eq!(b.requests(a), vec![0]);
    assert!(b.ended.is_empty(), "a stop is not a Finished step");
}

#[test]
fn a_stop_takes_back_ends_not_yet_handed_out() {
    let mut b = Browser::new(0);
    let short = || Config {
        timeout: 500,
        ..polling()
    };
    // Two callers whose own deadlines pass in one turn: one leaves a job
    // that goes on, the other ends its job.
    b.start(Kind::File, "a", "a-long");
    b.start_with(Kind::File, "a", short(), "a-short");
    b.start_with(Kind::File, "c", short(), "c-only");
    b.fire();
    b.now = 500;
    b.table.on_timer(500);
    // A callback of the first end stops everything: the second is not
    // handed out, it comes back with the stop.
    let first = b.table.poll().expect("an end is queued");
    assert!(matches!(first, Step::Left(_) | Step::Finished(_)));
    let all = b.table.stop_all(500);
    assert!(b.table.poll().is_none(), "nothing after the stop");
    let heard: Vec<&str> = all.iter().flat_map(|e| e.subscribers.clone()).collect();
    assert_eq!(heard.len(), 2, "{heard:?}");

    // The same for a single stop: a caller that left hears nothing after.
    let mut b = Browser::new(0);
    b.start(Kind::File, "d", "d-long");
    b.start_with(Kind::File, "d", short(), "d-short");
    b.fire();
    b.now = 500;
    b.table.on_timer(500);
    let ended = b.table.stop(500, Kind::File, "d").expect("running");
    assert!(
        b.table.poll().is_none(),
        "the left caller's end was taken back"
    );
    assert_eq!(ended.subscribers, vec!["d-long", "d-short"]);
}

#[test]
fn a_followers_end_has_no_next_poll() {
    let mut b = Browser::new(0);
    b.now = 10_000;
    let f = b.start(Kind::File, "f", "f");
    b.table.handle(b.now, f, Input::Follow);
    b.fire();
    b.table.handle(
        b.now,
        f,
        Input::Mirror(smart_polling::core::job::Mirror {
            attempts: 3,
            elapsed: 4000,
            next_poll_in: Some(2000),
            channel: Channel::Polling,
            percent: None,
            position: 3,
            fingerprint: None,
            errors: 0,
            error: None,
        }),
    );
    b.table.handle(
        b.now,
        f,
        Input::MirrorEnd(Ok(Some("https://cdn/f.png".into()))),
    );
    b.drain();
    let (_, ended) = b.ended.last().expect("ended");
    assert_eq!(ended.result, Ok(Some("https://cdn/f.png".into())));
    assert_eq!(ended.progress.next_poll_in, None, "not an absolute time");
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
    assert_eq!(b.table.find(Kind::File, "a"), None, "ids released");
    assert_eq!(b.table.find(Kind::Project, "p"), None);
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
    assert_eq!(b.requests(idle), vec![0], "sent by the next turn");
    assert_eq!(b.table.next_wake(), Some(2000));
    assert!(
        b.acts(later).is_empty(),
        "not started: its first turn decides"
    );
    b.fire();
    assert_eq!(b.requests(idle), vec![0, 2000], "polled at once");
    assert_eq!(b.requests(busy), vec![0], "its request is still in flight");
    assert_eq!(b.requests(later), vec![2000]);
}

#[test]
fn the_table_is_generic_over_subscribers() {
    let mut t: Table<u32> = Table::new(0);
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

// 12. Subscribers' own terms: deadlines and limits on errors in a row.

fn timeout(ms: u64) -> Config {
    Config {
        timeout: ms,
        ..polling()
    }
}

fn limit(errors: u32) -> Config {
    Config {
        max_consecutive_errors: Some(errors),
        ..polling()
    }
}

#[test]
fn a_joiner_with_a_shorter_timeout_leaves_alone_at_its_deadline() {
    let script = || std::iter::repeat_n(pending(), 8).chain([done("https://cdn/x.png")]);
    // The same job without the joiner: what the server must see.
    let mut alone = Browser::new(0);
    let lone = alone.start(Kind::File, "x", "first");
    alone.script(lone, script());
    alone.run_until(60_000);

    let mut b = Browser::new(0);
    let a = b.start(Kind::File, "x", "first"); // timeout 60 s
    b.script(a, script());
    b.run_until(500);
    assert_eq!(b.start_with(Kind::File, "x", timeout(2000), "short"), a);
    assert_eq!(b.table.subscribers(a), Some(&["first", "short"][..]));
    b.run_until(2499);
    assert!(b.ended.is_empty(), "not before its deadline");
    b.run_until(2500);
    assert_eq!(b.ended.len(), 1);
    assert_eq!(b.ended_at(a), 2500);
    assert!(b.seen.contains(&Seen::Left(a)));
    let (_, e) = &b.ended[0];
    assert_eq!(e.result, Err(PollError::Timeout));
    assert_eq!(e.subscribers, vec!["short"]);
    assert_eq!(e.outcome, None, "the job goes on");
    // The job goes on, with what the executor holds for it.
    assert!(b.res.get(&a).is_some_and(|held| held.contains(&"send")));
    assert!(!b.released.contains_key(&a));
    assert_eq!(b.table.subscribers(a), Some(&["first"][..]));
    assert_eq!(b.table.find(Kind::File, "x"), Some(a), "same job id");
    assert_eq!(b.table.metrics().finished(), 0);

    b.run_until(60_000);
    assert_eq!(
        b.requests(a),
        alone.requests(lone),
        "one schedule of requests"
    );
    assert_eq!(b.requests(a), (0..9).map(|i| i * 1000).collect::<Vec<_>>());
    let seen: Vec<&Seen> = b
        .seen
        .iter()
        .filter(|s| !matches!(s, Seen::Act(..)))
        .collect();
    assert_eq!(seen, vec![&Seen::Left(a), &Seen::Finished(a)]);
    let (_, last) = b.ended.last().unwrap();
    assert_eq!(last.result, Ok(Some("https://cdn/x.png".into())));
    assert_eq!(
        last.subscribers,
        vec!["first"],
        "the one who left hears once"
    );
    assert_eq!(b.table.metrics().finished(), 1);
}

#[test]
fn a_joiner_with_a_longer_timeout_keeps_the_job_running() {
    let mut b = Browser::new(0);
    let a = b.start_with(Kind::File, "x", timeout(3000), "first");
    b.script(a, std::iter::repeat_n(pending(), 100));
    b.run_until(500);
    assert_eq!(b.start_with(Kind::File, "x", timeout(10_000), "late"), a);
    b.run_until(3000);
    assert_eq!(b.ended.len(), 1);
    assert!(b.seen.contains(&Seen::Left(a)));
    let (at, e) = &b.ended[0];
    assert_eq!(*at, 3000, "the first caller's own deadline");
    assert_eq!(e.result, Err(PollError::Timeout));
    assert_eq!(e.subscribers, vec!["first"]);
    assert_eq!(e.outcome, None);
    assert!(b.table.contains(a));
    assert_eq!(b.table.subscribers(a), Some(&["late"][..]));

    b.run_until(100_000);
    // Polled on its schedule until the joiner's deadline (500 + 10 000).
    assert_eq!(
        b.requests(a),
        (0..=10).map(|i| i * 1000).collect::<Vec<_>>()
    );
    assert_eq!(b.ended.len(), 2);
    assert_eq!(b.seen.last(), Some(&Seen::Finished(a)));
    let (at, e) = &b.ended[1];
    assert_eq!(*at, 10_500);
    assert_eq!(e.result, Err(PollError::Timeout));
    assert_eq!(e.subscribers, vec!["late"]);
    let o = e
        .outcome
        .expect("a job that ended by its terms is recorded");
    assert_eq!((o.error, o.duration), (Some(PollError::Timeout), 10_500));
    assert!(b.table.is_empty());
    let m = b.table.metrics();
    assert_eq!(m.finished(), 1);
    assert_eq!(m.error_distribution(), &[("timeout", 1)]);
}

#[test]
fn a_longer_joiner_after_the_cut_keeps_the_schedule() {
    let mut b = Browser::new(0);
    let a = b.start_with(Kind::File, "x", timeout(2500), "first");
    b.script(a, std::iter::repeat_n(pending(), 100));
    // The reply at 2000 scheduled the next poll at 3000, cut to 2500.
    b.run_until(2200);
    assert_eq!(b.start_with(Kind::File, "x", timeout(10_000), "late"), a);
    b.run_until(6000);
    assert_eq!(b.ended_at(a), 2500, "the first caller left");
    assert_eq!(b.requests(a), vec![0, 1000, 2000, 3000, 4000, 5000, 6000]);
}

#[test]
fn each_subscriber_has_its_own_limit_on_errors_in_a_row() {
    let mut b = Browser::new(0);
    let a = b.start_with(Kind::File, "x", limit(2), "a");
    assert_eq!(b.start_with(Kind::File, "x", limit(4), "b"), a);
    b.script(a, std::iter::repeat_n(status(503), 10));
    b.run_until(100_000);
    // Backoff 1 s, 2 s, 4 s.
    assert_eq!(b.requests(a), vec![0, 1000, 3000, 7000]);
    assert_eq!(b.ended.len(), 2);
    let (at, left) = &b.ended[0];
    assert_eq!(*at, 1000, "a's second error in a row");
    assert_eq!(left.result, Err(PollError::Server(503)));
    assert_eq!(left.subscribers, vec!["a"]);
    assert_eq!(left.outcome, None);
    let (at, fin) = &b.ended[1];
    assert_eq!(*at, 7000, "b's fourth");
    assert_eq!(fin.result, Err(PollError::Server(503)));
    assert_eq!(fin.subscribers, vec!["b"]);
    let kinds: Vec<&Seen> = b
        .seen
        .iter()
        .filter(|s| !matches!(s, Seen::Act(..)))
        .collect();
    assert_eq!(kinds, vec![&Seen::Left(a), &Seen::Finished(a)]);
    assert!(b.table.is_empty());
    let r = b.table.report();
    assert_eq!((r.failed_jobs, r.completed_jobs), (1, 0));
    assert_eq!(b.table.metrics().error_distribution(), &[("server", 1)]);
    assert_eq!(fin.outcome.unwrap().attempts, 4);
}

#[test]
fn a_429_does_not_count_as_an_error_in_a_row_and_a_record_or_a_404_resets() {
    let mut b = Browser::new(0);
    let a = b.start_with(Kind::File, "x", limit(2), "a");
    assert_eq!(b.start_with(Kind::File, "x", limit(3), "b"), a);
    // Errors in a row after each reply: 1 1 0 1 0 1 2 | 0 1 2 3.
    b.script(
        a,
        [
            status(503),
            rate_limited(500),
            status(404),
            status(503),
            pending(),
            status(503),
            status(502),
            status(404),
            status(500),
            status(503),
            status(504),
        ],
    );
    b.run_until(200_000);
    let times: Vec<u64> = b.replies.iter().map(|(t, _, _)| *t).collect();
    assert_eq!(times.len(), 11);
    assert_eq!(b.ended.len(), 2);
    let (at, left) = &b.ended[0];
    assert_eq!(*at, times[6], "a leaves at the 7th reply");
    assert_eq!(left.subscribers, vec!["a"]);
    assert_eq!(left.result, Err(PollError::Server(502)));
    assert_eq!(left.outcome, None);
    let (at, fin) = &b.ended[1];
    assert_eq!(*at, times[10], "b at the 11th, not before");
    assert_eq!(fin.subscribers, vec!["b"]);
    assert_eq!(fin.result, Err(PollError::Server(504)), "the last error");
    assert!(fin.outcome.is_some());
    assert_eq!(b.table.metrics().finished(), 1);
}

#[test]
fn a_single_subscriber_times_out_exactly_once() {
    // Deadline between two polls, on a poll, and with a request in flight.
    for (t, script, want) in [
        (2500, 100, vec![0, 1000, 2000]),
        (3000, 100, vec![0, 1000, 2000]),
        (2500, 0, vec![0]),
    ] {
        let mut b = Browser::new(0);
        let a = b.start_with(Kind::File, "x", timeout(t), "s");
        b.script(a, std::iter::repeat_n(pending(), script));
        b.run_until(100_000);
        assert_eq!(b.requests(a), want, "timeout {t}");
        let e = b.ended(a); // panics on a second end
        assert_eq!(b.ended_at(a), t);
        assert_eq!(e.result, Err(PollError::Timeout));
        assert_eq!(e.subscribers, vec!["s"]);
        assert_eq!(e.outcome.unwrap().duration, t);
        assert_eq!(
            b.seen.iter().filter(|s| **s == Seen::Finished(a)).count(),
            1
        );
        assert!(!b.seen.contains(&Seen::Left(a)));
        assert_eq!(b.table.metrics().finished(), 1);
        assert_eq!(b.table.metrics().error_distribution(), &[("timeout", 1)]);
        assert!(b.table.is_empty());
        assert_eq!(b.table.next_wake(), None);
        assert!(b.table.poll().is_none());
    }
}

// 13. A 429 holds every job to the same origin.

#[test]
fn a_429_holds_the_other_jobs_of_its_origin_only() {
    let mut b = Browser::new(0);
    let a = b.start_at(Kind::File, "a", "api.one", polling(), "a");
    let c = b.start_at(Kind::File, "c", "api.one", polling(), "c");
    let d = b.start_at(Kind::File, "d", "api.two", polling(), "d");
    b.script(a, [rate_limited(4000)]);
    b.script(a, std::iter::repeat_n(pending(), 100));
    b.script(c, std::iter::repeat_n(pending(), 100));
    b.script(d, std::iter::repeat_n(pending(), 100));
    b.run_until(2000);
    // Started during the cooldown: its first request waits too.
    let e = b.start_at(Kind::Project, "e", "api.one", polling(), "e");
    b.script(e, std::iter::repeat_n(pending(), 100));
    b.run_until(6000);
    assert_eq!(b.retries(a), vec![(0, PollError::RateLimited, 4000)]);
    // After the cooldown the jobs come back spread over one wait (1 s).
    let resumed = |reqs: Vec<u64>, first: usize| {
        assert!(reqs[first..].iter().all(|&t| t >= 4000), "{reqs:?}");
        assert!(reqs[first] < 5000, "{reqs:?}");
    };
    assert_eq!(b.requests(a)[0], 0);
    resumed(b.requests(a), 1);
    assert_eq!(b.requests(c)[0], 0);
    resumed(b.requests(c), 1); // held at 1000
    resumed(b.requests(e), 0);
    assert_eq!(
        b.requests(d),
        vec![0, 1000, 2000, 3000, 4000, 5000, 6000],
        "another origin"
    );
    // No request to api.one in the cooldown.
    assert!(b
        .all_requests()
        .iter()
        .all(|(t, j)| *j == d || *t == 0 || *t >= 4000));
    assert_eq!(b.table.statuses(6000).len(), 4);
}

#[test]
fn a_cooldown_never_shortens_a_longer_wait() {
    let mut b = Browser::new(0);
    let a = b.start_at(Kind::File, "a", "api", polling(), "a");
    let slow = b.start_at(Kind::File, "slow", "api", every(10_000), "s");
    let f = b.start_at(Kind::File, "f", "api", polling(), "f");
    // a's 429 asks for 2 s, then f's (in flight meanwhile) for 8 s.
    b.script(a, [rate_limited(2000)]);
    b.script(f, [rate_limited(8000)]);
    for j in [a, slow, f] {
        b.script(j, std::iter::repeat_n(pending(), 100));
    }
    b.run_until(10_000);
    assert_eq!(b.requests(slow), vec![0, 10_000], "its own wait is longer");
    for j in [f, a] {
        let reqs = b.requests(j);
        // The origin's cooldown is the later one (8 s); then spread over a wait.
        assert_eq!(reqs[0], 0);
        assert!((8000..9000).contains(&reqs[1]), "{reqs:?}");
    }
}

#[test]
fn a_429_to_a_job_about_to_time_out_still_cools_its_origin_for_the_whole_wait() {
    let mut b = Browser::new(0);
    let short = b.start_at(Kind::File, "s", "api", timeout(3000), "s");
    let c = b.start_at(Kind::File, "c", "api", polling(), "c");
    // The server asks for 8 s; the short job times out at 3 s.
    b.script(short, [rate_limited(8000)]);
    b.script(c, std::iter::repeat_n(pending(), 100));
    b.run_until(10_000);
    assert_eq!(b.retries(short), vec![(0, PollError::RateLimited, 3000)]);
    assert_eq!(b.ended_at(short), 3000);
    let reqs = b.requests(c);
    assert_eq!(reqs[0], 0);
    assert!(
        (8000..9000).contains(&reqs[1]),
        "the server's 8 s, not 3: {reqs:?}"
    );
}

#[test]
fn a_tab_shown_again_and_again_polls_at_most_once_a_second() {
    // `visibilitychange` to visible every 100 ms: each is a nudge of every
    // job, but none polls sooner than a second after its last request.
    let mut b = Browser::new(0);
    let j = b.start_with(Kind::File, "v", every(5000), "v");
    for t in (100..=3000).step_by(100) {
        b.serve_until(t, 50, |_, _| pending());
        b.table.nudge_all(b.now);
        b.drain();
    }
    b.serve_until(3500, 50, |_, _| pending());
    let sent = b.requests(j);
    assert_eq!(sent, vec![0, 1000, 2000, 3000], "{sent:?}");
}

#[test]
fn a_flapping_connection_polls_at_most_once_a_second() {
    // `online` and `offline` every 100 ms: each return online polls, but
    // none sooner than a second after the job's last request.
    let mut b = Browser::new(0);
    let j = b.start_with(Kind::File, "f", every(5000), "f");
    let mut online = true;
    for t in (100..=3000).step_by(100) {
        b.serve_until(t, 50, |_, _| pending());
        online = !online;
        b.table.set_online(b.now, online);
        b.drain();
    }
    b.serve_until(3500, 50, |_, _| pending());
    let sent = b.requests(j);
    assert!(sent.len() >= 3, "it polls when back: {sent:?}");
    assert!(sent.windows(2).all(|w| w[1] - w[0] >= 1000), "{sent:?}");
}

#[test]
fn a_nudge_between_fast_polls_keeps_the_schedule() {
    // A 300 ms schedule polls sooner than the nudge's floor: the nudge
    // adds nothing and holds nothing back.
    let mut b = Browser::new(0);
    let j = b.start_with(Kind::File, "q", every(300), "q");
    b.serve_until(100, 50, |_, _| pending());
    b.table.nudge_all(b.now);
    b.drain();
    b.serve_until(1200, 50, |_, _| pending());
    assert_eq!(b.requests(j)[..4], [0, 350, 700, 1050]);
}

#[test]
fn a_nudge_does_not_break_the_cooldown_of_the_origin() {
    let mut b = Browser::new(0);
    let a = b.start_at(Kind::File, "a", "api", polling(), "a");
    let c = b.start_at(Kind::File, "c", "api", polling(), "c");
    b.script(a, [rate_limited(5000)]);
    b.script(c, [pending()]); // c's next poll at 1000
    b.run_until(500);
    b.table.nudge_all(500);
    b.drain();
    assert_eq!(b.requests(a), vec![0]);
    assert_eq!(
        b.requests(c),
        vec![0],
        "the cooldown of api lasts until 5000"
    );
    b.script(a, std::iter::repeat_n(pending(), 10));
    b.script(c, std::iter::repeat_n(pending(), 10));
    b.run_until(6000);
    let reqs = b.requests(c);
    assert_eq!(reqs[0], 0);
    assert!((5000..6000).contains(&reqs[1]), "{reqs:?}");
}

#[test]
fn a_herd_of_200_jobs_hears_at_most_one_429_each() {
    let mut b = Browser::new(0);
    // Jobs start every 10 ms over 2 s; the server answers in 1 s, with
    // "429, Retry-After: 2 s" for the first 3 s of the run and records
    // afterwards.
    let server = |_: JobId, now: u64| {
        if now < 3000 {
            rate_limited(2000)
        } else {
            pending()
        }
    };
    let mut jobs = Vec::new();
    for i in 0..200u64 {
        b.serve_until(i * 10, 1000, server);
        let id = format!("h{i}");
        jobs.push(b.start_at(Kind::File, &id, "api", polling(), "s"));
    }
    b.serve_until(9000, 1000, server);

    let rate_limited: Vec<u64> = b
        .replies
        .iter()
        .filter(|(_, _, r)| matches!(r, Reply::Status { status: 429, .. }))
        .map(|(t, _, _)| *t)
        .collect();
    let first = rate_limited[0];
    let end = rate_limited.iter().max().unwrap() + 2000;
    assert_eq!(first, 1000, "job 0's answer");
    for (i, j) in jobs.iter().enumerate() {
        let n = b.replies_with(*j, 429);
        assert!(n <= 1, "job {i} got {n} 429s");
        // Only requests in flight when the cooldown began get one.
        let in_flight_then = b.requests(*j)[0] < first;
        assert_eq!(n == 1, in_flight_then, "job {i}");
    }
    assert_eq!(rate_limited.len(), 100, "jobs 0..100 sent before 1000");
    assert_eq!(end, 3990);
    let early: Vec<(u64, JobId)> = b
        .all_requests()
        .into_iter()
        .filter(|(t, _)| *t > first && *t < end)
        .collect();
    assert!(early.is_empty(), "requests in the cooldown: {early:?}");
    // Then every job polls again, and hears records.
    for j in &jobs {
        assert!(b.requests(*j).iter().any(|t| *t >= end));
        assert!(b.table.contains(*j));
    }
    assert!(b
        .replies
        .iter()
        .filter(|(t, _, _)| *t >= end)
        .all(|(_, _, r)| *r == pending()));
}

// 14. The retry budget of each origin.

/// A poll every 10 s, but retries after errors 250 ms apart (no growth):
/// without a budget an outage would multiply the load by 40.
fn outage_cfg() -> Config {
    Config {
        intervals: Intervals::new(vec![10_000]).unwrap(),
        initial_delay: 250,
        backoff_multiplier: 1.0,
        max_attempts: 1_000_000,
        timeout: 3_600_000,
        ..polling()
    }
}

const OUTAGE: u64 = 600_000;

/// `n` jobs on one origin, every reply 503 for 10 minutes then records (or
/// records all along): the browser, and the early retries sent during the
/// outage (a `Retry` sooner than the job's scheduled wait).
fn outage(n: usize, budget: RetryBudget, down: bool) -> (Browser, Vec<JobId>, usize) {
    let mut b = Browser::with_budget(0, budget);
    let jobs: Vec<JobId> = (0..n)
        .map(|i| b.start_at(Kind::File, &format!("o{i}"), "api", outage_cfg(), "s"))
        .collect();
    b.serve_until(OUTAGE - 1, 0, |_, now| {
        if down && now < OUTAGE {
            status(503)
        } else {
            pending()
        }
    });
    let early = jobs
        .iter()
        .flat_map(|j| b.retries(*j))
        .filter(|(_, _, delay)| *delay < 10_000)
        .count();
    (b, jobs, early)
}

fn requests_per_minute(b: &Browser, from: u64, to: u64) -> f64 {
    let n = b
        .all_requests()
        .iter()
        .filter(|(t, _)| (from..to).contains(t))
        .count();
    n as f64 * 60_000.0 / (to - from) as f64
}

#[test]
fn under_a_long_outage_early_retries_are_bounded_by_the_budget_whatever_the_job_count() {
    let budget = RetryBudget {
        size: 10.0,
        refill: 0.1,
    };
    for n in [10, 100] {
        let (b, jobs, early) = outage(n, budget, true);
        assert!(early <= 10, "{n} jobs: {early} early retries");
        assert_eq!(early, 10, "the budget is spent, and only it");
        assert_eq!(b.table.retry_tokens("api"), 0.0);
        // Without a token, every retry waits for the scheduled poll.
        for j in &jobs {
            let retries = b.retries(*j);
            assert!(retries.iter().all(|(_, e, _)| *e == PollError::Server(503)));
            let late = retries.iter().filter(|(_, _, d)| *d == 10_000).count();
            assert!(late + 1 >= retries.len(), "{retries:?}");
            // Consecutive requests of a job are 10 s apart once the tokens
            // are gone.
            let sent = b.requests(*j);
            let gaps: Vec<u64> = sent.windows(2).map(|w| w[1] - w[0]).collect();
            assert!(gaps.iter().filter(|g| **g < 10_000).count() <= 1);
        }
        let (well, _, _) = outage(n, budget, false);
        let sick = requests_per_minute(&b, 0, OUTAGE);
        let normal = requests_per_minute(&well, 0, OUTAGE);
        assert!(
            sick <= normal * 1.1,
            "{n} jobs: {sick} requests/min in the outage, {normal} when all is well"
        );
        assert!(sick >= normal * 0.9, "{sick} vs {normal}");
    }
    // The measure would see an unbounded budget: the same outage with one.
    let unbounded = RetryBudget {
        size: 1e12,
        refill: 0.1,
    };
    let (b, _, early) = outage(10, unbounded, true);
    assert!(early > 10_000, "{early}");
    let (well, _, _) = outage(10, unbounded, false);
    assert!(requests_per_minute(&b, 0, OUTAGE) > 20.0 * requests_per_minute(&well, 0, OUTAGE));
}

#[test]
fn after_the_outage_tokens_refill_toward_the_size_and_early_retries_resume() {
    let budget = RetryBudget {
        size: 10.0,
        refill: 0.1,
    };
    let (mut b, jobs, _) = outage(10, budget, true);
    assert_eq!(b.table.retry_tokens("api"), 0.0);
    let mut last = 0.0;
    let mut t = OUTAGE;
    while t < OUTAGE + 300_000 {
        t += 10_000;
        b.serve_until(t, 0, |_, _| pending());
        let tokens = b.table.retry_tokens("api");
        assert!(tokens >= last && tokens <= 10.0, "{last} then {tokens}");
        last = tokens;
    }
    assert_eq!(last, 10.0, "full again, and capped");
    let r = b.table.report().retry_budget;
    assert_eq!(r.tokens, vec![("api".to_owned(), 10.0)]);

    // An error now retries early again, spending a token.
    let j = jobs[0];
    let before = b.retries(j).len();
    b.script(j, [status(503)]);
    b.script(j, std::iter::repeat_n(pending(), 10));
    let from = b.now;
    b.run_until(from + 20_000);
    let after = b.retries(j);
    assert_eq!(after.len(), before + 1);
    let (at, e, delay) = after[before];
    assert_eq!((e, delay), (PollError::Server(503), 250));
    assert!(b.requests(j).contains(&(at + 250)));
}

#[test]
fn a_good_record_earns_refill_back_capped_at_the_size() {
    let mut b = Browser::with_budget(
        0,
        RetryBudget {
            size: 2.0,
            refill: 0.5,
        },
    );
    assert_eq!(b.table.retry_tokens("api"), 2.0, "a fresh origin");
    let j = b.start_at(Kind::File, "j", "api", outage_cfg(), "s");
    b.script(j, [status(503), status(503), status(503)]);
    b.run_until(250);
    assert_eq!(b.table.retry_tokens("api"), 0.0);
    b.run_until(1000);
    // The third error found no token: the Retry says the scheduled wait.
    assert_eq!(
        b.retries(j),
        vec![
            (0, PollError::Server(503), 250),
            (250, PollError::Server(503), 250),
            (500, PollError::Server(503), 10_000),
        ]
    );
    assert_eq!(b.requests(j), vec![0, 250, 500]);
    let mut want = 0.0;
    for k in 1..=6 {
        b.script(j, [pending()]);
        b.run_until(500 + k * 10_000);
        want = f64::min(want + 0.5, 2.0);
        assert_eq!(b.table.retry_tokens("api"), want, "after {k} records");
    }
    assert_eq!(b.requests(j).len(), 9);
}

/// A browser whose origins have no retry token to spend (a tenth per record).
fn without_tokens() -> Browser {
    Browser::with_budget(
        0,
        RetryBudget {
            size: 0.0,
            refill: 0.1,
        },
    )
}

#[test]
fn without_a_token_a_retry_waits_for_the_progressive_wait_reached() {
    let mut b = without_tokens();
    let cfg = Config {
        intervals: Intervals::new(vec![2000, 5000]).unwrap(),
        ..outage_cfg()
    };
    let j = b.start_at(Kind::File, "j", "api", cfg, "s");
    // A record (next poll in 2 s, the schedule moves on to 5 s), then
    // errors: each waits for the scheduled poll, 5 s.
    b.script(j, [pending(), status(503), status(502), pending()]);
    b.run_until(20_000);
    assert_eq!(b.table.job(j).unwrap().scheduled_wait(), 5000);
    assert_eq!(
        b.retries(j),
        vec![
            (2000, PollError::Server(503), 5000),
            (7000, PollError::Server(502), 5000),
        ]
    );
    assert_eq!(b.requests(j), vec![0, 2000, 7000, 12_000, 17_000]);
    // The record earned a token's tenth, capped at a size of 0.
    assert_eq!(b.table.retry_tokens("api"), 0.0);
}

#[test]
fn a_retry_held_for_the_budget_is_reported_cut_at_the_deadline() {
    let mut b = without_tokens();
    let cfg = Config {
        timeout: 15_000,
        ..outage_cfg()
    };
    let j = b.start_at(Kind::File, "j", "api", cfg, "s");
    b.script(j, [pending(), status(500)]);
    b.run_until(20_000);
    // The scheduled poll would be at 20 s; the job ends at 15 s.
    assert_eq!(b.retries(j), vec![(10_000, PollError::Server(500), 5000)]);
    assert_eq!(b.requests(j), vec![0, 10_000]);
    assert_eq!(b.ended_at(j), 15_000);
}

#[test]
fn every_transient_error_spends_a_token_and_429_or_404_never_do() {
    let mut b = Browser::with_budget(
        0,
        RetryBudget {
            size: 4.0,
            refill: 0.1,
        },
    );
    let j = b.start_at(Kind::File, "j", "api", outage_cfg(), "s");
    let tokens = |b: &Browser| b.table.retry_tokens("api");
    b.fire();
    b.respond(j, rate_limited(100));
    assert_eq!(tokens(&b), 4.0, "429");
    b.run_until(1000);
    b.respond(j, status(404));
    assert_eq!(tokens(&b), 4.0, "404");
    b.run_until(11_000);
    b.respond(j, status(503));
    assert_eq!(tokens(&b), 3.0, "5xx");
    b.run_until(11_250);
    b.respond(j, Reply::Unreadable);
    assert_eq!(tokens(&b), 2.0, "unreadable");
    b.run_until(11_500);
    assert!(b.in_flight.remove(&j));
    b.feed(j, Input::RequestFailed(PollError::Network));
    assert_eq!(tokens(&b), 1.0, "network");
    b.run_until(11_750);
    assert_eq!(b.requests(j).last(), Some(&11_750));
    // No answer: the request times out after 5 s.
    b.run_until(16_750);
    assert_eq!(tokens(&b), 0.0, "request timeout");
    assert_eq!(
        b.retries(j).last(),
        Some(&(16_750, PollError::RequestTimeout, 250))
    );

    // With no token left, a 429 still waits what the server asked and a 404
    // the progressive wait, and neither touches the budget.
    b.run_until(17_000);
    b.respond(j, rate_limited(3000));
    assert_eq!(
        b.retries(j).last(),
        Some(&(17_000, PollError::RateLimited, 3000))
    );
    b.run_until(20_000);
    assert_eq!(b.requests(j).last(), Some(&20_000));
    b.respond(j, status(404));
    assert_eq!(
        b.retries(j).last(),
        Some(&(20_000, PollError::NotFound, 10_000))
    );
    assert_eq!(tokens(&b), 0.0);
    b.run_until(30_000);
    b.respond(j, status(500));
    assert_eq!(
        b.retries(j).last(),
        Some(&(30_000, PollError::Server(500), 10_000)),
        "no token: the scheduled wait"
    );
    assert_eq!(tokens(&b), 0.0);
}

#[test]
fn origins_have_their_own_budgets_and_the_report_lists_them() {
    let budget = RetryBudget {
        size: 5.0,
        refill: 0.25,
    };
    let mut b = Browser::with_budget(0, budget);
    assert_eq!(
        b.table.report().retry_budget,
        RetryBudgetReport {
            size: 5.0,
            refill: 0.25,
            tokens: vec![],
        }
    );
    let x = b.start_at(Kind::File, "x", "b.example", outage_cfg(), "x");
    let y = b.start_at(Kind::File, "y", "a.example", outage_cfg(), "y");
    b.script(x, std::iter::repeat_n(status(503), 3));
    b.script(y, std::iter::repeat_n(pending(), 3));
    b.run_until(1000);
    assert_eq!(b.table.retry_tokens("b.example"), 2.0);
    assert_eq!(b.table.retry_tokens("a.example"), 5.0, "capped");
    assert_eq!(b.table.retry_tokens("c.example"), 5.0, "unknown: full");
    let r = b.table.report();
    assert_eq!(
        r.retry_budget,
        RetryBudgetReport {
            size: 5.0,
            refill: 0.25,
            tokens: vec![("a.example".into(), 5.0), ("b.example".into(), 2.0)],
        }
    );
    assert_eq!(r.total_requests, b.table.metrics().total_requests());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["retryBudget"],
        serde_json::json!({
            "size": 5.0,
            "refill": 0.25,
            "tokens": { "a.example": 5.0, "b.example": 2.0 },
        })
    );
}

#[test]
fn ten_refills_of_a_tenth_buy_one_retry() {
    let mut b = Browser::with_budget(0, RetryBudget::default());
    let spender = b.start_at(Kind::File, "s", "api", outage_cfg(), "s");
    b.script(spender, std::iter::repeat_n(status(503), 11));
    b.run_until(2500);
    assert_eq!(b.table.retry_tokens("api"), 0.0);
    b.table.stop(b.now, Kind::File, "s").unwrap();
    b.in_flight.remove(&spender);

    let j = b.start_at(Kind::File, "j", "api", outage_cfg(), "j");
    let t0 = b.now;
    b.script(j, std::iter::repeat_n(pending(), 10));
    b.run_until(t0 + 95_000);
    assert_eq!(b.requests(j).len(), 10);
    assert!(b.table.retry_tokens("api") >= 1.0, "ten tenths");
    b.script(j, [status(503)]);
    b.run_until(t0 + 105_000);
    let (_, _, delay) = b.retries(j)[0];
    assert_eq!(delay, 250, "an early retry");
}

#[test]
fn after_a_cooldown_a_job_without_a_429_probes_first() {
    let mut b = Browser::new(0);
    let a = b.start_at(Kind::File, "a", "api", polling(), "a");
    let c = b.start_at(Kind::File, "c", "api", polling(), "c");
    b.script(a, [rate_limited(1000)]);
    for j in [a, c] {
        b.script(j, std::iter::repeat_n(pending(), 10));
    }
    b.run_until(1100);
    // Both are due at 1000; `a` has had its 429, so `c` asks first.
    assert_eq!(b.requests(c), vec![0, 1000]);
    assert_eq!(b.requests(a), vec![0], "a waits for the probe's answer");
    b.run_until(2000);
    assert!(b.requests(a)[1] >= 1250, "{:?}", b.requests(a));
}

// 15. The cap on requests out at once per origin.

/// The most requests of `jobs` out at once: sends against answers.
fn most_out(b: &Browser, jobs: &[JobId]) -> usize {
    let mut events: Vec<(u64, i32)> = b
        .all_requests()
        .into_iter()
        .filter(|(_, j)| jobs.contains(j))
        .map(|(t, _)| (t, 1))
        .chain(
            b.replies
                .iter()
                .filter(|(_, j, _)| jobs.contains(j))
                .map(|(t, _, _)| (*t, -1)),
        )
        .collect();
    // At equal times the answer comes first: it makes the room.
    events.sort();
    let (mut out, mut most) = (0i32, 0i32);
    for (_, d) in events {
        out += d;
        most = most.max(out);
    }
    most as usize
}

/// `n` polling jobs to origin "api" (ids `{prefix}0`...) under a cap.
fn capped(cap: u32, n: usize, prefix: &str) -> (Browser, Vec<JobId>) {
    let mut b = Browser::with_table(Table::new(0).with_max_requests(cap));
    let jobs = (0..n)
        .map(|i| b.start_at(Kind::File, &format!("{prefix}{i}"), "api", polling(), "s"))
        .collect();
    (b, jobs)
}

#[test]
fn a_stream_s_catch_up_and_fallback_polls_wait_for_room_too() {
    // Two connections: the stream holds one (as it does of the browser's
    // six per host over HTTP/1.1), so one request goes at a time.
    let mut b = Browser::with_table(Table::new(2).with_max_requests(2));
    let p = b.start_at(Kind::File, "p", "api", polling(), "p");
    let s = b.start_at(Kind::File, "s", "api", streaming(), "s");
    b.fire();
    assert_eq!(b.requests(p), vec![0]);
    assert_eq!(b.acts(s), vec!["open", "progress"]);
    b.now = 50;
    b.feed(s, Input::StreamOpened);
    b.fire();
    assert!(
        b.requests(s).is_empty(),
        "p's request and the stream hold the room"
    );
    b.now = 100;
    b.respond(p, pending());
    assert_eq!(b.requests(s), vec![100], "the catch-up, with p's answer");
    b.now = 150;
    b.respond(s, pending());
    b.now = 1100;
    b.fire();
    assert_eq!(b.requests(p), vec![0, 1100]);
    assert_eq!(most_out(&b, &[p, s]), 1, "one request beside the stream");
    // The stream fails: its connection is free, and the fallback takes it.
    b.now = 1200;
    b.feed(s, Input::StreamFailed);
    b.fire();
    assert_eq!(b.requests(s), vec![100, 1200]);
}

#[test]
fn a_stream_that_never_opens_gives_its_connection_to_its_fallback_poll() {
    // Two connections: one held by the connecting stream, one by p's
    // request. At the stream's timeout (2 s) it closes, and its poll takes
    // the connection it held, not a place behind p's request.
    let mut b = Browser::with_table(Table::new(1).with_max_requests(2));
    let s = b.start_at(Kind::File, "s", "api", streaming(), "s");
    let p = b.start_at(Kind::File, "p", "api", polling(), "p");
    b.fire();
    assert_eq!(b.requests(p), vec![0]);
    b.now = 2000;
    b.fire();
    assert_eq!(
        b.acts(s),
        vec!["open", "progress", "close", "send", "progress"]
    );
    assert_eq!(b.requests(s), vec![2000]);
    assert_eq!(most_out(&b, &[p, s]), 2, "the cap's two connections");
}

#[test]
fn a_stream_that_gives_up_as_the_browser_goes_offline_sends_no_parked_job() {
    // The stream's connection comes back as it would fall back, the moment
    // the browser goes offline: the job parked behind it must not go before
    // it hears that the browser is offline (a property test's find).
    let mut b = Browser::with_table(Table::new(1).with_max_requests(2));
    let s = b.start_at(Kind::File, "s", "api", streaming(), "s");
    let a = b.start_at(Kind::File, "a", "api", polling(), "a");
    let c = b.start_at(Kind::File, "c", "api", polling(), "c");
    b.fire();
    assert_eq!(
        b.in_flight,
        BTreeSet::from([a]),
        "c waits behind s's stream and a's request"
    );
    b.now = 2000; // s's connect timeout, not yet fired
    b.table.set_online(2000, false);
    b.drain();
    assert!(
        b.requests(c).is_empty() && b.requests(s).is_empty(),
        "nothing while offline"
    );
    b.now = 2500;
    b.table.set_online(2500, true);
    b.drain();
    b.fire();
    assert!(
        b.requests(c).is_empty() && b.requests(s).is_empty(),
        "back online, s's stream has its 2 s to open again"
    );
    b.now = 4500;
    b.fire();
    assert_eq!(
        (b.requests(s), b.requests(c)),
        (vec![4500], vec![]),
        "it gave up: its connection is its poll's"
    );
}

#[test]
fn streams_leave_one_connection_of_the_cap_for_polls() {
    // maxStreams 8 on a cap of 3: two streams, then jobs poll; the polls
    // share the one connection left.
    let mut b = Browser::with_table(Table::new(8).with_max_requests(3));
    let jobs: Vec<JobId> = (0..4)
        .map(|i| b.start_at(Kind::File, &format!("s{i}"), "api", streaming(), "s"))
        .collect();
    b.fire();
    assert_eq!(b.streams, jobs[..2].iter().copied().collect());
    assert_eq!(b.acts(jobs[2]), vec!["send", "progress"]);
    assert!(
        b.requests(jobs[3]).is_empty(),
        "parked behind the streams and s2's request"
    );
    b.now = 50;
    for j in &jobs[..2] {
        b.feed(*j, Input::StreamOpened);
    }
    b.now = 100;
    b.respond(jobs[2], pending());
    assert_eq!(b.requests(jobs[3]), vec![100]);
    // Another origin has its own room.
    let other = b.start_at(Kind::File, "o", "elsewhere", streaming(), "s");
    b.fire();
    assert!(b.streams.contains(&other));
    // A stream that ends gives its connection back: a parked poll goes.
    b.serve_until(5000, 250, |_, _| pending());
    assert_eq!(most_out(&b, &jobs[2..]), 1);
    b.now = 5000;
    b.feed(
        jobs[0],
        Input::StreamMessage(StreamEvent::Result("https://cdn/0.mp4".into())),
    );
    b.run_until(8100); // its record, or 3 s: it ends either way
    assert!(
        b.ended.iter().any(|(_, e)| e.job == jobs[0]),
        "no room for its record: the url alone at 8000"
    );
    let s5 = b.start_at(Kind::File, "s5", "api", streaming(), "s");
    b.fire();
    assert!(b.streams.contains(&s5), "the ended stream's room");
}

#[test]
fn at_most_the_cap_is_out_per_origin_and_parked_jobs_go_oldest_first() {
    let (mut b, jobs) = capped(2, 5, "c");
    let other = b.start_at(Kind::File, "o", "elsewhere", polling(), "s");
    b.fire();
    assert_eq!(
        b.in_flight,
        BTreeSet::from([jobs[0], jobs[1], other]),
        "two to the capped origin; another origin has its own room"
    );
    b.now = 100;
    b.respond(jobs[1], pending());
    assert_eq!(b.requests(jobs[2]), vec![100], "sent with the answer");
    assert!(b.requests(jobs[3]).is_empty());
    b.now = 130;
    b.respond(jobs[0], pending());
    assert_eq!(b.requests(jobs[3]), vec![130]);
    b.now = 170;
    b.respond(jobs[2], pending());
    assert_eq!(b.requests(jobs[4]), vec![170]);

    // Then, answered 250 ms after each request, the jobs keep their own
    // schedules, never more than two out at once.
    b.serve_until(20_000, 250, |_, _| pending());
    assert_eq!(most_out(&b, &jobs), 2);
    for j in &jobs {
        let times = b.requests(*j);
        assert!(times.len() >= 15, "{times:?}");
        assert!(
            times.windows(2).all(|w| w[1] - w[0] >= 1000),
            "a wait counts from the answer: {times:?}"
        );
    }
}

#[test]
fn a_stop_a_timeout_or_an_error_makes_room_for_a_parked_job() {
    let cfg = Config {
        request_timeout: 3000,
        ..polling()
    };
    let mut b = Browser::with_table(Table::new(0).with_max_requests(1));
    let a = b.start_at(Kind::File, "a", "api", cfg.clone(), "s");
    let c = b.start_at(Kind::File, "c", "api", cfg.clone(), "s");
    let d = b.start_at(Kind::File, "d", "api", cfg, "s");
    b.fire();
    assert_eq!(b.in_flight, BTreeSet::from([a]));
    // A stop: the room goes to the oldest parked job at the next turn.
    b.now = 50;
    b.table.stop(b.now, Kind::File, "a").expect("running");
    b.in_flight.remove(&a);
    assert_eq!(b.table.next_wake(), Some(0), "due at once");
    b.fire();
    assert_eq!(b.requests(c), vec![50]);
    assert!(b.requests(d).is_empty());
    // No answer: at its request timeout `c` lets go, and `d` goes.
    b.run_until(3050);
    assert_eq!(b.count(c, "cancel"), 1);
    assert_eq!(b.requests(d), vec![3050]);
    // `c` retries while `d` is out: parked until an answer, even an
    // error, makes room.
    let (_, _, delay) = b.retries(c)[0];
    let due = 3050 + delay;
    assert!(due + 100 < 6050, "before d's own timeout");
    b.run_until(due + 100);
    assert_eq!(b.requests(c), vec![50], "parked");
    b.respond(d, status(503));
    assert_eq!(b.requests(c), vec![50, due + 100]);
}

#[test]
fn parked_jobs_hold_while_a_429_cools_their_origin() {
    let (mut b, jobs) = capped(2, 8, "p");
    b.fire();
    b.now = 100;
    b.respond(jobs[0], rate_limited(2000));
    b.now = 120;
    b.respond(jobs[1], pending());
    // Neither answer let a parked job out into the cooldown.
    b.serve_until(10_000, 100, |_, _| pending());
    let during: Vec<(u64, JobId)> = b
        .all_requests()
        .into_iter()
        .filter(|(t, _)| *t > 100 && *t < 2100)
        .collect();
    assert!(during.is_empty(), "requests in the cooldown: {during:?}");
    for j in &jobs {
        assert!(b.replies_with(*j, 429) <= 1);
        assert!(b.requests(*j).iter().any(|t| *t >= 2100), "polls after it");
    }
    assert_eq!(most_out(&b, &jobs), 2);
}

#[test]
fn a_parked_subscriber_still_leaves_at_its_deadline() {
    let mut b = Browser::with_table(Table::new(0).with_max_requests(1));
    let hangs = Config {
        request_timeout: 60_000,
        ..polling()
    };
    let a = b.start_at(Kind::File, "a", "api", hangs, "s");
    let c = b.start_at(Kind::File, "c", "api", timeout(2000), "s");
    b.run_until(5000);
    assert!(b.requests(c).is_empty(), "no room while `a` hangs");
    assert_eq!(b.ended_at(c), 2000);
    assert_eq!(b.ended(c).result, Err(PollError::Timeout));
    assert!(b.table.contains(a));
}

#[test]
fn checkers_are_not_capped() {
    let mut b = Browser::with_table(Table::new(0).with_max_requests(1));
    let jobs: Vec<JobId> = (0..3)
        .map(|i| b.start(Kind::Check, &format!("k{i}"), "s"))
        .collect();
    b.fire();
    assert_eq!(b.in_flight, jobs.iter().copied().collect());
}

#[test]
fn a_stopped_parked_job_leaves_no_other_stranded() {
    let mut b = Browser::with_table(Table::new(0).with_max_requests(1));
    let a = b.start_at(Kind::File, "a", "api", polling(), "s");
    let c = b.start_at(Kind::File, "c", "api", polling(), "s");
    let d = b.start_at(Kind::File, "d", "api", polling(), "s");
    b.fire();
    assert_eq!(b.in_flight, BTreeSet::from([a]));
    b.now = 10;
    // `c`, parked first, leaves; then `a`, with its request out.
    b.table.stop(b.now, Kind::File, "c").expect("running");
    b.table.stop(b.now, Kind::File, "a").expect("running");
    b.in_flight.remove(&a);
    assert_eq!(b.table.next_wake(), Some(0));
    b.fire();
    assert_eq!(b.requests(d), vec![10], "the room went to d");
    assert!(b.requests(c).is_empty());
}

#[test]
fn a_nudge_of_every_job_goes_under_the_cap() {
    let mut b = Browser::with_table(Table::new(0).with_max_requests(2));
    let jobs: Vec<JobId> = (0..6)
        .map(|i| b.start_at(Kind::File, &format!("n{i}"), "api", every(60_000), "s"))
        .collect();
    b.serve_until(5000, 100, |_, _| pending());
    assert!(jobs.iter().all(|j| b.requests(*j).len() == 1));
    b.table.nudge_all(b.now);
    b.drain();
    assert!(b.in_flight.is_empty(), "nothing sent by the nudge itself");
    b.fire();
    assert_eq!(b.in_flight.len(), 2);
    b.serve_until(6000, 100, |_, _| pending());
    for j in &jobs {
        assert_eq!(b.requests(*j).len(), 2, "each polled once more");
    }
    assert_eq!(most_out(&b, &jobs), 2);
}

#[test]
fn locks_granted_together_lead_under_the_cap() {
    let (mut b, jobs) = capped(2, 5, "l");
    for j in &jobs {
        b.feed(*j, Input::Follow);
    }
    b.fire();
    assert!(b.in_flight.is_empty(), "followers send nothing");
    b.now = 100;
    for j in &jobs {
        b.feed(*j, Input::Lead);
    }
    assert!(b.in_flight.is_empty(), "sent by the next turn");
    b.fire();
    assert_eq!(b.in_flight.len(), 2);
    b.serve_until(1000, 50, |_, _| pending());
    assert!(jobs.iter().all(|j| b.requests(*j)[0] >= 100));
    assert_eq!(most_out(&b, &jobs), 2);
}

#[test]
fn a_nudged_follower_that_takes_over_sends_nothing_into_a_cooldown() {
    // s's stream holds one of the two connections (it opens when s leads).
    let mut b = Browser::with_table(Table::new(2).with_max_requests(2));
    let s = b.start_at(Kind::File, "s", "api", streaming(), "s");
    b.feed(s, Input::Follow);
    let a = b.start_at(Kind::File, "a", "api", polling(), "a");
    let c = b.start_at(Kind::File, "c", "api", polling(), "c");
    b.fire();
    assert_eq!(b.in_flight, BTreeSet::from([a]));
    b.now = 50;
    b.table.nudge_all(b.now); // the tab is visible again
    b.drain();
    b.now = 100;
    b.respond(a, rate_limited(5000));
    b.now = 300;
    let out = b.feed(s, Input::Lead); // the leading tab closed
    assert!(out.contains(&Seen::Act(s, "open")), "{out:?}");
    b.run_until(5000);
    let early: Vec<(u64, JobId)> = b
        .all_requests()
        .into_iter()
        .filter(|(t, _)| *t > 100)
        .collect();
    assert!(early.is_empty(), "requests in the cooldown: {early:?}");
    assert!(b.requests(c).is_empty());
}

// A checker lives behind its own gate.

#[test]
fn a_checker_in_a_429_storm_holds_no_file_job() {
    let mut b = Browser::new(0);
    let key = |kind, id| gate_key(kind, id, "");
    let check = b.start_at(
        Kind::Check,
        "poll-a",
        &key(Kind::Check, "poll-a"),
        polling(),
        "c",
    );
    let file = b.start_at(Kind::File, "f", &key(Kind::File, "f"), polling(), "f");
    b.script(check, [status(500), status(500)]);
    b.script(check, std::iter::repeat_n(rate_limited(300_000), 10));
    b.script(
        file,
        [pending(), pending(), pending(), done("https://x/a.png")],
    );
    b.run_until(5000);
    assert_eq!(
        b.requests(file),
        vec![0, 1000, 2000, 3000],
        "on its own schedule"
    );
    assert!(b.ended.iter().any(|(_, e)| e.id == "f" && e.result.is_ok()));
    // The checker's errors spent its own budget, not the page origin's.
    assert!(b.table.retry_tokens("check:poll-a") < 10.0);
    assert_eq!(b.table.retry_tokens(""), 10.0);
    let has = |b: &Browser, origin: &str| {
        let tokens = b.table.report().retry_budget.tokens;
        tokens.iter().any(|(o, _)| o == origin)
    };
    assert!(has(&b, "check:poll-a"));
    // Its gate goes with it.
    assert!(b.table.stop(b.now, Kind::Check, "poll-a").is_some());
    assert!(!has(&b, "check:poll-a"));
    assert!(has(&b, ""), "a file origin stays");
    let _ = check;
}

#[test]
fn gate_keys() {
    assert_eq!(gate_key(Kind::File, "a", "https://api"), "https://api");
    assert_eq!(gate_key(Kind::Project, "a", ""), "");
    assert_eq!(gate_key(Kind::Check, "a", ""), "check:a");
    assert_ne!(
        gate_key(Kind::Check, "a", ""),
        gate_key(Kind::Check, "b", "")
    );
}

// Offline pauses every job: nothing sent, no error counted, deadlines kept.

#[test]
fn offline_jobs_send_nothing_count_nothing_and_come_back_under_the_cap() {
    let mut b = Browser::with_table(Table::new(0).with_max_requests(2));
    let jobs: Vec<JobId> = (0..6)
        .map(|i| b.start_at(Kind::File, &format!("o{i}"), "api", every(1000), "s"))
        .collect();
    b.serve_until(500, 100, |_, _| pending());
    // The network goes while two requests are out: they fail as offline.
    b.table.set_online(b.now, false);
    b.drain();
    assert_eq!(b.table.report().offline_pauses, 1);
    for j in b.in_flight.clone() {
        b.in_flight.remove(&j);
        b.feed(j, Input::RequestFailed(PollError::Network));
    }
    let late = b.start_at(Kind::File, "late", "api", every(1000), "s");
    let sent = b.all_requests().len();
    b.run_until(30_000);
    assert_eq!(b.all_requests().len(), sent, "nothing sent while offline");
    assert!(
        jobs.iter().all(|j| b.retries(*j).is_empty()),
        "no error counted"
    );
    assert_eq!(b.table.retry_tokens("api"), 10.0, "no retry charged");
    let p = b.table.statuses(b.now);
    assert!(
        p.iter().all(|(_, _, p)| p.waiting_for_network),
        "progress says so"
    );
    // Back online: every job polls at the next turn, two at a time.
    b.table.set_online(b.now, true);
    b.drain();
    assert!(
        b.in_flight.is_empty(),
        "at the next turn, not inside the event"
    );
    b.fire();
    assert_eq!(b.in_flight.len(), 2, "under the cap");
    b.serve_until(30_400, 100, |_, _| pending());
    let all: Vec<JobId> = jobs.iter().copied().chain([late]).collect();
    for j in &all {
        let last = *b.requests(*j).last().unwrap();
        assert!(
            (30_000..30_400).contains(&last),
            "{j:?} polled on return: {last}"
        );
    }
    assert_eq!(most_out(&b, &all), 2);
    assert!(b
        .table
        .statuses(b.now)
        .iter()
        .all(|(_, _, p)| !p.waiting_for_network));
}

#[test]
fn an_offline_job_still_times_out_at_its_deadline() {
    let mut b = Browser::new(0);
    let cfg = Config {
        timeout: 5000,
        ..polling()
    };
    let j = b.start_at(Kind::File, "t", "api", cfg, "s");
    b.table.set_online(0, false);
    b.run_until(10_000);
    assert!(b.requests(j).is_empty());
    let (at, ended) = b.ended.first().expect("ended");
    assert_eq!((*at, ended.result.clone()), (5000, Err(PollError::Timeout)));
}

#[test]
fn paused_offline_the_table_wakes_to_look_at_the_network_again() {
    // A worker may never hear `online`: the table wakes every
    // OFFLINE_RECHECK_MS while paused, for the browser layer to read
    // navigator.onLine; once online, the paused job polls at once.
    let mut b = Browser::new(0);
    let a = b.start_at(Kind::File, "a", "api", every(1000), "s");
    b.fire();
    b.respond(a, pending());
    b.now = 100;
    b.table.set_online(100, false);
    b.drain();
    assert_eq!(b.table.next_wake(), Some(100 + OFFLINE_RECHECK_MS));
    b.run_until(100 + OFFLINE_RECHECK_MS - 1);
    assert!(!b.table.take_recheck(), "not yet");
    // Still offline at the first look: the next one is a period later.
    b.run_until(100 + OFFLINE_RECHECK_MS);
    assert!(b.table.take_recheck());
    assert!(!b.table.take_recheck(), "taken");
    assert_eq!(b.table.next_wake(), Some(100 + 2 * OFFLINE_RECHECK_MS));
    // Looks go on while nothing answers them (nothing sent meanwhile).
    b.run_until(100 + 10 * OFFLINE_RECHECK_MS);
    assert!(b.table.take_recheck());
    assert_eq!(b.requests(a).len(), 1);
    // Online at a look: the job goes at the next turn, and the looks stop.
    b.table.set_online(b.now, true);
    b.drain();
    b.fire();
    assert_eq!(b.requests(a).len(), 2, "{:?}", b.requests(a));
    b.run_until(b.now + 10 * OFFLINE_RECHECK_MS);
    assert!(!b.table.take_recheck());

    // Offline with no job: the table does not wake (a manager that never
    // polled, or whose jobs ended, keeps no timer).
    let mut idle = Browser::new(0);
    idle.table.set_online(0, false);
    assert_eq!(idle.table.next_wake(), None);
    let late = idle.start_at(Kind::File, "late", "api", every(1000), "s");
    assert_eq!(
        idle.table.next_wake(),
        Some(0),
        "a job started offline: its start, then the looks"
    );
    idle.fire();
    assert_eq!(idle.table.next_wake(), Some(OFFLINE_RECHECK_MS));
    assert!(idle.requests(late).is_empty(), "paused");
}

#[test]
fn a_joiner_that_would_wait_longer_than_its_first_wait_makes_the_job_poll_at_once() {
    // The old module's new call polled at once: a "check now" (first wait
    // 1 s) joining a slow schedule (30 s) must not wait for its slot.
    let mut b = Browser::new(0);
    let slow = b.start_at(Kind::File, "f", "api", every(30_000), "fallback");
    b.script(slow, [pending(), pending(), pending()]);
    b.run_until(1000);
    assert_eq!(b.requests(slow), vec![0]);
    b.now = 5000;
    assert_eq!(
        b.start_at(Kind::File, "f", "api", every(1000), "check"),
        slow
    );
    assert!(b.table.poll().is_none(), "nothing inside the start");
    b.run_until(5000);
    assert_eq!(b.requests(slow), vec![0, 5000], "polled at the next turn");
    // The schedule goes on from there; one job, one schedule.
    b.run_until(40_000);
    assert_eq!(b.requests(slow), vec![0, 5000, 35_000]);

    // A joiner that would hear as soon anyway adds no request.
    let mut b = Browser::new(0);
    let job = b.start_at(Kind::File, "g", "api", every(2000), "first");
    b.script(job, [pending(), pending()]);
    b.run_until(1500);
    b.start_at(Kind::File, "g", "api", every(1000), "second");
    b.run_until(2500);
    assert_eq!(
        b.requests(job),
        vec![0, 2000],
        "its next poll was 500 ms away"
    );

    // Nor does one on the job's own terms (a remount, a repeated call), even
    // where the schedule has slowed down past its first wait.
    let slowing = || Config {
        intervals: Intervals::new(vec![1000, 1000, 10_000]).unwrap(),
        ..every(1000)
    };
    let mut b = Browser::new(0);
    let job = b.start_at(Kind::File, "h", "api", slowing(), "first");
    b.script(job, [pending(), pending(), pending(), pending()]);
    b.run_until(3000);
    assert_eq!(b.requests(job), vec![0, 1000, 2000]);
    b.start_at(Kind::File, "h", "api", slowing(), "again");
    b.run_until(12_000);
    assert_eq!(b.requests(job), vec![0, 1000, 2000, 12_000]);

    // The server's Retry-After on a pending answer holds against a joiner.
    let mut b = Browser::new(0);
    let job = b.start_at(Kind::File, "i", "api", every(30_000), "first");
    b.script(job, [pending_after(60_000), pending()]);
    b.run_until(1000);
    b.now = 5000;
    b.start_at(Kind::File, "i", "api", every(1000), "check");
    b.run_until(59_000);
    assert_eq!(b.requests(job), vec![0], "held by the server's word");
}

#[test]
fn another_tabs_nudges_make_a_leading_job_poll_at_most_once_a_second() {
    // A following tab asks for a check (`Heard::Nudge`). Its words are not
    // trusted with the job's rate: a nudge every 100 ms, each asking for a
    // check at once, makes one request a second, each a second after the
    // one before.
    let mut b = Browser::new(0);
    let slow = Config {
        timeout: 120_000,
        ..every(30_000)
    };
    let job = b.start_at(Kind::File, "f", "api", slow, "leader");
    b.script(job, std::iter::repeat_with(pending).take(10));
    b.run_until(0);
    for t in (100..5000).step_by(100) {
        b.run_until(t);
        b.table.nudge_from_tab(t, job, 0);
    }
    b.run_until(29_000);
    assert_eq!(b.requests(job), vec![0, 1000, 2000, 3000, 4000, 5000]);

    // A nudge asking for a check within a time its next request beats adds
    // none; one asking for a sooner check does (once).
    b.run_until(35_000);
    assert_eq!(
        b.requests(job),
        vec![0, 1000, 2000, 3000, 4000, 5000, 35_000]
    );
    b.now = 61_000;
    b.table.nudge_from_tab(61_000, job, 5000);
    b.run_until(63_000);
    assert_eq!(b.requests(job).len(), 7, "its next request was 4 s away");
    b.table.nudge_from_tab(63_000, job, 500);
    b.run_until(63_100);
    assert_eq!(b.requests(job).last(), Some(&63_000), "2 s away: polled");

    // A job this tab follows is the leader's business.
    let mut b = Browser::new(0);
    let follows = b.start_at(Kind::File, "g", "api", every(30_000), "follower");
    b.feed(follows, Input::Follow);
    b.run_until(1000);
    b.table.nudge_from_tab(1000, follows, 0);
    b.run_until(5000);
    assert!(b.requests(follows).is_empty());
}

#[test]
fn a_deadline_that_passed_while_the_page_ran_no_code_gets_one_last_look() {
    // The page was frozen (or in the back/forward cache) from 3 s to 40 s;
    // the generation finished at 10 s, the deadline was 20 s. Its timer
    // fires 20 s late: the job polls once more, and the page gets the
    // result, not "timed out".
    let cfg = || Config {
        timeout: 20_000,
        ..every(5000)
    };
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "f", cfg(), "page");
    b.script(job, [pending(), done("https://cdn/f.png")]);
    b.run_until(3000);
    assert_eq!(b.requests(job), vec![0]);
    b.now = 40_000;
    b.run_until(40_000);
    assert_eq!(b.requests(job), vec![0, 40_000]);
    assert_eq!(
        b.ended(job).result,
        Ok(Some("https://cdn/f.png".to_owned()))
    );
    assert!(
        !b.ended(job).learns,
        "40 s while its timeout is 20 s: the frozen page's, not the server's"
    );

    // Still pending: the timeout, as soon as the look's answer says so.
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "g", cfg(), "page");
    b.script(job, [pending(), pending()]);
    b.run_until(3000);
    b.now = 40_000;
    b.run_until(60_000);
    assert_eq!(b.requests(job), vec![0, 40_000], "one look, no more");
    assert_eq!(b.ended(job).result, Err(PollError::Timeout));
    assert_eq!(b.ended_at(job), 40_000, "when the look's answer came");

    // No answer to the look: the timeout at its requestTimeout (5 s).
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "g2", cfg(), "page");
    b.script(job, [pending()]);
    b.run_until(3000);
    b.now = 40_000;
    b.run_until(60_000);
    assert_eq!(b.requests(job), vec![0, 40_000]);
    assert_eq!(b.ended(job).result, Err(PollError::Timeout));
    assert_eq!(b.ended_at(job), 40_000 + 5000, "its requestTimeout (5 s)");

    // Done within its timeout, the same job teaches the learned schedule.
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "f2", cfg(), "page");
    b.script(job, [pending(), done("https://cdn/f.png")]);
    b.run_until(20_000);
    assert_eq!(b.requests(job), vec![0, 5000]);
    assert!(b.ended(job).learns);
    // Kept running past its own timeout by a caller that joined with a
    // longer one: its real duration teaches too.
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "f3", cfg(), "page");
    let long = Config {
        timeout: 60_000,
        ..cfg()
    };
    assert_eq!(b.start_with(Kind::File, "f3", long, "check"), job);
    b.script(
        job,
        std::iter::repeat_with(pending)
            .take(6)
            .chain([done("https://cdn/f.png")]),
    );
    b.run_until(60_000);
    let (at, fin) = (b.ended.iter())
        .find(|(_, e)| e.job == job && e.outcome.is_some())
        .expect("the job ended");
    assert_eq!((*at, fin.subscribers.clone()), (30_000, vec!["check"]));
    assert_eq!(fin.result, Ok(Some("https://cdn/f.png".to_owned())));
    assert!(fin.learns);

    // On time (a second late at most), a deadline is a plain timeout.
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "h", cfg(), "page");
    b.script(job, std::iter::repeat_with(pending).take(10));
    b.run_until(30_000);
    assert_eq!(b.ended_at(job), 20_000);
    assert_eq!(b.requests(job), vec![0, 5000, 10_000, 15_000]);
}

#[test]
fn a_job_out_of_requests_gets_no_last_look() {
    // Its one request made, it watches on its stream alone: a deadline
    // that passed while the page ran no code has nothing to look with, and
    // is a plain timeout at once, not a requestTimeout later.
    let cfg = Config {
        timeout: 20_000,
        max_attempts: 1,
        ..streaming()
    };
    let mut b = Browser::new(1);
    let job = b.start_with(Kind::File, "s", cfg, "page");
    b.script(job, [pending()]);
    b.run_until(0);
    b.feed(job, Input::StreamOpened);
    b.run_until(3000);
    assert_eq!(b.requests(job), vec![0], "the catch-up");
    b.now = 40_000;
    b.run_until(40_000);
    assert_eq!(b.requests(job), vec![0]);
    assert_eq!(b.ended(job).result, Err(PollError::Timeout));
    assert_eq!(b.ended_at(job), 40_000);
}

#[test]
fn a_page_back_before_its_late_timer_still_gets_the_last_look() {
    // Back from the back/forward cache, the page hears `visibilitychange`
    // (a nudge) before the late timer fires: the deadline that passed
    // meanwhile gets its one request all the same, not the timeout at once
    // (a trial's find: a finished generation was reported "timed out").
    let cfg = || Config {
        timeout: 20_000,
        ..every(5000)
    };
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "f", cfg(), "page");
    b.script(job, [pending(), done("https://cdn/f.png")]);
    b.run_until(3000);
    b.now = 40_000;
    b.table.nudge_all(b.now);
    b.drain();
    b.run_until(40_000);
    assert_eq!(b.requests(job), vec![0, 40_000]);
    let url = Ok(Some("https://cdn/f.png".to_owned()));
    assert_eq!(b.ended(job).result, url);

    // The same when the network comes back first.
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "o", cfg(), "page");
    b.script(job, [pending(), done("https://cdn/o.png")]);
    b.run_until(3000);
    b.table.set_online(b.now, false);
    b.now = 40_000;
    b.table.set_online(b.now, true);
    b.drain();
    b.run_until(40_000);
    assert_eq!(b.requests(job), vec![0, 40_000]);
    assert_eq!(
        b.ended(job).result,
        Ok(Some("https://cdn/o.png".to_owned()))
    );
}

#[test]
fn a_job_that_followed_when_its_deadline_passed_looks_once_when_it_leads_again() {
    // Its page went into the back/forward cache (the job stepped down to
    // follow another tab) and came back after the deadline: it waits for
    // the lock, leads, and sends one request; a "not yet" ends it at once,
    // where it used to poll on its schedule for a requestTimeout more.
    let cfg = || Config {
        timeout: 6000,
        request_timeout: 15_000,
        ..every(2000)
    };
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "f", cfg(), "page");
    b.script(job, std::iter::repeat_with(pending).take(20));
    b.run_until(2000);
    assert_eq!(b.requests(job), vec![0, 2000]);
    b.feed(job, Input::Follow); // pagehide
    b.now = 10_000;
    b.table.nudge_all(b.now); // visible again: the deadline looks
    b.drain();
    assert_eq!(b.requests(job), vec![0, 2000], "a follower sends nothing");
    b.now = 10_050;
    b.feed(job, Input::Lead); // its lock again
    b.run_until(40_000);
    assert_eq!(b.requests(job), vec![0, 2000, 10_050], "one look, no more");
    assert_eq!(b.ended(job).result, Err(PollError::Timeout));
    assert_eq!(b.ended_at(job), 10_050);

    // A hidden tab's late turn: the lock is granted (`Lead`) before the
    // table's timer fires and before any nudge. It looks all the same.
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "g", cfg(), "page");
    b.script(job, [pending(), pending(), done("https://cdn/g.png")]);
    b.run_until(2000);
    b.feed(job, Input::Follow);
    b.now = 10_000;
    b.feed(job, Input::Lead);
    b.run_until(40_000);
    assert_eq!(b.requests(job), vec![0, 2000, 10_000]);
    assert_eq!(
        b.ended(job).result,
        Ok(Some("https://cdn/g.png".to_owned()))
    );
}

#[test]
fn a_caller_that_joined_a_slower_job_looks_once_at_its_deadline() {
    // A "check now" (first wait 1 s, 10 s) joins a fallback poll (every
    // 15 s): it polls at once, and at its deadline the job has not asked
    // for 10 s, so it asks once more; the generation finished meanwhile,
    // and every caller hears it then, not at the fallback's next turn.
    let fallback = || Config {
        timeout: 420_000,
        ..every(15_000)
    };
    let check = || Config {
        timeout: 10_000,
        ..every(1000)
    };
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "f", fallback(), "fallback");
    b.script(
        job,
        [pending(), pending(), pending(), done("https://cdn/f.png")],
    );
    b.run_until(16_000);
    assert_eq!(b.start_with(Kind::File, "f", check(), "check"), job);
    b.run_until(60_000);
    assert_eq!(b.requests(job), vec![0, 15_000, 16_000, 26_000]);
    let (at, ended) = (b.ended.iter().find(|(_, e)| e.job == job)).expect("it ended");
    assert_eq!(
        (*at, &ended.result),
        (26_000, &Ok(Some("https://cdn/f.png".to_owned())))
    );
    assert_eq!(ended.subscribers, vec!["fallback", "check"]);

    // Not ready at the look: the check times out when its answer comes,
    // and the fallback goes on.
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "g", fallback(), "fallback");
    b.script(job, std::iter::repeat_with(pending).take(10));
    b.run_until(16_000);
    b.start_with(Kind::File, "g", check(), "check");
    b.run_until(50_000);
    // (A look is a turn of the schedule: the next comes 15 s after it.)
    assert_eq!(b.requests(job), vec![0, 15_000, 16_000, 26_000, 41_000]);
    let left: Vec<_> = b
        .ended
        .iter()
        .map(|(at, e)| (*at, e.result.clone(), e.subscribers.clone()))
        .collect();
    assert_eq!(left, vec![(26_000, Err(PollError::Timeout), vec!["check"])]);

    // A request out at the check's deadline is its look: the check hears
    // that answer (here, the generation done at 24 s), not a timeout first.
    let slow = Config {
        request_timeout: 30_000,
        ..fallback()
    };
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "i", slow, "fallback");
    b.run_until(0);
    b.serve_until(13_000, 12_000, |_, _| pending());
    b.start_with(Kind::File, "i", check(), "check");
    b.serve_until(60_000, 12_000, |_, now| {
        if now >= 24_000 {
            done("https://cdn/i.png")
        } else {
            pending()
        }
    });
    assert_eq!(b.requests(job), vec![0, 13_000]);
    let ends: Vec<_> = b
        .ended
        .iter()
        .map(|(at, e)| (*at, e.result.clone(), e.subscribers.clone()))
        .collect();
    let url = Ok(Some("https://cdn/i.png".to_owned()));
    assert_eq!(ends, vec![(25_000, url, vec!["fallback", "check"])]);

    // A caller on the job's own terms adds no request: a plain timeout.
    let mut b = Browser::new(0);
    let job = b.start_with(Kind::File, "h", fallback(), "fallback");
    b.script(job, std::iter::repeat_with(pending).take(10));
    b.run_until(16_000);
    let same = Config {
        timeout: 10_000,
        ..fallback()
    };
    b.start_with(Kind::File, "h", same, "again");
    b.run_until(50_000);
    assert_eq!(b.requests(job), vec![0, 15_000, 30_000, 45_000]);
    let left: Vec<_> = b
        .ended
        .iter()
        .map(|(at, e)| (*at, e.subscribers.clone()))
        .collect();
    assert_eq!(left, vec![(26_000, vec!["again"])]);
}

#[test]
fn a_running_job_that_steps_down_lets_go_of_its_request_and_stream_at_once() {
    // Its page goes into the back/forward cache: another tab leads.
    let mut b = Browser::new(0);
    let job = b.start(Kind::File, "a", "page");
    b.run_until(0);
    assert!(b.in_flight.contains(&job));
    b.feed(job, Input::Follow);
    assert!(!b.in_flight.contains(&job), "the request is cancelled");
    assert_eq!(b.acts(job).last(), Some(&"progress"));
    assert!(b.acts(job).contains(&"cancel"));

    let mut b = Browser::new(2);
    let job = b.start_with(Kind::File, "s", streaming(), "page");
    b.run_until(0);
    b.feed(job, Input::StreamOpened);
    assert!(b.streams.contains(&job));
    b.feed(job, Input::Follow);
    assert!(!b.streams.contains(&job), "the stream is closed");
}

// A stream's result waits for its record (a second reader's finds).

fn result(url: &str) -> Input {
    Input::StreamMessage(StreamEvent::Result(url.into()))
}

/// A streaming job at "api" whose stream opened at 10 and whose catch-up
/// was answered at 20.
fn streamed(b: &mut Browser, cfg: Config) -> JobId {
    let s = b.start_at(Kind::File, "s", "api", cfg, "s");
    b.fire();
    b.now = 10;
    b.feed(s, Input::StreamOpened);
    b.fire();
    b.now = 20;
    b.respond(s, pending());
    s
}

#[test]
fn a_result_heard_just_before_the_deadline_completes_the_job() {
    let mut b = Browser::with_table(Table::new(2));
    let cfg = Config {
        timeout: 10_000,
        ..streaming()
    };
    let s = streamed(&mut b, cfg);
    b.now = 9_500;
    b.feed(s, result("https://cdn/s.mp4"));
    b.fire();
    assert_eq!(b.requests(s).last(), Some(&9_500), "the record's request");
    b.run_until(12_000); // no answer before the deadline
    assert_eq!(b.ended(s).result, Ok(Some("https://cdn/s.mp4".into())));
    assert_eq!(b.ended_at(s), 10_000);
}

#[test]
fn a_request_that_times_out_while_a_result_waits_is_no_error() {
    let mut b = Browser::with_table(Table::new(2));
    let cfg = Config {
        max_consecutive_errors: Some(1),
        ..streaming()
    };
    let s = b.start_at(Kind::File, "s", "api", cfg, "s");
    b.fire();
    b.now = 10;
    b.feed(s, Input::StreamOpened);
    b.fire();
    assert_eq!(b.requests(s), vec![10], "the catch-up, out");
    b.now = 4_000;
    b.feed(s, result("https://cdn/s.mp4"));
    b.run_until(6_000); // the catch-up times out at 5 010, before the 3 s
    assert_eq!(b.ended(s).result, Ok(Some("https://cdn/s.mp4".into())));
    assert_eq!(b.ended_at(s), 5_010);
    assert!(!b.acts(s).contains(&"retry"), "{:?}", b.acts(s));
}

#[test]
fn out_of_requests_a_result_completes_at_once() {
    let mut b = Browser::with_table(Table::new(2));
    let cfg = Config {
        max_attempts: 1,
        ..streaming()
    };
    let s = streamed(&mut b, cfg);
    b.now = 1_000;
    b.feed(s, result("https://cdn/s.mp4"));
    b.run_until(10_000);
    assert_eq!(b.ended(s).result, Ok(Some("https://cdn/s.mp4".into())));
    assert_eq!(b.ended_at(s), 1_000);
}

#[test]
fn a_result_parked_behind_the_cap_fetches_its_record_when_room_comes() {
    let mut b = Browser::with_table(Table::new(2).with_max_requests(2));
    let s = streamed(&mut b, streaming());
    let p = b.start_at(Kind::File, "p", "api", polling(), "p");
    b.fire();
    assert_eq!(b.requests(p), vec![20]);
    b.now = 1_050;
    b.feed(s, result("https://cdn/s.mp4"));
    b.fire(); // parked behind p's request and the stream
    assert_eq!(b.requests(s), vec![10]);
    b.now = 1_100;
    b.respond(p, pending()); // room
    assert_eq!(b.requests(s), vec![10, 1_100], "the record, with the room");
    b.now = 1_150;
    b.respond(s, done("https://cdn/s.mp4"));
    assert_eq!(b.ended_at(s), 1_150);
    // No room until the bound: the url alone then.
    let mut b = Browser::with_table(Table::new(2).with_max_requests(2));
    let s = streamed(&mut b, streaming());
    let p = b.start_at(Kind::File, "p", "api", polling(), "p");
    b.fire();
    b.now = 1_050;
    b.feed(s, result("https://cdn/s.mp4"));
    b.run_until(5_000); // p's request hangs
    assert_eq!(b.requests(s), vec![10]);
    assert_eq!(b.ended_at(s), 4_050);
    assert_eq!(b.ended(s).result, Ok(Some("https://cdn/s.mp4".into())));
    assert!(b.requests(p).len() == 1);
}

#[test]
fn a_429_on_a_result_s_record_holds_the_origin() {
    let mut b = Browser::with_table(Table::new(2));
    let s = streamed(&mut b, streaming());
    let p = b.start_at(Kind::File, "p", "api", polling(), "p");
    b.fire();
    b.respond(p, pending());
    b.now = 500;
    b.feed(s, result("https://cdn/s.mp4"));
    b.fire();
    b.now = 600;
    b.respond(s, rate_limited(10_000));
    assert_eq!(b.ended(s).result, Ok(Some("https://cdn/s.mp4".into())));
    b.run_until(10_000);
    assert_eq!(b.requests(p), vec![20], "p waits out the server's 10 s");
}

#[test]
fn a_job_parked_before_it_started_polls_once_back_online() {
    let mut b = Browser::with_table(Table::new(0).with_max_requests(1));
    let a = b.start_at(Kind::File, "a", "api", polling(), "a");
    let c = b.start_at(Kind::File, "c", "api", polling(), "c");
    b.fire();
    assert!(b.requests(c).is_empty(), "c parked behind a");
    b.now = 100;
    b.table.set_online(100, false);
    b.drain();
    b.in_flight.remove(&a);
    b.feed(a, Input::RequestFailed(PollError::Network)); // the fetch rejects offline
    b.table.stop(b.now, Kind::File, "a");
    b.now = 500;
    b.table.set_online(500, true);
    b.drain();
    b.run_until(2_000);
    assert_eq!(b.requests(c).first(), Some(&500), "{:?}", b.requests(c));
}
