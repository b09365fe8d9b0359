//! What a job tells the table and the page about itself (its progress, its
//! waits, its role, what the table asks before it lets a request go), and
//! the few settings the table makes (a refused id, an expected duration, a
//! later deadline).

use super::*;

/// Past this quantile of the learned distribution a job is late by its
/// measure: its median of what remains no longer estimates anything.
const LATE_QUANTILE: f64 = 0.95;

impl Job {
    /// Makes the job fail with `e` when it starts, without a request (an
    /// invalid id): the failure reaches the page like any other.
    pub fn reject(&mut self, e: PollError) {
        self.rejected = Some(e);
    }

    /// Refused at its start (an invalid id): it ends at the first timer
    /// turn, and is not polling meanwhile.
    pub fn is_rejected(&self) -> bool {
        self.rejected.is_some()
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

    /// The page ran no code at a deadline: the job's last look (see
    /// `Table::last_look`); what it then completes with teaches nothing.
    pub fn look_late(&mut self) {
        self.looked_late = true;
    }

    /// Whether the job took a last look after the page ran no code.
    pub fn looked_late(&self) -> bool {
        self.looked_late
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

    /// The wait that follows the request in flight, before jitter: the old
    /// module's `nextInterval`, which it reported before each attempt. If
    /// its answer is "not ready yet"; after errors, if it fails too (the
    /// backoff's next wait, as the old module's grew).
    pub fn planned_wait(&self) -> u64 {
        match (self.stream, self.cfg.stream_poll_interval) {
            (Stream::Open { .. }, w) if !self.server_done && w > 0 => w,
            _ if self.erring => self.backoff.peek(),
            _ => self.scheduled_wait(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.phase == Phase::Running
    }

    /// Whether `Start` or `Timer` now would send a request (the table
    /// holds such a job back while its origin has its fill out).
    /// When a job that heard its result on the stream completes with the
    /// url alone, if the record has not come by then (see `Job::result`).
    pub fn result_by(&self) -> Option<u64> {
        self.result.as_ref().map(|(_, by)| *by)
    }

    /// A subscriber's deadline came while the job waited for its result's
    /// record: the job ends with the url alone (the result is known), not
    /// with a timeout. False if it waited for none.
    pub fn finish_with_result(&mut self, now: u64) -> bool {
        match self.result.take() {
            Some((url, _)) => {
                self.finish_with_url(now, url);
                true
            }
            None => false,
        }
    }

    pub fn would_send(&self, now: u64) -> bool {
        if self.following || self.paused || self.rejected.is_some() {
            return false;
        }
        match self.phase {
            Phase::Idle => !self.cfg.use_stream && self.not_before <= now,
            Phase::Running => {
                // A stream that never opened falls back to a poll at once.
                now < self.deadline
                    && self.in_flight.is_none()
                    && self.attempts < self.cfg.max_attempts
                    && (self.gives_up_stream(now) || self.poll_due(now))
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
    pub(super) fn poll_due(&self, now: u64) -> bool {
        self.in_flight.is_none() && self.next_poll.is_some_and(|t| t <= now)
    }

    /// Whether another tab leads this job.
    pub fn is_following(&self) -> bool {
        self.following
    }

    /// When this tab last sent a request for the job.
    pub fn last_sent(&self) -> Option<u64> {
        self.last_sent
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

    /// The stream has opened and is still open.
    pub fn streaming(&self) -> bool {
        matches!(self.stream, Stream::Open { .. })
    }

    /// Whether its stream, not (back) open within `sseConnectTimeout` of
    /// the job's last turn online, is closed at this turn: its connection
    /// is then the fallback poll's.
    pub fn gives_up_stream(&self, now: u64) -> bool {
        match self.stream {
            Stream::Connecting { since } | Stream::Reconnecting { since } => {
                !self.paused && since.saturating_add(self.cfg.sse_connect_timeout) <= now
            }
            _ => false,
        }
    }

    /// Whether the browser layer holds an `EventSource` for the job.
    pub(super) fn stream_exists(&self) -> bool {
        matches!(
            self.stream,
            Stream::Connecting { .. } | Stream::Open { .. } | Stream::Reconnecting { .. }
        )
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
            Stream::Connecting { .. } | Stream::Open { .. } => Channel::Stream,
            // Polling covers the gap while the stream reconnects.
            Stream::Off | Stream::Reconnecting { .. } | Stream::Closed => Channel::Polling,
        }
    }

    pub fn progress(&self, now: u64) -> Progress {
        let elapsed = match self.phase {
            Phase::Idle => 0,
            _ => self.elapsed(now),
        };
        // In order: the stream's rate of progress since it first reported
        // some; the learned distribution's median of what remains, while
        // the job is within what it has seen (past its 95th percentile the
        // job is late by its measure, and the median of what remains a few
        // seconds however late); the average of this kind of job less the
        // time elapsed; the percent as if the work began with the job.
        // (The rate is the percent's at its last change, less the time
        // since: no rise between two reports. A job slower than its rate
        // said falls through to the next estimate.)
        let rate = match (self.percent, self.percent_from) {
            (Some(100), _) => Some(0),
            (Some(p), Some((t0, p0))) if p > p0 && self.percent_at > t0 => {
                let left = (self.percent_at - t0) * u64::from(100 - p) / u64::from(p - p0);
                Some(left.saturating_sub(elapsed.saturating_sub(self.percent_at)))
                    .filter(|&e| e > 0)
            }
            _ => None,
        };
        let learned = (self.cfg.estimate.as_ref())
            .filter(|d| (elapsed as f64) <= d.quantile(LATE_QUANTILE))
            .map(|d| d.eta(elapsed));
        let from_start = match self.percent {
            Some(p @ 1..=100) => Some(elapsed * u64::from(100 - p) / u64::from(p)),
            _ => None,
        };
        let average = (self.expected_duration)
            .filter(|&e| e > elapsed)
            .map(|e| e - elapsed);
        let eta = rate.or(learned).or(average).or(from_start);
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

    /// A digest of what a progress report shows that an input can change:
    /// the attempt, the percentage, the channel, the role, whether a request
    /// is out and when the next one is due (an instant: the countdown to it
    /// is the page's to draw). Never 0, the "nothing reported" mark.
    pub(super) fn visible(&self) -> u64 {
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
}
