//! The job's one timer: a gloo `Timeout` (cleared on drop) armed for an
//! absolute time on the job's clock.

use gloo_timers::callback::Timeout;

use super::js::now;

/// `setTimeout` wraps delays above 2^31-1 ms to "at once": clamp, and let the
/// job re-arm when it wakes early.
const MAX_DELAY: u64 = i32::MAX as u64;

pub fn arm(at: u64, fire: impl FnOnce() + 'static) -> Timeout {
    let delay = at.saturating_sub(now()).min(MAX_DELAY) as u32;
    Timeout::new(delay, fire)
}
