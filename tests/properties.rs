//! Whatever arrives, in whatever order and at whatever time: at most one
//! terminal output, nothing after it or after stop, no wait beyond `maxDelay`
//! (except what a 429 asked for, itself bounded) and nothing past the deadline.

#![cfg(not(target_arch = "wasm32"))]

mod harness;

use harness::{done, pending_after, record, status_after, Harness};
use proptest::prelude::*;
use smart_polling::core::history::Saved;
use smart_polling::core::job::{Action, Input, Reply};
use smart_polling::core::learn::MAX_SAMPLES;
use smart_polling::core::record::{State, TaskStatus};
use smart_polling::core::schedule::{Intervals, Jitter};
use smart_polling::core::stream::StreamEvent;
use smart_polling::{Config, PollError};

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        4 => (0u64..4).prop_map(|f| record(State::Pending, f)),
        1 => (0u64..200_000_000).prop_map(pending_after),
        1 => Just(done("https://x/a.png")),
        1 => Just(done("javascript:x")),
        1 => Just(record(State::Failed, 8)),
        1 => Just(Reply::Unreadable),
        3 => (prop::sample::select(vec![200u16, 202, 301, 400, 401, 403, 404, 408, 429, 500, 503]),
              prop::option::of(0u64..200_000_000))
            .prop_map(|(status, retry_after)| status_after(status, retry_after)),
    ]
}

fn stream_event() -> impl Strategy<Value = StreamEvent> {
    prop_oneof![
        (0u8..=100).prop_map(StreamEvent::Progress),
        Just(StreamEvent::Result("https://x/v.mp4".into())),
        Just(StreamEvent::File {
            state: State::Pending,
            fingerprint: 5,
            done: false,
        }),
        Just(StreamEvent::File {
            state: State::Pending,
            fingerprint: 6,
            done: true,
        }),
        prop::sample::select(vec![
            TaskStatus::Completed,
            TaskStatus::Error,
            TaskStatus::InProgress
        ])
        .prop_map(StreamEvent::Task),
        Just(StreamEvent::Ignored),
        Just(StreamEvent::Garbage),
    ]
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        6 => Just(Input::Timer),
        6 => reply().prop_map(Input::Response),
        1 => Just(Input::RequestFailed(PollError::Network)),
        1 => Just(Input::StreamOpened),
        3 => stream_event().prop_map(Input::StreamMessage),
        1 => Just(Input::StreamFailed),
        1 => Just(Input::StreamInterrupted),
        1 => Just(Input::StreamBusy),
        1 => Just(Input::Stop),
        1 => Just(Input::Start),
        1 => Just(Input::Nudge),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::collection::vec(1u64..20_000, 1..6),
        1u64..5_000,
        0u64..60_000,
        (1u32..8).prop_map(f64::from),
        1u32..40,
        1u64..600_000,
        any::<bool>(),
        any::<u64>(),
        prop::sample::select(vec![Jitter::None, Jitter::Full, Jitter::Bounded(0.3)]),
    )
        .prop_map(
            |(intervals, initial, extra, mult, max_attempts, timeout, use_stream, seed, jitter)| {
                Config {
                    intervals: Intervals::new(intervals).unwrap(),
                    initial_delay: initial,
                    max_delay: initial + extra,
                    backoff_multiplier: mult,
                    max_attempts,
                    timeout,
                    use_stream,
                    seed,
                    jitter,
                    ..Config::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn job_invariants(
        cfg in config(),
        start_at in 0u64..1_000_000,
        steps in prop::collection::vec((0u64..40_000, input()), 0..80),
    ) {
        let max_delay = cfg.max_delay;
        // A 429 waits as asked, but at least the backoff (itself <= maxDelay).
        let rate_limit_cap = cfg.max_retry_after.max(cfg.rate_limit_delay).max(cfg.max_delay);
        // The fake browser (one timer, one request, one stream) with a fake clock.
        let mut h = Harness::new(cfg.clone());
        h.now = start_at;
        let first = h.feed(Input::Start);
        let deadline = h.job.deadline();
        prop_assert_eq!(deadline, start_at + cfg.timeout);
        // What no action may ever do, whatever came before; `hint`: the
        // Retry-After of the status answer the actions follow.
        let check = |out: &[Action], now: u64, hint: Option<u64>| -> Result<(), TestCaseError> {
            for a in out {
                match a {
                    Action::SendRequest => {
                        prop_assert!(now < deadline, "request at/after the deadline");
                    }
                    Action::ArmTimer { at } => {
                        prop_assert!(*at <= deadline, "timer past the deadline");
                    }
                    Action::Retry { error, delay } => {
                        // A 5xx's or a 408's Retry-After is waited out as sent.
                        let asked = hint.map_or(0, |d| d.min(cfg.max_retry_after));
                        let cap = if *error == PollError::RateLimited { rate_limit_cap } else { max_delay.max(asked) };
                        prop_assert!(*delay <= cap, "wait {} over cap {} for {:?}", delay, cap, error);
                        prop_assert!(now + delay <= deadline, "retry past the deadline");
                    }
                    Action::Progress(p) => {
                        if let Some(n) = p.next_poll_in {
                            prop_assert!(now + n <= deadline);
                        }
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        check(&first, h.now, None)?;

        let mut terminals = 0;
        let mut stopped = false;
        for (dt, inp) in steps {
            h.advance(dt);
            let is_stop = inp == Input::Stop;
            // The browser's one-shot timer is spent when it fires; replies
            // may arrive with no request in flight (stale after a cancel):
            // the job must ignore them.
            if inp == Input::Timer {
                h.timer = None;
            }
            if matches!(inp, Input::Response(_) | Input::RequestFailed(_)) {
                h.in_flight = false;
            }
            let hint = match inp {
                Input::Response(Reply::Status { retry_after, .. }) => retry_after,
                _ => None,
            };
            let out = h.feed(inp);
            check(&out, h.now, hint)?;
            if stopped || terminals > 0 {
                prop_assert!(out.is_empty(), "output after the end: {:?}", out);
                continue;
            }
            if is_stop {
                prop_assert!(
                    out.iter().all(|a| matches!(a, Action::CancelRequest | Action::CloseStream(_))),
                    "stop produced {:?}", out
                );
                stopped = true;
            }
            let ends = out.iter().filter(|a| matches!(a, Action::Complete { .. } | Action::Fail(_))).count();
            prop_assert!(ends <= 1);
            if ends == 1 {
                prop_assert!(matches!(out.last(), Some(Action::Complete { .. } | Action::Fail(_))),
                    "terminal action must be the last: {:?}", out);
                prop_assert!(h.job.is_finished());
                prop_assert!(h.job.outcome().is_some());
            }
            terminals += ends;
            if !h.job.is_finished() {
                // Liveness: a running job always has its timer armed (at
                // least for the deadline), or it could hang forever.
                prop_assert!(h.timer.is_some(), "running job with no timer");
            }
        }
        // If the job outlived its deadline it must have ended by now.
        if h.now >= deadline && !stopped {
            h.timer = None;
            let out = h.feed(Input::Timer);
            check(&out, h.now, None)?;
            prop_assert!(h.job.is_finished());
        }
    }
}

// The learned history's merge, against its definition: every sample of both
// (stored lists may come in any order: another writer's, a clock that went
// back), sorted by time then duration, each once, the newest MAX_SAMPLES.
fn samples() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec(
        (
            prop_oneof![3 => (0u32..40).prop_map(f64::from), 1 => Just(-0.0), 1 => Just(1e12)],
            (1u32..4).prop_map(|d| f64::from(d) * 1000.0),
        ),
        0..=MAX_SAMPLES,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn history_merge_is_a_sorted_union(a in samples(), b in samples(), sorted_a in any::<bool>()) {
        let mut a = a;
        if sorted_a {
            a.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
        }
        let saved = |list: &Vec<(f64, f64)>| Saved { image: list.clone(), any: list.clone(), ..Saved::default() };
        let merged = saved(&a).merge(&saved(&b));
        let mut want: Vec<(f64, f64)> = a.iter().chain(&b).copied().collect();
        want.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
        want.dedup();
        let keep = want.len().saturating_sub(MAX_SAMPLES);
        let want = want.split_off(keep);
        let bits = |l: &[(f64, f64)]| l.iter().map(|s| (s.0.to_bits(), s.1.to_bits())).collect::<Vec<_>>();
        prop_assert_eq!(bits(&merged.image), bits(&want));
        prop_assert_eq!(bits(&merged.any), bits(&want));
        prop_assert!(merged.video.is_empty());
    }
}
