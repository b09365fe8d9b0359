//! The job state machine driven by a fake clock: every rule of the schedule,
//! the classification and the stream fallback, asserted as requests made,
//! callbacks emitted and times waited.

mod harness;

use harness::{done, fail, pending, pending_after, record, Harness};
use smart_polling::core::job::{Action, Closed, Input, Reply};
use smart_polling::core::record::{State, TaskStatus};
use smart_polling::core::schedule::{Backoff, Intervals, Jitter};
use smart_polling::core::stream::StreamEvent;
use smart_polling::{Channel, Config, PollError};

#[test]
fn polls_at_once_then_follows_the_progressive_schedule() {
    let mut h = Harness::polling(|_| {});
    h.run_pending_until(100_000);
    let times = h.request_times();
    let want: Vec<u64> = vec![
        0, 1000, 2000, 3000, 4000, 5000, // 1 s for the first 5 waits
        7000, 9000, 11_000, 13_000, 15_000, // 2 s for the next 5
        20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000, 55_000, 60_000,
        65_000, // 5 s x10
        75_000, 85_000, 95_000, // then 10 s
    ];
    assert_eq!(&times[..want.len()], &want[..]);
}

#[test]
fn completes_with_the_url_and_stops_polling() {
    let mut h = Harness::polling(|_| {});
    h.pending();
    h.fire();
    let out = h.respond(done("https://cdn/x.png"));
    assert!(out.contains(&Action::Update));
    assert!(out.contains(&Action::Complete {
        url: Some("https://cdn/x.png".into())
    }));
    assert_eq!(h.timer, None);
    assert!(h.job.is_finished());
    assert!(h.feed(Input::Timer).is_empty());
    assert_eq!(h.request_times().len(), 2);
    let o = h.job.outcome().unwrap();
    assert_eq!((o.error, o.attempts, o.duration), (None, 2, 1000));
}

#[test]
fn update_fires_only_when_the_record_changes() {
    let mut h = Harness::polling(|_| {});
    h.pending();
    h.fire();
    h.pending();
    h.fire();
    h.respond(record(State::Pending, 7));
    assert_eq!(h.count(&Action::Update), 2);
}

#[test]
fn generation_failure_ends_the_job() {
    let mut h = Harness::polling(|_| {});
    let out = h.respond(record(State::Failed, 3));
    assert_eq!(out.last(), Some(&fail(PollError::GenerationFailed)));
}

#[test]
fn a_javascript_url_is_refused() {
    let mut h = Harness::polling(|_| {});
    h.respond(done("javascript:alert(1)"));
    assert_eq!(h.terminals(), vec![fail(PollError::InvalidUrl)]);
}

#[test]
fn complete_without_url_when_all_tasks_completed() {
    let mut h = Harness::polling(|_| {});
    h.respond(record(State::Complete { url: None }, 4));
    assert_eq!(h.terminals(), vec![Action::Complete { url: None }]);
}

#[test]
fn rate_limit_waits_per_retry_after() {
    let mut h = Harness::polling(|_| {});
    let out = h.status(429, Some(7000));
    assert!(out.contains(&Action::Retry {
        error: PollError::RateLimited,
        delay: 7000
    }));
    assert_eq!(h.timer, Some(7000));
    h.fire();
    assert_eq!(h.request_times(), vec![0, 7000]);
}

#[test]
fn rate_limit_without_retry_after_waits_sixty_seconds() {
    let mut h = Harness::polling(|_| {});
    h.status(429, None);
    h.fire();
    assert_eq!(h.request_times(), vec![0, 60_000]);
}

#[test]
fn retry_after_is_capped_and_never_passes_the_deadline() {
    let mut h = Harness::polling(|c| c.max_retry_after = 120_000);
    h.status(429, Some(86_400_000));
    assert_eq!(h.retries(), vec![(PollError::RateLimited, 120_000)]);

    let mut h = Harness::polling(|c| c.timeout = 30_000);
    h.status(429, Some(100_000));
    assert_eq!(h.retries(), vec![(PollError::RateLimited, 30_000)]);
    assert_eq!(h.timer, Some(30_000));
    h.fire();
    // Timed out while the server's Retry-After held the job: the message
    // says so (its kind is "timeout" all the same).
    assert_eq!(h.terminals(), vec![fail(PollError::TimeoutHeld)]);
    assert_eq!(PollError::TimeoutHeld.kind(), "timeout");
    assert_eq!(h.request_times(), vec![0]);
}

#[test]
fn a_timeout_during_any_other_wait_is_a_plain_timeout() {
    // A 503's backoff past the deadline: no server asked for that wait.
    let mut h = Harness::polling(|c| {
        c.timeout = 1500;
        c.max_delay = 60_000;
        c.initial_delay = 5000;
    });
    h.status(503, None);
    h.fire();
    assert_eq!(h.terminals(), vec![fail(PollError::Timeout)]);
    // The retry budget's hold, likewise; a cooldown's is a 429's.
    for (rate_limited, want) in [(false, PollError::Timeout), (true, PollError::TimeoutHeld)] {
        let mut h = Harness::polling(|c| c.timeout = 3000);
        h.pending();
        h.feed(Input::Hold {
            until: 10_000,
            rate_limited,
        });
        h.fire();
        assert_eq!(
            h.terminals(),
            vec![fail(want)],
            "rate_limited: {rate_limited}"
        );
    }
}

#[test]
fn a_timeout_after_a_retry_after_has_passed_is_a_plain_timeout() {
    let mut h = Harness::polling(|c| {
        c.timeout = 30_000;
        c.intervals = smart_polling::core::schedule::Intervals::new(vec![20_000]).unwrap();
    });
    h.status(429, Some(5_000));
    // Pending answers at 5 s and 25 s; the deadline at 30 s holds nothing.
    while h.terminals().is_empty() && h.request_times().len() < 10 {
        h.fire();
        if h.in_flight {
            h.pending();
        }
    }
    assert_eq!(h.request_times(), vec![0, 5000, 25_000]);
    assert_eq!(h.terminals(), vec![fail(PollError::Timeout)]);
}

#[test]
fn not_found_retries_on_the_schedule_then_the_record_appears() {
    let mut h = Harness::polling(|_| {});
    h.status(404, None);
    h.fire();
    h.status(404, None);
    h.fire();
    h.respond(done("https://cdn/a.png"));
    assert_eq!(
        h.retries(),
        vec![(PollError::NotFound, 1000), (PollError::NotFound, 1000)]
    );
    assert_eq!(h.request_times(), vec![0, 1000, 2000]);
    assert_eq!(h.terminals().len(), 1);
    assert!(matches!(h.terminals()[0], Action::Complete { .. }));
}

#[test]
fn not_found_has_its_own_bound() {
    let mut h = Harness::polling(|c| c.max_not_found = 3);
    h.status(404, None);
    h.fire();
    h.status(404, None);
    h.fire();
    let out = h.status(404, None);
    assert_eq!(out.last(), Some(&fail(PollError::NotFound)));
    assert_eq!(h.request_times().len(), 3);
}

#[test]
fn a_found_record_resets_the_not_found_count() {
    let mut h = Harness::polling(|c| c.max_not_found = 2);
    h.status(404, None);
    h.fire();
    h.pending();
    h.fire();
    h.status(404, None);
    assert!(!h.job.is_finished());
}

#[test]
fn forbidden_and_unauthorized_stop_at_once() {
    for (status, err) in [
        (403, PollError::Forbidden),
        (401, PollError::Unauthorized),
        (400, PollError::Client(400)),
        (410, PollError::Client(410)),
    ] {
        let mut h = Harness::polling(|_| {});
        let out = h.status(status, None);
        assert_eq!(out.last(), Some(&fail(err)));
        assert_eq!(h.timer, None);
        assert!(h.feed(Input::Timer).is_empty());
        assert_eq!(h.request_times(), vec![0], "{status}");
        assert_eq!(h.job.outcome().unwrap().error, Some(err));
    }
}

#[test]
fn server_errors_back_off_exponentially_up_to_max_delay() {
    let mut h = Harness::polling(|c| c.max_delay = 10_000);
    for _ in 0..6 {
        h.status(503, None);
        h.fire();
    }
    let delays: Vec<u64> = h.retries().iter().map(|r| r.1).collect();
    assert_eq!(delays, [1000, 2000, 4000, 8000, 10_000, 10_000]);
    assert!(h.retries().iter().all(|r| r.0 == PollError::Server(503)));
    assert_eq!(
        h.request_times(),
        vec![0, 1000, 3000, 7000, 15_000, 25_000, 35_000]
    );
}

#[test]
fn a_server_error_s_retry_after_is_waited_out_beyond_the_backoff() {
    let mut h = Harness::polling(|c| {
        c.max_delay = 10_000;
        c.max_retry_after = 60_000;
    });
    // A 503 that says 5 s: 5 s, not the first step's 1 s.
    h.status(503, Some(5000));
    h.fire();
    // One that says less than the backoff: the backoff (2 s).
    h.status(503, Some(500));
    h.fire();
    // Beyond maxDelay (a server's wait, as a 429's), capped by maxRetryAfter.
    h.status(502, Some(120_000));
    h.fire();
    h.status(500, None);
    let delays: Vec<u64> = h.retries().iter().map(|r| r.1).collect();
    assert_eq!(delays, [5000, 2000, 60_000, 8000]);
    assert_eq!(h.request_times(), vec![0, 5000, 7000, 67_000]);
    assert!(h
        .retries()
        .iter()
        .all(|r| matches!(r.0, PollError::Server(_))));
}

#[test]
fn a_success_resets_the_backoff() {
    let mut h = Harness::polling(|_| {});
    h.status(500, None);
    h.fire();
    h.status(500, None);
    h.fire();
    h.pending();
    h.fire();
    h.status(502, None);
    let delays: Vec<u64> = h.retries().iter().map(|r| r.1).collect();
    assert_eq!(delays, [1000, 2000, 1000]);
}

#[test]
fn seeded_jitter_gives_exact_waits() {
    let mut h = Harness::polling(|c| {
        c.jitter = Jitter::Full;
        c.seed = 99;
    });
    for _ in 0..5 {
        h.network_error();
        h.fire();
    }
    let want: Vec<u64> = Backoff::new(1000, 2.0, 30_000)
        .with_jitter(Jitter::Full)
        .with_seed(99)
        .take(5)
        .collect();
    let got: Vec<u64> = h.retries().iter().map(|r| r.1).collect();
    assert_eq!(got, want);
    assert!(h.retries().iter().all(|r| r.0 == PollError::Network));
}

#[test]
fn network_failure_retries_with_backoff() {
    let mut h = Harness::polling(|_| {});
    let out = h.network_error();
    assert!(out.contains(&Action::Retry {
        error: PollError::Network,
        delay: 1000
    }));
}

#[test]
fn a_request_failure_no_retry_can_mend_ends_the_job_at_once() {
    let mut h = Harness::polling(|_| {});
    let out = h.feed(Input::RequestFailed(PollError::RelativeUrl));
    assert_eq!(out, vec![fail(PollError::RelativeUrl)]);
    assert!(h.retries().is_empty());
    assert_eq!(h.request_times(), vec![0]);
    assert_eq!(h.terminals().len(), 1);
}

#[test]
fn a_hanging_request_times_out_and_is_cancelled() {
    let mut h = Harness::polling(|c| c.request_timeout = 5000);
    assert_eq!(h.timer, Some(5000));
    let out = h.fire();
    assert_eq!(out[0], Action::CancelRequest);
    assert!(out.contains(&Action::Retry {
        error: PollError::RequestTimeout,
        delay: 1000
    }));
    assert!(!h.in_flight);
    // The late response of the cancelled request is ignored.
    assert!(h.feed(Input::Response(pending())).is_empty());
    h.fire();
    assert_eq!(h.request_times(), vec![0, 6000]);
}

#[test]
fn malformed_bodies_are_retried_not_fatal() {
    let mut h = Harness::polling(|_| {});
    h.respond(Reply::Unreadable);
    h.fire();
    h.status(200, None);
    assert_eq!(
        h.retries(),
        vec![
            (PollError::InvalidResponse, 1000),
            (PollError::InvalidResponse, 2000)
        ]
    );
    assert!(!h.job.is_finished());
}

#[test]
fn every_wait_is_cut_at_the_deadline() {
    let mut h = Harness::polling(|c| {
        c.timeout = 10_000;
        c.intervals = smart_polling::core::schedule::Intervals::new(vec![4000]).unwrap();
    });
    h.run_pending_until(1_000_000);
    assert_eq!(h.request_times(), vec![0, 4000, 8000]);
    assert_eq!(h.terminals(), vec![fail(PollError::Timeout)]);
    let (t, _) = h.log.last().unwrap();
    assert_eq!(*t, 10_000, "timed out exactly at the deadline");
    assert_eq!(h.job.outcome().unwrap().duration, 10_000);
}

#[test]
fn the_deadline_aborts_a_request_in_flight() {
    let mut h = Harness::polling(|c| {
        c.timeout = 3000;
        c.request_timeout = 60_000;
    });
    let out = h.fire();
    assert_eq!(h.now, 3000);
    assert_eq!(out, vec![Action::CancelRequest, fail(PollError::Timeout)]);
}

#[test]
fn max_attempts_bounds_the_requests() {
    let mut h = Harness::polling(|c| c.max_attempts = 3);
    h.run_pending_until(1_000_000);
    assert_eq!(h.request_times(), vec![0, 1000, 2000]);
    assert_eq!(h.terminals(), vec![fail(PollError::MaxAttempts)]);
    // Given up as soon as the third answer said "not yet", not a wait later.
    assert_eq!(h.now, 2000);
}

#[test]
fn a_five_minute_video_completes_under_the_default_config() {
    for cfg in [Config::default(), Config::video()] {
        let mut cfg = cfg;
        cfg.use_stream = false;
        let mut h = Harness::new(cfg);
        h.feed(Input::Start);
        while !h.job.is_finished() {
            if h.in_flight {
                if h.now >= 300_000 {
                    h.respond(done("https://cdn/v.mp4"));
                } else {
                    h.pending();
                }
            } else {
                h.fire();
            }
        }
        assert!(
            matches!(h.terminals()[..], [Action::Complete { .. }]),
            "{:?}",
            h.terminals()
        );
        assert!(h.now < 300_000 + 31_000, "seen within one slow interval");
    }
}

#[test]
fn stop_is_silent_and_cancels_the_request() {
    let mut h = Harness::polling(|_| {});
    let out = h.feed(Input::Stop);
    assert_eq!(out, vec![Action::CancelRequest]);
    for input in [
        Input::Response(done("https://x/a.png")),
        Input::Timer,
        Input::RequestFailed(PollError::Network),
        Input::StreamMessage(StreamEvent::Result("https://x/a.png".into())),
        Input::Start,
        Input::Stop,
    ] {
        assert!(h.feed(input).is_empty());
    }
    assert!(h.terminals().is_empty());
    assert_eq!(h.job.outcome(), None);
}

#[test]
fn a_rejected_job_fails_on_start_without_a_request() {
    let mut h = Harness::new(Config::default());
    h.job.reject(PollError::InvalidId);
    let out = h.feed(Input::Start);
    assert_eq!(out, vec![fail(PollError::InvalidId)]);
    assert_eq!(h.request_times().len(), 0);
    assert_eq!(h.job.outcome().unwrap().attempts, 0);
}

#[test]
fn inputs_before_start_are_ignored() {
    let mut h = Harness::new(Config::default());
    assert!(h.feed(Input::Timer).is_empty());
    assert!(h.feed(Input::Response(pending())).is_empty());
}

#[test]
fn progress_reports_attempts_wait_and_eta() {
    let mut h = Harness::polling(|_| {});
    h.job.set_expected_duration(Some(10_000));
    h.advance(200);
    let out = h.pending();
    let Some(Action::Progress(p)) = out.last() else {
        panic!("no progress: {out:?}")
    };
    assert_eq!(p.attempt, 1);
    assert_eq!(p.max_attempts, 60);
    assert_eq!(p.next_poll_in, Some(1000));
    assert_eq!(p.elapsed_time, 200);
    assert_eq!(p.estimated_time_remaining, Some(9800));
    assert_eq!(p.channel, Channel::Polling);
}

#[test]
fn a_learned_estimate_gives_the_eta_the_model_computes() {
    use smart_polling::core::config::Media;
    use smart_polling::core::learn::{prior, Model};
    let mut h = Harness::polling(|c| c.estimate = Some(prior(Media::Image)));
    h.advance(10_000);
    let out = h.pending();
    let Some(Action::Progress(p)) = out.last() else {
        panic!("no progress: {out:?}")
    };
    // 10 s * e^(0.7 * 0.674) - 10 s, rounded as `Model::eta` rounds it.
    assert_eq!(p.estimated_time_remaining, Some(6034));
    let model = Model::new(prior(Media::Image));
    assert_eq!(p.estimated_time_remaining, Some(model.eta(10_000)));
}

#[test]
fn past_the_learned_95th_percentile_the_learned_eta_gives_way() {
    use smart_polling::core::lognormal::LogNormal;
    // Learned: 8 s, tightly (its 95th percentile is about 11.1 s).
    let mut h = Harness::polling(|c| c.estimate = Some(LogNormal::new(8000.0, 0.2)));
    h.advance(5000);
    let eta = |h: &Harness| h.job.progress(h.now).estimated_time_remaining;
    assert!(
        eta(&h).is_some_and(|e| e > 2000 && e < 5000),
        "{:?}",
        eta(&h)
    );
    // Late by its measure: no "2 s left" for the rest of the job.
    h.advance(7000);
    assert_eq!(eta(&h), None);
    // The average of this kind of job, when it has one, still applies.
    h.job.set_expected_duration(Some(30_000));
    assert_eq!(eta(&h), Some(18_000));
}

// ---- the event stream ----

fn streaming() -> Harness {
    let mut h = Harness::new(Config {
        jitter: Jitter::None,
        sse_connect_timeout: 5000,
        ..Config::default()
    });
    let out = h.feed(Input::Start);
    assert_eq!(out[0], Action::OpenStream);
    assert!(!out.contains(&Action::SendRequest));
    h
}

/// Opens the stream. Its catch-up poll goes at the next timer turn, armed
/// for now: through the table's cooldown and cap on requests out.
fn open_stream(h: &mut Harness) {
    let out = h.feed(Input::StreamOpened);
    polls_at_the_next_turn(h, &out);
}

fn polls_at_the_next_turn(h: &mut Harness, out: &[Action]) {
    assert!(!out.contains(&Action::SendRequest), "{out:?}");
    assert_eq!(h.timer, Some(h.now));
    assert!(h.fire().contains(&Action::SendRequest));
}

#[test]
fn stream_completion_closes_the_stream() {
    let mut h = streaming();
    h.advance(100);
    // One catch-up poll for anything that happened before we subscribed.
    open_stream(&mut h);
    h.advance(50);
    h.pending();
    // While the stream is open, polls are only a slow safety net.
    assert_eq!(h.timer, Some(150 + 30_000));
    h.advance(2000);
    let out = h.message(StreamEvent::Progress(50));
    let Some(Action::Progress(p)) = out.last() else {
        panic!()
    };
    assert_eq!((p.progress, p.channel), (Some(50), Channel::Stream));
    assert_eq!(p.estimated_time_remaining, Some(2150));
    h.advance(2000);
    // The result: its record is fetched at the next turn, then the job
    // completes with it and closes the stream.
    let out = h.message(StreamEvent::Result("https://cdn/a.png".into()));
    polls_at_the_next_turn(&mut h, &out);
    h.advance(40);
    let out = h.respond(done("https://cdn/a.png"));
    assert_eq!(
        out[out.len() - 2..],
        [
            Action::CloseStream(Closed::Ended),
            Action::Complete {
                url: Some("https://cdn/a.png".into())
            }
        ]
    );
    assert!(
        out.contains(&Action::Update),
        "the record as the server has it"
    );
    assert!(!h.stream_open);
    assert_eq!(h.request_times(), vec![100, 4150]);
}

#[test]
fn a_stream_result_whose_record_is_not_there_yet_completes_with_the_url_alone() {
    let url = "https://cdn/a.png";
    let result = || StreamEvent::Result(url.into());
    let complete = Action::Complete {
        url: Some(url.into()),
    };
    // the answer says pending (the record store lags behind the stream)
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    let out = h.message(result());
    polls_at_the_next_turn(&mut h, &out);
    let out = h.pending();
    assert_eq!(out.last(), Some(&complete));
    assert!(
        !out.contains(&Action::Update),
        "the pending record is no news now"
    );
    // an error answers it
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    let out = h.message(result());
    polls_at_the_next_turn(&mut h, &out);
    let out = h.status(503, None);
    assert_eq!(out.last(), Some(&complete));
    assert!(h.retries().is_empty());
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    let out = h.message(result());
    polls_at_the_next_turn(&mut h, &out);
    let out = h.network_error();
    assert_eq!(out.last(), Some(&complete));
    let channel = h.job.outcome().map(|o| o.channel);
    assert_eq!(channel, Some(Channel::Stream), "the stream's outcome");
    // no answer within 3 s (nor the request timeout): the url alone
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    h.advance(1000);
    let out = h.message(result());
    polls_at_the_next_turn(&mut h, &out);
    assert_eq!(h.timer, Some(h.now + 3000));
    h.advance(3000);
    let out = h.fire();
    assert_eq!(
        out,
        vec![
            Action::CancelRequest,
            Action::CloseStream(Closed::Ended),
            complete
        ]
    );
}

#[test]
fn an_answer_to_a_request_sent_before_the_result_is_asked_again() {
    // The catch-up is out when the result comes; its answer (pending, and
    // changed: the page hears it) predates the result: one more request.
    let mut h = streaming();
    open_stream(&mut h);
    h.advance(100);
    h.message(StreamEvent::Result("https://cdn/a.png".into()));
    h.advance(200);
    let out = h.respond(record(State::Pending, 77));
    assert!(out.contains(&Action::Update), "{out:?}");
    assert!(h.terminals().is_empty());
    polls_at_the_next_turn(&mut h, &out);
    let out = h.respond(done("https://cdn/a.png"));
    assert_eq!(
        out.last(),
        Some(&Action::Complete {
            url: Some("https://cdn/a.png".into())
        })
    );
    assert_eq!(h.request_times(), vec![0, 300]);
    assert_eq!(h.job.outcome().map(|o| o.channel), Some(Channel::Stream));
    // The same when the result comes in the millisecond the request left.
    let mut h = streaming();
    open_stream(&mut h);
    h.message(StreamEvent::Result("https://cdn/a.png".into()));
    let out = h.respond(record(State::Pending, 78));
    assert!(h.terminals().is_empty(), "asked again: {out:?}");
    // A stale error answer is not asked again: the url alone.
    let mut h = streaming();
    open_stream(&mut h);
    h.message(StreamEvent::Result("https://cdn/a.png".into()));
    let out = h.status(503, None);
    assert!(matches!(out.last(), Some(Action::Complete { .. })));
}

#[test]
fn a_stream_result_takes_the_answer_out_and_trusts_a_record_s_own_url() {
    let mut h = streaming();
    open_stream(&mut h);
    // The catch-up is out when the result comes: no second request.
    let out = h.message(StreamEvent::Result("https://cdn/a.png".into()));
    assert!(!out.contains(&Action::CancelRequest) && !out.contains(&Action::SendRequest));
    let out = h.respond(done("https://cdn/b.png"));
    assert_eq!(
        out.last(),
        Some(&Action::Complete {
            url: Some("https://cdn/b.png".into())
        })
    );
    assert_eq!(h.request_times(), vec![0]);
    // an unsafe url fails at once, as a record's does
    let mut h = streaming();
    open_stream(&mut h);
    let out = h.message(StreamEvent::Result("javascript:alert(1)".into()));
    assert_eq!(out.last(), Some(&fail(PollError::InvalidUrl)));
}

#[test]
fn a_job_waiting_to_hear_from_a_leading_tab_shows_the_channel_it_will_use() {
    let mut h = Harness::new(Config {
        use_stream: true,
        ..Config::default()
    });
    h.feed(Input::Follow);
    h.feed(Input::Start);
    assert_eq!(
        h.job.channel(),
        Channel::Stream,
        "no flicker to polling and back"
    );
    let mut h = Harness::new(Config {
        use_stream: false,
        ..Config::default()
    });
    h.feed(Input::Follow);
    h.feed(Input::Start);
    assert_eq!(h.job.channel(), Channel::Polling);
}

#[test]
fn the_eta_from_the_stream_s_percent_follows_its_rate_not_the_time_queued() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    let eta = |h: &Harness| h.job.progress(h.now).estimated_time_remaining;
    // Queued at 0 % for 20 s, then 1 %: one point says little (as if the
    // work began with the job: 20 s for 1 %).
    h.advance(20_000);
    h.message(StreamEvent::Progress(0));
    h.message(StreamEvent::Progress(1));
    assert_eq!(eta(&h), Some(20_000 * 99));
    // 1 % a second from there: 98 s for the 98 % left, not 21 s per 1 %.
    h.advance(1000);
    h.message(StreamEvent::Progress(2));
    assert_eq!(eta(&h), Some(98_000));
    h.advance(9000);
    h.message(StreamEvent::Progress(50));
    assert_eq!(eta(&h), Some(10_000 * 50 / 49));
    h.message(StreamEvent::Progress(100));
    assert_eq!(eta(&h), Some(0));
}

#[test]
fn the_eta_counts_down_between_percent_reports_and_restarts_with_the_task() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    let eta = |h: &Harness| h.job.progress(h.now).estimated_time_remaining;
    h.advance(10_000);
    h.message(StreamEvent::Progress(25));
    h.advance(10_000);
    h.message(StreamEvent::Progress(50));
    assert_eq!(eta(&h), Some(20_000));
    // 9.9 s with no report: 9.9 s less, not more.
    h.advance(9900);
    assert_eq!(eta(&h), Some(10_100));
    h.advance(100);
    h.message(StreamEvent::Progress(75));
    assert_eq!(eta(&h), Some(10_000));
    // The server's task begins again: 10 % after 75 %, then 20 % 10 s later.
    h.advance(5000);
    h.message(StreamEvent::Progress(10));
    h.advance(10_000);
    h.message(StreamEvent::Progress(20));
    assert_eq!(eta(&h), Some(80_000), "10 % per 10 s from the restart");
}

#[test]
fn a_stream_that_never_opens_falls_back_to_polling() {
    let mut h = streaming();
    assert_eq!(h.timer, Some(5000));
    let out = h.fire();
    assert_eq!(out[0], Action::CloseStream(Closed::NotOpened));
    assert!(out.contains(&Action::SendRequest));
    assert_eq!(h.job.channel(), Channel::Polling);
    // A late "open" from the closed stream changes nothing.
    h.pending();
    assert!(h.feed(Input::StreamOpened).is_empty());
    h.fire();
    h.respond(done("https://cdn/a.png"));
    assert_eq!(h.terminals().len(), 1);
}

#[test]
fn a_stream_s_time_to_open_does_not_run_offline() {
    // Started offline: the stream waits for the network, nothing is sent.
    let offline_start = || {
        let mut h = Harness::new(Config {
            jitter: Jitter::None,
            sse_connect_timeout: 5000,
            ..Config::default()
        });
        h.feed(Input::Offline);
        let out = h.feed(Input::Start);
        assert_eq!(out[0], Action::OpenStream);
        assert!(!out.contains(&Action::SendRequest), "{out:?}");
        h.advance(20_000);
        let out = h.feed(Input::Timer);
        assert!(
            !out.iter()
                .any(|a| matches!(a, Action::CloseStream(_) | Action::SendRequest)),
            "{out:?}"
        );
        assert!(h.stream_open);
        h.feed(Input::Online);
        h
    };
    // Back online, it opens 2 s later: the job streams.
    let mut h = offline_start();
    assert_eq!(h.timer, Some(h.now + 5000), "5 s from the network's return");
    h.advance(2000);
    let out = h.feed(Input::StreamOpened);
    polls_at_the_next_turn(&mut h, &out);
    assert_eq!(h.job.channel(), Channel::Stream);
    assert_eq!(h.request_times(), vec![22_000]);
    // Not open within 5 s of the network's return: polling then.
    let mut h = offline_start();
    let back = h.now;
    let out = h.fire();
    assert_eq!(h.now, back + 5000);
    assert_eq!(out[0], Action::CloseStream(Closed::NotOpened));
    assert!(out.contains(&Action::SendRequest));
    assert_eq!(h.job.channel(), Channel::Polling);
}

#[test]
fn a_first_message_opens_the_stream_and_its_catch_up_goes_at_the_next_turn() {
    let mut h = streaming();
    h.advance(300);
    let out = h.message(StreamEvent::Progress(5));
    assert!(h.job.holds_stream());
    assert_eq!(h.job.channel(), Channel::Stream);
    polls_at_the_next_turn(&mut h, &out);
    assert_eq!(h.request_times(), vec![300]);
}

#[test]
fn a_failing_stream_falls_back_and_resumes_the_schedule_by_elapsed_time() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    h.fire(); // the stream's safety poll, at 30 s
    h.pending();
    h.advance(10_000);
    let out = h.feed(Input::StreamFailed);
    assert_eq!(out[0], Action::CloseStream(Closed::Failed));
    polls_at_the_next_turn(&mut h, &out);
    h.pending();
    // 40 s in: the 5 s stage of the schedule, not the 1 s start.
    assert_eq!(h.timer, Some(45_000));
}

/// The open stream drops (its request at the drop answered "not ready"),
/// and opens again (its catch-up answered too); the stream is kept.
fn drop_and_reopen(h: &mut Harness) {
    let out = h.feed(Input::StreamInterrupted);
    assert!(h.stream_open, "{out:?}");
    polls_at_the_next_turn(h, &out);
    h.pending();
    let out = h.feed(Input::StreamOpened);
    polls_at_the_next_turn(h, &out);
    h.pending();
}

/// A stream open since 0 whose safety poll went at 30 s; at 40 s its
/// connection drops, and the browser reconnects it. One request goes at
/// once (a server may have closed the stream at the job's end); its answer
/// is "not ready yet".
fn dropped_at_40_s() -> (Harness, Vec<Action>) {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    h.fire(); // the safety poll, at 30 s
    h.pending();
    h.advance(10_000);
    let out = h.feed(Input::StreamInterrupted);
    polls_at_the_next_turn(&mut h, &out);
    h.pending();
    (h, out)
}

#[test]
fn a_dropped_stream_is_kept_while_the_browser_reconnects_and_the_job_polls_meanwhile() {
    let (mut h, out) = dropped_at_40_s();
    assert!(
        !out.iter().any(|a| matches!(a, Action::CloseStream(_))),
        "{out:?}"
    );
    assert!(h.stream_open && h.job.holds_stream());
    assert_eq!(h.job.channel(), Channel::Polling);
    // The schedule where 40 s puts it (its 5 s stage), not the 30 s safety poll.
    assert_eq!(h.timer, Some(45_000));
    // The browser's further tries say nothing new.
    assert!(h.feed(Input::StreamInterrupted).is_empty());
    // Open again at 42 s: one request catches up on the gap, then the
    // stream watches and the safety poll is 30 s away again.
    h.advance(2000);
    let out = h.feed(Input::StreamOpened);
    assert_eq!(h.job.channel(), Channel::Stream);
    polls_at_the_next_turn(&mut h, &out);
    h.pending();
    assert_eq!(h.timer, Some(72_000));
    assert!(h.stream_open);
    assert_eq!(h.request_times(), vec![0, 30_000, 40_000, 42_000]);
    // Its result completes the job on the stream.
    h.message(StreamEvent::Result("https://cdn/a.png".into()));
    h.fire();
    let out = h.respond(done("https://cdn/a.png"));
    assert!(out.contains(&Action::CloseStream(Closed::Ended)), "{out:?}");
    assert_eq!(h.terminals().len(), 1);
}

#[test]
fn a_stream_that_opens_while_a_request_is_out_catches_up_after_its_answer() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    h.advance(1000);
    // Dropped: its request goes; the stream opens again before the answer.
    let out = h.feed(Input::StreamInterrupted);
    polls_at_the_next_turn(&mut h, &out);
    h.advance(100);
    let out = h.feed(Input::StreamOpened);
    assert!(!out.contains(&Action::SendRequest));
    // That answer predates the reopening: one more request, at once.
    h.advance(50);
    let out = h.pending();
    assert!(out.contains(&Action::SendRequest), "{out:?}");
    assert_eq!(h.request_times(), vec![0, 1000, 1150]);
    h.pending();
    assert_eq!(h.timer, Some(30_000 + 1150), "then the safety poll only");
}

#[test]
fn a_dropped_stream_that_does_not_reopen_within_sse_connect_timeout_is_closed() {
    let (mut h, _) = dropped_at_40_s();
    // 45 s: the schedule's poll and the reconnection's limit (5 s).
    let out = h.fire();
    assert_eq!(h.now, 45_000);
    assert!(
        out.contains(&Action::CloseStream(Closed::NotBack)),
        "{out:?}"
    );
    assert!(out.contains(&Action::SendRequest));
    assert!(!h.stream_open && !h.job.holds_stream());
    // A late "open" from the closed stream changes nothing.
    h.pending();
    assert!(h.feed(Input::StreamOpened).is_empty());
}

#[test]
fn a_dropped_stream_s_time_to_come_back_does_not_run_offline() {
    let (mut h, _) = dropped_at_40_s();
    h.advance(500);
    h.feed(Input::Offline);
    // 20 s offline: the browser's tries cannot succeed; the stream is kept.
    h.advance(20_000);
    let out = h.feed(Input::Timer);
    assert!(
        !out.iter().any(|a| matches!(a, Action::CloseStream(_))),
        "{out:?}"
    );
    assert!(h.stream_open);
    // Back online: one request at once (the timer it arms is due), and
    // 5 s from now for the stream.
    let out = h.feed(Input::Online);
    assert!(
        !out.iter().any(|a| matches!(a, Action::CloseStream(_))),
        "{out:?}"
    );
    assert!(h.timer.is_some_and(|t| t <= h.now));
    assert!(h.feed(Input::Timer).contains(&Action::SendRequest));
    h.pending();
    h.advance(2000);
    let out = h.feed(Input::StreamOpened);
    polls_at_the_next_turn(&mut h, &out);
    assert_eq!(h.job.channel(), Channel::Stream);
    // Not back within 5 s of the network's return: closed then.
    let (mut h, _) = dropped_at_40_s();
    h.feed(Input::Offline);
    h.advance(20_000);
    h.feed(Input::Online);
    let back = h.now;
    assert!(h.feed(Input::Timer).contains(&Action::SendRequest));
    h.pending();
    let mut closed = None;
    while closed.is_none() && h.now < back + 10_000 {
        let out = h.fire();
        if out.contains(&Action::CloseStream(Closed::NotBack)) {
            closed = Some(h.now);
        }
        h.pending();
    }
    assert_eq!(closed, Some(back + 5000));
}

#[test]
fn a_reconnection_the_server_refuses_closes_the_stream() {
    let (mut h, _) = dropped_at_40_s();
    h.advance(1000);
    // `readyState` CLOSED: the reconnection got an error status.
    let out = h.feed(Input::StreamFailed);
    assert_eq!(out[0], Action::CloseStream(Closed::Failed));
    assert!(!h.job.holds_stream());
}

#[test]
fn a_stream_that_keeps_dropping_soon_after_it_opens_is_closed_at_the_third_drop() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    for drop in 1..=3 {
        h.advance(1000);
        let out = h.feed(Input::StreamInterrupted);
        if drop < 3 {
            assert!(h.stream_open, "drop {drop}: {out:?}");
            polls_at_the_next_turn(&mut h, &out);
            h.pending();
            h.advance(500);
            let out = h.feed(Input::StreamOpened);
            polls_at_the_next_turn(&mut h, &out);
            h.pending();
        } else {
            assert_eq!(out[0], Action::CloseStream(Closed::Flapping));
            polls_at_the_next_turn(&mut h, &out);
        }
    }
    // A stream open 10 s or more before each drop (a gateway's 29 s
    // lifetime) is reconnected every time.
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    for _ in 0..5 {
        h.advance(11_000);
        drop_and_reopen(&mut h);
    }
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    for _ in 0..5 {
        let opened = h.now;
        assert!(h.fire().contains(&Action::SendRequest)); // the safety poll
        assert_eq!(h.now, opened + 30_000);
        h.pending();
        h.advance(1000);
        drop_and_reopen(&mut h);
    }
    assert_eq!(h.job.channel(), Channel::Stream);
}

#[test]
fn a_new_stream_after_a_hand_over_counts_its_drops_afresh() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    for _ in 0..2 {
        h.advance(1000);
        drop_and_reopen(&mut h);
    }
    // The page steps down, then leads again: a new stream.
    let out = h.feed(Input::Follow);
    assert!(
        out.contains(&Action::CloseStream(Closed::Handed)),
        "{out:?}"
    );
    let out = h.feed(Input::Lead);
    assert!(out.contains(&Action::OpenStream), "{out:?}");
    let out = h.feed(Input::StreamOpened);
    polls_at_the_next_turn(&mut h, &out);
    h.pending();
    h.advance(1000);
    let out = h.feed(Input::StreamInterrupted);
    assert!(
        h.stream_open,
        "its first drop, not the old stream's third: {out:?}"
    );
}

#[test]
fn a_stream_that_drops_before_it_opens_is_refused() {
    let mut h = streaming();
    h.advance(120);
    let out = h.feed(Input::StreamInterrupted);
    assert_eq!(out[0], Action::CloseStream(Closed::Refused));
    polls_at_the_next_turn(&mut h, &out);
}

#[test]
fn a_stream_that_fails_before_it_opens_is_refused_and_the_job_polls_at_once() {
    let mut h = streaming();
    h.advance(120);
    let out = h.feed(Input::StreamFailed);
    assert_eq!(out[0], Action::CloseStream(Closed::Refused));
    polls_at_the_next_turn(&mut h, &out);
    assert_eq!(h.request_times(), vec![120]);
    assert_eq!(h.job.channel(), Channel::Polling);
}

#[test]
fn a_stream_with_no_place_among_the_tabs_polls_at_the_next_turn() {
    let mut h = streaming();
    h.advance(30);
    let out = h.feed(Input::StreamBusy);
    assert_eq!(out[0], Action::CloseStream(Closed::Busy));
    polls_at_the_next_turn(&mut h, &out);
    assert_eq!(h.request_times(), vec![30]);
    assert_eq!(h.job.channel(), Channel::Polling);
    // Heard once the stream is open (a late answer): nothing.
    let mut h = streaming();
    open_stream(&mut h);
    assert!(h.feed(Input::StreamBusy).is_empty());
}

#[test]
fn repeated_garbage_drops_the_stream() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    h.message(StreamEvent::Garbage);
    h.message(StreamEvent::Progress(5)); // a good message resets the count
    h.message(StreamEvent::Garbage);
    h.message(StreamEvent::Garbage);
    assert!(h.stream_open);
    let out = h.message(StreamEvent::Garbage);
    assert_eq!(out[0], Action::CloseStream(Closed::Garbage));
    polls_at_the_next_turn(&mut h, &out);
}

#[test]
fn task_completed_on_the_stream_fetches_the_record_soon() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    h.advance(3000);
    let out = h.message(StreamEvent::Task(TaskStatus::Completed));
    assert!(!out.contains(&Action::SendRequest));
    // A second for the stream's own result, then the record is fetched.
    assert_eq!(h.timer, Some(4000));
    h.fire();
    assert_eq!(h.request_times(), vec![0, 4000]);
    let out = h.respond(done("https://cdn/a.png"));
    assert!(matches!(out.last(), Some(Action::Complete { .. })));
}

#[test]
fn a_file_message_whose_task_completed_without_a_url_fetches_the_record_soon() {
    // The same news as task_status COMPLETED (an SSE trial: it waited for
    // the 30 s safety poll instead).
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    h.advance(3000);
    let file = |fingerprint, done| StreamEvent::File {
        state: State::Pending,
        fingerprint,
        done,
    };
    let out = h.message(file(21, true));
    assert!(out.contains(&Action::Update));
    assert_eq!(h.timer, Some(4000), "a second for the stream's own result");
    // the same news again moves nothing
    h.advance(500);
    h.message(file(22, true));
    assert_eq!(h.timer, Some(4000));
    h.advance(500);
    h.fire();
    assert_eq!(h.request_times(), vec![0, 4000]);
    let out = h.respond(done("https://cdn/a.png"));
    assert!(matches!(out.last(), Some(Action::Complete { .. })));
}

#[test]
fn a_file_message_whose_task_is_not_done_waits_for_the_safety_poll() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    let before = h.timer;
    h.advance(3000);
    h.message(StreamEvent::File {
        state: State::Pending,
        fingerprint: 23,
        done: false,
    });
    assert_eq!(h.timer, before, "no earlier request");
}

#[test]
fn a_result_right_after_task_completed_fetches_its_record_once() {
    let mut h = streaming();
    open_stream(&mut h);
    h.pending();
    h.advance(3000);
    h.message(StreamEvent::Task(TaskStatus::Completed));
    h.advance(20);
    let out = h.message(StreamEvent::Result("https://cdn/a.png".into()));
    polls_at_the_next_turn(&mut h, &out);
    let out = h.respond(done("https://cdn/a.png"));
    assert!(matches!(out.last(), Some(Action::Complete { .. })));
    assert_eq!(h.request_times(), vec![0, 3020], "not a second one at 4000");
}

#[test]
fn task_error_on_the_stream_fails_once() {
    let mut h = streaming();
    open_stream(&mut h);
    let out = h.message(StreamEvent::Task(TaskStatus::Error));
    assert_eq!(
        out,
        vec![
            Action::CancelRequest,
            Action::CloseStream(Closed::Ended),
            fail(PollError::GenerationFailed)
        ]
    );
    assert!(h
        .message(StreamEvent::Result("https://x/a.png".into()))
        .is_empty());
}

#[test]
fn a_file_record_on_the_stream_completes_like_a_poll() {
    let mut h = streaming();
    let out = h.message(StreamEvent::File {
        state: State::Complete {
            url: Some("https://cdn/v.mp4".into()),
        },
        fingerprint: 11,
        done: true,
    });
    assert!(out.contains(&Action::Update));
    assert!(matches!(out.last(), Some(Action::Complete { .. })));
}

#[test]
fn a_completion_seen_on_both_channels_is_reported_once() {
    let mut h = streaming();
    open_stream(&mut h);
    h.message(StreamEvent::Result("https://cdn/a.png".into()));
    assert!(h
        .respond(done("https://cdn/a.png"))
        .contains(&Action::Update));
    let file = StreamEvent::File {
        state: State::Complete {
            url: Some("https://cdn/a.png".into()),
        },
        fingerprint: 9,
        done: true,
    };
    assert!(
        h.message(file).is_empty(),
        "the stream's record after the end"
    );
    assert_eq!(h.terminals().len(), 1);
}

#[test]
fn stream_only_mode_makes_no_safety_polls() {
    let mut h = Harness::new(Config {
        stream_poll_interval: 0,
        ..Config::default()
    });
    h.feed(Input::Start);
    open_stream(&mut h);
    h.pending();
    assert_eq!(h.timer, Some(Config::default().timeout));
    assert_eq!(h.request_times().len(), 1);
}

#[test]
fn an_early_timer_is_re_armed() {
    let mut h = Harness::polling(|_| {});
    h.advance(100);
    h.pending();
    assert_eq!(h.timer, Some(1100));
    h.now = 1099;
    let out = h.feed(Input::Timer);
    assert!(out.contains(&Action::ArmTimer { at: 1100 }), "{out:?}");
    h.fire();
    assert_eq!(h.request_times(), vec![0, 1100]);
}

#[test]
fn retry_after_zero_cannot_make_a_request_loop() {
    let mut h = Harness::polling(|_| {});
    for _ in 0..3 {
        h.status(429, Some(0));
        h.fire();
    }
    assert_eq!(
        h.retries(),
        vec![
            (PollError::RateLimited, 1000),
            (PollError::RateLimited, 2000),
            (PollError::RateLimited, 4000)
        ]
    );
}

#[test]
fn the_not_found_bound_counts_404s_in_a_row() {
    let mut h = Harness::polling(|c| c.max_not_found = 2);
    h.status(404, None);
    h.fire();
    h.status(500, None);
    h.fire();
    h.status(404, None);
    assert!(!h.job.is_finished());
    h.fire();
    let out = h.status(404, None);
    assert_eq!(out.last(), Some(&fail(PollError::NotFound)));
}

#[test]
fn a_transient_error_on_the_last_attempt_announces_no_retry() {
    let mut h = Harness::polling(|c| c.max_attempts = 2);
    h.pending();
    h.fire();
    let out = h.status(503, None);
    assert_eq!(out.last(), Some(&fail(PollError::MaxAttempts)));
    assert!(h.retries().is_empty(), "{:?}", h.retries());
}

#[test]
fn out_of_attempts_the_open_stream_carries_on() {
    let mut h = Harness::new(Config {
        max_attempts: 1,
        ..Config::default()
    });
    h.feed(Input::Start);
    open_stream(&mut h);
    h.pending();
    assert!(!h.job.is_finished());
    assert_eq!(h.timer, Some(h.job.deadline()), "no more polls");
    h.advance(5000);
    // No request left to fetch the result's record: the url alone, at once.
    let out = h.message(StreamEvent::Result("https://cdn/a.png".into()));
    assert!(
        matches!(out.last(), Some(Action::Complete { .. })),
        "{out:?}"
    );
    assert_eq!(h.request_times().len(), 1);
}

#[test]
fn a_record_with_an_unsafe_url_never_reaches_update() {
    let mut h = Harness::polling(|_| {});
    let out = h.respond(record(State::UnsafeUrl, 5));
    assert_eq!(out, vec![fail(PollError::InvalidUrl)]);
}

#[test]
fn progress_before_start_has_no_elapsed_time() {
    let h = Harness::new(Config::default());
    assert_eq!(h.job.progress(123_456).elapsed_time, 0);
}

#[test]
fn a_nudge_polls_at_the_next_turn_but_respects_retry_after() {
    let mut h = Harness::polling(|c| {
        c.intervals = smart_polling::core::schedule::Intervals::new(vec![60_000]).unwrap();
    });
    h.pending();
    h.advance(500);
    let out = h.feed(Input::Nudge);
    assert!(!out.contains(&Action::SendRequest), "{out:?}");
    assert!(
        out.contains(&Action::ArmTimer { at: 500 }),
        "due now: {out:?}"
    );
    assert!(h.fire().contains(&Action::SendRequest));
    h.status(429, Some(5000));
    h.advance(1000);
    let out = h.feed(Input::Nudge);
    assert!(
        !out.contains(&Action::SendRequest),
        "not before Retry-After"
    );
    h.fire();
    assert_eq!(h.request_times(), vec![0, 500, 5500]);
}

#[test]
fn a_nudge_waits_for_a_connecting_stream_and_is_silent_after_stop() {
    let mut h = streaming();
    assert!(!h.feed(Input::Nudge).contains(&Action::SendRequest));
    h.feed(Input::Stop);
    assert!(h.feed(Input::Nudge).is_empty());
}

#[test]
fn progressive_waits_are_jittered_by_the_seed() {
    let run = |seed: u64| {
        let mut h = Harness::polling(|c| {
            c.jitter = Jitter::Bounded(0.2);
            c.seed = seed;
            c.intervals = smart_polling::core::schedule::Intervals::new(vec![2000]).unwrap();
        });
        h.run_pending_until(40_000);
        h.request_times()
    };
    let (a, b, c) = (run(1), run(1), run(2));
    assert_eq!(a, b, "the seed decides every wait");
    assert_ne!(a, c, "jobs with other seeds do not poll in step");
    for w in a.windows(2) {
        let gap = w[1] - w[0];
        assert!((1800..=2200).contains(&gap), "gap {gap}");
    }
}

#[test]
fn gives_up_after_max_consecutive_errors_but_429s_and_records_reset_nothing_else() {
    let mut h = Harness::polling(|c| c.max_consecutive_errors = Some(3));
    h.status(503, None);
    h.fire();
    h.status(429, Some(10));
    h.fire();
    h.network_error();
    h.fire();
    h.pending(); // a record resets the run of errors
    h.fire();
    h.status(500, None);
    h.fire();
    h.status(502, None);
    assert!(h.terminals().is_empty());
    h.fire();
    h.status(503, None);
    assert_eq!(h.terminals(), vec![fail(PollError::Server(503))]);
    assert_eq!(
        h.job.consecutive_errors(),
        (3, Some(PollError::Server(503)))
    );
}

#[test]
fn a_404_ends_a_run_of_errors_as_a_record_does() {
    let mut h = Harness::polling(|c| c.max_consecutive_errors = Some(3));
    let wait = |h: &Harness| h.timer.unwrap() - h.now;
    h.status(503, None);
    let first_backoff = wait(&h);
    h.fire();
    h.status(503, None);
    assert!(wait(&h) > first_backoff, "the backoff grows");
    h.fire();
    h.status(404, None); // "not ready yet": an answer
    assert_eq!(
        h.job.consecutive_errors(),
        (0, Some(PollError::Server(503)))
    );
    h.fire();
    h.status(503, None);
    // The backoff starts again from its first step.
    assert_eq!(wait(&h), first_backoff);
    h.fire();
    h.status(503, None);
    assert!(h.terminals().is_empty(), "two errors in a row, not four");
    h.fire();
    h.status(503, None);
    assert_eq!(h.terminals(), vec![fail(PollError::Server(503))]);
}

#[test]
fn a_404_is_a_time_the_result_was_not_ready_for_the_learned_schedule() {
    let mut h = Harness::polling(|_| {});
    h.advance(700);
    h.status(404, None);
    assert_eq!(h.job.last_pending(), Some(700));
    h.fire();
    h.respond(done("https://cdn/a.png"));
    assert_eq!(
        h.job.last_pending(),
        Some(700),
        "the last time it was not ready"
    );
}

#[test]
fn hold_delays_the_next_poll_and_never_shortens_it() {
    let mut h = Harness::polling(|_| {});
    h.pending(); // next poll at 1000
    h.feed(Input::Hold {
        until: 5000,
        rate_limited: true,
    });
    assert_eq!(h.fire().first(), Some(&Action::SendRequest));
    assert_eq!(h.now, 5000);
    h.pending(); // next at 6000
    h.feed(Input::Hold {
        until: 100,
        rate_limited: true,
    });
    h.fire();
    assert_eq!(h.now, 6000, "a hold in the past changes nothing");
}

#[test]
fn a_joiner_can_extend_the_deadline() {
    let mut h = Harness::polling(|c| c.timeout = 10_000);
    h.job.extend_deadline(25_000);
    h.run_pending_until(60_000);
    assert_eq!(h.terminals(), vec![fail(PollError::Timeout)]);
    assert_eq!(h.now, 25_000);
}

#[test]
fn a_joiner_that_extends_the_deadline_still_waits_out_a_retry_after() {
    let mut h = Harness::polling(|c| c.timeout = 3000);
    h.status(429, Some(8000));
    assert_eq!(
        h.retries(),
        vec![(PollError::RateLimited, 3000)],
        "cut for the page"
    );
    h.job.extend_deadline(20_000);
    // The timer armed for the old deadline wakes the job for nothing.
    assert!(h.fire().iter().all(|a| *a != Action::SendRequest));
    assert_eq!(h.now, 3000);
    h.fire();
    assert_eq!(h.request_times(), vec![0, 8000], "the server's 8 s");
}

fn follower(f: impl FnOnce(&mut Config)) -> Harness {
    let mut cfg = Config {
        jitter: Jitter::None,
        use_stream: false,
        ..Config::default()
    };
    f(&mut cfg);
    let mut h = Harness::new(cfg);
    h.feed(Input::Follow);
    h.feed(Input::Start);
    h
}

fn mirror(attempts: u32, elapsed: u64, position: usize, fingerprint: Option<u64>) -> Input {
    Input::Mirror(smart_polling::core::job::Mirror {
        attempts,
        elapsed,
        next_poll_in: Some(2000),
        channel: Channel::Polling,
        percent: Some(40),
        position,
        fingerprint,
        errors: 0,
        error: None,
    })
}

#[test]
fn a_follower_sends_nothing_and_mirrors_the_leader() {
    let mut h = follower(|_| {});
    assert!(h.request_times().is_empty());
    assert!(!h.job.holds_stream());
    h.advance(5000);
    let actions = h.feed(mirror(7, 9000, 7, Some(11)));
    assert!(
        actions.contains(&Action::Update),
        "a new record of the leader's"
    );
    let p = h.job.progress(h.now);
    assert_eq!(
        (p.attempt, p.elapsed_time, p.next_poll_in, p.progress),
        (7, 9000, Some(2000), Some(40))
    );
    let again = h.feed(mirror(8, 11_000, 8, Some(11)));
    assert!(
        !again.contains(&Action::Update),
        "the same record is not news"
    );
    // Only its own deadline wakes it.
    h.fire();
    assert_eq!(h.terminals(), vec![fail(PollError::Timeout)]);
    assert!(h.request_times().is_empty());
}

#[test]
fn a_followers_numbers_are_the_leaders_even_past_its_own_limits() {
    // The leader's job started earlier, or allows more requests: its
    // numbers are heard (this tab's limits count from its own start, and
    // at a takeover); an elapsed time past a day is refused as forged.
    let mut h = follower(|c| {
        c.max_attempts = 10;
        c.timeout = 60_000;
    });
    h.advance(1000);
    let heard = h.feed(mirror(25, 90_000, 3, Some(9)));
    assert!(heard.contains(&Action::Update), "{heard:?}");
    assert_eq!(h.job.progress(h.now).attempt, 25);
    assert_eq!(h.job.progress(h.now).elapsed_time, 90_000);
    assert!(
        h.feed(mirror(26, 86_400_001, 3, Some(8))).is_empty(),
        "more than a day"
    );
    assert!(h.feed(mirror(26, u64::MAX, 3, Some(8))).is_empty());
    assert_eq!(h.job.progress(h.now).attempt, 25);
}

#[test]
fn a_follower_counts_the_leaders_errors_in_a_row_and_refuses_more_than_its_requests() {
    let mut h = follower(|c| c.max_consecutive_errors = Some(3));
    h.advance(1000);
    let with_errors = |attempts, errors| {
        let Input::Mirror(mut m) = mirror(attempts, 5000, 3, None) else {
            unreachable!()
        };
        m.errors = errors;
        m.error = Some(PollError::Server(503));
        Input::Mirror(m)
    };
    // More errors in a row than requests made: forged, refused whole.
    assert!(h.feed(with_errors(2, 1_000_000)).is_empty());
    let retried = |out: &[Action]| {
        out.iter()
            .filter(|a| matches!(a, Action::RetryHeard { .. }))
            .count()
    };
    assert_eq!(retried(&h.feed(with_errors(4, 1))), 1);
    assert_eq!(
        retried(&h.feed(with_errors(4, 1))),
        0,
        "the same count again: no news"
    );
    assert_eq!(retried(&h.feed(with_errors(5, 2))), 1);
    // A success in the leading tab: the count starts over.
    assert_eq!(retried(&h.feed(mirror(6, 5000, 3, None))), 0);
    assert_eq!(
        retried(&h.feed(with_errors(7, 1))),
        1,
        "counted again from 1"
    );
    assert_eq!(retried(&h.feed(with_errors(8, 2))), 1);
    let out = h.feed(with_errors(9, 3));
    assert!(
        out.contains(&Action::Fail(PollError::Server(503))),
        "its own limit: {out:?}"
    );
}

#[test]
fn a_takeover_carries_on_from_the_mirrored_state() {
    let mut h = follower(|_| {});
    h.advance(30_000);
    h.feed(mirror(12, 30_000, 12, Some(3)));
    let actions = h.feed(Input::Lead);
    assert!(!actions.contains(&Action::SendRequest), "{actions:?}");
    let at = h.now;
    assert!(
        actions.contains(&Action::ArmTimer { at }),
        "polls at the next turn: {actions:?}"
    );
    assert!(h.fire().contains(&Action::SendRequest));
    assert_eq!(
        h.job.progress(h.now).attempt,
        13,
        "attempts go on, not from 1"
    );
    h.pending();
    // Position 12 of the seed's schedule is the 5 s stage, not the 1 s start.
    let before = h.now;
    h.fire();
    assert_eq!(h.now - before, 5000);
}

/// The delay of the first `Retry` in `out`.
fn retry_delay(out: &[Action]) -> Option<u64> {
    out.iter().find_map(|a| match a {
        Action::Retry { delay, .. } => Some(*delay),
        _ => None,
    })
}

#[test]
fn a_takeover_in_a_run_of_errors_carries_the_backoff_on() {
    // The leader had four 503s in a row: the tab that takes over backs off
    // from the fifth step (1 s doubling: 16 s), not from the first.
    let cfg = |c: &mut Config| {
        c.initial_delay = 1000;
        c.max_delay = 60_000;
        c.timeout = 600_000;
    };
    let mut h = follower(cfg);
    h.advance(20_000);
    let Input::Mirror(mut m) = mirror(4, 20_000, 4, None) else {
        unreachable!()
    };
    m.errors = 4;
    m.error = Some(PollError::Server(503));
    h.feed(Input::Mirror(m));
    h.feed(Input::Lead);
    assert!(h.fire().contains(&Action::SendRequest));
    assert_eq!(retry_delay(&h.status(503, None)), Some(16_000));

    // A tab that steps down (its page away) forgets its own count: back
    // and leading before it hears a state, it starts over.
    let mut c = Config {
        jitter: Jitter::None,
        use_stream: false,
        ..Config::default()
    };
    cfg(&mut c);
    let mut h = Harness::new(c);
    h.feed(Input::Start);
    assert!(h.in_flight, "the first request goes at the start");
    h.status(503, None);
    h.fire();
    assert_eq!(
        retry_delay(&h.status(503, None)),
        Some(2000),
        "its second error"
    );
    h.feed(Input::Follow);
    h.feed(Input::Lead);
    h.fire();
    assert_eq!(
        retry_delay(&h.status(503, None)),
        Some(1000),
        "counted from 1 again"
    );
}

#[test]
fn a_follower_ends_as_the_leader_did_and_checks_the_url() {
    let mut h = follower(|_| {});
    h.feed(Input::MirrorEnd(Ok(Some("https://cdn/x.png".into()))));
    assert_eq!(
        h.terminals(),
        vec![Action::Complete {
            url: Some("https://cdn/x.png".into())
        }]
    );
    let mut h = follower(|_| {});
    h.feed(Input::MirrorEnd(Ok(Some("javascript:alert(1)".into()))));
    assert_eq!(h.terminals(), vec![fail(PollError::InvalidUrl)]);
    // A leader's report means nothing to a job that leads itself.
    let mut h = Harness::polling(|_| {});
    h.feed(Input::MirrorEnd(Ok(Some("https://cdn/x.png".into()))));
    assert!(h.terminals().is_empty());
}

#[test]
fn a_real_retry_after_is_taken_at_its_word_every_time() {
    let mut h = Harness::polling(|_| {});
    for _ in 0..4 {
        h.status(429, Some(2000));
        h.fire();
    }
    assert_eq!(
        h.retries(),
        vec![(PollError::RateLimited, 2000); 4],
        "no escalation past what the server asked for"
    );
}

#[test]
fn the_planned_wait_is_the_wait_after_the_request_in_flight() {
    // The default schedule: 1 s for the first five waits, then 2 s.
    let mut h = Harness::polling(|_| {});
    let mut planned = Vec::new();
    for _ in 0..7 {
        planned.push(h.job.planned_wait());
        h.pending();
        h.fire();
    }
    assert_eq!(planned, [1000, 1000, 1000, 1000, 1000, 2000, 2000]);
    // Each one is the wait the job then took.
    let times = h.request_times();
    let taken: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(&taken[..6], &planned[..6]);
}

#[test]
fn after_errors_the_planned_wait_is_the_next_backoff() {
    // The old module's `nextInterval` grew with its error waits.
    let mut h = Harness::polling(|c| c.max_delay = 10_000);
    let mut planned = Vec::new();
    for _ in 0..6 {
        planned.push(h.job.planned_wait());
        h.status(503, None);
        h.fire();
    }
    assert_eq!(planned, [1000, 2000, 4000, 8000, 10_000, 10_000]);
    let waits: Vec<u64> = h.retries().iter().map(|&(_, d)| d).collect();
    assert_eq!(waits, planned, "each the wait then taken");
    // An answer ends the run: the schedule again.
    h.pending();
    assert_eq!(h.job.planned_wait(), 1000);
    // So do a 404 and a 429 after an error: their waits are not the backoff's.
    h.fire();
    h.status(500, None);
    assert_eq!(h.job.planned_wait(), 2000);
    h.fire();
    h.status(404, None);
    assert_eq!(h.job.planned_wait(), h.job.scheduled_wait());
    h.fire();
    h.status(500, None);
    h.fire();
    h.status(429, Some(1000));
    assert_eq!(h.job.planned_wait(), h.job.scheduled_wait());
}

#[test]
fn progress_is_reported_only_when_something_visible_changed() {
    let mut h = Harness::new(Config {
        jitter: Jitter::None,
        stream_poll_interval: 0,
        ..Config::default()
    });
    h.feed(Input::Start);
    h.feed(Input::StreamOpened);
    h.fire(); // the catch-up poll
    h.respond(pending());
    let progress = |h: &Harness| h.count_matching(|a| matches!(a, Action::Progress(_)));
    let before = progress(&h);
    for _ in 0..3000 {
        h.advance(10);
        let out = h.message(StreamEvent::Ignored);
        assert!(out.is_empty(), "a ping costs nothing: {out:?}");
    }
    assert_eq!(progress(&h), before);
    // Progress the page can see is reported, once per change.
    h.message(StreamEvent::Progress(40));
    h.message(StreamEvent::Progress(40));
    h.message(StreamEvent::Progress(41));
    assert_eq!(progress(&h), before + 2);
    let Some((_, Action::Progress(p))) = h.log.last() else {
        panic!("the last action is the report")
    };
    assert_eq!(p.progress, Some(41));
    assert_eq!(
        p.elapsed_time, 30_000,
        "reports carry the time they are made"
    );
}

#[test]
fn a_pending_answers_retry_after_sets_the_next_wait() {
    let mut h = Harness::polling(|_| {});
    let out = h.respond(pending_after(3000));
    let Some(Action::Progress(p)) = out.last() else {
        panic!("no progress: {out:?}")
    };
    assert_eq!(
        p.next_poll_in,
        Some(3000),
        "progress reports the server's wait"
    );
    h.fire();
    h.pending();
    h.fire();
    // The hint replaced one step of the schedule; the next step follows it.
    assert_eq!(h.request_times(), vec![0, 3000, 4000]);
    assert!(h.retries().is_empty(), "no error counted");
    // A 202 is pending whatever its body said, with or without a hint.
    h.status(202, Some(500));
    h.fire();
    h.status(202, None);
    h.fire();
    assert_eq!(
        h.request_times(),
        vec![0, 3000, 4000, 5000, 6000],
        "floored at 1 s"
    );
    assert!(h.retries().is_empty());
}

#[test]
fn a_pending_answers_retry_after_is_bounded() {
    // Never past the deadline: a job asked to wait beyond it times out there.
    let mut h = Harness::polling(|c| c.timeout = 10_000);
    h.respond(pending_after(60_000));
    let Some(Action::Progress(p)) = h.log.last().map(|(_, a)| a) else {
        panic!("no progress")
    };
    assert_eq!(p.next_poll_in, Some(10_000), "reported up to the deadline");
    h.fire();
    assert_eq!(h.terminals(), vec![fail(PollError::Timeout)]);
    assert_eq!(h.request_times(), vec![0]);

    // An absurd header waits `maxRetryAfter` at most.
    let mut h = Harness::polling(|c| {
        c.timeout = 3_600_000;
        c.max_retry_after = 300_000;
    });
    h.respond(pending_after(86_400_000));
    h.fire();
    assert_eq!(h.request_times(), vec![0, 300_000]);

    // "Retry-After: 0" on every answer is no request loop: the planned
    // wait, or `initialDelay` if that is shorter, is the floor.
    let mut h = Harness::polling(|c| c.initial_delay = 400);
    for _ in 0..3 {
        h.respond(pending_after(0));
        h.fire();
    }
    assert_eq!(h.request_times(), vec![0, 400, 800, 1200]);
}

#[test]
fn a_checkers_told_error_is_reported_on_the_schedule_and_counts_as_no_error() {
    // The old module: `{ completed: false, error }` calls `onError` and polls
    // on, its call having answered (the error count goes back to 0).
    let mut h = Harness::polling(|c| c.max_consecutive_errors = Some(2));
    let said = Reply::Said {
        fingerprint: 1,
        retry_after: None,
    };
    h.status(503, None); // one error in a row
    h.fire();
    for _ in 0..6 {
        let out = h.respond(said.clone());
        assert!(
            out.iter().any(|a| matches!(a, Action::Reported { .. })),
            "{out:?}"
        );
        h.fire();
    }
    assert!(
        h.terminals().is_empty(),
        "never given up: {:?}",
        h.terminals()
    );
    assert_eq!(h.job.consecutive_errors().0, 0);
    assert_eq!(h.retries().len(), 1, "only the 503 was a retry");
    // The told waits are the schedule's (1 s x5, then 2 s), not a backoff.
    let told: Vec<u64> = (h.log.iter())
        .filter_map(|(_, a)| match a {
            Action::Reported { delay } => Some(*delay),
            _ => None,
        })
        .collect();
    assert_eq!(told, vec![1000, 1000, 1000, 1000, 1000, 2000]);
    let times = h.request_times();
    let gaps: Vec<u64> = times.windows(2).skip(1).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, told, "requests at {times:?}");
    h.respond(done("https://cdn/x.png"));
    assert_eq!(h.terminals().len(), 1);
    assert!(matches!(h.terminals()[0], Action::Complete { .. }));
}

#[test]
fn a_leader_that_steps_down_lets_go_of_its_request_and_stream_and_leads_again_later() {
    // Its page went into the back/forward cache: another tab leads.
    let mut h = Harness::polling(|c| c.intervals = Intervals::new(vec![1000]).unwrap());
    assert_eq!(h.request_times(), vec![0]);
    let out = h.feed(Input::Follow);
    assert!(out.contains(&Action::CancelRequest), "{out:?}");
    assert!(h.job.is_following());
    h.advance(30_000);
    assert!(!h.feed(Input::Timer).contains(&Action::SendRequest));
    assert_eq!(h.request_times(), vec![0], "sends nothing while it follows");
    // Back and leading again (nobody else did): polls at the next turn, and
    // its attempts go on.
    h.feed(Input::Lead);
    h.fire();
    assert_eq!(h.request_times(), vec![0, 30_000]);
    assert_eq!(h.job.progress(h.now).attempt, 2);

    // A streaming leader closes its stream, saying why; it opens one again
    // when it leads again.
    let mut h = streaming();
    let out = h.feed(Input::Follow);
    assert_eq!(out[0], Action::CloseStream(Closed::Handed));
    assert!(!h.stream_open);
    assert!(h.feed(Input::Lead).contains(&Action::OpenStream));
}

#[test]
fn a_followers_progress_is_not_told_twice_for_two_reports_of_one_leader_turn() {
    // The leader sends a turn's state, then its record: their countdowns to
    // the next request were read a millisecond apart.
    let mut h = follower(|_| {});
    let report = |next: u64, fingerprint| {
        Input::Mirror(smart_polling::core::job::Mirror {
            attempts: 3,
            elapsed: 5000,
            next_poll_in: Some(next),
            channel: Channel::Polling,
            percent: None,
            position: 3,
            fingerprint,
            errors: 0,
            error: None,
        })
    };
    let progress = |out: &[Action]| {
        out.iter()
            .filter(|a| matches!(a, Action::Progress(_)))
            .count()
    };
    assert_eq!(progress(&h.feed(report(2000, None))), 1);
    h.advance(1);
    assert_eq!(
        progress(&h.feed(report(1998, Some(7)))),
        0,
        "the same instant"
    );
    // A next request that really moved is news.
    assert_eq!(progress(&h.feed(report(5000, None))), 1);
}
