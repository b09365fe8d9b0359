//! The jobs' clock: `performance.now()` as read, kept monotonic and never
//! behind a timer that has fired.
//!
//! A timer that fires says that its delay has passed: so says the HTML
//! timer model, and so do test runners' fake timers, which advance
//! `setTimeout` without always advancing `performance` (vitest before 3,
//! `toFake` lists without `"performance"`, jest's legacy timers). Read
//! as is, such a clock would stand still while the timers run, and every
//! wake would find nothing due: a job would never poll again. A raw clock
//! that goes back (a fake `performance` installed, or restored) is carried
//! on from where it was, not followed back; a jump forward is time passed.
//!
//! In a browser, timers fire at or after their delay, give or take the
//! millisecond of reading `performance.now()` as whole milliseconds: a timer
//! early by up to [`TOLERANCE`] moves nothing (so rounding never adds up to
//! a clock that runs fast), and the clock is `performance.now()`.

/// How early a fired timer may seem without moving the clock.
pub const TOLERANCE: u64 = 2;

/// Milliseconds for the jobs, from raw readings and fired timers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    /// Added to the raw reading.
    ahead: u64,
    /// The last time handed out.
    last: u64,
}

impl Clock {
    /// The time at a raw reading `raw`: never before the last one handed out.
    pub fn read(&mut self, raw: u64) -> u64 {
        let t = raw.saturating_add(self.ahead);
        if t < self.last {
            // The raw clock went back: carry on from the last time.
            self.ahead += self.last - t;
            return self.last;
        }
        self.last = t;
        t
    }

    /// A timer armed to fire at `due` (this clock's time) has fired at the
    /// raw reading `raw`: the time is at least `due` from now on, unless it
    /// is within [`TOLERANCE`] of it. Returns the time.
    pub fn timer_fired(&mut self, raw: u64, due: u64) -> u64 {
        let t = self.read(raw);
        if due > t + TOLERANCE {
            self.ahead += due - t;
            self.last = due;
            return due;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_clock_is_read_as_it_is() {
        let mut c = Clock::default();
        assert_eq!(c.read(5), 5);
        assert_eq!(c.timer_fired(1005, 1005), 1005, "fired on time");
        assert_eq!(c.timer_fired(2010, 2005), 2010, "fired late");
        assert_eq!(c.read(2500), 2500);
    }

    #[test]
    fn fake_timers_that_leave_performance_alone_move_the_clock() {
        // setTimeout is faked, performance is not: the raw clock barely moves
        // while the test advances the timers by seconds.
        let mut c = Clock::default();
        assert_eq!(c.read(100), 100);
        assert_eq!(c.timer_fired(101, 1100), 1100);
        assert_eq!(c.read(101), 1100, "not behind the fired timer");
        assert_eq!(c.timer_fired(102, 3100), 3100);
        assert_eq!(c.read(110), 3108, "and it runs on with the raw clock");
    }

    #[test]
    fn a_raw_clock_that_goes_back_is_carried_on_from_where_it_was() {
        // A fake performance installed (it starts at 0), then restored.
        let mut c = Clock::default();
        assert_eq!(c.read(40_000), 40_000);
        assert_eq!(c.read(0), 40_000);
        assert_eq!(c.read(1_000), 41_000);
        assert_eq!(c.timer_fired(2_000, 42_000), 42_000);
        assert_eq!(c.read(1_500), 42_000, "back again: carried on");
        assert_eq!(c.read(2_000), 42_500);
        // Forward is time passing, whatever the reason: a restored clock
        // ahead of the fake one counts as elapsed.
        assert_eq!(c.read(40_000), 80_500);
    }

    #[test]
    fn rounding_moves_nothing() {
        // performance.now() read as whole ms: a timer may seem a ms early,
        // thousands of times; the clock must not gain on real time.
        let mut c = Clock::default();
        for k in 1..=10_000 {
            c.timer_fired(k * 1000 - 1, k * 1000);
        }
        assert_eq!(c.read(10_000_500), 10_000_500);
        assert_eq!(
            c.timer_fired(10_000_998, 10_001_000),
            10_000_998,
            "2 ms early"
        );
        assert_eq!(c.read(10_001_000), 10_001_000);
    }
}
