//! What a job asks of the browser layer (or of a test, or the simulator):
//! requests, its timer, its stream, and what to tell the page.

use super::{PollError, Progress};

/// Why a stream is closed (what `debug: true` logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// The job ended.
    Ended,
    /// It failed before it opened: the route answered an error (a 404 where
    /// there is none) or the browser refused the url.
    Refused,
    /// It failed after it opened: the browser closed it (the server
    /// refused its reconnection).
    Failed,
    /// It dropped and was not open again within `sseConnectTimeout` (time
    /// offline not counted).
    NotBack,
    /// It dropped soon after opening, `MAX_STREAM_FLAPS` times in a row.
    Flapping,
    /// It did not open within `sseConnectTimeout`.
    NotOpened,
    /// `maxStreamGarbage` unreadable messages in a row.
    Garbage,
    /// Not opened: this browser's tabs hold every stream they may to the
    /// host (`Input::StreamBusy`).
    Busy,
    /// This tab stopped leading the job (its page went into the
    /// back/forward cache, or was frozen): another tab watches it now.
    Handed,
    /// Refused or not opened, and so were the streams of the jobs before it
    /// (the table's, not the job's, reason: new jobs start without one for
    /// a while, see `Table`).
    Paused,
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
    /// Close the stream; why (polling takes over unless the job ended).
    CloseStream(Closed),
    /// The record of the current input is new: call `onUpdate` with it.
    Update,
    /// A follower heard that the leading tab made its next request: the old
    /// module's `onProgress(attempt, elapsed, nextInterval)` runs here as
    /// before an attempt of this tab's own.
    Attempted,
    Progress(Progress),
    /// A transient error; the next request goes out in `delay` ms.
    Retry {
        error: PollError,
        delay: u64,
    },
    /// A follower heard of the leading tab's transient error: told as
    /// `Retry` is, but this tab sent nothing (no retry budget spent, no
    /// cooldown set here).
    RetryHeard {
        error: PollError,
        delay: u64,
    },
    /// What a checker said of an error while the work goes on
    /// ([`super::Reply::Said`]): told to the page as a transient error
    /// (`check_failed`), but nothing is counted and no retry is charged;
    /// the next request goes out in `delay` ms, as scheduled.
    Reported {
        delay: u64,
    },
    /// Another tab leads this job, and a caller that joined it here wants a
    /// check within `within` ms, sooner than the leader's next request: ask
    /// the leading tab (`Said::nudge`). The table's, not the job's.
    NudgeLeader {
        within: u64,
    },
    /// Terminal: success, with the result url when there is one.
    Complete {
        url: Option<String>,
    },
    /// Terminal: failure.
    Fail(PollError),
}
