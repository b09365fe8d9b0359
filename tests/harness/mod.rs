//! The native tests' fake browser and replies, shared by tests/job.rs,
//! tests/table.rs and tests/properties.rs:
//! - the replies a fake server gives (`pending`, `done`, `status`, ...);
//! - [`Harness`]: a fake clock and browser for one `Job`, executing its
//!   actions the way the web layer does (one timer, one request, one
//!   stream) and recording everything with the time it happened;
//! - [`browser::Browser`]: the same for the manager's job table;
//! - [`tabs::World`]: two or three tabs sharing jobs (tests/tabs.rs,
//!   tests/roles_properties.rs).
#![allow(dead_code)]

pub mod browser;
pub mod tab;
pub mod tabs;

use smart_polling::core::job::{Action, Input, Job, Reply};
use smart_polling::core::record::State;
use smart_polling::core::stream::StreamEvent;
use smart_polling::{Config, PollError};

pub struct Harness {
    pub job: Job,
    pub now: u64,
    /// Every action with the time it was emitted.
    pub log: Vec<(u64, Action)>,
    pub timer: Option<u64>,
    pub in_flight: bool,
    pub stream_open: bool,
}

impl Harness {
    pub fn new(cfg: Config) -> Self {
        Self {
            job: Job::new(cfg),
            now: 0,
            log: Vec::new(),
            timer: None,
            in_flight: false,
            stream_open: false,
        }
    }

    /// A config with no jitter and no stream, for exact waits.
    pub fn polling(f: impl FnOnce(&mut Config)) -> Self {
        let mut cfg = Config {
            jitter: smart_polling::core::schedule::Jitter::None,
            use_stream: false,
            ..Config::default()
        };
        f(&mut cfg);
        let mut h = Self::new(cfg);
        h.feed(Input::Start);
        h
    }

    pub fn feed(&mut self, input: Input) -> Vec<Action> {
        self.job.handle(self.now, input);
        let mut out = Vec::new();
        while let Some(a) = self.job.poll_action() {
            match &a {
                Action::ArmTimer { at } => self.timer = Some(*at),
                Action::SendRequest => {
                    assert!(!self.in_flight, "two requests in flight");
                    self.in_flight = true;
                }
                Action::CancelRequest => self.in_flight = false,
                Action::OpenStream => self.stream_open = true,
                Action::CloseStream(_) => self.stream_open = false,
                Action::Complete { .. } | Action::Fail(_) => self.timer = None,
                _ => {}
            }
            self.log.push((self.now, a.clone()));
            out.push(a);
        }
        out
    }

    /// Jumps to the armed timer and fires it.
    pub fn fire(&mut self) -> Vec<Action> {
        let at = self.timer.expect("a timer is armed");
        assert!(at >= self.now, "timer in the past");
        self.now = at;
        self.timer = None;
        self.feed(Input::Timer)
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    pub fn respond(&mut self, reply: Reply) -> Vec<Action> {
        assert!(self.in_flight, "no request to answer");
        self.in_flight = false;
        self.feed(Input::Response(reply))
    }

    pub fn pending(&mut self) -> Vec<Action> {
        self.respond(pending())
    }

    pub fn status(&mut self, status: u16, retry_after: Option<u64>) -> Vec<Action> {
        self.respond(status_after(status, retry_after))
    }

    pub fn network_error(&mut self) -> Vec<Action> {
        assert!(self.in_flight, "no request to fail");
        self.in_flight = false;
        self.feed(Input::RequestFailed(PollError::Network))
    }

    pub fn message(&mut self, ev: StreamEvent) -> Vec<Action> {
        self.feed(Input::StreamMessage(ev))
    }

    /// Times at which requests were sent.
    pub fn request_times(&self) -> Vec<u64> {
        self.log
            .iter()
            .filter(|(_, a)| *a == Action::SendRequest)
            .map(|(t, _)| *t)
            .collect()
    }

    pub fn retries(&self) -> Vec<(PollError, u64)> {
        self.log
            .iter()
            .filter_map(|(_, a)| match a {
                Action::Retry { error, delay } => Some((*error, *delay)),
                _ => None,
            })
            .collect()
    }

    pub fn terminals(&self) -> Vec<Action> {
        self.log
            .iter()
            .filter(|(_, a)| matches!(a, Action::Complete { .. } | Action::Fail(_)))
            .map(|(_, a)| a.clone())
            .collect()
    }

    pub fn count_matching(&self, f: impl Fn(&Action) -> bool) -> usize {
        self.log.iter().filter(|(_, a)| f(a)).count()
    }

    pub fn count(&self, want: &Action) -> usize {
        self.log.iter().filter(|(_, a)| a == want).count()
    }

    /// Answers every request with "pending" until the job ends or `until`.
    pub fn run_pending_until(&mut self, until: u64) {
        while !self.job.is_finished() && self.now < until {
            if self.in_flight {
                self.pending();
            } else {
                self.fire();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Replies

/// A record answer in `state`; the fingerprint tells records apart.
pub fn record(state: State, fingerprint: u64) -> Reply {
    Reply::Record {
        state,
        fingerprint,
        retry_after: None,
    }
}

/// "Not ready yet" (always the same record).
pub fn pending() -> Reply {
    record(State::Pending, 1)
}

/// "Not ready yet", with the server's `Retry-After` of `ms`.
pub fn pending_after(ms: u64) -> Reply {
    Reply::Record {
        state: State::Pending,
        fingerprint: 1,
        retry_after: Some(ms),
    }
}

/// The completed record with its result `url`.
pub fn done(url: &str) -> Reply {
    record(
        State::Complete {
            url: Some(url.into()),
        },
        2,
    )
}

/// An answer of that HTTP status, with no `Retry-After`.
pub fn status(status: u16) -> Reply {
    status_after(status, None)
}

/// An answer of that HTTP status, with a `Retry-After` of `ms` if given.
pub fn status_after(status: u16, retry_after: Option<u64>) -> Reply {
    Reply::Status {
        status,
        retry_after,
    }
}

/// A 429 asking to wait `ms`.
pub fn rate_limited(ms: u64) -> Reply {
    status_after(429, Some(ms))
}

pub fn fail(e: PollError) -> Action {
    Action::Fail(e)
}
