//! One polling job as a sans-IO state machine: inputs (start, timer fired,
//! response, stream events, stop) arrive with the current time; the job
//! answers with actions (send a request, arm the timer, open or close the
//! stream, report to the page). It owns no timer, request or stream: the
//! browser layer executes the actions, the tests and the simulator fake them.
//!
//! This file holds the dispatch of each input; `inputs` what a job hears
//! (inputs, replies, a leading tab's state); `actions` what the job asks of
//! the browser layer; `view`
//! what a job tells the table and the page (and the few settings the table
//! makes), `waits` when it polls next, `answers` what it does with an
//! answer, `sources` the stream and the leading tab.
//!
//! Invariants, checked by the property tests: at most one terminal action
//! (`Complete` or `Fail`), nothing at all after it or after `Stop`, no wait
//! past the deadline, and the only wait longer than `maxDelay` is one a
//! server's Retry-After asked for (bounded by `maxRetryAfter`).

mod actions;
mod answers;
mod inputs;
mod sources;
mod view;
mod waits;

use std::rc::Rc;

use super::classify::{classify_status, Class};
use super::config::Config;
use super::error::PollError;
use super::metrics::{Channel, Outcome, Progress};
use super::record::{url_is_safe, State, TaskStatus};
use super::schedule::{Backoff, SplitMix64};
use super::stream::StreamEvent;

pub use actions::{Action, Closed};
pub use inputs::{Input, Mirror, Reply};

/// The most elapsed time a leading tab's state may say: a day, as the
/// learned history's longest duration (`learn::MAX_DURATION_MS`).
const MAX_MIRRORED_ELAPSED_MS: u64 = 86_400_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Running,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Off,
    Connecting {
        since: u64,
    },
    /// Open since `since`.
    Open {
        since: u64,
    },
    /// It dropped at `since` and the browser reconnects it; polling covers
    /// the gap, and it is closed if it is not open again within
    /// `sseConnectTimeout`.
    Reconnecting {
        since: u64,
    },
    Closed,
}

#[derive(Clone, Debug)]
pub struct Job {
    /// Shared by the jobs of one configuration (see `Table`).
    cfg: Rc<Config>,
    phase: Phase,
    started: u64,
    deadline: u64,
    /// Requests sent.
    attempts: u32,
    /// Position in the progressive schedule.
    position: usize,
    backoff: Backoff,
    not_found: u32,
    /// Transient errors in a row (5xx, network, timeouts, unreadable
    /// bodies; not 429 or 404), and the last of them.
    consecutive_errors: u32,
    /// The last answer (or failure) was an error that counts: the next wait
    /// is the backoff's, not the schedule's (a 404 or 429 after it is not).
    erring: bool,
    last_error: Option<PollError>,
    /// Jitter of the progressive waits, seeded apart from the backoff's.
    rng: SplitMix64,
    /// A later deadline asked for before the job started (a joining caller).
    deadline_floor: u64,
    /// A deadline passed while the page ran no code, and the job took its
    /// last look (see `Table::last_look`): how long it ran says nothing of
    /// the server.
    looked_late: bool,
    /// When the last "not ready yet" record arrived (elapsed ms): completion
    /// happened between it and the next answer.
    last_pending: Option<u64>,
    /// Another tab leads: nothing is sent, its reports are mirrored.
    following: bool,
    /// How much longer the job has run in the leading tab than here.
    elapsed_bias: u64,
    mirror_next: Option<u64>,
    mirror_channel: Channel,
    /// When the request in flight was sent.
    in_flight: Option<u64>,
    /// When the last request was sent.
    last_sent: Option<u64>,
    next_poll: Option<u64>,
    /// No request before this (Retry-After, backoff), whatever else happens.
    not_before: u64,
    /// Until when a server's `Retry-After` holds the job (this job's 429,
    /// or its origin's cooldown): part of `not_before`.
    rate_held: u64,
    stream: Stream,
    garbage: u32,
    /// Drops in a row of a stream that had been open less than
    /// `STEADY_STREAM_MS` (see `on_stream_drop`).
    flaps: u8,
    /// The input being handled is not a timer or an answer (a takeover, a
    /// nudge, a stream event): the poll it makes due goes at the next timer
    /// turn, through the table's turn bound, cooldown and cap on requests
    /// out, not at once (every job of a tab that becomes visible, or
    /// thousands of locks granted, would send together).
    defer: bool,
    percent: Option<u8>,
    /// When (elapsed ms) the stream first reported work done, and how
    /// much: the rate of progress is measured from there, not from the
    /// start (a job may wait in a queue at 0 % first).
    percent_from: Option<(u64, u8)>,
    /// When (elapsed ms) the percent last changed.
    percent_at: u64,
    /// The stream said the task completed: fetch the record quickly.
    server_done: bool,
    /// The stream's `render_result` url, and the time by which the job
    /// completes with it alone: until then it waits for the record the url
    /// belongs to (the answer out, or one request), so that the page gets
    /// the record as the server has it, not an older one with the url.
    result: Option<(String, u64)>,
    /// A request was out when that result came: its answer may say nothing
    /// of the record the result belongs to (one more is asked for then).
    result_stale: bool,
    /// The stream opened while a request was out: that request's answer
    /// may predate what the stream missed, so one more request follows it.
    catch_up: bool,
    last_fingerprint: Option<u64>,
    armed: Option<u64>,
    /// Set by `reject`: the job fails with it as soon as it starts.
    rejected: Option<PollError>,
    /// Where the input being handled came from.
    via: Channel,
    expected_duration: Option<u64>,
    outcome: Option<Outcome>,
    /// What the page last heard in a progress report (see `visible`): an
    /// input that changes none of it (a ping on the stream, a timer turn
    /// with nothing due) reports nothing.
    reported: u64,
    /// Offline: nothing is sent and no failure counts (see `Input::Offline`).
    paused: bool,
    actions: Vec<Action>,
}

impl Job {
    pub fn new(cfg: Config) -> Self {
        let seed = cfg.seed;
        Self::with_seed(Rc::new(cfg), seed)
    }

    /// A job of a shared configuration, with its own jitter seed (the
    /// configuration's is not read).
    pub fn with_seed(cfg: Rc<Config>, seed: u64) -> Self {
        let channel = match cfg.use_stream {
            true => Channel::Stream,
            false => Channel::Polling,
        };
        let backoff = Backoff::new(cfg.initial_delay, cfg.backoff_multiplier, cfg.max_delay)
            .with_jitter(cfg.jitter)
            .with_seed(seed);
        Self {
            cfg,
            phase: Phase::Idle,
            started: 0,
            deadline: 0,
            attempts: 0,
            position: 0,
            backoff,
            not_found: 0,
            consecutive_errors: 0,
            erring: false,
            last_error: None,
            rng: SplitMix64::new(seed ^ 0x5DEE_CE66_D1CE_4E5B),
            deadline_floor: 0,
            looked_late: false,
            last_pending: None,
            following: false,
            elapsed_bias: 0,
            mirror_next: None,
            // What it will show once it leads, until a leader says otherwise.
            mirror_channel: channel,
            in_flight: None,
            last_sent: None,
            next_poll: None,
            not_before: 0,
            rate_held: 0,
            stream: Stream::Off,
            garbage: 0,
            flaps: 0,
            defer: false,
            percent: None,
            percent_from: None,
            percent_at: 0,
            server_done: false,
            result: None,
            result_stale: false,
            catch_up: false,
            last_fingerprint: None,
            armed: None,
            rejected: None,
            via: Channel::Polling,
            expected_duration: None,
            outcome: None,
            reported: 0,
            paused: false,
            actions: Vec::new(),
        }
    }

    pub fn handle(&mut self, now: u64, input: Input) {
        // A takeover, a nudge or a stream event makes a poll due; the next
        // timer turn (the table's, which holds a job back for a cooldown or
        // the cap on requests out) sends it.
        self.defer = matches!(
            input,
            Input::Lead
                | Input::Nudge
                | Input::Online
                | Input::StreamOpened
                | Input::StreamMessage(_)
                | Input::StreamFailed
                | Input::StreamInterrupted
                | Input::StreamBusy
        );
        self.via = match input {
            Input::Response(_) | Input::RequestFailed(_) => Channel::Polling,
            Input::StreamOpened
            | Input::StreamMessage(_)
            | Input::StreamFailed
            | Input::StreamInterrupted => Channel::Stream,
            _ => self.channel(),
        };
        match (self.phase, input) {
            (Phase::Done, _) => return,
            (Phase::Idle, Input::Start) => self.start(now),
            (Phase::Idle, Input::Follow) => {
                self.following = true;
                return;
            }
            (Phase::Idle, Input::Lead) => {
                self.following = false;
                return;
            }
            (Phase::Running, Input::Lead) => {
                if !self.following {
                    return;
                }
                self.following = false;
                // The leader's errors in a row go on counting here: so
                // does the backoff, from their step, not from its first.
                if self.consecutive_errors > 0 && !self.erring {
                    self.erring = true;
                    for _ in 0..self.consecutive_errors.min(64) {
                        self.backoff.next();
                    }
                }
                if self.cfg.use_stream && self.stream == Stream::Off {
                    self.open_stream(now);
                } else {
                    self.poll_soon(now);
                }
            }
            (Phase::Running, Input::Mirror(m)) => {
                // The leader's numbers are the job's, even past this tab's
                // own limits (it joined later, or allows fewer requests):
                // those count from its own start, and at a takeover. Refused
                // as forged: an elapsed time past a day (no page's job runs
                // that long; learning refuses it too), and more errors in a
                // row than requests made (each was a request).
                if !self.following || m.elapsed > MAX_MIRRORED_ELAPSED_MS || m.errors > m.attempts {
                    return;
                }
                self.mirror(now, m);
            }
            (Phase::Running, Input::MirrorEnd(r)) => {
                if !self.following {
                    return;
                }
                match r {
                    Ok(url) => self.complete(now, url),
                    Err(e) => self.finish(now, Err(e)),
                }
            }
            (Phase::Running, Input::Follow) => {
                // This tab steps down (its page goes into the back/forward
                // cache, or is frozen): another tab leads from here, and
                // what this one has out goes.
                if self.following {
                    return;
                }
                // A result heard already is the job's: it ends with it.
                if let Some((url, _)) = self.result.take() {
                    return self.finish_with_url(now, url);
                }
                self.following = true;
                self.mirror_next = None;
                self.next_poll = None;
                // What it counted is stale by the time it is back: the
                // leader's next state says how many errors there are.
                self.consecutive_errors = 0;
                self.erring = false;
                self.backoff.reset();
                if self.in_flight.take().is_some() {
                    self.actions.push(Action::CancelRequest);
                }
                if self.stream_exists() {
                    self.stream = Stream::Off;
                    self.actions.push(Action::CloseStream(Closed::Handed));
                }
            }
            (_, Input::Offline) => self.paused = true,
            (Phase::Idle, Input::Online) => {
                self.paused = false;
                return;
            }
            (Phase::Running, Input::Online) => {
                let was = std::mem::replace(&mut self.paused, false);
                // Its (re)connection's time runs from here: offline, the
                // browser's tries could not succeed.
                if let (true, Stream::Connecting { since } | Stream::Reconnecting { since }) =
                    (was, &mut self.stream)
                {
                    *since = now;
                }
                if was && !self.following && !matches!(self.stream, Stream::Connecting { .. }) {
                    self.poll_soon(now);
                }
            }
            (
                Phase::Idle,
                Input::Hold {
                    until,
                    rate_limited,
                },
            ) => {
                self.not_before = self.not_before.max(until);
                if rate_limited {
                    self.rate_held = self.rate_held.max(until);
                }
                return;
            }
            (Phase::Idle, _) | (Phase::Running, Input::Start) => return,
            (Phase::Running, Input::Stop) => {
                // Silent: the page asked for it, so no callback.
                self.release();
                return;
            }
            // The browser's timer is spent once it fires, even early: re-arm.
            (Phase::Running, Input::Timer) => self.armed = None,
            (Phase::Running, Input::Response(reply)) => {
                if self.in_flight.take().is_none() {
                    return; // stale: cancelled or timed out already
                }
                self.on_reply(now, reply);
            }
            (Phase::Running, Input::RequestFailed(e)) => {
                if self.in_flight.take().is_none() {
                    return;
                }
                if let Some((url, _)) = self.result.take() {
                    // The stream's result, without its record.
                    self.finish_with_url(now, url);
                } else if e.retryable() {
                    self.on_transient(now, e);
                } else {
                    self.finish(now, Err(e));
                }
            }
            (Phase::Running, Input::StreamOpened) => {
                if !matches!(
                    self.stream,
                    Stream::Connecting { .. } | Stream::Reconnecting { .. }
                ) {
                    return;
                }
                self.on_stream_open(now);
            }
            (Phase::Running, Input::StreamMessage(ev)) => match self.stream {
                Stream::Connecting { .. } | Stream::Reconnecting { .. } => {
                    self.on_stream_open(now);
                    self.on_stream(now, ev);
                }
                Stream::Open { .. } => self.on_stream(now, ev),
                Stream::Off | Stream::Closed => return,
            },
            (Phase::Running, Input::StreamInterrupted) => match self.stream {
                Stream::Open { since } => self.on_stream_drop(now, since),
                // Not open yet: the route did not answer, as a failure.
                Stream::Connecting { .. } => self.fall_back(now, Closed::Refused),
                // The browser's further tries while it reconnects.
                Stream::Reconnecting { .. } | Stream::Off | Stream::Closed => return,
            },
            (Phase::Running, Input::StreamBusy) => {
                if !matches!(self.stream, Stream::Connecting { .. }) {
                    return;
                }
                self.fall_back(now, Closed::Busy);
            }
            (Phase::Running, Input::StreamFailed) => {
                let why = match self.stream {
                    Stream::Connecting { .. } => Closed::Refused,
                    Stream::Open { .. } | Stream::Reconnecting { .. } => Closed::Failed,
                    Stream::Off | Stream::Closed => return,
                };
                self.fall_back(now, why);
            }
            (
                Phase::Running,
                Input::Hold {
                    until,
                    rate_limited,
                },
            ) => {
                self.not_before = self.not_before.max(until);
                if rate_limited {
                    self.rate_held = self.rate_held.max(until);
                }
                if self.in_flight.is_none() {
                    self.next_poll = self.next_poll.map(|t| t.max(until));
                }
                // It may stand in for the timer's input: always re-arm.
                self.armed = None;
            }
            (Phase::Running, Input::Nudge) => {
                if self.following || matches!(self.stream, Stream::Connecting { .. }) {
                    return; // the leading tab's, or the stream's timeout, decides
                }
                self.poll_soon(now);
            }
        }
        if self.phase == Phase::Running {
            self.drive(now);
        }
        if self.phase == Phase::Running {
            let seen = self.visible();
            if seen != self.reported {
                self.reported = seen;
                self.actions.push(Action::Progress(self.progress(now)));
            }
        }
    }

    fn start(&mut self, now: u64) {
        self.phase = Phase::Running;
        self.started = now;
        self.deadline = now
            .saturating_add(self.cfg.timeout)
            .max(self.deadline_floor);
        if let Some(e) = self.rejected {
            return self.finish(now, Err(e));
        }
        if self.following {
            return;
        }
        if self.cfg.use_stream {
            self.open_stream(now);
        } else {
            self.next_poll = Some(now.max(self.not_before));
        }
    }
}
