//! When the table's jobs wake: the one timer (due jobs a turn's worth at a
//! time, each through its origin's gate, parked behind the cap on requests
//! out), offline pauses, and nudges: the page comes back, a caller joins,
//! another tab asks.

use super::*;

/// Timer turns per task: one; in a hidden tab, whose timers fire about once
/// a second (or minute) and where no user waits on the page, eight.
pub fn turns_per_task(hidden: bool) -> usize {
    if hidden {
        8
    } else {
        1
    }
}

/// How often a paused table looks at the browser's `navigator.onLine`.
pub const OFFLINE_RECHECK_MS: u64 = 2000;

/// The shortest wait a following tab's nudge may ask of a job this tab
/// leads, and the least time from one request to the next that a nudge
/// makes (`Table::nudge_from_tab`, `Table::nudge_all`): another tab's
/// words, or a tab shown again and again, never make a job poll more than
/// once a second.
pub const TAB_NUDGE_MIN_MS: u64 = 1000;

/// How late a deadline's timer may fire and still count as on time. Later,
/// the page ran no code when it was due (frozen, in the back/forward cache,
/// or a hidden tab's timers throttled to one a minute): the job may have
/// been done for a while, so it looks once more before the timeout is told
/// (see `Table::last_look` in `terms.rs`).
pub const LATE_MS: u64 = 1000;

/// The network as the table knows it.
#[derive(Default)]
pub(super) struct Network {
    /// The browser is offline: every job is paused.
    pub(super) offline: bool,
    /// While offline: when to look at the browser's word again, and
    /// whether a look is due ([`Table::take_recheck`]).
    recheck: Option<u64>,
    recheck_due: bool,
}

impl<S: Clone> Table<S> {
    /// The table's timer fired: every job due by `now` (at most [`TURN`] of
    /// them) hears `Start` or `Timer`, and subscribers whose own deadline
    /// passed leave. True if more are due already.
    pub fn on_timer(&mut self, now: u64) -> bool {
        if self.joined.first().is_some_and(|j| j.0 <= now) {
            for (_, job, within) in std::mem::take(&mut self.joined) {
                self.nudge_joined(now, job, within);
            }
        }
        if let Some(at) = self.net.recheck.filter(|at| *at <= now) {
            self.net.recheck = Some(at.max(now).saturating_add(OFFLINE_RECHECK_MS));
            self.net.recheck_due = true;
        }
        self.due_deadlines(now);
        let mut handled = 0;
        while let Some(&Reverse((at, job))) = self.wakes.peek() {
            if at > now {
                break;
            }
            if handled == TURN {
                return true;
            }
            self.wakes.pop();
            if self.wake(now, job, at) {
                handled += 1;
            }
        }
        false
    }

    /// A due job hears `Start` or `Timer`, unless its origin holds it:
    /// another job's 429 set a cooldown, a probe is out, or the origin has
    /// its fill of requests out (then it waits for one to come back). True
    /// if it heard its input.
    pub(super) fn wake(&mut self, now: u64, job: JobId, at: u64) -> bool {
        let Some(e) = self.entries.get_mut(job) else {
            return false;
        };
        // Its armed turn, or the bound of its stream's result (a parked
        // job's second wake, see below).
        if e.armed != Some(at) && e.job.result_by() != Some(at) {
            return false;
        }
        e.armed = None;
        let due = Due {
            job,
            at,
            spread: e.job.scheduled_wait().max(1),
            had_429: e.saw_429,
            sends: e.kind != Kind::Check && e.job.would_send(now),
            frees_stream: e.job.gives_up_stream(now),
        };
        let origin = e.origin.clone();
        let entries = &self.entries;
        let live_probe = |p: JobId| entries.get(p).is_some_and(|e| e.job.is_running());
        let pass = self.gates.pass(&origin, now, due, live_probe);
        let Some(e) = self.entries.get_mut(job) else {
            return false;
        };
        match pass {
            Pass::Parked => match e.job.result_by() {
                // The bound of the stream's result, still no room for its
                // record: the timer's input ends the job with the url alone.
                Some(by) if by <= now => {}
                by => {
                    e.armed = Some(at);
                    // Parked for room, and woken at that bound too.
                    if let Some(by) = by {
                        self.wakes.push(Reverse((by, job)));
                    }
                    return false;
                }
            },
            // A cooldown, or the probe after one: a 429's doing.
            Pass::Hold(until) => e.job.handle(
                now,
                Input::Hold {
                    until,
                    rate_limited: true,
                },
            ),
            Pass::Go => {}
        }
        let input = if e.started {
            Input::Timer
        } else {
            Input::Start
        };
        e.started = true;
        e.job.handle(now, input);
        self.collect(now, job);
        true
    }

    /// A request to `origin` came back (or was let go of): the jobs parked
    /// behind the cap go, oldest first, as far as there is room. Those a
    /// cooldown holds instead leave room: beyond a turn of them, the rest go
    /// back to the timer, which takes them a turn at a time.
    pub(super) fn unpark(&mut self, now: u64, origin: &str) {
        // Offline they go back to the timer, not at once: a stream that
        // gives up as the browser goes offline must not send a parked job's
        // request before that job hears so (nothing goes out offline).
        if self.net.offline {
            let all = self.gates.room(origin);
            self.wakes.extend(all.into_iter().map(Reverse));
            return;
        }
        for _ in 0..TURN {
            let Some((at, job)) = self.gates.next_parked(origin) else {
                return;
            };
            self.wake(now, job, at);
        }
        let rest = self.gates.room(origin);
        self.wakes.extend(rest.into_iter().map(Reverse));
    }

    /// Counts the job's request against its origin's cap while it is out;
    /// the origin's name if one came back.
    pub(super) fn count_request(&mut self, job: JobId) -> Option<Rc<str>> {
        let e = self.entries.get_mut(job)?;
        let out = e.kind != Kind::Check && e.job.awaiting_reply();
        if out == e.request_slot {
            return None;
        }
        e.request_slot = out;
        self.gates.count(&e.origin, out);
        (!out).then(|| e.origin.clone())
    }

    /// When the table's timer must fire next.
    pub fn next_wake(&mut self) -> Option<u64> {
        let job = loop {
            match self.wakes.peek() {
                Some(&Reverse((at, job))) => match self.entries.get(job) {
                    Some(e) if e.armed == Some(at) || e.job.result_by() == Some(at) => {
                        break Some(at)
                    }
                    _ => {
                        self.wakes.pop();
                    }
                },
                None => break None,
            }
        };
        let sub = loop {
            match self.deadlines.peek() {
                Some(&Reverse((at, job, sub))) => match self.entries.get(job) {
                    Some(e) if e.terms.iter().any(|t| t.id == sub) => break Some(at),
                    _ => {
                        self.deadlines.pop();
                    }
                },
                None => break None,
            }
        };
        // Offline with no job, nothing to look for.
        let recheck = self.net.recheck.filter(|_| !self.entries.is_empty());
        // A caller joined: at once.
        let joined = self.joined.first().map(|j| j.0);
        job.into_iter()
            .chain(sub)
            .chain(recheck)
            .chain(joined)
            .min()
    }

    /// The browser went offline or came back. Offline, every job (and every
    /// job started meanwhile) sends nothing and counts no failure; its
    /// deadline still runs. Back online, each paused job polls at the next
    /// turn, under its origin's cooldown and cap (which spreads a crowd).
    /// False if nothing changed.
    pub fn set_online(&mut self, now: u64, online: bool) -> bool {
        if self.net.offline != online {
            return false; // no change
        }
        self.net = Network {
            offline: !online,
            recheck: (!online).then(|| now.saturating_add(OFFLINE_RECHECK_MS)),
            recheck_due: false,
        };
        if online {
            self.streams.opened();
            self.due_deadlines(now);
        }
        let jobs = self.ids(|_| true);
        if !online && !jobs.is_empty() {
            self.metrics.count_pause();
        }
        for job in jobs {
            if online {
                self.come_back_spaced(now, job, Input::Online);
            } else {
                self.handle(now, job, Input::Offline);
            }
        }
        true
    }

    /// Whether `set_online(false)` holds the jobs.
    pub fn is_offline(&self) -> bool {
        self.net.offline
    }

    /// Whether a timer turn while offline asked to read whether the browser
    /// is online again (every [`OFFLINE_RECHECK_MS`]; the table wakes for
    /// it): the browser layer reads `navigator.onLine` then, and says so
    /// with `set_online`. The `online` event alone is not enough: a worker
    /// may never hear it (Chromium's emulation sends it to pages only), and
    /// the paused jobs would wait out their deadline.
    pub fn take_recheck(&mut self) -> bool {
        std::mem::take(&mut self.net.recheck_due)
    }

    /// Conditions improved for every job (see `Input::Nudge`); an origin's
    /// cooldown still holds, and a job polls no sooner than
    /// [`TAB_NUDGE_MIN_MS`] after its last request (its schedule's poll
    /// stands if that comes first).
    pub fn nudge_all(&mut self, now: u64) {
        self.due_deadlines(now);
        for job in self.ids(|e| e.started) {
            self.come_back_spaced(now, job, Input::Nudge);
        }
    }

    /// Feeds `input` (`Nudge`, or `Online`) to a job whose conditions
    /// improved, its poll no sooner than [`TAB_NUDGE_MIN_MS`] after its
    /// last request (a nudge is dropped if its schedule polls first). (The
    /// floor stays as the job's `not_before`: anything else that makes a
    /// poll due within that second waits for it too.)
    fn come_back_spaced(&mut self, now: u64, job: JobId, input: Input) {
        let Some(e) = self.entries.get(job) else {
            return;
        };
        let floor = (e.job.last_sent()).map_or(0, |at| at.saturating_add(TAB_NUDGE_MIN_MS));
        if floor > now {
            let next = e.job.progress(now).next_poll_in;
            let sooner = next.is_some_and(|d| now.saturating_add(d) <= floor);
            if sooner && matches!(input, Input::Nudge) {
                return; // its schedule polls first
            }
            let hold = Input::Hold {
                until: floor,
                rate_limited: false,
            };
            self.handle(now, job, hold);
        }
        self.come_back(now, job, input);
    }

    /// A caller joined a running job: if its own first wait (`within`) is
    /// shorter than the job's and the job's next poll is further away than
    /// that, the job polls at the next turn instead (within the origin's
    /// cooldown and the server's Retry-After), as a new call of the old
    /// module did. A "check now" must check, not wait for the slot of a
    /// slower schedule already running; a joiner on the same terms (a
    /// remount, a repeated call) adds no request. Where another tab leads
    /// the job, that tab decides by the same rule (`Action::NudgeLeader`,
    /// then [`Table::nudge_from_tab`] there): this tab may not know its
    /// schedule yet.
    fn nudge_joined(&mut self, now: u64, job: JobId, within: u64) {
        let Some(e) = self.entries.get(job) else {
            return;
        };
        if e.job.is_following() {
            let ask = Action::NudgeLeader { within };
            self.queue.push_back((job, Queued::Act(ask)));
            return;
        }
        let late = e.started
            && within < e.job.config().intervals.wait(0)
            && (e.job.progress(now).next_poll_in).is_some_and(|d| d > within);
        if late {
            self.come_back(now, job, Input::Nudge);
        }
    }

    /// Another tab asked for a check of a job this tab leads within `within`
    /// ms (a caller joined or started it there: `Heard::Nudge`, or
    /// `Heard::Hello`'s first wait). As for a caller joining here: if
    /// `within` is shorter than the job's first wait and its next request
    /// is further away than that, it polls at the next turn, or
    /// [`TAB_NUDGE_MIN_MS`] after its last request if that is later, so
    /// that another tab's words never make it poll more often than that.
    pub fn nudge_from_tab(&mut self, now: u64, job: JobId, within: u64) {
        let Some(e) = self.entries.get(job) else {
            return;
        };
        let late = e.started
            && !e.job.is_following()
            && within < e.job.config().intervals.wait(0)
            && (e.job.progress(now).next_poll_in).is_some_and(|d| d > within.max(TAB_NUDGE_MIN_MS));
        if late {
            self.come_back_spaced(now, job, Input::Nudge);
        }
    }

    /// Feeds `input` to a job whose conditions improved, within its
    /// origin's cooldown.
    pub(super) fn come_back(&mut self, now: u64, job: JobId, input: Input) {
        let cooldown = self
            .entries
            .get(job)
            .map_or(0, |e| self.gates.cooldown(&e.origin));
        if cooldown > now {
            let hold = Input::Hold {
                until: cooldown,
                rate_limited: true,
            };
            self.handle(now, job, hold);
        }
        self.handle(now, job, input);
    }
}
