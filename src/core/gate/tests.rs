//! The gates' rules, each alone.

use super::*;

fn due(job: u32, sends: bool) -> Due {
    Due {
        job: JobId(job),
        at: 0,
        spread: 1000,
        had_429: false,
        sends,
        frees_stream: false,
    }
}

#[test]
fn a_cooldown_holds_every_job_then_one_probes() {
    let mut g = Gates::new(RetryBudget::default());
    let api = g.join("api");
    g.join("api");
    g.rate_limited(&api, 5000);
    for j in [1, 2] {
        let Pass::Hold(until) = g.pass("api", 100, due(j, true), |_| true) else {
            panic!("held")
        };
        assert!(
            (5000..6000).contains(&until),
            "spread over the wait: {until}"
        );
    }
    assert_eq!(g.pass("other", 100, due(3, true), |_| true), Pass::Go);
    // After the cooldown the first job to come probes; the other waits
    // for its answer.
    assert_eq!(g.pass("api", 5000, due(1, true), |_| true), Pass::Go);
    assert_eq!(
        g.pass("api", 5001, due(2, true), |_| true),
        Pass::Hold(5251)
    );
    g.heard("api", 5100, false, true);
    assert_eq!(g.pass("api", 5101, due(2, true), |_| true), Pass::Go);
}

#[test]
fn the_cap_parks_jobs_oldest_first_until_a_request_comes_back() {
    let mut g = Gates::new(RetryBudget::default());
    g.set_max_requests(1);
    let api = g.join("api");
    assert_eq!(g.pass("api", 0, due(1, true), |_| true), Pass::Go);
    g.count("api", true);
    assert_eq!(g.pass("api", 0, due(2, true), |_| true), Pass::Parked);
    assert_eq!(g.pass("api", 0, due(3, true), |_| true), Pass::Parked);
    assert_eq!(
        g.pass("api", 0, due(4, false), |_| true),
        Pass::Go,
        "no request, no cap"
    );
    assert_eq!(g.next_parked("api"), None, "no room yet");
    g.count("api", false);
    assert_eq!(g.next_parked("api"), Some((0, JobId(2))));
    assert_eq!(g.leave(&api, false, false, false, false), vec![]);
    g.count("api", true);
    assert_eq!(
        g.leave(&api, false, true, false, false),
        vec![(0, JobId(3))],
        "a leaving request frees its room"
    );
}

#[test]
fn open_streams_hold_connections_of_the_cap_and_leave_one_for_requests() {
    let mut g = Gates::new(RetryBudget::default());
    g.set_max_requests(3);
    let api = g.join("api");
    assert!(g.may_stream("api") && g.may_stream("elsewhere"));
    g.stream("api", true);
    assert!(g.may_stream("api"));
    g.stream("api", true);
    assert!(
        !g.may_stream("api"),
        "two streams of three: one is left for polls"
    );
    assert!(g.may_stream("elsewhere"), "per origin");
    // the one connection left: one request, then the next is parked
    assert_eq!(g.pass("api", 0, due(1, true), |_| true), Pass::Go);
    g.count("api", true);
    assert_eq!(g.pass("api", 0, due(2, true), |_| true), Pass::Parked);
    // a stream that closes gives its connection back
    g.stream("api", false);
    assert!(g.may_stream("api"));
    assert_eq!(g.next_parked("api"), Some((0, JobId(2))));
    g.count("api", true);
    assert_eq!(g.pass("api", 0, due(3, true), |_| true), Pass::Parked);
    assert_eq!(
        g.leave(&api, false, false, true, false),
        vec![(0, JobId(3))],
        "a leaving job's stream frees its room"
    );
    g.leave_all();
    g.set_max_requests(1);
    assert!(
        !g.may_stream("api"),
        "a cap of one leaves no room for a stream"
    );
}

#[test]
fn the_budget_is_spent_by_retries_and_earned_back_by_records() {
    let mut g = Gates::new(RetryBudget {
        size: 2.0,
        refill: 0.5,
    });
    g.join("api");
    assert!(g.spend("api") && g.spend("api"));
    assert!(!g.spend("api"), "empty");
    g.heard("api", 0, true, true);
    assert_eq!(g.tokens("api"), 0.5);
    g.heard("api", 0, true, true);
    assert!(g.spend("api"));
    for _ in 0..10 {
        g.heard("api", 0, true, true);
    }
    assert_eq!(g.tokens("api"), 2.0, "never above the size");
    assert_eq!(g.tokens("unknown"), 2.0, "a fresh origin has a full budget");
    assert_eq!(g.report().tokens, vec![("api".to_owned(), 2.0)]);
}

#[test]
fn a_forgotten_gate_is_gone() {
    let mut g = Gates::new(RetryBudget::default());
    let key = g.join("check:a");
    g.rate_limited(&key, 300_000);
    g.leave(&key, false, false, false, true);
    assert_eq!(g.cooldown("check:a"), 0);
    assert!(g.report().tokens.is_empty());
}

#[test]
fn origins_are_kept_apart_listed_in_order_and_forgotten_one_at_a_time() {
    let mut g = Gates::new(RetryBudget::default());
    let c = g.join("https://c");
    let a = g.join("https://a");
    let b = g.join("https://b");
    assert!(Rc::ptr_eq(&a, &g.join("https://a")), "one key per origin");
    assert!(g.spend("https://b"));
    g.rate_limited(&c, 9000);
    let listed: Vec<_> = g.report().tokens.into_iter().map(|(o, _)| o).collect();
    assert_eq!(listed, ["https://a", "https://b", "https://c"]);
    g.leave(&b, false, false, false, true);
    assert_eq!(g.tokens("https://a"), 10.0);
    assert_eq!(g.cooldown("https://c"), 9000, "the others keep their state");
    assert_eq!(g.report().tokens.len(), 2);
    g.join("https://b");
    assert_eq!(
        g.tokens("https://b"),
        10.0,
        "a forgotten gate comes back fresh"
    );
}
