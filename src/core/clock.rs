//! The jobs' clock: `performance.now()` as read, kept monotonic and never
//! behind a timer that has fired while the raw clock stood still.
//!
//! A timer that fires says that its delay has passed: so says the HTML
//! timer model, and so do test runners' fake timers, which advance
//! `setTimeout` without always advancing `performance` (vitest before 3,
//! `toFake` lists without `"performance"`, `node:test`'s `mock.timers`).
//! Read as is, such a clock would stand still while the timers run, and
//! every wake would find nothing due: a job would never poll again.
//!
//! The clock is the latest of the raw readings and of what fired timers
//! prove: it never goes back. `performance.now()` is monotonic (browsers'
//! coarsened and jittered clocks included), so a raw reading that goes back
//! means the clock was replaced (a fake `performance` installed or
//! restored): the clock carries on from where it was, at the new one's
//! pace, so each test that installs fake timers gets exact waits. A jump
//! forward is time passed.
//!
//! A fired timer moves the clock only if it stalled: it moved less than half
//! of the timer's delay since arming. A real clock, even one coarsened to
//! 100 ms (Firefox's resistFingerprinting, Tor Browser), moves by about the
//! delay and is read as it is; and what a timer proves is a floor the raw
//! clock then passes, never an offset added to it, so no rounding adds up
//! into a clock that runs fast.

/// Milliseconds for the jobs, from raw readings and fired timers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    /// Added to raw readings since the raw clock last went back.
    ahead: u64,
    /// The last raw reading.
    raw: u64,
    /// The latest time handed out or proven by a timer.
    last: u64,
}

impl Clock {
    /// The time at a raw reading `raw`.
    pub fn read(&mut self, raw: u64) -> u64 {
        if raw < self.raw {
            // `performance.now()` never goes back: it was replaced. Carry on
            // from where the clock was.
            self.ahead = self.last.saturating_sub(raw);
        }
        self.raw = raw;
        self.last = self.last.max(raw.saturating_add(self.ahead));
        self.last
    }

    /// A timer armed at `armed` (this clock's time) for `delay` ms has fired
    /// at the raw reading `raw`. If the clock stalled meanwhile, the time is
    /// `armed + delay` from now on. Returns the time.
    pub fn timer_fired(&mut self, raw: u64, armed: u64, delay: u64) -> u64 {
        let t = self.read(raw);
        if t.saturating_sub(armed) < delay / 2 {
            self.last = t.max(armed.saturating_add(delay));
        }
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arms a timer at raw `armed` for `delay`, and fires it at raw `raw`.
    fn fire(c: &mut Clock, armed: u64, delay: u64, raw: u64) -> u64 {
        let at = c.read(armed);
        c.timer_fired(raw, at, delay)
    }

    #[test]
    fn a_real_clock_is_read_as_it_is() {
        let mut c = Clock::default();
        assert_eq!(c.read(5), 5);
        assert_eq!(fire(&mut c, 5, 1000, 1005), 1005, "fired on time");
        assert_eq!(fire(&mut c, 1005, 1000, 2010), 2010, "fired late");
        assert_eq!(
            fire(&mut c, 2010, 1000, 3008),
            3008,
            "2 ms early: read as it is"
        );
        assert_eq!(c.read(3500), 3500);
    }

    #[test]
    fn fake_timers_that_leave_performance_alone_move_the_clock() {
        // setTimeout is faked, performance is not: the raw clock barely moves
        // while the test advances the timers by seconds.
        let mut c = Clock::default();
        assert_eq!(c.read(100), 100);
        assert_eq!(fire(&mut c, 100, 1000, 101), 1100);
        assert_eq!(c.read(101), 1100, "not behind the fired timer");
        assert_eq!(fire(&mut c, 101, 2000, 103), 3100);
        assert_eq!(c.read(110), 3100, "what the timers proved holds");
        // a short wait, with a few ms of real work between arming and firing
        assert_eq!(fire(&mut c, 110, 10, 113), 3110);
    }

    #[test]
    fn a_raw_clock_that_is_replaced_is_carried_on_from_where_it_was() {
        // A fake performance installed (it starts at 0), then restored.
        let mut c = Clock::default();
        assert_eq!(c.read(40_000), 40_000);
        assert_eq!(c.read(0), 40_000, "replaced");
        assert_eq!(c.read(1_000), 41_000, "at the new clock's pace");
        assert_eq!(fire(&mut c, 1_000, 1_000, 2_000), 42_000);
        // Installed again where the last fake started (the next test), even
        // a little back: exact waits again, from where the clock was.
        assert_eq!(c.read(1_800), 42_000);
        assert_eq!(fire(&mut c, 1_800, 10_000, 11_800), 52_000);
        // Restored: the real clock (45 s) is ahead of the fake one's last
        // reading, which cannot be told from time passing: a job that spans
        // the restore sees the jump; the jobs started after it do not.
        assert_eq!(c.read(45_000), 85_200);
        // Faked again from 0: carried on.
        assert_eq!(c.read(0), 85_200);
        assert_eq!(c.read(500), 85_700);
    }

    #[test]
    fn a_timer_proof_ahead_of_the_raw_clock_is_no_step_back() {
        // A stalled clock moved by a timer: the raw clock has not gone back,
        // so the floor stays a floor (it is not turned into an offset).
        let mut c = Clock::default();
        assert_eq!(c.read(1_000), 1_000);
        assert_eq!(fire(&mut c, 1_000, 1_000, 1_001), 2_000);
        assert_eq!(c.read(1_500), 2_000);
        assert_eq!(c.read(2_500), 2_500, "the raw clock passes the floor");
    }

    /// A raw clock coarsened to `grain` ms and jittered as Firefox's
    /// resistFingerprinting does (each grain rounds up past a midpoint drawn
    /// from its own value: still monotonic), timers firing exactly on time
    /// in real time: after an hour the clock is within a grain of it.
    fn coarse(grain: u64, delays: &[u64]) -> i64 {
        let coarse = |real: u64| {
            let down = real / grain * grain;
            let mid = down.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17) % grain;
            if real - down >= mid {
                down + grain
            } else {
                down
            }
        };
        let mut c = Clock::default();
        let mut real = 1_000;
        let mut k = 0;
        while real < 3_600_000 {
            let delay = delays[k % delays.len()];
            k += 1;
            let at = c.read(coarse(real));
            real += delay;
            c.timer_fired(coarse(real), at, delay);
        }
        c.read(coarse(real)) as i64 - real as i64
    }

    #[test]
    fn a_coarse_jittered_clock_does_not_run_fast() {
        for (grain, delays) in [
            (1, &[1000][..]),
            (100, &[1000]),
            (100, &[2000, 5000, 10_000]),
            (100, &[500, 1000]),
            (100, &[37, 250, 1000]),
            (20, &[100, 250, 1000]),
        ] {
            let off = coarse(grain, delays);
            assert!(
                off.unsigned_abs() <= grain,
                "grain {grain}, delays {delays:?}: {off} ms off after an hour"
            );
        }
    }
}
