//! The event streams a table lets its jobs open: at most `maxStreams` at
//! once, and none for a while when they keep failing to open. A page whose
//! server has no stream route (or a proxy that holds it) should not pay a
//! failed request and its round trip, or `sseConnectTimeout`, before every
//! job's first poll.

use super::super::job::Closed;

/// Streams in a row that fail to open before new jobs start without one.
pub const STREAM_TRIES: u32 = 2;
/// How long new jobs start without a stream then; the first job after it
/// tries again (and one more refusal pauses again).
pub const STREAM_PAUSE_MS: u64 = 300_000;

#[derive(Debug)]
pub(super) struct Streams {
    max: u32,
    open: u32,
    /// Streams in a row that failed before they opened (or did not open in
    /// time); one that opens sets it back to 0.
    refused: u32,
    paused_until: u64,
}

impl Streams {
    pub(super) fn new(max: u32) -> Self {
        Self {
            max,
            open: 0,
            refused: 0,
            paused_until: 0,
        }
    }

    /// Whether a job starting at `now` may open a stream; if so, it holds a
    /// slot until [`Streams::release`].
    pub(super) fn admit(&mut self, now: u64, wanted: bool) -> bool {
        let admitted = wanted && self.open < self.max && now >= self.paused_until;
        self.open += u32::from(admitted);
        admitted
    }

    pub(super) fn release(&mut self) {
        self.open = self.open.saturating_sub(1);
    }

    /// Every job left at once: no slot is held. What the streams taught
    /// (a pause) stays: it is about the server.
    pub(super) fn release_all(&mut self) {
        self.open = 0;
    }

    /// A job's stream opened: the route works, the run and any pause end.
    /// So they do when the browser comes back online: what failed while it
    /// was offline, or just before it knew, says nothing of the route.
    pub(super) fn opened(&mut self) {
        self.refused = 0;
        self.paused_until = 0;
    }

    /// A job's stream closed, `why`: the reason the page is told, which is
    /// [`Closed::Paused`] for the refusal that starts a pause. Offline, no
    /// refusal counts.
    pub(super) fn closed(&mut self, now: u64, why: Closed, offline: bool) -> Closed {
        if offline || !matches!(why, Closed::Refused | Closed::NotOpened) {
            return why;
        }
        self.refused = self.refused.saturating_add(1);
        if self.refused >= STREAM_TRIES && now >= self.paused_until {
            self.paused_until = now.saturating_add(STREAM_PAUSE_MS);
            return Closed::Paused;
        }
        why
    }
}
