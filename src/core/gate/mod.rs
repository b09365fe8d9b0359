//! What the jobs to one origin share, as a gate every request passes: the
//! cooldown a 429 sets (its `Retry-After`, seen by any job), the probe that
//! goes first after it, the retry budget an outage spends, and the cap on
//! requests out at once. Sans-IO, like the table that keeps one `Gates` for
//! all its jobs; the table asks it, per due job, whether the job may go.

use super::fifo::Fifo;
use std::rc::Rc;

use super::job_id::JobId;
use super::metrics::RetryBudgetReport;

/// The retry budget of each origin, in the style of gRPC's retry
/// throttling: a retry after an error spends a token, a good response earns
/// `refill` back; with no token left, a job waits for its next scheduled
/// poll instead of retrying early, so an outage does not multiply the load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryBudget {
    pub size: f64,
    pub refill: f64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            size: 10.0,
            refill: 0.1,
        }
    }
}

/// What the jobs to one origin share.
#[derive(Clone, Debug)]
struct Gate {
    /// No request before this: a server's Retry-After seen by any job.
    cooldown: u64,
    /// After a cooldown one job probes first; the others wait for its
    /// answer (then resume spread over their own wait), so that a server
    /// still limiting sends one more 429, not one per job.
    probing: bool,
    probe: Option<JobId>,
    /// Running jobs that have not had a 429: the preferred probes.
    fresh: u32,
    /// Tokens in thousandths, so that refills of 0.1 add up exactly.
    milli_tokens: u64,
    /// Requests out now.
    in_flight: u32,
    /// Event streams open (or opening) to the origin: over HTTP/1.1 each
    /// holds one of the browser's connections to the host as a request
    /// does, for as long as it is open, so they count against the cap too.
    streams: u32,
    /// Jobs due while `in_flight` was at the cap, by when they fell due:
    /// each goes when a request comes back. (A request beyond the cap
    /// would only wait in the browser's own queue, where a 429 cannot hold
    /// it back and its timeout already runs.)
    parked: Fifo<(u64, JobId)>,
}

impl Gate {
    /// Connections to the origin in use: requests out and streams open.
    fn busy(&self) -> u32 {
        self.in_flight.saturating_add(self.streams)
    }
}

/// How long the jobs of an origin wait for its probe's answer, at most,
/// before looking again.
const PROBE_WAIT: u64 = 250;

/// A budget amount in thousandths of a token.
fn milli(tokens: f64) -> u64 {
    (tokens.max(0.0) * 1000.0).round() as u64
}

/// Whether a due job may send now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Go,
    /// Not before this time (a cooldown, spread over the job's own wait, or
    /// a probe's answer awaited).
    Hold(u64),
    /// The origin has its fill of requests out: the job waits in the gate
    /// and goes when one comes back (see `Gates::room`).
    Parked,
}

/// A due job at the gate: what `Gates::pass` needs to know of it.
#[derive(Clone, Copy, Debug)]
pub struct Due {
    pub job: JobId,
    /// When it fell due.
    pub at: u64,
    /// Its own wait, over which jobs coming back from a cooldown spread.
    pub spread: u64,
    pub had_429: bool,
    /// It would send a request (the cap counts only those).
    pub sends: bool,
    /// Its stream gives up at this turn: the connection it held is its
    /// request's.
    pub frees_stream: bool,
}

/// Every origin's gate.
#[derive(Clone, Debug)]
pub struct Gates {
    /// By origin, in the origins' order (as `report` lists them). A page
    /// talks to one to three origins and checkers, so a list searched
    /// linearly: a `BTreeMap` cost 4.4 KB gzipped of the `.wasm`.
    gates: Vec<(Rc<str>, Gate)>,
    budget: RetryBudget,
    max_requests: u32,
}

impl Gates {
    pub fn new(budget: RetryBudget) -> Self {
        Self {
            gates: Vec::new(),
            budget,
            max_requests: u32::MAX,
        }
    }

    /// At most `n` requests out at once per origin (at least one).
    pub fn set_max_requests(&mut self, n: u32) {
        self.max_requests = n.max(1);
    }

    pub fn budget(&self) -> RetryBudget {
        self.budget
    }

    /// Where `origin`'s gate is, or would go (the list is in the origins'
    /// order, so a page with a thousand checkers searches ten keys).
    fn at(&self, origin: &str) -> (usize, bool) {
        let at = self.gates.partition_point(|(key, _)| **key < *origin);
        let found = self.gates.get(at).is_some_and(|(key, _)| **key == *origin);
        (at, found)
    }

    fn get(&self, origin: &str) -> Option<&Gate> {
        match self.at(origin) {
            (at, true) => Some(&self.gates[at].1),
            _ => None,
        }
    }

    fn get_mut(&mut self, origin: &str) -> Option<&mut Gate> {
        match self.at(origin) {
            (at, true) => Some(&mut self.gates[at].1),
            _ => None,
        }
    }

    /// A new job to `origin`: the key it keeps (shared by its jobs).
    pub fn join(&mut self, origin: &str) -> Rc<str> {
        match self.at(origin) {
            (at, true) => {
                let (key, g) = &mut self.gates[at];
                g.fresh += 1;
                key.clone()
            }
            (at, false) => {
                let key: Rc<str> = origin.into();
                let gate = Gate {
                    cooldown: 0,
                    probing: false,
                    probe: None,
                    fresh: 1,
                    milli_tokens: milli(self.budget.size),
                    in_flight: 0,
                    streams: 0,
                    parked: Fifo::new(),
                };
                self.gates.insert(at, (key.clone(), gate));
                key
            }
        }
    }

    /// A job left: it no longer counts as a fresh probe (unless it had its
    /// 429 already), nor its request against the cap; the jobs parked
    /// behind the cap are handed back (all of them: the oldest may be
    /// stale) to go through the gate again. With `forget`, the gate goes
    /// too (a checker's, whose last job this was).
    pub fn leave(
        &mut self,
        origin: &Rc<str>,
        had_429: bool,
        request_out: bool,
        stream_open: bool,
        forget: bool,
    ) -> Vec<(u64, JobId)> {
        let mut back = Vec::new();
        if let Some(g) = self.get_mut(origin) {
            if !had_429 {
                g.fresh = g.fresh.saturating_sub(1);
            }
            if request_out {
                g.in_flight = g.in_flight.saturating_sub(1);
            }
            if stream_open {
                g.streams = g.streams.saturating_sub(1);
            }
            if request_out || stream_open {
                back.extend(g.parked.take_all());
            }
        }
        if forget {
            if let (at, true) = self.at(origin) {
                self.gates.remove(at);
            }
        }
        back
    }

    /// Every job left at once (a stop of all): nothing is out or parked.
    pub fn leave_all(&mut self) {
        for (_, g) in &mut self.gates {
            g.fresh = 0;
            g.in_flight = 0;
            g.streams = 0;
            g.parked = Fifo::new();
        }
    }

    /// A job's first 429: it is no longer a fresh probe.
    pub fn first_429(&mut self, origin: &str) {
        if let Some(g) = self.get_mut(origin) {
            g.fresh = g.fresh.saturating_sub(1);
        }
    }

    /// An answer reached a job of `origin`: a good record earns back part of
    /// a token; any answer but a 429 (`answered`) ends the probing, once the
    /// cooldown is over.
    pub fn heard(&mut self, origin: &str, now: u64, good: bool, answered: bool) {
        let refill = milli(self.budget.refill);
        let size = milli(self.budget.size);
        if let Some(g) = self.get_mut(origin) {
            if good {
                g.milli_tokens = (g.milli_tokens + refill).min(size);
            }
            if answered && g.cooldown <= now {
                g.probing = false;
                g.probe = None;
            }
        }
    }

    /// A 429 told a job of `origin` to wait until `until`: every job of the
    /// origin waits as long, then one probes first.
    pub fn rate_limited(&mut self, origin: &str, until: u64) {
        if let Some(g) = self.get_mut(origin) {
            g.cooldown = g.cooldown.max(until);
            g.probing = true;
            g.probe = None;
        }
    }

    /// Spends a token for an early retry; false (no retry) when none is
    /// left.
    pub fn spend(&mut self, origin: &str) -> bool {
        match self.get_mut(origin) {
            Some(g) if g.milli_tokens >= 1000 => {
                g.milli_tokens -= 1000;
                true
            }
            _ => false,
        }
    }

    /// A due job at the gate of `origin`; `live_probe` tells whether the
    /// origin's probe is still out (its job still runs).
    pub fn pass(
        &mut self,
        origin: &str,
        now: u64,
        due: Due,
        live_probe: impl Fn(JobId) -> bool,
    ) -> Pass {
        let max_requests = self.max_requests;
        let Some(g) = self.get_mut(origin) else {
            return Pass::Go;
        };
        let probe_out = g.probe.is_some_and(|p| p != due.job && live_probe(p));
        // Another job's 429 holds every job to the same origin: until the
        // cooldown (spread over the job's own wait, so they do not all come
        // back at once), then until one probe has answered.
        if g.cooldown > now {
            let spread = due.spread.max(1);
            return Pass::Hold(
                g.cooldown + u64::from(due.job.0).wrapping_mul(2_654_435_761) % spread,
            );
        }
        if due.sends && g.busy() >= max_requests.saturating_add(u32::from(due.frees_stream)) {
            g.parked.push_back((due.at, due.job));
            return Pass::Parked;
        }
        if g.probing
            && (probe_out
                || (due.had_429 && g.fresh > 0 && now < g.cooldown.saturating_add(2 * PROBE_WAIT)))
        {
            // A job that has had its 429 lets a fresh one probe, unless none
            // has come forward for a while.
            return Pass::Hold(now + PROBE_WAIT);
        }
        if g.probing {
            g.probe = Some(due.job);
        }
        Pass::Go
    }

    /// Whether a new job to `origin` may open an event stream: streams may
    /// take all but one of the origin's connections (`maxConcurrentRequests`),
    /// so that its polls (the streams' own catch-ups among them) still go.
    pub fn may_stream(&self, origin: &str) -> bool {
        let open = self.get(origin).map_or(0, |g| g.streams);
        open.saturating_add(1) < self.max_requests
    }

    /// A stream of `origin` opened (`true`: it holds a connection until it
    /// closes) or closed (`false`).
    pub fn stream(&mut self, origin: &str, open: bool) {
        if let Some(g) = self.get_mut(origin) {
            if open {
                g.streams += 1;
            } else {
                g.streams = g.streams.saturating_sub(1);
            }
        }
    }

    /// A request of `origin` went out (`true`) or came back (`false`).
    pub fn count(&mut self, origin: &str, out: bool) {
        if let Some(g) = self.get_mut(origin) {
            if out {
                g.in_flight += 1;
            } else {
                g.in_flight = g.in_flight.saturating_sub(1);
            }
        }
    }

    /// The oldest job parked at `origin`, if there is room for it now.
    pub fn next_parked(&mut self, origin: &str) -> Option<(u64, JobId)> {
        let max_requests = self.max_requests;
        match self.get_mut(origin) {
            Some(g) if g.busy() < max_requests => g.parked.pop_front(),
            _ => None,
        }
    }

    /// Every job still parked at `origin` if there is room: they go back to
    /// the timer, a turn at a time.
    pub fn room(&mut self, origin: &str) -> Vec<(u64, JobId)> {
        let max_requests = self.max_requests;
        match self.get_mut(origin) {
            Some(g) if g.busy() < max_requests => g.parked.take_all().collect(),
            _ => Vec::new(),
        }
    }

    /// Requests out and streams open to `origin`, as counted (tests).
    #[doc(hidden)]
    pub fn counts(&self, origin: &str) -> (u32, u32) {
        self.get(origin)
            .map_or((0, 0), |g| (g.in_flight, g.streams))
    }

    /// No request to `origin` before this.
    pub fn cooldown(&self, origin: &str) -> u64 {
        self.get(origin).map_or(0, |g| g.cooldown)
    }

    /// The tokens an origin has left (a fresh origin has a full budget).
    pub fn tokens(&self, origin: &str) -> f64 {
        self.get(origin)
            .map_or(self.budget.size, |g| g.milli_tokens as f64 / 1000.0)
    }

    /// `metrics().retryBudget`: the budget and each origin's tokens.
    pub fn report(&self) -> RetryBudgetReport {
        RetryBudgetReport {
            size: self.budget.size,
            refill: self.budget.refill,
            tokens: self
                .gates
                .iter()
                .map(|(origin, g)| (origin.to_string(), g.milli_tokens as f64 / 1000.0))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
