//! How jobs leave the table: stops, subscribers leaving on their own terms
//! (a deadline, too many errors in a row), a job finishing, and the actions
//! of a job collected into the queue on the way (the table keeps the timer,
//! shares a 429's wait with the origin, charges retries to the budget).

use super::*;

impl<S: Clone> Table<S> {
    /// Stops a job silently: its entry leaves the table at once, with what
    /// the caller must release.
    pub fn stop(&mut self, now: u64, kind: Kind, id: &str) -> Option<Ended<S>> {
        let job = self.find(kind, id)?;
        self.stop_job(now, job)
    }

    pub fn stop_all(&mut self, now: u64) -> Vec<Ended<S>> {
        // Every entry goes, oldest first; the maps are emptied at once.
        let entries = std::mem::take(&mut self.entries);
        self.by_key = Default::default();
        self.gates.leave_all();
        self.streams.release_all();
        // Ends already queued are taken back too: no callback after a stop.
        let mut all = self.unqueue(None);
        all.extend((entries.into_entries()).map(|(job, e)| Self::stopped(now, job, *e)));
        all
    }

    pub(super) fn stop_job(&mut self, now: u64, job: JobId) -> Option<Ended<S>> {
        let e = self.take(job)?;
        let mut ended = Self::stopped(now, job, *e);
        // Subscribers that left but have not heard yet hear nothing either.
        for left in self.unqueue(Some(job)) {
            ended.subscribers.extend(left.subscribers);
        }
        Some(ended)
    }

    /// Takes the queued ends (`Left`, `Finished`) of `job`, or of every job.
    pub(super) fn unqueue(&mut self, job: Option<JobId>) -> Vec<Ended<S>> {
        let mut ends = Vec::new();
        for (j, queued) in self.queue.take_all() {
            match queued {
                Queued::Left(e) | Queued::Finished(e) if job.is_none_or(|x| x == j) => ends.push(e),
                other => self.queue.push_back((j, other)),
            }
        }
        ends
    }

    /// A job out of the table, stopped.
    pub(super) fn stopped(now: u64, job: JobId, mut e: Entry<S>) -> Ended<S> {
        e.job.handle(now, Input::Stop);
        let progress = e.job.progress(now);
        let subscribers = std::mem::take(&mut e.subscribers);
        let mut ended = ended(
            job,
            &e,
            Err(PollError::Stopped),
            progress,
            None,
            subscribers,
        );
        ended.erring = None;
        ended
    }

    /// Moves the job's new actions into the queue: the table keeps the
    /// timer, shares a 429's wait with the origin, charges retries to the
    /// budget, and lets subscribers go whose limit of errors is reached.
    pub(super) fn collect(&mut self, now: u64, job: JobId) {
        let Some(e) = self.entries.get_mut(job) else {
            return;
        };
        let mut actions = e.job.take_actions().into_iter();
        // A budget hold adds actions to the job: take those too, in order.
        while let Some(action) = actions.next().or_else(|| {
            actions = e.job.take_actions().into_iter();
            actions.next()
        }) {
            let action = match action {
                Action::ArmTimer { at } => {
                    e.armed = Some(at);
                    self.wakes.push(Reverse((at, job)));
                    continue;
                }
                Action::Retry {
                    error: PollError::RateLimited,
                    delay,
                } => {
                    // The server's whole wait: `delay` stops at this job's
                    // deadline, the other jobs' go on.
                    self.gates.rate_limited(&e.origin, e.job.not_before());
                    Action::Retry {
                        error: PollError::RateLimited,
                        delay,
                    }
                }
                Action::CloseStream(why) => {
                    Action::CloseStream(self.streams.closed(now, why, self.net.offline))
                }
                Action::Retry { error, delay } if budgeted(error) => {
                    match self.gates.spend(&e.origin) {
                        true => Action::Retry { error, delay },
                        false => {
                            // No early retry: the next scheduled poll.
                            let wait = delay.max(e.job.scheduled_wait());
                            e.job.handle(
                                now,
                                Input::Hold {
                                    until: now.saturating_add(wait),
                                    rate_limited: false,
                                },
                            );
                            // Reported as the job reports its own: cut at
                            // the deadline.
                            let left = e.job.deadline().saturating_sub(now);
                            Action::Retry {
                                error,
                                delay: wait.min(left),
                            }
                        }
                    }
                }
                action => action,
            };
            self.queue.push_back((job, Queued::Act(action)));
        }
        // A stream that closed gives its connection back, as a request does.
        let closed = e.stream_slot && !e.job.holds_stream();
        if closed {
            e.stream_slot = false;
            self.streams.release();
            self.gates.stream(&e.origin, false);
        }
        let origin = closed.then(|| e.origin.clone());
        let (errors, last) = e.job.consecutive_errors();
        let running = e.job.is_running();
        let back = self.count_request(job).or(origin);
        if let (true, Some(last)) = (errors > 0 && running, last) {
            let over = |t: &Terms| t.max_consecutive_errors.is_some_and(|m| errors >= m);
            self.leave(now, job, &over, last);
        }
        self.timed_out_after_look(now, job);
        if let Some(origin) = back {
            self.unpark(now, &origin);
        }
    }

    /// The subscribers matching `which` leave with `error`; if none is left,
    /// the job ends with it.
    pub(super) fn leave(
        &mut self,
        now: u64,
        job: JobId,
        which: &dyn Fn(&Terms) -> bool,
        error: PollError,
    ) {
        let Some(e) = self.entries.get_mut(job) else {
            return;
        };
        if !e.terms.iter().any(which) {
            return;
        }
        let mut leaving = Vec::new();
        let mut i = 0;
        while i < e.terms.len() {
            if which(&e.terms[i]) {
                e.terms.remove(i);
                leaving.push(e.subscribers.remove(i));
            } else {
                i += 1;
            }
        }
        let progress = e.job.progress(now);
        if !e.subscribers.is_empty() {
            let ended = ended(job, e, Err(error), progress, None, leaving);
            self.queue.push_back((job, Queued::Left(ended)));
            return;
        }
        // The last subscribers left: the job ends with their reason.
        let Some(mut e) = self.take(job) else {
            return;
        };
        e.job.handle(now, Input::Stop);
        let outcome = Outcome {
            error: Some(error),
            duration: progress.elapsed_time,
            attempts: progress.attempt,
            channel: progress.channel,
        };
        self.metrics.record(&outcome, e.job.config().media);
        let progress = Progress {
            next_poll_in: None,
            estimated_time_remaining: None,
            ..progress
        };
        let ended = ended(job, &e, Err(error), progress, Some(outcome), leaving);
        self.queue.push_back((job, Queued::Finished(ended)));
    }

    pub(super) fn finish(
        &mut self,
        job: JobId,
        result: Result<Option<String>, PollError>,
    ) -> Option<Ended<S>> {
        let mut e = self.take(job)?;
        let outcome = e.job.outcome();
        if let Some(o) = &outcome {
            self.metrics.record(o, e.job.config().media);
        }
        let mut progress = e.job.progress(0);
        // Ended: nothing is next (a follower's mirrored next poll included).
        progress.estimated_time_remaining = None;
        progress.next_poll_in = None;
        if let Some(o) = &outcome {
            // The job's own account of its end, not the caller's clock.
            progress.elapsed_time = o.duration;
            progress.channel = o.channel;
        }
        let subscribers = std::mem::take(&mut e.subscribers);
        Some(ended(job, &e, result, progress, outcome, subscribers))
    }

    /// Takes the entry out of the table, releasing its key and stream slot.
    pub(super) fn take(&mut self, job: JobId) -> Option<Box<Entry<S>>> {
        let e = self.entries.remove(job)?;
        // The maps keep the room of a past burst of jobs (about 36 B per job
        // at the peak): the wasm memory never shrinks anyway, and giving it
        // back to the allocator would cost every page 0.7 KiB of code.
        self.by_key[e.kind as usize].remove(&e.id);
        if e.stream_slot {
            self.streams.release();
        }
        // A checker's gate is its own (see `gate_key`): it goes with its
        // last job, so poll ids used once do not pile up.
        let forget = e.kind == Kind::Check && Rc::strong_count(&e.origin) == 2;
        // Its request's room goes to the parked jobs at the next turn, which
        // takes them in the order they fell due and parks again what does
        // not fit.
        let parked =
            (self.gates).leave(&e.origin, e.saw_429, e.request_slot, e.stream_slot, forget);
        self.wakes.extend(parked.into_iter().map(Reverse));
        Some(e)
    }
}

/// Retries the budget pays for: after errors of the server or the network.
/// 429 has its own rule (Retry-After), and a 404 is "not ready yet".
fn budgeted(e: PollError) -> bool {
    matches!(
        e,
        PollError::Server(_)
            | PollError::Network
            | PollError::RequestTimeout
            | PollError::InvalidResponse
            | PollError::Check
    )
}

/// A job's end as its subscribers hear it, from its entry.
fn ended<S>(
    job: JobId,
    e: &Entry<S>,
    result: Result<Option<String>, PollError>,
    progress: Progress,
    outcome: Option<Outcome>,
    subscribers: Vec<S>,
) -> Ended<S> {
    let cfg = e.job.config();
    // A job that took its deadline's last look after the page ran no code
    // (the device asleep, the page frozen): its duration says nothing of
    // the server's.
    let learns = cfg.learn && !e.job.looked_late();
    Ended {
        job,
        kind: e.kind,
        id: e.id.to_string(),
        result,
        progress,
        outcome,
        media: cfg.media,
        learns,
        last_pending: e.job.last_pending(),
        erring: erring(&e.job),
        subscribers,
    }
}

/// The last of the errors in a row `job` is in, if any.
fn erring(job: &Job) -> Option<PollError> {
    match job.consecutive_errors() {
        (n, last) if n > 0 => last,
        _ => None,
    }
}
