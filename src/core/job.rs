//! One polling job as a sans-IO state machine: inputs (start, timer fired,
//! response, stream events, stop) arrive with the current time; the job
//! answers with actions (send a request, arm the timer, open or close the
//! stream, report to the page). It owns no timer, request or stream: the
//! browser layer executes the actions, the tests and the simulator fake them.
//!
//! Invariants, checked by the property tests: at most one terminal action
//! (`Complete` or `Fail`), nothing at all after it or after `Stop`, no wait
//! past the deadline, and the only wait longer than `maxDelay` is one a
//! server's Retry-After asked for (bounded by `maxRetryAfter`).

use std::rc::Rc;

use super::classify::{classify_status, Class};
use super::config::Config;
use super::error::PollError;
use super::metrics::{Channel, Outcome, Progress};
use super::record::{url_is_safe, State, TaskStatus};
use super::schedule::{Backoff, SplitMix64};
use super::stream::StreamEvent;

/// The outcome of one request, as the browser layer read it.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// 2xx with a readable record; `fingerprint` tells whether it changed;
    /// `retry_after` is the answer's Retry-After in ms: while the record is
    /// pending, the server's word on when to ask again.
    Record {
        state: State,
        fingerprint: u64,
        retry_after: Option<u64>,
    },
    /// 2xx whose body was not JSON or not a record.
    Unreadable,
    /// Any other status; `retry_after` is the parsed Retry-After in ms.
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Start,
    /// The timer armed by the last `ArmTimer` fired (early or spurious is fine).
    Timer,
    Response(Reply),
    /// `fetch` rejected (`Network`); timeouts are the job's own business.
    RequestFailed(PollError),
    StreamOpened,
    StreamMessage(StreamEvent),
    StreamFailed,
    /// Conditions changed for the better (the tab is visible again, the
    /// browser is back online): a throttled or backed-off timer may be far
    /// off, so poll as soon as the server's limits allow (at the next timer
    /// turn: the job re-arms for it).
    Nudge,
    /// The browser is offline: send nothing and count no error until
    /// `Online`; the deadline still runs.
    Offline,
    /// Back online: a paused job polls at the next timer turn (under the
    /// origin's cooldown and cap, as a nudge).
    Online,
    /// No request before `until` (another job's 429 set a cooldown for the
    /// origin, or the retry budget is spent); never shortens a wait.
    Hold {
        until: u64,
    },
    /// Another tab leads this job: send nothing, mirror what it reports
    /// (given before `Start`).
    Follow,
    /// This tab leads now (the leader left): carry on from the mirrored
    /// state (attempts, schedule position, elapsed time), polling at once.
    Lead,
    /// What the leading tab reported.
    Mirror(Mirror),
    /// How the job ended in the leading tab (a fact about the generation,
    /// not a local limit): end the same way.
    MirrorEnd(Result<Option<String>, PollError>),
    Stop,
}

/// A job's state as the leading tab reports it to the tabs that follow.
#[derive(Clone, Debug, PartialEq)]
pub struct Mirror {
    pub attempts: u32,
    pub elapsed: u64,
    pub next_poll_in: Option<u64>,
    pub channel: Channel,
    pub percent: Option<u8>,
    /// Position in the progressive schedule, so a takeover does not start
    /// over at the fastest rate.
    pub position: usize,
    /// The fingerprint of the leader's record when it is new (the input
    /// carries the record: `Update`).
    pub fingerprint: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Fetch the record. At most one request is in flight.
    SendRequest,
    /// Abort the request in flight.
    CancelRequest,
    /// (Re)arm the job's single timer for time `at`; replaces the previous one.
    ArmTimer {
        at: u64,
    },
    OpenStream,
    CloseStream,
    /// The record of the current input is new: call `onUpdate` with it.
    Update,
    Progress(Progress),
    /// A transient error; the next request goes out in `delay` ms.
    Retry {
        error: PollError,
        delay: u64,
    },
    /// Terminal: success, with the result url when there is one.
    Complete {
        url: Option<String>,
    },
    /// Terminal: failure.
    Fail(PollError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Running,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Off,
    Connecting { since: u64 },
    Open,
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
    last_error: Option<PollError>,
    /// Jitter of the progressive waits, seeded apart from the backoff's.
    rng: SplitMix64,
    /// A later deadline asked for before the job started (a joining caller).
    deadline_floor: u64,
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
    next_poll: Option<u64>,
    /// No request before this (Retry-After, backoff), whatever else happens.
    not_before: u64,
    stream: Stream,
    garbage: u32,
    /// The input being handled is not a timer or an answer (a takeover, a
    /// nudge, a stream event): the poll it makes due goes at the next timer
    /// turn, through the table's turn bound, cooldown and cap on requests
    /// out, not at once (every job of a tab that becomes visible, or
    /// thousands of locks granted, would send together).
    defer: bool,
    percent: Option<u8>,
    /// The stream said the task completed: fetch the record quickly.
    server_done: bool,
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
            last_error: None,
            rng: SplitMix64::new(seed ^ 0x5DEE_CE66_D1CE_4E5B),
            deadline_floor: 0,
            last_pending: None,
            following: false,
            elapsed_bias: 0,
            mirror_next: None,
            mirror_channel: Channel::Polling,
            in_flight: None,
            next_poll: None,
            not_before: 0,
            stream: Stream::Off,
            garbage: 0,
            defer: false,
            percent: None,
            server_done: false,
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

    /// Makes the job fail with `e` when it starts, without a request (an
    /// invalid id): the failure reaches the page like any other.
    pub fn reject(&mut self, e: PollError) {
        self.rejected = Some(e);
    }

    /// A typical completion time (from past jobs) for the ETA.
    pub fn set_expected_duration(&mut self, ms: Option<u64>) {
        self.expected_duration = ms;
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Every action to execute, in order; the job keeps no buffer between
    /// inputs (a job's memory matters when thousands run).
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// The next action to execute, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        // A handful of actions per input: shifting them costs less code
        // than a ring buffer.
        (!self.actions.is_empty()).then(|| self.actions.remove(0))
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Done
    }

    /// How the job ended; `None` while running or after `Stop`.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    pub fn deadline(&self) -> u64 {
        self.deadline
    }

    /// Keeps the job running until at least `at` (a caller that joined with
    /// a later deadline); never shortens it.
    pub fn extend_deadline(&mut self, at: u64) {
        self.deadline_floor = self.deadline_floor.max(at);
        if self.phase == Phase::Running {
            self.deadline = self.deadline.max(at);
        }
    }

    /// Transient errors in a row, and the last one.
    pub fn consecutive_errors(&self) -> (u32, Option<PollError>) {
        (self.consecutive_errors, self.last_error)
    }

    /// The progressive wait the schedule has reached (without jitter): what
    /// "the next scheduled poll" means when an early retry is not allowed.
    pub fn scheduled_wait(&self) -> u64 {
        self.cfg
            .intervals
            .wait(self.position)
            .min(self.cfg.max_delay)
    }

    /// The wait that follows the request in flight if its answer is "not
    /// ready yet", before jitter: the old module's `nextInterval`, which it
    /// reported before each attempt.
    pub fn planned_wait(&self) -> u64 {
        match (self.stream, self.cfg.stream_poll_interval) {
            (Stream::Open, w) if !self.server_done && w > 0 => w,
            _ => self.scheduled_wait(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.phase == Phase::Running
    }

    /// Whether `Start` or `Timer` now would send a request (the table
    /// holds such a job back while its origin has its fill out).
    pub fn would_send(&self, now: u64) -> bool {
        if self.following || self.paused || self.rejected.is_some() {
            return false;
        }
        match self.phase {
            Phase::Idle => !self.cfg.use_stream && self.not_before <= now,
            Phase::Running => {
                // A stream that never opened falls back to a poll at once.
                let falls_back = matches!(self.stream, Stream::Connecting { since }
                    if since.saturating_add(self.cfg.sse_connect_timeout) <= now);
                now < self.deadline
                    && self.in_flight.is_none()
                    && self.attempts < self.cfg.max_attempts
                    && (falls_back || self.poll_due(now))
            }
            Phase::Done => false,
        }
    }

    /// No request before this (a Retry-After or a backoff, not cut at the
    /// deadline).
    pub fn not_before(&self) -> u64 {
        self.not_before
    }

    /// A request is out, waiting for its answer.
    pub fn awaiting_reply(&self) -> bool {
        self.in_flight.is_some()
    }

    /// No request out and the next poll's time has come.
    fn poll_due(&self, now: u64) -> bool {
        self.in_flight.is_none() && self.next_poll.is_some_and(|t| t <= now)
    }

    /// Whether another tab leads this job.
    pub fn is_following(&self) -> bool {
        self.following
    }

    /// When the last "not ready yet" answer came (elapsed ms), to learn
    /// when the job really completed.
    pub fn last_pending(&self) -> Option<u64> {
        self.last_pending
    }

    /// The fingerprint of the last record seen (0 before any).
    pub fn fingerprint(&self) -> u64 {
        self.last_fingerprint.unwrap_or(0)
    }

    /// Position in the progressive schedule (what a follower mirrors).
    pub fn position(&self) -> usize {
        self.position
    }

    /// Whether the job holds (or is about to open) an event stream: what a
    /// cap on open streams counts.
    /// A follower keeps its place too: it opens the stream when it takes over.
    pub fn holds_stream(&self) -> bool {
        self.cfg.use_stream && self.stream != Stream::Closed
    }

    pub fn channel(&self) -> Channel {
        if self.following {
            return self.mirror_channel;
        }
        match self.stream {
            Stream::Connecting { .. } | Stream::Open => Channel::Stream,
            Stream::Off | Stream::Closed => Channel::Polling,
        }
    }

    pub fn progress(&self, now: u64) -> Progress {
        let elapsed = match self.phase {
            Phase::Idle => 0,
            _ => self.elapsed(now),
        };
        let eta = match (self.percent, &self.cfg.estimate) {
            (Some(p @ 1..=100), _) => Some(elapsed * u64::from(100 - p) / u64::from(p)),
            // The learned distribution's median of what remains.
            (_, Some(d)) => Some(d.eta(elapsed)),
            _ => self
                .expected_duration
                .filter(|&e| e > elapsed)
                .map(|e| e - elapsed),
        };
        let next = match self.following {
            true => self.mirror_next,
            false => self.next_poll.filter(|_| self.in_flight.is_none()),
        };
        Progress {
            waiting_for_network: self.paused && !self.following,
            attempt: self.attempts,
            max_attempts: self.cfg.max_attempts,
            next_poll_in: next.map(|t| self.cut(t).saturating_sub(now)),
            elapsed_time: elapsed,
            estimated_time_remaining: eta,
            channel: self.channel(),
            progress: self.percent,
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
        );
        self.via = match input {
            Input::Response(_) | Input::RequestFailed(_) => Channel::Polling,
            Input::StreamOpened | Input::StreamMessage(_) | Input::StreamFailed => Channel::Stream,
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
                if self.cfg.use_stream && self.stream == Stream::Off {
                    self.stream = Stream::Connecting { since: now };
                    self.actions.push(Action::OpenStream);
                } else {
                    self.poll_soon(now);
                }
            }
            (Phase::Running, Input::Mirror(m)) => {
                // Another tab's numbers are taken only within this job's own
                // limits: a forged `attempt` would end it with max_attempts
                // at a takeover, a skewed `elapsed` would be learned.
                let plausible = m.attempts <= self.cfg.max_attempts
                    && m.elapsed <= self.deadline.saturating_sub(self.started);
                if !self.following || !plausible {
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
            (Phase::Running, Input::Follow) => return,
            (_, Input::Offline) => self.paused = true,
            (Phase::Idle, Input::Online) => {
                self.paused = false;
                return;
            }
            (Phase::Running, Input::Online) => {
                let was = std::mem::replace(&mut self.paused, false);
                if was && !self.following && !matches!(self.stream, Stream::Connecting { .. }) {
                    self.poll_soon(now);
                }
            }
            (Phase::Idle, Input::Hold { until }) => {
                self.not_before = self.not_before.max(until);
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
                self.on_transient(now, e);
            }
            (Phase::Running, Input::StreamOpened) => {
                if !matches!(self.stream, Stream::Connecting { .. }) {
                    return;
                }
                self.on_stream_open(now);
            }
            (Phase::Running, Input::StreamMessage(ev)) => match self.stream {
                Stream::Connecting { .. } => {
                    self.on_stream_open(now);
                    self.on_stream(now, ev);
                }
                Stream::Open => self.on_stream(now, ev),
                Stream::Off | Stream::Closed => return,
            },
            (Phase::Running, Input::StreamFailed) => {
                if !matches!(self.stream, Stream::Connecting { .. } | Stream::Open) {
                    return;
                }
                self.fall_back(now);
            }
            (Phase::Running, Input::Hold { until }) => {
                self.not_before = self.not_before.max(until);
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

    /// A digest of what a progress report shows that an input can change:
    /// the attempt, the percentage, the channel, the role, whether a request
    /// is out and when the next one is due (an instant: the countdown to it
    /// is the page's to draw). Never 0, the "nothing reported" mark.
    fn visible(&self) -> u64 {
        let next = match self.following {
            true => self.mirror_next,
            false => self.next_poll.filter(|_| self.in_flight.is_none()),
        };
        let parts = [
            u64::from(self.attempts),
            self.percent.map_or(u64::MAX, u64::from),
            self.channel() as u64,
            u64::from(self.following)
                | u64::from(self.in_flight.is_some()) << 1
                | u64::from(self.paused) << 2,
            next.map_or(u64::MAX, |t| self.cut(t)),
        ];
        parts.iter().fold(0x9E37_79B9_7F4A_7C15, |h, &p| {
            (h ^ p).wrapping_mul(0x0100_0000_01B3).rotate_left(23)
        }) | 1
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
            self.stream = Stream::Connecting { since: now };
            self.actions.push(Action::OpenStream);
        } else {
            self.next_poll = Some(now.max(self.not_before));
        }
    }

    /// Checks every limit and timer, then sends what is due and re-arms.
    fn drive(&mut self, now: u64) {
        let defer = std::mem::take(&mut self.defer);
        if now >= self.deadline {
            return self.finish(now, Err(PollError::Timeout));
        }
        if self.following {
            // Only this tab's own deadline is its business.
            if self.armed != Some(self.deadline) {
                self.armed = Some(self.deadline);
                self.actions.push(Action::ArmTimer { at: self.deadline });
            }
            return;
        }
        if let Some(sent) = self.in_flight {
            if sent.saturating_add(self.cfg.request_timeout) <= now {
                self.in_flight = None;
                self.actions.push(Action::CancelRequest);
                self.on_transient(now, PollError::RequestTimeout);
            }
        }
        if let Stream::Connecting { since } = self.stream {
            if since.saturating_add(self.cfg.sse_connect_timeout) <= now {
                self.fall_back(now);
            }
        }
        if self.phase != Phase::Running {
            return;
        }
        if self.in_flight.is_none() && self.attempts >= self.cfg.max_attempts {
            if self.stream == Stream::Open {
                // Out of requests, but the stream still watches the job.
                self.next_poll = None;
            } else if self.next_poll.is_some() {
                return self.finish(now, Err(PollError::MaxAttempts));
            }
        }
        if !defer && !self.paused && self.poll_due(now) {
            self.attempts += 1;
            self.in_flight = Some(now);
            self.next_poll = None;
            self.actions.push(Action::SendRequest);
        }
        let wake = [
            Some(self.deadline),
            self.next_poll
                .filter(|_| self.in_flight.is_none() && !self.paused),
            self.in_flight
                .map(|s| s.saturating_add(self.cfg.request_timeout)),
            match self.stream {
                Stream::Connecting { since } => {
                    Some(since.saturating_add(self.cfg.sse_connect_timeout))
                }
                _ => None,
            },
        ]
        .into_iter()
        .flatten()
        .min();
        if wake != self.armed {
            self.armed = wake;
            if let Some(at) = wake {
                self.actions.push(Action::ArmTimer { at });
            }
        }
    }

    fn on_reply(&mut self, now: u64, reply: Reply) {
        if !matches!(reply, Reply::Status { status: 404, .. }) {
            self.not_found = 0; // the bound is on 404s in a row
        }
        match reply {
            Reply::Record {
                state,
                fingerprint,
                retry_after,
            } => {
                self.backoff.reset();
                self.consecutive_errors = 0;
                if self.on_record(now, state, fingerprint) {
                    self.schedule_next(now, retry_after);
                }
            }
            // "Accepted": still running, whatever its body says.
            Reply::Status {
                status: 202,
                retry_after,
            } => {
                self.backoff.reset();
                self.consecutive_errors = 0;
                self.schedule_next(now, retry_after);
            }
            Reply::Unreadable => self.on_transient(now, PollError::InvalidResponse),
            Reply::Status {
                status,
                retry_after,
            } => match classify_status(status) {
                Class::Success => self.on_transient(now, PollError::InvalidResponse),
                Class::RateLimited => {
                    let asked = retry_after.map_or(self.cfg.rate_limit_delay, |d| {
                        d.min(self.cfg.max_retry_after)
                    });
                    // A server that names a real wait is taken at its word;
                    // below the first backoff step ("Retry-After: 0" on
                    // every answer, or none) the backoff is a floor, so a
                    // 429 never becomes a request loop.
                    let wait = match retry_after {
                        Some(d) if d >= self.cfg.initial_delay => asked,
                        _ => asked.max(self.backoff.next().unwrap_or(self.cfg.max_delay)),
                    };
                    self.retry(now, PollError::RateLimited, wait);
                }
                Class::NotFound => {
                    self.not_found += 1;
                    if self.not_found >= self.cfg.max_not_found {
                        return self.finish(now, Err(PollError::NotFound));
                    }
                    let wait = self.progressive_wait();
                    self.retry(now, PollError::NotFound, wait);
                }
                Class::Retry(e) => self.on_transient(now, e),
                Class::Stop(e) => self.finish(now, Err(e)),
            },
        }
    }

    /// Reports a record; true while the job is still pending.
    fn on_record(&mut self, now: u64, state: State, fingerprint: u64) -> bool {
        if state == State::UnsafeUrl {
            // Before `Update`: such a record never reaches the page.
            self.finish(now, Err(PollError::InvalidUrl));
            return false;
        }
        if self.last_fingerprint != Some(fingerprint) {
            self.last_fingerprint = Some(fingerprint);
            self.actions.push(Action::Update);
        }
        match state {
            State::Pending => {
                self.last_pending = Some(self.elapsed(now));
                true
            }
            State::Complete { url } => {
                self.complete(now, url);
                false
            }
            State::Failed => {
                self.finish(now, Err(PollError::GenerationFailed));
                false
            }
            State::UnsafeUrl => false,
        }
    }

    fn complete(&mut self, now: u64, url: Option<String>) {
        match url {
            Some(u) if !url_is_safe(&u) => self.finish(now, Err(PollError::InvalidUrl)),
            url => self.finish(now, Ok(url)),
        }
    }

    fn on_transient(&mut self, now: u64, e: PollError) {
        if self.paused {
            // Offline is not the server's fault: no error counted, no retry
            // charged; the poll goes again when the browser is back.
            self.next_poll = Some(now);
            return;
        }
        self.consecutive_errors += 1;
        self.last_error = Some(e);
        if self
            .cfg
            .max_consecutive_errors
            .is_some_and(|max| self.consecutive_errors >= max)
        {
            return self.finish(now, Err(e));
        }
        let wait = self.backoff.next().unwrap_or(self.cfg.max_delay);
        self.retry(now, e, wait);
    }

    fn retry(&mut self, now: u64, error: PollError, wait: u64) {
        if self.attempts >= self.cfg.max_attempts {
            // No retry will happen: the stream carries on alone, or `drive`
            // reports max_attempts.
            self.next_poll = (self.stream != Stream::Open).then_some(now);
            return;
        }
        if now >= self.deadline {
            return; // `drive` reports the timeout
        }
        // Kept whole: a joiner may extend the deadline, and the origin's
        // cooldown is the server's wait, not this job's remaining time.
        let at = now.saturating_add(wait);
        self.not_before = at;
        self.next_poll = Some(at);
        self.actions.push(Action::Retry {
            error,
            delay: self.cut(at) - now,
        });
    }

    fn progressive_wait(&mut self) -> u64 {
        let w = self.scheduled_wait();
        self.position = self.position.saturating_add(1);
        // `maxDelay` stays the cap of every wait but a server's.
        self.cfg
            .jitter
            .spread(w, &mut self.rng)
            .min(self.cfg.max_delay)
    }

    /// Schedules the next poll after a "not ready yet"; `hint` is the
    /// answer's Retry-After (see `hinted`).
    fn schedule_next(&mut self, now: u64, hint: Option<u64>) {
        let planned = if self.stream == Stream::Open && !self.server_done {
            match self.cfg.stream_poll_interval {
                0 => {
                    self.next_poll = None; // the stream watches alone
                    return;
                }
                w => w,
            }
        } else {
            self.progressive_wait()
        };
        let wait = hint.map_or(planned, |h| self.hinted(h, planned));
        self.next_poll = Some(now.saturating_add(wait));
    }

    /// The wait a pending answer's Retry-After asks for, bounded as a 429's
    /// is: at most `maxRetryAfter` (the deadline cuts it as any wait), and
    /// at least the smaller of the planned wait and `initialDelay`, so a
    /// "Retry-After: 0" on every answer never becomes a request loop.
    fn hinted(&self, hint: u64, planned: u64) -> u64 {
        hint.min(self.cfg.max_retry_after)
            .max(planned.min(self.cfg.initial_delay))
    }

    /// Polls as soon as the rate limits allow.
    fn poll_soon(&mut self, now: u64) {
        if self.in_flight.is_none() {
            let earliest = now.max(self.not_before);
            self.next_poll = Some(self.next_poll.map_or(earliest, |t| t.min(earliest)));
        }
    }

    /// Time since the job started (in the leading tab, when mirrored).
    fn elapsed(&self, now: u64) -> u64 {
        now.saturating_sub(self.started)
            .saturating_add(self.elapsed_bias)
    }

    fn mirror(&mut self, now: u64, m: Mirror) {
        self.attempts = m.attempts;
        self.elapsed_bias = 0;
        self.elapsed_bias = m.elapsed.saturating_sub(self.elapsed(now));
        self.position = m.position;
        self.percent = m.percent;
        self.mirror_next = m.next_poll_in.map(|d| now.saturating_add(d));
        self.mirror_channel = m.channel;
        if let Some(fp) = m.fingerprint {
            if self.last_fingerprint != Some(fp) {
                self.last_fingerprint = Some(fp);
                self.actions.push(Action::Update);
            }
        }
    }

    fn on_stream_open(&mut self, now: u64) {
        self.stream = Stream::Open;
        self.garbage = 0;
        // Catch up on anything that happened before we subscribed.
        self.poll_soon(now);
    }

    fn on_stream(&mut self, now: u64, ev: StreamEvent) {
        if ev != StreamEvent::Garbage {
            self.garbage = 0;
        }
        match ev {
            StreamEvent::Progress(p) => self.percent = Some(p),
            StreamEvent::Result(url) => self.complete(now, Some(url)),
            StreamEvent::File { state, fingerprint } => {
                self.on_record(now, state, fingerprint);
            }
            StreamEvent::Task(TaskStatus::Completed) => {
                // The stream usually sends the result right after: give it a
                // moment (the first interval, at most 1 s), then fetch the
                // record, and quickly after that.
                self.server_done = true;
                let grace = self.cfg.intervals.wait(0).min(1000);
                self.poll_soon(now.saturating_add(grace));
            }
            StreamEvent::Task(TaskStatus::Error) => {
                self.finish(now, Err(PollError::GenerationFailed))
            }
            StreamEvent::Task(_) | StreamEvent::Ignored => {}
            StreamEvent::Garbage => {
                self.garbage += 1;
                if self.garbage >= self.cfg.max_stream_garbage {
                    self.fall_back(now);
                }
            }
        }
    }

    /// The stream is gone for good: poll instead, resuming the schedule where
    /// the elapsed time puts it rather than at its fastest.
    fn fall_back(&mut self, now: u64) {
        self.actions.push(Action::CloseStream);
        self.stream = Stream::Closed;
        let by_time = self.cfg.intervals.position_for_elapsed(self.elapsed(now));
        self.position = self.position.max(by_time);
        self.poll_soon(now);
    }

    fn cut(&self, at: u64) -> u64 {
        at.min(self.deadline)
    }

    fn finish(&mut self, now: u64, result: Result<Option<String>, PollError>) {
        self.release();
        self.outcome = Some(Outcome {
            error: result.as_ref().err().copied(),
            duration: self.elapsed(now),
            attempts: self.attempts,
            channel: self.via,
        });
        self.actions.push(match result {
            Ok(url) => Action::Complete { url },
            Err(e) => Action::Fail(e),
        });
    }

    /// Ends the job and releases its resources.
    fn release(&mut self) {
        self.phase = Phase::Done;
        if self.in_flight.take().is_some() {
            self.actions.push(Action::CancelRequest);
        }
        if matches!(self.stream, Stream::Connecting { .. } | Stream::Open) {
            self.actions.push(Action::CloseStream);
        }
        self.stream = Stream::Closed;
        self.next_poll = None;
        self.armed = None;
    }
}
