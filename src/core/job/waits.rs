//! When a job polls next: the progressive schedule, a server's hint, a
//! retry's backoff, all cut at the deadline.

use super::*;

impl Job {
    /// The error of a deadline passed at `now`: a plain timeout, or one
    /// that says a server's `Retry-After` held the requests.
    pub fn timed_out(&self, now: u64) -> PollError {
        if self.rate_held > now {
            PollError::TimeoutHeld
        } else {
            PollError::Timeout
        }
    }

    /// Checks every limit and timer, then sends what is due and re-arms.
    pub(super) fn drive(&mut self, now: u64) {
        let defer = std::mem::take(&mut self.defer);
        // The stream's result, its record not come in time (or the
        // deadline reached): the url completes the job alone.
        if let Some((url, by)) = self.result.take() {
            if now >= by.min(self.deadline) {
                return self.finish_with_url(now, url);
            }
            self.result = Some((url, by));
        }
        if now >= self.deadline {
            return self.finish(now, Err(self.timed_out(now)));
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
                match self.result.take() {
                    // The stream's result, its record's request timed out:
                    // no error, the url alone.
                    Some((url, _)) => return self.finish_with_url(now, url),
                    None => self.on_transient(now, PollError::RequestTimeout),
                }
            }
        }
        match self.stream {
            // Offline, it could not open (its time starts again when the
            // network is back).
            Stream::Connecting { .. } if self.gives_up_stream(now) => {
                self.fall_back(now, Closed::NotOpened)
            }
            // It did not come back: polling takes over for good. Offline,
            // it could not.
            Stream::Reconnecting { .. } if self.gives_up_stream(now) => {
                self.fall_back(now, Closed::NotBack)
            }
            _ => {}
        }
        if self.phase != Phase::Running {
            return;
        }
        if self.in_flight.is_none() && self.attempts >= self.cfg.max_attempts {
            if let Some((url, _)) = self.result.take() {
                // No request left to fetch the stream's result's record.
                return self.finish_with_url(now, url);
            } else if matches!(
                self.stream,
                Stream::Open { .. } | Stream::Reconnecting { .. }
            ) {
                // Out of requests, but the stream still watches the job
                // (or is closed, and the job ends, if it does not reopen).
                self.next_poll = None;
            } else if self.next_poll.is_some() {
                return self.finish(now, Err(PollError::MaxAttempts));
            }
        }
        if !defer && !self.paused && self.poll_due(now) {
            self.attempts += 1;
            self.in_flight = Some(now);
            self.last_sent = Some(now);
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
                Stream::Connecting { since } | Stream::Reconnecting { since } if !self.paused => {
                    Some(since.saturating_add(self.cfg.sse_connect_timeout))
                }
                _ => None,
            },
            self.result.as_ref().map(|(_, by)| *by),
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

    pub(super) fn progressive_wait(&mut self) -> u64 {
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
    pub(super) fn schedule_next(&mut self, now: u64, hint: Option<u64>) {
        // The answer to a request sent before the stream opened: the
        // catch-up goes now (a server's wait holds it, as any request).
        if std::mem::take(&mut self.catch_up) && self.streaming() && hint.is_none() {
            self.next_poll = Some(now.max(self.not_before));
            return;
        }
        let planned = if self.streaming() && !self.server_done {
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
        if hint.is_some() {
            // The server's word holds against a nudge too (a tab shown
            // again, the browser back online, a caller joining).
            self.not_before = self.not_before.max(now.saturating_add(wait));
        }
    }

    /// The wait a pending answer's Retry-After asks for, bounded as a 429's
    /// is: at most `maxRetryAfter` (the deadline cuts it as any wait), and
    /// at least the smaller of the planned wait and `initialDelay`, so a
    /// "Retry-After: 0" on every answer never becomes a request loop.
    pub(super) fn hinted(&self, hint: u64, planned: u64) -> u64 {
        hint.min(self.cfg.max_retry_after)
            .max(planned.min(self.cfg.initial_delay))
    }

    /// Polls as soon as the rate limits allow.
    pub(super) fn poll_soon(&mut self, now: u64) {
        if self.in_flight.is_none() {
            let earliest = now.max(self.not_before);
            self.next_poll = Some(self.next_poll.map_or(earliest, |t| t.min(earliest)));
        }
    }

    /// Time since the job started (in the leading tab, when mirrored).
    pub(super) fn elapsed(&self, now: u64) -> u64 {
        now.saturating_sub(self.started)
            .saturating_add(self.elapsed_bias)
    }

    pub(super) fn cut(&self, at: u64) -> u64 {
        at.min(self.deadline)
    }
}
