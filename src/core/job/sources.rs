//! A job's other sources of news: the event stream, and the tab that leads
//! it.

use super::*;

/// A stream open at least this long before it dropped was steady: it is
/// reconnected however often that happens (a gateway's lifetime of 29 s, a
/// proxy's idle timeout of a minute).
pub const STEADY_STREAM_MS: u64 = 10_000;

/// Drops in a row, each soon after the stream opened, that close it.
pub const MAX_STREAM_FLAPS: u8 = 3;

/// How long a job whose stream sent its result waits for the record that
/// goes with it (see `Job::result`), at most.
pub const RESULT_WAIT_MS: u64 = 3000;

/// How far apart two reports of the leader's next request may be and still
/// name the same instant (the channel's delay and the clocks' reading).
const MIRROR_SLACK_MS: u64 = 50;

impl Job {
    pub(super) fn mirror(&mut self, now: u64, m: Mirror) {
        if m.attempts > self.attempts {
            self.actions.push(Action::Attempted);
        }
        self.attempts = m.attempts;
        self.elapsed_bias = 0;
        self.elapsed_bias = m.elapsed.saturating_sub(self.elapsed(now));
        self.position = m.position;
        self.set_percent(now, m.percent);
        // The leader reports a turn's state and its record one after the
        // other, their countdowns read a millisecond apart: the same
        // instant, not news for the page.
        let next = m.next_poll_in.map(|d| now.saturating_add(d));
        let moved = |(a, b): (u64, u64)| a.abs_diff(b) > MIRROR_SLACK_MS;
        if next.zip(self.mirror_next).is_none_or(moved) {
            self.mirror_next = next;
        }
        self.mirror_channel = m.channel;
        // The leader's errors in a row: each new one is this tab's
        // `onRetry`, and ends its job at its own `maxConsecutiveErrors`
        // (the leader goes on, on its own limits).
        match m.error.filter(|_| m.errors > self.consecutive_errors) {
            Some(e) => {
                if self.errors_in_a_row(now, m.errors, e) {
                    return;
                }
                let delay = m.next_poll_in.unwrap_or(0);
                self.actions.push(Action::RetryHeard { error: e, delay });
            }
            None if m.errors < self.consecutive_errors => self.consecutive_errors = m.errors,
            None => {}
        }
        if let Some(fp) = m.fingerprint {
            if self.last_fingerprint != Some(fp) {
                self.last_fingerprint = Some(fp);
                self.actions.push(Action::Update);
            }
        }
    }

    /// The percent done the stream (or the leading tab) reports.
    fn set_percent(&mut self, now: u64, p: Option<u8>) {
        let elapsed = self.elapsed(now);
        // Lower than before (not a new stream's 0): the server's task began
        // again; its rate is measured afresh.
        if p.is_some_and(|p| p > 0 && self.percent.is_some_and(|was| p < was)) {
            self.percent_from = None;
        }
        if p != self.percent {
            self.percent_at = elapsed;
        }
        self.percent = p;
        if let (None, Some(p @ 1..)) = (self.percent_from, p) {
            self.percent_from = Some((elapsed, p));
        }
    }

    /// Opens a new stream: its drops are counted afresh.
    pub(super) fn open_stream(&mut self, now: u64) {
        self.stream = Stream::Connecting { since: now };
        self.flaps = 0;
        self.actions.push(Action::OpenStream);
    }

    pub(super) fn on_stream_open(&mut self, now: u64) {
        self.stream = Stream::Open { since: now };
        self.garbage = 0;
        self.catch_up = self.in_flight.is_some();
        // Catch up on anything that happened before we subscribed.
        self.poll_soon(now);
    }

    pub(super) fn on_stream(&mut self, now: u64, ev: StreamEvent) {
        if ev != StreamEvent::Garbage {
            self.garbage = 0;
        }
        match ev {
            StreamEvent::Progress(p) => self.set_percent(now, Some(p)),
            StreamEvent::Result(url) if !url_is_safe(&url) => {
                self.finish(now, Err(PollError::InvalidUrl))
            }
            StreamEvent::Result(url) => {
                // The record it belongs to: the answer out, or one request
                // now; by `RESULT_WAIT_MS` at most, the url alone.
                if self.result.is_none() {
                    let by = now.saturating_add(self.cfg.request_timeout.min(RESULT_WAIT_MS));
                    self.result = Some((url, by));
                    self.result_stale = self.in_flight.is_some();
                    self.poll_soon(now);
                }
            }
            StreamEvent::File {
                state,
                fingerprint,
                done,
            } => {
                // A record whose task says completed, with no url yet: the
                // same news as a `task_status`, not a wait for the safety poll.
                if self.on_record(now, state, fingerprint) && done && !self.server_done {
                    self.server_says_done(now);
                }
            }
            StreamEvent::Task(TaskStatus::Completed) => self.server_says_done(now),
            StreamEvent::Task(TaskStatus::Error) => {
                self.finish(now, Err(PollError::GenerationFailed))
            }
            StreamEvent::Task(_) | StreamEvent::Ignored => {}
            StreamEvent::Garbage => {
                self.garbage += 1;
                if self.garbage >= self.cfg.max_stream_garbage {
                    self.fall_back(now, Closed::Garbage);
                }
            }
        }
    }

    /// The open stream (since `since`) dropped and the browser reconnects
    /// it: one request at once (a server may have closed it at the job's
    /// end), then the schedule where the elapsed time puts it, until it is
    /// open again (then one request catches up). A stream that
    /// keeps dropping soon after it opens (`MAX_STREAM_FLAPS` times in a
    /// row, each open less than `STEADY_STREAM_MS`) is closed instead; one
    /// that a proxy or a gateway cuts after 10 s or more reconnects every
    /// time.
    pub(super) fn on_stream_drop(&mut self, now: u64, since: u64) {
        let steady = now.saturating_sub(since) >= STEADY_STREAM_MS;
        self.flaps = if steady {
            0
        } else {
            self.flaps.saturating_add(1)
        };
        if self.flaps >= MAX_STREAM_FLAPS {
            return self.fall_back(now, Closed::Flapping);
        }
        self.stream = Stream::Reconnecting { since: now };
        let by_time = self.cfg.intervals.position_for_elapsed(self.elapsed(now));
        self.position = self.position.max(by_time);
        self.poll_soon(now);
    }

    /// The server's task is done, its url not seen yet: the stream usually
    /// sends the result right after, so give it a moment (the first
    /// interval, at most 1 s), then fetch the record, and quickly after that.
    fn server_says_done(&mut self, now: u64) {
        self.server_done = true;
        let grace = self.cfg.intervals.wait(0).min(1000);
        self.poll_soon(now.saturating_add(grace));
    }

    /// The stream is gone for good: poll instead, resuming the schedule where
    /// the elapsed time puts it rather than at its fastest.
    pub(super) fn fall_back(&mut self, now: u64, why: Closed) {
        self.actions.push(Action::CloseStream(why));
        self.stream = Stream::Closed;
        let by_time = self.cfg.intervals.position_for_elapsed(self.elapsed(now));
        self.position = self.position.max(by_time);
        self.poll_soon(now);
    }
}
