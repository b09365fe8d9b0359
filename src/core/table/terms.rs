//! A subscriber's own terms (its deadline, its limit on errors in a row)
//! and the last look its deadline may get: one request more before the
//! timeout is told, when the job's schedule gave the subscriber no fair
//! chance to see the result.

use super::*;

/// A subscriber's own terms: a caller that joins a running job keeps its
/// deadline and its limit on errors in a row, while the job goes on for
/// the others.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Terms {
    pub(super) id: u32,
    pub(super) deadline: u64,
    pub(super) max_consecutive_errors: Option<u32>,
    /// A caller that joined a running job: its own first wait.
    pub(super) within: Option<u64>,
    /// When its deadline's last look began (see `Table::last_look`).
    pub(super) looked: Option<u64>,
}

impl Terms {
    pub(super) fn new(id: u32, now: u64, cfg: &Config) -> Self {
        Terms {
            id,
            deadline: now.saturating_add(cfg.timeout),
            max_consecutive_errors: cfg.max_consecutive_errors,
            within: None,
            looked: None,
        }
    }
}

impl<S: Clone> Table<S> {
    /// Every subscriber whose deadline has passed by `now` leaves with the
    /// timeout, or first gets its last look. The table's timer does this,
    /// and so does every input (`Table::handle`) and anything that tells
    /// the table the page is back (a `visibilitychange`, the network):
    /// after a stay in the back/forward cache, or in a late turn, they may
    /// come before the table's timer.
    pub(super) fn due_deadlines(&mut self, now: u64) {
        self.deadlines_due_by(now, now);
    }

    /// `due_deadlines` for the deadlines due by `upto` alone (`Table::handle`:
    /// those passed a late turn ago, before its input; one just due waits
    /// for the input, a reply that came in time among them).
    pub(super) fn deadlines_due_by(&mut self, now: u64, upto: u64) {
        let due = self.deadlines.peek().is_some_and(|d| d.0 .0 <= upto);
        if !due || std::mem::replace(&mut self.in_deadlines, true) {
            return;
        }
        while let Some(&Reverse((at, job, sub))) = self.deadlines.peek() {
            if at > upto {
                break;
            }
            self.deadlines.pop();
            // The stream told the result, its record on the way: the job
            // ends with it, for every subscriber, not in a timeout.
            if let Some(e) = self.entries.get_mut(job) {
                if e.job.finish_with_result(now) {
                    self.collect(now, job);
                    continue;
                }
            }
            if let Some(until) = self.last_look(now, at, job, sub) {
                self.deadlines.push(Reverse((until, job, sub)));
                continue;
            }
            let error =
                (self.entries.get(job)).map_or(PollError::Timeout, |e| e.job.timed_out(now));
            self.leave(now, job, &|t| t.id == sub, error);
        }
        self.in_deadlines = false;
    }

    /// A subscriber's deadline (due `at`) passed; it looks once more, and
    /// hears the outcome of one request more, or the timeout when that
    /// request is answered (`timed_out_after_look`) or at the returned
    /// time, whichever is first:
    /// - when the page ran no code at `at` (frozen, in the back/forward
    ///   cache, a hidden tab's timers throttled): the job may have been
    ///   done for a while. A user back on the page gets the result, not
    ///   "timed out". A following job waits as long: its page may just be
    ///   back, and the lock it asks for again may make it lead (and poll);
    /// - when it joined a job whose first wait is longer than its own (the
    ///   rule of `nudge_joined`) and the job has not asked within that
    ///   shorter wait (a request out then is the look: its answer is
    ///   near): a "check now" that joined a fallback poll sees the
    ///   record as of its deadline, not as of the slower schedule's last
    ///   request. A caller on the job's own terms (a remount, a repeated
    ///   call) adds no request.
    fn last_look(&mut self, now: u64, at: u64, job: JobId, sub: u32) -> Option<u64> {
        let e = self.entries.get_mut(job)?;
        let terms = e.terms.iter_mut().find(|t| t.id == sub)?;
        if terms.looked.is_some() || !e.job.is_running() {
            return None;
        }
        let late = now.saturating_sub(at) >= LATE_MS;
        let out = e.job.awaiting_reply();
        let slower = terms.within.is_some_and(|within| {
            !e.job.is_following()
                && within < e.job.config().intervals.wait(0)
                && (out || (e.job.last_sent()).is_none_or(|s| s.saturating_add(within) <= now))
        });
        // A leading job out of requests (watching on its stream alone) has
        // nothing to look with.
        let spent = e.job.progress(now).attempt >= e.job.config().max_attempts;
        if (!late && !slower) || (spent && !out && !e.job.is_following()) {
            return None;
        }
        let until = now.saturating_add(e.job.config().request_timeout);
        e.job.extend_deadline(until);
        if late {
            e.job.look_late();
        }
        if slower && !late && out {
            // The request out is the look: its answer is near.
            terms.looked = e.job.last_sent();
            return Some(until);
        }
        terms.looked = Some(now);
        if !e.job.is_following() {
            self.come_back(now, job, Input::Nudge);
        }
        Some(until)
    }

    /// The subscribers of `job` whose last look's request has been
    /// answered, the job going on, leave with the timeout.
    pub(super) fn timed_out_after_look(&mut self, now: u64, job: JobId) {
        let Some(e) = self.entries.get(job) else {
            return;
        };
        if !e.job.is_running() || e.job.awaiting_reply() {
            return;
        }
        let Some(sent) = e.job.last_sent() else {
            return;
        };
        let answered = |t: &Terms| t.looked.is_some_and(|at| sent >= at);
        if e.terms.iter().any(answered) {
            let error = e.job.timed_out(now);
            self.leave(now, job, &answered, error);
        }
    }
}
