//! What a job hears: the inputs the browser layer (or a test, or the
//! simulator) feeds it, the replies to its requests, and the state a
//! leading tab reports.

use super::super::error::PollError;
use super::super::metrics::Channel;
use super::super::record::State;
use super::super::stream::StreamEvent;

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
    /// A checker's `{ completed: false, error }`: its call succeeded and
    /// the work goes on, with an error to tell the page (the old module's
    /// `onError`). It counts as no error: the schedule goes on as for a
    /// pending record.
    Said {
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
    /// The stream failed for good (the browser closed it: the route
    /// answered an error, or a reconnection was refused).
    StreamFailed,
    /// The open stream's connection dropped and the browser reconnects it
    /// by itself (`EventSource`'s `readyState` is `CONNECTING`): the job
    /// polls until it opens again (see `Job`'s `Stream::Reconnecting`).
    StreamInterrupted,
    /// The stream was not opened: this browser's tabs hold every stream
    /// they may to its host (the browser layer's budget across tabs). Poll,
    /// as when `maxStreams` are open; it says nothing of the route.
    StreamBusy,
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
        /// A server's `Retry-After` is behind it (a 429's cooldown or its
        /// probe), not the retry budget: a timeout while held says so.
        rate_limited: bool,
    },
    /// Another tab leads this job: send nothing, mirror what it reports
    /// (given before `Start`; given later, this tab steps down).
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
    /// The leader's transient errors in a row, and the last one: this
    /// tab's `onRetry` and its own `maxConsecutiveErrors`.
    pub errors: u32,
    pub error: Option<PollError>,
}
