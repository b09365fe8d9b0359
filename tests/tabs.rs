//! Tabs that share jobs, natively: two or three "tabs", each a job table
//! and the sharing roles (`core::sharing::Roles`) executed the way the
//! browser layer does, wired through a fake lock manager (Web Locks: one
//! holder per name, requests granted in order, a closed tab's locks let go)
//! and a fake channel (`BroadcastChannel`: every other open tab, after a
//! delay), against one fake server. Asserted as requests made, what each
//! tab's subscribers heard, who learned from an end, and when.

mod harness;

use harness::browser::{every, polling};
use harness::tabs::{Sim, World};
use harness::{done, record, status};
use smart_polling::core::job::Reply;
use smart_polling::core::record::{fingerprint, State};
use smart_polling::core::sharing::END_GRACE_MS;
use smart_polling::core::table::{JobId, TURN};
use smart_polling::{Config, PollError};

const URL: &str = "https://cdn/x.png";

/// Fixed delays: the channel's `latency`, locks granted at once, and a
/// server whose job completes at `done_at` and answers in `rtt`, its
/// pending record fingerprinted `print` (or, with `down`, a 503).
struct Fixed {
    latency: u64,
    done_at: u64,
    rtt: u64,
    print: u64,
    down: bool,
}

impl Sim for Fixed {
    type Sub = &'static str;

    fn config(&self) -> Config {
        polling()
    }

    fn grant_delay(_: &mut World<Self>) -> u64 {
        0
    }

    fn message_at(w: &mut World<Self>, _: usize, _: usize) -> u64 {
        w.now + w.sim.latency
    }

    fn answer(w: &mut World<Self>, _: usize, _: &str) -> (u64, Reply) {
        let reply = if w.sim.down {
            status(503)
        } else if w.now >= w.sim.done_at {
            done(URL)
        } else {
            record(State::Pending, w.sim.print)
        };
        (w.now + w.sim.rtt, reply)
    }
}

fn world(tabs: usize, done_at: u64) -> World<Fixed> {
    World::new(
        tabs,
        Fixed {
            latency: 5,
            done_at,
            rtt: 50,
            print: 1,
            down: false,
        },
    )
}

/// How many of the tab's jobs it leads.
fn leaders(w: &World<Fixed>, tab: usize) -> usize {
    let t = &w.tabs[tab];
    (t.ended.iter().map(|(_, e)| e.id.clone()))
        .chain((0..1000).map(|i| format!("j{i}")))
        .filter(|id| t.role(id) == Some("leader"))
        .count()
}

#[test]
fn two_tabs_watching_one_id_share_one_poller() {
    let mut w = world(2, 5000);
    w.start(0, "a", "sub");
    w.run_until(300);
    w.start(1, "a", "sub");
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
    assert_eq!(at(1), at(0) + w.sim.latency);
    // Learned once: by the tab that polled it.
    assert_eq!(w.tabs[0].learned.len(), 1);
    assert!(w.tabs[1].learned.is_empty());
}

#[test]
fn a_check_now_in_a_following_tab_makes_the_leading_tab_poll() {
    // The product's "check now" (a short `pollFileCompletion`) in a second
    // tab joins the job a first tab leads on a slow fallback schedule. The
    // server finished at 20 s; the leader's next request is at 30 s.
    let mut w = world(2, 20_000);
    w.start_with(0, "a", every(30_000), "fallback");
    w.run_until(100);
    w.start_with(1, "a", every(30_000), "fallback");
    w.run_until(25_000);
    assert_eq!(w.requests_by(0), vec![0]);
    let check = Config {
        timeout: 10_000,
        ..every(1000)
    };
    w.start_with(1, "a", check, "check now");
    w.run_until(40_000);
    // Asked at the follower's next turn, heard 5 ms later, polled at the
    // leader's next turn; the end crossed back.
    assert_eq!(
        w.requests_by(0),
        vec![0, 25_005],
        "the leader polled at once"
    );
    assert!(w.requests_by(1).is_empty(), "the follower sent nothing");
    let said = |tab: usize| {
        w.tabs[tab]
            .said
            .iter()
            .filter(|(_, what)| *what == "nudge")
            .count()
    };
    assert_eq!((said(0), said(1)), (0, 1), "asked once, by the follower");
    let (at, end) = &w.tabs[1].ended[0];
    assert_eq!(end.result, Ok(Some(URL.to_owned())));
    assert_eq!(end.subscribers, vec!["fallback", "check now"]);
    assert_eq!(*at, 25_005 + 50 + 5, "complete within its 10 s");

    // The leader's last request went 405 ms before: the next goes a second
    // after it (another tab never makes a job poll faster), not at 30 s.
    let mut w = world(2, 60_000);
    w.start_with(0, "b", every(30_000), "fallback");
    w.run_until(100);
    w.start_with(1, "b", every(30_000), "fallback");
    w.run_until(400);
    w.start_with(1, "b", every(1000), "check now");
    w.run_until(29_000);
    assert_eq!(w.tabs[1].said.last().map(|(_, what)| *what), Some("nudge"));
    assert_eq!(w.requests_by(0), vec![0, 1000]);
}

#[test]
fn a_check_now_that_starts_a_job_in_another_tab_or_joins_before_its_state_came_polls() {
    let check = || Config {
        timeout: 10_000,
        ..every(1000)
    };
    // The tab's first caller for the id (a reload's recovery check): its new
    // job follows, and its hello names its first wait.
    let mut w = world(2, 5000);
    w.start_with(0, "a", every(30_000), "fallback");
    w.run_until(10_000);
    w.start_with(1, "a", check(), "check now");
    w.run_until(40_000);
    assert_eq!(
        w.requests_by(0),
        vec![0, 10_005],
        "polled when the hello came"
    );
    assert!(w.requests_by(1).is_empty());
    let (at, end) = &w.tabs[1].ended[0];
    assert_eq!((*at, &end.result), (10_060, &Ok(Some(URL.to_owned()))));

    // A watch and a check started together: the join is looked at before
    // the leader's state reached this tab; the leader decides.
    let mut w = world(2, 5000);
    w.start_with(0, "a", every(30_000), "fallback");
    w.run_until(10_000);
    w.start_with(1, "a", every(30_000), "fallback");
    w.start_with(1, "a", check(), "check now");
    w.run_until(40_000);
    assert_eq!(w.requests_by(0), vec![0, 10_005]);
    let (_, end) = &w.tabs[1].ended[0];
    assert_eq!(end.subscribers, vec!["fallback", "check now"]);

    // A tab on the leader's terms (the app opened again) adds no request:
    // it gets the leader's last record with its state.
    let mut w = world(2, 60_000);
    w.start_with(0, "a", every(30_000), "fallback");
    w.run_until(10_000);
    w.start_with(1, "a", every(30_000), "fallback");
    w.start_with(1, "a", every(30_000), "remount");
    w.run_until(29_000);
    assert_eq!(w.requests_by(0), vec![0]);
}

#[test]
fn a_leader_whose_page_goes_into_the_back_forward_cache_hands_over_and_follows_when_back() {
    let mut w = world(2, 40_000);
    w.start(0, "a", "first");
    w.run_until(100);
    w.start(1, "a", "second");
    w.run_until(5000);
    assert_eq!(w.tabs[0].role("a"), Some("leader"));
    // Tab 0's page is cached (the user went to another site): it lets go.
    w.away(0);
    w.run_until(20_000);
    let (zero, one) = (w.requests_by(0), w.requests_by(1));
    assert!(
        zero.iter().all(|&t| t <= 5000),
        "nothing while away: {zero:?}"
    );
    assert_eq!(one.first(), Some(&5000), "tab 1 took over at once");
    assert!(one.len() >= 14, "and polls on: {one:?}");
    // Back: it asks for its lock again and follows tab 1.
    w.back(0);
    w.run_until(30_000);
    assert_eq!(w.tabs[0].role("a"), Some("follower"));
    assert!(w.requests_by(0).iter().all(|&t| t <= 5000));
    w.run_until(50_000);
    for tab in 0..2 {
        let ends: Vec<_> = w.tabs[tab].ended.iter().map(|(_, e)| &e.result).collect();
        assert_eq!(
            ends,
            vec![&Ok(Some(URL.to_owned()))],
            "tab {tab} completed once"
        );
    }

    // Alone, it leads again when back, and polls at once.
    let mut w = world(1, 60_000);
    w.start(0, "a", "only");
    w.run_until(5000);
    w.away(0);
    w.run_until(20_000);
    w.back(0);
    w.run_until(21_000);
    let requests = w.requests_by(0);
    assert!(
        !requests.iter().any(|&t| t > 5000 && t < 20_000),
        "{requests:?}"
    );
    assert!(requests.contains(&20_000), "{requests:?}");
    assert_eq!(w.tabs[0].role("a"), Some("leader"));
}

#[test]
fn a_following_tab_away_is_passed_over_when_the_leader_leaves() {
    // Tab 0 leads; tabs 1 and 2 wait for the lock. Tab 1's page goes into
    // the back/forward cache, then tab 0 closes: tab 2 takes over, not the
    // page that runs no code.
    let mut w = world(3, 60_000);
    w.start(0, "a", "zero");
    w.run_until(100);
    w.start(1, "a", "one");
    w.run_until(200);
    w.start(2, "a", "two");
    w.run_until(5000);
    w.away(1);
    w.close(0);
    w.run_until(10_000);
    let two = w.requests_by(2);
    assert_eq!(two.first(), Some(&5000), "tab 2 took over at once: {two:?}");
    // Back, tab 1 asks again and follows tab 2; when tab 2 closes, it leads
    // (its request, withdrawn while away, was made again).
    w.back(1);
    w.run_until(15_000);
    assert_eq!(w.tabs[1].role("a"), Some("follower"));
    assert!(w.requests_by(1).is_empty());
    w.close(2);
    w.run_until(20_000);
    assert_eq!(w.tabs[1].role("a"), Some("leader"));
    assert_eq!(w.requests_by(1).first(), Some(&15_000));
}

#[test]
fn a_lone_tab_back_after_its_deadline_leads_again_and_gets_the_result() {
    // Frozen (or cached) from 5 s to 90 s; the generation finished at 30 s,
    // the deadline was 60 s. Back, the job asks for its lock again, leads,
    // and looks once more before any timeout.
    let mut w = world(1, 30_000);
    w.start(0, "a", "only");
    w.run_until(5000);
    w.away(0);
    w.run_until(90_000);
    w.back(0);
    w.run_until(100_000);
    let (at, end) = &w.tabs[0].ended[0];
    assert_eq!(end.result, Ok(Some(URL.to_owned())), "at {at}");
    assert_eq!(*at, 90_050);
}

#[test]
fn the_follower_mirrors_the_leaders_state() {
    let mut w = world(2, 60_000);
    w.start(0, "a", "sub");
    w.run_until(100);
    w.start(1, "a", "sub");
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
    let mut w = world(2, 60_000);
    w.start(0, "a", "sub");
    w.run_until(100);
    w.start(1, "a", "sub");
    w.run_until(6_500);
    let leader: Vec<u32> = w.tabs[0].requests.iter().map(|r| r.2).collect();
    let heard: Vec<u32> = w.tabs[1].attempted.iter().map(|a| a.2).collect();
    assert!(leader.len() >= 5, "{leader:?}");
    // Each once, in order (the first as the follower joins, after it was
    // made: its first attempt, as a job of its own would call it).
    assert_eq!(heard, leader, "follower heard {heard:?}");
    // A channel's latency after each of the leader's requests goes.
    for (a, r) in w.tabs[1].attempted.iter().zip(&w.tabs[0].requests).skip(1) {
        assert_eq!(a.0, r.0 + w.sim.latency, "{a:?} after {r:?}");
    }
    assert!(w.tabs[0].attempted.is_empty(), "the leader makes its own");
}

#[test]
fn a_follower_with_tighter_limits_than_the_leaders_numbers_still_hears_it() {
    // Tab 1 joins after six seconds with a 5 s timeout and at most four
    // requests: the leader is past both, yet every turn of it is heard
    // (its own limits count from its own start, and at a takeover).
    let mut w = world(2, 60_000);
    w.start(0, "a", "sub");
    w.run_until(6_100);
    let tight = Config {
        timeout: 5000,
        max_attempts: 4,
        ..polling()
    };
    w.start_with(1, "a", tight, "sub");
    w.run_until(9_500);
    assert_eq!(w.tabs[1].role("a"), Some("follower"));
    let heard: Vec<u32> = w.tabs[1].attempted.iter().map(|a| a.2).collect();
    assert!(
        heard.ends_with(&[8, 9, 10]),
        "the leader's attempts: {heard:?}"
    );
    let job = w.tabs[1].job("a").unwrap();
    assert!(
        w.tabs[1].updates.iter().any(|(_, j)| *j == job),
        "its record"
    );
    // Taking over, it is past its own four requests.
    w.close(0);
    w.run_until(10_000);
    assert_eq!(w.tabs[1].result("a"), Some(&Err(PollError::MaxAttempts)));
    assert!(w.tabs[1].requests.is_empty(), "no request past its limit");
}

#[test]
fn a_follower_hears_the_leaders_errors_and_ends_at_its_own_limit() {
    // The server answers 503: the leader (no limit on errors in a row)
    // goes on; the follower hears each error as its own `onRetry` would,
    // and ends at its own `maxConsecutiveErrors` (3) with the same error.
    let mut w = world(2, 60_000);
    w.sim.down = true;
    w.start(0, "a", "sub");
    w.run_until(100);
    let three = Config {
        max_consecutive_errors: Some(3),
        ..polling()
    };
    w.start_with(1, "a", three, "sub");
    w.run_until(20_000);
    let led: Vec<PollError> = w.tabs[0].retried.iter().map(|r| r.2).collect();
    assert!(led.len() >= 5, "the leader goes on: {led:?}");
    let heard: Vec<PollError> = w.tabs[1].retried.iter().map(|r| r.2).collect();
    assert_eq!(
        heard,
        [PollError::Server(503); 2],
        "two retries, then the end"
    );
    assert_eq!(w.tabs[1].result("a"), Some(&Err(PollError::Server(503))));
    assert!(w.tabs[1].requests.is_empty(), "it sent nothing");
    assert_eq!(w.tabs[0].result("a"), None, "the leader still runs");
}

#[test]
fn when_the_leaders_tab_closes_a_follower_takes_over_without_restarting() {
    let mut w = world(2, 9000);
    w.start(0, "a", "sub");
    w.run_until(100);
    w.start(1, "a", "sub");
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
fn a_follower_that_takes_over_hears_no_update_for_the_record_it_had() {
    // A record's fingerprint as the browser layer makes it: the leader's
    // word carries it to the follower, whose own polls then read the same
    // record.
    let mut w = world(2, 9000);
    w.sim.print = fingerprint(r#"{"id":"a","url":null}"#);
    w.start(0, "a", "sub");
    w.run_until(100);
    w.start(1, "a", "sub");
    w.run_until(4_500);
    let job = w.tabs[1].job("a").unwrap();
    let heard = |w: &World<Fixed>| w.tabs[1].updates.iter().filter(|(_, j)| *j == job).count();
    assert_eq!(heard(&w), 1, "the leader's record, once");
    w.close(0);
    w.run_until(8_000);
    assert!(w.tabs[1].requests.len() >= 2, "it polls now");
    assert_eq!(
        heard(&w),
        1,
        "its own polls read the record it had: no update"
    );
}

#[test]
fn with_three_tabs_one_follower_takes_over_and_the_other_follows_it() {
    let mut w = world(3, 9000);
    w.start(0, "a", "sub");
    w.run_until(100);
    w.start(1, "a", "sub");
    w.run_until(200);
    w.start(2, "a", "sub");
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
    let mut w = world(2, 9000);
    w.start(0, "a", "sub");
    w.run_until(100);
    w.start(1, "a", "sub");
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
    let mut w = world(2, 9000);
    w.start(0, "a", "sub");
    w.run_until(100);
    w.start(1, "a", "sub");
    w.run_until(2_000);
    assert_eq!(w.tabs[1].asked, 1);
    w.stop(1, "a");
    let again = w.start(1, "a", "sub");
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
    let mut w = world(2, 3000);
    w.sim.latency = END_GRACE_MS / 2;
    w.start(0, "a", "sub");
    w.run_until(100);
    w.start(1, "a", "sub");
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

/// Tab 0 leads a 3 s check of "a" that tab 1 follows; the channel is slow
/// (half a grace), so news of an end comes well after it.
fn check_led_in_tab_0() -> World<Fixed> {
    let mut w = world(2, 60_000);
    w.sim.latency = END_GRACE_MS / 2;
    let check = Config {
        timeout: 3000,
        ..polling()
    };
    w.start_with(0, "a", check, "check");
    w.run_until(100);
    w.start(1, "a", "follower");
    w
}

#[test]
fn a_job_started_again_where_its_lock_is_held_after_its_end_takes_it_over() {
    // A reload's recovery check ends in the leading tab (here, a timeout),
    // and the page starts the fallback for the same id at once: the new job
    // takes over the lock the ended one holds for the grace, and polls
    // now, not a grace later. The lock is never free meanwhile: the other
    // tab's follower hears the end, and never leads the ended job.
    let mut w = check_led_in_tab_0();
    w.run_until(3500);
    let (ended, e) = &w.tabs[0].ended[0];
    assert_eq!(e.result, Err(PollError::Timeout));
    let now = w.now;
    assert!(now < ended + END_GRACE_MS, "within the grace");
    let fallback = w.start(0, "a", "fallback");
    w.run_until(now + 200);
    let first = (w.tabs[0].requests.iter())
        .find(|(_, j, _)| *j == fallback)
        .map(|(t, ..)| *t);
    assert_eq!(first, Some(now), "the fallback polls at once");
    assert_eq!(w.tabs[0].asked, 1, "no lock asked for: the held one");
    assert_eq!(w.locks["a"].0, Some(0));
    w.run_until(30_000);
    assert!(w.requests_by(1).is_empty(), "the follower never polled");

    // Stopped at once (a StrictMode unmount), the new job keeps the lock
    // for the rest of the ended job's grace all the same.
    let mut w = check_led_in_tab_0();
    w.run_until(3100);
    let ended = w.tabs[0].ended[0].0;
    w.start(0, "a", "fallback");
    w.stop(0, "a");
    w.run_until(ended + END_GRACE_MS - 1);
    assert_eq!(w.locks["a"].0, Some(0), "held for the grace");
    // Then tab 1, whose job goes on (a timeout is tab 0's own), leads it.
    w.run_until(30_000);
    let first = w.requests_by(1).first().copied();
    assert!(
        first.is_some_and(|t| t >= ended + END_GRACE_MS),
        "{first:?}"
    );
}

#[test]
fn a_tab_that_joins_later_gets_the_record_though_it_has_not_changed() {
    let mut w = world(2, 60_000);
    w.start(0, "a", "sub");
    w.run_until(2_500);
    // The leader had nobody to tell: it kept no record.
    assert!(w.tabs[0].last.is_empty());
    w.start(1, "a", "sub");
    w.run_until(5_000);
    let job = w.tabs[1].job("a").unwrap();
    let updates: Vec<u64> = (w.tabs[1].updates.iter())
        .filter(|(_, j)| *j == job)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(updates.len(), 1, "one update, with the unchanged record");
    // The leader's next answer after the hello carried it.
    let answer = (w.tabs[0].requests.iter())
        .map(|(t, ..)| t + w.sim.rtt)
        .find(|t| *t > 2_500)
        .unwrap();
    assert_eq!(updates[0], answer + w.sim.latency);
}

#[test]
fn claims_go_a_turn_at_a_time_and_grants_half_a_turn() {
    let mut w = world(1, u64::MAX);
    let n = 3 * TURN + 1;
    for i in 0..n {
        w.start(0, &format!("j{i}"), "sub");
    }
    assert_eq!(w.tabs[0].asked, 0, "none inside the start");
    let mut turns = 0;
    while leaders(&w, 0) < n {
        let (asked, led) = (w.tabs[0].asked, leaders(&w, 0));
        w.turn(0);
        // A tab alone: each lock is granted at once (an event after the
        // turn), and its job leads from a coming turn.
        w.run_events();
        assert!(w.tabs[0].asked - asked <= TURN, "claims per turn");
        assert!(leaders(&w, 0) - led <= TURN / 2, "new leaders per turn");
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
    let mut w = world(1, 3000);
    w.start(0, "a", "sub");
    w.run_until(10_000);
    assert_eq!(w.tabs[0].result("a"), Some(&Ok(Some(URL.to_owned()))));
    let said: Vec<&str> = w.tabs[0].said.iter().map(|(_, what)| *what).collect();
    assert_eq!(said, vec!["hello"]);
    assert!(w.tabs[0].last.is_empty());
    assert_eq!(w.tabs[0].learned.len(), 1);
    assert!(w.locks["a"].0.is_none(), "its lock went with the job");
}

#[test]
fn a_lone_shared_job_polls_in_the_turn_after_its_lock_comes() {
    // Two timer turns, not three: the first asks for the lock, the one after
    // the grant takes the lead and polls (sharing runs before the table).
    let mut w = world(1, u64::MAX);
    w.start(0, "a", "sub");
    w.turn(0);
    assert_eq!(
        w.tabs[0].asked, 1,
        "the lock is asked for in the first turn"
    );
    assert!(w.tabs[0].requests.is_empty(), "no request before the lock");
    w.run_events(); // the grant
    w.turn(0);
    assert_eq!(w.tabs[0].role("a"), Some("leader"));
    assert_eq!(w.tabs[0].requests.len(), 1, "it polls in the same turn");
}
