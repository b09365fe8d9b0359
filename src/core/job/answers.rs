//! What a job does with an answer: a record, a status, a failure; retries
//! and the end.

use super::*;

impl Job {
    pub(super) fn on_reply(&mut self, now: u64, reply: Reply) {
        // Awaited for the stream's result: a record with a url (or an
        // unsafe one) decides as always; any other answer leaves the
        // stream's url to complete the job alone.
        if let Some((url, by)) = self.result.take() {
            // The stream's news, whichever answer completes it.
            self.via = Channel::Stream;
            match reply {
                Reply::Record {
                    state: state @ (State::Complete { .. } | State::UnsafeUrl),
                    fingerprint,
                    ..
                } => {
                    self.on_record(now, state, fingerprint);
                }
                Reply::Record { fingerprint, .. } => {
                    // A record that changed is the page's news first.
                    if self.last_fingerprint != Some(fingerprint) {
                        self.last_fingerprint = Some(fingerprint);
                        self.actions.push(Action::Update);
                    }
                    if std::mem::take(&mut self.result_stale) && now < by {
                        // Asked before the result came: ask again, within
                        // the bound (at the next timer turn, through the
                        // origin's gate).
                        self.result = Some((url, by));
                        self.defer = true;
                        self.poll_soon(now);
                    } else {
                        self.finish_with_url(now, url);
                    }
                }
                reply => {
                    if let Reply::Status {
                        status: 429,
                        retry_after,
                    } = reply
                    {
                        // The origin's cooldown is the server's wait, ended
                        // job or not (the table reads `not_before`).
                        let asked = retry_after.map_or(self.cfg.rate_limit_delay, |d| {
                            d.min(self.cfg.max_retry_after)
                        });
                        self.not_before = self.not_before.max(now.saturating_add(asked));
                    }
                    self.finish_with_url(now, url);
                }
            }
            return;
        }
        self.erring = false; // unless it is a transient error (below)
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
            Reply::Said {
                fingerprint,
                retry_after,
            } => {
                // The old module: a call that answered resets the error
                // count, and the error is only told.
                self.backoff.reset();
                self.consecutive_errors = 0;
                if self.on_record(now, State::Pending, fingerprint) {
                    self.schedule_next(now, retry_after);
                    if let Some(at) = self.next_poll {
                        let delay = self.cut(at).saturating_sub(now);
                        self.actions.push(Action::Reported { delay });
                    }
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
                    // "Not ready yet" is the server's answer: it ends a run
                    // of errors, as the old module's `{ completed: false }`
                    // did (a 5xx after it backs off from the first step).
                    self.backoff.reset();
                    self.consecutive_errors = 0;
                    // Not ready at this time: what a learned schedule
                    // learns from, as from a pending record.
                    self.last_pending = Some(self.elapsed(now));
                    self.not_found += 1;
                    if self.not_found >= self.cfg.max_not_found {
                        return self.finish(now, Err(PollError::NotFound));
                    }
                    let wait = self.progressive_wait();
                    self.retry(now, PollError::NotFound, wait);
                }
                Class::Retry(e) => self.on_transient_after(now, e, retry_after),
                Class::Stop(e) => self.finish(now, Err(e)),
            },
        }
    }

    /// Reports a record; true while the job is still pending.
    pub(super) fn on_record(&mut self, now: u64, state: State, fingerprint: u64) -> bool {
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

    pub(super) fn complete(&mut self, now: u64, url: Option<String>) {
        match url {
            Some(u) if !url_is_safe(&u) => self.finish(now, Err(PollError::InvalidUrl)),
            url => self.finish(now, Ok(url)),
        }
    }

    pub(super) fn on_transient(&mut self, now: u64, e: PollError) {
        self.on_transient_after(now, e, None)
    }

    /// A transient error; `hint`: the answer's Retry-After (a 503's, a
    /// 5xx's or a 408's: RFC 9110 §10.2.3), a wait the backoff does not cut
    /// (capped by `maxRetryAfter`, beyond `maxDelay` as a 429's).
    pub(super) fn on_transient_after(&mut self, now: u64, e: PollError, hint: Option<u64>) {
        if self.paused {
            // Offline is not the server's fault: no error counted, no retry
            // charged; the poll goes again when the browser is back.
            self.next_poll = Some(now);
            return;
        }
        self.erring = true;
        if self.errors_in_a_row(now, self.consecutive_errors + 1, e) {
            return;
        }
        let wait = self.backoff.next().unwrap_or(self.cfg.max_delay);
        let asked = hint.map_or(0, |d| d.min(self.cfg.max_retry_after));
        self.retry(now, e, wait.max(asked));
    }

    /// `count` errors in a row, the last `e` (this tab's, or the leading
    /// tab's): true if that many end the job (`maxConsecutiveErrors`).
    pub(super) fn errors_in_a_row(&mut self, now: u64, count: u32, e: PollError) -> bool {
        self.consecutive_errors = count;
        self.last_error = Some(e);
        let over = (self.cfg.max_consecutive_errors).is_some_and(|max| count >= max);
        if over {
            self.finish(now, Err(e));
        }
        over
    }

    pub(super) fn retry(&mut self, now: u64, error: PollError, wait: u64) {
        // Kept whole, and kept when no retry follows: a joiner may extend the
        // deadline, and the origin's cooldown is the server's wait, not this
        // job's remaining time (the table shares it with the origin's other
        // jobs, and with the ones started after this one ends).
        let at = now.saturating_add(wait);
        self.not_before = at;
        if self.attempts >= self.cfg.max_attempts {
            // No retry will happen: the stream carries on alone, or `drive`
            // reports max_attempts.
            self.next_poll = (!self.streaming()).then_some(now);
            return;
        }
        if now >= self.deadline {
            return; // `drive` reports the timeout
        }
        // Only a wait that holds a request back: the job's timeout says so.
        if error == PollError::RateLimited {
            self.rate_held = at;
        }
        self.next_poll = Some(at);
        self.actions.push(Action::Retry {
            error,
            delay: self.cut(at) - now,
        });
    }

    pub(super) fn finish(&mut self, now: u64, result: Result<Option<String>, PollError>) {
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

    /// Ends the job with the stream's result url, its record not come:
    /// the stream's outcome.
    pub(super) fn finish_with_url(&mut self, now: u64, url: String) {
        self.via = Channel::Stream;
        self.finish(now, Ok(Some(url)));
    }

    /// Ends the job and releases its resources.
    pub(super) fn release(&mut self) {
        self.phase = Phase::Done;
        if self.in_flight.take().is_some() {
            self.actions.push(Action::CancelRequest);
        }
        if self.stream_exists() {
            self.actions.push(Action::CloseStream(Closed::Ended));
        }
        self.stream = Stream::Closed;
        self.next_poll = None;
        self.armed = None;
    }
}
